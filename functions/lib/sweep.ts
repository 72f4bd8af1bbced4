/**
 * The sweep (docs/architecture.md section 1), every minute: closes sessions idle for 5 minutes and marks treadmills offline
 * after 5 minutes without events, through the same code path as ingest (treadmill-processor.ts), and raises the
 * offline alert during opening hours.
 *
 * Candidates come from the active-sessions index (sessions that opened more than 5 minutes ago) and from a
 * filtered scan of the fleet for silent treadmills; each is then decided on its fleet item, read consistently.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type AlertConfig, evaluateOfflineAlert } from '../../shared/src/alerts/index.js';
import { IDLE_TIMEOUT_MS, OFFLINE_AFTER_MS } from '../../shared/src/metrics/treadmill.js';
import { mapWithConcurrency } from './concurrency.js';
import type { FleetRepo, SilentTreadmill, TreadmillKey } from './fleet-repo.js';
import type { SessionsRepo } from './sessions-repo.js';
import type { TreadmillProcessor } from './treadmill-processor.js';

const CONCURRENCY = 8;

export interface SweeperDeps {
  processor: TreadmillProcessor;
  fleet: FleetRepo;
  sessions: SessionsRepo;
  notify?: () => Promise<unknown>;
}

export interface SweepReport {
  candidates: number;
  sessionsEnded: number;
  wentOffline: number;
  alertTransitions: number;
  /** Sessions that could not be finalized after POISON_ATTEMPTS sweeps, set aside (section 5.2). */
  poisonSetAside: number;
  failed: number;
}

/**
 * Whether a silent treadmill needs its fleet item read: not yet marked offline, a session still open or not
 * yet finalized, or an offline alert due that is not open yet (the scan already carries what decides it).
 */
function needsSweep(treadmill: SilentTreadmill, now: number, config: AlertConfig): boolean {
  if (!treadmill.offline || treadmill.hasSession || treadmill.hasPendingFinals) return true;
  if (treadmill.openAlertKinds.includes('offline')) return false;
  const signal = evaluateOfflineAlert({ ...treadmill, now, offline: true, config });
  return signal !== undefined;
}

export async function sweep(deps: SweeperDeps, now: number, logger?: Logger): Promise<SweepReport> {
  const [active, silent] = await Promise.all([
    deps.sessions.listActiveBefore(now - IDLE_TIMEOUT_MS),
    deps.fleet.listSilent(now - OFFLINE_AFTER_MS),
  ]);
  const candidates = new Map<string, TreadmillKey>();
  for (const { gymId, treadmillId } of active)
    candidates.set(`${gymId}/${treadmillId}`, { gymId, treadmillId });
  for (const treadmill of silent) {
    // The gym's own offline threshold (section 7.3), as the processor will use it: a gym that waits an hour is
    // not read every minute in between.
    if (!needsSweep(treadmill, now, await deps.processor.alertConfigFor(treadmill.gymId))) continue;
    const { gymId, treadmillId } = treadmill;
    candidates.set(`${gymId}/${treadmillId}`, { gymId, treadmillId });
  }
  const report: SweepReport = {
    candidates: candidates.size,
    sessionsEnded: 0,
    wentOffline: 0,
    alertTransitions: 0,
    poisonSetAside: 0,
    failed: 0,
  };
  await mapWithConcurrency([...candidates.values()], CONCURRENCY, async (key) => {
    try {
      const outcome = await deps.processor.sweep(key, now);
      report.sessionsEnded += outcome.sessionsEnded;
      report.wentOffline += outcome.wentOffline ? 1 : 0;
      report.alertTransitions += outcome.transitions.length;
      report.poisonSetAside += outcome.setAside.length;
      for (const aside of outcome.setAside) {
        logger?.error('set aside after repeated failures: in the dead-letter table', {
          treadmill: `${key.gymId}/${key.treadmillId}`,
          ...aside,
        });
      }
    } catch (error) {
      // One treadmill's failure must not stop the others; the next run tries it again.
      report.failed++;
      logger?.error('sweep of a treadmill failed', {
        ...key,
        error: error instanceof Error ? error : String(error),
      });
    }
  });
  if (report.alertTransitions > 0 && deps.notify) {
    await deps
      .notify()
      .catch((error: unknown) => logger?.warn('alert delivery deferred', { error: String(error) }));
  }
  return report;
}
