/**
 * The DynamoDB tables, built from the shared definitions (shared/src/tables.ts, which the local stack creates
 * its tables from too): on-demand, point-in-time recovery, a customer key (the members table its own), the
 * TTL attribute where a definition has one, and the personal-data tag the local stack sets.
 *
 * Access is granted per function and table as a list of DynamoDB actions on the table, and `Query@<index>` for
 * a query of one index by name: no wildcards.
 */
import { type RemovalPolicy, Tags } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type Attribute,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  type KeyDefinition,
  PERSONAL_DATA_TAG,
  physicalTableName,
  TABLE_NAMES,
  TABLES,
  type TableName,
} from '../../shared/src/tables.js';
import { KEY_DECRYPT, KEY_ENCRYPT, keyStatement } from '../iam.js';

export type TableAction =
  'GetItem' | 'Query' | `Query@${string}` | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem';
/** What one function may do, table by table. */
export type TableAccess = Partial<Record<TableName, readonly TableAction[]>>;

const WRITES: ReadonlySet<TableAction> = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

export interface DataTablesProps {
  readonly prefix: string;
  readonly dataKey: IKey;
  readonly membersKey: IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
}

const attribute = (key: KeyDefinition): Attribute => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

export class DataTables extends Construct {
  readonly prefix: string;
  private readonly tables = new Map<TableName, Table>();
  private readonly keys = new Map<TableName, IKey>();

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    this.prefix = props.prefix;
    for (const name of TABLE_NAMES) {
      const definition = TABLES[name];
      const key = definition.personalData ? props.membersKey : props.dataKey;
      const table = new Table(this, name, {
        tableName: physicalTableName(props.prefix, name),
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey && { sortKey: attribute(definition.sortKey) }),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        ...(definition.ttlAttribute && { timeToLiveAttribute: definition.ttlAttribute }),
        deletionProtection: props.deletionProtection,
        removalPolicy: props.removalPolicy,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey && { sortKey: attribute(index.sortKey) }),
          projectionType: ProjectionType.ALL,
        });
      }
      Tags.of(table).add(PERSONAL_DATA_TAG, String(definition.personalData));
      this.tables.set(name, table);
      this.keys.set(name, key);
    }
  }

  table(name: TableName): Table {
    const table = this.tables.get(name);
    if (!table) throw new Error(`no table ${name}`);
    return table;
  }

  /** Grants exactly `access`: each table's actions, index queries on the named index, and the table key's use. */
  grant(grantee: IGrantable, access: TableAccess): void {
    const principal = grantee.grantPrincipal;
    for (const name of TABLE_NAMES) {
      const actions = access[name];
      if (!actions || actions.length === 0) continue;
      const table = this.table(name);
      const onTable = actions.filter((action) => !action.startsWith('Query@'));
      const indexArns = actions
        .filter((action) => action.startsWith('Query@'))
        .map((action) => {
          const index = action.slice('Query@'.length);
          if (!TABLES[name].indexes.some((definition) => definition.name === index))
            throw new Error(`table ${name} has no index ${index}`);
          return `${table.tableArn}/index/${index}`;
        });
      if (onTable.length > 0) {
        principal.addToPrincipalPolicy(
          new PolicyStatement({
            actions: onTable.map((action) => `dynamodb:${action}`),
            resources: [table.tableArn],
          }),
        );
      }
      if (indexArns.length > 0) {
        principal.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }),
        );
      }
      const writes = actions.some((action) => WRITES.has(action));
      principal.addToPrincipalPolicy(
        keyStatement(this.keyOf(name), 'dynamodb', writes ? KEY_ENCRYPT : KEY_DECRYPT),
      );
    }
  }

  private keyOf(name: TableName): IKey {
    const key = this.keys.get(name);
    if (!key) throw new Error(`no key for table ${name}`);
    return key;
  }
}
