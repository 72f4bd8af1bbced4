/**
 * The gym broker configuration the project ships (gateway-agent/broker/), run in the real mosquitto: a device
 * publishes on its own treadmill's topics and nothing else; nobody gets in without credentials; the gateway
 * reads every treadmill of its gym.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Mosquitto, startMosquitto } from '../../scripts/local/mosquitto.js';
import { skipMosquitto, waitUntil, warnMosquittoSkip } from '../support/gateway.js';

const BROKER_DIR = new URL('../../gateway-agent/broker/', import.meta.url);
const SECURITY_KEYS = ['per_listener_settings', 'allow_anonymous', 'password_file', 'acl_file'];
const PASSWORDS = { 'gateway-gym-a': 'gateway-secret', 'tm-01': 'tm-01-secret', 'tm-02': 'tm-02-secret' };

warnMosquittoSkip('gym broker ACL (devices pinned to their own topics)');

describe.skipIf(skipMosquitto)('the shipped gym broker configuration, in mosquitto', () => {
  let dir: string;
  let broker: Mosquitto;
  const clients: MqttClient[] = [];

  const connect = async (username?: string) => {
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...(username && { username, password: PASSWORDS[username as keyof typeof PASSWORDS] }),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'retrostride-acl-'));
    const passwordFile = join(dir, 'retrostride.passwd');
    const aclFile = join(dir, 'retrostride.acl');
    await writeFile(passwordFile, '');
    await copyFile(new URL('retrostride.acl', BROKER_DIR), aclFile);
    for (const [username, password] of Object.entries(PASSWORDS))
      await promisify(execFile)('mosquitto_passwd', [
        '-b',
        ...(username === 'gateway-gym-a' ? ['-c'] : []),
        passwordFile,
        username,
        password,
      ]);
    // The shipped security lines, with the files' paths moved into this test's directory.
    const shipped = (await readFile(new URL('mosquitto.conf', BROKER_DIR), 'utf8'))
      .split('\n')
      .filter((line) => SECURITY_KEYS.includes(line.split(' ')[0] ?? ''))
      .map((line) =>
        line
          .replace(/^password_file .*/, `password_file ${passwordFile}`)
          .replace(/^acl_file .*/, `acl_file ${aclFile}`),
      );
    expect(shipped).toHaveLength(SECURITY_KEYS.length);
    // mosquitto started as root drops to its own user, which must be able to read the files.
    await Promise.all([chmod(dir, 0o755), chmod(passwordFile, 0o644), chmod(aclFile, 0o644)]);
    broker = await startMosquitto({ dir, access: shipped });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync()));
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a device publishing on another treadmill, and delivers its own readings to the gateway', async () => {
    const gateway = await connect('gateway-gym-a');
    const received: string[] = [];
    gateway.on('message', (topic) => received.push(topic));
    await gateway.subscribeAsync('gyms/gym-a/treadmills/+/+', { qos: 1 });

    const device = await connect('tm-01');
    await device.publishAsync('gyms/gym-a/treadmills/tm-01/telemetry', '{"type":"belt","speedKmh":3}', {
      qos: 1,
    });
    // MQTT 5: the broker answers PUBACK reason 0x87 (135, not authorized), which mqtt.js raises.
    await expect(
      device.publishAsync(
        'gyms/gym-a/treadmills/tm-02/telemetry',
        '{"type":"belt","speedKmh":3,"energyKcal":1e16}',
        {
          qos: 1,
        },
      ),
    ).rejects.toMatchObject({ code: 135 });

    await waitUntil('the own reading at the gateway', () => received.length > 0, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toEqual(['gyms/gym-a/treadmills/tm-01/telemetry']);
  });

  it('lets no one in without credentials, and a device cannot read the other treadmills', async () => {
    await expect(connect()).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    const listener = await connect('tm-02');
    const overheard: string[] = [];
    listener.on('message', (topic) => overheard.push(topic));
    // Granted, but the broker delivers nothing the ACL does not let it read.
    await listener.subscribeAsync('gyms/gym-a/treadmills/+/+', { qos: 1 });
    const device = await connect('tm-01');
    await device.publishAsync('gyms/gym-a/treadmills/tm-01/telemetry', '{"type":"belt","speedKmh":4}', {
      qos: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(overheard).toEqual([]);
  });
});
