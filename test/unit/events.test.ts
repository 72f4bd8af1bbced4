import { describe, expect, it } from 'vitest';
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
});
