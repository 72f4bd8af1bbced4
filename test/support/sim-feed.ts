/**
 * Realistic data for browser and API tests without a broker or a stream: a seeded GymSimulator's MQTT
 * messages go through the gateway's own parser and stamper (as the gateway agent would), are packed into
 * Kinesis records per treadmill and handed to the REAL ingest handler, one invocation per simulated step.
 */
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import type { Processing } from '../../functions/lib/processing.js';
import { MqttMessageParser } from '../../gateway-agent/src/sources/mqtt-message.js';
import { EventStamper } from '../../gateway-agent/src/stamp.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { GymSimulator, type SimulatorOptions } from '../../scripts/sim/gym-simulator.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { eventsRecord, kinesisEvent } from './kinesis-records.js';

/** A gateway puts a treadmill's events of a moment into one record, up to a size; this many is well under. */
const EVENTS_PER_RECORD = 100;
/** Receive delay between the device's clock and the gateway's. */
const RX_DELAY_MS = 25;

export interface FeedReport {
  messages: number;
  events: number;
  rejected: number;
}

export class SimulatedGyms {
  readonly #simulator: GymSimulator;
  readonly #parsers = new Map<string, MqttMessageParser>();
  readonly #stampers = new Map<string, EventStamper>();
  readonly #ingest: ReturnType<typeof createIngestHandler>;
  #clock: number;

  constructor(processing: Processing, options: Partial<SimulatorOptions>, startTs: number) {
    this.#simulator = new GymSimulator(options, startTs);
    this.#ingest = createIngestHandler(() => processing);
    this.#clock = startTs;
  }

  get clock(): number {
    return this.#clock;
  }

  /** Simulates up to `untilTs` in steps of `stepMs`, ingesting each step as one Kinesis batch. */
  async advanceTo(untilTs: number, stepMs = 30_000): Promise<FeedReport> {
    const report: FeedReport = { messages: 0, events: 0, rejected: 0 };
    while (this.#clock < untilTs) {
      this.#clock = Math.min(untilTs, this.#clock + stepMs);
      const byTreadmill = new Map<string, TelemetryEvent[]>();
      for (const message of this.#simulator.advance(this.#clock)) {
        report.messages++;
        const gymId = message.topic.split('/')[1] ?? '';
        const deviceTs = typeof message.payload.ts === 'number' ? message.payload.ts : this.#clock;
        const outcome = this.#parser(gymId).parse(
          message.topic,
          Buffer.from(JSON.stringify(message.payload)),
          Math.round(deviceTs) + RX_DELAY_MS,
        );
        if (outcome.outcome === 'rejected') report.rejected++;
        if (outcome.outcome !== 'event') continue;
        const event = this.#stamper(gymId).stamp(outcome.reading);
        const key = `${event.gymId}/${event.treadmillId}`;
        const list = byTreadmill.get(key) ?? [];
        list.push(event);
        byTreadmill.set(key, list);
        report.events++;
      }
      const records = [...byTreadmill.values()].flatMap((events) => {
        const chunks = [];
        for (let i = 0; i < events.length; i += EVENTS_PER_RECORD)
          chunks.push(eventsRecord(events.slice(i, i + EVENTS_PER_RECORD)));
        return chunks;
      });
      if (records.length === 0) continue;
      const response = (await this.#ingest(
        kinesisEvent(records),
        lambdaContext('ingest', 'us-east-1', '000000000000'),
      )) as KinesisStreamBatchResponse;
      if (response.batchItemFailures.length > 0)
        throw new Error(`ingest failed ${response.batchItemFailures.length} records`);
    }
    return report;
  }

  #parser(gymId: string): MqttMessageParser {
    let parser = this.#parsers.get(gymId);
    if (!parser) {
      parser = new MqttMessageParser({ gymId });
      this.#parsers.set(gymId, parser);
    }
    return parser;
  }

  #stamper(gymId: string): EventStamper {
    let stamper = this.#stampers.get(gymId);
    if (!stamper) {
      stamper = new EventStamper(() => 0);
      this.#stampers.set(gymId, stamper);
    }
    return stamper;
  }
}
