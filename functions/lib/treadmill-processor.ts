/**
 * What ingest and the sweeper do to one treadmill, through one code path (docs/architecture.md section 5).
 *
 * Order of writes, so that a crash between any two of them and the retry leave identical numbers:
 * 1. Derived items the commit would otherwise lose: timeline chunks sealed by the batch, the summary of a
 *    session that opened, alert signals. Each is idempotent (a Put of the same content, alerts deduplicated
 *    by signal ts), so a retry that repeats them changes nothing.
 * 2. The commit: one conditional write of the fleet item with the new treadmill state, the open session's
 *    reducer state and the sessions that ended (`pendingFinals`). Before it, a retry reduces the same events
 *    from the same state; after it, the events are below the watermark and are skipped.
 * 3. Finalizing each pending session: final timeline chunk, summary and detail (Puts), rollups (each lists
 *    the sessions it holds). Then the pending list is cleared, conditionally. A crash in between leaves the
 *    pending sessions on the fleet item; whoever touches the treadmill next (ingest or sweeper) completes
 *    them first, idempotently.
 */
import type { AlertConfig, AlertKind, AlertSignal, AlertTransition } from '../../shared/src/alerts/index.js';
import { evaluateEventAlerts, evaluateOfflineAlert } from '../../shared/src/alerts/index.js';
import { ageBand } from '../../shared/src/metrics/rollups.js';
import { finalizeSession, type TimelineChunk } from '../../shared/src/metrics/session.js';
import {
  advanceTreadmill,
  type EndedSession,
  type EventSegment,
  sweepTreadmill,
} from '../../shared/src/metrics/treadmill.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import type { AlertsRepo } from './alerts-repo.js';
import { type FleetRecord, type FleetRepo, StaleFleetItemError, type TreadmillKey } from './fleet-repo.js';
import type { MembersRepo } from './members-repo.js';
import type { RollupsRepo } from './rollups-repo.js';
import type { SessionsRepo } from './sessions-repo.js';

/** Ingest and the sweeper can race for a treadmill once a minute at most; a few rounds always settle it. */
const MAX_ATTEMPTS = 5;

export interface TreadmillProcessorDeps {
  fleet: FleetRepo;
  sessions: SessionsRepo;
  rollups: RollupsRepo;
  members: MembersRepo;
  alerts: Pick<AlertsRepo, 'apply' | 'openKinds'>;
  alertConfig?: AlertConfig;
}

export interface IngestOutcome {
  applied: number;
  skipped: number;
  sessionsStarted: number;
  sessionsEnded: number;
  transitions: AlertTransition[];
}

export interface SweepOutcome {
  sessionsEnded: number;
  wentOffline: boolean;
  transitions: AlertTransition[];
}

interface AlertUpdate {
  transitions: AlertTransition[];
  openAlertKinds: AlertKind[];
}

export class TreadmillProcessor {
  constructor(private readonly deps: TreadmillProcessorDeps) {}

  /** Applies one treadmill's events of a batch (seq order) with one commit. */
  ingest(key: TreadmillKey, events: readonly TelemetryEvent[]): Promise<IngestOutcome> {
    return this.withRetries(key, false, async (record) => {
      const advance = advanceTreadmill(record.state, events);
      if (advance.applied === 0) {
        return {
          applied: 0,
          skipped: advance.skipped,
          sessionsStarted: 0,
          sessionsEnded: 0,
          transitions: [],
        };
      }
      const signals = await this.eventSignals(record, advance.segments);
      const [alerts] = await Promise.all([
        this.applyAlerts(record, signals),
        this.putChunks(advance.sealedChunks),
        ...advance.started.map((session) => this.deps.sessions.putActive(session)),
      ]);
      const committed = await this.deps.fleet.save(
        { state: advance.state, pendingFinals: advance.ended, openAlertKinds: alerts.openAlertKinds },
        record.version,
        { watermarkRose: true },
      );
      await this.completePending(committed);
      return {
        applied: advance.applied,
        skipped: advance.skipped,
        sessionsStarted: advance.opened.length,
        sessionsEnded: advance.ended.length,
        transitions: alerts.transitions,
      };
    });
  }

  /** The wall-clock side: closes an idle session, marks a silent treadmill offline, raises the offline alert. */
  sweep(key: TreadmillKey, now: number): Promise<SweepOutcome> {
    return this.withRetries(key, true, async (record) => {
      const sweep = sweepTreadmill(record.state, now);
      const { lastSeenTs } = sweep.state;
      const offlineSignal =
        sweep.state.offline && lastSeenTs !== null
          ? evaluateOfflineAlert({ ...key, lastSeenTs, now, offline: true, config: this.deps.alertConfig })
          : undefined;
      const alerts = await this.applyAlerts(record, offlineSignal ? [offlineSignal] : []);
      const kindsChanged = alerts.openAlertKinds.join() !== record.openAlertKinds.join();
      if (sweep.changed || kindsChanged) {
        const committed = await this.deps.fleet.save(
          { state: sweep.state, pendingFinals: sweep.ended, openAlertKinds: alerts.openAlertKinds },
          record.version,
          { watermarkRose: false },
        );
        await this.completePending(committed);
      }
      return {
        sessionsEnded: sweep.ended.length,
        wentOffline: sweep.wentOffline,
        transitions: alerts.transitions,
      };
    });
  }

  private async withRetries<T>(
    key: TreadmillKey,
    fresh: boolean,
    attempt: (record: FleetRecord) => Promise<T>,
  ): Promise<T> {
    for (let round = 1; ; round++) {
      try {
        const loaded = await this.deps.fleet.load(key, { fresh: fresh || round > 1 });
        return await attempt(await this.completePending(loaded));
      } catch (error) {
        if (!(error instanceof StaleFleetItemError) || round >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** Finalizes the sessions a commit closed, then clears them from the fleet item. */
  private async completePending(record: FleetRecord): Promise<FleetRecord> {
    if (record.pendingFinals.length === 0) return record;
    for (const ended of record.pendingFinals) await this.finalize(ended);
    return this.deps.fleet.save({ ...record, pendingFinals: [] }, record.version, { watermarkRose: false });
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
        config: this.deps.alertConfig,
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
