/**
 * A gym day with 20,000 sessions (a console flapping between started and stopped, or a spammed start/end): the
 * stored rollup must stay the same size, far below DynamoDB's 400 KB item limit, and still hold each session and
 * count each member exactly once when adds repeat (docs/architecture.md section 7.2).
 *
 * The store is modelled as RollupsRepo drives it: an entry the item lists as unmarked gets its marker item, then
 * leaves the item; a session with a marker is not added again.
 */
import { describe, expect, it } from 'vitest';
import {
  addSessionToGymDay,
  addSessionToMemberGymWeek,
  addSessionToMemberWeek,
  type GymDayRollup,
  markEntries,
  type MemberGymWeekRollup,
  type MemberWeekRollup,
  type Stored,
} from '../../shared/src/metrics/rollups.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { T0 } from '../support/events.js';
import { walkedSession } from '../support/rollup-fixtures.js';

const SESSIONS = 20_000;
const MEMBERS = 7_000;
const MAX_ITEM_BYTES = 10_000;
const traits = { ageBand: '30-39', sex: 'female' as const };

const base = walkedSession({ gymId: 'gym-a', userToken: 'm_0', startTs: T0, forwardS: 20, backwardS: 10 });

/** A small summary: the same walk, another id, member and start (one a second, all on one UTC day). */
const sessionNo = (i: number, userToken: string | null = `m_${i % MEMBERS}`): SessionSummary => ({
  ...base,
  sessionId: `gym-a:tm-01:${i + 1}`,
  userToken,
  startTs: T0 + i * 1000,
  endTs: T0 + i * 1000 + 30_000,
});

const itemBytes = (item: object): number => Buffer.byteLength(JSON.stringify(item));

/** Marker items of one rollup, by entry (`SESSION#{id}`, `MEMBER#{hash}`). */
class Store<T extends object> {
  readonly markers = new Set<string>();
  item: T | undefined;
  largest = 0;

  /** Adds unless held; `crash` leaves the new entries unmarked, as a crash right after the rollup write would. */
  add(sessionId: string, add: (item: T | undefined) => T | null, crash = false): boolean {
    if (this.markers.has(`SESSION#${sessionId}`)) return false;
    const next = add(this.item);
    if (next === null) {
      this.mark(this.item);
      return false;
    }
    this.largest = Math.max(this.largest, itemBytes(next));
    expect(itemBytes(next), `item after ${sessionId}`).toBeLessThan(MAX_ITEM_BYTES);
    this.item = next;
    if (!crash) this.mark(next);
    return true;
  }

  private mark(item: T | undefined): void {
    if (item === undefined || !('unmarked' in item)) return;
    const stored = item as T & Stored<object>;
    for (const entry of stored.unmarked) this.markers.add(entry);
    this.item = markEntries(stored, stored.unmarked);
  }
}

describe(`a rollup holding ${SESSIONS.toLocaleString('en')} sessions`, () => {
  it('keeps a gym day under 10 KB and counts every session and member once, through replays and crashes', () => {
    const day = new Store<Stored<GymDayRollup>>();
    const addTo = (summary: SessionSummary, crash = false) =>
      day.add(
        summary.sessionId,
        (item) =>
          addSessionToGymDay(
            item,
            summary,
            summary.userToken === null
              ? null
              : {
                  key: `hash-${summary.userToken}`,
                  marked: day.markers.has(`MEMBER#hash-${summary.userToken}`),
                },
          ),
        crash,
      );
    for (let i = 0; i < SESSIONS; i++) addTo(sessionNo(i), i % 1000 === 999);
    // Replays of every 7th session, including those that crashed before their markers.
    let added = 0;
    for (let i = 0; i < SESSIONS; i += 7) if (addTo(sessionNo(i))) added++;
    for (let i = 999; i < SESSIONS; i += 1000) if (addTo(sessionNo(i))) added++;

    expect(added).toBe(0);
    expect(day.item).toMatchObject({ sessions: SESSIONS, distinctMembers: MEMBERS, unmarked: [] });
    expect(day.item?.distanceM).toBeCloseTo(SESSIONS * base.distanceM, -1);
    expect(day.item?.sessionsByHour.reduce((a, b) => a + b, 0)).toBe(SESSIONS);
    expect(day.largest).toBeLessThan(MAX_ITEM_BYTES);
  });

  it("keeps a member's week and the member's week at a gym under 10 KB", () => {
    const week = new Store<Stored<MemberWeekRollup>>();
    const atGym = new Store<Stored<MemberGymWeekRollup>>();
    for (let i = 0; i < SESSIONS; i++) {
      const summary = sessionNo(i, 'm_flapping');
      week.add(summary.sessionId, (item) => addSessionToMemberWeek(item, summary, traits));
      atGym.add(summary.sessionId, (item) => addSessionToMemberGymWeek(item, summary, 'hash-m', traits));
    }
    for (let i = 0; i < SESSIONS; i += 13) {
      const summary = sessionNo(i, 'm_flapping');
      expect(week.add(summary.sessionId, (item) => addSessionToMemberWeek(item, summary, traits))).toBe(
        false,
      );
    }
    expect(week.item).toMatchObject({ sessions: SESSIONS, unmarked: [] });
    expect(atGym.item).toMatchObject({ sessions: SESSIONS, unmarked: [] });
    expect(Math.max(week.largest, atGym.largest)).toBeLessThan(MAX_ITEM_BYTES);
  });
});
