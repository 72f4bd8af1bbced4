/**
 * A crash between any two writes, then Lambda's retry, must leave identical numbers (docs/architecture.md section 5).
 * A client middleware fails the Nth DynamoDB write, either before it reaches the table (the write is lost)
 * or after (the write happened but the handler died before it heard back); the runner then retries.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { createRandom } from '../../scripts/lib/random.js';
import { type EmbeddedAws, LOCAL_REGION, startEmbeddedAws } from '../../scripts/local/kit.js';
import { putRecords, recordedDay, snapshot, startPipeline, toRecords } from '../support/pipeline.js';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

/** At the initialize step a document client's input is not marshalled yet: keys are plain strings. */
interface WriteInput {
  TableName?: string;
  Item?: { sk?: string };
  Key?: { sk?: string };
}

/** `sessions Put SUMMARY`: which kind of item a write touches. */
function writeKind(commandName: string, input: WriteInput): string {
  const table = (input.TableName ?? '').split('-').at(-1);
  const sk = input.Item?.sk ?? input.Key?.sk ?? '';
  return `${table} ${commandName.replace('ItemCommand', '')} ${sk.split('#')[0]}`;
}

/** A client whose Nth write fails (`failAt` 0: none); it records the kind of every write. */
function crashingClient(kit: EmbeddedAws, failAt: number, when: 'before' | 'after') {
  const client: DynamoDBClient = dynamoClient({
    endpoint: kit.dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const kinds: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      kinds.push(writeKind(context.commandName ?? '', args.input as WriteInput));
      const crash = kinds.length === failAt;
      if (crash && when === 'before') throw new Error(`injected crash before write ${failAt}`);
      const output = await next(args);
      if (crash && when === 'after') throw new Error(`injected crash after write ${failAt}`);
      return output;
    },
    { step: 'initialize', name: 'crashInjection' },
  );
  return { client, kinds };
}

describe('ingest: a crash after part of a batch, then the retry', () => {
  let kit: EmbeddedAws;
  let clean: Awaited<ReturnType<typeof snapshot>>;
  let kinds: string[] = [];
  let run = 0;

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    await putRecords(kit, kit.streamName, toRecords(recordedDay()));
    const counting = crashingClient(kit, 0, 'before');
    const pipeline = await startPipeline(kit, { prefix: 'clean', client: counting.client });
    await pipeline.runner.drain();
    await pipeline.runner.stop();
    clean = await snapshot(pipeline.doc, pipeline.tables);
    kinds = counting.kinds;
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('saw every kind of write the crash points must cover', () => {
    expect(new Set(kinds)).toEqual(
      new Set([
        'sessions Put SUMMARY',
        'sessions Put TL',
        'sessions Put DETAIL',
        'fleet Update TM',
        // Rollups: the add (and the delete of its entries once marked), the markers (section 7.2).
        'rollups Update WEEK',
        'rollups Update DAY',
        'rollups Update GYM', // a member's week at a gym (sk GYM#{gymId}#MEMBER#{hash})
        'rollups Put SESSION',
        'rollups Put MEMBER',
        'rollups Update HOUR', // a treadmill's status by hour (section 7.6)
        'alerts Put ALERT',
      ]),
    );
  });

  /** The first write of every kind, its neighbours, and a seeded sample of the rest. */
  function crashPoints(): number[] {
    const points = new Set<number>();
    const seen = new Set<string>();
    kinds.forEach((kind, index) => {
      if (seen.has(kind)) return;
      seen.add(kind);
      for (const n of [index, index + 1, index + 2]) if (n >= 1 && n <= kinds.length) points.add(n);
    });
    const random = createRandom(7);
    for (let i = 0; i < 6; i++) points.add(random.int(1, kinds.length));
    return [...points].sort((a, b) => a - b);
  }

  for (const when of ['before', 'after'] as const) {
    it(
      `leaves identical numbers whichever write fails (${when} reaching the table)`,
      {
        timeout: 120_000,
      },
      async () => {
        for (const failAt of crashPoints()) {
          const crashing = crashingClient(kit, failAt, when);
          const pipeline = await startPipeline(kit, { prefix: `crash${run++}`, client: crashing.client });
          await pipeline.runner.drain();
          await pipeline.runner.stop();
          expect(crashing.kinds.length, `write ${failAt} (${kinds[failAt - 1]})`).toBeGreaterThan(failAt);
          expect(
            await snapshot(pipeline.doc, pipeline.tables),
            `crash at write ${failAt} (${kinds[failAt - 1]})`,
          ).toEqual(clean);
          crashing.client.destroy();
        }
      },
    );
  }
});
