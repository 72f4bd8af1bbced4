/**
 * One MQTT message -> an accepted reading or a rejection with a reason (docs/architecture.md section 3).
 * Never throws: whatever arrives is counted under exactly one outcome.
 */
import { type EventBody, eventBodySchema, treadmillIdSchema } from '../../../shared/src/telemetry/events.js';
import { validateWith } from '../../../shared/src/telemetry/validate.js';
import type { Reading } from '../stamp.js';
import { opensSession, SessionStartLimiter } from '../session-start-limit.js';
import { FrameDecoder } from './frames.js';
import { parseHex } from '../../../shared/src/ble/index.js';

export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Topic kind -> the event types its payload may carry; `ftms` carries raw BLE frames instead. */
const TYPES_BY_KIND: Readonly<Record<string, readonly EventBody['type'][]>> = {
  telemetry: ['belt', 'hr', 'stride'],
  status: ['machine', 'heartbeat'],
  gait: ['step'],
  session: ['session'],
};
export const MQTT_KINDS = [...Object.keys(TYPES_BY_KIND), 'ftms'];

export const MQTT_REJECT_REASONS = [
  'bad_topic',
  'wrong_gym',
  'not_allowlisted',
  'unknown_kind',
  'payload_too_large',
  'invalid_json',
  'identity_mismatch',
  'schema_violation',
  'decode_error',
  'rate_limited',
] as const;
export type MqttRejectReason = (typeof MQTT_REJECT_REASONS)[number];

export type MessageOutcome =
  | { readonly outcome: 'event'; readonly reading: Reading }
  | { readonly outcome: 'absorbed'; readonly treadmillId: string; readonly note: string }
  | { readonly outcome: 'rejected'; readonly reason: MqttRejectReason; readonly detail: string };

const reject = (reason: MqttRejectReason, detail: string): MessageOutcome => ({
  outcome: 'rejected',
  reason,
  detail,
});

/** Fields of a payload that are not part of the event body: identity, the device clock, gateway-assigned ones. */
const ENVELOPE_FIELDS = new Set(['gymId', 'treadmillId', 'ts', 'rxTs', 'id', 'seq', 'raw']);

type Envelope = Omit<Reading, 'body' | 'raw'>;

export interface MqttMessageParserOptions {
  readonly gymId: string;
  readonly treadmillAllowlist?: readonly string[];
}

export class MqttMessageParser {
  readonly #allowlist: ReadonlySet<string> | undefined;
  readonly #frames = new FrameDecoder();
  readonly #starts = new SessionStartLimiter();

  constructor(private readonly options: MqttMessageParserOptions) {
    this.#allowlist = options.treadmillAllowlist && new Set(options.treadmillAllowlist);
  }

  parse(topic: string, payload: Uint8Array, rxTs: number): MessageOutcome {
    if (payload.length > MAX_PAYLOAD_BYTES)
      return reject('payload_too_large', `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
    const parts = topic.split('/');
    const [root, gymId, treadmills, treadmillId, kind] = parts;
    if (
      parts.length !== 5 ||
      root !== 'gyms' ||
      treadmills !== 'treadmills' ||
      kind === undefined ||
      gymId === undefined ||
      treadmillId === undefined
    )
      return reject('bad_topic', 'expected gyms/{gymId}/treadmills/{treadmillId}/{kind}');
    if (gymId !== this.options.gymId)
      return reject('wrong_gym', `topic gym "${gymId}" is not this gateway's gym "${this.options.gymId}"`);
    if (!treadmillIdSchema.safeParse(treadmillId).success)
      return reject('bad_topic', `invalid treadmill id "${treadmillId}"`);
    if (this.#allowlist && !this.#allowlist.has(treadmillId))
      return reject('not_allowlisted', `treadmill "${treadmillId}" is not in the allowlist`);
    if (kind !== 'ftms' && !Object.hasOwn(TYPES_BY_KIND, kind))
      return reject('unknown_kind', `kind "${kind}" (expected one of ${MQTT_KINDS.join(', ')})`);

    let document: unknown;
    try {
      document = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
    } catch (error) {
      return reject('invalid_json', (error as Error).message);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document))
      return reject('schema_violation', 'payload must be a JSON object');
    const fields = document as Record<string, unknown>;
    if ('gymId' in fields && fields.gymId !== gymId)
      return reject('identity_mismatch', `payload gymId ${JSON.stringify(fields.gymId)} != topic "${gymId}"`);
    if ('treadmillId' in fields && fields.treadmillId !== treadmillId)
      return reject(
        'identity_mismatch',
        `payload treadmillId ${JSON.stringify(fields.treadmillId)} != topic "${treadmillId}"`,
      );

    const { ts } = fields;
    if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts)))
      return reject('schema_violation', 'ts: expected epoch milliseconds');
    const envelope = { gymId, treadmillId, rxTs, ...(ts === undefined ? {} : { deviceTs: ts }) };
    const outcome = kind === 'ftms' ? this.#frame(envelope, fields) : this.#body(envelope, kind, fields);
    if (
      outcome.outcome === 'event' &&
      opensSession(outcome.reading.body) &&
      !this.#starts.allow(treadmillId, rxTs)
    )
      return reject('rate_limited', `session starts of ${treadmillId} beyond the allowed rate`);
    return outcome;
  }

  #body(envelope: Envelope, kind: string, fields: Record<string, unknown>): MessageOutcome {
    const bodyFields = Object.fromEntries(
      Object.entries(fields).filter(([name]) => !ENVELOPE_FIELDS.has(name)),
    );
    const body = validateWith(eventBodySchema, bodyFields);
    if (!body.ok) return reject('schema_violation', body.reason);
    const allowed = TYPES_BY_KIND[kind] ?? [];
    if (!allowed.includes(body.value.type))
      return reject(
        'schema_violation',
        `type "${body.value.type}" does not belong on kind "${kind}" (expected ${allowed.join(', ')})`,
      );
    return { outcome: 'event', reading: { ...envelope, body: body.value } };
  }

  #frame(envelope: Envelope, fields: Record<string, unknown>): MessageOutcome {
    const { char, hex } = fields;
    if (typeof char !== 'string' || typeof hex !== 'string')
      return reject('schema_violation', 'ftms payload must be { "char": "2acd", "hex": "..." }');
    let frame: Uint8Array;
    try {
      frame = parseHex(hex);
    } catch (error) {
      return reject('decode_error', (error as Error).message);
    }
    const decoded = this.#frames.decode(envelope.treadmillId, char, frame);
    switch (decoded.outcome) {
      case 'rejected':
        return reject(decoded.reason, decoded.detail);
      case 'absorbed':
        return { outcome: 'absorbed', treadmillId: envelope.treadmillId, note: decoded.note };
      case 'event':
        return {
          outcome: 'event',
          reading: {
            ...envelope,
            body: decoded.body,
            ...(decoded.raw === undefined ? {} : { raw: decoded.raw }),
          },
        };
    }
  }
}
