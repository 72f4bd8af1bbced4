/**
 * A BleTransport that plays recorded notifications (`--ble-replay file.jsonl`), for tests and demos.
 * Lines: `{ "t": msOffset, "address": "AA:BB:..", "char": "2acd", "hex": "..." }`; `{ "speed": N }` plays
 * what follows N times faster; `{ "t": ms, "address": "..", "link": "up" | "down" }` drops or restores a
 * link. A link comes up at an address's first notification and goes down when the file ends. Other lines
 * (such as the MQTT lines of a mixed recording) are skipped.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseHex } from '../../../shared/src/ble/index.js';
import type { BleListener, BleTransport } from './ble.js';

/** Lines played between two yields to the event loop when playback runs behind (fast replays). */
const LINES_PER_YIELD = 256;

type ReplayLine =
  | { kind: 'notification'; t: number; address: string; char: string; hex: string }
  | { kind: 'link'; t: number; address: string; up: boolean }
  | { kind: 'speed'; speed: number }
  | { kind: 'skip' }
  | { kind: 'malformed'; detail: string };

function parseLine(text: string): ReplayLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return { kind: 'malformed', detail: 'not JSON' };
  }
  if (typeof line !== 'object' || line === null) return { kind: 'malformed', detail: 'not a JSON object' };
  const { t, address, char, hex, link, speed } = line as Record<string, unknown>;
  if (typeof speed === 'number' && speed > 0 && address === undefined) return { kind: 'speed', speed };
  if (address === undefined) return { kind: 'skip' };
  if (typeof address !== 'string' || typeof t !== 'number' || !Number.isFinite(t))
    return { kind: 'malformed', detail: 'needs "t" (ms) and "address"' };
  if (link === 'up' || link === 'down') return { kind: 'link', t, address, up: link === 'up' };
  if (typeof char !== 'string' || typeof hex !== 'string')
    return { kind: 'malformed', detail: 'needs "char" and "hex"' };
  return { kind: 'notification', t, address, char, hex };
}

export class ReplayTransport implements BleTransport {
  readonly #abort = new AbortController();
  #playing: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the file (so a missing file fails start) and plays it in the background. */
  async start(_addresses: readonly string[], listener: BleListener): Promise<void> {
    const lines = (await readFile(this.path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
    this.#playing = this.#play(lines, listener).catch((error: unknown) => {
      if (!this.#abort.signal.aborted) throw error;
    });
  }

  /** Resolves when the whole file has been played (or playback stopped). */
  get finished(): Promise<void> {
    return this.#playing ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#playing;
  }

  async #play(lines: readonly string[], listener: BleListener): Promise<void> {
    const { signal } = this.#abort;
    const linked = new Set<string>();
    // Recorded time `t` plays at anchor.wall + (t - anchor.t) / speed; a speed change re-anchors at the last line.
    let speed = 1;
    let anchor: { t: number; wall: number } | undefined;
    let last: { t: number; wall: number } | undefined;
    let behind = 0;
    for (const [index, text] of lines.entries()) {
      if (signal.aborted) return;
      const line = parseLine(text);
      if (line.kind === 'speed') {
        anchor = last;
        speed = line.speed;
        continue;
      }
      if (line.kind === 'skip') continue;
      if (line.kind === 'malformed') {
        listener.malformed(`${this.path}:${index + 1}`, line.detail);
        continue;
      }
      anchor ??= { t: line.t, wall: this.now() };
      const due = anchor.wall + (line.t - anchor.t) / speed;
      last = { t: line.t, wall: due };
      const wait = due - this.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      else if (++behind % LINES_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) return;
      if (line.kind === 'link') {
        if (line.up) linked.add(line.address);
        else linked.delete(line.address);
        listener.link(line.address, line.up);
        continue;
      }
      let data: Uint8Array;
      try {
        data = parseHex(line.hex);
      } catch (error) {
        listener.malformed(`${this.path}:${index + 1}`, (error as Error).message);
        continue;
      }
      if (!linked.has(line.address)) {
        linked.add(line.address);
        listener.link(line.address, true);
      }
      listener.notification(line.address, line.char, data);
    }
    for (const address of linked) listener.link(address, false);
  }
}
