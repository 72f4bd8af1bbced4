/**
 * The one shape of every Lambda entry point: middy with Powertools' Logger (the Lambda context on every line)
 * and Metrics (EMF, flushed after every invocation, a failed one included), and the function's dependencies
 * resolved per invocation (depsFromEnv in AWS: built once per container; tests and the local stack pass
 * their own).
 *
 * Metrics gets the logger, so its own warnings are structured and follow POWERTOOLS_LOG_LEVEL. A handler must
 * record at least one metric per invocation: an empty flush is a Powertools warning.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** The CloudWatch namespace of every function's metrics (infra/constructs/monitoring.ts alarms on them). */
export const METRICS_NAMESPACE = 'Retrostride';

export interface Invocation<D> {
  deps: D;
  logger: Logger;
  metrics: Metrics;
  context: Context;
}

/** `service` names the function in logs and is the metrics' `service` dimension. */
export function lambdaHandler<E, R, D>(
  service: string,
  resolveDeps: () => D,
  handle: (event: E, invocation: Invocation<D>) => Promise<R>,
) {
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, logger });
  return middy((event: E, context: Context) =>
    handle(event, { deps: resolveDeps(), logger, metrics, context }),
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
