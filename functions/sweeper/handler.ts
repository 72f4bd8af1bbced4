/**
 * The sweeper Lambda, every minute (EventBridge Scheduler): closes idle sessions and marks silent treadmills
 * offline (functions/lib/sweep.ts). A run with treadmills it could not sweep fails, so that the function's
 * errors show it; the next run tries them again.
 *
 * Environment (PROCESSING_ENV): TABLE_PREFIX and the ALERT_* destinations, as ingest.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { depsFromEnv } from '../lib/environment.js';
import { lambdaHandler } from '../lib/lambda-entry.js';
import { PROCESSING_ENV, processingFromEnv } from '../lib/processing.js';
import { type SweeperDeps, sweep } from '../lib/sweep.js';

export function createSweeperHandler(resolveDeps: () => SweeperDeps, clock: () => number = Date.now) {
  return lambdaHandler('sweeper', resolveDeps, async (_event: unknown, { deps, logger, metrics }) => {
    const report = await sweep(deps, clock(), logger);
    metrics.addMetric('SweepCandidates', MetricUnit.Count, report.candidates);
    metrics.addMetric('SessionsClosedIdle', MetricUnit.Count, report.sessionsEnded);
    metrics.addMetric('TreadmillsWentOffline', MetricUnit.Count, report.wentOffline);
    metrics.addMetric('PoisonSetAside', MetricUnit.Count, report.poisonSetAside);
    metrics.addMetric('SweepFailures', MetricUnit.Count, report.failed);
    if (report.failed > 0) throw new Error(`${report.failed} treadmill(s) could not be swept`);
    return report;
  });
}

export const handler = createSweeperHandler(depsFromEnv(PROCESSING_ENV, processingFromEnv));
