import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { eventBodySchema } from '../../shared/src/telemetry/events.js';
import { SCHEMA_VERSION, validateEvent } from '../../shared/src/telemetry/index.js';

const base = {
  id: '01JDQ3Z8W6X9K4T2M5N7P8R0S1',
  gymId: 'gym-a',
  treadmillId: 'tm-01',
  seq: 1,
  ts: 1_764_000_000_000,
  rxTs: 1_764_000_000_050,
};

describe('canonical event schema', () => {
  it('has a schema version', () => {
    expect(SCHEMA_VERSION).toBe(1);
  });

  it.each([
    { type: 'belt', speedKmh: 5, inclinePct: 1.5, direction: 'backward' },
    { type: 'machine', state: 'safety_stop' },
    { type: 'hr', hrBpm: 120, rrMs: [500, 510], contact: true },
    { type: 'stride', speedKmh: 9, cadenceSpm: 160, running: true },
    { type: 'step', foot: 'L', strike: 'toe', contactMs: 620, stepWidthMm: 110 },
    { type: 'session', action: 'start', userToken: 'm_7f3a9c', program: 'backward' },
    { type: 'heartbeat', online: true, rssi: -60 },
  ])('accepts a valid $type event', (body) => {
    const result = validateEvent({ ...base, ...body });
    expect(result).toMatchObject({ ok: true });
  });

  it('rejects with the field path and the reason, never a throw', () => {
    const result = validateEvent({ ...base, type: 'belt', speedKmh: -1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^speedKmh: /);
  });

  it('rejects an unknown type and a missing id', () => {
    const unknownType = validateEvent({ ...base, type: 'teleport' });
    expect(unknownType.ok).toBe(false);
    const { id: _omit, ...noId } = base;
    const missingId = validateEvent({ ...noId, type: 'heartbeat', online: true });
    expect(missingId.ok).toBe(false);
    if (!missingId.ok) expect(missingId.reason).toContain('id');
  });

  it('refuses an email address as a user token', () => {
    const result = validateEvent({ ...base, type: 'session', action: 'start', userToken: 'ann@example.com' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/userToken/);
  });

  it('never throws on arbitrary input', () => {
    for (const input of [null, undefined, 42, 'x', [], { type: null }, { ...base, type: 'belt' }]) {
      expect(() => validateEvent(input)).not.toThrow();
      expect(validateEvent(input).ok).toBe(false);
    }
  });

  it('bounds every number on both sides: a treadmill reports nothing beyond physics', () => {
    const unbounded: string[] = [];
    const check = (path: string, schema: unknown) => {
      const node = schema as {
        type?: string;
        minimum?: number;
        exclusiveMinimum?: number;
        maximum?: number;
        items?: unknown;
      };
      if (node.type === 'number' || node.type === 'integer') {
        const low = node.minimum ?? node.exclusiveMinimum;
        if (low === undefined || node.maximum === undefined) unbounded.push(path);
      } else if (node.type === 'array') check(`${path}[]`, node.items);
    };
    for (const option of z.toJSONSchema(eventBodySchema).oneOf ?? []) {
      const { properties = {} } = option as { properties?: Record<string, unknown> };
      const type = (properties.type as { const?: string }).const;
      for (const [name, schema] of Object.entries(properties)) check(`${type}.${name}`, schema);
    }
    expect(unbounded).toEqual([]);
  });

  it.each([
    { type: 'belt', speedKmh: 3, energyKcal: 1e16 },
    { type: 'belt', speedKmh: 3, distanceM: 2 ** 53 },
    { type: 'machine', odometerKm: 2 ** 53 },
    { type: 'machine', beltHours: 1e12 },
    { type: 'belt', speedKmh: 3, powerW: 1e9 },
  ])('refuses $type beyond its bound with the field named: %o', (body) => {
    const result = validateEvent({ ...base, ...body });
    expect(result.ok).toBe(false);
    const field = Object.keys(body).find((name) => name !== 'type' && name !== 'speedKmh');
    if (!result.ok) expect(result.reason).toMatch(new RegExp(`^${field}: `));
  });

  it('refuses a time beyond the year 2100 and a seq beyond exact integers', () => {
    expect(validateEvent({ ...base, ts: 5e12, type: 'heartbeat', online: true }).ok).toBe(false);
    expect(validateEvent({ ...base, seq: 2 ** 53, type: 'heartbeat', online: true }).ok).toBe(false);
  });
});
