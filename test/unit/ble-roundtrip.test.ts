import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeHeartRate,
  encodeRsc,
  encodeTreadmillData,
  type TreadmillValues,
} from '../../scripts/lib/ble-encoder.js';
import {
  decodeHeartRate,
  decodeRsc,
  decodeTreadmillData,
  FtmsReassembler,
  mergeTreadmillFragments,
  type PaceWidth,
  TREADMILL_FIELDS,
  type TreadmillData,
} from '../../shared/src/ble/index.js';

// Raw wire values, sentinels excluded: the encoder writes a sentinel for a field left out of a present group.
const uint8 = fc.integer({ min: 0, max: 0xfe });
const uint16 = fc.integer({ min: 0, max: 0xfffe }).filter((raw) => raw !== 0x7fff);
const sint16 = fc.integer({ min: -0x8000, max: 0x7ffe });
const uint24 = fc.integer({ min: 0, max: 0xfffffe });
const scaled = (raw: fc.Arbitrary<number>, divisor: number) => raw.map((value) => value / divisor);

const commonFields = {
  speedKmh: scaled(uint16, 100),
  avgSpeedKmh: scaled(uint16, 100),
  distanceM: uint24,
  inclinePct: scaled(sint16, 10),
  rampDeg: scaled(sint16, 10),
  elevationGainM: scaled(uint16, 10),
  elevationLossM: scaled(uint16, 10),
  energyKcal: uint16,
  energyPerHourKcal: uint16,
  energyPerMinuteKcal: uint8,
  hrBpm: fc.integer({ min: 1, max: 0xfe }),
  met: scaled(uint8, 10),
  elapsedS: uint16,
  remainingS: uint16,
  forceN: sint16,
  powerW: sint16,
};
const paceFields: Record<PaceWidth, Record<string, fc.Arbitrary<number>>> = {
  uint8: { paceKmMin: scaled(uint8, 10), avgPaceKmMin: scaled(uint8, 10) },
  uint16: { paceSPer500m: uint16, avgPaceSPer500m: uint16 },
};

const treadmillRecords = fc
  .constantFrom<PaceWidth>('uint8', 'uint16')
  .chain((paceWidth) =>
    fc
      .record({ ...commonFields, ...paceFields[paceWidth] }, { requiredKeys: [] })
      .map((values) => ({ paceWidth, values: values as TreadmillValues })),
  );

function expectFields(reading: TreadmillData, values: TreadmillValues): void {
  for (const name of TREADMILL_FIELDS) expect(reading[name], name).toBe(values[name]);
}

const PACE_FIELDS = ['paceKmMin', 'avgPaceKmMin', 'paceSPer500m', 'avgPaceSPer500m'] as const;
const hasPace = (values: TreadmillValues) => PACE_FIELDS.some((name) => values[name] !== undefined);

describe('round trips through the test encoder', () => {
  it('Treadmill Data with random flag combinations and either pace width', () => {
    fc.assert(
      fc.property(treadmillRecords, ({ paceWidth, values }) => {
        const reading = decodeTreadmillData(encodeTreadmillData(values, { paceWidth }));
        expectFields(reading, values);
        expect(reading).toMatchObject({
          partial: false,
          warnings: [],
          moreData: values.speedKmh === undefined,
        });
        expect(reading.paceWidth).toBe(hasPace(values) ? paceWidth : undefined);
      }),
      { numRuns: 1000 },
    );
  });

  it('Treadmill Data split across two fragments merges back, directly and through the reassembler', () => {
    const split = treadmillRecords.chain((record) =>
      fc.subarray([...TREADMILL_FIELDS].filter((name) => name !== 'speedKmh')).map((firstNames) => ({
        ...record,
        firstNames: new Set<string>(firstNames),
        speedKmh: record.values.speedKmh ?? 1,
      })),
    );
    fc.assert(
      fc.property(split, ({ paceWidth, values, firstNames, speedKmh }) => {
        const whole = { ...values, speedKmh };
        const pick = (inFirst: boolean) =>
          Object.fromEntries(Object.entries(whole).filter(([name]) => firstNames.has(name) === inFirst));
        const first = encodeTreadmillData(pick(true), { paceWidth });
        const last = encodeTreadmillData(pick(false), { paceWidth });
        const merged = mergeTreadmillFragments([first, last]);
        expectFields(merged, whole);
        expect(merged).toMatchObject({ partial: false, warnings: [], moreData: false });
        const reassembler = new FtmsReassembler();
        expect(reassembler.push(first)).toBeUndefined();
        expect(reassembler.push(last)).toEqual(merged);
      }),
      { numRuns: 500 },
    );
  });

  it('a Treadmill Data frame cut anywhere keeps every field read before the cut', () => {
    const cut = treadmillRecords
      .map(({ values }) => encodeTreadmillData(values, { paceWidth: 'uint8' }))
      .chain((frame) => fc.integer({ min: 2, max: frame.length }).map((length) => ({ frame, length })));
    fc.assert(
      fc.property(cut, ({ frame, length }) => {
        const full = decodeTreadmillData(frame);
        const truncated = decodeTreadmillData(frame.subarray(0, length));
        expect(truncated.partial).toBe(length < frame.length);
        if (truncated.partial) expect(truncated.error).toMatch(/^frame ended inside \w+/);
        for (const name of TREADMILL_FIELDS)
          if (truncated[name] !== undefined) expect(truncated[name]).toBe(full[name]);
      }),
      { numRuns: 1000 },
    );
  });

  it('Heart Rate Measurement', () => {
    const readings = fc.boolean().chain((uint16Format) =>
      fc
        .record(
          {
            hrBpm: fc.integer({ min: 1, max: uint16Format ? 0xffff : 0xff }),
            contact: fc.boolean(),
            energyKj: fc.integer({ min: 0, max: 0xffff }),
            rrMs: fc.array(
              fc.integer({ min: 0, max: 0xffff }).map((raw) => (raw * 1000) / 1024),
              { maxLength: 8 },
            ),
          },
          { requiredKeys: ['hrBpm'] },
        )
        .map((values) => ({ uint16Format, values })),
    );
    fc.assert(
      fc.property(readings, ({ uint16Format, values }) => {
        const reading = decodeHeartRate(encodeHeartRate(values, { uint16: uint16Format }));
        expect(reading).toMatchObject({ ...values, partial: false, warnings: [] });
        if (values.contact === undefined) expect(reading.contact).toBeUndefined();
        if (values.energyKj === undefined) expect(reading.energyKj).toBeUndefined();
        if (values.rrMs === undefined) expect(reading.rrMs).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('RSC Measurement', () => {
    const readings = fc.record(
      {
        speedKmh: fc.integer({ min: 0, max: 0xffff }).map((raw) => (raw * 3.6) / 256),
        cadenceSpm: fc.integer({ min: 0, max: 0xff }),
        strideLengthM: scaled(fc.integer({ min: 0, max: 0xffff }), 100),
        distanceM: scaled(fc.integer({ min: 0, max: 0xffffffff }), 10),
        running: fc.boolean(),
      },
      { requiredKeys: ['speedKmh', 'cadenceSpm', 'running'] },
    );
    fc.assert(
      fc.property(readings, (values) => {
        const reading = decodeRsc(encodeRsc(values));
        expect(reading).toMatchObject({ ...values, partial: false, warnings: [] });
        if (values.strideLengthM === undefined) expect(reading.strideLengthM).toBeUndefined();
        if (values.distanceM === undefined) expect(reading.distanceM).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });
});
