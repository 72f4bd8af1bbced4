/**
 * `npm run bench:gateway`: the gateway's sustained throughput from the broker to the Kinesis emulator, for
 * 50, 500 and 5,000 simulated treadmills at 4 readings/s each (publishers in another process), with the
 * gateway's CPU and RSS sampled from /proc. Beside it, in the same run and under the same offered load, a
 * bare QoS 1 subscriber that does nothing gives the ceiling; gateway / ceiling is the headline ratio.
 *
 * Broker: Debian's mosquitto when installed (its own process, as in a gym), else the embedded aedes.
 * Each load ends with: RESULT treadmills=N events_per_s=N cpu_pct=N rss_mb=N ceiling_ratio=R lost=N
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheus } from '../../gateway-agent/src/metrics.js';
import { startEmbeddedAws } from '../local/kit.js';
import { findMosquitto, freePort, startMosquitto } from '../local/mosquitto.js';
import { createStream } from '../local/provision.js';
import { StreamReader } from '../local/stream-reader.js';

const HELP = `Usage: npm run bench:gateway [-- --seconds S] [-- --loads 50,500,5000]

For each load: a bare subscriber, then the gateway, each for S seconds (default 25) of publishing at
4 readings/s per treadmill; rates are measured after a warm-up of 40 % of S (start-up and its backlog).
Ends with one line per load:
RESULT treadmills=N events_per_s=N cpu_pct=N rss_mb=N ceiling_ratio=R lost=N`;

const NODE = process.execPath;
const PEERS = 'scripts/bench/gateway-peers.ts';
const SYSTEMD_UNIT = 'gateway-agent/retrostride-gateway.service';
const GYM = 'gym-bench';
const EVENTS_PER_TREADMILL_S = 4;
const SAMPLE_MS = 1_000;
const DRAIN_TIMEOUT_MS = 60_000;
/** Records wait up to this long to fill: at 4 readings/s a record carries about 4 events. */
const BENCH_LINGER_MS = 1_000;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function flag(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? undefined : argv[at + 1];
}

/** The node options the systemd unit runs the gateway with, so the benchmark measures what a gym runs. */
async function unitNodeOptions(): Promise<string[]> {
  const unit = await readFile(SYSTEMD_UNIT, 'utf8');
  return (/^Environment=NODE_OPTIONS=(.*)$/m.exec(unit)?.[1] ?? '')
    .split(' ')
    .filter((option) => option !== '');
}

function spawnTsx(args: string[], nodeOptions: readonly string[] = []): ChildProcess {
  // `node --import tsx` runs in one process, so /proc/<pid> is the gateway itself.
  return spawn(NODE, [...nodeOptions, '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before "${marker}": ${text}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function runPublisher(url: string, treadmills: number, seconds: number): Promise<number> {
  const publisher = spawnTsx([
    PEERS,
    'publish',
    url,
    GYM,
    String(treadmills),
    String(EVENTS_PER_TREADMILL_S),
    String(seconds),
  ]);
  let out = '';
  publisher.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await exited(publisher);
  const { published } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { published?: number };
  if (published === undefined) throw new Error('publisher reported nothing');
  return published;
}

/** Messages/s a subscriber that does nothing receives under this load. */
async function measureCeiling(
  url: string,
  treadmills: number,
  seconds: number,
  warmupS: number,
): Promise<number> {
  const subscriber = spawnTsx([PEERS, 'subscribe', url, GYM]);
  await waitForOutput(subscriber, 'stdout', 'ready');
  const counts: Array<{ at: number; count: number }> = [];
  subscriber.stdout?.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/count (\d+)/g))
      counts.push({ at: Date.now(), count: Number(match[1]) });
  });
  const started = Date.now();
  await runPublisher(url, treadmills, seconds);
  subscriber.kill('SIGTERM');
  await exited(subscriber);
  const window = counts.filter(
    (sample) => sample.at - started >= warmupS * 1000 && sample.at - started <= seconds * 1000,
  );
  const first = window[0];
  const last = window.at(-1);
  return first && last && last.at > first.at ? ((last.count - first.count) * 1000) / (last.at - first.at) : 0;
}

interface ProcessSample {
  readonly at: number;
  readonly cpuTicks: number;
  readonly rssKb: number;
  readonly eventsOut: number;
}

async function sampleGateway(pid: number, httpUrl: string): Promise<ProcessSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ')'; utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const metrics = parsePrometheus(await (await fetch(`${httpUrl}/metrics`)).text());
  return {
    at: Date.now(),
    cpuTicks,
    rssKb,
    eventsOut: metrics.get('retrostride_gateway_events_out_total') ?? 0,
  };
}

interface GatewayFigures {
  readonly eventsPerS: number;
  readonly cpuPct: number;
  readonly rssMb: number;
  readonly lost: number;
}

async function measureGateway(
  options: { url: string; treadmills: number; seconds: number; warmupS: number; dir: string },
  kinesis: Awaited<ReturnType<typeof startEmbeddedAws>>,
): Promise<GatewayFigures> {
  const { treadmills, seconds, warmupS } = options;
  const streamName = `bench-${treadmills}`;
  await createStream(kinesis.kinesis.client, streamName, 2);
  const port = await freePort();
  const configPath = join(options.dir, `gateway-${treadmills}.yaml`);
  await writeFile(
    configPath,
    [
      `gymId: ${GYM}`,
      'mqtt:',
      `  url: ${options.url}`,
      `  protocolVersion: ${options.url === kinesis.mqtt.url ? 4 : 5}`,
      `  clientId: bench-gateway-${treadmills}`,
      'spool:',
      `  dir: ${join(options.dir, `spool-${treadmills}`)}`,
      'kinesis:',
      `  streamName: ${streamName}`,
      `  endpoint: ${kinesis.kinesis.endpoint}`,
      '  region: us-east-1',
      `  lingerMs: ${BENCH_LINGER_MS}`,
      'http:',
      `  port: ${port}`,
      '',
    ].join('\n'),
  );
  const gateway = spawnTsx(['scripts/cli.ts', 'gateway', '--config', configPath], await unitNodeOptions());
  await waitForOutput(gateway, 'stderr', 'mqtt: connected');
  await sleep(500); // the subscription follows the connection
  const httpUrl = `http://127.0.0.1:${port}`;
  const pid = gateway.pid as number;

  const samples: ProcessSample[] = [];
  const started = Date.now();
  const sampler = setInterval(() => {
    sampleGateway(pid, httpUrl).then(
      (sample) => samples.push(sample),
      () => undefined,
    );
  }, SAMPLE_MS);
  const published = await runPublisher(options.url, treadmills, seconds);
  clearInterval(sampler);

  const window = samples.filter(
    (sample) => sample.at - started >= warmupS * 1000 && sample.at - started <= seconds * 1000,
  );
  const first = window[0];
  const last = window.at(-1);
  const elapsedS = first && last ? (last.at - first.at) / 1000 : 0;
  const figures = {
    eventsPerS: first && last && elapsedS > 0 ? (last.eventsOut - first.eventsOut) / elapsedS : 0,
    cpuPct:
      first && last && elapsedS > 0 ? ((last.cpuTicks - first.cpuTicks) / CLOCK_TICKS / elapsedS) * 100 : 0,
    rssMb: Math.max(0, ...window.map((sample) => sample.rssKb)) / 1024,
  };

  // Let the backlog drain, then count in Kinesis what arrived: every reading carries a unique distanceM.
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const sample = await sampleGateway(pid, httpUrl).catch(() => undefined);
    if (sample && sample.eventsOut >= published) break;
    await sleep(250);
  }
  gateway.kill('SIGTERM');
  await exited(gateway);
  const reader = new StreamReader(kinesis.kinesis.client, streamName);
  await reader.poll();
  const arrived = new Set(reader.events.map((event) => (event.type === 'belt' ? event.distanceM : -1)));
  return { ...figures, lost: Math.max(0, published - arrived.size) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const seconds = Number(flag(argv, 'seconds') ?? 25);
  const loads = (flag(argv, 'loads') ?? '50,500,5000').split(',').map(Number);
  if (!(seconds >= 5) || loads.some((load) => !Number.isInteger(load) || load < 1)) {
    console.error('bench:gateway: --seconds must be >= 5 and --loads whole numbers >= 1');
    return 2;
  }
  const warmupS = Math.max(2, Math.round(seconds * 0.4));
  const dir = await mkdtemp(join(tmpdir(), 'bench-gateway-'));
  const kit = await startEmbeddedAws({ shards: 1 });
  const mosquitto = findMosquitto() ? await startMosquitto({ dir: join(dir, 'broker') }) : undefined;
  const url = mosquitto?.url ?? kit.mqtt.url;
  console.log(
    `broker: ${mosquitto ? 'mosquitto (own process)' : 'aedes (embedded, MQTT 3.1.1)'}; ` +
      `${seconds} s per run, measured after ${warmupS} s; ${EVENTS_PER_TREADMILL_S} readings/s per treadmill`,
  );
  const results: string[] = [];
  try {
    for (const treadmills of loads) {
      const offered = treadmills * EVENTS_PER_TREADMILL_S;
      const ceiling = await measureCeiling(url, treadmills, seconds, warmupS);
      const gateway = await measureGateway({ url, treadmills, seconds, warmupS, dir }, kit);
      console.log(
        `${treadmills} treadmills: offered ${offered}/s; bare subscriber ${Math.round(ceiling)}/s; gateway ` +
          `${Math.round(gateway.eventsPerS)}/s to Kinesis at ${gateway.cpuPct.toFixed(1)} % CPU, ` +
          `${gateway.rssMb.toFixed(0)} MB RSS; lost ${gateway.lost}`,
      );
      results.push(
        `RESULT treadmills=${treadmills} events_per_s=${Math.round(gateway.eventsPerS)} ` +
          `cpu_pct=${gateway.cpuPct.toFixed(1)} rss_mb=${gateway.rssMb.toFixed(0)} ` +
          `ceiling_ratio=${(ceiling > 0 ? gateway.eventsPerS / ceiling : 0).toFixed(2)} lost=${gateway.lost}`,
      );
    }
  } finally {
    await mosquitto?.stop();
    await kit.stop();
    await rm(dir, { recursive: true, force: true });
  }
  for (const line of results) console.log(line);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
