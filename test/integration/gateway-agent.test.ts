/** The agent as a whole: the CLI's config errors, BLE replay into Kinesis, a full spool seen through /metrics. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
