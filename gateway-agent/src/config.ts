/**
 * The gateway's YAML configuration (README "Configuration reference"), validated with zod. Objects are
 * strict, so a misspelt key is reported instead of silently ignored.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { gymIdSchema, treadmillIdSchema } from '../../shared/src/telemetry/events.js';
import { validateWith } from '../../shared/src/telemetry/validate.js';

/** A bad configuration: the CLI prints it as one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const UNITS: Record<string, number> = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** 1073741824, "1GiB", "512 MiB" and "64KiB" are all accepted, so IT can write sizes readably. */
const byteSize = z
  .union([
    z.number(),
    z.string().transform((text, context) => {
      const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]iB|B)?\s*$/i.exec(text);
      const unit = UNITS[(match?.[2] ?? 'b').toLowerCase()];
      if (!match || unit === undefined) {
        context.addIssue({ code: 'custom', message: 'expected a byte count such as 1073741824 or "1GiB"' });
        return z.NEVER;
      }
      return Math.floor(Number(match[1]) * unit);
    }),
  ])
  .pipe(z.number().int().positive());

const bleAddress = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, 'expected a BLE address such as "AA:BB:CC:DD:EE:FF"')
  .transform((address) => address.toUpperCase());

const mqttSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine(
        (url) => /^(mqtts?|tcp|ssl|wss?):/.test(url),
        'expected an mqtt://, mqtts://, ws:// or wss:// URL',
      ),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)], { error: 'expected 4 (MQTT 3.1.1) or 5 (MQTT 5)' })
      .default(5),
    topicFilter: z.string().min(1).default('gyms/+/treadmills/+/+'),
    /** Fixed, so the broker keeps this gateway's persistent session (and its unacknowledged messages). */
    clientId: z.string().min(1).max(128).optional(),
    /** When set, only these treadmills are accepted. */
    treadmillAllowlist: z.array(treadmillIdSchema).min(1).optional(),
    /** Messages received but not yet durable; past it the gateway stops reading from the broker. */
    maxInFlight: z.number().int().min(1).max(65_535).default(10_000),
    reconnectMs: z.number().int().min(100).default(1_000),
  })
  .strict()
  .refine((mqtt) => (mqtt.certFile === undefined) === (mqtt.keyFile === undefined), {
    message: 'certFile and keyFile go together',
    path: ['certFile'],
  });

const bleSchema = z
  .object({
    /** BLE address -> treadmill id; notifications from any other address are ignored (and counted). */
    allowlist: z.record(bleAddress, treadmillIdSchema),
    replayFile: z.string().min(1).optional(),
  })
  .strict();

const spoolSchema = z
  .object({
    dir: z.string().min(1),
    maxBytes: byteSize.default(2 ** 30),
    /** Size of one segment file; maxBytes must hold at least two. */
    segmentBytes: byteSize.optional(),
    policy: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
    /** Memory for unshipped events ready to ship; older ones wait on disk and are paged back in. */
    windowBytes: byteSize
      .pipe(
        z
          .number()
          .min(2 ** 20)
          .max(2 ** 30),
      )
      .default(32 * 2 ** 20),
  })
  .strict()
  .refine((spool) => spool.maxBytes >= 2 * (spool.segmentBytes ?? 16 * 2 ** 20), {
    message: 'maxBytes must hold at least two segments (segmentBytes, default 16MiB)',
    path: ['maxBytes'],
  });

const kinesisSchema = z
  .object({
    streamName: z.string().min(1).max(128),
    region: z.string().min(1).optional(),
    endpoint: z.string().url().optional(),
    lingerMs: z.number().int().min(0).max(60_000).default(250),
    /** Bytes of records on their way to Kinesis at once (a backlog drain's memory); one call always goes. */
    maxInFlightBytes: byteSize
      .pipe(
        z
          .number()
          .min(2 ** 16)
          .max(2 ** 30),
      )
      .default(8 * 2 ** 20),
  })
  .strict();

const httpSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(9464),
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    gymId: gymIdSchema,
    mqtt: mqttSchema.optional(),
    ble: bleSchema.optional(),
    spool: spoolSchema,
    kinesis: kinesisSchema,
    http: httpSchema.default({ host: '127.0.0.1', port: 9464 }),
  })
  .strict()
  .refine((config) => config.mqtt !== undefined || config.ble !== undefined, {
    message: 'configure at least one source: mqtt or ble',
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type MqttConfig = NonNullable<GatewayConfig['mqtt']>;
export type BleConfig = NonNullable<GatewayConfig['ble']>;

export const defaultClientId = (gymId: string): string => `retrostride-gateway-${gymId}`;

/** Validates a parsed document; the message names each key and why, on one line. */
export function parseConfig(document: unknown): GatewayConfig {
  const result = validateWith(gatewayConfigSchema, document);
  if (!result.ok) throw new ConfigError(result.reason);
  return result.value;
}

export async function loadConfig(path: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    return parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`);
    throw error;
  }
}

/** TLS material named by the config, read once at start; an unreadable file is a config error naming its key. */
export async function readTlsFiles(mqtt: MqttConfig): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const read = async (key: 'caFile' | 'certFile' | 'keyFile') => {
    const path = mqtt[key];
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(`mqtt.${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('caFile'), read('certFile'), read('keyFile')]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
