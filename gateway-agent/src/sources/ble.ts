/**
 * Treadmills over BLE, central role. A BleTransport (BlueZ, or a replay of recorded notifications) keeps links
 * to allowlisted addresses and reports notifications; this source turns them into events: Treadmill Data
 * (split records reassembled), Fitness Machine Status, Training Status, Heart Rate and RSC, plus a
 * `heartbeat` event whenever a link goes up or down.
 */
import type { EventBody } from '../../../shared/src/telemetry/events.js';
import type { DurableIntake } from '../intake.js';
import type { RejectLog } from '../rejects.js';
import { FrameDecoder } from './frames.js';

/** GATT services and the characteristics subscribed in each (16-bit UUIDs). */
export const BLE_SUBSCRIPTIONS = [
  { service: '1826', characteristic: '2acd' }, // Fitness Machine: Treadmill Data
  { service: '1826', characteristic: '2ada' }, // Fitness Machine Status
  { service: '1826', characteristic: '2ad3' }, // Training Status
  { service: '180d', characteristic: '2a37' }, // Heart Rate Measurement
  { service: '1814', characteristic: '2a53' }, // RSC Measurement
] as const;

export interface BleListener {
  link(address: string, up: boolean): void;
  notification(address: string, characteristic: string, data: Uint8Array): void;
  /** Something the transport received but could not deliver (e.g. a bad replay line). */
  malformed(origin: string, detail: string): void;
}

export interface BleTransport {
  /** Keeps a link to each address (reconnecting with backoff) and reports to `listener` until stop(). */
  start(addresses: readonly string[], listener: BleListener): Promise<void>;
  stop(): Promise<void>;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export interface BleSourceStats {
  readonly linksUp: number;
  readonly notifications: number;
  readonly events: number;
  readonly absorbed: number;
  readonly rejected: number;
  /** Events the spool refused (reject-new and full): a notification cannot be asked for again. */
  readonly spoolRefusals: number;
}

export interface BleSourceOptions {
  readonly gymId: string;
  /** BLE address (upper case) -> treadmill id. */
  readonly allowlist: Readonly<Record<string, string>>;
  readonly transport: BleTransport;
  readonly intake: DurableIntake;
  readonly rejects: RejectLog;
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

export class BleSource {
  readonly #frames = new FrameDecoder();
  readonly #linksUp = new Set<string>();
  readonly #treadmills: ReadonlyMap<string, string>;
  #notifications = 0;
  #events = 0;
  #absorbed = 0;
  #rejected = 0;
  #spoolRefusals = 0;
  #stopping = false;

  constructor(private readonly options: BleSourceOptions) {
    this.#treadmills = new Map(
      Object.entries(options.allowlist).map(([address, treadmillId]) => [address.toUpperCase(), treadmillId]),
    );
  }

  start(): Promise<void> {
    return this.options.transport.start([...this.#treadmills.keys()], {
      link: (address, up) => this.#onLink(address.toUpperCase(), up),
      notification: (address, characteristic, data) =>
        this.#onNotification(address.toUpperCase(), characteristic, data),
      malformed: (origin, detail) => this.#reject('malformed', origin, detail, ''),
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.options.transport.stop();
  }

  stats(): BleSourceStats {
    return {
      linksUp: this.#linksUp.size,
      notifications: this.#notifications,
      events: this.#events,
      absorbed: this.#absorbed,
      rejected: this.#rejected,
      spoolRefusals: this.#spoolRefusals,
    };
  }

  #onLink(address: string, up: boolean): void {
    const treadmillId = this.#treadmills.get(address);
    if (treadmillId === undefined || this.#stopping) return;
    if (up === this.#linksUp.has(address)) return;
    if (up) this.#linksUp.add(address);
    else this.#linksUp.delete(address);
    // A record half-received when the link changed is discarded, as FTMS does.
    this.#frames.reset(address);
    this.options.log(`ble: ${address} (${treadmillId}) link ${up ? 'up' : 'down'}`);
    this.#submit(treadmillId, { type: 'heartbeat', online: up });
  }

  #onNotification(address: string, characteristic: string, data: Uint8Array): void {
    if (this.#stopping) return;
    this.#notifications++;
    const treadmillId = this.#treadmills.get(address);
    if (treadmillId === undefined)
      return this.#reject('unknown_address', address, 'address not in ble.allowlist', '');
    const decoded = this.#frames.decode(address, characteristic, data);
    switch (decoded.outcome) {
      case 'rejected':
        return this.#reject(decoded.reason, address, decoded.detail, characteristic);
      case 'absorbed':
        this.#absorbed++;
        return;
      case 'event':
        this.#events++;
        this.#submit(treadmillId, decoded.body, decoded.raw);
    }
  }

  #submit(treadmillId: string, body: EventBody, raw?: string): void {
    const reading = {
      gymId: this.options.gymId,
      treadmillId,
      body,
      rxTs: (this.options.now ?? Date.now)(),
      ...(raw === undefined ? {} : { raw }),
    };
    this.options.intake.submit('ble', reading).catch((error: unknown) => {
      this.#spoolRefusals++;
      this.options.log(`ble: event of ${treadmillId} not spooled: ${(error as Error).message}`);
    });
  }

  #reject(reason: string, origin: string, detail: string, characteristic: string): void {
    this.#rejected++;
    this.options.rejects.record({
      at: (this.options.now ?? Date.now)(),
      source: 'ble',
      reason,
      detail,
      origin,
      preview: characteristic,
    });
  }
}
