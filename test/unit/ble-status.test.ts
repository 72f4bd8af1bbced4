import { describe, expect, it } from 'vitest';
import {
  decodeCharacteristic,
  decodeMachineFeatures,
  decodeMachineStatus,
  decodeSpeedRange,
  decodeTrainingStatus,
  normalizeReading,
  parseHex,
  resolveCharacteristic,
  toHex,
} from '../../shared/src/ble/index.js';
import { eventBodySchema } from '../../shared/src/telemetry/index.js';
import { expectDecodeError } from '../support/expect-decode-error.js';

describe('Fitness Machine Status (0x2ADA)', () => {
  it.each([
    ['01', 'reset', 'reset'],
    ['02 01', 'stopped_or_paused_by_user', 'stopped'],
    ['02 02', 'stopped_or_paused_by_user', 'paused'],
    ['03', 'stopped_by_safety_key', 'safety_stop'],
    ['04', 'started_or_resumed_by_user', 'started'],
  ])('%s -> %s, state %s, and a machine body', (hex, opName, state) => {
    const status = decodeMachineStatus(parseHex(hex));
    expect(status).toMatchObject({ opName, state, partial: false, warnings: [] });
    const body = normalizeReading(status);
    expect(body).toEqual({ type: 'machine', state });
    expect(eventBodySchema.safeParse(body).success).toBe(true);
  });

  it('decodes target speed and incline changes into machine bodies', () => {
    const speed = decodeMachineStatus(parseHex('05 e8 03'));
    expect(speed).toMatchObject({ opCode: 5, targetSpeedKmh: 10, warnings: [] });
    expect(normalizeReading(speed)).toEqual({ type: 'machine', targetSpeedKmh: 10 });
    const incline = decodeMachineStatus(parseHex('06 ec ff'));
    expect(incline).toMatchObject({ targetInclinePct: -2 });
    expect(normalizeReading(incline)).toEqual({ type: 'machine', targetInclinePct: -2 });
  });

  it('decodes the other numeric targets, which have no event meaning', () => {
    expect(decodeMachineStatus(parseHex('0d 10 27 00'))).toMatchObject({ targetDistanceM: 10000 });
    expect(decodeMachineStatus(parseHex('15 b4 00'))).toMatchObject({ targetCadencePerMin: 90 });
    expect(normalizeReading(decodeMachineStatus(parseHex('09 8c')))).toBeUndefined();
    expect(normalizeReading(decodeMachineStatus(parseHex('ff')))).toBeUndefined();
  });

  it('reports an unknown op code with its parameter instead of failing', () => {
    const status = decodeMachineStatus(parseHex('42 01 02'));
    expect(status).toMatchObject({ opCode: 0x42, opName: 'unknown', parameterHex: '0102', partial: false });
    expect(status.warnings).toEqual(['unknown op code 0x42']);
    expect(status.state).toBeUndefined();
  });

  it('keeps parameters it does not decode as hex', () => {
    expect(decodeMachineStatus(parseHex('14 01'))).toMatchObject({
      opName: 'spin_down_status',
      parameterHex: '01',
    });
  });

  it('is partial when a parameter is missing or cut, and warns about extra bytes', () => {
    const stop = decodeMachineStatus(parseHex('02'));
    expect(stop).toMatchObject({ partial: true });
    expect(stop.error).toMatch(/inside control/);
    expect(stop.state).toBeUndefined();
    expect(decodeMachineStatus(parseHex('05 e8')).error).toMatch(/inside targetSpeedKmh/);
    expect(decodeMachineStatus(parseHex('04 00')).warnings).toEqual([
      '1 unexpected parameter byte(s) ignored',
    ]);
    expect(decodeMachineStatus(parseHex('02 07')).warnings).toEqual(['unknown stop/pause control value 0x7']);
  });

  it('throws DecodeError for an empty frame', () => {
    expectDecodeError(() => decodeMachineStatus(new Uint8Array()), 'empty-frame');
  });
});

describe('Training Status (0x2AD3)', () => {
  it('decodes code, name and the status string', () => {
    expect(decodeTrainingStatus(parseHex('01 0d 51 75 69 63 6b'))).toEqual({
      kind: 'training-status',
      flags: 1,
      code: 0x0d,
      name: 'manual_mode',
      text: 'Quick',
      extendedString: false,
      partial: false,
      warnings: [],
    });
    expect(decodeTrainingStatus(parseHex('00 0a'))).toMatchObject({
      name: 'speed_outside_control_region_high',
    });
  });

  it('warns about reserved codes and flag bits, and is partial without a code', () => {
    expect(decodeTrainingStatus(parseHex('80 20'))).toMatchObject({
      code: 0x20,
      name: 'reserved',
      warnings: [
        'reserved flag bits set (0x80); decoded the known fields',
        'reserved training status code 0x20',
      ],
    });
    const flagsOnly = decodeTrainingStatus(parseHex('00'));
    expect(flagsOnly.partial).toBe(true);
    expect(flagsOnly.error).toMatch(/inside code/);
  });

  it('has no event meaning', () => {
    expect(normalizeReading(decodeTrainingStatus(parseHex('00 01')))).toBeUndefined();
  });
});

describe('Supported Speed Range (0x2AD4)', () => {
  it('decodes minimum, maximum and increment in km/h', () => {
    expect(decodeSpeedRange(parseHex('32 00 d0 07 0a 00'))).toEqual({
      kind: 'speed-range',
      minSpeedKmh: 0.5,
      maxSpeedKmh: 20,
      incrementKmh: 0.1,
      partial: false,
      warnings: [],
    });
  });

  it('is partial when cut, warns when min > max', () => {
    const cut = decodeSpeedRange(parseHex('32 00 d0 07'));
    expect(cut).toMatchObject({ minSpeedKmh: 0.5, maxSpeedKmh: 20, partial: true });
    expect(cut.error).toMatch(/inside incrementKmh/);
    expect(decodeSpeedRange(parseHex('d0 07 32 00 0a 00')).warnings).toEqual([
      'minimum speed is above maximum speed',
    ]);
    expectDecodeError(() => decodeSpeedRange(parseHex('32')), 'too-short');
  });
});

describe('Fitness Machine Feature (0x2ACC)', () => {
  it('names the machine and target-setting features', () => {
    const features = decodeMachineFeatures(parseHex('0c 14 00 00 03 00 00 00'));
    expect(features).toMatchObject({ partial: false, warnings: [] });
    const on = (record: Record<string, boolean> | undefined) =>
      Object.entries(record ?? {})
        .filter(([, value]) => value)
        .map(([name]) => name);
    expect(on(features.machineFeatures)).toEqual([
      'totalDistance',
      'inclination',
      'heartRateMeasurement',
      'elapsedTime',
    ]);
    expect(on(features.targetSettingFeatures)).toEqual(['speedTarget', 'inclinationTarget']);
    expect(Object.keys(features.machineFeatures)).toHaveLength(17);
  });

  it('warns about reserved bits and is partial without target-setting features', () => {
    expect(decodeMachineFeatures(parseHex('00 00 02 80 00 00 00 80')).warnings).toEqual([
      'reserved machine feature bits set (0x80020000)',
      'reserved target setting bits set (0x80000000)',
    ]);
    const short = decodeMachineFeatures(parseHex('01 00 00 00'));
    expect(short).toMatchObject({ partial: true });
    expect(short.machineFeatures.averageSpeed).toBe(true);
    expect(short.error).toMatch(/inside targetSettingFeatures/);
    expectDecodeError(() => decodeMachineFeatures(parseHex('01 00')), 'too-short');
  });
});

describe('decodeCharacteristic', () => {
  const ftmsFrame = parseHex('0e 05 e8 03 b6 03 d2 04 00 14 00 0b 00 8c 58 02');

  it('resolves kind names, 16-bit UUIDs and full base UUIDs', () => {
    expect(resolveCharacteristic('ftms-status')).toBe('ftms-status');
    expect(resolveCharacteristic('2ACD')).toBe('ftms');
    expect(resolveCharacteristic('0x2a37')).toBe('hrs');
    expect(resolveCharacteristic('00002a53-0000-1000-8000-00805f9b34fb')).toBe('rsc');
    expect(resolveCharacteristic('toString')).toBeUndefined();
    expect(resolveCharacteristic('2a38')).toBeUndefined();
  });

  it.each([
    ['ftms', '2acd', '0e 05 e8 03 b6 03 d2 04 00 14 00 0b 00 8c 58 02'],
    ['ftms-status', '2ada', '03'],
    ['training-status', '2ad3', '00 01'],
    ['speed-range', '2ad4', '32 00 d0 07 0a 00'],
    ['feature', '2acc', '0c 14 00 00 03 00 00 00'],
    ['hrs', '2a37', '00 48'],
    ['rsc', '2a53', '02 c7 02 78 34 30 00 00'],
  ])('decodes %s, also by UUID %s', (kind, uuid, hex) => {
    const byName = decodeCharacteristic(kind, parseHex(hex));
    expect(byName.kind).toBe(kind);
    expect(byName.partial).toBe(false);
    expect(decodeCharacteristic(uuid, parseHex(hex))).toEqual(byName);
  });

  it('merges Treadmill Data fragments, and accepts a single fragment for every kind', () => {
    const merged = decodeCharacteristic('ftms', [parseHex('05 00 d2 04 00'), parseHex('00 00 e8 03')]);
    expect(merged).toMatchObject({ speedKmh: 10, distanceM: 1234, partial: false });
    expect(decodeCharacteristic('2acd', [ftmsFrame])).toEqual(decodeCharacteristic('ftms', ftmsFrame));
    expect(decodeCharacteristic('hrs', [parseHex('00 48')])).toMatchObject({ hrBpm: 72 });
  });

  it('throws DecodeError for an unknown kind, no frame, or fragments of an unsplittable kind', () => {
    expectDecodeError(() => decodeCharacteristic('cross-trainer', ftmsFrame), 'unknown-characteristic');
    expectDecodeError(() => decodeCharacteristic('hrs', []), 'no-fragments');
    expectDecodeError(() => decodeCharacteristic('ftms', []), 'no-fragments');
    expectDecodeError(
      () => decodeCharacteristic('hrs', [parseHex('00'), parseHex('48')]),
      'fragments-not-supported',
    );
  });
});

describe('hex', () => {
  it('accepts spaces, colons and either case', () => {
    const expected = Uint8Array.of(0x0e, 0x05, 0xe8);
    expect(parseHex('0e 05 e8')).toEqual(expected);
    expect(parseHex('0E:05:E8')).toEqual(expected);
    expect(parseHex(' 0e05e8\n')).toEqual(expected);
    expect(parseHex('')).toEqual(new Uint8Array());
  });

  it('throws DecodeError for odd length and non-hex digits', () => {
    expectDecodeError(() => parseHex('0e 5'), 'invalid-hex');
    expectDecodeError(() => parseHex('0x0e'), 'invalid-hex');
    expectDecodeError(() => parseHex('zz'), 'invalid-hex');
  });

  it('toHex writes lower-case hex that parseHex reads back', () => {
    const bytes = Uint8Array.of(0, 0x0f, 0xa0, 0xff);
    expect(toHex(bytes)).toBe('000fa0ff');
    expect(parseHex(toHex(bytes))).toEqual(bytes);
  });
});
