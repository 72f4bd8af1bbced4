import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../gateway-agent/src/config.js';

const minimal = {
  gymId: 'gym-a',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  spool: { dir: '/var/lib/retrostride/spool' },
  kinesis: { streamName: 'telemetry', region: 'eu-west-1' },
};

function reasonFor(document: unknown): string {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway config', () => {
  it('accepts the shipped example', async () => {
    const example = parse(await readFile('gateway-agent/gateway.example.yaml', 'utf8'));
    expect(parseConfig(example)).toMatchObject({ gymId: 'gym-0042', spool: { maxBytes: 2 ** 30 } });
  });

  it('fills in defaults', () => {
    expect(parseConfig(minimal)).toMatchObject({
      mqtt: { protocolVersion: 5, topicFilter: 'gyms/+/treadmills/+/+', maxInFlight: 10_000 },
      spool: { maxBytes: 2 ** 30, policy: 'drop-oldest', windowBytes: 32 * 2 ** 20 },
      kinesis: { lingerMs: 250, maxInFlightBytes: 8 * 2 ** 20 },
      http: { host: '127.0.0.1', port: 9464 },
    });
  });

  it('reads sizes written with units', () => {
    const config = parseConfig({
      ...minimal,
      spool: { dir: '/s', maxBytes: '512MiB', segmentBytes: '4 MiB' },
    });
    expect(config.spool).toMatchObject({ maxBytes: 512 * 2 ** 20, segmentBytes: 4 * 2 ** 20 });
    expect(reasonFor({ ...minimal, spool: { dir: '/s', maxBytes: 'lots' } })).toContain('spool.maxBytes');
  });

  it('bounds the memory settings, so that a typo cannot take the box’s memory or starve the sink', () => {
    const config = parseConfig({
      ...minimal,
      spool: { dir: '/s', windowBytes: '8MiB' },
      kinesis: { ...minimal.kinesis, maxInFlightBytes: '2 MiB' },
    });
    expect(config.spool.windowBytes).toBe(8 * 2 ** 20);
    expect(config.kinesis.maxInFlightBytes).toBe(2 * 2 ** 20);
    expect(reasonFor({ ...minimal, spool: { dir: '/s', windowBytes: '2GiB' } })).toContain(
      'spool.windowBytes',
    );
    expect(reasonFor({ ...minimal, kinesis: { ...minimal.kinesis, maxInFlightBytes: 1024 } })).toContain(
      'kinesis.maxInFlightBytes',
    );
  });

  it('names each bad key and why, on one line', () => {
    const reason = reasonFor({
      ...minimal,
      mqtt: { url: 'http://broker', protocolVersion: 3 },
      spool: { dir: '/s', policy: 'keep-all', colour: 'blue' },
    });
    expect(reason).not.toContain('\n');
    for (const key of ['mqtt.url', 'mqtt.protocolVersion: expected 4', 'spool.policy', 'colour'])
      expect(reason).toContain(key);
    expect(reasonFor({ ...minimal, mqtt: { ...minimal.mqtt, certFile: '/c.pem' } })).toContain(
      'mqtt.certFile: certFile and keyFile go together',
    );
  });

  it('requires a source and a small enough segment', () => {
    expect(reasonFor({ ...minimal, mqtt: undefined })).toContain('at least one source');
    expect(reasonFor({ ...minimal, spool: { dir: '/s', maxBytes: '16MiB' } })).toContain('spool.maxBytes');
    expect(reasonFor({ ...minimal, ble: { allowlist: { 'not-an-address': 'tm-1' } } })).toContain(
      'ble.allowlist',
    );
  });
});
