/**
 * The gateway agent: sources (MQTT, BLE) -> stamping -> durable spool -> Kinesis sink, with /healthz and
 * /metrics. Stopping takes no new input, makes what was taken durable, flushes to Kinesis for a bounded
 * time and leaves the rest in the spool for the next start.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../shared/src/aws/kinesis-client.js';
import { defaultClientId, type GatewayConfig, readTlsFiles } from './config.js';
import { type Health, type HttpEndpoint, serveHttp } from './http.js';
import { batchLimitFor, DurableIntake } from './intake.js';
import { KinesisSink, type SinkStats } from './kinesis-sink.js';
import { formatPrometheus, type MetricFamily } from './metrics.js';
import { RejectLog, type RejectSample } from './rejects.js';
import { BleSource, type BleTransport } from './sources/ble.js';
import { BluezTransport } from './sources/ble-bluez.js';
import { ReplayTransport } from './sources/ble-replay.js';
import { MqttSource } from './sources/mqtt.js';
import { MqttMessageParser } from './sources/mqtt-message.js';
import { DEFAULT_JOURNAL_CAPACITY, RedeliveryJournal } from './sources/redelivery.js';
import { Spool, type SpoolStats } from './spool.js';
import { EventStamper } from './stamp.js';

export const DEFAULT_FLUSH_MS = 10_000;
/** /healthz turns degraded past this share of spool.maxBytes. */
const SPOOL_FULL_WARNING = 0.8;
/** ... and when events wait while no put has succeeded for this long. */
const STALLED_PUT_MS = 60_000;
const FLUSH_POLL_MS = 50;
export const JOURNAL_FILE = 'mqtt-redelivery.journal';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** A replay file for the BLE source, overriding ble.replayFile. */
  readonly bleReplay?: string;
  readonly log?: (line: string) => void;
  /** Tests may bring their own client; otherwise built from kinesis.endpoint/region and the SDK chain. */
  readonly kinesis?: KinesisClient;
  readonly now?: () => number;
}

/** A message as a broker delivered it, with the time the gateway received it. */
export interface RecordedMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly rxTs: number;
}

export interface ReplaySummary {
  readonly events: number;
  readonly rejected: number;
}

/** Recorded readings submitted before the replay waits for the spool: bounds what is held in memory. */
const REPLAY_CHUNK = 4_096;

export class Gateway {
  #http: HttpEndpoint | undefined;
  #mqtt: MqttSource | undefined;
  #ble: BleSource | undefined;
  #bleError: string | undefined;
  #stopping: Promise<void> | undefined;
  readonly #startedAt: number;

  private constructor(
    private readonly options: GatewayOptions,
    private readonly spool: Spool,
    private readonly journal: RedeliveryJournal | undefined,
    private readonly intake: DurableIntake,
    private readonly sink: KinesisSink,
    private readonly kinesis: KinesisClient,
    private readonly rejects: RejectLog,
  ) {
    this.#startedAt = this.now();
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const { config } = options;
    const log = options.log ?? ((line: string) => console.error(line));
    const tls = config.mqtt ? await readTlsFiles(config.mqtt) : undefined;
    const spool = await Spool.open({
      dir: config.spool.dir,
      maxBytes: config.spool.maxBytes,
      policy: config.spool.policy,
      windowBytes: config.spool.windowBytes,
      ...(config.spool.segmentBytes === undefined ? {} : { segmentBytes: config.spool.segmentBytes }),
      log,
    });
    const lastSeq = (key: string) => spool.lastSeq(key);
    const journal = config.mqtt
      ? await RedeliveryJournal.open(
          join(config.spool.dir, JOURNAL_FILE),
          lastSeq,
          Math.max(DEFAULT_JOURNAL_CAPACITY, 4 * config.mqtt.maxInFlight),
        )
      : undefined;
    const intake = new DurableIntake(spool, new EventStamper(lastSeq), {
      ...(journal ? { journal } : {}),
      onJournalError: (error) => log(`mqtt: redelivery journal: ${(error as Error).message}`),
      maxBatchEvents: batchLimitFor(config.spool.maxBytes),
    });
    const kinesis =
      options.kinesis ??
      kinesisClient({
        ...(config.kinesis.endpoint ? { endpoint: config.kinesis.endpoint } : {}),
        ...(config.kinesis.region ? { region: config.kinesis.region } : {}),
      });
    const sink = new KinesisSink(spool, {
      client: kinesis,
      streamName: config.kinesis.streamName,
      lingerMs: config.kinesis.lingerMs,
      maxInFlightBytes: config.kinesis.maxInFlightBytes,
      log,
    });
    const gateway = new Gateway({ ...options, log }, spool, journal, intake, sink, kinesis, new RejectLog());
    try {
      sink.start();
      gateway.#http = await serveHttp(gateway, config.http.host, config.http.port);
      log(`gateway: gym ${config.gymId}, spool epoch ${spool.epoch}, http on ${gateway.#http.url}`);
      if (config.mqtt)
        gateway.#mqtt = new MqttSource({
          config: config.mqtt,
          gymId: config.gymId,
          clientId: config.mqtt.clientId ?? defaultClientId(config.gymId),
          intake,
          rejects: gateway.rejects,
          journal,
          ...(tls ? { tls } : {}),
          log,
          now: () => gateway.now(),
        });
      const replay = options.bleReplay ?? config.ble?.replayFile;
      if (config.ble || replay) await gateway.#startBle(replay, log);
    } catch (error) {
      // Half-started: close the spool cleanly so that the next start finds it as it was.
      await gateway.stop(0).catch(() => undefined);
      throw error;
    }
    return gateway;
  }

  get httpUrl(): string {
    return this.#http?.url ?? '';
  }

  /** Stops intake, makes taken messages durable, flushes to Kinesis for up to `flushMs`; safe to call twice. */
  stop(flushMs = DEFAULT_FLUSH_MS): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all([this.#mqtt?.stop(), this.#ble?.stop()]);
      await this.intake.drain();
      // Ship what the spool holds while the time allows; the sink then abandons what is still in flight.
      const deadline = Date.now() + flushMs;
      while (this.spool.stats().depthEvents > 0 && Date.now() < deadline) await sleep(FLUSH_POLL_MS);
      await this.sink.stop(Math.max(0, deadline - Date.now()));
      await this.spool.close();
      await this.journal?.close();
      await this.#http?.close();
      if (this.options.kinesis === undefined) this.kinesis.destroy();
    })();
    return this.#stopping;
  }

  /**
   * Takes recorded broker traffic as if it had arrived at its recorded receive times (the dev stack's
   * history of the simulated gyms, a capture): parsed, checked and stamped exactly like live MQTT, in order,
   * and durable in the spool when this resolves. Seqs follow submission order, so replay a treadmill's past
   * before its live traffic, never beside it.
   */
  async replayRecorded(messages: Iterable<RecordedMessage>): Promise<ReplaySummary> {
    const { config } = this.options;
    const parser = new MqttMessageParser({
      gymId: config.gymId,
      ...(config.mqtt?.treadmillAllowlist ? { treadmillAllowlist: config.mqtt.treadmillAllowlist } : {}),
    });
    let events = 0;
    let rejected = 0;
    let durable: Promise<void> = Promise.resolve();
    for (const message of messages) {
      const outcome = parser.parse(message.topic, message.payload, message.rxTs);
      if (outcome.outcome === 'rejected') {
        rejected++;
        this.rejects.record({
          at: message.rxTs,
          source: 'replay',
          reason: outcome.reason,
          detail: outcome.detail,
          origin: message.topic,
          preview: Buffer.from(message.payload.subarray(0, 200)).toString('utf8'),
        });
      } else if (outcome.outcome === 'event') {
        durable = this.intake.submit('replay', outcome.reading);
        if (++events % REPLAY_CHUNK === 0) await durable;
      }
    }
    await durable;
    return { events, rejected };
  }

  health(): Health {
    const reasons: string[] = [];
    const now = this.now();
    const mqtt = this.#mqtt?.stats();
    if (mqtt && !mqtt.connected) reasons.push('mqtt disconnected');
    if (this.#bleError) reasons.push(`ble unavailable: ${this.#bleError}`);
    const spool = this.spool.stats();
    const fill = spool.depthBytes / this.options.config.spool.maxBytes;
    if (fill > SPOOL_FULL_WARNING) reasons.push(`spool ${Math.round(fill * 100)}% full`);
    // Stays until a restart: readings are gone and the disk may be failing, which someone should look at.
    if (spool.damage.summary !== null) reasons.push(spool.damage.summary);
    const lastPut = this.sink.stats().lastSuccessTs ?? this.#startedAt;
    if (spool.depthEvents > 0 && now - lastPut > STALLED_PUT_MS)
      reasons.push(
        `no successful put for ${Math.round((now - lastPut) / 1000)} s with ${spool.depthEvents} events waiting`,
      );
    return { status: reasons.length === 0 ? 'ok' : 'degraded', reasons };
  }

  stats(): { spool: SpoolStats; sink: SinkStats } {
    return { spool: this.spool.stats(), sink: this.sink.stats() };
  }

  rejectSamples(): readonly RejectSample[] {
    return this.rejects.samples();
  }

  metrics(): string {
    return formatPrometheus(this.#metricFamilies());
  }

  async #startBle(replay: string | undefined, log: (line: string) => void): Promise<void> {
    const transport: BleTransport = replay ? new ReplayTransport(replay) : new BluezTransport(log);
    const ble = new BleSource({
      gymId: this.options.config.gymId,
      allowlist: this.options.config.ble?.allowlist ?? {},
      transport,
      intake: this.intake,
      rejects: this.rejects,
      log,
      now: () => this.now(),
    });
    try {
      await ble.start();
      this.#ble = ble;
    } catch (error) {
      // The gateway keeps serving MQTT; /healthz reports the BLE problem.
      this.#bleError = (error as Error).message;
      log(`ble: ${this.#bleError}`);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  #metricFamilies(): MetricFamily[] {
    const now = this.now();
    const intake = this.intake.stats();
    const spool = this.spool.stats();
    const sink = this.sink.stats();
    const mqtt = this.#mqtt?.stats();
    const ble = this.#ble?.stats();
    const memory = process.memoryUsage();
    const family = (
      name: string,
      type: MetricFamily['type'],
      help: string,
      samples: MetricFamily['samples'],
    ): MetricFamily => ({ name: `retrostride_gateway_${name}`, type, help, samples });
    const one = (value: number) => [{ value }];
    const families = [
      family(
        'events_in_total',
        'counter',
        'Events made durable in the spool, by source.',
        Object.entries(intake.eventsIn).map(([source, value]) => ({ labels: { source }, value })),
      ),
      family(
        'rejected_total',
        'counter',
        'Input rejected, by source and reason (see /rejects for samples).',
        this.rejects
          .counts()
          .map(({ source, reason, count }) => ({ labels: { source, reason }, value: count })),
      ),
      family('events_out_total', 'counter', 'Events Kinesis acknowledged.', one(sink.eventsOut)),
      family('records_out_total', 'counter', 'Kinesis records acknowledged.', one(sink.recordsOut)),
      family('bytes_out_total', 'counter', 'Bytes of Kinesis records acknowledged.', one(sink.bytesOut)),
      family('kinesis_retries_total', 'counter', 'Record entries retried.', one(sink.retries)),
      family('kinesis_throttles_total', 'counter', 'Entries throttled by Kinesis.', one(sink.throttles)),
      family(
        'kinesis_failed_calls_total',
        'counter',
        'PutRecords calls that failed whole.',
        one(sink.failedCalls),
      ),
      family('kinesis_in_flight_records', 'gauge', 'Records sent and not yet answered.', one(sink.inFlight)),
      family(
        'last_successful_put_timestamp_seconds',
        'gauge',
        'When Kinesis last acknowledged a put (0: never since start).',
        one((sink.lastSuccessTs ?? 0) / 1000),
      ),
      family(
        'spool_depth_events',
        'gauge',
        'Events in the spool that Kinesis has not acknowledged.',
        one(spool.depthEvents),
      ),
      family('spool_depth_bytes', 'gauge', 'Size of the spool segment files.', one(spool.depthBytes)),
      family('spool_max_bytes', 'gauge', 'Configured spool bound.', one(this.options.config.spool.maxBytes)),
      family(
        'spool_oldest_age_seconds',
        'gauge',
        'Age of the oldest unacknowledged event (0 when none).',
        one(spool.oldestTs === null ? 0 : Math.max(0, (now - spool.oldestTs) / 1000)),
      ),
      family('spool_appended_total', 'counter', 'Events appended to the spool.', one(spool.appended)),
      family(
        'spool_dropped_total',
        'counter',
        'Unshipped events dropped by drop-oldest.',
        one(spool.dropped),
      ),
      family('spool_rejected_total', 'counter', 'Events refused by reject-new.', one(spool.rejected)),
      family(
        'spool_corrupt_events_total',
        'counter',
        'Unshipped events lost to damage inside spool segments (torn tails of a crash aside).',
        one(spool.damage.events),
      ),
      family(
        'spool_corrupt_bytes_total',
        'counter',
        'Bytes of damaged spool entries skipped.',
        one(spool.damage.bytes),
      ),
      family(
        'spool_info',
        'gauge',
        "The spool's epoch: the run of seqs its records carry (a new spool starts a later one).",
        [{ labels: { epoch: this.spool.epoch }, value: 1 }],
      ),
      family(
        'intake_pending_events',
        'gauge',
        'Events stamped and waiting for their spool append.',
        one(intake.pending),
      ),
      family('resident_memory_bytes', 'gauge', 'Resident set size of the gateway process.', one(memory.rss)),
      family('heap_used_bytes', 'gauge', 'V8 heap in use.', one(memory.heapUsed)),
      family(
        'heap_total_bytes',
        'gauge',
        'V8 heap reserved (used, free and young generation).',
        one(memory.heapTotal),
      ),
      family('external_memory_bytes', 'gauge', 'Memory outside the V8 heap (buffers).', one(memory.external)),
      family(
        'array_buffers_bytes',
        'gauge',
        'Of external: Buffers and ArrayBuffers.',
        one(memory.arrayBuffers),
      ),
    ];
    if (mqtt)
      families.push(
        family('mqtt_connected', 'gauge', '1 when connected to the broker.', one(mqtt.connected ? 1 : 0)),
        family('mqtt_connects_total', 'counter', 'Successful connections to the broker.', one(mqtt.connects)),
        family('mqtt_bytes_in_total', 'counter', 'MQTT payload bytes received.', one(mqtt.bytesIn)),
        family(
          'mqtt_messages_total',
          'counter',
          'MQTT messages by outcome (event, absorbed: no event yet, rejected, redelivered: already spooled).',
          Object.entries(mqtt.messages).map(([outcome, value]) => ({ labels: { outcome }, value })),
        ),
        family(
          'mqtt_pending_acks',
          'gauge',
          'Messages waiting for durability before their PUBACK.',
          one(mqtt.pendingAcks),
        ),
        family(
          'mqtt_spool_refusals_total',
          'counter',
          'Messages left with the broker because the spool refused them.',
          one(mqtt.spoolRefusals),
        ),
      );
    if (ble)
      families.push(
        family('ble_links_up', 'gauge', 'BLE links currently up.', one(ble.linksUp)),
        family('ble_notifications_total', 'counter', 'BLE notifications received.', one(ble.notifications)),
        family('ble_events_total', 'counter', 'BLE notifications that made an event.', one(ble.events)),
        family(
          'ble_spool_refusals_total',
          'counter',
          'BLE events lost because the spool refused them.',
          one(ble.spoolRefusals),
        ),
      );
    return families;
  }
}
