import { describe, expect, it } from 'vitest';
import { ALERT_CONFIG_TTL_MS, GymAlertConfigs } from '../../functions/lib/alert-configs.js';
import { DEFAULT_THRESHOLDS, type GymAlertThresholds } from '../../shared/src/alerts/index.js';

describe("each gym's alert config", () => {
  it('reads a gym’s thresholds once a minute, and again after a failed read', async () => {
    let now = 0;
    const reads: string[] = [];
    let fail = false;
    const repo = {
      async thresholds(gymId: string): Promise<GymAlertThresholds> {
        reads.push(gymId);
        if (fail) throw new Error('throttled');
        return { ...DEFAULT_THRESHOLDS, motorTempMaxC: gymId === 'gym-a' ? 80 : 95 };
      },
    };
    const configs = new GymAlertConfigs(repo, undefined, () => now);
    expect((await configs.configFor('gym-a')).motorTempMaxC).toBe(80);
    expect((await configs.configFor('gym-b')).motorTempMaxC).toBe(95);
    await configs.configFor('gym-a');
    expect(reads).toEqual(['gym-a', 'gym-b']);

    now += ALERT_CONFIG_TTL_MS;
    fail = true;
    await expect(configs.configFor('gym-a')).rejects.toThrow('throttled');
    fail = false;
    expect((await configs.configFor('gym-a')).motorTempMaxC).toBe(80);
    expect(reads).toEqual(['gym-a', 'gym-b', 'gym-a', 'gym-a']);
  });
});
