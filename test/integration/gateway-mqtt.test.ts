/**
 * The gateway against real brokers (aedes from the embedded kit, Debian's mosquitto with MQTT 5) and the
 * Kinesis emulator over HTTP, read back with GetRecords.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway-agent/src/agent.js';
import { type GatewayConfig, parseConfig } from '../../gateway-agent/src/config.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { type Mosquitto, startMosquitto } from '../../scripts/local/mosquitto.js';
import { toHex } from '../../shared/src/ble/index.js';
import { encodeTreadmillData } from '../../scripts/lib/ble-encoder.js';
import {
  distinctById,
  orderViolations,
  scrapeMetrics,
  skipMosquitto,
  waitUntil,
  warnMosquittoSkip,
} from '../support/gateway.js';
import { StreamReader } from '../../scripts/local/stream-reader.js';

const GYM = 'gym-it';
const topic = (treadmill: string, kind: string) => `gyms/${GYM}/treadmills/${treadmill}/${kind}`;
const belt = (distanceM: number) => JSON.stringify({ type: 'belt', speedKmh: 5, distanceM });

const MOSQUITTO_SUITE = 'gateway with mosquitto (MQTT 5, persistent session, broker restart)';
warnMosquittoSkip(MOSQUITTO_SUITE);

function configFor(kit: EmbeddedAws, dir: string, mqttUrl: string, protocolVersion: 4 | 5): GatewayConfig {
  return parseConfig({
    gymId: GYM,
    mqtt: {
      url: mqttUrl,
      protocolVersion,
      clientId: `gw-${protocolVersion}-${Date.now()}`,
      reconnectMs: 200,
    },
    spool: { dir, maxBytes: '64MiB', segmentBytes: '1MiB' },
    kinesis: {
      streamName: kit.streamName,
      endpoint: kit.kinesis.endpoint,
      region: 'us-east-1',
      lingerMs: 20,
    },
    http: { port: 0 },
  });
}

async function publishAll(client: MqttClient, messages: ReadonlyArray<[string, string]>): Promise<void> {
  await Promise.all(messages.map(([t, payload]) => client.publishAsync(t, payload, { qos: 1 })));
}

/** Distance values that reached Kinesis for one treadmill, in stream order, exact repeats skipped. */
function distances(reader: StreamReader, treadmill: string): number[] {
  return [...distinctById(reader.events).unique.values()]
    .filter((event) => event.treadmillId === treadmill && event.type === 'belt')
    .map((event) => (event.type === 'belt' ? (event.distanceM ?? -1) : -1));
}

describe('gateway with aedes (MQTT 3.1.1) and kinesalite', () => {
  let kit: EmbeddedAws;
  let dir: string;
  let gateway: Gateway;
  let publisher: MqttClient;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 2 });
    dir = await mkdtemp(join(tmpdir(), 'gateway-aedes-'));
    gateway = await Gateway.start({ config: configFor(kit, dir, kit.mqtt.url, 4), log: () => undefined });
    publisher = await mqtt.connectAsync(kit.mqtt.url, { protocolVersion: 4, clientId: 'it-publisher' });
    await waitUntil(
      'gateway subscribed',
      async () => (await scrapeMetrics(gateway.httpUrl)).get('retrostride_gateway_mqtt_connected') === 1,
    );
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await gateway?.stop(2_000);
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ships accepted messages as canonical events, counts rejects, and reports health', async () => {
    const frame = encodeTreadmillData({ speedKmh: 4.2, inclinePct: 1 });
    const messages: Array<[string, string]> = [];
    for (let n = 1; n <= 50; n++)
      messages.push([topic('tm-01', 'telemetry'), belt(n)], [topic('tm-02', 'telemetry'), belt(n)]);
    messages.push(
      [topic('tm-01', 'session'), JSON.stringify({ type: 'session', action: 'start', userToken: 'm_0001' })],
      [topic('tm-02', 'ftms'), JSON.stringify({ char: '2acd', hex: toHex(frame) })],
      [topic('tm-01', 'telemetry'), '{"type":"belt"'], // invalid_json
      [topic('tm-01', 'telemetry'), JSON.stringify({ type: 'belt', speedKmh: 99 })], // schema_violation
      [topic('tm-01', 'weather'), '{}'], // unknown_kind
      [`gyms/other/treadmills/tm-01/telemetry`, belt(1)], // wrong_gym
      [topic('tm-01', 'status'), JSON.stringify({ type: 'heartbeat', online: true, treadmillId: 'tm-9' })], // identity_mismatch
    );
    await publishAll(publisher, messages);

    const reader = new StreamReader(kit.kinesis.client, kit.streamName);
    await waitUntil(
      '102 events in Kinesis',
      async () => (await reader.poll(), distinctById(reader.events).unique.size >= 102),
    );

    expect(distances(reader, 'tm-01')).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(distances(reader, 'tm-02')).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), -1]);
    expect(orderViolations(reader.events)).toEqual([]);
    const ftms = reader.events.find((event) => event.raw !== undefined);
    expect(ftms).toMatchObject({
      type: 'belt',
      speedKmh: 4.2,
      raw: toHex(frame),
      gymId: GYM,
      treadmillId: 'tm-02',
    });
    for (const record of reader.records)
      expect(new Set(record.events.map((e) => (e as { treadmillId: string }).treadmillId)).size).toBe(1);

    const metrics = await scrapeMetrics(gateway.httpUrl);
    for (const reason of [
      'invalid_json',
      'schema_violation',
      'unknown_kind',
      'wrong_gym',
      'identity_mismatch',
    ])
      expect(metrics.get(`retrostride_gateway_rejected_total{source="mqtt",reason="${reason}"}`)).toBe(1);
    expect(metrics.get('retrostride_gateway_events_in_total{source="mqtt"}')).toBe(102);
    await waitUntil(
      'events out',
      async () => (await scrapeMetrics(gateway.httpUrl)).get('retrostride_gateway_events_out_total') === 102,
    );

    const health = await fetch(`${gateway.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', reasons: [] });
    const samples = (await (await fetch(`${gateway.httpUrl}/rejects`)).json()) as Array<{ reason: string }>;
    expect(samples.map((sample) => sample.reason)).toContain('identity_mismatch');
  });
});

describe.skipIf(skipMosquitto)(MOSQUITTO_SUITE, () => {
  let kit: EmbeddedAws;
  let dir: string;
  let broker: Mosquitto;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    dir = await mkdtemp(join(tmpdir(), 'gateway-mosquitto-'));
    broker = await startMosquitto({ dir: join(dir, 'broker') });
  });

  afterAll(async () => {
    await broker?.stop();
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('receives what was published while it was stopped, and survives a broker restart mid-run', async () => {
    const config = configFor(kit, join(dir, 'spool'), broker.url, 5);
    const publisher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'it-pub-5',
      clean: false,
    });
    try {
      let gateway = await Gateway.start({ config, log: () => undefined });
      await waitUntil('connected', () => gateway.health().status === 'ok');
      await publishAll(
        publisher,
        Array.from({ length: 100 }, (_, i) => [topic('tm-01', 'telemetry'), belt(i + 1)]),
      );
      await waitUntil(
        'first 100 durable',
        async () =>
          (await scrapeMetrics(gateway.httpUrl)).get('retrostride_gateway_events_in_total{source="mqtt"}') ===
          100,
      );
      await gateway.stop(2_000);

      // Gateway down: the broker keeps these for its persistent session.
      await publishAll(
        publisher,
        Array.from({ length: 100 }, (_, i) => [topic('tm-01', 'telemetry'), belt(i + 101)]),
      );
      gateway = await Gateway.start({ config, log: () => undefined });

      // Broker restart mid-run, while messages flow: publishing continues through it (the publisher queues).
      const flowing = (async () => {
        for (let n = 201; n <= 600; n++) {
          await publisher.publishAsync(topic('tm-01', 'telemetry'), belt(n), { qos: 1 });
          if (n === 350) await broker.restart();
        }
      })();
      await flowing;

      const reader = new StreamReader(kit.kinesis.client, kit.streamName);
      await waitUntil(
        '600 events in Kinesis',
        async () => (await reader.poll(), distinctById(reader.events).unique.size >= 600),
        30_000,
      );
      await gateway.stop(2_000);
      const { unique, conflicting } = distinctById(reader.events);
      expect(conflicting).toEqual([]);
      expect(unique.size).toBe(600);
      expect(distances(reader, 'tm-01')).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      expect(orderViolations(reader.events)).toEqual([]);
      // seq continued across the gateway restart.
      expect([...unique.values()].map((event) => event.seq)).toEqual(
        Array.from({ length: 600 }, (_, i) => i + 1),
      );
    } finally {
      await publisher.endAsync(true);
    }
  });

  it('never reads an oversized packet: MQTT 5 Maximum Packet Size keeps it at the broker', async () => {
    const config = configFor(kit, join(dir, 'spool-oversized'), broker.url, 5);
    const gateway = await Gateway.start({
      config: { ...config, mqtt: config.mqtt && { ...config.mqtt, clientId: 'it-oversized' } },
      log: () => undefined,
    });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'it-pub-big' });
    try {
      await waitUntil('connected', () => gateway.health().status === 'ok');
      // 4 MiB in one publish (the gateway's payload limit is 64 KiB), then an ordinary reading.
      const huge = JSON.stringify({ type: 'belt', speedKmh: 5, note: 'x'.repeat(4 * 1024 * 1024) });
      await publisher.publishAsync(topic('tm-09', 'telemetry'), huge, { qos: 1 });
      await publisher.publishAsync(topic('tm-09', 'telemetry'), belt(1), { qos: 1 });
      await waitUntil(
        'the ordinary reading',
        async () =>
          (await scrapeMetrics(gateway.httpUrl)).get('retrostride_gateway_events_in_total{source="mqtt"}') ===
          1,
      );
      const metrics = await scrapeMetrics(gateway.httpUrl);
      expect(metrics.get('retrostride_gateway_mqtt_bytes_in_total')).toBeLessThan(64 * 1024);
      expect(gateway.health().status).toBe('ok');
    } finally {
      await publisher.endAsync();
      await gateway.stop(2_000);
    }
  });
});
