/** Helpers for the gateway's integration tests: wait for conditions, scrape metrics, check what was shipped. */
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheus } from '../../gateway-agent/src/metrics.js';
import { findMosquitto } from '../../scripts/local/mosquitto.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';

/**
 * The tests that need Debian's mosquitto (MQTT 5, broker restart, the crash test) skip without it, so that
 * `npm test` needs only Node and npm; `.ci/run` installs it and sets REQUIRE_MOSQUITTO=1, so CI never skips.
 */
export const skipMosquitto = findMosquitto() === undefined && process.env.REQUIRE_MOSQUITTO !== '1';

/** Says in one line what `describe.skipIf(skipMosquitto)` leaves out and how to run it. */
export function warnMosquittoSkip(what: string): void {
  if (skipMosquitto)
    console.warn(`SKIPPED ${what}: mosquitto is not installed (sudo apt-get install mosquitto)`);
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function scrapeMetrics(httpUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${httpUrl}/metrics`);
  return parsePrometheus(await response.text());
}

/** Distinct events by id; fails the caller's expectations if one id carries two different events. */
export function distinctById(events: readonly TelemetryEvent[]): {
  unique: Map<string, TelemetryEvent>;
  conflicting: string[];
} {
  const unique = new Map<string, TelemetryEvent>();
  const conflicting: string[] = [];
  for (const event of events) {
    const seen = unique.get(event.id);
    if (seen === undefined) unique.set(event.id, event);
    else if (JSON.stringify(seen) !== JSON.stringify(event)) conflicting.push(event.id);
  }
  return { unique, conflicting };
}

/**
 * Per treadmill, in stream order with exact repeats of an id skipped: seq strictly increasing. Returns the
 * treadmills where it does not hold.
 */
export function orderViolations(events: readonly TelemetryEvent[]): string[] {
  const seen = new Set<string>();
  const lastSeq = new Map<string, number>();
  const violations: string[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const previous = lastSeq.get(event.treadmillId) ?? 0;
    if (event.seq <= previous) violations.push(`${event.treadmillId}: seq ${event.seq} after ${previous}`);
    lastSeq.set(event.treadmillId, event.seq);
  }
  return violations;
}
