/**
 * A simulated gym fleet: members arrive, walk or run forwards and backwards, and treadmills misbehave now
 * and then. Deterministic for a seed and a sequence of clock readings, so tests and benchmarks replay.
 *
 * It speaks the gym side of docs/architecture.md section 3: half of the treadmills sit behind a BLE-to-MQTT bridge and
 * publish raw FTMS notifications (kind `ftms`), the others are Wi-Fi consoles publishing JSON (`telemetry`,
 * `status`); heart-rate straps and gait sensors publish JSON on every treadmill.
 */
import { toHex } from '../../shared/src/ble/index.js';
import type { EventBody, Program } from '../../shared/src/telemetry/events.js';
import { encodeHeartRate, encodeTreadmillData } from '../lib/ble-encoder.js';
import { createRandom, type Random } from '../lib/random.js';

export interface SimulatorOptions {
  seed: number;
  gyms: number;
  treadmillsPerGym: number;
  /** Session length range in minutes. */
  sessionMinutes: [number, number];
  /** Pause between two members on one treadmill, in minutes. */
  idleMinutes: [number, number];
  /** Members per gym (pseudonymous tokens). */
  membersPerGym: number;
  /** Belt and heart-rate readings: every second live; coarser for the history (at most the 10-s dropout gap). */
  sampleMs: number;
  /** Heartbeat and machine status. */
  statusMs: number;
  /** Every n-th treadmill of a gym has a gait sensor (1: all). */
  gaitSensorEvery: number;
  /** A gait sensor records bursts of `onS` seconds every `everyS` seconds (the history's coarser rate), or all. */
  gaitBursts?: { onS: number; everyS: number };
  /** The heart rate rides in the console's belt readings instead of the strap's own messages. */
  heartRateViaConsole?: boolean;
  /** Members start sessions only within these UTC hours [open, close); always open when absent. */
  openingHoursUtc?: [number, number];
}

/** What can change while the fleet runs: the rates and the timetable (the history is coarser than live). */
export type SimulatorRates = Pick<
  SimulatorOptions,
  | 'sessionMinutes'
  | 'idleMinutes'
  | 'sampleMs'
  | 'statusMs'
  | 'gaitBursts'
  | 'heartRateViaConsole'
  | 'openingHoursUtc'
>;

export const DEFAULT_SIMULATOR_OPTIONS: SimulatorOptions = {
  seed: 1,
  gyms: 2,
  treadmillsPerGym: 12,
  sessionMinutes: [8, 25],
  idleMinutes: [0.5, 4],
  membersPerGym: 40,
  sampleMs: 1000,
  statusMs: 30_000,
  gaitSensorEvery: 1,
};

export interface SimMessage {
  topic: string;
  payload: Record<string, unknown>;
}

interface Phase {
  direction: 'forward' | 'backward';
  speedKmh: number;
  inclinePct: number;
  untilTs: number;
}

interface Walker {
  userToken: string;
  program: Program;
  phases: Phase[];
  restingHr: number;
  maxHr: number;
  strideCvPct: number;
  handrailShare: number;
}

type Mode = 'idle' | 'walking' | 'fault' | 'offline';

interface Treadmill {
  gymId: string;
  treadmillId: string;
  bridge: boolean;
  random: Random;
  mode: Mode;
  modeUntilTs: number;
  walker: Walker | null;
  speedKmh: number;
  inclinePct: number;
  hrBpm: number;
  /** Consoles that never reset their counters between members (docs/domain.md 1.6) keep counting here. */
  distanceM: number;
  energyKcal: number;
  elapsedS: number;
  odometerKm: number;
  beltHours: number;
  motorTempC: number;
  /** One treadmill per gym has a failing motor that runs hot. */
  hotMotor: boolean;
  gaitSensor: boolean;
  nextSampleTs: number;
  nextStepTs: number;
  nextStatusTs: number;
  foot: 'L' | 'R';
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const ERROR_CODES = ['E07', 'E12', 'E31'];

export class GymSimulator {
  #options: SimulatorOptions;
  readonly #treadmills: Treadmill[] = [];

  constructor(options: Partial<SimulatorOptions>, startTs: number) {
    this.#options = { ...DEFAULT_SIMULATOR_OPTIONS, ...options };
    for (let g = 1; g <= this.#options.gyms; g++) {
      for (let t = 1; t <= this.#options.treadmillsPerGym; t++) {
        const random = createRandom(this.#options.seed * 7919 + g * 1000 + t);
        this.#treadmills.push({
          gymId: gymIdOf(g),
          treadmillId: `tm-${String(t).padStart(2, '0')}`,
          bridge: t % 2 === 1,
          random,
          mode: 'idle',
          // Staggered so that members do not all arrive at once.
          modeUntilTs: startTs + random.int(0, 30_000),
          walker: null,
          speedKmh: 0,
          inclinePct: 0,
          hrBpm: 0,
          distanceM: 0,
          energyKcal: 0,
          elapsedS: 0,
          odometerKm: random.int(800, 9000),
          beltHours: random.int(100, 1500),
          motorTempC: 35,
          hotMotor: t === 3,
          gaitSensor: t % this.#options.gaitSensorEvery === 0,
          nextSampleTs: startTs + random.int(0, this.#options.sampleMs),
          nextStepTs: Number.POSITIVE_INFINITY,
          nextStatusTs: startTs + random.int(0, this.#options.statusMs),
          foot: 'L',
        });
      }
    }
  }

  get treadmills(): ReadonlyArray<{ gymId: string; treadmillId: string; bridge: boolean }> {
    return this.#treadmills;
  }

  /**
   * New rates from `nowMs` on, for the same fleet (members, counters and motors carry on): a treadmill
   * idling longer than the new idle range allows, e.g. overnight while the gym was closed, gets its next
   * member within that range.
   */
  setRates(rates: SimulatorRates, nowMs: number): void {
    // The optional rates not given fall back to their defaults (live has no bursts, no closing time).
    const {
      gaitBursts: _bursts,
      heartRateViaConsole: _hr,
      openingHoursUtc: _hours,
      ...fleet
    } = this.#options;
    this.#options = { ...fleet, ...rates };
    const [, maxIdle] = this.#options.idleMinutes;
    const { sampleMs, statusMs } = this.#options;
    for (const tm of this.#treadmills) {
      if (tm.mode === 'idle' && tm.modeUntilTs > nowMs + maxIdle * 60_000)
        tm.modeUntilTs = nowMs + tm.random.next() * maxIdle * 60_000;
      // Readings due later than the new rates allow (a status every 3 h, a gait burst to come) come sooner.
      tm.nextSampleTs = Math.min(tm.nextSampleTs, nowMs + sampleMs);
      tm.nextStatusTs = Math.min(tm.nextStatusTs, nowMs + tm.random.int(0, statusMs));
      if (tm.walker && tm.gaitSensor) tm.nextStepTs = Math.min(tm.nextStepTs, nowMs + 1000);
    }
  }

  /** Every message due up to `nowMs`, in time order per treadmill. */
  advance(nowMs: number): SimMessage[] {
    const out: SimMessage[] = [];
    for (const tm of this.#treadmills) this.#advanceTreadmill(tm, nowMs, out);
    return out;
  }

  #advanceTreadmill(tm: Treadmill, nowMs: number, out: SimMessage[]): void {
    for (;;) {
      const next = Math.min(tm.modeUntilTs, tm.nextSampleTs, tm.nextStepTs, tm.nextStatusTs);
      if (next > nowMs) return;
      if (next === tm.modeUntilTs) this.#changeMode(tm, next, out);
      else if (next === tm.nextSampleTs) this.#sample(tm, next, out);
      else if (next === tm.nextStepTs) this.#step(tm, next, out);
      else this.#status(tm, next, out);
    }
  }

  #publish(
    tm: Treadmill,
    kind: string,
    ts: number,
    body: EventBody | Record<string, unknown>,
    out: SimMessage[],
  ) {
    out.push({ topic: `gyms/${tm.gymId}/treadmills/${tm.treadmillId}/${kind}`, payload: { ...body, ts } });
  }

  #machine(tm: Treadmill, ts: number, state: 'started' | 'stopped' | 'safety_stop', out: SimMessage[]) {
    if (tm.bridge) {
      const opCode = { started: [0x04], stopped: [0x02, 0x01], safety_stop: [0x03] }[state];
      this.#publish(tm, 'ftms', ts, { char: '2ada', hex: toHex(Uint8Array.from(opCode)) }, out);
    } else {
      this.#publish(tm, 'status', ts, { type: 'machine', state }, out);
    }
  }

  #changeMode(tm: Treadmill, ts: number, out: SimMessage[]): void {
    const r = tm.random;
    const minutes = ([min, max]: [number, number]) => (min + r.next() * (max - min)) * 60_000;
    if (tm.mode === 'walking') {
      this.#endSession(tm, ts, out);
      tm.mode = 'idle';
      tm.modeUntilTs = ts + minutes(this.#options.idleMinutes);
      return;
    }
    if (tm.mode === 'offline') this.#publish(tm, 'status', ts, { type: 'heartbeat', online: true }, out);
    const opensAt = this.#nextOpening(ts);
    if (opensAt > ts) {
      // Closed: members arrive over the first hours after opening.
      tm.mode = 'idle';
      tm.modeUntilTs = opensAt + r.next() * 3 * HOUR_MS;
      return;
    }
    // An idle treadmill occasionally drops off the network (a tripped socket, a flaky bridge).
    if (tm.mode === 'idle' && r.next() < 0.02) {
      tm.mode = 'offline';
      tm.modeUntilTs = ts + minutes([6, 10]);
      return;
    }
    this.#startSession(tm, ts, minutes(this.#options.sessionMinutes), out);
  }

  #startSession(tm: Treadmill, ts: number, durationMs: number, out: SimMessage[]): void {
    const r = tm.random;
    const drawn = r.next() < 0.5 ? 'forward' : r.next() < 0.7 ? 'backward' : 'interval';
    // An FTMS console cannot tell direction (docs/domain.md 0.1): without a gait sensor the gym runs its
    // backward intervals elsewhere, and a member walks plain backward on it instead.
    const program = drawn === 'interval' && tm.bridge && !tm.gaitSensor ? 'backward' : drawn;
    const phases: Phase[] = [];
    const backwardSpeed = () => round1(1.5 + r.next() * 2);
    const forwardSpeed = () => (r.next() < 0.25 ? round1(8 + r.next() * 4) : round1(4 + r.next() * 2.5));
    if (program === 'interval') {
      for (let at = ts; at < ts + durationMs; at += 180_000) {
        const backward = phases.length % 2 === 1;
        phases.push({
          direction: backward ? 'backward' : 'forward',
          speedKmh: backward ? backwardSpeed() : round1(4 + r.next() * 2),
          inclinePct: backward ? 0 : r.int(0, 4),
          untilTs: Math.min(at + 180_000, ts + durationMs),
        });
      }
    } else {
      const backward = program === 'backward';
      phases.push({
        direction: program,
        speedKmh: backward ? backwardSpeed() : forwardSpeed(),
        // Some backward walkers push the incline past what is safe, which the alerts must catch.
        inclinePct: backward ? (r.next() < 0.1 ? 12 : r.int(0, 6)) : r.int(0, 8),
        untilTs: ts + durationMs,
      });
    }
    const age = r.int(20, 75);
    tm.walker = {
      userToken: memberTokenOf(tm.gymId, r.int(1, this.#options.membersPerGym)),
      program,
      phases,
      restingHr: r.int(58, 75),
      maxHr: 220 - age,
      strideCvPct: program === 'backward' ? 3 + r.next() * 3 : 1.5 + r.next() * 1.5,
      handrailShare: program === 'forward' ? 0.02 : 0.1 + r.next() * 0.15,
    };
    tm.mode = 'walking';
    tm.modeUntilTs = ts + durationMs;
    tm.elapsedS = 0;
    tm.hrBpm = tm.walker.restingHr;
    this.#publish(
      tm,
      'session',
      ts,
      { type: 'session', action: 'start', userToken: tm.walker.userToken, program },
      out,
    );
    this.#machine(tm, ts + 300, 'started', out);
    if (tm.gaitSensor) tm.nextStepTs = ts + 2000;
  }

  /** `ts` while members may start sessions, else the next opening time. */
  #nextOpening(ts: number): number {
    const hours = this.#options.openingHoursUtc;
    if (!hours) return ts;
    const [open, close] = hours;
    const day = Math.floor(ts / DAY_MS) * DAY_MS;
    const hour = (ts - day) / HOUR_MS;
    if (hour >= open && hour < close) return ts;
    return day + (hour < open ? 0 : DAY_MS) + open * HOUR_MS;
  }

  #endSession(tm: Treadmill, ts: number, out: SimMessage[]): void {
    tm.speedKmh = 0;
    tm.walker = null;
    tm.nextStepTs = Number.POSITIVE_INFINITY;
    this.#machine(tm, ts, 'stopped', out);
    this.#publish(tm, 'session', ts + 200, { type: 'session', action: 'end' }, out);
  }

  #phase(tm: Treadmill, ts: number): Phase | undefined {
    return tm.walker?.phases.find((phase) => ts < phase.untilTs) ?? tm.walker?.phases.at(-1);
  }

  #sample(tm: Treadmill, ts: number, out: SimMessage[]): void {
    tm.nextSampleTs = ts + this.#options.sampleMs;
    const dt = this.#options.sampleMs / 1000;
    if (tm.mode === 'offline') return;
    const r = tm.random;
    const phase = tm.mode === 'walking' ? this.#phase(tm, ts) : undefined;
    const target = phase?.speedKmh ?? 0;
    // The belt ramps towards the set speed, as a real motor does.
    tm.speedKmh = round2(
      Math.max(
        0,
        tm.speedKmh +
          Math.sign(target - tm.speedKmh) * Math.min(0.8, Math.abs(target - tm.speedKmh)) +
          (target > 0 ? r.normal(0, 0.02) : 0),
      ),
    );
    tm.inclinePct = phase?.inclinePct ?? 0;
    const walker = tm.walker;
    if (walker && phase) {
      // Heart rate follows workload with a 30-s lag; backward walking costs more (docs/domain.md 2.2).
      const effort =
        (phase.speedKmh / 12) * (phase.direction === 'backward' ? 1.5 : 1) + phase.inclinePct / 25;
      const targetHr = walker.restingHr + (walker.maxHr - walker.restingHr) * Math.min(0.95, 0.25 + effort);
      tm.hrBpm += (targetHr - tm.hrBpm) / Math.max(1, 30 / dt) + r.normal(0, 0.8);
    }
    if (tm.speedKmh === 0 && tm.mode !== 'walking') return;
    tm.elapsedS += dt;
    tm.distanceM += (tm.speedKmh / 3.6) * dt;
    tm.energyKcal += ((tm.speedKmh * 0.9 + tm.inclinePct * 0.3) / 60) * dt;
    tm.odometerKm += (tm.speedKmh / 3600) * dt;
    tm.beltHours += dt / 3600;
    // Heats with belt speed and cools towards the room with a ~8-minute time constant: a healthy motor settles
    // near 55 °C at 5 km/h, the failing one near 85 °C.
    tm.motorTempC += ((tm.hotMotor ? 0.02 : 0.008) * tm.speedKmh - (tm.motorTempC - 35) * 0.002) * dt;
    const hrBpm = walker ? Math.round(tm.hrBpm) : undefined;
    // A console with a strap receiver reports the heart rate in its own data: one reading instead of two.
    const consoleHr = this.#options.heartRateViaConsole && hrBpm !== undefined ? { hrBpm } : {};
    if (tm.bridge) {
      // Split across two notifications like a console at the default ATT MTU (FTMS 4.19).
      const fragments = [
        encodeTreadmillData({
          distanceM: Math.round(tm.distanceM),
          inclinePct: tm.inclinePct,
          energyKcal: Math.round(tm.energyKcal),
          energyPerHourKcal: Math.round(tm.speedKmh * 54),
          energyPerMinuteKcal: Math.round(tm.speedKmh * 0.9),
        }),
        encodeTreadmillData({ speedKmh: tm.speedKmh, elapsedS: tm.elapsedS, ...consoleHr }),
      ];
      for (const [i, bytes] of fragments.entries()) {
        this.#publish(tm, 'ftms', ts + i * 5, { char: '2acd', hex: toHex(bytes) }, out);
      }
    } else {
      this.#publish(
        tm,
        'telemetry',
        ts,
        {
          type: 'belt',
          speedKmh: tm.speedKmh,
          inclinePct: tm.inclinePct,
          distanceM: Math.round(tm.distanceM),
          elapsedS: tm.elapsedS,
          energyKcal: Math.round(tm.energyKcal),
          // A Wi-Fi console with a reverse mode knows its belt's direction; FTMS has no field for it.
          ...(phase && { direction: phase.direction }),
          ...consoleHr,
        },
        out,
      );
    }
    if (hrBpm !== undefined && !this.#options.heartRateViaConsole) {
      if (tm.bridge) {
        const bytes = encodeHeartRate({ hrBpm, contact: true, rrMs: [Math.round(60_000 / hrBpm)] });
        this.#publish(tm, 'ftms', ts + 400, { char: '2a37', hex: toHex(bytes) }, out);
      } else {
        this.#publish(tm, 'telemetry', ts + 400, { type: 'hr', hrBpm, contact: true }, out);
      }
    }
    // Rare faults, a few per hundred sessions: the safety key, a drive error.
    if (tm.mode === 'walking' && r.next() < dt / 30_000) {
      this.#machine(tm, ts + 100, 'safety_stop', out);
      this.#faultUntil(tm, ts, 60_000, out);
    } else if (tm.mode === 'walking' && r.next() < dt / 40_000) {
      this.#publish(
        tm,
        'status',
        ts + 100,
        { type: 'machine', state: 'stopped', errorCode: r.pick(ERROR_CODES) },
        out,
      );
      this.#faultUntil(tm, ts, 120_000, out);
    }
  }

  #faultUntil(tm: Treadmill, ts: number, durationMs: number, out: SimMessage[]): void {
    tm.walker = null;
    tm.speedKmh = 0;
    tm.nextStepTs = Number.POSITIVE_INFINITY;
    this.#publish(tm, 'session', ts + 300, { type: 'session', action: 'end' }, out);
    tm.mode = 'fault';
    tm.modeUntilTs = ts + durationMs;
  }

  #step(tm: Treadmill, ts: number, out: SimMessage[]): void {
    const walker = tm.walker;
    const phase = this.#phase(tm, ts);
    if (!walker || !phase || tm.speedKmh < 0.5) {
      tm.nextStepTs = ts + 1000;
      return;
    }
    const bursts = this.#options.gaitBursts;
    if (bursts) {
      const everyMs = bursts.everyS * 1000;
      const intoWindow = ts % everyMs;
      if (intoWindow >= bursts.onS * 1000) {
        tm.nextStepTs = ts - intoWindow + everyMs;
        return;
      }
    }
    const r = tm.random;
    const backward = phase.direction === 'backward';
    // Backward walkers keep their cadence and shorten the stride (docs/domain.md 3.3).
    const strideMs = backward ? 1250 : tm.speedKmh > 7 ? 720 : 1100 - (tm.speedKmh - 4) * 60;
    const stepMs = Math.max(250, r.normal(strideMs / 2, ((strideMs / 2) * walker.strideCvPct) / 100));
    const width = r.normal(backward ? 120 : 100, backward ? 22 : 14);
    this.#publish(
      tm,
      'gait',
      ts,
      {
        type: 'step',
        foot: tm.foot,
        contactMs: Math.round(strideMs * (backward ? 0.65 : 0.6) + r.normal(0, 15)),
        strike: backward ? 'toe' : tm.speedKmh > 7 ? 'flat' : 'heel',
        stepWidthMm: round1(Math.max(20, width)),
        copLateralMm: round1((tm.foot === 'L' ? -1 : 1) * width * 0.5 + r.normal(0, backward ? 12 : 8)),
        handrail: r.next() < walker.handrailShare,
        ...(r.next() < (backward ? 0.0015 : 0.0003) && { stumble: true }),
      },
      out,
    );
    tm.foot = tm.foot === 'L' ? 'R' : 'L';
    tm.nextStepTs = ts + Math.round(stepMs);
  }

  #status(tm: Treadmill, ts: number, out: SimMessage[]): void {
    tm.nextStatusTs = ts + this.#options.statusMs;
    if (tm.mode === 'offline') return;
    this.#publish(
      tm,
      'status',
      ts,
      { type: 'heartbeat', online: true, firmware: '2.4.1', rssi: -45 - tm.random.int(0, 30) },
      out,
    );
    this.#publish(
      tm,
      'status',
      ts + 1,
      {
        type: 'machine',
        motorTempC: round1(tm.motorTempC),
        odometerKm: round1(tm.odometerKm),
        beltHours: round1(tm.beltHours),
      },
      out,
    );
  }
}

/** `m_a_001`: the pseudonymous token of a gym's n-th simulated member. */
export const memberTokenOf = (gymId: string, n: number): string =>
  `m_${gymId.replace('gym-', '')}_${String(n).padStart(3, '0')}`;

/** gym-a ... gym-z, then gym-27 and on. */
export const gymIdOf = (index: number): string =>
  index <= 26 ? `gym-${String.fromCharCode(96 + index)}` : `gym-${index}`;

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
