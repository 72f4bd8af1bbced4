/**
 * What ingest and the sweeper do to one treadmill, through one code path (docs/architecture.md section 5).
 *
 * Order of writes, so that a crash between any two of them and the retry leave identical numbers:
 * 1. Derived items the commit would otherwise lose: timeline chunks sealed by the batch, the summary of a
 *    session that opened, alert signals, the status hours of its machine readings. Each is idempotent (a Put of
 *    the same content, alerts deduplicated by signal ts, status hours by reading time), so a retry that repeats
 *    them changes nothing.
 * 2. The commit: one conditional write of the fleet item with the new treadmill state, the open session's
 *    reducer state and the sessions that ended (`pendingFinals`). Before it, a retry reduces the same events
 *    from the same state; after it, the events are below the watermark and are skipped.
 * 3. Finalizing each pending session: final timeline chunk, summary and detail (Puts), rollups (each lists
 *    the sessions it holds). Then the pending list is cleared, conditionally. A crash in between leaves the
 *    pending sessions on the fleet item; whoever touches the treadmill next (ingest or sweeper) completes
 *    them first, idempotently.
 *
 * A final or a commit that keeps failing is set aside after POISON_ATTEMPTS (poison-guard.ts): its count is
 * kept on the fleet item, and the dead letters are written before the write that drops what they hold.
 */
import type { AlertConfig, AlertKind, AlertSignal, AlertTransition } from '../../shared/src/alerts/index.js';
import {
  DEFAULT_ALERT_CONFIG,
  evaluateEventAlerts,
  evaluateOfflineAlert,
  sessionEndedSignals,
} from '../../shared/src/alerts/index.js';
import { ageBand } from '../../shared/src/metrics/rollups.js';
import { finalizeSession, type TimelineChunk } from '../../shared/src/metrics/session.js';
import { statusHoursOf } from '../../shared/src/metrics/treadmill-status-history.js';
import {
  advanceTreadmillEpochs,
  type EndedSession,
  type EpochChange,
  type EpochEvents,
  type EventSegment,
  setAsideTreadmill,
  sweepTreadmill,
} from '../../shared/src/metrics/treadmill.js';
import type { GymAlertConfigs } from './alert-configs.js';
import type { AlertsRepo } from './alerts-repo.js';
import type { DeadLetterRepo } from './deadletter-repo.js';
import {
  type FleetRecord,
  type FleetRepo,
  type PendingFinal,
  StaleFleetItemError,
  type TreadmillKey,
} from './fleet-repo.js';
import type { MembersRepo } from './members-repo.js';
import {
  errorMessage,
  eventLetters,
  isTransient,
  POISON_ATTEMPTS,
  positionOf,
  type SetAside,
  sessionLetter,
} from './poison-guard.js';
import type { RollupsRepo } from './rollups-repo.js';
import type { SessionsRepo } from './sessions-repo.js';
import type { TreadmillStatusRepo } from './treadmill-status-repo.js';

/** Ingest and the sweeper can race for a treadmill once a minute at most; a few rounds always settle it. */
const MAX_ATTEMPTS = 5;

export interface TreadmillProcessorDeps {
  fleet: FleetRepo;
  sessions: SessionsRepo;
  rollups: RollupsRepo;
  members: MembersRepo;
  alerts: Pick<AlertsRepo, 'apply' | 'openKinds'>;
  deadLetters: Pick<DeadLetterRepo, 'put'>;
  statusHours: Pick<TreadmillStatusRepo, 'putHours'>;
  /** Each gym's alert config (its thresholds); the defaults when absent. */
  alertConfigs?: Pick<GymAlertConfigs, 'configFor'>;
}

export interface IngestOutcome {
  applied: number;
  skipped: number;
  /** Of `skipped`, the events of an earlier spool epoch than the treadmill's. */
  staleEpochEvents: number;
  epochsStarted: EpochChange[];
  sessionsStarted: number;
  sessionsEnded: number;
  transitions: AlertTransition[];
  setAside: SetAside[];
}

export interface SweepOutcome {
  sessionsEnded: number;
  wentOffline: boolean;
  transitions: AlertTransition[];
  setAside: SetAside[];
}

/** What one call set aside, once each however many rounds it took (a round may be repeated after a stale read). */
class SetAsideLog {
  private readonly byKey = new Map<string, SetAside>();

  add(entry: SetAside): void {
    this.byKey.set(`${entry.kind} ${entry.sessionIds.join()} ${JSON.stringify(entry.ranges)}`, entry);
  }

  get all(): SetAside[] {
    return [...this.byKey.values()];
  }
}

interface AlertUpdate {
  transitions: AlertTransition[];
  openAlertKinds: AlertKind[];
}

/** A batch with nothing past the watermark: nothing to write. */
const quiet = (advance: ReturnType<typeof advanceTreadmillEpochs>): Omit<IngestOutcome, 'setAside'> => ({
  applied: 0,
  skipped: advance.skipped,
  staleEpochEvents: advance.staleEpochEvents,
  epochsStarted: [],
  sessionsStarted: 0,
  sessionsEnded: 0,
  transitions: [],
});

export class TreadmillProcessor {
  constructor(private readonly deps: TreadmillProcessorDeps) {}

  /** Applies one treadmill's events of a batch (per spool epoch, each in seq order) with one commit. */
  async ingest(key: TreadmillKey, runs: readonly EpochEvents[]): Promise<IngestOutcome> {
    const log = new SetAsideLog();
    const outcome = await this.withRetries(
      key,
      false,
      log,
      async (record): Promise<Omit<IngestOutcome, 'setAside'>> => {
        let advance: ReturnType<typeof advanceTreadmillEpochs>;
        let alerts: AlertUpdate;
        let committed: FleetRecord;
        try {
          advance = advanceTreadmillEpochs(record.state, runs);
          if (advance.applied === 0) return quiet(advance);
          const signals = await this.eventSignals(record, advance.segments);
          [alerts] = await Promise.all([
            this.applyAlerts(record, signals),
            this.putChunks(advance.sealedChunks),
            ...advance.started.map((session) => this.deps.sessions.putActive(session)),
            this.deps.statusHours.putHours(key, statusHoursOf(advance.segments.flatMap((s) => s.events))),
          ]);
          committed = await this.deps.fleet.save(
            { state: advance.state, pendingFinals: advance.ended, openAlertKinds: alerts.openAlertKinds },
            record.version,
            { watermarkRose: true },
          );
        } catch (error) {
          if (error instanceof StaleFleetItemError || isTransient(error)) throw error;
          return this.commitFailed(record, runs, error, log);
        }
        await this.completePending(committed, log);
        return {
          applied: advance.applied,
          skipped: advance.skipped,
          staleEpochEvents: advance.staleEpochEvents,
          epochsStarted: advance.epochsStarted,
          sessionsStarted: advance.opened.length,
          sessionsEnded: advance.ended.length,
          transitions: alerts.transitions,
        };
      },
    );
    return { ...outcome, setAside: log.all };
  }

  /** The wall-clock side: closes an idle session, marks a silent treadmill offline, raises the offline alert. */
  async sweep(key: TreadmillKey, now: number): Promise<SweepOutcome> {
    const log = new SetAsideLog();
    const outcome = await this.withRetries(key, true, log, async (record) => {
      const sweep = sweepTreadmill(record.state, now);
      const { lastSeenTs } = sweep.state;
      const offlineSignal =
        sweep.state.offline && lastSeenTs !== null
          ? evaluateOfflineAlert({
              ...key,
              lastSeenTs,
              now,
              offline: true,
              config: await this.alertConfigFor(key.gymId),
            })
          : undefined;
      // A session closed here had no end event: its member's alerts (a stumble too) end with it.
      const endSignals =
        sweep.ended.length > 0
          ? sessionEndedSignals(key.gymId, key.treadmillId, now, record.openAlertKinds)
          : [];
      const alerts = await this.applyAlerts(record, [
        ...endSignals,
        ...(offlineSignal ? [offlineSignal] : []),
      ]);
      const kindsChanged = alerts.openAlertKinds.join() !== record.openAlertKinds.join();
      if (sweep.changed || kindsChanged) {
        const committed = await this.deps.fleet.save(
          {
            ...record,
            state: sweep.state,
            pendingFinals: sweep.ended,
            openAlertKinds: alerts.openAlertKinds,
          },
          record.version,
          { watermarkRose: false },
        );
        await this.completePending(committed, log);
      }
      return {
        sessionsEnded: sweep.ended.length,
        wentOffline: sweep.wentOffline,
        transitions: alerts.transitions,
      };
    });
    return { ...outcome, setAside: log.all };
  }

  private async withRetries<T>(
    key: TreadmillKey,
    fresh: boolean,
    log: SetAsideLog,
    attempt: (record: FleetRecord) => Promise<T>,
  ): Promise<T> {
    for (let round = 1; ; round++) {
      try {
        const loaded = await this.deps.fleet.load(key, { fresh: fresh || round > 1 });
        return await attempt(await this.completePending(loaded, log));
      } catch (error) {
        if (!(error instanceof StaleFleetItemError) || round >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Finalizes the sessions a commit closed, then clears them from the fleet item. One whose finalize fails
   * stays pending with its failure counted, and the call fails (so that Lambda retries it); at
   * POISON_ATTEMPTS it is set aside instead and the others go on.
   */
  private async completePending(record: FleetRecord, log: SetAsideLog): Promise<FleetRecord> {
    if (record.pendingFinals.length === 0) return record;
    const kept: PendingFinal[] = [];
    let failure: { error: unknown } | undefined;
    let counted = false;
    for (const pending of record.pendingFinals) {
      try {
        await this.finalize(pending);
        continue;
      } catch (error) {
        failure ??= { error };
        if (isTransient(error)) {
          kept.push(pending);
          continue;
        }
        counted = true;
        const attempts = (pending.failedAttempts ?? 0) + 1;
        if (attempts < POISON_ATTEMPTS) {
          kept.push({ ...pending, failedAttempts: attempts });
          continue;
        }
        const why = `finalize failed ${attempts} times: ${errorMessage(error)}`;
        const letter = sessionLetter(pending.state, pending.reason, why, attempts);
        await this.deps.deadLetters.put(letter);
        log.add({
          kind: 'final',
          gymId: record.state.gymId,
          treadmillId: record.state.treadmillId,
          reason: why,
          attempts,
          sessionIds: [pending.state.sessionId],
          ranges: [
            { epoch: record.state.spoolEpoch, seqFrom: letter.seqFrom ?? 0, seqTo: letter.seqTo ?? 0 },
          ],
        });
      }
    }
    // Only transient failures: nothing to record, the retry finds the item as it is.
    if (failure && !counted) throw failure.error;
    const saved = await this.deps.fleet.save({ ...record, pendingFinals: kept }, record.version, {
      watermarkRose: false,
    });
    if (kept.length > 0 && failure) throw failure.error;
    return saved;
  }

  /**
   * A commit failed for another reason than a concurrent writer or a transient fault: counted on the fleet item
   * (best effort: if the item moved meanwhile, the count is moot) and the error rethrown, so that Lambda
   * retries; at POISON_ATTEMPTS the batch is set aside instead.
   */
  private async commitFailed(
    record: FleetRecord,
    runs: readonly EpochEvents[],
    error: unknown,
    log: SetAsideLog,
  ): Promise<Omit<IngestOutcome, 'setAside'>> {
    const at = positionOf(record.state);
    const attempts = (record.commitFailures?.at === at ? record.commitFailures.attempts : 0) + 1;
    if (attempts < POISON_ATTEMPTS) {
      await this.deps.fleet
        .save({ ...record, commitFailures: { at, attempts, error: errorMessage(error) } }, record.version, {
          watermarkRose: false,
        })
        .catch(() => undefined);
      throw error;
    }
    const aside = setAsideTreadmill(record.state, runs);
    if (aside.events.length === 0) throw error;
    const { gymId, treadmillId } = record.state;
    const why = `commit failed ${attempts} times: ${errorMessage(error)}`;
    const letters = eventLetters({ gymId, treadmillId }, aside.events, why, attempts);
    if (aside.session) letters.push(sessionLetter(aside.session, 'open', why, attempts));
    await Promise.all(letters.map((letter) => this.deps.deadLetters.put(letter)));
    await this.deps.fleet.save(
      { state: aside.state, pendingFinals: record.pendingFinals, openAlertKinds: record.openAlertKinds },
      record.version,
      { watermarkRose: true },
    );
    log.add({
      kind: 'batch',
      gymId,
      treadmillId,
      reason: why,
      attempts,
      sessionIds: aside.session ? [aside.session.sessionId] : [],
      ranges: aside.events.map((run) => ({
        epoch: run.epoch,
        seqFrom: run.events[0]?.seq ?? 0,
        seqTo: run.events.at(-1)?.seq ?? 0,
      })),
    });
    const total = runs.reduce((n, run) => n + run.events.length, 0);
    return {
      applied: 0,
      skipped: total,
      staleEpochEvents: aside.staleEpochEvents,
      epochsStarted: aside.epochsStarted,
      sessionsStarted: 0,
      sessionsEnded: 0,
      transitions: [],
    };
  }

  private async finalize({ state, reason }: EndedSession): Promise<void> {
    const profile = state.userToken ? await this.deps.members.profile(state.userToken) : {};
    const summary = finalizeSession(state, profile);
    await this.deps.sessions.putChunks(state.sessionId, [state.timeline]);
    await this.deps.sessions.putFinal(summary, reason);
    await this.deps.rollups.addSession(summary, {
      ageBand: ageBand(profile.birthYear, state.startTs),
      sex: profile.sex ?? null,
    });
  }

  private async putChunks(sealed: ReadonlyArray<{ sessionId: string; chunk: TimelineChunk }>): Promise<void> {
    await Promise.all(sealed.map(({ sessionId, chunk }) => this.deps.sessions.putChunks(sessionId, [chunk])));
  }

  /**
   * Signals per run of events of one session: each run has its own member (heart-rate limit) and direction.
   * Maintenance compares the counters before and after each run.
   */
  private async eventSignals(record: FleetRecord, segments: readonly EventSegment[]): Promise<AlertSignal[]> {
    const { gymId, treadmillId } = record.state;
    const open = new Set(record.openAlertKinds);
    let odometerKm = record.state.odometerKm ?? undefined;
    let beltHours = record.state.beltHours ?? undefined;
    const signals: AlertSignal[] = [];
    const config = await this.alertConfigFor(gymId);
    for (const segment of segments) {
      const firstTs = segment.events[0]?.ts ?? 0;
      const memberAgeYears = segment.userToken ? await this.memberAge(segment.userToken, firstTs) : undefined;
      const found = evaluateEventAlerts({
        gymId,
        treadmillId,
        events: segment.events,
        direction: () => segment.direction,
        sessionId: segment.sessionId ?? undefined,
        memberAgeYears,
        odometerKm,
        beltHours,
        openKinds: [...open],
        config,
      });
      for (const signal of found) {
        if (signal.action === 'raise') open.add(signal.kind);
        else open.delete(signal.kind);
      }
      signals.push(...found);
      for (const event of segment.events) {
        if (event.type !== 'machine') continue;
        odometerKm = event.odometerKm ?? odometerKm;
        beltHours = event.beltHours ?? beltHours;
      }
    }
    return signals;
  }

  /** The gym's alert config (its thresholds), as the rules use it; the sweep decides with the same. */
  alertConfigFor(gymId: string): Promise<AlertConfig> {
    return this.deps.alertConfigs?.configFor(gymId) ?? Promise.resolve(DEFAULT_ALERT_CONFIG);
  }

  private async memberAge(userToken: string, ts: number): Promise<number | undefined> {
    const { birthYear } = await this.deps.members.profile(userToken);
    return birthYear === undefined ? undefined : new Date(ts).getUTCFullYear() - birthYear;
  }

  /**
   * Applies signals (idempotent) and recounts the treadmill's open alerts when they may have changed: after a
   * transition, or when a signal disagrees with the stored kinds (a retry after the alerts were written but
   * before the commit finds no transition left but must still store the count).
   */
  private async applyAlerts(record: FleetRecord, list: readonly AlertSignal[]): Promise<AlertUpdate> {
    if (list.length === 0) return { transitions: [], openAlertKinds: record.openAlertKinds };
    const transitions = await this.deps.alerts.apply(list);
    const stored = new Set(record.openAlertKinds);
    const disagrees = list.some((signal) => (signal.action === 'raise') !== stored.has(signal.kind));
    if (transitions.length === 0 && !disagrees) return { transitions, openAlertKinds: record.openAlertKinds };
    const { gymId, treadmillId } = record.state;
    return { transitions, openAlertKinds: (await this.deps.alerts.openKinds(gymId, treadmillId)).sort() };
  }
}
