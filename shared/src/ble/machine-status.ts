/** FTMS Fitness Machine Status (0x2ADA), FTMS §4.17, Table 4.26 (docs/domain.md 1.4). */
import type { MachineState } from '../telemetry/events.js';
import {
  type DecodeOutcome,
  type FieldSpec,
  field,
  markEndedInside,
  readFields,
  requireLength,
  viewOf,
  type Wire,
} from './fields.js';
import { toHex } from './hex.js';

export type StatusTarget =
  | 'targetSpeedKmh'
  | 'targetInclinePct'
  | 'targetResistance'
  | 'targetPowerW'
  | 'targetHrBpm'
  | 'targetEnergyKcal'
  | 'targetSteps'
  | 'targetStrides'
  | 'targetDistanceM'
  | 'targetTimeS'
  | 'targetCadencePerMin';

export interface MachineStatus extends DecodeOutcome, Partial<Record<StatusTarget, number>> {
  readonly kind: 'ftms-status';
  opCode: number;
  /** snake_case name of the op code, 'unknown' for codes FTMS v1.0 does not define. */
  opName: string;
  state?: MachineState;
  /** Parameter bytes of ops whose parameter is not decoded here (heart-rate zones, bike simulation, ...). */
  parameterHex?: string;
}

interface StatusOp {
  readonly name: string;
  readonly state?: MachineState;
  /** The op's parameter, when it is one number: a one-field layout. */
  readonly target?: readonly FieldSpec<StatusTarget>[];
  /** The op carries a parameter this decoder keeps as hex. */
  readonly opaque?: boolean;
}

const STOPPED_OR_PAUSED = 0x02;
const CONTROL_STATES: Readonly<Record<number, MachineState>> = { 1: 'stopped', 2: 'paused' };

const oneNumber = (name: StatusTarget, wire: Wire, divisor = 1) => [field(name, wire, { divisor })];

const OPS: Readonly<Record<number, StatusOp>> = {
  1: { name: 'reset', state: 'reset' },
  2: { name: 'stopped_or_paused_by_user' },
  3: { name: 'stopped_by_safety_key', state: 'safety_stop' },
  4: { name: 'started_or_resumed_by_user', state: 'started' },
  5: { name: 'target_speed_changed', target: oneNumber('targetSpeedKmh', 'uint16', 100) },
  6: { name: 'target_incline_changed', target: oneNumber('targetInclinePct', 'sint16', 10) },
  7: { name: 'target_resistance_changed', target: oneNumber('targetResistance', 'uint8', 10) },
  8: { name: 'target_power_changed', target: oneNumber('targetPowerW', 'sint16') },
  9: { name: 'target_heart_rate_changed', target: oneNumber('targetHrBpm', 'uint8') },
  // FTMS expresses expended energy in "Calories", i.e. kilocalories, throughout.
  10: { name: 'targeted_expended_energy_changed', target: oneNumber('targetEnergyKcal', 'uint16') },
  11: { name: 'targeted_steps_changed', target: oneNumber('targetSteps', 'uint16') },
  12: { name: 'targeted_strides_changed', target: oneNumber('targetStrides', 'uint16') },
  13: { name: 'targeted_distance_changed', target: oneNumber('targetDistanceM', 'uint24') },
  14: { name: 'targeted_training_time_changed', target: oneNumber('targetTimeS', 'uint16') },
  15: { name: 'targeted_time_in_two_hr_zones_changed', opaque: true },
  16: { name: 'targeted_time_in_three_hr_zones_changed', opaque: true },
  17: { name: 'targeted_time_in_five_hr_zones_changed', opaque: true },
  18: { name: 'indoor_bike_simulation_changed', opaque: true },
  19: { name: 'wheel_circumference_changed', opaque: true },
  20: { name: 'spin_down_status', opaque: true },
  21: { name: 'targeted_cadence_changed', target: oneNumber('targetCadencePerMin', 'uint16', 2) },
  255: { name: 'control_permission_lost' },
};

/** An unknown op code is reported (opName 'unknown', a warning, its parameter as hex), not an error. */
export function decodeMachineStatus(bytes: Uint8Array): MachineStatus {
  requireLength(bytes, 1, 'fitness machine status');
  const opCode = bytes[0] ?? 0;
  const op = OPS[opCode];
  const status: MachineStatus = {
    kind: 'ftms-status',
    opCode,
    opName: op?.name ?? 'unknown',
    partial: false,
    warnings: [],
  };
  if (op?.state !== undefined) status.state = op.state;
  let consumed = 1;
  if (op === undefined || op.opaque) {
    if (op === undefined) status.warnings.push(`unknown op code 0x${opCode.toString(16).padStart(2, '0')}`);
    if (bytes.length > 1) status.parameterHex = toHex(bytes.subarray(1));
    consumed = bytes.length;
  } else if (op.target !== undefined) {
    consumed = readFields(viewOf(bytes), 1, 0, op.target, status);
  } else if (opCode === STOPPED_OR_PAUSED) {
    consumed = decodeControlInfo(bytes, status);
  }
  if (!status.partial && consumed < bytes.length)
    status.warnings.push(`${bytes.length - consumed} unexpected parameter byte(s) ignored`);
  return status;
}

/** Op 0x02 carries "control information": 0x01 stop, 0x02 pause (FTMS Table 4.16). */
function decodeControlInfo(bytes: Uint8Array, status: MachineStatus): number {
  const control = bytes[1];
  if (control === undefined) {
    markEndedInside(status, 'control', 1, 1, bytes.length);
    return 1;
  }
  const state = CONTROL_STATES[control];
  if (state === undefined) status.warnings.push(`unknown stop/pause control value 0x${control.toString(16)}`);
  else status.state = state;
  return 2;
}
