/**
 * The alerts table (docs/architecture.md section 7): one current alert per treadmill and kind (pk GYM#{gymId}, sk
 * ALERT#{treadmillId}#{kind}), the history of replaced alerts (sk HIST#{treadmillId}#{kind}#{alertId}), and the
 * outbox: a transition appends to the item's `pending` list and sets the sparse GSI key `notifyPending` in the
 * same write, so a transition is never written without its notification.
 *
 * Every write is read, decide (pure, shared/src/alerts/lifecycle.ts), then put conditionally on the revision
 * read (`rev`); a concurrent writer makes the condition fail and the write is decided again. No transactions:
 * the emulator has none, and one item per alert needs none.
 *
 * A gym's alert thresholds live here too (sk THRESHOLDS, no gymId attribute: in no index).
 *
 * History grows with time, so it is read a page at a time (the `byGym` index, or `byTreadmill` for one
 * treadmill, newest change first) and what is
 * over expires: a resolved alert, current or replaced, carries `expiresAt` 90 days after its resolution
 * (docs/architecture.md section 7.3). Active alerts (open, acknowledged) never expire: they are still to be dealt
 * with, and the open kinds on the fleet item refer to them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AlertCommand,
  type AlertItem,
  type AlertKind,
  type AlertSignal,
  type AlertTransition,
  alertItemOf,
  decideAlert,
  type GymAlertThresholds,
  type SnoozeScope,
  type StoredAlert,
  thresholdsFrom,
} from '../../shared/src/alerts/index.js';
import { contentionBackoff } from './contention.js';
import { decodeCursor, queryAll, queryPage } from './dynamo-paging.js';

export type { AlertItem, AlertTransition } from '../../shared/src/alerts/index.js';

/** The sparse GSI of alerts with transitions to deliver, oldest first (tables.ts). */
export const NOTIFY_PENDING_INDEX = 'notifyPending';
/** Every alert of a gym, current and replaced, by the time of its last change (tables.ts). */
export const BY_GYM_INDEX = 'byGym';
/** Every alert of a treadmill, current and replaced, by the time of its last change (tables.ts). */
export const BY_TREADMILL_INDEX = 'byTreadmill';
const THRESHOLDS_SORT_KEY = 'THRESHOLDS';
/** Days a resolved alert is kept after its resolution. */
export const RESOLVED_ALERT_TTL_DAYS = 90;
/** The per-treadmill history read by `history` stops here (it is for inspection, not for listing). */
const HISTORY_READ_LIMIT = 100;
const PENDING = 'PENDING';
/** Concurrent writers of one alert each win one round, so this bounds the writers one alert can take. */
const MAX_ATTEMPTS = 50;

export interface AlertKey {
  gymId: string;
  treadmillId: string;
  kind: AlertKind;
}

interface AlertRow extends Omit<StoredAlert, 'pending'> {
  pk: string;
  sk: string;
  rev: number;
  /** {gymId}#{treadmillId}: the byTreadmill index key. */
  treadmillKey?: string;
  /** Absent once the notifier delivered everything (it removes the attribute with the mark). */
  pending?: StoredAlert['pending'];
  notifyPending?: string;
  /** Epoch seconds: resolved alerts only. */
  expiresAt?: number;
}

/** One page of a gym's alerts and the cursor to the next, null on the last. */
export interface AlertPage {
  alerts: AlertItem[];
  cursor: string | null;
}

const partitionKey = (gymId: string): string => `GYM#${gymId}`;
const alertSortKey = (treadmillId: string, kind: AlertKind): string => `ALERT#${treadmillId}#${kind}`;
const historySortKey = (treadmillId: string, kind: AlertKind, alertId: string): string =>
  `HIST#${treadmillId}#${kind}#${alertId}`;

const treadmillKeyOf = (gymId: string, treadmillId: string): string => `${gymId}#${treadmillId}`;

const keyOf = (key: AlertKey) => ({
  pk: partitionKey(key.gymId),
  sk: alertSortKey(key.treadmillId, key.kind),
});

function storedOf(row: AlertRow): StoredAlert {
  const {
    pk: _pk,
    sk: _sk,
    rev: _rev,
    treadmillKey: _treadmillKey,
    notifyPending: _notify,
    expiresAt: _expiresAt,
    pending,
    ...stored
  } = row;
  return { ...stored, pending: pending ?? [] };
}

/** When an alert that is over may go: 90 days after its resolution; never while it is active. */
function expiryOf(alert: AlertItem): { expiresAt: number } | undefined {
  if (alert.status !== 'resolved') return undefined;
  const resolvedTs = alert.resolvedTs ?? alert.updatedTs;
  return { expiresAt: Math.floor(resolvedTs / 1000) + RESOLVED_ALERT_TTL_DAYS * 86_400 };
}

/** The start key of the byGym index (its keys and the table's), for this gym only. */
const BY_GYM_CURSOR = { gymId: 'string', updatedTs: 'number', pk: 'string', sk: 'string' } as const;
/** The start key of the byTreadmill index, for this treadmill only. */
const BY_TREADMILL_CURSOR = {
  treadmillKey: 'string',
  updatedTs: 'number',
  pk: 'string',
  sk: 'string',
} as const;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class AlertsRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Applies signals in order (per treadmill and kind; different alerts in parallel). Idempotent: a replayed
   * signal changes nothing. Returns the transitions written, in signal order.
   */
  async apply(signals: readonly AlertSignal[]): Promise<AlertTransition[]> {
    const byAlert = new Map<string, AlertSignal[]>();
    for (const signal of signals) {
      const id = `${signal.gymId}#${signal.treadmillId}#${signal.kind}`;
      const list = byAlert.get(id);
      if (list) list.push(signal);
      else byAlert.set(id, [signal]);
    }
    const results = await Promise.all(
      [...byAlert.values()].map(async (group) => {
        const out: Array<{ signal: AlertSignal; transition: AlertTransition }> = [];
        for (const signal of group) {
          const transition = await this.change(signal, { type: 'signal', signal });
          if (transition) out.push({ signal, transition });
        }
        return out;
      }),
    );
    const order = new Map(signals.map((signal, index) => [signal, index]));
    return results
      .flat()
      .sort((a, b) => (order.get(a.signal) ?? 0) - (order.get(b.signal) ?? 0))
      .map((r) => r.transition);
  }

  /** Open to acknowledged; undefined when the alert is not open. */
  acknowledge(
    gymId: string,
    treadmillId: string,
    kind: AlertKind,
    by: string,
    now: number = Date.now(),
  ): Promise<AlertTransition | undefined> {
    return this.change({ gymId, treadmillId, kind }, { type: 'acknowledge', by, now });
  }

  /** Open or acknowledged to resolved; undefined when there is nothing to resolve. */
  resolve(
    gymId: string,
    treadmillId: string,
    kind: AlertKind,
    by: string,
    now: number = Date.now(),
  ): Promise<AlertTransition | undefined> {
    return this.change({ gymId, treadmillId, kind }, { type: 'resolve', by, now });
  }

  /**
   * Holds the notifications of an active alert until `untilTs` (scope `kind`: also of later alerts of its
   * treadmill and kind); `untilTs` at or before `now` ends the snooze. Repeating it changes nothing; an alert
   * that is not active is left as it is.
   */
  async snooze(
    key: AlertKey,
    snooze: { by: string; untilTs: number; scope: SnoozeScope },
    now: number = Date.now(),
  ): Promise<void> {
    await this.change(key, { type: 'snooze', ...snooze, now });
  }

  /** The gym's thresholds (defaults for what is not stored or out of bounds). */
  async thresholds(gymId: string): Promise<GymAlertThresholds> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: partitionKey(gymId), sk: THRESHOLDS_SORT_KEY },
      }),
    );
    return thresholdsFrom(result.Item);
  }

  /** Replaces the gym's thresholds (a put of the whole set: repeating it is harmless). */
  async putThresholds(
    gymId: string,
    thresholds: GymAlertThresholds,
    by: string,
    now: number = Date.now(),
  ): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...thresholds,
          pk: partitionKey(gymId),
          sk: THRESHOLDS_SORT_KEY,
          updatedBy: by,
          changedTs: now,
        },
      }),
    );
  }

  /** The current alert of a treadmill and kind, whatever its status. */
  async get(key: AlertKey): Promise<AlertItem | undefined> {
    const row = await this.read(key);
    return row && alertItemOf(storedOf(row));
  }

  /** Open and acknowledged alerts of a gym. */
  async listOpen(gymId: string): Promise<AlertItem[]> {
    return this.queryActive(gymId, 'ALERT#');
  }

  /**
   * Every alert of a gym, the current ones whatever their status and the replaced ones, newest change first, a
   * page at a time: at most `limit` from `cursor` on (a cursor of an earlier page of this gym). Read from an
   * index, so a change of the last second may show on the next read only. Throws InvalidCursorError.
   */
  async listPage(gymId: string, options: { limit: number; cursor?: string | undefined }): Promise<AlertPage> {
    return this.indexPage(
      { index: BY_GYM_INDEX, keyName: 'gymId', keyValue: gymId, cursorShape: BY_GYM_CURSOR },
      (key) => key.gymId === gymId && key.pk === partitionKey(gymId),
      options,
    );
  }

  /**
   * Every alert of one treadmill, current and replaced, newest change first, a page at a time (as listPage).
   * Throws InvalidCursorError for a cursor of another treadmill's listing.
   */
  async listTreadmillPage(
    gymId: string,
    treadmillId: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<AlertPage> {
    const treadmillKey = treadmillKeyOf(gymId, treadmillId);
    return this.indexPage(
      {
        index: BY_TREADMILL_INDEX,
        keyName: 'treadmillKey',
        keyValue: treadmillKey,
        cursorShape: BY_TREADMILL_CURSOR,
      },
      (key) => key.treadmillKey === treadmillKey && key.pk === partitionKey(gymId),
      options,
    );
  }

  /** One page of an alert index, newest change first, from a cursor that `isMine` accepts. */
  private async indexPage(
    listing: {
      index: string;
      keyName: string;
      keyValue: string;
      cursorShape: Readonly<Record<string, 'string' | 'number'>>;
    },
    isMine: (key: Record<string, unknown>) => boolean,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<AlertPage> {
    const startKey =
      options.cursor === undefined ? undefined : decodeCursor(options.cursor, listing.cursorShape, isMine);
    const page = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: listing.index,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': listing.keyName },
        ExpressionAttributeValues: { ':key': listing.keyValue },
        ScanIndexForward: false,
      },
      options.limit,
      startKey,
    );
    return {
      alerts: (page.items as AlertRow[]).map((row) => alertItemOf(storedOf(row))),
      cursor: page.cursor,
    };
  }

  /** Kinds with an open or acknowledged alert on a treadmill (what evaluateEventAlerts takes as openKinds). */
  async openKinds(gymId: string, treadmillId: string): Promise<AlertKind[]> {
    const items = await this.queryActive(gymId, `ALERT#${treadmillId}#`);
    return items.map((item) => item.kind);
  }

  async openCount(gymId: string, treadmillId: string): Promise<number> {
    return (await this.openKinds(gymId, treadmillId)).length;
  }

  /**
   * Alerts of a treadmill that a later alert of the same kind replaced, oldest first: at most the first 100 by
   * kind and first sighting (an inspection aid; listings page through `listPage`).
   */
  async history(gymId: string, treadmillId: string): Promise<AlertItem[]> {
    const rows = await this.queryRows(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partitionKey(gymId), ':prefix': `HIST#${treadmillId}#` },
      },
      HISTORY_READ_LIMIT,
    );
    return rows.map((row) => alertItemOf(storedOf(row))).sort((a, b) => a.firstSeenTs - b.firstSeenTs);
  }

  /** Alerts with transitions to deliver, oldest transition first (the notifier's outbox query). */
  async pendingNotifications(limit: number): Promise<StoredAlert[]> {
    const rows = await this.queryRows(
      {
        TableName: this.tableName,
        IndexName: NOTIFY_PENDING_INDEX,
        KeyConditionExpression: 'notifyPending = :pending',
        ExpressionAttributeValues: { ':pending': PENDING },
      },
      limit,
    );
    return rows.map(storedOf);
  }

  /**
   * Clears the outbox of an alert after its transitions up to `version` were delivered; false (nothing
   * cleared) when a transition was written since, so the next run delivers again rather than losing one.
   */
  async markDelivered(key: AlertKey, alertId: string, version: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          // `rev` moves too, so a writer that read the outbox before this clear decides again.
          UpdateExpression: 'REMOVE #notify, #pending SET #rev = #rev + :one',
          ConditionExpression: '#alertId = :alertId AND #version = :version',
          // `version` is a DynamoDB reserved word.
          ExpressionAttributeNames: {
            '#notify': 'notifyPending',
            '#pending': 'pending',
            '#rev': 'rev',
            '#alertId': 'alertId',
            '#version': 'version',
          },
          ExpressionAttributeValues: { ':alertId': alertId, ':version': version, ':one': 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async change(key: AlertKey, command: AlertCommand): Promise<AlertTransition | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const row = await this.read(key);
      const decision = decideAlert(row && storedOf(row), command);
      if (decision === undefined) return undefined;
      if (decision.archived) {
        // Idempotent (same key, same content): a crash before the put below just writes it again.
        const { alertId, treadmillId, kind } = decision.archived;
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...decision.archived,
              ...expiryOf(decision.archived),
              treadmillKey: treadmillKeyOf(key.gymId, treadmillId),
              pk: partitionKey(key.gymId),
              sk: historySortKey(treadmillId, kind, alertId),
            },
          }),
        );
      }
      // A whole-item put: reopening drops the expiry a resolution set.
      const next: AlertRow = {
        ...decision.next,
        ...expiryOf(decision.next),
        ...keyOf(key),
        treadmillKey: treadmillKeyOf(key.gymId, key.treadmillId),
        rev: (row?.rev ?? 0) + 1,
      };
      if (decision.next.pending.length > 0) next.notifyPending = PENDING;
      else delete next.pending;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            ...(row
              ? { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': row.rev } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return decision.transition;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        await contentionBackoff(attempt);
      }
    }
    throw new Error(
      `alert ${key.gymId}/${key.treadmillId}/${key.kind}: still contended after ${MAX_ATTEMPTS} attempts`,
    );
  }

  private async read(key: AlertKey): Promise<AlertRow | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }),
    );
    return result.Item as AlertRow | undefined;
  }

  /** Current alerts only (`ALERT#`): one per treadmill and kind, so bounded by the fleet, not by time. */
  private async queryActive(gymId: string, prefix: string): Promise<AlertItem[]> {
    const rows = await this.queryRows({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#status <> :resolved',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': partitionKey(gymId), ':prefix': prefix, ':resolved': 'resolved' },
      ConsistentRead: true,
    });
    return rows.map((row) => alertItemOf(storedOf(row)));
  }

  private async queryRows(input: QueryCommandInput, limit?: number): Promise<AlertRow[]> {
    return (await queryAll(this.doc, input, limit)) as AlertRow[];
  }
}
