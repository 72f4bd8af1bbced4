import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import {
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventSourceRunner, type EventSourceRunnerOptions } from '../../scripts/local/event-source-runner.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import type { OnFailureRecord } from '../../scripts/local/lambda-shapes.js';
import { createStream } from '../../scripts/local/provision.js';

describe('local event-source runner (Lambda Kinesis semantics)', () => {
  let kit: EmbeddedAws;
  let dir: string;
  let streams = 0;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    dir = await mkdtemp(join(tmpdir(), 'retrostride-runner-'));
  });

  afterAll(async () => {
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // kinesalite allows 10 shards per account: each test's streams go when it ends.
  const created: string[] = [];
  afterEach(async () => {
    for (const name of created.splice(0))
      await kit.kinesis.client.send(new DeleteStreamCommand({ StreamName: name }));
  });

  async function newStream(): Promise<string> {
    const name = `runner-${streams++}`;
    await createStream(kit.kinesis.client, name, 1);
    created.push(name);
    return name;
  }

  /** A fresh one-shard stream holding records `n0`, `n1`, ... */
  async function streamWith(count: number): Promise<string> {
    const name = await newStream();
    if (count > 0) await put(name, 0, count);
    return name;
  }

  async function put(streamName: string, from: number, count: number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({
      PartitionKey: 'gym/tm',
      Data: Buffer.from(`n${from + i}`),
    }));
    await kit.kinesis.client.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
  }

  const payloads = (event: KinesisStreamEvent) =>
    event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

  /** Runs until drained, recording what each invocation received. */
  async function runOnce(
    streamName: string,
    respond: (
      event: KinesisStreamEvent,
      call: number,
      runner: EventSourceRunner,
    ) => KinesisStreamBatchResponse | undefined,
    options: Partial<EventSourceRunnerOptions> = {},
  ) {
    const calls: string[][] = [];
    const failures: OnFailureRecord[] = [];
    const runner: EventSourceRunner = new EventSourceRunner({
      kinesis: kit.kinesis.client,
      streamName,
      pollIntervalMs: 5,
      retryDelayMs: () => 1,
      onFailure: (failure) => {
        failures.push(failure);
      },
      handler: async (event) => {
        calls.push(payloads(event));
        return respond(event, calls.length, runner);
      },
      ...options,
    });
    await runner.start();
    await runner.drain();
    await runner.stop();
    return { calls, failures, runner };
  }

  it("delivers batches of at most batchSize in order, in Lambda's record shape", async () => {
    const name = await streamWith(25);
    let first: KinesisStreamEvent | undefined;
    const { calls } = await runOnce(
      name,
      (event) => {
        first ??= event;
        return undefined;
      },
      { batchSize: 10 },
    );
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(calls.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `n${i}`));
    const summary = await kit.kinesis.client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    const record = first?.Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventSourceARN: summary.StreamDescriptionSummary?.StreamARN,
      kinesis: { partitionKey: 'gym/tm', kinesisSchemaVersion: '1.0' },
    });
    expect(record?.eventID).toBe(`shardId-000000000000:${record?.kinesis.sequenceNumber}`);
    expect(record?.kinesis.approximateArrivalTimestamp).toBeGreaterThan(1_600_000_000);
    expect(record?.kinesis.approximateArrivalTimestamp).toBeLessThan(1e11);
  });

  it('holds records back for the batching window', async () => {
    const name = await streamWith(1);
    const calls: string[][] = [];
    const runner = new EventSourceRunner({
      kinesis: kit.kinesis.client,
      streamName: name,
      pollIntervalMs: 5,
      batchingWindowMs: 2_000,
      handler: async (event) => {
        calls.push(payloads(event));
        return undefined;
      },
    });
    await runner.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put(name, 1, 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toEqual([]);
    await runner.drain();
    await runner.stop();
    expect(calls).toEqual([['n0', 'n1', 'n2']]);
  });

  it('checkpoints before the lowest failed item and resumes from it', async () => {
    const name = await streamWith(10);
    const checkpointsSeen: (string | undefined)[] = [];
    let sequenceNumbers: string[] = [];
    const result = await runOnce(
      name,
      (event, call, runner) => {
        checkpointsSeen.push(runner.checkpoints.get('shardId-000000000000'));
        if (call !== 1) return undefined;
        sequenceNumbers = event.Records.map((r) => r.kinesis.sequenceNumber);
        return {
          batchItemFailures: [6, 3].map((i) => ({ itemIdentifier: sequenceNumbers[i]! })),
        };
      },
      { batchSize: 10 },
    );
    expect(checkpointsSeen).toEqual([undefined, sequenceNumbers[2]]);
    expect(result.runner.checkpoints.get('shardId-000000000000')).toBe(sequenceNumbers[9]);
    expect(result.calls).toEqual([
      ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9'],
      ['n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9'],
    ]);
    expect(result.failures).toEqual([]);
  });

  it('retries the whole batch on an unknown item identifier, as Lambda does', async () => {
    const name = await streamWith(4);
    const { calls } = await runOnce(name, (_event, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } : undefined,
    );
    expect(calls).toEqual([
      ['n0', 'n1', 'n2', 'n3'],
      ['n0', 'n1', 'n2', 'n3'],
    ]);
  });

  it('gives a batch up after the maximum retries, reports it, and moves on', async () => {
    const name = await streamWith(6);
    const { calls, failures } = await runOnce(
      name,
      (event) => {
        if (payloads(event).includes('n2')) throw new Error('boom');
        return undefined;
      },
      { batchSize: 3, maximumRetryAttempts: 1 },
    );
    expect(calls).toEqual([
      ['n0', 'n1', 'n2'],
      ['n0', 'n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]);
    expect(failures.map((f) => [f.requestContext.condition, f.KinesisBatchInfo.batchSize])).toEqual([
      ['RetryAttemptsExhausted', 3],
    ]);
    expect(failures[0]?.requestContext.approximateInvokeCount).toBe(2);
  });

  it('bisects a failing batch down to the record that fails', async () => {
    const name = await streamWith(8);
    const { calls, failures } = await runOnce(
      name,
      (event) => {
        if (payloads(event).includes('n5')) throw new Error('boom');
        return undefined;
      },
      { batchSize: 8, bisectBatchOnFunctionError: true, maximumRetryAttempts: 3 },
    );
    expect(calls.slice(0, 4)).toEqual([
      ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'],
      ['n0', 'n1', 'n2', 'n3'],
      ['n4', 'n5', 'n6', 'n7'],
      ['n4', 'n5'],
    ]);
    expect(failures.map((f) => f.KinesisBatchInfo.batchSize)).toEqual([1]);
    expect(calls.flat()).toContain('n7');
    expect(calls.at(-1)).toContain('n7');
  });

  it('discards records older than the maximum record age', async () => {
    const name = await streamWith(3);
    const { calls, failures } = await runOnce(name, () => undefined, {
      maximumRecordAgeMs: 3_600_000,
      now: () => Date.now() + 2 * 3_600_000,
    });
    expect(calls).toEqual([]);
    expect(failures.map((f) => [f.requestContext.condition, f.KinesisBatchInfo.batchSize])).toEqual([
      ['RecordAgeExceeded', 3],
    ]);
  });

  it('does not invoke the handler while the stream is empty (Lambda does not either)', async () => {
    const name = await streamWith(0);
    let calls = 0;
    const runner = new EventSourceRunner({
      kinesis: kit.kinesis.client,
      streamName: name,
      pollIntervalMs: 5,
      handler: async () => {
        calls++;
        return undefined;
      },
    });
    await runner.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await runner.drain();
    await runner.stop();
    expect(calls).toBe(0);
  });

  describe('a failing batch, in one line of the log', () => {
    /** A stream holding one telemetry record (as a gateway sends it) per treadmill given. */
    async function telemetryStream(treadmills: ReadonlyArray<readonly [string, string]>): Promise<string> {
      const name = await newStream();
      const records = treadmills.map(([gymId, treadmillId]) => ({
        PartitionKey: `${gymId}/${treadmillId}`,
        Data: Buffer.from(JSON.stringify({ v: 1, gymId, treadmillId, events: [{ seq: 1 }] })),
      }));
      await kit.kinesis.client.send(new PutRecordsCommand({ StreamName: name, Records: records }));
      return name;
    }

    it('names the treadmills, the error, the attempt of the maximum and the retry delay, then the give-up', async () => {
      const name = await telemetryStream([
        ['gym-a', 'tm-07'],
        ['gym-b', 'tm-02'],
      ]);
      const lines: string[] = [];
      const onFailureFile = join(dir, 'give-up.jsonl');
      const checkpointFile = join(dir, 'give-up-checkpoints.json');
      await runOnce(
        name,
        () => {
          // What the ingest handler throws when every record failed (Powertools' batch processor).
          throw new FullBatchFailureError([new Error('table gone'), new Error('table gone')]);
        },
        {
          maximumRetryAttempts: 1,
          retryDelayMs: (attempt) => 20 * attempt,
          onFailureFile,
          checkpointFile,
          log: (message) => lines.push(message),
        },
      );
      const what =
        'batch failed on shardId-000000000000 for gym-a/tm-07, gym-b/tm-02 (2 records): ' +
        'FullBatchFailureError, every record failed: table gone';
      expect(lines).toEqual([
        `${what}; attempt 1 of 2, retrying in 20 ms`,
        `${what}; attempt 2 of 2, giving up: its shard and sequence range written to ${onFailureFile}; ` +
          `to replay, stop, delete "shardId-000000000000" from ${checkpointFile} and start again ` +
          '(the shard is read again from its start)',
      ]);
    });

    it('names the treadmill of the failed item of a partial failure, and retries from it', async () => {
      const name = await telemetryStream([
        ['gym-a', 'tm-01'],
        ['gym-a', 'tm-02'],
        ['gym-a', 'tm-01'],
      ]);
      const lines: string[] = [];
      let failed = '';
      await runOnce(
        name,
        (event, call) => {
          if (call > 1) return undefined;
          failed = event.Records[1]!.kinesis.sequenceNumber;
          return { batchItemFailures: [{ itemIdentifier: failed }] };
        },
        { maximumRetryAttempts: 3, retryDelayMs: () => 400, log: (message) => lines.push(message) },
      );
      expect(lines).toEqual([
        `batch failed on shardId-000000000000 for gym-a/tm-02: the handler reported 1 of 3 records failed ` +
          `(first item ${failed}; its error is in the handler's log); attempt 1 of 4, retrying from that item in 400 ms`,
      ]);
    });

    it('says when it bisects, and that without a destination the records are skipped', async () => {
      const name = await streamWith(4);
      const lines: string[] = [];
      await runOnce(
        name,
        (event) => {
          if (payloads(event).includes('n1')) throw new Error('boom');
          return undefined;
        },
        {
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 1,
          onFailure: undefined,
          log: (message) => lines.push(message),
        },
      );
      expect(lines.slice(0, 2)).toEqual([
        'batch failed on shardId-000000000000 for gym/tm (4 records): boom; attempt 1 of 2, ' +
          'retrying in 1 ms with the first 2 records (bisecting)',
        'batch failed on shardId-000000000000 for gym/tm (2 records): boom; attempt 2 of 2, ' +
          'giving up: no on-failure destination, so the records are skipped',
      ]);
    });
  });

  it('resumes after its checkpoint when restarted with a checkpoint file', async () => {
    const name = await streamWith(5);
    const checkpointFile = join(dir, 'checkpoints.json');
    const first = await runOnce(name, () => undefined, { checkpointFile });
    await put(name, 5, 3);
    const second = await runOnce(name, () => undefined, { checkpointFile });
    expect(first.calls.flat()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(second.calls.flat()).toEqual(['n5', 'n6', 'n7']);
  });
});
