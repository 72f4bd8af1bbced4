/**
 * An HTTP proxy in front of a Kinesis endpoint (kinesalite) on loopback, for fault injection: it counts the
 * entries of every PutRecords request, can fail chosen entries with ProvisionedThroughputExceededException
 * (they are withheld from the endpoint, as Kinesis would not store them), and can go down (connections
 * refused) and come back on the same port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedEntry {
  readonly key: string;
  /** The record's data, decoded as UTF-8. */
  readonly data: string;
  /** Whether the proxy failed it. */
  readonly failed: boolean;
}

export interface KinesisProxy {
  readonly endpoint: string;
  /** Entries of each PutRecords request that reached the proxy, in arrival order. */
  readonly putRequests: ProxiedEntry[][];
  /** Entries for which `fail` returns true are answered with ProvisionedThroughputExceededException. */
  failEntries(fail: (key: string, data: string) => boolean): void;
  /** Closes the listener and every connection: calls are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

const PUT_RECORDS_TARGET = 'Kinesis_20131202.PutRecords';

interface PutRecordsBody {
  StreamName?: string;
  Records: Array<{ Data: string; PartitionKey: string; ExplicitHashKey?: string }>;
}

interface PutRecordsResponse {
  FailedRecordCount?: number;
  Records: Array<Record<string, unknown>>;
  EncryptionType?: string;
}

async function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function forward(
  target: URL,
  request: http.IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: target.host, 'content-length': String(body.length) },
      },
      (response) => {
        readBody(response).then(
          (responseBody) =>
            resolve({ status: response.statusCode ?? 500, headers: response.headers, body: responseBody }),
          reject,
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

export async function startKinesisProxy(targetEndpoint: string): Promise<KinesisProxy> {
  const target = new URL(targetEndpoint);
  const putRequests: ProxiedEntry[][] = [];
  let shouldFail: (key: string, data: string) => boolean = () => false;

  const putRecords = async (request: http.IncomingMessage, body: Buffer) => {
    const input = JSON.parse(body.toString('utf8')) as PutRecordsBody;
    const entries = input.Records.map((record) => {
      const data = Buffer.from(record.Data, 'base64').toString('utf8');
      return { key: record.PartitionKey, data, failed: shouldFail(record.PartitionKey, data) };
    });
    putRequests.push(entries);
    const passed = input.Records.filter((_, index) => !entries[index]!.failed);
    let upstream: PutRecordsResponse = { FailedRecordCount: 0, Records: [] };
    let status = 200;
    let headers: http.IncomingHttpHeaders = { 'content-type': 'application/x-amz-json-1.1' };
    if (passed.length > 0) {
      const response = await forward(
        target,
        request,
        Buffer.from(JSON.stringify({ ...input, Records: passed })),
      );
      if (response.status !== 200) return response;
      upstream = JSON.parse(response.body.toString('utf8')) as PutRecordsResponse;
      status = response.status;
      headers = response.headers;
    }
    const results = [...upstream.Records];
    const merged = entries.map((entry) =>
      entry.failed
        ? {
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: 'Rate exceeded (injected by proxy)',
          }
        : results.shift()!,
    );
    const failed = entries.filter((entry) => entry.failed).length;
    const output = Buffer.from(
      JSON.stringify({
        ...upstream,
        FailedRecordCount: (upstream.FailedRecordCount ?? 0) + failed,
        Records: merged,
      }),
    );
    return { status, headers: { ...headers, 'content-length': String(output.length) }, body: output };
  };

  const server = http.createServer((request, response) => {
    readBody(request)
      .then((body) =>
        request.headers['x-amz-target'] === PUT_RECORDS_TARGET
          ? putRecords(request, body)
          : forward(target, request, body),
      )
      .then((answer) => {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      })
      .catch(() => response.destroy());
  });

  let port = 0;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await up();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    putRequests,
    failEntries: (fail) => {
      shouldFail = fail;
    },
    down,
    up,
    close: () => (server.listening ? down() : Promise.resolve()),
  };
}
