/**
 * Compact storage of session reducer state. The state is ~3-4 KB of JSON; raw deflate against a preset
 * dictionary of a representative state brings it to ~450 B, which keeps the fleet item (live fields plus the
 * open session) under the 1 KB of one write unit. Plain gzip gets ~1 KB (2 write units per batch).
 *
 * Format: one version byte, then the deflated JSON. The version names the dictionary, so stored items stay
 * readable when a better dictionary is added.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { SessionState } from '../../shared/src/metrics/session.js';
import type { EndedSession } from '../../shared/src/metrics/treadmill.js';
import { STATE_DICTIONARY_V1 } from './state-codec-dictionary.js';

const DICTIONARIES: Readonly<Record<number, Buffer>> = { 1: Buffer.from(STATE_DICTIONARY_V1) };
const CURRENT_VERSION = 1;

export function packJson(value: unknown): Uint8Array {
  const dictionary = DICTIONARIES[CURRENT_VERSION]!;
  const deflated = deflateRawSync(Buffer.from(JSON.stringify(value)), { level: 9, dictionary });
  return Buffer.concat([Buffer.from([CURRENT_VERSION]), deflated]);
}

export function unpackJson(packed: Uint8Array): unknown {
  const version = packed[0];
  const dictionary = version === undefined ? undefined : DICTIONARIES[version];
  if (!dictionary) throw new Error(`unknown state codec version ${String(version)}`);
  return JSON.parse(inflateRawSync(packed.subarray(1), { dictionary }).toString('utf8'));
}

/**
 * A session that ended but is not finalized yet, as the fleet item keeps it: with the count of finalize
 * attempts that failed, so that the poison guard (functions/lib/poison-guard.ts) sees it after a retry.
 * Absent (0) in entries written before the guard: JSON keeps old entries readable.
 */
export interface PendingFinal extends EndedSession {
  failedAttempts?: number;
}

// The casts trust the store: only this codec writes these attributes.
export const packSession = (state: SessionState): Uint8Array => packJson(state);
export const unpackSession = (packed: Uint8Array): SessionState => unpackJson(packed) as SessionState;
export const packEnded = (ended: PendingFinal): Uint8Array => packJson(ended);
export const unpackEnded = (packed: Uint8Array): PendingFinal => unpackJson(packed) as PendingFinal;
