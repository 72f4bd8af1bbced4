/** Reads a Kinesis stream back from the start (tests and benchmarks check what the gateway shipped). */
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import {
  type KinesisRecordBody,
  kinesisRecordSchema,
  type TelemetryEvent,
} from '../../shared/src/telemetry/events.js';

/** Reads every shard of a stream from the start and then on, remembering where it left off. */
export class StreamReader {
  readonly events: TelemetryEvent[] = [];
  readonly records: KinesisRecordBody[] = [];
  #iterators: Map<string, string> | undefined;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  /** Fetches what arrived since the last call; returns the new events. */
  async poll(): Promise<TelemetryEvent[]> {
    this.#iterators ??= await this.#open();
    const fresh: TelemetryEvent[] = [];
    for (const [shardId, iterator] of this.#iterators) {
      let next: string | undefined = iterator;
      for (;;) {
        const page: GetRecordsCommandOutput = await this.client.send(
          new GetRecordsCommand({ ShardIterator: next, Limit: 10_000 }),
        );
        next = page.NextShardIterator;
        for (const record of page.Records ?? []) {
          const body = kinesisRecordSchema.parse(JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')));
          this.records.push(body);
          for (const event of body.events as TelemetryEvent[]) fresh.push(event);
        }
        if ((page.Records ?? []).length === 0 || next === undefined) break;
      }
      if (next !== undefined) this.#iterators.set(shardId, next);
    }
    for (const event of fresh) this.events.push(event);
    return fresh;
  }

  async #open(): Promise<Map<string, string>> {
    const { Shards = [] } = await this.client.send(new ListShardsCommand({ StreamName: this.streamName }));
    const iterators = new Map<string, string>();
    for (const shard of Shards) {
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({
          StreamName: this.streamName,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      if (shard.ShardId && ShardIterator) iterators.set(shard.ShardId, ShardIterator);
    }
    return iterators;
  }
}
