import { describe, expect, it } from 'vitest';
import { encodeTreadmillData } from '../../scripts/lib/ble-encoder.js';
import {
  decodeTreadmillData,
  FtmsReassembler,
  mergeTreadmillFragments,
  normalizeReading,
  parseHex,
} from '../../shared/src/ble/index.js';
import { eventBodySchema } from '../../shared/src/telemetry/index.js';
import { expectDecodeError } from '../support/expect-decode-error.js';

/** docs/domain.md 1.7: 10.0 km/h, avg 9.5, 1234 m, 2.0 %, ramp atan(0.02) = 1.1°, HR 140, 600 s. */
const DOMAIN_FRAME = '0e 05 e8 03 b6 03 d2 04 00 14 00 0b 00 8c 58 02';
const DOMAIN_VALUES = {
  speedKmh: 10,
  avgSpeedKmh: 9.5,
  distanceM: 1234,
  inclinePct: 2,
  rampDeg: 1.1,
  hrBpm: 140,
  elapsedS: 600,
};

describe('Treadmill Data (0x2ACD)', () => {
  it('decodes the docs/domain.md 1.7 reference frame exactly', () => {
    expect(decodeTreadmillData(parseHex(DOMAIN_FRAME))).toEqual({
      kind: 'ftms',
      flags: 0x050e,
      moreData: false,
      partial: false,
      warnings: [],
      ...DOMAIN_VALUES,
    });
  });

  it('the test encoder reproduces the reference frame byte for byte', () => {
    expect(encodeTreadmillData(DOMAIN_VALUES)).toEqual(parseHex(DOMAIN_FRAME));
  });

  it('reads speed only when More Data (bit 0) is clear', () => {
    const withSpeed = decodeTreadmillData(parseHex('00 00 e8 03'));
    expect(withSpeed).toMatchObject({ moreData: false, speedKmh: 10, partial: false });
    const fragment = decodeTreadmillData(parseHex('03 00 b6 03'));
    expect(fragment).toMatchObject({ moreData: true, avgSpeedKmh: 9.5, partial: false, warnings: [] });
    expect(fragment.speedKmh).toBeUndefined();
  });

  it('decodes a signed incline and negative force/power', () => {
    const frame = encodeTreadmillData({
      speedKmh: 3,
      inclinePct: -3.5,
      rampDeg: -2,
      forceN: -40,
      powerW: -12,
    });
    expect(decodeTreadmillData(frame)).toMatchObject({
      inclinePct: -3.5,
      rampDeg: -2,
      forceN: -40,
      powerW: -12,
    });
  });

  describe('pace width (docs/domain.md 1.3)', () => {
    const values = { speedKmh: 12, elapsedS: 300 };

    it('uses the 2017 uint8 width when it makes the length add up', () => {
      const frame = encodeTreadmillData(
        { ...values, paceKmMin: 0.2, avgPaceKmMin: 0.1 },
        { paceWidth: 'uint8' },
      );
      expect(decodeTreadmillData(frame)).toMatchObject({
        ...values,
        paceKmMin: 0.2,
        avgPaceKmMin: 0.1,
        paceWidth: 'uint8',
        warnings: [],
      });
    });

    it('retries with the GSS uint16 width when uint8 leaves bytes over', () => {
      const frame = encodeTreadmillData({ ...values, paceSPer500m: 150 }, { paceWidth: 'uint16' });
      const reading = decodeTreadmillData(frame);
      expect(reading).toMatchObject({ ...values, paceSPer500m: 150, paceWidth: 'uint16', warnings: [] });
      expect(reading.paceKmMin).toBeUndefined();
    });

    it('keeps uint8 and warns about trailing bytes when neither width fits', () => {
      const frame = parseHex('20 00 e8 03 05 aa bb cc');
      const reading = decodeTreadmillData(frame);
      expect(reading).toMatchObject({ paceWidth: 'uint8', paceKmMin: 0.5, partial: false });
      expect(reading.warnings).toEqual(['3 trailing byte(s) after the last known field ignored']);
    });

    it('reports no width when no pace field is present', () => {
      expect(decodeTreadmillData(parseHex(DOMAIN_FRAME)).paceWidth).toBeUndefined();
    });
  });

  describe('vendor quirks (docs/domain.md 1.6)', () => {
    it('leaves out Life Fitness 0x7FFF in unsigned fields and 0xFFFF/0xFF energy sentinels', () => {
      // speed 6.00, elevation gain 1.2 m / loss 0x7FFF, incline 1.0 % / ramp 0x7FFF, energy 45 / 0xFFFF / 0xFF
      const frame = parseHex('98 00 58 02 0a 00 ff 7f 0c 00 ff 7f 2d 00 ff ff ff');
      const reading = decodeTreadmillData(frame);
      expect(reading).toMatchObject({
        speedKmh: 6,
        inclinePct: 1,
        elevationGainM: 1.2,
        energyKcal: 45,
        partial: false,
        warnings: [],
      });
      for (const absent of ['rampDeg', 'elevationLossM', 'energyPerHourKcal', 'energyPerMinuteKcal'] as const)
        expect(reading[absent]).toBeUndefined();
    });

    it('leaves out 0xFFFF and 0x7FFF sentinels in force, power and elapsed time', () => {
      const reading = decodeTreadmillData(parseHex('00 10 e8 03 ff 7f ff 7f'));
      expect(reading).toMatchObject({ speedKmh: 10, partial: false, warnings: [] });
      expect(reading.forceN).toBeUndefined();
      expect(reading.powerW).toBeUndefined();
      expect(decodeTreadmillData(parseHex('00 04 e8 03 ff ff')).elapsedS).toBeUndefined();
    });

    it('treats heart rate 0 as no contact: left out', () => {
      const reading = decodeTreadmillData(parseHex('00 01 e8 03 00'));
      expect(reading).toMatchObject({ speedKmh: 10, partial: false, warnings: [] });
      expect(reading.hrBpm).toBeUndefined();
    });

    it('decodes the known fields and warns when reserved flag bits are set', () => {
      const reading = decodeTreadmillData(parseHex('00 a0 e8 03 01 02'));
      expect(reading).toMatchObject({ speedKmh: 10, partial: false });
      expect(reading.warnings).toEqual([
        'reserved flag bits set (0xa000); decoded the known fields',
        '2 trailing byte(s) after the last known field ignored',
      ]);
    });

    it('Matrix promising every field in 20 bytes: partial, naming the field that ran out', () => {
      const frame = parseHex('9e 1f e8 03 b6 03 d2 04 00 14 00 0b 00 0a 00 05 00 2d 00 58');
      expect(frame.length).toBe(20);
      const reading = decodeTreadmillData(frame);
      expect(reading).toMatchObject({
        speedKmh: 10,
        avgSpeedKmh: 9.5,
        distanceM: 1234,
        elevationGainM: 1,
        elevationLossM: 0.5,
        energyKcal: 45,
        partial: true,
      });
      expect(reading.error).toMatch(/^frame ended inside energyPerHourKcal\b/);
      expect(reading.hrBpm).toBeUndefined();
    });

    it('a frame with flags only, promising speed, is partial in speedKmh', () => {
      const reading = decodeTreadmillData(parseHex('00 00'));
      expect(reading).toMatchObject({ partial: true, moreData: false });
      expect(reading.error).toMatch(/inside speedKmh/);
    });

    it('Matrix TouchXL split record (20 B + 14 B) merges into one reading', () => {
      const first = encodeTreadmillData({
        avgSpeedKmh: 5.2,
        distanceM: 800,
        inclinePct: 4,
        rampDeg: 2.3,
        elevationGainM: 12.5,
        elevationLossM: 0,
        energyKcal: 61,
        energyPerHourKcal: 420,
        energyPerMinuteKcal: 7,
      });
      const last = encodeTreadmillData({
        speedKmh: 5.5,
        hrBpm: 121,
        met: 5.4,
        elapsedS: 540,
        remainingS: 1260,
        forceN: 30,
        powerW: 85,
      });
      expect([first.length, last.length]).toEqual([20, 14]);
      const merged = mergeTreadmillFragments([first, last]);
      expect(merged).toEqual({
        kind: 'ftms',
        flags: 0x1f9e,
        moreData: false,
        partial: false,
        warnings: [],
        speedKmh: 5.5,
        avgSpeedKmh: 5.2,
        distanceM: 800,
        inclinePct: 4,
        rampDeg: 2.3,
        elevationGainM: 12.5,
        elevationLossM: 0,
        energyKcal: 61,
        energyPerHourKcal: 420,
        energyPerMinuteKcal: 7,
        hrBpm: 121,
        met: 5.4,
        elapsedS: 540,
        remainingS: 1260,
        forceN: 30,
        powerW: 85,
      });
    });
  });

  describe('hopeless input', () => {
    it('throws DecodeError for an empty frame and a frame shorter than its flags', () => {
      expectDecodeError(() => decodeTreadmillData(new Uint8Array()), 'empty-frame');
      expectDecodeError(() => decodeTreadmillData(parseHex('0e')), 'too-short');
    });
  });

  describe('merging fragments', () => {
    const first = encodeTreadmillData({ distanceM: 100 });
    const last = encodeTreadmillData({ speedKmh: 4 });

    it('throws DecodeError for no fragments', () => {
      expectDecodeError(() => mergeTreadmillFragments([]), 'no-fragments');
    });

    it('marks the record partial when the last fragment still has More Data = 1', () => {
      const merged = mergeTreadmillFragments([first, encodeTreadmillData({ elapsedS: 9 })]);
      expect(merged).toMatchObject({ distanceM: 100, elapsedS: 9, moreData: true, partial: true });
      expect(merged.error).toMatch(/More Data = 1/);
    });

    it('warns about a field sent twice and a More Data = 0 fragment before the last', () => {
      const merged = mergeTreadmillFragments([encodeTreadmillData({ speedKmh: 3 }), last]);
      expect(merged).toMatchObject({ speedKmh: 4, partial: false });
      expect(merged.warnings).toEqual([
        'fragment 1: More Data = 0 before the last fragment',
        'fragment 2: speedKmh sent again; kept this value',
      ]);
    });

    it('carries a fragment’s partial error, prefixed with its position', () => {
      const merged = mergeTreadmillFragments([first.subarray(0, 4), last]);
      expect(merged).toMatchObject({ speedKmh: 4, partial: true });
      expect(merged.error).toMatch(/^fragment 1: frame ended inside distanceM/);
    });
  });

  describe('FtmsReassembler', () => {
    const first = encodeTreadmillData({ distanceM: 100, elapsedS: 60 });
    const last = encodeTreadmillData({ speedKmh: 4, hrBpm: 99 });

    it('emits the merged record when the last fragment arrives, then starts over', () => {
      const reassembler = new FtmsReassembler();
      expect(reassembler.push(first)).toBeUndefined();
      expect(reassembler.pendingFragments).toBe(1);
      expect(reassembler.push(last)).toMatchObject({ speedKmh: 4, hrBpm: 99, distanceM: 100, elapsedS: 60 });
      expect(reassembler.pendingFragments).toBe(0);
      expect(reassembler.push(last)).toEqual(decodeTreadmillData(last));
    });

    it('copies fragments, so a reused notification buffer does not corrupt the record', () => {
      const reassembler = new FtmsReassembler();
      const buffer = Uint8Array.from(first);
      reassembler.push(buffer);
      buffer.fill(0xff);
      expect(reassembler.push(last)).toMatchObject({ distanceM: 100 });
    });

    it('reset() drops a half-received record (FTMS §4.18)', () => {
      const reassembler = new FtmsReassembler();
      reassembler.push(first);
      reassembler.reset();
      const record = reassembler.push(last);
      expect(record?.distanceM).toBeUndefined();
      expect(record?.warnings).toEqual([]);
    });

    it('bounds pending fragments and says how many it discarded', () => {
      const reassembler = new FtmsReassembler(2);
      for (let i = 0; i < 5; i++) reassembler.push(first);
      expect(reassembler.pendingFragments).toBe(1);
      const record = reassembler.push(last);
      expect(record?.warnings).toContain('4 earlier fragment(s) discarded: no last fragment followed them');
    });

    it('throws DecodeError for a frame too short to hold its flags', () => {
      expectDecodeError(() => new FtmsReassembler().push(parseHex('01')), 'too-short');
    });
  });

  describe('normalised to a belt event body', () => {
    it('maps the reference frame to a valid belt body without a direction', () => {
      const body = normalizeReading(decodeTreadmillData(parseHex(DOMAIN_FRAME)));
      expect(body).toEqual({
        type: 'belt',
        speedKmh: 10,
        inclinePct: 2,
        distanceM: 1234,
        elapsedS: 600,
        hrBpm: 140,
      });
      expect(eventBodySchema.safeParse(body).success).toBe(true);
    });

    it('carries energy, MET, power and force', () => {
      const frame = encodeTreadmillData({ speedKmh: 5, energyKcal: 80, met: 4.5, forceN: 20, powerW: 60 });
      expect(normalizeReading(decodeTreadmillData(frame))).toEqual({
        type: 'belt',
        speedKmh: 5,
        energyKcal: 80,
        met: 4.5,
        forceN: 20,
        powerW: 60,
      });
    });

    it('gives no body for a fragment without speed', () => {
      expect(normalizeReading(decodeTreadmillData(encodeTreadmillData({ distanceM: 5 })))).toBeUndefined();
    });

    it('drops values outside the event schema instead of the whole reading', () => {
      const frame = encodeTreadmillData({ speedKmh: 5, hrBpm: 12, inclinePct: 45 });
      expect(normalizeReading(decodeTreadmillData(frame))).toEqual({ type: 'belt', speedKmh: 5 });
      expect(normalizeReading(decodeTreadmillData(encodeTreadmillData({ speedKmh: 55 })))).toBeUndefined();
    });
  });
});
