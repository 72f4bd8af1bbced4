import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertItem, AlertKind, AlertSignal, AlertTransition } from '../../shared/src/alerts/index.js';

export type { AlertItem, AlertTransition } from '../../shared/src/alerts/index.js';

/** Alerts table adapter: one current alert per treadmill and kind, transitions marked for the notifier. */
export class AlertsRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Idempotent: a replayed signal (same or older ts) changes nothing. Returns the transitions written. */
  async apply(signals: readonly AlertSignal[]): Promise<AlertTransition[]> {
    void signals;
    throw new Error(`AlertsRepo.apply not implemented yet (${this.tableName}, ${typeof this.doc})`);
  }

  async acknowledge(
    gymId: string,
    treadmillId: string,
    kind: AlertKind,
    by: string,
    now: number = Date.now(),
  ): Promise<AlertTransition | undefined> {
    void [gymId, treadmillId, kind, by, now];
    throw new Error('not implemented yet');
  }

  async resolve(
    gymId: string,
    treadmillId: string,
    kind: AlertKind,
    by: string,
    now: number = Date.now(),
  ): Promise<AlertTransition | undefined> {
    void [gymId, treadmillId, kind, by, now];
    throw new Error('not implemented yet');
  }

  /** Open and acknowledged alerts of a gym. */
  async listOpen(gymId: string): Promise<AlertItem[]> {
    void gymId;
    throw new Error('not implemented yet');
  }

  async openCount(gymId: string, treadmillId: string): Promise<number> {
    void [gymId, treadmillId];
    throw new Error('not implemented yet');
  }
}
