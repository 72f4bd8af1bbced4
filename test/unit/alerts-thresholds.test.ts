import { describe, expect, it } from 'vitest';
import {
  configWithThresholds,
  DEFAULT_ALERT_CONFIG,
  DEFAULT_THRESHOLDS,
  evaluateEventAlerts,
  evaluateOfflineAlert,
  thresholdsFrom,
} from '../../shared/src/alerts/index.js';
import { StreamBuilder, T0 } from '../support/events.js';

describe('gym alert thresholds', () => {
  it('default to the rules as they were', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ motorTempMaxC: 90, offlineAfterMinutes: 5, stumbleAlertCount: 3 });
    expect(configWithThresholds(DEFAULT_ALERT_CONFIG, DEFAULT_THRESHOLDS)).toEqual(DEFAULT_ALERT_CONFIG);
  });

  it('take a stored value only within its bounds, an integer', () => {
    expect(thresholdsFrom({ motorTempMaxC: 80, offlineAfterMinutes: 2, stumbleAlertCount: 2.5 })).toEqual({
      ...DEFAULT_THRESHOLDS,
      motorTempMaxC: 80,
    });
    expect(thresholdsFrom({ motorTempMaxC: '80', stumbleAlertCount: 21 })).toEqual(DEFAULT_THRESHOLDS);
    expect(thresholdsFrom(undefined)).toEqual(DEFAULT_THRESHOLDS);
  });

  it('are what the rules use: a motor limit of 80 °C raises at 85 °C, offline after 10 minutes', () => {
    const config = configWithThresholds(DEFAULT_ALERT_CONFIG, {
      motorTempMaxC: 80,
      offlineAfterMinutes: 10,
      stumbleAlertCount: 1,
    });
    const events = new StreamBuilder().add(T0, { type: 'machine', motorTempC: 85 }).events;
    const input = { gymId: 'gym-a', treadmillId: 'tm-01', events, direction: () => 'unknown' as const };
    const raised = (signals: ReturnType<typeof evaluateEventAlerts>) =>
      signals.filter((signal) => signal.action === 'raise');
    expect(raised(evaluateEventAlerts(input))).toEqual([]);
    expect(raised(evaluateEventAlerts({ ...input, config }))).toMatchObject([{ kind: 'motor_overheat' }]);
    const offline = { gymId: 'gym-a', treadmillId: 'tm-01', lastSeenTs: T0, now: T0 + 6 * 60_000 };
    expect(evaluateOfflineAlert({ ...offline, offline: true })).toBeDefined();
    expect(evaluateOfflineAlert({ ...offline, offline: true, config })).toBeUndefined();
  });
});
