/**
 * The agent as a whole: the CLI's config errors, BLE replay into Kinesis, a full spool seen through /metrics,
 * the spool's epoch across a wiped spool, and damage found in the spool at start.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway-agent/src/agent.js';
import { parseConfig } from '../../gateway-agent/src/config.js';
import { encodeHeartRate, encodeTreadmillData } from '../../scripts/lib/ble-encoder.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { freePort } from '../../scripts/local/mosquitto.js';
import { toHex } from '../../shared/src/ble/index.js';
import { distinctById, scrapeMetrics, waitUntil } from '../support/gateway.js';
import { StreamReader } from '../../scripts/local/stream-reader.js';
import type { RecordedMessage } from '../../gateway-agent/src/agent.js';
import type { KinesisRecordBody, TelemetryEvent } from '../../shared/src/telemetry/events.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Belt readings of one treadmill as the broker would deliver them, `distanceM` numbering them. */
function beltMessages(gymId: string, from: number, to: number): RecordedMessage[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    topic: `gyms/${gymId}/treadmills/tm-01/telemetry`,
    payload: Buffer.from(JSON.stringify({ type: 'belt', speedKmh: 5, distanceM: from + i })),
    rxTs: Date.now(),
  }));
}

const distanceOf = (event: TelemetryEvent) => (event.type === 'belt' ? event.distanceM : undefined);

async function healthOf(httpUrl: string): Promise<{ code: number; status: string; reasons: string[] }> {
  const response = await fetch(`${httpUrl}/healthz`);
  const body = (await response.json()) as { status: string; reasons: string[] };
  return { code: response.status, ...body };
}

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node_modules/.bin/tsx', ['scripts/cli.ts', 'gateway', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('gateway agent', () => {
  let kit: EmbeddedAws;
  let dir: string;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    dir = await mkdtemp(join(tmpdir(), 'gateway-agent-'));
  });

  afterAll(async () => {
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 with one line naming the bad key', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      'gymId: gym-a\nspool: { dir: /tmp/x, polcy: drop-oldest }\nkinesis: { streamName: s, lingerMs: -5 }\nmqtt: { url: "not a url" }\n',
    );
    const { code, stderr } = await runCli(['--config', path]);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    for (const key of ['mqtt.url', 'spool', 'polcy', 'kinesis.lingerMs']) expect(lines[0]).toContain(key);
    const missing = await runCli(['--config', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });

  it('ships a BLE replay as events with heartbeats on link changes', async () => {
    const address = 'C0:FF:EE:00:00:07';
    const replay = join(dir, 'replay.jsonl');
    const lines = [{ speed: 100 }];
    for (let s = 0; s < 20; s++)
      lines.push(
        {
          t: s * 1000,
          address,
          char: '2acd',
          hex: toHex(encodeTreadmillData({ speedKmh: 3 + s / 10 })),
        } as never,
        {
          t: s * 1000 + 500,
          address,
          char: '2a37',
          hex: toHex(encodeHeartRate({ hrBpm: 100 + s })),
        } as never,
      );
    await writeFile(replay, lines.map((line) => JSON.stringify(line)).join('\n'));
    const config = parseConfig({
      gymId: 'gym-ble',
      ble: { allowlist: { [address]: 'tm-07' } },
      spool: { dir: join(dir, 'spool-ble'), maxBytes: '64MiB', segmentBytes: '1MiB' },
      kinesis: {
        streamName: kit.streamName,
        endpoint: kit.kinesis.endpoint,
        region: 'us-east-1',
        lingerMs: 20,
      },
      http: { port: 0 },
    });
    const gateway = await Gateway.start({ config, bleReplay: replay, log: () => undefined });
    const reader = new StreamReader(kit.kinesis.client, kit.streamName);
    try {
      await waitUntil('42 BLE events', async () => {
        await reader.poll();
        return reader.events.filter((event) => event.gymId === 'gym-ble').length >= 42;
      });
    } finally {
      await gateway.stop(2_000);
    }
    const events = [...distinctById(reader.events).unique.values()].filter(
      (event) => event.gymId === 'gym-ble',
    );
    expect(events.map((event) => event.type)).toEqual([
      'heartbeat',
      ...Array.from({ length: 20 }, () => ['belt', 'hr']).flat(),
      'heartbeat',
    ]);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    expect(events.every((event) => event.treadmillId === 'tm-07' && event.ts === event.rxTs)).toBe(true);
  });

  it('drops the oldest events when the spool is full and reports exactly what it dropped', async () => {
    // Kinesis unreachable: nothing leaves the spool, so it fills.
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const config = parseConfig({
      gymId: 'gym-full',
      mqtt: { url: kit.mqtt.url, protocolVersion: 4, clientId: 'gw-full' },
      spool: {
        dir: join(dir, 'spool-full'),
        maxBytes: '128KiB',
        segmentBytes: '64KiB',
        policy: 'drop-oldest',
      },
      kinesis: { streamName: kit.streamName, endpoint: deadEndpoint, region: 'us-east-1' },
      http: { port: 0 },
    });
    const gateway = await Gateway.start({ config, log: () => undefined });
    const publisher = await mqtt.connectAsync(kit.mqtt.url, {
      protocolVersion: 4,
      clientId: 'full-publisher',
    });
    try {
      await waitUntil(
        'connected',
        async () => (await scrapeMetrics(gateway.httpUrl)).get('retrostride_gateway_mqtt_connected') === 1,
      );
      const total = 3_000;
      await Promise.all(
        Array.from({ length: total }, (_, n) =>
          publisher.publishAsync(
            `gyms/gym-full/treadmills/tm-${n % 5}/telemetry`,
            JSON.stringify({ type: 'belt', speedKmh: 5, distanceM: n }),
            { qos: 1 },
          ),
        ),
      );
      await waitUntil('all durable', async () => {
        const metrics = await scrapeMetrics(gateway.httpUrl);
        return (
          (metrics.get('retrostride_gateway_events_in_total{source="mqtt"}') ?? 0) >= total &&
          metrics.get('retrostride_gateway_mqtt_pending_acks') === 0
        );
      });
      const metrics = await scrapeMetrics(gateway.httpUrl);
      const dropped = metrics.get('retrostride_gateway_spool_dropped_total') ?? 0;
      const depth = metrics.get('retrostride_gateway_spool_depth_events') ?? 0;
      const appended = metrics.get('retrostride_gateway_spool_appended_total') ?? 0;
      expect(dropped).toBeGreaterThan(0);
      expect(metrics.get('retrostride_gateway_spool_rejected_total')).toBe(0);
      expect(appended).toBe(metrics.get('retrostride_gateway_events_in_total{source="mqtt"}'));
      expect(appended).toBeGreaterThanOrEqual(total);
      // Nothing was shipped, so whatever is not in the spool any more was dropped, and counted.
      expect(depth + dropped).toBe(appended);
      expect(metrics.get('retrostride_gateway_events_out_total')).toBe(0);
      const health = (await (await fetch(`${gateway.httpUrl}/healthz`)).json()) as {
        status: string;
        reasons: string[];
      };
      // Nothing moves any more, so /healthz and /metrics describe the same spool.
      const fill = (metrics.get('retrostride_gateway_spool_depth_bytes') ?? 0) / 131_072;
      expect(health.reasons.some((reason) => /spool \d+% full/.test(reason))).toBe(fill > 0.8);
    } finally {
      await publisher.endAsync();
      await gateway.stop(0);
    }
  });

  it('gives a wiped spool a new, later epoch: seq restarts at 1 and every record names its epoch', async () => {
    const spoolDir = join(dir, 'spool-epoch');
    const config = parseConfig({
      gymId: 'gym-epoch',
      mqtt: { url: kit.mqtt.url, protocolVersion: 4, clientId: 'gw-epoch' },
      spool: { dir: spoolDir, maxBytes: '64MiB', segmentBytes: '1MiB' },
      kinesis: {
        streamName: kit.streamName,
        endpoint: kit.kinesis.endpoint,
        region: 'us-east-1',
        lingerMs: 20,
      },
      http: { port: 0 },
    });
    const reader = new StreamReader(kit.kinesis.client, kit.streamName);
    const ours = () => reader.records.filter((record) => record.gymId === 'gym-epoch');
    /** One life of the gateway: 5 readings shipped; returns its log and its /metrics. */
    const run = async (from: number) => {
      const logged: string[] = [];
      const gateway = await Gateway.start({ config, log: (line) => logged.push(line) });
      try {
        await gateway.replayRecorded(beltMessages('gym-epoch', from, from + 4));
        await waitUntil('shipped', () => gateway.stats().spool.depthEvents === 0);
        return { logged, metrics: await (await fetch(`${gateway.httpUrl}/metrics`)).text() };
      } finally {
        await gateway.stop(2_000);
      }
    };

    const first = await run(1);
    // A replaced SD card, a reinstall, a wiped spool directory.
    await rm(spoolDir, { recursive: true, force: true });
    const second = await run(6);
    await waitUntil('10 events in Kinesis', async () => {
      await reader.poll();
      return ours().flatMap((record) => record.events).length >= 10;
    });

    const byDistance = new Map<number, { epoch: string | undefined; seq: number }>();
    for (const record of ours() as KinesisRecordBody[])
      for (const event of record.events as TelemetryEvent[])
        byDistance.set(distanceOf(event)!, { epoch: record.epoch, seq: event.seq });
    const oldEpoch = byDistance.get(1)!.epoch!;
    const newEpoch = byDistance.get(6)!.epoch!;
    expect(oldEpoch).toMatch(ULID);
    expect(newEpoch).toMatch(ULID);
    expect(newEpoch).not.toBe(oldEpoch);
    expect(newEpoch > oldEpoch).toBe(true);
    for (let distance = 1; distance <= 10; distance++) {
      expect(byDistance.get(distance)).toEqual({
        epoch: distance <= 5 ? oldEpoch : newEpoch,
        seq: distance <= 5 ? distance : distance - 5,
      });
    }
    // Said at start, and on /metrics.
    expect(first.logged.some((line) => line.includes(`epoch ${oldEpoch}`))).toBe(true);
    expect(second.logged.some((line) => line.includes(`epoch ${newEpoch}`))).toBe(true);
    expect(first.metrics).toContain(`retrostride_gateway_spool_info{epoch="${oldEpoch}"} 1`);
    expect(second.metrics).toContain(`retrostride_gateway_spool_info{epoch="${newEpoch}"} 1`);
  });

  it('skips a damaged spool entry at start, ships the entries after it, and says so on /healthz and /metrics', async () => {
    const spoolDir = join(dir, 'spool-bitrot');
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const settings = {
      gymId: 'gym-bitrot',
      mqtt: { url: kit.mqtt.url, protocolVersion: 4, clientId: 'gw-bitrot' },
      spool: { dir: spoolDir, maxBytes: '64MiB', segmentBytes: '1MiB' },
      kinesis: { streamName: kit.streamName, endpoint: deadEndpoint, region: 'us-east-1', lingerMs: 20 },
      http: { port: 0 },
    };
    // Kinesis unreachable: ten readings stay in the spool, one entry each.
    const offline = await Gateway.start({ config: parseConfig(settings), log: () => undefined });
    for (let n = 1; n <= 10; n++) await offline.replayRecorded(beltMessages('gym-bitrot', n, n));
    await offline.stop(0);

    // A flipped bit in the JSON of the 4th entry.
    const segment = join(
      spoolDir,
      (await readdir(spoolDir)).find((name) => name.startsWith('seg-'))!,
    );
    const bytes = await readFile(segment);
    let start = 0;
    for (let entry = 0; entry < 3; entry++) start += 8 + bytes.readUInt32LE(start);
    const end = start + 8 + bytes.readUInt32LE(start);
    const file = await open(segment, 'r+');
    await file.write(Buffer.from([bytes[end - 10]! ^ 0x40]), 0, 1, end - 10);
    await file.close();

    const logged: string[] = [];
    const gateway = await Gateway.start({
      config: parseConfig({ ...settings, kinesis: { ...settings.kinesis, endpoint: kit.kinesis.endpoint } }),
      log: (line) => logged.push(line),
    });
    const reader = new StreamReader(kit.kinesis.client, kit.streamName);
    try {
      // Acknowledged by Kinesis once the spool is empty: one read then sees everything shipped.
      await waitUntil('shipped', () => gateway.stats().spool.depthEvents === 0);
      await reader.poll();
      const shipped = [...distinctById(reader.events).unique.values()].filter(
        (event) => event.gymId === 'gym-bitrot',
      );
      expect(shipped.map(distanceOf)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);
      expect(shipped.map((event) => event.seq)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10]);

      const health = await healthOf(gateway.httpUrl);
      expect(health.code).toBe(503);
      expect(health.status).toBe('degraded');
      expect(health.reasons).toEqual(['spool: 1 damaged entry skipped at start, 1 reading lost']);
      const metrics = await scrapeMetrics(gateway.httpUrl);
      expect(metrics.get('retrostride_gateway_spool_corrupt_events_total')).toBe(1);
      expect(metrics.get('retrostride_gateway_spool_corrupt_bytes_total')).toBe(end - start);
      expect(logged.filter((line) => line.includes('damaged'))).toHaveLength(1);
    } finally {
      await gateway.stop(2_000);
    }
  });
});
