/** `retrostride decode <kind> HEX [HEX...]`: one BLE notification (or the fragments of one record) as JSON. */
import {
  CHARACTERISTIC_KINDS,
  CHARACTERISTIC_UUIDS,
  type CharacteristicKind,
  DecodeError,
  decodeCharacteristic,
  parseHex,
  resolveCharacteristic,
} from '../../shared/src/ble/index.js';
import { type Command, parseCommandArgs, UsageError } from '../lib/command.js';

const TITLES: Record<CharacteristicKind, string> = {
  ftms: 'Treadmill Data',
  'ftms-status': 'Fitness Machine Status',
  'training-status': 'Training Status',
  'speed-range': 'Supported Speed Range',
  feature: 'Fitness Machine Feature',
  hrs: 'Heart Rate Measurement',
  rsc: 'RSC Measurement',
};

const KIND_LINES = CHARACTERISTIC_KINDS.map(
  (kind, index) =>
    `  ${index === 0 ? 'kind' : '    '}   ${kind.padEnd(16)} ${TITLES[kind]} (0x${CHARACTERISTIC_UUIDS[kind]})`,
);

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'Decode a BLE FTMS / HRS / RSC notification from hex to JSON',
  usage: [
    'decode <kind> HEX [HEX...]',
    '',
    ...KIND_LINES,
    '         (the 16-bit UUID, e.g. 2acd, works as kind too)',
    '  HEX    the notification bytes; spaces and colons allowed inside a quoted argument.',
    '         Several HEX arguments are the fragments of one split Treadmill Data record, merged.',
    '',
    'Prints one JSON object. Exit 0 when decoded, even partially (see "partial" and "error");',
    'exit 2 when nothing can be decoded.',
    '',
    'Example: retrostride decode ftms "0e 05 e8 03 b6 03 d2 04 00 14 00 0b 00 8c 58 02"',
  ].join('\n'),

  async run(argv: string[]): Promise<number> {
    const { positionals } = parseCommandArgs(argv, {}, true);
    const [name, ...hexes] = positionals;
    if (name === undefined) throw new UsageError('missing <kind> (try --help)');
    const kind = resolveCharacteristic(name);
    if (kind === undefined)
      throw new UsageError(`unknown kind "${name}" (expected one of ${CHARACTERISTIC_KINDS.join(', ')})`);
    if (hexes.length === 0) throw new UsageError('missing HEX: the notification bytes');
    if (kind !== 'ftms' && hexes.length > 1)
      throw new UsageError(`${kind} takes one HEX argument: quote it, e.g. "${hexes.join(' ')}"`);
    try {
      const { partial, error, warnings, ...fields } = decodeCharacteristic(kind, hexes.map(parseHex));
      // The outcome last, where a reader of the terminal looks for it.
      console.log(JSON.stringify({ ...fields, partial, error, warnings }, null, 2));
      return 0;
    } catch (error) {
      if (error instanceof DecodeError) throw new UsageError(error.message);
      throw error;
    }
  },
};
