/**
 * Hostile input against the real local stack (`retrostride dev --no-sim`: aedes, gateways, Kinesis and
 * DynamoDB emulators, the ingest handler), published with a real MQTT client. For each attack: the hostile
 * input is counted where an operator can see it (the gateway's /rejects and metrics), the treadmill's next
 * ordinary session is summarised and served by the API, and nothing else is lost. A wiped gateway spool
 * (a reinstall, a new SD card) gets its gym's data flowing again at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway-agent/src/agent.js';
import { parseConfig } from '../../gateway-agent/src/config.js';
import { FleetRepo } from '../../functions/lib/fleet-repo.js';
import { SessionsRepo } from '../../functions/lib/sessions-repo.js';
import { type DevStack, startDevStack } from '../../scripts/local/dev-stack.js';
import { LOCAL_REGION } from '../../scripts/local/kit.js';
import { waitUntil } from '../support/gateway.js';

const READINGS = 30;

describe('hostile input against the local stack', () => {
  let dataDir: string;
  let stack: DevStack;
  let client: MqttClient;
  let token: string;

  const topic = (gymId: string, treadmillId: string, kind: string) =>
    `gyms/${gymId}/treadmills/${treadmillId}/${kind}`;

  /** An ordinary session, `READINGS` belt readings a second apart ending now, with `extra` messages inside. */
  async function walk(
    gymId: string,
    treadmillId: string,
    extra: ReadonlyArray<[string, string | Buffer]> = [],
  ): Promise<void> {
    const start = Date.now() - (READINGS + 2) * 1000;
    const publish = (kind: string, body: object, ts: number) =>
      client.publishAsync(topic(gymId, treadmillId, kind), JSON.stringify({ ...body, ts }), { qos: 1 });
    await publish(
      'session',
      { type: 'session', action: 'start', userToken: 'm_hostile_1', program: 'backward' },
      start,
    );
    for (let i = 1; i <= READINGS; i++) {
      await publish(
        'telemetry',
        { type: 'belt', speedKmh: 3, direction: 'backward', distanceM: i },
        start + i * 1000,
      );
      if (i === READINGS / 2)
        for (const [hostileTopic, payload] of extra)
          await client.publishAsync(hostileTopic, payload, { qos: 1 });
    }
    await publish('session', { type: 'session', action: 'end' }, start + (READINGS + 1) * 1000);
  }

  /** The gym's ended sessions of a treadmill as the API serves them to its operator. */
  async function servedSessions(gymId: string, treadmillId: string): Promise<Array<{ movingS?: number }>> {
    const response = await fetch(`${stack.api.url}/api/gyms/${gymId}/sessions?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as {
      sessions: Array<{ treadmillId: string; status: string; movingS?: number }>;
    };
    return body.sessions.filter(
      (session) => session.treadmillId === treadmillId && session.status === 'ended',
    );
  }

  const rejects = async (gateway: Gateway) =>
    (await (await fetch(`${gateway.httpUrl}/rejects`)).json()) as Array<{ reason: string; detail: string }>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'retrostride-hostile-'));
    stack = await startDevStack({
      dataDir,
      fresh: true,
      port: 0,
      host: '127.0.0.1',
      mqttPort: 0,
      simulate: false,
      simulator: { gyms: 2 },
      scheduleMs: 60_000,
      batchingWindowMs: 200,
      historyWeeks: 0,
      log: () => undefined,
    });
    client = await mqtt.connectAsync(stack.kit.mqtt.url, { protocolVersion: 4, clientId: 'hostile' });
    const login = await fetch(`${stack.api.url}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator-a', password: 'retro-a' }),
    });
    token = ((await login.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    await client?.endAsync();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a reading beyond physics (1e16 kcal) and serves the session around it and the next one', async () => {
    const gateway = stack.gateways[0] as Gateway;
    await walk('gym-a', 'tm-01', [
      [topic('gym-a', 'tm-01', 'telemetry'), JSON.stringify({ type: 'belt', speedKmh: 3, energyKcal: 1e16 })],
      [topic('gym-a', 'tm-01', 'status'), JSON.stringify({ type: 'machine', odometerKm: 2 ** 53 })],
    ]);
    await walk('gym-a', 'tm-01');
    await waitUntil(
      'both sessions served',
      async () => (await servedSessions('gym-a', 'tm-01')).length === 2,
      30_000,
    );
    const refused = (await rejects(gateway)).filter((sample) => sample.reason === 'schema_violation');
    expect(refused.map((sample) => sample.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^energyKcal: /),
        expect.stringMatching(/^odometerKm: /),
      ]),
    );
  }, 60_000);

  it('counts oversized, malformed and misaddressed messages, and loses nothing of the treadmills beside them', async () => {
    const gateway = stack.gateways[0] as Gateway;
    await walk('gym-a', 'tm-02', [
      [topic('gym-a', 'tm-02', 'telemetry'), Buffer.alloc(100 * 1024, 'x')],
      [topic('gym-a', 'tm-02', 'telemetry'), '{"type":"belt","speedKmh":'],
      [
        topic('gym-a', 'tm-02', 'telemetry'),
        JSON.stringify({ type: 'belt', speedKmh: 3, treadmillId: 'tm-03' }),
      ],
      [topic('gym-a', 'tm-02', 'teleport'), '{}'],
    ]);
    await waitUntil(
      'the session served',
      async () => (await servedSessions('gym-a', 'tm-02')).length === 1,
      30_000,
    );
    const reasons = new Set((await rejects(gateway)).map((sample) => sample.reason));
    for (const reason of ['payload_too_large', 'invalid_json', 'identity_mismatch', 'unknown_kind'])
      expect(reasons).toContain(reason);
    const [served] = await servedSessions('gym-a', 'tm-02');
    expect(served?.movingS).toBeGreaterThanOrEqual(READINGS - 2);
  }, 60_000);

  it('rate-limits a console spamming session starts, and serves the member who walks after it', async () => {
    const gateway = stack.gateways[0] as Gateway;
    const now = Date.now();
    for (let i = 0; i < 100; i++) {
      const at = now - 60_000 + i * 100;
      await client.publishAsync(
        topic('gym-a', 'tm-05', 'session'),
        JSON.stringify({ type: 'session', action: i % 2 === 0 ? 'start' : 'end', ts: at }),
        { qos: 1 },
      );
    }
    await walk('gym-a', 'tm-05');
    const whole = async () =>
      (await servedSessions('gym-a', 'tm-05')).filter((session) => (session.movingS ?? 0) >= READINGS - 2);
    await waitUntil('the walk served', async () => (await whole()).length === 1, 30_000);
    expect((await rejects(gateway)).some((sample) => sample.reason === 'rate_limited')).toBe(true);
    // At most the burst of starts became sessions, not fifty.
    expect((await servedSessions('gym-a', 'tm-05')).length).toBeLessThanOrEqual(11);
  }, 60_000);

  it('does not let a device clock a year ahead make a treadmill live for ever', async () => {
    const future = Date.now() + 365 * 86_400_000;
    await client.publishAsync(
      topic('gym-a', 'tm-04', 'status'),
      JSON.stringify({ type: 'heartbeat', online: true, ts: future }),
      { qos: 1 },
    );
    const fleet = new FleetRepo(stack.kit.dynamo.doc, stack.kit.tables.fleet);
    let lastSeen = 0;
    await waitUntil(
      'the heartbeat ingested',
      async () => {
        const treadmill = (await fleet.listGym('gym-a')).find(
          (record) => record.state.treadmillId === 'tm-04',
        );
        lastSeen = treadmill?.state.lastSeenTs ?? 0;
        return lastSeen > 0;
      },
      30_000,
    );
    expect(lastSeen).toBeLessThan(Date.now() + 60_000);
  }, 60_000);

  it("gets a gym's data flowing again at once after its gateway's spool is wiped", async () => {
    const gymId = 'gym-c';
    const spoolDir = join(dataDir, 'gateway-gym-c');
    const config = parseConfig({
      gymId,
      mqtt: { url: stack.kit.mqtt.url, protocolVersion: 4, topicFilter: `gyms/${gymId}/treadmills/+/+` },
      spool: { dir: spoolDir, maxBytes: '64MiB', segmentBytes: '8MiB' },
      kinesis: {
        streamName: stack.kit.streamName,
        endpoint: stack.kit.kinesis.endpoint,
        region: LOCAL_REGION,
      },
      http: { port: 0 },
    });
    const sessions = new SessionsRepo(stack.kit.dynamo.doc, stack.kit.tables.sessions);
    // Whole sessions only: a reset that skips events below the old watermark leaves a stub of the last few.
    const ended = async () =>
      (await sessions.listByGym(gymId, { limit: 100 })).filter(
        (session) => session.status === 'ended' && (session.movingS ?? 0) >= READINGS - 2,
      );

    let gateway = await Gateway.start({ config, log: () => undefined });
    await walk(gymId, 'tm-01');
    await waitUntil('the first session stored', async () => (await ended()).length === 1, 30_000);
    await gateway.stop(2_000);

    // A reinstall: the spool and with it the seq counters are gone.
    await rm(spoolDir, { recursive: true, force: true });
    gateway = await Gateway.start({ config, log: () => undefined });
    try {
      await walk(gymId, 'tm-01');
      await waitUntil('the session after the reset stored', async () => (await ended()).length === 2, 30_000);
    } finally {
      await gateway.stop(2_000);
    }
  }, 90_000);
});
