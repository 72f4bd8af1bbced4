/**
 * The ingest Lambda: Kinesis batches of telemetry into DynamoDB (functions/lib/ingest-batch.ts), answering with
 * the records to retry (partial batch response).
 *
 * Environment (PROCESSING_ENV): TABLE_PREFIX; the ALERT_* destinations, to deliver a batch's alert transitions
 * at once (the notifier's schedule delivers them otherwise).
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { depsFromEnv } from '../lib/environment.js';
import { type IngestDeps, processBatch } from '../lib/ingest-batch.js';
import { lambdaHandler } from '../lib/lambda-entry.js';
import { PROCESSING_ENV, processingFromEnv } from '../lib/processing.js';

export function createIngestHandler(resolveDeps: () => IngestDeps) {
  return lambdaHandler(
    'ingest',
    resolveDeps,
    (event: KinesisStreamEvent, { deps, logger, metrics, context }): Promise<KinesisStreamBatchResponse> =>
      processBatch(deps, event, context, logger, metrics),
  );
}

export const handler = createIngestHandler(depsFromEnv(PROCESSING_ENV, processingFromEnv));
