/**
 * The rollups table: member per ISO week (pk MEMBER#{token}, sk WEEK#{yyyy-Www}), gym per day (pk GYM#{gymId},
 * sk DAY#{yyyy-mm-dd}) and member per gym per week (pk WEEK#{yyyy-Www}, sk GYM#{gymId}#MEMBER#{hash}): a week's
 * partition holds every member's week at every gym, so the research export reads a week with one query and never
 * needs a member's token.
 *
 * Read, add the session in code (shared/src/metrics/rollups.ts: exact Welford statistics, maxima, distinct
 * members, none of which an update expression can do), then write conditionally on the version read; concurrent
 * writers (gym days are shared by all treadmills of a gym) lose the condition and add again on a fresh read.
 *
 * Exactly once without transactions and without a list that grows (docs/architecture.md section 7.2): the add
 * also puts the session's entry into the item's `unmarked` set; then a marker item (pk ADDED#{rollup pk}#{rollup
 * sk}, sk the entry) is put, and only then is the entry deleted from the set. So a session is held when its
 * entry is unmarked or has a marker, at every moment, and the set is empty between adds.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  addSessionToGymDay,
  addSessionToMemberGymWeek,
  addSessionToMemberWeek,
  type GymDayRollup,
  type MemberGymWeekRollup,
  type MemberTraits,
  type MemberWeekRollup,
  memberEntry,
  numbersOf,
  sessionEntry,
  type Stored,
} from '../../shared/src/metrics/rollups.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { DAY_MS, dayKey, isoWeekKey } from '../../shared/src/iso-week.js';
import { contentionBackoff } from './contention.js';
import { queryAll } from './dynamo-paging.js';

const MAX_ATTEMPTS = 20;
/**
 * Marker items expire 90 days after their session's day. A session is added again only while its treadmill's
 * `pendingFinals` lists it, which the next ingest or sweep (every minute) clears; the stream keeps records at most
 * a week and the watermark skips what was applied (section 5.3).
 */
export const MARKER_TTL_DAYS = 90;

/** Attributes of a stored rollup that are bookkeeping, not numbers. */
const UNMARKED = 'unmarked';
/** Lists of earlier versions (every session id, every member hash), still read as held: see `held`. */
const LEGACY_LISTS = { sessionIds: sessionEntry, memberKeys: memberEntry } as const;

type Key = { pk: string; sk: string };

export const memberWeekKey = (userToken: string, week: string) => ({
  pk: `MEMBER#${userToken}`,
  sk: `WEEK#${week}`,
});
export const gymDayKey = (gymId: string, day: string) => ({ pk: `GYM#${gymId}`, sk: `DAY#${day}` });
export const memberGymWeekKey = (week: string, gymId: string, memberKey: string) => ({
  pk: `WEEK#${week}`,
  sk: `GYM#${gymId}#MEMBER#${memberKey}`,
});
/** The marker of an entry added to a rollup: a partition per rollup, so no rollup query ever reads markers. */
export const markerKey = (rollup: Key, entry: string) => ({
  pk: `ADDED#${rollup.pk}#${rollup.sk}`,
  sk: entry,
});

/** Gym-day rollups count distinct members by a hash: they never hold a member's token. */
export const memberHash = (userToken: string): string =>
  createHash('sha256').update(userToken).digest('hex').slice(0, 16);

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

/** Entries held by a stored item: its `unmarked` set, and the lists items written before markers carried. */
function held(item: Record<string, unknown>): string[] {
  const entries = item[UNMARKED] instanceof Set ? [...(item[UNMARKED] as Set<string>)] : [];
  for (const [list, entryOf] of Object.entries(LEGACY_LISTS)) {
    const values = item[list];
    if (Array.isArray(values)) entries.push(...values.map((value) => entryOf(String(value))));
  }
  return entries.sort();
}

/** What one add of a session to one rollup needs: the key, the entries it may add, and the pure addition. */
interface AddPlan<T> {
  key: Key;
  session: string;
  /** A gym day's member entry: read with the session's marker, marked with it. */
  member?: string;
  add: (current: Stored<T> | undefined, memberMarked: boolean) => Stored<T> | null;
}

export class RollupsRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Adds a finalized session to its member's week and the member's week at the gym (when it has a member), and
   * to its gym's day. Exactly once, whatever crashes and repeats.
   */
  async addSession(summary: SessionSummary, traits: MemberTraits): Promise<void> {
    const token = summary.userToken;
    const week = isoWeekKey(summary.startTs);
    const session = sessionEntry(summary.sessionId);
    const hash = token === null ? null : memberHash(token);
    const expiresAt = markerExpiry(summary.startTs);
    await Promise.all([
      token === null
        ? undefined
        : this.addOnce<MemberWeekRollup>(
            {
              key: memberWeekKey(token, week),
              session,
              add: (current) => addSessionToMemberWeek(current, summary, traits),
            },
            expiresAt,
          ),
      hash === null
        ? undefined
        : this.addOnce<MemberGymWeekRollup>(
            {
              key: memberGymWeekKey(week, summary.gymId, hash),
              session,
              add: (current) => addSessionToMemberGymWeek(current, summary, hash, traits),
            },
            expiresAt,
          ),
      this.addOnce<GymDayRollup>(
        {
          key: gymDayKey(summary.gymId, dayKey(summary.startTs)),
          session,
          ...(hash !== null && { member: memberEntry(hash) }),
          add: (current, memberMarked) =>
            addSessionToGymDay(current, summary, hash === null ? null : { key: hash, marked: memberMarked }),
        },
        expiresAt,
      ),
    ]);
  }

  async getMemberWeek(userToken: string, week: string): Promise<MemberWeekRollup | undefined> {
    const stored = await this.read<MemberWeekRollup>(memberWeekKey(userToken, week));
    return stored && numbersOf(stored.rollup);
  }

  async getGymDay(gymId: string, day: string): Promise<GymDayRollup | undefined> {
    const stored = await this.read<GymDayRollup>(gymDayKey(gymId, day));
    return stored && numbersOf(stored.rollup);
  }

  /** A gym's day rollups from `fromDay` to `toDay` (yyyy-mm-dd, both included), oldest first. */
  async listGymDays(gymId: string, fromDay: string, toDay: string): Promise<GymDayRollup[]> {
    return this.queryRange<GymDayRollup>(
      `GYM#${gymId}`,
      gymDayKey(gymId, fromDay).sk,
      gymDayKey(gymId, toDay).sk,
    );
  }

  /** A member's week rollups from `fromWeek` to `toWeek` (yyyy-Www, both included), oldest first. */
  async listMemberWeeks(userToken: string, fromWeek: string, toWeek: string): Promise<MemberWeekRollup[]> {
    return this.queryRange<MemberWeekRollup>(
      `MEMBER#${userToken}`,
      memberWeekKey(userToken, fromWeek).sk,
      memberWeekKey(userToken, toWeek).sk,
    );
  }

  /** Every member's week at every gym in one ISO week (the research export's input), by gym. */
  async listMemberGymWeeks(week: string): Promise<MemberGymWeekRollup[]> {
    // `GYM#` .. `GYM$`: every sort key that starts with `GYM#` (`$` is the character after `#`).
    return this.queryRange<MemberGymWeekRollup>(`WEEK#${week}`, 'GYM#', 'GYM$');
  }

  /** Bounded by the key range the caller asks for (days, weeks: a period, not all of time). */
  private async queryRange<T>(pk: string, fromSk: string, toSk: string): Promise<T[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': pk, ':from': fromSk, ':to': toSk },
    });
    return items.map((item) => this.rollupOf<T>(item));
  }

  private rollupOf<T>(item: Record<string, unknown>): T {
    const { pk: _pk, sk: _sk, version: _version, [UNMARKED]: _unmarked, ...rollup } = item;
    for (const list of Object.keys(LEGACY_LISTS)) delete rollup[list];
    return rollup as T;
  }

  private async read<T>(key: Key): Promise<{ rollup: Stored<T>; version: number } | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return { rollup: { ...this.rollupOf<T>(Item), unmarked: held(Item) }, version: Number(Item.version) };
  }

  private async isMarked(key: Key, entry: string): Promise<boolean> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: markerKey(key, entry), ConsistentRead: true }),
    );
    return Item !== undefined;
  }

  /**
   * One session into one rollup. The item is read before the markers: an entry leaves `unmarked` only after its
   * marker is written, so a session added before the item was read shows in one or the other. One added after
   * it was read moved the version, and the conditional write below fails and reads again.
   */
  private async addOnce<T extends object>(plan: AddPlan<T>, expiresAt: number): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.read<T>(plan.key);
      if (current?.rollup.unmarked.includes(plan.session)) {
        // Added by an attempt that stopped before its marker: finish that attempt.
        return this.mark(plan, current.rollup.unmarked, expiresAt);
      }
      const [sessionMarked, memberMarked] = await Promise.all([
        this.isMarked(plan.key, plan.session),
        plan.member === undefined ? false : this.isMarked(plan.key, plan.member),
      ]);
      if (sessionMarked) return;
      const next = plan.add(current?.rollup, memberMarked);
      if (next === null) return;
      try {
        await this.doc.send(new UpdateCommand(this.addInput(plan.key, next, current)));
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        await contentionBackoff(attempt);
        continue;
      }
      return this.mark(plan, next.unmarked, expiresAt);
    }
    throw new Error(
      `rollup ${plan.key.pk} ${plan.key.sk} kept changing: gave up after ${MAX_ATTEMPTS} attempts`,
    );
  }

  /**
   * The numbers set whole (they were computed from the version read) and the new entries added to the set: the
   * write never carries other writers' entries, so an entry deleted meanwhile cannot come back.
   */
  private addInput<T extends object>(
    key: Key,
    next: Stored<T>,
    current: { rollup: Stored<T>; version: number } | undefined,
  ): UpdateCommandInput {
    const { unmarked, ...numbers } = next;
    const before = new Set(current?.rollup.unmarked ?? []);
    const added = unmarked.filter((entry) => !before.has(entry));
    const names: Record<string, string> = { '#version': 'version', '#unmarked': UNMARKED };
    const values: Record<string, unknown> = {
      ':version': (current?.version ?? 0) + 1,
      ':added': new Set(added),
    };
    const sets = Object.entries(numbers).map(([name, value], index) => {
      names[`#a${index}`] = name;
      values[`:a${index}`] = value;
      return `#a${index} = :a${index}`;
    });
    if (current) values[':read'] = current.version;
    return {
      TableName: this.tableName,
      Key: key,
      UpdateExpression: `SET ${[...sets, '#version = :version'].join(', ')} ADD #unmarked :added`,
      ConditionExpression: current ? '#version = :read' : 'attribute_not_exists(pk)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * Writes the markers of the session's entries (its own, and its member's on a gym day when that is unmarked:
   * whoever counted the member, the marker says the same), then deletes them from the set. The delete moves no
   * version: it changes no number, and an add never writes back another writer's entries.
   */
  private async mark<T>(plan: AddPlan<T>, unmarked: readonly string[], expiresAt: number): Promise<void> {
    const entries = [
      plan.session,
      ...(plan.member !== undefined && unmarked.includes(plan.member) ? [plan.member] : []),
    ];
    await Promise.all(
      entries.map((entry) =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...markerKey(plan.key, entry), expiresAt },
          }),
        ),
      ),
    );
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: plan.key,
          UpdateExpression: 'DELETE #unmarked :entries',
          ConditionExpression: 'contains(#unmarked, :session)',
          ExpressionAttributeNames: { '#unmarked': UNMARKED },
          ExpressionAttributeValues: { ':entries': new Set(entries), ':session': plan.session },
        }),
      );
    } catch (error) {
      // Another attempt at the same session (a replay beside the original) deleted it first.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Epoch seconds 90 days after the start of the session's UTC day: the same for every marker of that day. */
function markerExpiry(startTs: number): number {
  const dayStart = Math.floor(startTs / DAY_MS) * DAY_MS;
  return Math.floor(dayStart / 1000) + MARKER_TTL_DAYS * 86_400;
}
