/**
 * A Kinesis stand-in for `bench:gateway`, in its own process: it answers PutRecords (the AWS JSON 1.1 protocol
 * the SDK speaks, over HTTP) at once, and still decodes and validates every record as ingest does
 * (functions/lib/ingest-decode.ts), counts what it received and checks each treadmill's order: within an
 * epoch a record must start right after the last seq seen (docs/architecture.md section 4), so a gap or a
 * step back is counted, and a record sent again (seqs already seen) is counted as a duplicate.
 *
 * Prints `listening http://HOST:PORT` on stdout; GET /stats answers the counts as JSON.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { KinesisStreamRecord } from 'aws-lambda';
import { decodeRecord } from '../../functions/lib/ingest-decode.js';

const HELP = `Usage: tsx scripts/bench/kinesis-sink.ts [--port N] [--host 127.0.0.1]

Answers Kinesis PutRecords on http://HOST:PORT (port 0: any free one), validating every record as ingest
does and checking each treadmill's seq order. Prints "listening URL" once ready; GET /stats returns:
{"calls","records","events","beltDistinct","duplicateEvents","orderBreaks","rejectedRecords","rejectedEvents","reasons"}`;

/** A PutRecords call takes at most 500 records of 5 MiB in all; base64 makes that 6.7 MiB of JSON. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_ENTRIES = 500;
const MAX_PARTITION_KEY_CHARS = 256;
/** Reasons kept by name; a flood of distinct ones is folded into "other". */
const MAX_REASONS = 50;
const TARGET = 'Kinesis_20131202.PutRecords';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

interface PutRecordsEntry {
  readonly Data: string;
  readonly PartitionKey: string;
}

interface KeyOrder {
  epoch: string;
  lastSeq: number;
}

class SinkCounts {
  calls = 0;
  records = 0;
  events = 0;
  duplicateEvents = 0;
  /** Records that did not start right after the last seq seen of their treadmill and epoch. */
  orderBreaks = 0;
  rejectedRecords = 0;
  rejectedEvents = 0;
  readonly reasons: Record<string, number> = {};
  /** Every reading of the benchmark's publisher carries a distinct distanceM: what arrived, once each. */
  readonly beltDistances = new Set<number>();
  readonly #order = new Map<string, KeyOrder>();

  /** Validates one entry as ingest would and counts it; false when the record is rejected whole. */
  take(entry: PutRecordsEntry, arrivalS: number): boolean {
    this.records++;
    const decoded = decodeRecord({
      kinesis: {
        data: entry.Data,
        partitionKey: entry.PartitionKey,
        approximateArrivalTimestamp: arrivalS,
      },
    } as KinesisStreamRecord);
    if (!decoded.ok) {
      this.rejectedRecords++;
      this.#reason(decoded.reason);
      return false;
    }
    for (const rejected of decoded.rejected) this.#reason(rejected.reason);
    this.rejectedEvents += decoded.rejected.length;
    const order = this.#order.get(entry.PartitionKey);
    const first = decoded.events[0];
    if (first !== undefined) {
      const sameEpoch = order !== undefined && order.epoch === decoded.epoch;
      if (sameEpoch && first.seq <= order.lastSeq) this.duplicateEvents += decoded.events.length;
      else {
        if (sameEpoch ? first.seq !== order.lastSeq + 1 : order !== undefined && first.seq !== 1)
          this.orderBreaks++;
        this.#order.set(entry.PartitionKey, { epoch: decoded.epoch, lastSeq: decoded.events.at(-1)!.seq });
      }
    }
    for (const event of decoded.events) {
      this.events++;
      if (event.type === 'belt' && event.distanceM !== undefined) this.beltDistances.add(event.distanceM);
    }
    return true;
  }

  toJSON(): Record<string, unknown> {
    const { calls, records, events, duplicateEvents, orderBreaks, rejectedRecords, rejectedEvents } = this;
    return {
      calls,
      records,
      events,
      beltDistinct: this.beltDistances.size,
      duplicateEvents,
      orderBreaks,
      rejectedRecords,
      rejectedEvents,
      reasons: this.reasons,
    };
  }

  #reason(reason: string): void {
    const name = reason in this.reasons || Object.keys(this.reasons).length < MAX_REASONS ? reason : 'other';
    this.reasons[name] = (this.reasons[name] ?? 0) + 1;
  }
}

function answer(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

const awsError = (type: string, message: string) => JSON.stringify({ __type: type, message });

function parseEntries(body: string): PutRecordsEntry[] | string {
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const records = (request as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_ENTRIES)
    return `Records must hold 1 to ${MAX_ENTRIES} entries`;
  for (const entry of records as unknown[]) {
    const { Data, PartitionKey } = (entry ?? {}) as Partial<Record<keyof PutRecordsEntry, unknown>>;
    if (typeof Data !== 'string' || typeof PartitionKey !== 'string')
      return 'each entry needs Data and PartitionKey';
    if (PartitionKey.length === 0 || PartitionKey.length > MAX_PARTITION_KEY_CHARS)
      return `PartitionKey must be 1 to ${MAX_PARTITION_KEY_CHARS} characters`;
  }
  return records as PutRecordsEntry[];
}

function putRecords(counts: SinkCounts, body: string, response: ServerResponse): void {
  const entries = parseEntries(body);
  if (typeof entries === 'string') {
    counts.rejectedRecords++;
    counts.reasons[`call: ${entries}`] = (counts.reasons[`call: ${entries}`] ?? 0) + 1;
    answer(response, 400, awsError('ValidationException', entries));
    return;
  }
  counts.calls++;
  const arrivalS = Date.now() / 1000;
  // A rejected record is still acknowledged, as Kinesis would: the gateway cannot fix it by sending it again.
  const results = entries.map((entry) => {
    counts.take(entry, arrivalS);
    return `{"SequenceNumber":"${counts.records}","ShardId":"shardId-000000000000"}`;
  });
  answer(response, 200, `{"FailedRecordCount":0,"Records":[${results.join(',')}]}`);
}

function handle(counts: SinkCounts, request: IncomingMessage, response: ServerResponse): void {
  if (request.method === 'GET' && request.url === '/stats') {
    answer(response, 200, JSON.stringify(counts));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) {
      answer(response, 413, awsError('ValidationException', `body over ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || target !== TARGET) {
      answer(response, 400, awsError('UnknownOperationException', `only ${TARGET} is served`));
      return;
    }
    putRecords(counts, Buffer.concat(chunks).toString('utf8'), response);
  });
}

function flag(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? undefined : argv[at + 1];
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const port = Number(flag(argv, 'port') ?? 0);
  const host = flag(argv, 'host') ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error('kinesis-sink: --port must be a whole number from 0 to 65535');
    return 2;
  }
  const counts = new SinkCounts();
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) =>
    handle(counts, request, response),
  );
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    process.stdout.write(`listening http://${host}:${bound}\n`);
  });
  process.once('SIGTERM', () => server.close());
  return 0;
}

process.exitCode = main(process.argv.slice(2));
