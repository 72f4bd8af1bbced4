/**
 * The rollups table: member per ISO week (pk MEMBER#{token}, sk WEEK#{yyyy-Www}), gym per day (pk GYM#{gymId},
 * sk DAY#{yyyy-mm-dd}) and member per gym per week (pk WEEK#{yyyy-Www}, sk GYM#{gymId}#MEMBER#{hash}): a week's
 * partition holds every member's week at every gym, so the research export reads a week with one query and never
 * needs a member's token.
 *
 * Read, add the session in code (shared/src/metrics/rollups.ts: exact Welford statistics, maxima, distinct
 * members, none of which an update expression can do), then put conditionally on the version read. A rollup
 * lists the sessions it holds, so adding a session twice (a replay) changes nothing; concurrent writers (gym
 * days are shared by all treadmills of a gym) lose the condition and add again on a fresh read.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  addSessionToGymDay,
  addSessionToMemberGymWeek,
  addSessionToMemberWeek,
  type GymDayRollup,
  type MemberGymWeekRollup,
  type MemberTraits,
  type MemberWeekRollup,
} from '../../shared/src/metrics/rollups.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { dayKey, isoWeekKey } from '../../shared/src/iso-week.js';
import { contentionBackoff } from './contention.js';
import { queryAll } from './dynamo-paging.js';

const MAX_ATTEMPTS = 20;

export const memberWeekKey = (userToken: string, week: string) => ({
  pk: `MEMBER#${userToken}`,
  sk: `WEEK#${week}`,
});
export const gymDayKey = (gymId: string, day: string) => ({ pk: `GYM#${gymId}`, sk: `DAY#${day}` });
export const memberGymWeekKey = (week: string, gymId: string, memberKey: string) => ({
  pk: `WEEK#${week}`,
  sk: `GYM#${gymId}#MEMBER#${memberKey}`,
});

/** Gym-day rollups count distinct members by a hash: they never hold a member's token. */
export const memberHash = (userToken: string): string =>
  createHash('sha256').update(userToken).digest('hex').slice(0, 16);

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

type Key = { pk: string; sk: string };

export class RollupsRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Adds a finalized session to its member's week and the member's week at the gym (when it has a member), and
   * to its gym's day.
   */
  async addSession(summary: SessionSummary, traits: MemberTraits): Promise<void> {
    const token = summary.userToken;
    const week = isoWeekKey(summary.startTs);
    await Promise.all([
      token === null
        ? undefined
        : this.merge<MemberWeekRollup>(memberWeekKey(token, week), (current) =>
            addSessionToMemberWeek(current, summary, traits),
          ),
      token === null
        ? undefined
        : this.merge<MemberGymWeekRollup>(
            memberGymWeekKey(week, summary.gymId, memberHash(token)),
            (current) => addSessionToMemberGymWeek(current, summary, memberHash(token), traits),
          ),
      this.merge<GymDayRollup>(gymDayKey(summary.gymId, dayKey(summary.startTs)), (current) =>
        addSessionToGymDay(current, summary, token === null ? null : memberHash(token)),
      ),
    ]);
  }

  async getMemberWeek(userToken: string, week: string): Promise<MemberWeekRollup | undefined> {
    return (await this.read<MemberWeekRollup>(memberWeekKey(userToken, week)))?.rollup;
  }

  async getGymDay(gymId: string, day: string): Promise<GymDayRollup | undefined> {
    return (await this.read<GymDayRollup>(gymDayKey(gymId, day)))?.rollup;
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

  private async queryRange<T>(pk: string, fromSk: string, toSk: string): Promise<T[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': pk, ':from': fromSk, ':to': toSk },
    });
    return items.map(({ pk: _pk, sk: _sk, version: _version, ...rollup }) => rollup as T);
  }

  private async read<T>(key: Key): Promise<{ rollup: T; version: number } | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, version, ...rollup } = Item;
    return { rollup: rollup as T, version: Number(version) };
  }

  private async merge<T extends object>(key: Key, add: (current: T | undefined) => T | null): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.read<T>(key);
      const next = add(current?.rollup);
      if (next === null) return;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, ...next, version: (current?.version ?? 0) + 1 },
            ConditionExpression: current ? 'version = :version' : 'attribute_not_exists(pk)',
            ...(current && { ExpressionAttributeValues: { ':version': current.version } }),
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        await contentionBackoff(attempt);
      }
    }
    throw new Error(`rollup ${key.pk} ${key.sk} kept changing: gave up after ${MAX_ATTEMPTS} attempts`);
  }
}
