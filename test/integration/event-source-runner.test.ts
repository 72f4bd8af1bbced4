import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventSourceRunner,
  type EventSourceRunnerOptions,
  type OnFailureRecord,
} from '../../scripts/local/event-source-runner.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
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

  /** A fresh one-shard stream holding records `n0`, `n1`, ... */
  async function streamWith(count: number, name = `runner-${streams++}`): Promise<string> {
    await createStream(kit.kinesis.client, name, 1);
    await put(name, 0, count);
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
