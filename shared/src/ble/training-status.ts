/** FTMS Training Status (0x2AD3), FTMS §4.10, Tables 4.11–4.13 (docs/domain.md 1.4). */
import {
  type DecodeOutcome,
  markEndedInside,
  requireLength,
  warnReservedBits,
  warnTrailingBytes,
} from './fields.js';

export const TRAINING_STATUS_NAMES = [
  'other',
  'idle',
  'warming_up',
  'low_intensity_interval',
  'high_intensity_interval',
  'recovery_interval',
  'isometric',
  'heart_rate_control',
  'fitness_test',
  'speed_outside_control_region_low',
  'speed_outside_control_region_high',
  'cool_down',
  'watt_control',
  'manual_mode',
  'pre_workout',
  'post_workout',
] as const;
export type TrainingStatusName = (typeof TRAINING_STATUS_NAMES)[number] | 'reserved';

export interface TrainingStatus extends DecodeOutcome {
  readonly kind: 'training-status';
  flags: number;
  code?: number;
  name?: TrainingStatusName;
  /** The status string (flag bit 0), UTF-8. */
  text?: string;
  /** Flag bit 1: the string continues beyond this notification (read the characteristic for the rest). */
  extendedString: boolean;
}

const STRING_PRESENT = 1 << 0;
const EXTENDED_STRING = 1 << 1;
const RESERVED_FLAGS = 0xfc;
const utf8 = new TextDecoder('utf-8');

export function decodeTrainingStatus(bytes: Uint8Array): TrainingStatus {
  requireLength(bytes, 1, 'training status');
  const flags = bytes[0] ?? 0;
  const status: TrainingStatus = {
    kind: 'training-status',
    flags,
    extendedString: (flags & EXTENDED_STRING) !== 0,
    partial: false,
    warnings: [],
  };
  warnReservedBits(status, flags, RESERVED_FLAGS);
  const code = bytes[1];
  if (code === undefined) {
    markEndedInside(status, 'code', 1, 1, bytes.length);
    return status;
  }
  status.code = code;
  status.name = TRAINING_STATUS_NAMES[code] ?? 'reserved';
  if (status.name === 'reserved')
    status.warnings.push(`reserved training status code 0x${code.toString(16)}`);
  if ((flags & STRING_PRESENT) !== 0) status.text = utf8.decode(bytes.subarray(2));
  else warnTrailingBytes(status, 2, bytes.length);
  return status;
}
