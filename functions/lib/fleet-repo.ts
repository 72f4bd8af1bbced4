/**
 * The fleet item (pk GYM#{gymId}, sk TM#{treadmillId}): a treadmill's live state for the dashboard AND the
 * commit point of stream processing. It holds the open session's reducer state (compressed, ~450 B) and the
 * sessions that ended but are not yet finalized (`pendingFinals`), so one conditional write per treadmill per
 * batch commits everything, and the item stays under one write unit in the common case.
 *
 * Writes are UpdateItem on the attributes owned here (other writers may add attributes, e.g. a model name)
 * and conditional on `version` (optimistic concurrency between ingest and the sweeper) and, for ingest, on
 * the watermark rising: the pair (spool epoch, seq), in that order (docs/architecture.md section 5.2).
 *
 * Items are cached per container: Lambda keeps one container per shard, so the item read at a batch is the
 * one this container wrote at the previous batch. A stale cache costs nothing but a failed condition and a
 * fresh read, so the read per batch is saved.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertKind } from '../../shared/src/alerts/index.js';
import { currentDirection } from '../../shared/src/metrics/session.js';
import {
  emptyTreadmill,
  LEGACY_EPOCH,
  type TreadmillFault,
  type TreadmillState,
  treadmillStatus,
} from '../../shared/src/metrics/treadmill.js';
import { queryAll, scanAll } from './dynamo-paging.js';
import { packEnded, packSession, type PendingFinal, unpackEnded, unpackSession } from './state-codec.js';

export type { PendingFinal };

/**
 * Failed attempts to commit past one position of the treadmill (the poison guard, functions/lib/poison-guard.ts):
 * kept on the item so that a retry, in whichever container, continues the count.
 */
export interface CommitFailures {
  /** The stored watermark the failed commits started from: `{spoolEpoch}/{seqWatermark}`. */
  at: string;
  attempts: number;
  /** The last error's message. */
  error: string;
}

export interface FleetRecord {
  state: TreadmillState;
  /** Sessions closed by a committed write whose final summary and rollups may still be missing. */
  pendingFinals: PendingFinal[];
  openAlertKinds: AlertKind[];
  commitFailures?: CommitFailures;
  /** 0 before the first write. */
  version: number;
}

export interface TreadmillKey {
  gymId: string;
  treadmillId: string;
}

/** What the sweeper's scan reads of a treadmill, enough to skip most without reading the whole item. */
export interface SilentTreadmill extends TreadmillKey {
  lastSeenTs: number;
  offline: boolean;
  hasSession: boolean;
  openAlertKinds: AlertKind[];
  /** Sessions ended but not finalized: a sweep finalizes them (or sets them aside) even when all else is done. */
  hasPendingFinals: boolean;
}

/** The item changed since it was read: read it again and decide again. */
export class StaleFleetItemError extends Error {
  constructor(key: TreadmillKey) {
    super(`fleet item ${key.gymId}/${key.treadmillId} changed since it was read`);
    this.name = 'StaleFleetItemError';
  }
}

interface FleetItem {
  pk: string;
  sk: string;
  spoolEpoch?: string;
  spoolGeneration?: number;
  seqWatermark?: number;
  version?: number;
  lastSeenTs?: number;
  lastMovingTs?: number;
  offline?: boolean;
  fault?: TreadmillFault;
  odometerKm?: number;
  beltHours?: number;
  motorTempC?: number;
  firmware?: string;
  speedKmh?: number;
  session?: Uint8Array;
  pendingFinals?: Uint8Array[];
  openAlertKinds?: AlertKind[];
  commitFailures?: CommitFailures;
}

const DEFAULT_CACHE_SIZE = 5_000;

export const fleetKey = (gymId: string, treadmillId: string) => ({
  pk: `GYM#${gymId}`,
  sk: `TM#${treadmillId}`,
});

/** A conditional write that found its condition false (the SDK's class, or its name across bundles). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

function recordOf(key: TreadmillKey, item: FleetItem | undefined): FleetRecord {
  if (!item)
    return {
      state: emptyTreadmill(key.gymId, key.treadmillId),
      pendingFinals: [],
      openAlertKinds: [],
      version: 0,
    };
  return {
    state: {
      gymId: key.gymId,
      treadmillId: key.treadmillId,
      spoolEpoch: item.spoolEpoch ?? LEGACY_EPOCH,
      spoolGeneration: item.spoolGeneration ?? 0,
      seqWatermark: item.seqWatermark ?? 0,
      lastSeenTs: item.lastSeenTs ?? null,
      lastMovingTs: item.lastMovingTs ?? null,
      offline: item.offline ?? false,
      fault: item.fault ?? null,
      odometerKm: item.odometerKm ?? null,
      beltHours: item.beltHours ?? null,
      motorTempC: item.motorTempC ?? null,
      firmware: item.firmware ?? null,
      speedKmh: item.speedKmh ?? null,
      session: item.session ? unpackSession(item.session) : null,
    },
    pendingFinals: (item.pendingFinals ?? []).map(unpackEnded),
    openAlertKinds: item.openAlertKinds ?? [],
    ...(item.commitFailures && { commitFailures: item.commitFailures }),
    version: item.version ?? 0,
  };
}

/** SET what has a value, REMOVE what has none: absent attributes cost nothing. */
function updateOf(record: Omit<FleetRecord, 'version'>, nextVersion: number) {
  const { state } = record;
  const session = state.session;
  const values: Record<string, unknown> = {
    gymId: state.gymId,
    treadmillId: state.treadmillId,
    status: treadmillStatus(state),
    // The legacy epoch and generation 0 are the absence of the attributes (items written before epochs).
    spoolEpoch: state.spoolEpoch === LEGACY_EPOCH ? null : state.spoolEpoch,
    spoolGeneration: state.spoolGeneration === 0 ? null : state.spoolGeneration,
    seqWatermark: state.seqWatermark,
    version: nextVersion,
    offline: state.offline,
    openAlerts: record.openAlertKinds.length,
    lastSeenTs: state.lastSeenTs,
    lastMovingTs: state.lastMovingTs,
    fault: state.fault,
    odometerKm: state.odometerKm,
    beltHours: state.beltHours,
    motorTempC: state.motorTempC,
    firmware: state.firmware,
    speedKmh: state.speedKmh,
    // The current session, readable without unpacking the state.
    sessionId: session?.sessionId ?? null,
    sessionStartTs: session?.startTs ?? null,
    userToken: session?.userToken ?? null,
    direction: session ? currentDirection(session) : null,
    session: session ? packSession(session) : null,
    pendingFinals: record.pendingFinals.length > 0 ? record.pendingFinals.map(packEnded) : null,
    openAlertKinds: record.openAlertKinds.length > 0 ? record.openAlertKinds : null,
    commitFailures: record.commitFailures ?? null,
  };
  const set: string[] = [];
  const remove: string[] = [];
  const names: Record<string, string> = {};
  const attributeValues: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    names[`#${name}`] = name;
    if (value === null || value === undefined) remove.push(`#${name}`);
    else {
      set.push(`#${name} = :${name}`);
      attributeValues[`:${name}`] = value;
    }
  }
  const expression = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
  return { expression, names, attributeValues };
}

/**
 * The stored (spool epoch, seq watermark) is below the new one: an earlier epoch (absent = legacy, the
 * earliest), or the same epoch with a lower seq.
 */
function watermarkRoseCondition(epoch: string): string {
  const seqRose = '(attribute_not_exists(#seqWatermark) OR #seqWatermark < :seqWatermark)';
  if (epoch === LEGACY_EPOCH) return `attribute_not_exists(#spoolEpoch) AND ${seqRose}`;
  return `(attribute_not_exists(#spoolEpoch) OR #spoolEpoch < :spoolEpoch OR (#spoolEpoch = :spoolEpoch AND ${seqRose}))`;
}

export class FleetRepo {
  private readonly cache = new Map<string, FleetRecord>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {}

  /** The treadmill's record: from this container's cache unless `fresh`; an empty state before the first write. */
  async load(key: TreadmillKey, options: { fresh?: boolean } = {}): Promise<FleetRecord> {
    const cacheKey = `${key.gymId}/${key.treadmillId}`;
    const cached = options.fresh ? undefined : this.cache.get(cacheKey);
    if (cached) return cached;
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: fleetKey(key.gymId, key.treadmillId),
        ConsistentRead: options.fresh === true,
      }),
    );
    const record = recordOf(key, Item as FleetItem | undefined);
    this.remember(cacheKey, record);
    return record;
  }

  /**
   * Writes `next` if the item is still at `expectedVersion` (and, when the watermark rose, still below it).
   * Throws StaleFleetItemError otherwise. Returns the record as stored.
   */
  async save(
    next: Omit<FleetRecord, 'version'>,
    expectedVersion: number,
    options: { watermarkRose: boolean },
  ): Promise<FleetRecord> {
    const key = { gymId: next.state.gymId, treadmillId: next.state.treadmillId };
    const cacheKey = `${key.gymId}/${key.treadmillId}`;
    const version = expectedVersion + 1;
    const { expression, names, attributeValues } = updateOf(next, version);
    const conditions = [expectedVersion === 0 ? 'attribute_not_exists(#version)' : '#version = :expected'];
    if (expectedVersion > 0) attributeValues[':expected'] = expectedVersion;
    if (options.watermarkRose) conditions.push(watermarkRoseCondition(next.state.spoolEpoch));
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fleetKey(key.gymId, key.treadmillId),
          UpdateExpression: expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: attributeValues,
        }),
      );
    } catch (error) {
      this.cache.delete(cacheKey);
      if (isConditionFailure(error)) throw new StaleFleetItemError(key);
      throw error;
    }
    const stored = { ...next, version };
    this.remember(cacheKey, stored);
    return stored;
  }

  /** Every treadmill of a gym as stored now (read consistently, never from the cache), in treadmill order. */
  async listGym(gymId: string): Promise<FleetRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tm)',
      ExpressionAttributeValues: { ':pk': `GYM#${gymId}`, ':tm': 'TM#' },
      ConsistentRead: true,
    });
    return items.map((item) =>
      recordOf({ gymId, treadmillId: String(item.sk).slice('TM#'.length) }, item as FleetItem),
    );
  }

  /** Treadmills whose newest event is older than `beforeTs` (offline ones included, for the offline alert). */
  async listSilent(beforeTs: number): Promise<SilentTreadmill[]> {
    // A scan, not an index: an index on lastSeenTs would cost an index write on every batch.
    const items = await scanAll(this.doc, {
      TableName: this.tableName,
      FilterExpression: 'begins_with(#sk, :tm) AND #lastSeenTs < :before',
      // Names are placeholders throughout: `offline` is a reserved word.
      ProjectionExpression: '#pk, #sk, #lastSeenTs, #offline, #sessionId, #openAlertKinds, #pendingFinals',
      ExpressionAttributeNames: Object.fromEntries(
        ['pk', 'sk', 'lastSeenTs', 'offline', 'sessionId', 'openAlertKinds', 'pendingFinals'].map((name) => [
          `#${name}`,
          name,
        ]),
      ),
      ExpressionAttributeValues: { ':tm': 'TM#', ':before': beforeTs },
    });
    return items.map((item) => ({
      gymId: String(item.pk).slice('GYM#'.length),
      treadmillId: String(item.sk).slice('TM#'.length),
      lastSeenTs: Number(item.lastSeenTs),
      offline: item.offline === true,
      hasSession: item.sessionId !== undefined,
      openAlertKinds: (item.openAlertKinds as AlertKind[] | undefined) ?? [],
      hasPendingFinals: item.pendingFinals !== undefined,
    }));
  }

  private remember(cacheKey: string, record: FleetRecord): void {
    this.cache.delete(cacheKey);
    this.cache.set(cacheKey, record);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
