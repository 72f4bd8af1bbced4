/**
 * Session starts per treadmill, as a token bucket: a member starts a session a few times an hour at most,
 * while a console flapping between started and stopped (or a spammer) starts hundreds a minute, and each
 * start is a session, a rollup entry and a dashboard row downstream (docs/architecture.md section 3).
 */

/** Starts a treadmill may make back to back (pause, resume, a member changing program). */
export const SESSION_START_BURST = 10;
/** One more start allowed per this long, up to the burst. */
export const SESSION_START_REFILL_MS = 30_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class SessionStartLimiter {
  readonly #buckets = new Map<string, Bucket>();

  /** Whether a start of `treadmillId` at `now` may pass; takes a token when it does. */
  allow(treadmillId: string, now: number): boolean {
    const bucket = this.#buckets.get(treadmillId) ?? { tokens: SESSION_START_BURST, at: now };
    const refilled = Math.floor(Math.max(0, now - bucket.at) / SESSION_START_REFILL_MS);
    if (refilled > 0) {
      bucket.tokens = Math.min(SESSION_START_BURST, bucket.tokens + refilled);
      bucket.at += refilled * SESSION_START_REFILL_MS;
    }
    if (bucket.tokens === SESSION_START_BURST) bucket.at = now;
    this.#buckets.set(treadmillId, bucket);
    if (bucket.tokens === 0) return false;
    bucket.tokens--;
    return true;
  }
}

/** What opens a session downstream: a session start, or a console reporting that its belt started. */
export const opensSession = (body: { type: string; action?: string; state?: string }): boolean =>
  (body.type === 'session' && body.action === 'start') ||
  (body.type === 'machine' && body.state === 'started');
