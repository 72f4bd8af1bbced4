/**
 * The BlueZ BleTransport (node-ble, over D-Bus). node-ble is imported only when this transport starts, so the
 * agent runs on machines without Bluetooth; without a system bus node-ble emits an 'error' event nobody
 * listens to (which would crash the process) and never settles its calls, so both are guarded here.
 */
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, Device } from 'node-ble';
import { BLE_SUBSCRIPTIONS, type BleListener, type BleTransport, backoffDelay } from './ble.js';

const RECONNECT_BASE_MS = 1_000;
const RECONNECT_CAP_MS = 60_000;
const DISCOVERY_TIMEOUT_MS = 30_000;
const BUS_TIMEOUT_MS = 10_000;

const uuid128 = (short: string): string => `0000${short}-0000-1000-8000-00805f9b34fb`;

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class BluezTransport implements BleTransport {
  readonly #abort = new AbortController();
  #destroy: (() => void) | undefined;
  #loops: Promise<void>[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Opens the adapter (failing if BlueZ cannot be reached) and keeps each address linked in the background. */
  async start(addresses: readonly string[], listener: BleListener): Promise<void> {
    const { createBluetooth } = (await import('node-ble')).default;
    const { bluetooth, destroy } = createBluetooth();
    this.#destroy = destroy;
    const bus = (bluetooth as unknown as { dbus: EventEmitter }).dbus;
    const busFailed = new Promise<never>((_, reject) => {
      bus.on('error', (error: Error) => {
        this.log(`ble: D-Bus error: ${error.message}`);
        reject(error);
      });
      setTimeout(() => reject(new Error('no answer from BlueZ over D-Bus')), BUS_TIMEOUT_MS).unref();
    });
    busFailed.catch(() => undefined);
    let adapter: Adapter;
    try {
      adapter = await Promise.race([bluetooth.defaultAdapter(), busFailed]);
    } catch (error) {
      destroy();
      throw new Error(`BLE unavailable: ${(error as Error).message}`, { cause: error });
    }
    this.#loops = addresses.map((address) => this.#keepLinked(adapter, address, listener));
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
    this.#destroy?.();
  }

  async #keepLinked(adapter: Adapter, address: string, listener: BleListener): Promise<void> {
    const { signal } = this.#abort;
    for (let attempt = 0; !signal.aborted; attempt++) {
      let device: Device | undefined;
      let up = false;
      try {
        device = await adapter.waitDevice(address, DISCOVERY_TIMEOUT_MS);
        const disconnected = new Promise<void>((resolve) => device?.once('disconnect', () => resolve()));
        await device.connect();
        up = true;
        attempt = 0;
        listener.link(address, true);
        await this.#subscribe(device, address, listener);
        await Promise.race([disconnected, aborted(signal)]);
      } catch (error) {
        if (!signal.aborted) this.log(`ble: ${address}: ${(error as Error).message}`);
      }
      if (signal.aborted) await device?.disconnect().catch(() => undefined);
      if (up) listener.link(address, false);
      if (signal.aborted) return;
      await sleep(backoffDelay(attempt, RECONNECT_BASE_MS, RECONNECT_CAP_MS), undefined, { signal }).catch(
        () => undefined,
      );
    }
  }

  /** Subscribes to each characteristic the peripheral has; a treadmill without a heart-rate strap lacks some. */
  async #subscribe(device: Device, address: string, listener: BleListener): Promise<void> {
    const gatt = await device.gatt();
    for (const { service, characteristic } of BLE_SUBSCRIPTIONS) {
      try {
        const gattService = await gatt.getPrimaryService(uuid128(service));
        const gattCharacteristic = await gattService.getCharacteristic(uuid128(characteristic));
        gattCharacteristic.on('valuechanged', (data: Buffer) =>
          listener.notification(address, characteristic, data),
        );
        await gattCharacteristic.startNotifications();
      } catch {
        // Not offered by this peripheral.
      }
    }
  }
}
