/**
 * The alert config of each gym for the rules (docs/architecture.md section 7.3): the base config with the gym's
 * thresholds from the alerts table, kept for a minute per container so a batch costs no extra read. An
 * operator's change reaches the rules within that minute.
 */
import {
  type AlertConfig,
  configWithThresholds,
  DEFAULT_ALERT_CONFIG,
} from '../../shared/src/alerts/index.js';
import type { AlertsRepo } from './alerts-repo.js';

/** How long a gym's thresholds are used before they are read again. */
export const ALERT_CONFIG_TTL_MS = 60_000;

export class GymAlertConfigs {
  private readonly cache = new Map<string, { config: Promise<AlertConfig>; readTs: number }>();

  constructor(
    private readonly repo: Pick<AlertsRepo, 'thresholds'>,
    private readonly base: AlertConfig = DEFAULT_ALERT_CONFIG,
    private readonly clock: () => number = Date.now,
  ) {}

  configFor(gymId: string): Promise<AlertConfig> {
    const now = this.clock();
    const cached = this.cache.get(gymId);
    if (cached && now - cached.readTs < ALERT_CONFIG_TTL_MS) return cached.config;
    const config = this.repo
      .thresholds(gymId)
      .then((thresholds) => configWithThresholds(this.base, thresholds));
    // A failed read is not kept: the next batch reads again.
    config.catch(() => this.cache.delete(gymId));
    this.cache.set(gymId, { config, readTs: now });
    return config;
  }
}
