/**
 * The sessions table (pk SESSION#{id}):
 * - `SUMMARY`: what session lists show, about 0.5 KB. It is the only item with the index attributes (userToken,
 *   gymId + startTs, activeShard + lastEventTs), so index writes copy only this small item. Written when a
 *   session opens (status `active`, in the active index) and when it is finalized (status `ended`).
 * - `DETAIL`: the complete SessionSummary (balance components, heart-rate zones, calorie reasons), under one
 *   map attribute so that it appears in no index.
 * - `TL#nnnn`: timeline chunks of 30 points (5 minutes).
 *
 * Every write is a Put of content determined by the events, so a replay rewrites identical items.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type {
  SessionState,
  SessionSummary,
  TimelineChunk,
  TimelinePoint,
} from '../../shared/src/metrics/session.js';
import type { SessionEndReason } from '../../shared/src/metrics/treadmill.js';
import { decodeCursor, queryAll, queryPage } from './dynamo-paging.js';

export const BY_GYM_INDEX = 'byGym';
/** The active index is written under a few partition keys so that a large fleet does not make one hot key. */
export const ACTIVE_INDEX = 'active';
export const ACTIVE_SHARDS = 4;
/**
 * Reads that could grow with time are bounded (docs/architecture.md section 7.5): a session has no maximum length
 * (a belt left running keeps one open), so its timeline is read as its last 24 hours of 5-minute chunks; the
 * sweeper takes the oldest 1,000 idle candidates per shard a run, and the rest a minute later.
 */
export const MAX_TIMELINE_CHUNKS = 288;
export const MAX_ACTIVE_PER_SHARD = 1_000;
/**
 * Query calls a filtered page may take (each evaluates at most the page's limit): a filter that matches few of a
 * gym's sessions ends a short page with a cursor instead of reading the gym's whole history in one request.
 */
export const MAX_QUERIES_PER_PAGE = 5;

export const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: 'SUMMARY' });
const chunkSortKey = (index: number): string => `TL#${String(index).padStart(4, '0')}`;

export function activeShardOf(gymId: string, treadmillId: string): string {
  let hash = 0;
  for (const char of `${gymId}/${treadmillId}`) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `ACTIVE#${hash % ACTIVE_SHARDS}`;
}

export interface SessionListItem {
  sessionId: string;
  gymId: string;
  treadmillId: string;
  userToken?: string;
  program?: string;
  startTs: number;
  status: 'active' | 'ended';
  /** Active sessions only: a lower bound of the last event time (the sweeper confirms on the fleet item). */
  lastEventTs?: number;
  activeShard?: string;
  endTs?: number;
  endReason?: SessionEndReason;
  durationS?: number;
  movingS?: number;
  distanceM?: number;
  forwardS?: number;
  forwardM?: number;
  backwardS?: number;
  backwardM?: number;
  backwardShare?: number;
  kcal?: number;
  calorieModel?: string;
  calorieConfidence?: string;
  hrMeanBpm?: number;
  hrMaxBpm?: number;
  balanceScore?: number;
  balanceDirection?: string;
  stumbles?: number;
  safetyStops?: number;
  /** Profile fields that were missing and replaced by defaults. */
  profileDefaults?: string[];
}

/** What a list of sessions may be narrowed to; the range is on the start time, both ends included. */
export interface SessionFilter {
  fromTs?: number | undefined;
  toTs?: number | undefined;
  treadmillId?: string | undefined;
  program?: string | undefined;
  /** Sessions with some walking in this direction. */
  direction?: 'forward' | 'backward' | undefined;
  userToken?: string | undefined;
}

export interface SessionPage {
  sessions: SessionListItem[];
  /** The next page's start; null on the last page. */
  cursor: string | null;
}

/** The start key of the byGym index (its keys and the table's), for this gym only. */
const BY_GYM_CURSOR = { gymId: 'string', startTs: 'number', pk: 'string', sk: 'string' } as const;

export interface ActiveSessionRef {
  sessionId: string;
  gymId: string;
  treadmillId: string;
}

const definedOnly = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as T;

export function listItemOfSummary(summary: SessionSummary, endReason: SessionEndReason): SessionListItem {
  return definedOnly<SessionListItem>({
    sessionId: summary.sessionId,
    gymId: summary.gymId,
    treadmillId: summary.treadmillId,
    userToken: summary.userToken ?? undefined,
    program: summary.program ?? undefined,
    startTs: summary.startTs,
    status: 'ended',
    endTs: summary.endTs,
    endReason,
    durationS: summary.durationS,
    movingS: summary.movingS,
    distanceM: summary.distanceM,
    forwardS: summary.forward.movingS,
    forwardM: summary.forward.distanceM,
    backwardS: summary.backward.movingS,
    backwardM: summary.backward.distanceM,
    backwardShare: summary.backwardShare ?? undefined,
    kcal: summary.calories.kcal,
    calorieModel: summary.calories.model,
    calorieConfidence: summary.calories.confidence,
    hrMeanBpm: summary.heartRate.meanBpm ?? undefined,
    hrMaxBpm: summary.heartRate.maxBpm ?? undefined,
    balanceScore: summary.balance.score ?? undefined,
    balanceDirection: summary.balance.direction ?? undefined,
    stumbles: summary.stumbles,
    safetyStops: summary.safetyStops,
    profileDefaults: summary.profileDefaults.length > 0 ? summary.profileDefaults : undefined,
  });
}

export class SessionsRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The summary of a session that just opened: listed, and in the active index for the sweeper. */
  async putActive(state: SessionState): Promise<void> {
    const item = definedOnly<SessionListItem>({
      sessionId: state.sessionId,
      gymId: state.gymId,
      treadmillId: state.treadmillId,
      userToken: state.userToken,
      program: state.program,
      startTs: state.startTs,
      status: 'active',
      lastEventTs: state.startTs,
      activeShard: activeShardOf(state.gymId, state.treadmillId),
    });
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...sessionKey(state.sessionId), ...item } }),
    );
  }

  async putChunks(sessionId: string, chunks: readonly TimelineChunk[]): Promise<void> {
    await Promise.all(
      chunks
        .filter((chunk) => chunk.points.length > 0)
        .map((chunk) =>
          this.doc.send(
            new PutCommand({
              TableName: this.tableName,
              Item: {
                pk: `SESSION#${sessionId}`,
                sk: chunkSortKey(chunk.index),
                index: chunk.index,
                points: chunk.points,
              },
            }),
          ),
        ),
    );
  }

  /** The final summary replaces the active one (leaving the active index) and the detail goes beside it. */
  async putFinal(summary: SessionSummary, endReason: SessionEndReason): Promise<void> {
    const pk = `SESSION#${summary.sessionId}`;
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk, sk: 'DETAIL', endReason, summary } }),
    );
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...sessionKey(summary.sessionId), ...listItemOfSummary(summary, endReason) },
      }),
    );
  }

  async getSummary(sessionId: string): Promise<SessionListItem | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: sessionKey(sessionId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...item } = Item;
    return item as SessionListItem;
  }

  async getDetail(sessionId: string): Promise<SessionSummary | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `SESSION#${sessionId}`, sk: 'DETAIL' },
        ConsistentRead: true,
      }),
    );
    return Item?.summary as SessionSummary | undefined;
  }

  /** The session's timeline, chunks in order: its last 24 hours (MAX_TIMELINE_CHUNKS) when it is longer. */
  async getTimeline(sessionId: string): Promise<TimelinePoint[]> {
    const newestFirst = await queryAll(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tl)',
        ExpressionAttributeValues: { ':pk': `SESSION#${sessionId}`, ':tl': 'TL#' },
        ScanIndexForward: false,
      },
      MAX_TIMELINE_CHUNKS,
    );
    return newestFirst.reverse().flatMap((chunk) => chunk.points as TimelinePoint[]);
  }

  /** A gym's sessions (active and ended) that started in [fromTs, toTs], newest first, at most `limit`. */
  async listByGym(
    gymId: string,
    range: { fromTs?: number; toTs?: number; limit: number },
  ): Promise<SessionListItem[]> {
    return (await this.listPage(gymId, range, { limit: range.limit })).sessions;
  }

  /**
   * A page of a gym's sessions (active and ended), newest first, narrowed by `filter`. Only the gym and the start
   * time are keys (byGym); the other conditions are DynamoDB filters, so a page is bounded by
   * MAX_QUERIES_PER_PAGE calls and may be short, with a cursor. The member is a filter too: the byMember index
   * spans gyms, and its cursors would name other gyms' sessions. Throws InvalidCursorError for another gym's
   * cursor.
   */
  async listPage(
    gymId: string,
    filter: SessionFilter,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<SessionPage> {
    const startKey =
      page.cursor === undefined
        ? undefined
        : decodeCursor(page.cursor, BY_GYM_CURSOR, (key) => key.gymId === gymId);
    const values: Record<string, string | number> = {
      ':gym': gymId,
      ':from': filter.fromTs ?? 0,
      ':to': filter.toTs ?? Number.MAX_SAFE_INTEGER,
    };
    const conditions: string[] = [];
    const equal = (attribute: 'treadmillId' | 'program' | 'userToken', value: string | undefined) => {
      if (value === undefined) return;
      values[`:${attribute}`] = value;
      conditions.push(`${attribute} = :${attribute}`);
    };
    equal('treadmillId', filter.treadmillId);
    equal('program', filter.program);
    equal('userToken', filter.userToken);
    if (filter.direction !== undefined) {
      values[':none'] = 0;
      conditions.push(filter.direction === 'forward' ? 'forwardS > :none' : 'backwardS > :none');
    }
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: BY_GYM_INDEX,
        KeyConditionExpression: 'gymId = :gym AND startTs BETWEEN :from AND :to',
        ...(conditions.length > 0 && { FilterExpression: conditions.join(' AND ') }),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      page.limit,
      startKey,
      MAX_QUERIES_PER_PAGE,
    );
    return {
      sessions: result.items.map(({ pk: _pk, sk: _sk, ...item }) => item as SessionListItem),
      cursor: result.cursor,
    };
  }

  /**
   * Sessions in the active index whose recorded last event is older than `beforeTs` (candidates for idle), the
   * oldest MAX_ACTIVE_PER_SHARD of each shard.
   */
  async listActiveBefore(beforeTs: number): Promise<ActiveSessionRef[]> {
    const refs: ActiveSessionRef[] = [];
    for (let shard = 0; shard < ACTIVE_SHARDS; shard++) {
      const items = await queryAll(
        this.doc,
        {
          TableName: this.tableName,
          IndexName: ACTIVE_INDEX,
          KeyConditionExpression: 'activeShard = :shard AND lastEventTs < :before',
          ExpressionAttributeValues: { ':shard': `ACTIVE#${shard}`, ':before': beforeTs },
        },
        MAX_ACTIVE_PER_SHARD,
      );
      for (const item of items) {
        refs.push({
          sessionId: String(item.sessionId),
          gymId: String(item.gymId),
          treadmillId: String(item.treadmillId),
        });
      }
    }
    return refs;
  }
}
