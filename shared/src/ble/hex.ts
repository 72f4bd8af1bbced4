/** Hex text <-> bytes, for CLI arguments, MQTT `ftms` payloads and the events' `raw` field. */
import { DecodeError } from './errors.js';

const SEPARATORS = /[\s:]/g;
const NON_HEX = /[^0-9a-fA-F]/;

/** "0e 05 e8", "0e:05:e8" and "0E05E8" give the same bytes; odd length or a non-hex digit is a DecodeError. */
export function parseHex(text: string): Uint8Array {
  const digits = text.replace(SEPARATORS, '');
  const bad = NON_HEX.exec(digits);
  if (bad)
    throw new DecodeError(
      'invalid-hex',
      `invalid hex digit ${JSON.stringify(bad[0])} in ${JSON.stringify(text)}`,
    );
  if (digits.length % 2 !== 0)
    throw new DecodeError(
      'invalid-hex',
      `odd number of hex digits (${digits.length}) in ${JSON.stringify(text)}`,
    );
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Lower-case hex without separators, the form of the canonical event's `raw` field. */
export function toHex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}
