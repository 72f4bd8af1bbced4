/**
 * Creates the stream and tables the pipeline needs on an emulator (or an empty account), from the same
 * definitions infra/ deploys. Idempotent: what already exists is left as it is.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  ResourceInUseException as TableInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUseException,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import {
  type KeyDefinition,
  keyAttributes,
  PERSONAL_DATA_TAG,
  physicalTableName,
  TABLE_NAMES,
  TABLES,
  type TableDefinition,
  type TableName,
  tableNames,
} from '../../shared/src/tables.js';
import { MIN_STREAM_RETENTION_HOURS } from '../../infra/stream-retention.js';

// The first check runs at once (emulators are ACTIVE immediately); AWS takes seconds.
const WAIT = { minDelay: 0.5, maxDelay: 5, maxWaitTime: 300 } as const;

function keySchema(partitionKey: KeyDefinition, sortKey: KeyDefinition | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

export function createTableInput(table: TableDefinition, prefix: string): CreateTableCommandInput {
  return {
    TableName: physicalTableName(prefix, table.name),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes(table).map((key) => ({
      AttributeName: key.name,
      AttributeType: key.type,
    })),
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    // DynamoDB rejects an empty index list.
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
        }
      : {}),
    Tags: [{ Key: PERSONAL_DATA_TAG, Value: String(table.personalData) }],
  };
}

/** Creates every table under `prefix` and waits until all are ACTIVE; returns physical names by logical name. */
export async function createTables(
  client: DynamoDBClient,
  prefix: string,
): Promise<Readonly<Record<TableName, string>>> {
  await Promise.all(
    TABLE_NAMES.map(async (name) => {
      const input = createTableInput(TABLES[name], prefix);
      try {
        await client.send(new CreateTableCommand(input));
      } catch (error) {
        if (!(error instanceof TableInUseException)) throw error;
      }
      await waitUntilTableExists({ client, ...WAIT }, { TableName: input.TableName });
    }),
  );
  return tableNames(prefix);
}

/**
 * Creates the stream (24 h retention, as Kinesis does) and raises its retention to `retentionHours` if it keeps
 * records for less, never lowering it (that would drop records); returns the retention in effect. The retention
 * must leave a replay window after the event-source runner's maximum record age (docs/architecture.md 5.5).
 */
export async function createStream(
  client: KinesisClient,
  name: string,
  shards: number,
  retentionHours: number = MIN_STREAM_RETENTION_HOURS,
): Promise<number> {
  try {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (error) {
    if (!(error instanceof StreamInUseException)) throw error;
  }
  await waitUntilStreamExists({ client, ...WAIT }, { StreamName: name });
  const { StreamDescriptionSummary } = await client.send(
    new DescribeStreamSummaryCommand({ StreamName: name }),
  );
  const current = StreamDescriptionSummary?.RetentionPeriodHours ?? 24;
  if (current >= retentionHours) return current;
  await client.send(
    new IncreaseStreamRetentionPeriodCommand({ StreamName: name, RetentionPeriodHours: retentionHours }),
  );
  await waitUntilStreamExists({ client, ...WAIT }, { StreamName: name });
  return retentionHours;
}
