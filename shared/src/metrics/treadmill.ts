/**
 * The treadmill-level domain (docs/architecture.md section 5): from the stored state of one treadmill and a batch of its
 * events (in seq order), decide where sessions begin and end, reduce each session's events, and produce the
 * treadmill's new live state. Pure and deterministic: a replay of the same events from the same state gives
 * the same sessions, ids included.
 *
 * Session boundaries:
 * - start: a session start event, a machine start, or the first movement while no session is open;
 * - end: a session end, a machine stop, a session start with another member's token, 5 minutes without
 *   movement (by event time here; by wall clock in `sweepTreadmill`).
 *
 * Seq counts within a spool epoch (docs/architecture.md sections 4.2 and 5.2): a gateway whose spool was wiped
 * starts seq at 1 again under a later epoch, so the watermark is the pair (epoch, seq).
 */
import type { Direction, TelemetryEvent } from '../telemetry/events.js';
import {
  currentDirection,
  MOVING_SPEED_KMH,
  reduceSession,
  type SessionState,
  startSession,
  type TimelineChunk,
} from './session.js';

/** A session without movement for this long is over. */
export const IDLE_TIMEOUT_MS = 5 * 60_000;
/** A treadmill without any event for this long is offline. */
export const OFFLINE_AFTER_MS = 5 * 60_000;
/** The epoch of records without one (older gateways): before every ULID in string order. */
export const LEGACY_EPOCH = '';

export type TreadmillStatus = 'in_use' | 'idle' | 'offline' | 'fault';
export type SessionEndReason = 'session_end' | 'machine_stop' | 'new_member' | 'idle';

export interface TreadmillFault {
  reason: 'safety_stop' | 'error_code';
  ts: number;
  errorCode?: string;
}

export interface TreadmillState {
  gymId: string;
  treadmillId: string;
  /** The gateway spool epoch `seqWatermark` counts in (a ULID, or LEGACY_EPOCH); earlier epochs are stale. */
  spoolEpoch: string;
  /**
   * How many times seq started again on this treadmill (a later epoch replaced one that had events). Part of
   * the ids of the sessions opened since, so that a reused seq never repeats a session id.
   */
  spoolGeneration: number;
  /** Highest event seq of `spoolEpoch` applied to this state; events at or below it are replays. */
  seqWatermark: number;
  /** Event time of the newest event seen. */
  lastSeenTs: number | null;
  /** Event time of the last belt movement (or of the open session's start): the idle clock. */
  lastMovingTs: number | null;
  /** Set by a heartbeat reporting the machine offline or by the sweeper; cleared by any later event. */
  offline: boolean;
  /** Set by a safety stop or an error code; cleared by the next machine start. */
  fault: TreadmillFault | null;
  odometerKm: number | null;
  beltHours: number | null;
  motorTempC: number | null;
  firmware: string | null;
  /** Latest belt speed reported, for the live view. */
  speedKmh: number | null;
  /** The open session's reducer state, or null between sessions. */
  session: SessionState | null;
}

export interface EndedSession {
  reason: SessionEndReason;
  state: SessionState;
}

/** A run of consecutive events that belong to the same session (or to none), with its walking direction. */
export interface EventSegment {
  sessionId: string | null;
  userToken: string | null;
  direction: Direction;
  events: TelemetryEvent[];
}

/** A treadmill's events of one spool epoch, in seq order. */
export interface EpochEvents {
  epoch: string;
  events: readonly TelemetryEvent[];
}

/** A later epoch replaced one that had events: seq starts again. */
export interface EpochChange {
  from: string;
  to: string;
}

export interface TreadmillAdvance {
  state: TreadmillState;
  /** Sessions this batch closed, in order: to finalize with the member's profile. */
  ended: EndedSession[];
  /** Ids of the sessions this batch opened, in order (some may have ended in it too). */
  opened: string[];
  /** Sessions this batch opened that are still open at its end. */
  started: SessionState[];
  /** Timeline chunks completed by this batch, to store beside their session. */
  sealedChunks: Array<{ sessionId: string; chunk: TimelineChunk }>;
  segments: EventSegment[];
  applied: number;
  /** Events not applied: replays at or below the watermark, and those of an earlier epoch. */
  skipped: number;
  /** Of `skipped`, the events of an epoch earlier than the treadmill's. */
  staleEpochEvents: number;
  epochsStarted: EpochChange[];
}

/** What `setAsideTreadmill` moved past without applying: to go to the dead-letter table. */
export interface TreadmillSetAside {
  state: TreadmillState;
  /** The events past the watermark, per epoch, in the order they would have been applied. */
  events: EpochEvents[];
  /** The session that was open, dropped with them. */
  session: SessionState | null;
  staleEpochEvents: number;
  epochsStarted: EpochChange[];
}

export interface TreadmillSweep {
  state: TreadmillState;
  ended: EndedSession[];
  wentOffline: boolean;
  changed: boolean;
}

export function emptyTreadmill(gymId: string, treadmillId: string): TreadmillState {
  return {
    gymId,
    treadmillId,
    spoolEpoch: LEGACY_EPOCH,
    spoolGeneration: 0,
    seqWatermark: 0,
    lastSeenTs: null,
    lastMovingTs: null,
    offline: false,
    fault: null,
    odometerKm: null,
    beltHours: null,
    motorTempC: null,
    firmware: null,
    speedKmh: null,
    session: null,
  };
}

/**
 * Deterministic from the data, so a replay recreates the same id. `:` cannot occur in gym or treadmill ids,
 * so the parts never run into each other. After seq started again (a later spool epoch, generation > 0) the
 * generation comes before the seq: `{gymId}:{treadmillId}:{generation}:{seq}`.
 */
export const sessionIdFor = (gymId: string, treadmillId: string, firstSeq: number, generation = 0): string =>
  generation === 0
    ? `${gymId}:${treadmillId}:${firstSeq}`
    : `${gymId}:${treadmillId}:${generation}:${firstSeq}`;

/** The seq of a session's first event, from its id (`sessionIdFor`). */
export const firstSeqOf = (sessionId: string): number =>
  Number(sessionId.slice(sessionId.lastIndexOf(':') + 1));

/** Offline wins (nothing is known), then a latched fault, then whether a session is open. */
export function treadmillStatus(state: TreadmillState): TreadmillStatus {
  if (state.offline) return 'offline';
  if (state.fault) return 'fault';
  return state.session ? 'in_use' : 'idle';
}

const isMovement = (event: TelemetryEvent): boolean =>
  (event.type === 'belt' || event.type === 'stride') && event.speedKmh >= MOVING_SPEED_KMH;

/**
 * Session boundaries depend only on event fields and the treadmill-level clock, never on reduced metrics, so
 * events are routed first and each session's run is reduced once per batch (reducing per event would copy
 * the state per event).
 */
class BatchRouter {
  readonly ended: EndedSession[] = [];
  readonly opened: string[] = [];
  readonly sealedChunks: Array<{ sessionId: string; chunk: TimelineChunk }> = [];
  readonly segments: EventSegment[] = [];
  private session: SessionState | null;
  private pending: TelemetryEvent[] = [];
  private outside: TelemetryEvent[] = [];

  /** `state` is the batch's working state: its generation may rise while the batch is routed. */
  constructor(private readonly state: TreadmillState) {
    this.session = state.session;
  }

  get open(): SessionState | null {
    return this.session;
  }

  get openUserToken(): string | undefined {
    return this.session?.userToken ?? this.pendingUserToken();
  }

  /** A session start routed to the open session but not yet reduced may have given it a member. */
  private pendingUserToken(): string | undefined {
    for (const event of this.pending) {
      if (event.type === 'session' && event.action === 'start' && event.userToken) return event.userToken;
    }
    return undefined;
  }

  openSession(event: TelemetryEvent): void {
    this.flushOutside();
    const { gymId, treadmillId } = this.state;
    const start = event.type === 'session' && event.action === 'start' ? event : undefined;
    this.session = startSession({
      sessionId: sessionIdFor(gymId, treadmillId, event.seq, this.state.spoolGeneration),
      gymId,
      treadmillId,
      startTs: event.ts,
      ...(start?.userToken !== undefined && { userToken: start.userToken }),
      ...(start?.program !== undefined && { program: start.program }),
    });
    this.opened.push(this.session.sessionId);
    this.pending = [event];
  }

  append(event: TelemetryEvent): void {
    if (this.session) this.pending.push(event);
    else this.outside.push(event);
  }

  close(reason: SessionEndReason): void {
    const state = this.reduceOpen();
    if (!state) return;
    this.ended.push({ reason, state });
    this.session = null;
  }

  /**
   * Seq starts again (a later spool epoch): what is routed so far is reduced under the old numbering, then
   * the open session, which goes on, counts from 0 too.
   */
  restartSeq(): void {
    const open = this.reduceOpen();
    if (open) this.session = { ...open, seqWatermark: 0 };
  }

  /** Reduces what is routed to the open session and returns the session still open, if any. */
  finish(): SessionState | null {
    this.flushOutside();
    return this.reduceOpen();
  }

  private reduceOpen(): SessionState | null {
    const session = this.session;
    if (!session) return null;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return session;
    const { state, sealedChunks } = reduceSession(session, events);
    for (const chunk of sealedChunks) this.sealedChunks.push({ sessionId: state.sessionId, chunk });
    this.segments.push({
      sessionId: state.sessionId,
      userToken: state.userToken ?? null,
      direction: currentDirection(state),
      events,
    });
    this.session = state;
    return state;
  }

  private flushOutside(): void {
    if (this.outside.length === 0) return;
    this.segments.push({ sessionId: null, userToken: null, direction: 'unknown', events: this.outside });
    this.outside = [];
  }
}

/** Epoch order: string order of ULIDs is time order, and the legacy epoch '' comes before all of them. */
const byEpoch = (a: EpochEvents, b: EpochEvents): number =>
  a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0;

/**
 * Walks a treadmill's runs in epoch order and hands `take` each event past the (epoch, seq) watermark, moving
 * the watermark with it. A run of an earlier epoch than the treadmill's is stale: skipped and counted. A run of
 * a later epoch starts seq again (`restart` is told, unless the treadmill never had an event: then the first
 * epoch is simply adopted).
 */
function walkEpochs(
  state: TreadmillState,
  runs: readonly EpochEvents[],
  take: (event: TelemetryEvent) => void,
  restart: () => void,
): { staleEpochEvents: number; epochsStarted: EpochChange[] } {
  let staleEpochEvents = 0;
  const epochsStarted: EpochChange[] = [];
  for (const run of [...runs].sort(byEpoch)) {
    if (run.epoch < state.spoolEpoch) {
      staleEpochEvents += run.events.length;
      continue;
    }
    if (run.epoch > state.spoolEpoch) {
      if (state.seqWatermark > 0 || state.spoolEpoch !== LEGACY_EPOCH) {
        epochsStarted.push({ from: state.spoolEpoch, to: run.epoch });
        state.spoolGeneration++;
        restart();
      }
      state.spoolEpoch = run.epoch;
      state.seqWatermark = 0;
    }
    for (const event of run.events) {
      if (event.seq <= state.seqWatermark) continue;
      state.seqWatermark = event.seq;
      take(event);
    }
  }
  return { staleEpochEvents, epochsStarted };
}

const countEvents = (runs: readonly EpochEvents[]): number =>
  runs.reduce((n, run) => n + run.events.length, 0);

/** Applies a treadmill's batch of one epoch (seq order expected; anything at or below the watermark is skipped). */
export function advanceTreadmill(
  previous: TreadmillState,
  events: readonly TelemetryEvent[],
  epoch: string = LEGACY_EPOCH,
): TreadmillAdvance {
  return advanceTreadmillEpochs(previous, [{ epoch, events }]);
}

/**
 * Applies a treadmill's batch, its epochs in epoch order whatever order they come in (each run in seq order):
 * what is past the (epoch, seq) watermark is applied, the rest skipped.
 */
export function advanceTreadmillEpochs(
  previous: TreadmillState,
  runs: readonly EpochEvents[],
): TreadmillAdvance {
  const state: TreadmillState = { ...previous, fault: previous.fault ? { ...previous.fault } : null };
  const router = new BatchRouter(state);
  let applied = 0;

  const apply = (event: TelemetryEvent): void => {
    applied++;
    const ts = event.ts;
    state.lastSeenTs = Math.max(state.lastSeenTs ?? ts, ts);
    state.offline = event.type === 'heartbeat' && !event.online;

    const idleSince = router.open ? Math.max(state.lastMovingTs ?? 0, router.open.startTs) : null;
    if (idleSince !== null && ts - idleSince >= IDLE_TIMEOUT_MS) router.close('idle');

    switch (event.type) {
      case 'session':
        if (event.action === 'start') {
          const token = router.openUserToken;
          if (router.open && token && event.userToken && event.userToken !== token)
            router.close('new_member');
          if (router.open) router.append(event);
          else {
            router.openSession(event);
            state.lastMovingTs = ts;
          }
        } else if (router.open) {
          router.append(event);
          router.close('session_end');
        } else router.append(event);
        break;
      case 'machine':
        if (event.odometerKm !== undefined) state.odometerKm = event.odometerKm;
        if (event.beltHours !== undefined) state.beltHours = event.beltHours;
        if (event.motorTempC !== undefined) state.motorTempC = event.motorTempC;
        if (event.state === 'started') state.fault = null;
        if (event.state === 'safety_stop') state.fault = { reason: 'safety_stop', ts };
        if (event.errorCode !== undefined)
          state.fault = { reason: 'error_code', ts, errorCode: event.errorCode };
        if (event.state === 'started' && !router.open) {
          router.openSession(event);
          state.lastMovingTs = ts;
        } else router.append(event);
        if (event.state === 'stopped') router.close('machine_stop');
        break;
      case 'heartbeat':
        if (event.firmware !== undefined) state.firmware = event.firmware;
        router.append(event);
        break;
      default:
        if (event.type === 'belt') state.speedKmh = event.speedKmh;
        if (isMovement(event)) {
          state.lastMovingTs = ts;
          if (!router.open) {
            router.openSession(event);
            break;
          }
        }
        router.append(event);
    }
  };
  const { staleEpochEvents, epochsStarted } = walkEpochs(state, runs, apply, () => router.restartSeq());

  state.session = router.finish();
  const started = state.session && router.opened.includes(state.session.sessionId) ? [state.session] : [];
  return {
    state,
    ended: router.ended,
    opened: router.opened,
    started,
    sealedChunks: router.sealedChunks,
    segments: router.segments,
    applied,
    skipped: countEvents(runs) - applied,
    staleEpochEvents,
    epochsStarted,
  };
}

/**
 * The poison guard's way past a batch that can never be committed (docs/architecture.md section 5.2): the
 * watermark moves past the events without applying them, and the open session is dropped with them (the
 * failure cannot be told apart between the two; both go to the dead-letter table). Nothing else changes.
 */
export function setAsideTreadmill(previous: TreadmillState, runs: readonly EpochEvents[]): TreadmillSetAside {
  const state: TreadmillState = { ...previous, session: null };
  const events: Array<{ epoch: string; events: TelemetryEvent[] }> = [];
  const { staleEpochEvents, epochsStarted } = walkEpochs(
    state,
    runs,
    (event) => {
      const last = events.at(-1);
      if (last?.epoch === state.spoolEpoch) last.events.push(event);
      else events.push({ epoch: state.spoolEpoch, events: [event] });
    },
    () => undefined,
  );
  return { state, events, session: previous.session, staleEpochEvents, epochsStarted };
}

/**
 * The wall-clock side (the sweeper, every minute): closes a session idle for 5 minutes and marks a treadmill
 * offline after 5 minutes of silence. `now` is passed in: the domain never reads the clock.
 */
export function sweepTreadmill(previous: TreadmillState, now: number): TreadmillSweep {
  const state: TreadmillState = { ...previous };
  const ended: EndedSession[] = [];
  const session = previous.session;
  if (session && now - Math.max(previous.lastMovingTs ?? 0, session.startTs) >= IDLE_TIMEOUT_MS) {
    ended.push({ reason: 'idle', state: session });
    state.session = null;
  }
  const wentOffline =
    !previous.offline && previous.lastSeenTs !== null && now - previous.lastSeenTs >= OFFLINE_AFTER_MS;
  if (wentOffline) state.offline = true;
  return { state, ended, wentOffline, changed: ended.length > 0 || wentOffline };
}
