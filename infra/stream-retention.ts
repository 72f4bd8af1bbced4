/**
 * How long the telemetry stream must keep a record (docs/architecture.md section 5.5). Ingest's event source
 * mapping gives up on a record older than its maximum record age and sends its shard and sequence range to the
 * failure queue; the stream must still hold the record for a replay window after that, or the range names data
 * that is gone. infra/config.ts refuses a `streamRetentionHours` below this, and the local stack keeps kinesalite
 * and its event-source runner to the same rule. No CDK import here: the local stack reads it too.
 */

/** The event source mapping's maximumRecordAge (infra/constructs/ingest.ts); the local runner uses the same. */
export const INGEST_MAX_RECORD_AGE_HOURS = 24;
/** Time left to re-drive what ingest gave up on for age, from the stream itself. */
export const REPLAY_WINDOW_HOURS = 24;
export const MIN_STREAM_RETENTION_HOURS = INGEST_MAX_RECORD_AGE_HOURS + REPLAY_WINDOW_HOURS;

/** Why a stream retention leaves no replay window after a maximum record age; undefined when it does. */
export function replayWindowProblem(
  retentionHours: number,
  maxRecordAgeHours: number = INGEST_MAX_RECORD_AGE_HOURS,
): string | undefined {
  const least = maxRecordAgeHours + REPLAY_WINDOW_HOURS;
  if (retentionHours >= least) return undefined;
  return (
    `must be at least ${least} h: ingest's maximum record age (${maxRecordAgeHours} h) plus a ` +
    `${REPLAY_WINDOW_HOURS} h replay window, so that a record ingest gave up on for its age can still be ` +
    `re-driven from the stream (docs/architecture.md section 5.5); it is ${retentionHours} h`
  );
}
