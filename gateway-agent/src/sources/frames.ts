/**
 * BLE notifications -> event bodies, for the BLE source and for raw `ftms` frames that BLE-to-MQTT bridges
 * publish. Split Treadmill Data records are reassembled per device.
 */
import {
  decodeCharacteristic,
  FtmsReassembler,
  normalizeReading,
  resolveCharacteristic,
  toHex,
} from '../../../shared/src/ble/index.js';
import type { EventBody } from '../../../shared/src/telemetry/events.js';

/** The canonical event's `raw` holds at most 512 hex digits. */
const RAW_MAX_BYTES = 256;
/** Devices with a half-received record kept at once; beyond it the oldest partial record is dropped. */
const MAX_PENDING_DEVICES = 10_000;

export type FrameOutcome =
  | { readonly outcome: 'event'; readonly body: EventBody; readonly raw?: string }
  /** Understood, but no event (yet): a first fragment, or a characteristic that carries no event. */
  | { readonly outcome: 'absorbed'; readonly note: string }
  | { readonly outcome: 'rejected'; readonly reason: 'decode_error'; readonly detail: string };

export class FrameDecoder {
  readonly #reassemblers = new Map<string, FtmsReassembler>();

  /** `device` names the sender (a BLE address or a treadmill); `char` a characteristic name or UUID. */
  decode(device: string, char: string, frame: Uint8Array): FrameOutcome {
    try {
      const kind = resolveCharacteristic(char);
      if (kind === undefined)
        return { outcome: 'rejected', reason: 'decode_error', detail: `unknown characteristic "${char}"` };
      let single = true;
      let reading: ReturnType<typeof decodeCharacteristic> | undefined;
      if (kind === 'ftms') {
        const reassembler = this.#reassemblerFor(device);
        single = reassembler.pendingFragments === 0;
        reading = reassembler.push(frame);
        if (reassembler.pendingFragments === 0) this.#reassemblers.delete(device);
        if (reading === undefined) return { outcome: 'absorbed', note: 'first fragment of a split record' };
      } else {
        reading = decodeCharacteristic(kind, frame);
      }
      const body = normalizeReading(reading);
      if (body === undefined) return { outcome: 'absorbed', note: `${kind} reading without an event` };
      // A merged record has no single source frame to keep.
      return single && frame.length <= RAW_MAX_BYTES
        ? { outcome: 'event', body, raw: toHex(frame) }
        : { outcome: 'event', body };
    } catch (error) {
      return {
        outcome: 'rejected',
        reason: 'decode_error',
        detail: (error as Error).message ?? String(error),
      };
    }
  }

  /** Drops a half-received record, e.g. when the link drops (FTMS discards partial records). */
  reset(device: string): void {
    this.#reassemblers.delete(device);
  }

  #reassemblerFor(device: string): FtmsReassembler {
    let reassembler = this.#reassemblers.get(device);
    if (reassembler === undefined) {
      if (this.#reassemblers.size >= MAX_PENDING_DEVICES) {
        const oldest = this.#reassemblers.keys().next().value;
        if (oldest !== undefined) this.#reassemblers.delete(oldest);
      }
      reassembler = new FtmsReassembler();
      this.#reassemblers.set(device, reassembler);
    }
    return reassembler;
  }
}
