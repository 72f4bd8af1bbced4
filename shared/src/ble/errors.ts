/** The one exception the BLE decoders raise: for input that holds nothing decodable. */
export type DecodeErrorCode =
  | 'empty-frame'
  | 'too-short'
  | 'invalid-hex'
  | 'unknown-characteristic'
  | 'no-fragments'
  | 'fragments-not-supported';

export class DecodeError extends Error {
  override readonly name = 'DecodeError';

  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
