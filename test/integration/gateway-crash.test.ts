/**
 * Crash safety end to end: a gateway child process is killed with SIGKILL at random moments while 20,000
 * events flow from a QoS 1 publisher, and restarted each time. The broker (mosquitto, persistent) and the
 * Kinesis emulator live in this process and outlive every gateway. Afterwards every event is in Kinesis,
 * none lost, seq order kept per treadmill, and a duplicate is only ever an exact repeat of an id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/lib/random.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { type Mosquitto, startMosquitto } from '../../scripts/local/mosquitto.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import {
  distinctById,
  orderViolations,
  skipMosquitto,
  waitUntil,
  warnMosquittoSkip,
} from '../support/gateway.js';
import { StreamReader } from '../../scripts/local/stream-reader.js';

const GYM = 'gym-crash';
const TREADMILLS = 20;
const PER_TREADMILL = 1_000;
const TOTAL = TREADMILLS * PER_TREADMILL;
const KILLS = 10;
const SEED = 4242;
const PUBLISH_PER_S = 600;

const SUITE = 'gateway killed with SIGKILL while 20,000 events flow (mosquitto, MQTT 5)';
warnMosquittoSkip(SUITE);

interface Child {
  readonly process: ChildProcess;
  readonly connected: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

function spawnGateway(configPath: string): Child {
  // tsx runs the CLI in a node child of its own: the gateway is a process group, killed as one.
  const child = spawn('node_modules/.bin/tsx', ['scripts/cli.ts', 'gateway', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  const connected = new Promise<void>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('mqtt: connected')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, connected, exited, stderr: () => stderr };
}

describe.skipIf(skipMosquitto)(SUITE, () => {
  let kit: EmbeddedAws;
  let broker: Mosquitto;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-crash-'));
    kit = await startEmbeddedAws({ shards: 2 });
    broker = await startMosquitto({ dir: join(dir, 'broker') });
  });

  afterAll(async () => {
    await broker?.stop();
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'loses nothing, keeps seq order per treadmill, and repeats only exact ids',
    { timeout: 120_000 },
    async () => {
      const configPath = join(dir, 'gateway.yaml');
      await writeFile(
        configPath,
        [
          `gymId: ${GYM}`,
          'mqtt:',
          `  url: ${broker.url}`,
          '  protocolVersion: 5',
          '  clientId: crash-test-gateway',
          '  reconnectMs: 200',
          'spool:',
          `  dir: ${join(dir, 'spool')}`,
          '  maxBytes: 256MiB',
          '  segmentBytes: 1MiB',
          'kinesis:',
          `  streamName: ${kit.streamName}`,
          `  endpoint: ${kit.kinesis.endpoint}`,
          '  region: us-east-1',
          '  lingerMs: 50',
          'http:',
          '  port: 0',
          '',
        ].join('\n'),
      );
      const random = createRandom(SEED);

      // The first gateway creates the persistent session, so nothing published from here on is missed.
      let gateway = spawnGateway(configPath);
      await gateway.connected;

      const publisher = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId: 'crash-publisher',
      });
      let published = 0;
      // Paced to span all the kills: 20 treadmills x 1,000 readings, distanceM numbering each treadmill's.
      const publishing = (async () => {
        const started = Date.now();
        const unacked: Promise<unknown>[] = [];
        for (let n = 1; n <= PER_TREADMILL; n++) {
          for (let t = 0; t < TREADMILLS; t++)
            unacked.push(
              publisher.publishAsync(
                `gyms/${GYM}/treadmills/tm-${t}/telemetry`,
                JSON.stringify({ type: 'belt', speedKmh: 4, distanceM: n }),
                { qos: 1 },
              ),
            );
          if (unacked.length >= 400) await Promise.all(unacked.splice(0));
          published = n * TREADMILLS;
          const ahead = (published / PUBLISH_PER_S) * 1000 - (Date.now() - started);
          if (ahead > 0) await sleep(ahead);
        }
        await Promise.all(unacked);
      })();

      for (let kill = 0; kill < KILLS; kill++) {
        await sleep(random.int(0, 1_200));
        process.kill(-(gateway.process.pid as number), 'SIGKILL');
        expect(await gateway.exited).toBe(null);
        gateway = spawnGateway(configPath);
        await gateway.connected;
      }
      await publishing;
      expect(published).toBe(TOTAL);
      await publisher.endAsync();

      const reader = new StreamReader(kit.kinesis.client, kit.streamName);
      await waitUntil(
        'every event in Kinesis',
        async () => (await reader.poll(), distinctById(reader.events).unique.size >= TOTAL),
        60_000,
      );
      gateway.process.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      await reader.poll();

      const { unique, conflicting } = distinctById(reader.events);
      expect(conflicting).toEqual([]);
      expect(unique.size).toBe(TOTAL);
      // Each reading arrived under exactly one id: a duplicate is only a repeat of the same event.
      const idsByReading = new Map<string, Set<string>>();
      for (const event of reader.events) {
        const reading = `${event.treadmillId}#${(event as Extract<TelemetryEvent, { type: 'belt' }>).distanceM}`;
        idsByReading.set(reading, (idsByReading.get(reading) ?? new Set()).add(event.id));
      }
      expect(idsByReading.size).toBe(TOTAL);
      expect([...idsByReading].filter(([, ids]) => ids.size > 1)).toEqual([]);
      expect(orderViolations(reader.events)).toEqual([]);
      // Stamping followed publishing order: per treadmill, seq order is distance order.
      for (let t = 0; t < TREADMILLS; t++) {
        const events = [...unique.values()]
          .filter((event) => event.treadmillId === `tm-${t}`)
          .sort((a, b) => a.seq - b.seq)
          .map((event) => (event as Extract<TelemetryEvent, { type: 'belt' }>).distanceM);
        expect(events).toEqual(Array.from({ length: PER_TREADMILL }, (_, i) => i + 1));
      }
    },
  );
});
