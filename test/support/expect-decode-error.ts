import { expect } from 'vitest';
import { DecodeError } from '../../shared/src/ble/index.js';

/** Asserts that `run` throws a DecodeError with this code (and not any other exception). */
export function expectDecodeError(run: () => unknown, code: DecodeError['code']): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DecodeError);
  expect((thrown as DecodeError).code).toBe(code);
}
