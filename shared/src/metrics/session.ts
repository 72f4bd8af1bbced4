/**
 * The session reducer (docs/architecture.md sections 5 and 6): `reduceSession(state, events) -> state` and
 * `finalizeSession(state, profile) -> SessionSummary`, pure and deterministic.
 *
 * Exactly-once in effect: the state keeps the highest `seq` it has applied and skips events at or below it,
 * so replaying any batch changes nothing. The state is bounded (running sums, Welford statistics, a
 * histogram of heart rate, the open chunk of the timeline) and survives a JSON round trip unchanged.
 */
import { clonePlainData } from '../plain-data.js';
import type { Direction, Program, TelemetryEvent } from '../telemetry/events.js';
import {
  addStep,
  type BalanceAccumulator,
  type BalanceBaseline,
  type BalanceScore,
  emptyBalanceAccumulator,
  scoreBalance,
  type WalkingDirection,
} from './balance.js';
import {
  accumulateCalories,
  type CalorieAccumulator,
  type CalorieTotals,
  DEFAULT_PROFILE,
  emptyCalorieAccumulator,
  finalizeCalories,
} from './calories.js';
import { addSample, emptyStats, type RunningStats } from './stats.js';

/** A gap between samples longer than this is a dropout: it is neither integrated nor counted as moving. */
export const MAX_SAMPLE_GAP_S = 10;
/** [D] Below this belt speed the member is standing, not walking. */
export const MOVING_SPEED_KMH = 0.5;
/** The timeline keeps at most one point per this many seconds. */
export const TIMELINE_STEP_S = 10;
/** Timeline points per chunk item: 5 minutes, about 1 KB stored. */
export const TIMELINE_CHUNK_POINTS = 30;
/** Heart-rate histogram bin width: zones need the member's age, known only at finalize. */
export const HR_BIN_BPM = 5;
/** Strike votes kept to infer direction from foot contacts (toe-first = backward; docs/domain.md 4.4). */
const STRIKE_WINDOW = 8;

export interface DirectionTotals {
  movingS: number;
  distanceM: number;
  elevationGainM: number;
}

/** [offsetS from start, speedKmh, inclinePct, hrBpm or null, direction code f|b|u]. */
export type TimelinePoint = [number, number, number, number | null, 'f' | 'b' | 'u'];

export interface TimelineChunk {
  index: number;
  points: TimelinePoint[];
}

export interface SessionMeta {
  sessionId: string;
  gymId: string;
  treadmillId: string;
  startTs: number;
  userToken?: string;
  program?: Program;
}

export interface SessionState extends SessionMeta {
  v: 1;
  seqWatermark: number;
  lastEventTs: number;
  /** The belt as last reported, held until the next sample closes its interval. */
  belt: { ts: number; speedKmh: number; inclinePct: number } | null;
  /** Direction reported by the source with the belt sample (a reversible belt); wins over everything else. */
  sourceDirection: Direction | null;
  /** Recent foot strikes, newest last: 't' toe-first, 'h' heel-first. */
  strikes: string;
  heartRate: { ts: number; bpm: number } | null;
  running: boolean | null;
  cadenceSpm: number | null;
  totals: Record<Direction, DirectionTotals>;
  gapS: number;
  hrStats: RunningStats;
  /** Seconds per heart-rate bin, keyed by the bin's lower bound in bpm. */
  hrSeconds: Record<string, number>;
  cadence: RunningStats;
  strideLengthM: RunningStats;
  inclineSeconds: number;
  inclineSum: number;
  calories: CalorieAccumulator;
  balance: Record<WalkingDirection, BalanceAccumulator>;
  safetyStops: Record<Direction, number>;
  stumbles: number;
  /** The treadmill's own energy counter: consoles that never reset it are handled by summing deltas. */
  vendorEnergy: { last: number; kcal: number } | null;
  timeline: TimelineChunk;
  lastTimelineSlot: number;
}

/** What one reduction produced: the new state and any timeline chunks it completed, to be stored. */
export interface SessionReduction {
  state: SessionState;
  sealedChunks: TimelineChunk[];
  applied: number;
  skipped: number;
}

const emptyTotals = (): DirectionTotals => ({ movingS: 0, distanceM: 0, elevationGainM: 0 });

export function startSession(meta: SessionMeta): SessionState {
  return {
    v: 1,
    ...meta,
    seqWatermark: 0,
    lastEventTs: meta.startTs,
    belt: null,
    sourceDirection: null,
    strikes: '',
    heartRate: null,
    running: null,
    cadenceSpm: null,
    totals: { forward: emptyTotals(), backward: emptyTotals(), unknown: emptyTotals() },
    gapS: 0,
    hrStats: emptyStats(),
    hrSeconds: {},
    cadence: emptyStats(),
    strideLengthM: emptyStats(),
    inclineSeconds: 0,
    inclineSum: 0,
    calories: emptyCalorieAccumulator(),
    balance: { forward: emptyBalanceAccumulator(), backward: emptyBalanceAccumulator() },
    safetyStops: { forward: 0, backward: 0, unknown: 0 },
    stumbles: 0,
    vendorEnergy: null,
    timeline: { index: 0, points: [] },
    lastTimelineSlot: -1,
  };
}

/**
 * Walking direction, in order of trust (docs/architecture.md section 2): the source's own belt direction, the session
 * program, then the majority of recent foot strikes, else unknown. FTMS alone cannot tell (docs/domain.md 0.1).
 */
export function currentDirection(state: SessionState): Direction {
  if (state.sourceDirection && state.sourceDirection !== 'unknown') return state.sourceDirection;
  if (state.program === 'forward' || state.program === 'backward') return state.program;
  if (state.strikes.length === 0) return 'unknown';
  let toe = 0;
  for (const strike of state.strikes) if (strike === 't') toe++;
  const heel = state.strikes.length - toe;
  return toe > heel ? 'backward' : heel > toe ? 'forward' : 'unknown';
}

/**
 * A step's own strike tells its direction better than the window, which lags a few steps behind a change;
 * the source's direction and the program still come first.
 */
function stepDirection(s: SessionState, strike: 'heel' | 'toe' | 'flat' | undefined): Direction {
  const trusted = s.sourceDirection && s.sourceDirection !== 'unknown';
  if (trusted || s.program === 'forward' || s.program === 'backward') return currentDirection(s);
  if (strike === 'toe') return 'backward';
  if (strike === 'heel') return 'forward';
  return currentDirection(s);
}

/** Closes the belt interval [belt.ts, ts): distance, moving time, calories, elevation. */
function closeBeltInterval(s: SessionState, ts: number): void {
  const belt = s.belt;
  if (!belt || ts <= belt.ts) return;
  const dtS = (ts - belt.ts) / 1000;
  if (dtS > MAX_SAMPLE_GAP_S) {
    s.gapS += dtS;
    return;
  }
  const direction = currentDirection(s);
  const totals = s.totals[direction];
  const distanceM = (belt.speedKmh / 3.6) * dtS;
  if (belt.speedKmh >= MOVING_SPEED_KMH) {
    totals.movingS += dtS;
    totals.distanceM += distanceM;
    if (belt.inclinePct > 0) totals.elevationGainM += (distanceM * belt.inclinePct) / 100;
    s.inclineSeconds += dtS;
    s.inclineSum += belt.inclinePct * dtS;
  }
  const hrFresh = s.heartRate && ts - s.heartRate.ts <= MAX_SAMPLE_GAP_S * 1000 ? s.heartRate.bpm : undefined;
  s.calories = accumulateCalories(s.calories, {
    durationS: dtS,
    speedKmh: belt.speedKmh >= MOVING_SPEED_KMH ? belt.speedKmh : 0,
    gradePct: belt.inclinePct,
    direction,
    ...(hrFresh !== undefined && { hrBpm: hrFresh }),
    ...(s.running !== null && { running: s.running }),
    ...(s.cadenceSpm !== null && { cadenceSpm: s.cadenceSpm }),
  });
  belt.ts = ts;
}

function recordHeartRate(s: SessionState, ts: number, bpm: number): void {
  const previous = s.heartRate;
  if (previous && ts > previous.ts && ts - previous.ts <= MAX_SAMPLE_GAP_S * 1000) {
    const bin = String(Math.floor(previous.bpm / HR_BIN_BPM) * HR_BIN_BPM);
    s.hrSeconds[bin] = (s.hrSeconds[bin] ?? 0) + (ts - previous.ts) / 1000;
  }
  s.hrStats = addSample(s.hrStats, bpm);
  s.heartRate = { ts, bpm };
}

function recordTimeline(s: SessionState, ts: number, sealed: TimelineChunk[]): void {
  const offsetS = Math.max(0, Math.round((ts - s.startTs) / 1000));
  const slot = Math.floor(offsetS / TIMELINE_STEP_S);
  if (slot <= s.lastTimelineSlot || !s.belt) return;
  s.lastTimelineSlot = slot;
  const chunkIndex = Math.floor(slot / TIMELINE_CHUNK_POINTS);
  if (chunkIndex !== s.timeline.index) {
    if (s.timeline.points.length > 0) sealed.push(s.timeline);
    s.timeline = { index: chunkIndex, points: [] };
  }
  const code = { forward: 'f', backward: 'b', unknown: 'u' } as const;
  s.timeline.points.push([
    offsetS,
    round2(s.belt.speedKmh),
    round2(s.belt.inclinePct),
    s.heartRate ? Math.round(s.heartRate.bpm) : null,
    code[currentDirection(s)],
  ]);
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function applyEvent(s: SessionState, event: TelemetryEvent, sealed: TimelineChunk[]): void {
  const ts = Math.max(event.ts, s.lastEventTs);
  switch (event.type) {
    case 'belt': {
      closeBeltInterval(s, ts);
      s.belt = { ts, speedKmh: event.speedKmh, inclinePct: event.inclinePct ?? s.belt?.inclinePct ?? 0 };
      if (event.direction) s.sourceDirection = event.direction;
      if (event.hrBpm !== undefined) recordHeartRate(s, ts, event.hrBpm);
      if (event.energyKcal !== undefined) {
        const last = s.vendorEnergy?.last;
        const delta =
          last === undefined ? 0 : event.energyKcal >= last ? event.energyKcal - last : event.energyKcal;
        s.vendorEnergy = { last: event.energyKcal, kcal: (s.vendorEnergy?.kcal ?? 0) + delta };
      }
      break;
    }
    case 'hr':
      recordHeartRate(s, ts, event.hrBpm);
      break;
    case 'stride':
      s.running = event.running ?? s.running;
      if (event.cadenceSpm > 0) {
        s.cadenceSpm = event.cadenceSpm;
        s.cadence = addSample(s.cadence, event.cadenceSpm);
      }
      if (event.strideLengthM !== undefined && event.strideLengthM > 0) {
        s.strideLengthM = addSample(s.strideLengthM, event.strideLengthM);
      }
      break;
    case 'step': {
      if (event.strike === 'toe' || event.strike === 'heel') {
        s.strikes = (s.strikes + (event.strike === 'toe' ? 't' : 'h')).slice(-STRIKE_WINDOW);
      }
      if (event.stumble) s.stumbles++;
      const direction = stepDirection(s, event.strike);
      if (direction !== 'unknown') {
        s.balance[direction] = addStep(s.balance[direction], {
          ts: event.ts,
          foot: event.foot,
          ...(event.contactMs !== undefined && { contactMs: event.contactMs }),
          ...(event.stepWidthMm !== undefined && { stepWidthMm: event.stepWidthMm }),
          ...(event.copLateralMm !== undefined && { copLateralMm: event.copLateralMm }),
          ...(event.handrail !== undefined && { handrail: event.handrail }),
          ...(event.stumble !== undefined && { stumble: event.stumble }),
        });
      }
      break;
    }
    case 'machine':
      if (event.state === 'safety_stop') {
        s.safetyStops[currentDirection(s)]++;
        closeBeltInterval(s, ts);
        if (s.belt) s.belt.speedKmh = 0;
      }
      break;
    case 'session':
      if (event.action === 'start') {
        if (event.userToken && !s.userToken) s.userToken = event.userToken;
        if (event.program && !s.program) s.program = event.program;
      }
      break;
    case 'heartbeat':
      break;
  }
  s.lastEventTs = ts;
  if (event.type === 'belt' || event.type === 'hr') recordTimeline(s, ts, sealed);
}

/** Applies the events above the watermark, in the order given (a treadmill's events arrive in seq order). */
export function reduceSession(state: SessionState, events: readonly TelemetryEvent[]): SessionReduction {
  // One copy per batch, then updated in place: per-event copies would dominate the cost of reduction. Timeline
  // points are appended and never changed, so the open chunk's list is copied but not each point in it.
  const { timeline, ...rest } = state;
  const s: SessionState = {
    ...clonePlainData(rest),
    timeline: { index: timeline.index, points: [...timeline.points] },
  };
  const sealedChunks: TimelineChunk[] = [];
  let applied = 0;
  for (const event of events) {
    if (event.seq <= s.seqWatermark) continue;
    s.seqWatermark = event.seq;
    applyEvent(s, event, sealedChunks);
    applied++;
  }
  return { state: s, sealedChunks, applied, skipped: events.length - applied };
}

export interface MemberProfile {
  weightKg?: number;
  birthYear?: number;
  sex?: 'male' | 'female';
  /** Personal balance references, one per direction (median of the first 3 qualifying sessions). */
  balanceBaselines?: BalanceBaseline[];
}

export interface DirectionSummary {
  movingS: number;
  distanceM: number;
  meanSpeedKmh: number | null;
}

export interface SessionSummary {
  sessionId: string;
  gymId: string;
  treadmillId: string;
  userToken: string | null;
  program: Program | null;
  startTs: number;
  endTs: number;
  durationS: number;
  movingS: number;
  gapS: number;
  forward: DirectionSummary;
  backward: DirectionSummary;
  unknownDirection: DirectionSummary;
  distanceM: number;
  backwardShare: number | null;
  meanInclinePct: number | null;
  elevationGainM: number;
  heartRate: {
    meanBpm: number | null;
    maxBpm: number | null;
    maxPredictedBpm: number;
    /** Seconds in zones 1-5 (50-60, 60-70, 70-80, 80-90, >= 90 % of age-predicted maximum). */
    zonesS: [number, number, number, number, number];
  };
  cadenceSpm: number | null;
  strideLengthM: number | null;
  calories: CalorieTotals & { treadmillKcal: number | null };
  balance: {
    /** The score of the direction with the most strides, or null. */
    score: number | null;
    direction: WalkingDirection | null;
    forward: BalanceScore;
    backward: BalanceScore;
  };
  stumbles: number;
  safetyStops: number;
  profileDefaults: string[];
}

const directionSummary = (t: DirectionTotals): DirectionSummary => ({
  movingS: round2(t.movingS),
  distanceM: round2(t.distanceM),
  meanSpeedKmh: t.movingS > 0 ? round2((t.distanceM / t.movingS) * 3.6) : null,
});

/** The session's metrics for this member (docs/architecture.md section 6); missing profile values use stated defaults. */
export function finalizeSession(state: SessionState, profile: MemberProfile = {}): SessionSummary {
  const year = new Date(state.startTs).getUTCFullYear();
  const ageYears = profile.birthYear !== undefined ? year - profile.birthYear : undefined;
  const profileDefaults = [
    ...(profile.weightKg === undefined ? ['weightKg'] : []),
    ...(ageYears === undefined ? ['birthYear'] : []),
    ...(profile.sex === undefined ? ['sex'] : []),
  ];
  const calories = finalizeCalories(state.calories, {
    ...(profile.weightKg !== undefined && { weightKg: profile.weightKg }),
    ...(ageYears !== undefined && { ageYears }),
    ...(profile.sex !== undefined && { sex: profile.sex }),
  });

  const maxPredictedBpm = 220 - (ageYears ?? DEFAULT_PROFILE.ageYears);
  const zonesS: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  for (const [bin, seconds] of Object.entries(state.hrSeconds)) {
    const fraction = (Number(bin) + HR_BIN_BPM / 2) / maxPredictedBpm;
    const zone = Math.min(4, Math.floor((fraction - 0.5) * 10));
    if (zone >= 0) zonesS[zone] = (zonesS[zone] ?? 0) + seconds;
  }

  const { forward, backward, unknown } = state.totals;
  const movingS = forward.movingS + backward.movingS + unknown.movingS;
  const distanceM = forward.distanceM + backward.distanceM + unknown.distanceM;
  const knownS = forward.movingS + backward.movingS;
  const score = (direction: WalkingDirection) =>
    scoreBalance(state.balance[direction], {
      direction,
      durationS: state.totals[direction].movingS,
      safetyStops: state.safetyStops[direction],
      baseline: profile.balanceBaselines?.find((b) => b.direction === direction),
    });
  const balanceForward = score('forward');
  const balanceBackward = score('backward');
  const main = balanceBackward.strides > balanceForward.strides ? balanceBackward : balanceForward;

  return {
    sessionId: state.sessionId,
    gymId: state.gymId,
    treadmillId: state.treadmillId,
    userToken: state.userToken ?? null,
    program: state.program ?? null,
    startTs: state.startTs,
    endTs: state.lastEventTs,
    durationS: round2((state.lastEventTs - state.startTs) / 1000),
    movingS: round2(movingS),
    gapS: round2(state.gapS),
    forward: directionSummary(forward),
    backward: directionSummary(backward),
    unknownDirection: directionSummary(unknown),
    distanceM: round2(distanceM),
    backwardShare: knownS > 0 ? round2(backward.movingS / knownS) : null,
    meanInclinePct: state.inclineSeconds > 0 ? round2(state.inclineSum / state.inclineSeconds) : null,
    elevationGainM: round2(forward.elevationGainM + backward.elevationGainM + unknown.elevationGainM),
    heartRate: {
      meanBpm: state.hrStats.n > 0 ? round2(state.hrStats.mean) : null,
      maxBpm: state.hrStats.n > 0 ? state.hrStats.max : null,
      maxPredictedBpm,
      zonesS: zonesS.map(round2) as [number, number, number, number, number],
    },
    cadenceSpm: state.cadence.n > 0 ? round2(state.cadence.mean) : null,
    strideLengthM: state.strideLengthM.n > 0 ? round2(state.strideLengthM.mean) : null,
    calories: { ...calories, treadmillKcal: state.vendorEnergy ? round2(state.vendorEnergy.kcal) : null },
    balance: {
      score: main.strides > 0 ? main.score : null,
      direction: main.strides > 0 ? main.direction : null,
      forward: balanceForward,
      backward: balanceBackward,
    },
    stumbles: state.stumbles,
    safetyStops: state.safetyStops.forward + state.safetyStops.backward + state.safetyStops.unknown,
    profileDefaults,
  };
}
