import { describe, expect, it } from 'vitest';
import { encodeHeartRate, encodeRsc } from '../../scripts/lib/ble-encoder.js';
import { decodeHeartRate, decodeRsc, normalizeReading, parseHex } from '../../shared/src/ble/index.js';
import { eventBodySchema } from '../../shared/src/telemetry/index.js';
import { expectDecodeError } from '../support/expect-decode-error.js';

describe('Heart Rate Measurement (0x2A37)', () => {
  it('decodes a uint8 heart rate without contact support', () => {
    expect(decodeHeartRate(parseHex('00 48'))).toEqual({
      kind: 'hrs',
      flags: 0,
      hrBpm: 72,
      partial: false,
      warnings: [],
    });
  });

  it('decodes a uint16 heart rate, energy in kJ and RR intervals in ms', () => {
    // flags: uint16 HR, contact supported + detected, energy, RR; 150 bpm, 300 kJ, RR 1024 and 512 /1024 s
    const reading = decodeHeartRate(parseHex('1f 96 00 2c 01 00 04 00 02'));
    expect(reading).toMatchObject({
      hrBpm: 150,
      contact: true,
      energyKj: 300,
      rrMs: [1000, 500],
      partial: false,
    });
  });

  it('reports contact only when the sensor supports contact detection', () => {
    expect(decodeHeartRate(parseHex('04 48')).contact).toBe(false);
    expect(decodeHeartRate(parseHex('06 48')).contact).toBe(true);
    expect(decodeHeartRate(parseHex('02 48')).contact).toBeUndefined();
  });

  it('leaves out heart rate 0 (no contact)', () => {
    const reading = decodeHeartRate(parseHex('04 00'));
    expect(reading).toMatchObject({ contact: false, partial: false });
    expect(reading.hrBpm).toBeUndefined();
    expect(normalizeReading(reading)).toBeUndefined();
  });

  it('is partial when the frame ends inside a field or halfway through an RR interval', () => {
    const noValue = decodeHeartRate(parseHex('01 96'));
    expect(noValue.partial).toBe(true);
    expect(noValue.error).toMatch(/inside hrBpm/);
    const halfRr = decodeHeartRate(parseHex('10 48 00 04 00'));
    expect(halfRr).toMatchObject({ hrBpm: 72, rrMs: [1000], partial: true });
    expect(halfRr.error).toMatch(/inside rrMs/);
  });

  it('warns about reserved flag bits and bytes its flags do not explain', () => {
    expect(decodeHeartRate(parseHex('80 48')).warnings).toEqual([
      'reserved flag bits set (0x80); decoded the known fields',
    ]);
    expect(decodeHeartRate(parseHex('00 48 01')).warnings).toEqual([
      '1 trailing byte(s) after the last known field ignored',
    ]);
  });

  it('throws DecodeError for an empty frame', () => {
    expectDecodeError(() => decodeHeartRate(new Uint8Array()), 'empty-frame');
  });

  it('normalises to a valid hr body, keeping only RR intervals the schema accepts', () => {
    // RR is in 1/1024 s: these are 0, 640, 3584 and 768 units.
    const frame = encodeHeartRate({ hrBpm: 88, contact: true, rrMs: [0, 625, 3500, 750] });
    const body = normalizeReading(decodeHeartRate(frame));
    expect(body).toEqual({ type: 'hr', hrBpm: 88, rrMs: [625, 750], contact: true });
    expect(eventBodySchema.safeParse(body).success).toBe(true);
  });

  it('keeps the most recent RR intervals when a notification carries more than an event holds', () => {
    const rrMs = Array.from({ length: 40 }, (_, i) => ((512 + 4 * i) * 1000) / 1024);
    const body = normalizeReading(decodeHeartRate(encodeHeartRate({ hrBpm: 120, rrMs })));
    expect(body).toMatchObject({ type: 'hr', rrMs: rrMs.slice(-32) });
    expect(eventBodySchema.safeParse(body).success).toBe(true);
  });
});

describe('RSC Measurement (0x2A53)', () => {
  it('decodes the docs/domain.md 1.7 vector: 10 km/h, cadence 120, 1234 m, walking', () => {
    const reading = decodeRsc(parseHex('02 c7 02 78 34 30 00 00'));
    expect(reading).toMatchObject({
      cadenceSpm: 120,
      distanceM: 1234,
      running: false,
      partial: false,
      warnings: [],
    });
    expect(reading.speedKmh).toBeCloseTo((711 / 256) * 3.6, 10);
    expect(reading.speedKmh).toBeCloseTo(10, 2);
    expect(reading.strideLengthM).toBeUndefined();
  });

  it('the test encoder reproduces the docs/domain.md vector', () => {
    const values = { speedKmh: (711 / 256) * 3.6, cadenceSpm: 120, distanceM: 1234, running: false };
    expect(encodeRsc(values)).toEqual(parseHex('02 c7 02 78 34 30 00 00'));
  });

  it('decodes stride length in metres and the running bit (1 = running)', () => {
    expect(decodeRsc(parseHex('05 00 02 a0 7d 00'))).toMatchObject({
      speedKmh: 7.2,
      cadenceSpm: 160,
      strideLengthM: 1.25,
      running: true,
    });
  });

  it('is partial in the first missing field, and DecodeError only when empty', () => {
    const reading = decodeRsc(parseHex('02 c7 02 78 34 30'));
    expect(reading).toMatchObject({ cadenceSpm: 120, partial: true });
    expect(reading.error).toMatch(/inside distanceM/);
    expect(decodeRsc(parseHex('00 c7')).error).toMatch(/inside speedKmh/);
    expectDecodeError(() => decodeRsc(new Uint8Array()), 'empty-frame');
  });

  it('normalises to a valid stride body (distance has no place in it)', () => {
    const body = normalizeReading(decodeRsc(parseHex('05 00 02 a0 7d 00')));
    expect(body).toEqual({
      type: 'stride',
      speedKmh: 7.2,
      cadenceSpm: 160,
      strideLengthM: 1.25,
      running: true,
    });
    expect(eventBodySchema.safeParse(body).success).toBe(true);
  });

  it('gives no stride body without both speed and cadence', () => {
    expect(normalizeReading(decodeRsc(parseHex('00 00 02')))).toBeUndefined();
  });
});
