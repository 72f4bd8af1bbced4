import { describe, expect, it } from 'vitest';
import {
  MAX_PAYLOAD_BYTES,
  MQTT_REJECT_REASONS,
  MqttMessageParser,
} from '../../gateway-agent/src/sources/mqtt-message.js';
import { SESSION_START_BURST, SESSION_START_REFILL_MS } from '../../gateway-agent/src/session-start-limit.js';
import { FrameDecoder } from '../../gateway-agent/src/sources/frames.js';
import { EventStamper } from '../../gateway-agent/src/stamp.js';
import { toHex } from '../../shared/src/ble/index.js';
import { eventBodySchema, eventSchema } from '../../shared/src/telemetry/events.js';
import { encodeHeartRate, encodeTreadmillData } from '../../scripts/lib/ble-encoder.js';
import { createRandom, type Random } from '../../scripts/lib/random.js';

const RX = Date.UTC(2026, 10, 24, 9, 0, 0);
const TOPIC = (kind: string, treadmill = 'tm-01', gym = 'gym-a') =>
  `gyms/${gym}/treadmills/${treadmill}/${kind}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function parser(allowlist?: string[]) {
  return new MqttMessageParser({ gymId: 'gym-a', ...(allowlist ? { treadmillAllowlist: allowlist } : {}) });
}

describe('MqttMessageParser: accepted messages', () => {
  it('turns a telemetry payload into a reading with the device clock and topic identity', () => {
    const outcome = parser().parse(
      TOPIC('telemetry'),
      json({ type: 'belt', speedKmh: 5.2, inclinePct: 1, ts: RX - 1500, gymId: 'gym-a' }),
      RX,
    );
    expect(outcome).toEqual({
      outcome: 'event',
      reading: {
        gymId: 'gym-a',
        treadmillId: 'tm-01',
        rxTs: RX,
        deviceTs: RX - 1500,
        body: { type: 'belt', speedKmh: 5.2, inclinePct: 1 },
      },
    });
  });

  it('ignores id and seq in the payload: the gateway assigns them', () => {
    const outcome = parser().parse(TOPIC('gait'), json({ type: 'step', foot: 'L', id: 'x', seq: 99 }), RX);
    expect(outcome).toMatchObject({ outcome: 'event', reading: { body: { type: 'step', foot: 'L' } } });
    if (outcome.outcome === 'event') expect(outcome.reading.body).not.toHaveProperty('seq');
  });

  it('accepts each kind with its own types', () => {
    const p = parser();
    const accepted = [
      [TOPIC('telemetry'), { type: 'hr', hrBpm: 120 }],
      [TOPIC('telemetry'), { type: 'stride', speedKmh: 4, cadenceSpm: 100 }],
      [TOPIC('status'), { type: 'machine', state: 'started' }],
      [TOPIC('status'), { type: 'heartbeat', online: true }],
      [TOPIC('session'), { type: 'session', action: 'start', userToken: 'm_0001', program: 'backward' }],
    ] as const;
    for (const [topic, payload] of accepted) expect(p.parse(topic, json(payload), RX).outcome).toBe('event');
  });

  it('decodes raw ftms frames and keeps their hex in raw', () => {
    const frame = encodeTreadmillData({ speedKmh: 4.5, inclinePct: 2 });
    const outcome = parser().parse(TOPIC('ftms'), json({ char: '2acd', hex: toHex(frame) }), RX);
    expect(outcome).toMatchObject({
      outcome: 'event',
      reading: { body: { type: 'belt', speedKmh: 4.5, inclinePct: 2 }, raw: toHex(frame) },
    });
    const hr = parser().parse(
      TOPIC('ftms'),
      json({ char: 'hrs', hex: toHex(encodeHeartRate({ hrBpm: 97 })) }),
      RX,
    );
    expect(hr).toMatchObject({ outcome: 'event', reading: { body: { type: 'hr', hrBpm: 97 } } });
  });

  it('reassembles a split Treadmill Data record per treadmill, whatever arrives in between', () => {
    const p = parser();
    const first = encodeTreadmillData({ distanceM: 1200, inclinePct: 1.5 }); // no speed: More Data = 1
    const last = encodeTreadmillData({ speedKmh: 3.1, elapsedS: 600 });
    expect(p.parse(TOPIC('ftms'), json({ char: '2acd', hex: toHex(first) }), RX)).toMatchObject({
      outcome: 'absorbed',
      treadmillId: 'tm-01',
    });
    // Another treadmill's record does not disturb tm-01's half-record.
    expect(p.parse(TOPIC('ftms', 'tm-02'), json({ char: '2acd', hex: toHex(last) }), RX).outcome).toBe(
      'event',
    );
    const merged = p.parse(TOPIC('ftms'), json({ char: '2acd', hex: toHex(last) }), RX);
    expect(merged).toMatchObject({
      outcome: 'event',
      reading: { body: { type: 'belt', speedKmh: 3.1, distanceM: 1200, inclinePct: 1.5, elapsedS: 600 } },
    });
    if (merged.outcome === 'event') expect(merged.reading.raw).toBeUndefined();
  });
});

describe('MqttMessageParser: every reject reason', () => {
  const cases: Array<[string, string, Uint8Array, string[]?]> = [
    ['bad_topic', 'gyms/gym-a/treadmills/tm-01', json({ type: 'heartbeat', online: true })],
    ['bad_topic', 'gyms/gym-a/treadmills/tm 01/status', json({ type: 'heartbeat', online: true })],
    ['wrong_gym', TOPIC('status', 'tm-01', 'gym-b'), json({ type: 'heartbeat', online: true })],
    ['not_allowlisted', TOPIC('status', 'tm-99'), json({ type: 'heartbeat', online: true }), ['tm-01']],
    ['unknown_kind', TOPIC('weather'), json({ type: 'heartbeat', online: true })],
    ['payload_too_large', TOPIC('status'), Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20)],
    ['invalid_json', TOPIC('status'), Buffer.from('{"type": "heartbeat", online')],
    ['identity_mismatch', TOPIC('status'), json({ type: 'heartbeat', online: true, treadmillId: 'tm-02' })],
    ['identity_mismatch', TOPIC('status'), json({ type: 'heartbeat', online: true, gymId: 'gym-b' })],
    ['schema_violation', TOPIC('telemetry'), json({ type: 'belt', speedKmh: -1 })],
    ['schema_violation', TOPIC('telemetry'), json([1, 2])],
    ['schema_violation', TOPIC('status'), json({ type: 'belt', speedKmh: 3 })],
    ['schema_violation', TOPIC('status'), json({ type: 'heartbeat', online: true, ts: 'yesterday' })],
    ['schema_violation', TOPIC('ftms'), json({ char: '2acd' })],
    ['decode_error', TOPIC('ftms'), json({ char: '2acd', hex: 'zz' })],
    ['decode_error', TOPIC('ftms'), json({ char: 'f00d', hex: '00' })],
    ['decode_error', TOPIC('ftms'), json({ char: '2a37', hex: '' })],
  ];
  // rate_limited needs a burst first: its own test below.
  const needsBurst = new Set(['rate_limited']);

  it.each(cases)('%s: %s', (reason, topic, payload, allowlist) => {
    const outcome = parser(allowlist).parse(topic, payload, RX);
    expect(outcome).toMatchObject({ outcome: 'rejected', reason });
    if (outcome.outcome === 'rejected') expect(outcome.detail.length).toBeGreaterThan(0);
  });

  it('covers every declared reason', () => {
    expect(new Set([...cases.map(([reason]) => reason), ...needsBurst])).toEqual(
      new Set(MQTT_REJECT_REASONS),
    );
  });

  it('names the field and why in a schema violation', () => {
    const outcome = parser().parse(TOPIC('telemetry'), json({ type: 'hr', hrBpm: 900 }), RX);
    expect(outcome).toMatchObject({ reason: 'schema_violation', detail: expect.stringContaining('hrBpm') });
  });
});

// ---- fuzz ----------------------------------------------------------------------------------------------

const VALID_PAYLOADS: ReadonlyArray<[string, unknown]> = [
  ['telemetry', { type: 'belt', speedKmh: 5, inclinePct: 1, distanceM: 100, ts: RX }],
  ['telemetry', { type: 'hr', hrBpm: 130, rrMs: [800, 810] }],
  ['telemetry', { type: 'stride', speedKmh: 4, cadenceSpm: 110, strideLengthM: 1.2 }],
  ['status', { type: 'machine', state: 'paused', errorCode: 'E1' }],
  ['status', { type: 'heartbeat', online: false, firmware: '1.2', rssi: -60 }],
  ['gait', { type: 'step', foot: 'R', strike: 'toe', contactMs: 600, stumble: true }],
  ['session', { type: 'session', action: 'end', userToken: 'm_abcd' }],
  ['ftms', { char: '2acd', hex: toHex(encodeTreadmillData({ speedKmh: 6, inclinePct: 3 })) }],
  ['ftms', { char: '2acd', hex: toHex(encodeTreadmillData({ distanceM: 10 })) }],
  ['ftms', { char: '2a37', hex: toHex(encodeHeartRate({ hrBpm: 88, rrMs: [700] })) }],
  ['ftms', { char: '2ada', hex: '04' }],
];
const KINDS = ['telemetry', 'status', 'gait', 'session', 'ftms', 'weather', ''];
const WEIRD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  Number.NaN,
  '',
  'x'.repeat(70),
  [],
  {},
  '\u0000',
  'gym-a',
];

function randomBytes(random: Random, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => random.int(0, 255));
}

function mutateObject(random: Random, value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  const keys = [...Object.keys(copy), 'gymId', 'treadmillId', 'ts', 'type', 'extra'];
  for (let n = random.int(1, 3); n > 0; n--) {
    const key = random.pick(keys);
    if (random.next() < 0.2) delete copy[key];
    else copy[key] = random.next() < 0.5 ? random.pick(WEIRD_VALUES) : random.normal(0, 1e4);
  }
  return copy;
}

function mutateBytes(random: Random, bytes: Uint8Array): Uint8Array {
  const out = [...bytes];
  for (let n = random.int(1, 4); n > 0; n--) {
    const at = random.int(0, Math.max(0, out.length - 1));
    const roll = random.next();
    if (roll < 0.4) out[at] = random.int(0, 255);
    else if (roll < 0.7) out.splice(at, random.int(1, 8));
    else out.splice(at, 0, random.int(0, 255));
  }
  return Uint8Array.from(out);
}

function randomMessage(random: Random): { topic: string; payload: Uint8Array } {
  const [validKind, validPayload] = random.pick(VALID_PAYLOADS);
  const kind = random.next() < 0.85 ? validKind : random.pick(KINDS);
  const topicRoll = random.next();
  const topic =
    topicRoll < 0.8
      ? TOPIC(kind, random.pick(['tm-01', 'tm-02', 'tm-03']))
      : topicRoll < 0.9
        ? TOPIC(
            kind,
            random.pick(['tm-01', 'bad id', '', 'x'.repeat(80)]),
            random.pick(['gym-a', 'gym-b', '+']),
          )
        : Buffer.from(randomBytes(random, random.int(0, 40))).toString('utf8');
  const payloadRoll = random.next();
  let payload: Uint8Array;
  if (payloadRoll < 0.3) payload = json(validPayload);
  else if (payloadRoll < 0.6) payload = json(mutateObject(random, validPayload as Record<string, unknown>));
  else if (payloadRoll < 0.85) payload = mutateBytes(random, json(validPayload));
  else if (payloadRoll < 0.9995) payload = randomBytes(random, random.int(0, 64));
  else payload = Buffer.alloc(MAX_PAYLOAD_BYTES + random.int(1, 100), 0x7b);
  return { topic, payload };
}

describe('fuzz', () => {
  it('classifies 100,000 random and mutated MQTT messages, each under exactly one outcome', () => {
    const random = createRandom(20261124);
    const p = new MqttMessageParser({ gymId: 'gym-a', treadmillAllowlist: ['tm-01', 'tm-02'] });
    const stamper = new EventStamper(() => 0);
    const counts = new Map<string, number>();
    const invalidEvents: string[] = [];
    const total = 100_000;
    for (let i = 0; i < total; i++) {
      const { topic, payload } = randomMessage(random);
      const outcome = p.parse(topic, payload, RX + i);
      const label = outcome.outcome === 'rejected' ? outcome.reason : outcome.outcome;
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (outcome.outcome === 'event') {
        // Every accepted message stamps into a valid canonical event.
        const check = eventSchema.safeParse(stamper.stamp(outcome.reading));
        if (!check.success) invalidEvents.push(`${topic}: ${check.error.message}`);
      }
    }
    expect(invalidEvents).toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(total);
    for (const label of counts.keys()) expect(['event', 'absorbed', ...MQTT_REJECT_REASONS]).toContain(label);
    // The generator reaches every outcome, so the property says something about each.
    expect(new Set(counts.keys())).toEqual(new Set(['event', 'absorbed', ...MQTT_REJECT_REASONS]));
  });

  it('decodes 100,000 random and mutated BLE frames without throwing', () => {
    const random = createRandom(7);
    const decoder = new FrameDecoder();
    const seeds = VALID_PAYLOADS.filter(([kind]) => kind === 'ftms').map(
      ([, payload]) => payload as { hex: string },
    );
    const counts = { event: 0, absorbed: 0, rejected: 0 };
    const unsound: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const char = random.pick(['2acd', '2ada', '2ad3', '2a37', '2a53', '2acc', '2ad4', 'ffff']);
      const frame =
        random.next() < 0.5
          ? mutateBytes(random, Buffer.from(random.pick(seeds).hex, 'hex'))
          : randomBytes(random, random.int(0, 24));
      const outcome = decoder.decode(random.pick(['AA', 'BB']), char, frame);
      counts[outcome.outcome]++;
      if (outcome.outcome === 'event' && !eventBodySchema.safeParse(outcome.body).success)
        unsound.push(`${char} ${toHex(frame)}`);
    }
    expect(unsound).toEqual([]);
    expect(counts.event + counts.absorbed + counts.rejected).toBe(100_000);
    expect(Math.min(counts.event, counts.absorbed, counts.rejected)).toBeGreaterThan(0);
  });
});

describe('MqttMessageParser: session starts per treadmill are rate-limited', () => {
  const start = json({ type: 'session', action: 'start', userToken: 'm_flap_01' });
  const started = json({ type: 'machine', state: 'started' });

  it('refuses a console spamming session starts, per treadmill, and lets them through again later', () => {
    const p = parser();
    const outcomes = Array.from({ length: 200 }, (_, i) =>
      p.parse(TOPIC(i % 2 === 0 ? 'session' : 'status'), i % 2 === 0 ? start : started, RX + i * 10),
    );
    const accepted = outcomes.filter((outcome) => outcome.outcome === 'event').length;
    expect(accepted).toBe(SESSION_START_BURST);
    expect(outcomes.at(-1)).toMatchObject({ outcome: 'rejected', reason: 'rate_limited' });
    // Another treadmill is not affected; this one gets a start again once the bucket has refilled.
    expect(p.parse(TOPIC('session', 'tm-02'), start, RX + 2_000)).toMatchObject({ outcome: 'event' });
    expect(p.parse(TOPIC('session'), start, RX + 2_000 + SESSION_START_REFILL_MS)).toMatchObject({
      outcome: 'event',
    });
    // Only what opens a session is limited: readings flow on.
    expect(p.parse(TOPIC('telemetry'), json({ type: 'belt', speedKmh: 3 }), RX + 3_000)).toMatchObject({
      outcome: 'event',
    });
  });
});
