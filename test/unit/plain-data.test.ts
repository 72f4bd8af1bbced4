import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reduceSession, startSession } from '../../shared/src/metrics/session.js';
import { clonePlainData } from '../../shared/src/plain-data.js';
import { StreamBuilder, T0 } from '../support/events.js';

/** Every object and array reachable from `value`. */
function containers(value: unknown, into = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    into.add(value);
    for (const child of Object.values(value)) containers(child, into);
  }
  return into;
}

describe('clonePlainData', () => {
  it('copies plain data as structuredClone does, sharing no object or array with it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = clonePlainData(value);
        expect(copy).toStrictEqual(structuredClone(value));
        const originals = containers(value);
        for (const container of containers(copy)) expect(originals.has(container)).toBe(false);
      }),
    );
  });

  it('keeps undefined fields, nulls and non-finite numbers', () => {
    const value = { a: undefined, b: null, c: [Number.NaN, Number.POSITIVE_INFINITY, -0], d: { e: 'x' } };
    expect(clonePlainData(value)).toStrictEqual(structuredClone(value));
  });

  it('copies a "__proto__" key as a field, as JSON.parse reads it, not as the prototype', () => {
    const copy = clonePlainData(JSON.parse('{"__proto__":{"polluted":1}}') as object);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(copy).toStrictEqual(structuredClone(JSON.parse('{"__proto__":{"polluted":1}}') as object));
  });
});

describe('reduceSession', () => {
  it('leaves the state it starts from unchanged, timeline included (a retry reduces from it again)', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'session', action: 'start', userToken: 'm_ann01', program: 'interval' })
      .walk(T0 + 1000, 900, { speedKmh: 5, hrBpm: 115, strike: 'heel' }).events;
    const half = events.length >> 1;
    const first = reduceSession(
      startSession({ sessionId: 's-1', gymId: 'gym-a', treadmillId: 'tm-01', startTs: T0 }),
      events.slice(0, half),
    ).state;
    expect(first.timeline.points.length).toBeGreaterThan(0);
    const before = structuredClone(first);
    const second = reduceSession(first, events.slice(half));
    expect(second.sealedChunks.length).toBeGreaterThan(0);
    expect(first).toStrictEqual(before);
    expect(second.state.timeline.points).not.toBe(first.timeline.points);
  });
});
