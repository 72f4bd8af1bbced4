import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHARACTERISTIC_KINDS,
  type DecodedReading,
  DecodeError,
  decodeCharacteristic,
  FtmsReassembler,
  normalizeReading,
  parseHex,
} from '../../shared/src/ble/index.js';
import { eventBodySchema } from '../../shared/src/telemetry/index.js';

/** Runs `decode`; a DecodeError is an allowed outcome, any other exception fails the property. */
function decodedOrDecodeError(decode: () => DecodedReading | undefined): DecodedReading | undefined {
  try {
    return decode();
  } catch (error) {
    if (error instanceof DecodeError) return undefined;
    throw error;
  }
}

function expectSound(reading: DecodedReading): void {
  expect(Array.isArray(reading.warnings)).toBe(true);
  expect(typeof reading.error === 'string').toBe(reading.partial);
  const body = normalizeReading(reading);
  if (body !== undefined) expect(eventBodySchema.safeParse(body).error).toBeUndefined();
}

describe('random bytes never raise anything but DecodeError', () => {
  it.each(CHARACTERISTIC_KINDS)(
    '%s: decodes or throws DecodeError; its event body (if any) validates',
    (kind) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
          const reading = decodedOrDecodeError(() => decodeCharacteristic(kind, bytes));
          if (reading === undefined) return;
          expect(reading.kind).toBe(kind);
          expectSound(reading);
        }),
        { numRuns: 3000 },
      );
    },
  );

  it('Treadmill Data fragments, merged and through the reassembler', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 5 }), (fragments) => {
        const merged = decodedOrDecodeError(() => decodeCharacteristic('ftms', fragments));
        if (merged !== undefined) expectSound(merged);
        const reassembler = new FtmsReassembler();
        for (const fragment of fragments) {
          const record = decodedOrDecodeError(() => reassembler.push(fragment));
          if (record !== undefined) expectSound(record);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('any kind name and any text as hex', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), (kind, hex) => {
        decodedOrDecodeError(() => decodeCharacteristic(kind, parseHex(hex)));
      }),
      { numRuns: 3000 },
    );
  });
});
