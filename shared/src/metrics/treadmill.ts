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
  /** Highest event seq applied to this state; events at or below it are replays. */
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
  skipped: number;
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
 * so the parts never run into each other.
 */
export const sessionIdFor = (gymId: string, treadmillId: string, firstSeq: number): string =>
  `${gymId}:${treadmillId}:${firstSeq}`;

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
      sessionId: sessionIdFor(gymId, treadmillId, event.seq),
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

/** Applies a treadmill's batch (seq order expected; anything at or below the watermark is skipped). */
export function advanceTreadmill(
  previous: TreadmillState,
  events: readonly TelemetryEvent[],
): TreadmillAdvance {
  const state: TreadmillState = { ...previous, fault: previous.fault ? { ...previous.fault } : null };
  const router = new BatchRouter(previous);
  let applied = 0;

  for (const event of events) {
    if (event.seq <= state.seqWatermark) continue;
    state.seqWatermark = event.seq;
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
  }

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
    skipped: events.length - applied,
  };
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
