/**
 * DynamoDB table definitions (docs/architecture.md section 7): the one module both infra/ (CDK) and the local stack
 * build tables from, so the emulator and AWS can never drift apart.
 *
 * Every table uses generic `pk`/`sk` string keys; items say what they are through key prefixes. GSIs are
 * sparse: only items carrying the index attributes appear in them.
 */

export type KeyType = 'S' | 'N';

export interface KeyDefinition {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
}

export interface TableDefinition {
  /** Logical name; the physical name is `${prefix}-${name}`. */
  readonly name: TableName;
  readonly purpose: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly indexes: readonly IndexDefinition[];
  /** Holds personal data: encrypted with its own customer key, never read by research exports. */
  readonly personalData: boolean;
  /** Attribute holding an epoch-seconds expiry, where items should age out. */
  readonly ttlAttribute?: string;
}

/** Tag carrying TableDefinition.personalData, so a table's data classification is visible in the account. */
export const PERSONAL_DATA_TAG = 'retrostride:personal-data';

const pk: KeyDefinition = { name: 'pk', type: 'S' };
const sk: KeyDefinition = { name: 'sk', type: 'S' };

export const TABLE_NAMES = ['fleet', 'sessions', 'alerts', 'members', 'rollups', 'deadletter'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export const TABLES: Readonly<Record<TableName, TableDefinition>> = {
  fleet: {
    name: 'fleet',
    purpose:
      'Treadmill live state (pk GYM#{gymId}, sk TM#{treadmillId}) and gyms of an operator (pk OPERATOR#{id}, sk GYM#{gymId}).',
    partitionKey: pk,
    sortKey: sk,
    indexes: [],
    personalData: false,
  },
  sessions: {
    name: 'sessions',
    purpose:
      'Session summary (pk SESSION#{id}, sk SUMMARY) and timeline chunks (sk TL#{n}); GSIs for a member, a gym, and active sessions.',
    partitionKey: pk,
    sortKey: sk,
    indexes: [
      {
        name: 'byMember',
        partitionKey: { name: 'userToken', type: 'S' },
        sortKey: { name: 'startTs', type: 'N' },
      },
      { name: 'byGym', partitionKey: { name: 'gymId', type: 'S' }, sortKey: { name: 'startTs', type: 'N' } },
      {
        name: 'active',
        partitionKey: { name: 'activeShard', type: 'S' },
        sortKey: { name: 'lastEventTs', type: 'N' },
      },
    ],
    personalData: false,
  },
  alerts: {
    name: 'alerts',
    purpose:
      'Current alert per treadmill and kind (pk GYM#{gymId}, sk ALERT#{treadmillId}#{kind}) and replaced ones (sk HIST#...); GSIs of the alerts of a gym and of a treadmill by last change (paging); the alert thresholds of a gym (sk THRESHOLDS); sparse GSI of transitions still to notify. Resolved alerts expire after 90 days.',
    partitionKey: pk,
    sortKey: sk,
    indexes: [
      {
        name: 'notifyPending',
        partitionKey: { name: 'notifyPending', type: 'S' },
        sortKey: { name: 'updatedTs', type: 'N' },
      },
      // Every alert item carries both: the whole history of a gym, newest change first, a page at a time.
      {
        name: 'byGym',
        partitionKey: { name: 'gymId', type: 'S' },
        sortKey: { name: 'updatedTs', type: 'N' },
      },
      // treadmillKey is {gymId}#{treadmillId}: one treadmill's alert history, newest change first (section 7.3).
      {
        name: 'byTreadmill',
        partitionKey: { name: 'treadmillKey', type: 'S' },
        sortKey: { name: 'updatedTs', type: 'N' },
      },
    ],
    personalData: false,
    // Set on resolved alerts only (docs/architecture.md section 7.3): active ones never expire.
    ttlAttribute: 'expiresAt',
  },
  members: {
    name: 'members',
    purpose:
      'Member contact, consent and profile (pk MEMBER#{userToken}, sk PROFILE). The only place an email lives.',
    partitionKey: pk,
    sortKey: sk,
    indexes: [],
    personalData: true,
  },
  rollups: {
    name: 'rollups',
    purpose:
      'Aggregates per member per ISO week (pk MEMBER#{token}, sk WEEK#{yyyy-Www}), per gym per day (pk GYM#{gymId}, sk DAY#{date}) and per member per gym per week for exports (pk WEEK#{yyyy-Www}, sk GYM#{gymId}#MEMBER#{hash}); markers of what each holds (pk ADDED#{rollup pk}#{rollup sk}, sk SESSION#{id} or MEMBER#{hash}), kept 90 days; progress-email markers (pk MEMBER#{token}, sk EMAIL#{yyyy-Www}); treadmill status per UTC hour (pk STATUS#{gymId}#{treadmillId}, sk HOUR#{yyyy-mm-ddThh}), kept 100 days.',
    partitionKey: pk,
    sortKey: sk,
    indexes: [],
    personalData: false,
    // Only the ADDED# markers and STATUS# hours carry it (docs/architecture.md sections 7.1, 7.2): rollups are kept.
    ttlAttribute: 'expiresAt',
  },
  deadletter: {
    name: 'deadletter',
    purpose:
      'Rejected records and events with their reason (pk DLQ#{source}#{date}, sk {ts}#{id}); kept 30 days.',
    partitionKey: pk,
    sortKey: sk,
    indexes: [],
    personalData: false,
    ttlAttribute: 'expiresAt',
  },
};

export const physicalTableName = (prefix: string, table: TableName): string => `${prefix}-${table}`;

/** Physical names for every table under one prefix, e.g. `retrostride-dev`. */
export function tableNames(prefix: string): Readonly<Record<TableName, string>> {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, physicalTableName(prefix, t)])) as Record<
    TableName,
    string
  >;
}

/** Key attributes a table definition needs declared (table keys and index keys, deduplicated). */
export function keyAttributes(table: TableDefinition): KeyDefinition[] {
  const all = [
    table.partitionKey,
    table.sortKey,
    ...table.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const byName = new Map<string, KeyDefinition>();
  for (const key of all) if (key) byName.set(key.name, key);
  return [...byName.values()];
}
