/**
 * `npm run bench:gateway`: the gateway's sustained throughput from the broker to Kinesis, for 50, 500 and 5,000
 * simulated treadmills at 4 readings/s each (publishers in another process), with the gateway's CPU, RSS and
 * memory breakdown sampled while it runs. Beside it, in the same run and under the same offered load, a bare
 * QoS 1 subscriber that does nothing gives the ceiling; gateway / ceiling is the headline ratio.
 *
 * Broker: Debian's mosquitto when installed (its own process, as in a gym), else the embedded aedes.
 * Kinesis: by default a sink in its own process (kinesis-sink.ts) that answers PutRecords at once while
 * validating what it receives and checking loss and per-treadmill order, so that the figures are the
 * gateway's and not an emulator's; `--kinesis kinesalite` ships to the emulator instead.
 * The gateway runs as the systemd unit runs it: built (build-gateway.ts), with the unit's node options.
 * Ends with one RESULT line against the goals of issue 15.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePrometheus } from '../../gateway-agent/src/metrics.js';
import { buildGateway, GATEWAY_ENTRY } from '../build-gateway.js';
import { startEmbeddedAws } from '../local/kit.js';
import { findMosquitto, freePort, startMosquitto } from '../local/mosquitto.js';
import { createStream } from '../local/provision.js';
import { StreamReader } from '../local/stream-reader.js';

const HELP = `Usage: npm run bench:gateway [-- --seconds S] [-- --loads 50,500,5000] [-- --kinesis sink|kinesalite]
                              [-- --heap-snapshot] [-- --cpu-prof] [-- --node-options "FLAGS"]

For each load: a bare subscriber, then the gateway, each for S seconds (default 25) of publishing at
4 readings/s per treadmill; rates are measured after a warm-up of 40 % of S (start-up and its backlog).
--kinesis      where the gateway ships: a PutRecords sink in its own process that validates and checks
               loss and order (sink, default), or the kinesalite emulator
--heap-snapshot  at the end of each measured window, take a V8 heap snapshot of the gateway and print its
               largest object groups (adds a pause and memory of its own to that run)
--node-options  run the gateway with these node flags instead of the systemd unit's (to try flags)
--cpu-prof     profile the gateway (node --cpu-prof) and print the functions with the most self time
Prints per load the memory breakdown at the peak (RSS, V8 heap used/total, external, array buffers), then:
RESULT gateway_rss_mb_500=N (goal<=120, was 136) gateway_rss_mb_5000=N (goal<=200, was 331)
       gateway_cpu_pct_5000=N (goal<=40, was 58) ratio_5000=R (goal>=0.95) lost=N`;

const NODE = process.execPath;
const PEERS = 'scripts/bench/gateway-peers.ts';
const SINK = 'scripts/bench/kinesis-sink.ts';
const SYSTEMD_UNIT = 'gateway-agent/retrostride-gateway.service';
const GYM = 'gym-bench';
const EVENTS_PER_TREADMILL_S = 4;
const SAMPLE_MS = 1_000;
const DRAIN_TIMEOUT_MS = 60_000;
/** Records wait up to this long to fill: at 4 readings/s a record carries about 4 events. */
const BENCH_LINGER_MS = 1_000;
const MB = 1024 * 1024;
/** Object groups of a heap snapshot printed. */
const SNAPSHOT_TOP = 8;
/** Functions of a CPU profile printed. */
const PROFILE_TOP = 15;
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
  /** process.memoryUsage() of the gateway, from its /metrics. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

async function sampleGateway(pid: number, httpUrl: string): Promise<ProcessSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ')'; utime and stime are 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const metrics = parsePrometheus(await (await fetch(`${httpUrl}/metrics`)).text());
  const gauge = (name: string) => metrics.get(`retrostride_gateway_${name}`) ?? 0;
  return {
    at: Date.now(),
    cpuTicks,
    rssKb,
    eventsOut: gauge('events_out_total'),
    heapUsed: gauge('heap_used_bytes'),
    heapTotal: gauge('heap_total_bytes'),
    external: gauge('external_memory_bytes'),
    arrayBuffers: gauge('array_buffers_bytes'),
  };
}

type KinesisTarget = 'sink' | 'kinesalite';

/** Where the gateway ships, and how to tell afterwards what arrived. */
interface Destination {
  readonly endpoint: string;
  readonly streamName: string;
  /** Distinct readings that arrived, and a one-line account of what the receiver saw. */
  arrived(): Promise<{ readings: number; orderBreaks: number; note: string }>;
  close(): Promise<void>;
}

interface SinkStats {
  calls: number;
  records: number;
  events: number;
  beltDistinct: number;
  duplicateEvents: number;
  orderBreaks: number;
  rejectedRecords: number;
  rejectedEvents: number;
}

async function startSink(streamName: string): Promise<Destination> {
  const sink = spawnTsx([SINK]);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = '';
    sink.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const url = /listening (\S+)/.exec(text)?.[1];
      if (url) resolve(url);
    });
    sink.once('exit', (code) => reject(new Error(`kinesis sink exited (${code}): ${text}`)));
  });
  return {
    endpoint,
    streamName,
    async arrived() {
      const stats = (await (await fetch(`${endpoint}/stats`)).json()) as SinkStats;
      const note =
        `sink: ${stats.calls} calls, ${stats.records} records, ${(stats.events / Math.max(1, stats.records)).toFixed(1)} ` +
        `events/record, ${stats.duplicateEvents} duplicate events, ${stats.orderBreaks} order breaks, ` +
        `${stats.rejectedRecords} records and ${stats.rejectedEvents} events rejected`;
      return { readings: stats.beltDistinct, orderBreaks: stats.orderBreaks, note };
    },
    async close() {
      sink.kill('SIGTERM');
      await exited(sink);
    },
  };
}

async function useKinesalite(
  kit: Awaited<ReturnType<typeof startEmbeddedAws>>,
  streamName: string,
): Promise<Destination> {
  await createStream(kit.kinesis.client, streamName, 2);
  return {
    endpoint: kit.kinesis.endpoint,
    streamName,
    async arrived() {
      const reader = new StreamReader(kit.kinesis.client, streamName);
      await reader.poll();
      const readings = new Set(reader.events.map((event) => (event.type === 'belt' ? event.distanceM : -1)));
      return {
        readings: readings.size,
        orderBreaks: 0,
        note: `kinesalite: ${reader.records.length} records`,
      };
    },
    close: () => Promise.resolve(),
  };
}

interface MemoryBreakdown {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly arrayBuffersMb: number;
}

interface GatewayFigures {
  readonly eventsPerS: number;
  readonly cpuPct: number;
  /** At the sample of peak RSS. */
  readonly memory: MemoryBreakdown;
  readonly lost: number;
  readonly orderBreaks: number;
  readonly note: string;
  readonly snapshot: string | undefined;
  readonly profile: string | undefined;
}

/** The largest groups of a V8 heap snapshot by self size: constructor or string kind, count and MB. */
async function summariseSnapshot(dir: string): Promise<string | undefined> {
  const file = (await readdir(dir)).find((name) => name.endsWith('.heapsnapshot'));
  if (!file) return undefined;
  const snapshot = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const {
    node_fields: fields,
    node_types: [types],
  } = snapshot.snapshot.meta;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let node = 0; node < snapshot.nodes.length; node += fields.length) {
    const type = types[snapshot.nodes[node + typeAt!]!]!;
    const name =
      type === 'object' || type === 'closure'
        ? snapshot.strings[snapshot.nodes[node + nameAt!]!]!
        : `(${type})`;
    const group = groups.get(name) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += snapshot.nodes[node + sizeAt!]!;
    groups.set(name, group);
  }
  return [...groups]
    .sort(([, a], [, b]) => b.bytes - a.bytes)
    .slice(0, SNAPSHOT_TOP)
    .map(([name, { count, bytes }]) => `${name} ${(bytes / MB).toFixed(1)} MB (${count})`)
    .join('; ');
}

/** The functions with the most self time in a .cpuprofile (Chrome's format, what node --cpu-prof writes). */
async function summariseProfile(dir: string): Promise<string | undefined> {
  const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
  };
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = frames.get(id);
    const where = frame?.url.split('/').slice(-2).join('/') ?? '';
    const name = `${frame?.functionName || '(anonymous)'} ${where}:${(frame?.lineNumber ?? 0) + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
  }
  return [...byFunction]
    .sort(([, a], [, b]) => b - a)
    .slice(0, PROFILE_TOP)
    .map(([name, count]) => `${((count / profile.samples.length) * 100).toFixed(1)} % ${name}`)
    .join('\n    ');
}

async function measureGateway(
  options: {
    url: string;
    treadmills: number;
    seconds: number;
    warmupS: number;
    dir: string;
    heapSnapshot: boolean;
    cpuProfile: boolean;
    nodeOptions: string[] | undefined;
  },
  destination: Destination,
  mqttProtocol: 4 | 5,
): Promise<GatewayFigures> {
  const { treadmills, seconds, warmupS } = options;
  const port = await freePort();
  const configPath = join(options.dir, `gateway-${treadmills}.yaml`);
  await writeFile(
    configPath,
    [
      `gymId: ${GYM}`,
      'mqtt:',
      `  url: ${options.url}`,
      `  protocolVersion: ${mqttProtocol}`,
      `  clientId: bench-gateway-${treadmills}`,
      'spool:',
      `  dir: ${join(options.dir, `spool-${treadmills}`)}`,
      'kinesis:',
      `  streamName: ${destination.streamName}`,
      `  endpoint: ${destination.endpoint}`,
      '  region: us-east-1',
      `  lingerMs: ${BENCH_LINGER_MS}`,
      'http:',
      `  port: ${port}`,
      '',
    ].join('\n'),
  );
  const snapshotDir = join(options.dir, `heap-${treadmills}`);
  // Node writes heap snapshots only into a directory that exists (it creates the --cpu-prof-dir itself).
  await mkdir(snapshotDir, { recursive: true });
  const nodeOptions = [
    ...(options.nodeOptions ?? (await unitNodeOptions())),
    ...(options.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []),
    ...(options.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${snapshotDir}`] : []),
  ];
  // As the systemd unit runs it: the built CLI, no TypeScript loader.
  const gateway = spawn(NODE, [...nodeOptions, GATEWAY_ENTRY, 'gateway', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const peak = window.reduce<ProcessSample | undefined>(
    (top, sample) => (top === undefined || sample.rssKb > top.rssKb ? sample : top),
    undefined,
  );
  const figures = {
    eventsPerS: first && last && elapsedS > 0 ? (last.eventsOut - first.eventsOut) / elapsedS : 0,
    cpuPct:
      first && last && elapsedS > 0 ? ((last.cpuTicks - first.cpuTicks) / CLOCK_TICKS / elapsedS) * 100 : 0,
    memory: {
      rssMb: (peak?.rssKb ?? 0) / 1024,
      heapUsedMb: (peak?.heapUsed ?? 0) / MB,
      heapTotalMb: (peak?.heapTotal ?? 0) / MB,
      externalMb: (peak?.external ?? 0) / MB,
      arrayBuffersMb: (peak?.arrayBuffers ?? 0) / MB,
    },
  };
  if (options.heapSnapshot) {
    gateway.kill('SIGUSR2');
    await sleep(5_000); // writing it blocks the gateway; the drain below waits for the rest
  }

  // Let the backlog drain, then count what arrived: every reading carries a unique distanceM.
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const sample = await sampleGateway(pid, httpUrl).catch(() => undefined);
    if (sample && sample.eventsOut >= published) break;
    await sleep(250);
  }
  gateway.kill('SIGTERM');
  await exited(gateway);
  const arrived = await destination.arrived();
  return {
    ...figures,
    lost: Math.max(0, published - arrived.readings),
    orderBreaks: arrived.orderBreaks,
    note: arrived.note,
    snapshot: options.heapSnapshot ? await summariseSnapshot(snapshotDir).catch(() => undefined) : undefined,
    profile: options.cpuProfile ? await summariseProfile(snapshotDir).catch(() => undefined) : undefined,
  };
}

/** The RESULT line: each goal of issue 15 beside the figure it replaces; loads not run are left out. */
function resultLine(byLoad: ReadonlyMap<number, GatewayFigures & { ratio: number }>): string {
  const parts: string[] = [];
  const at500 = byLoad.get(500);
  const at5000 = byLoad.get(5000);
  if (at500) parts.push(`gateway_rss_mb_500=${at500.memory.rssMb.toFixed(0)} (goal<=120, was 136)`);
  if (at5000)
    parts.push(
      `gateway_rss_mb_5000=${at5000.memory.rssMb.toFixed(0)} (goal<=200, was 331)`,
      `gateway_cpu_pct_5000=${at5000.cpuPct.toFixed(1)} (goal<=40, was 58)`,
      `ratio_5000=${at5000.ratio.toFixed(2)} (goal>=0.95)`,
    );
  const figures = [...byLoad.values()];
  parts.push(
    `lost=${figures.reduce((sum, load) => sum + load.lost, 0)}`,
    `order_breaks=${figures.reduce((sum, load) => sum + load.orderBreaks, 0)}`,
  );
  return `RESULT ${parts.join(' ')}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const seconds = Number(flag(argv, 'seconds') ?? 25);
  const loads = (flag(argv, 'loads') ?? '50,500,5000').split(',').map(Number);
  const target = (flag(argv, 'kinesis') ?? 'sink') as KinesisTarget;
  if (!(seconds >= 5) || loads.some((load) => !Number.isInteger(load) || load < 1)) {
    console.error('bench:gateway: --seconds must be >= 5 and --loads whole numbers >= 1');
    return 2;
  }
  if (target !== 'sink' && target !== 'kinesalite') {
    console.error('bench:gateway: --kinesis must be sink or kinesalite');
    return 2;
  }
  const heapSnapshot = argv.includes('--heap-snapshot');
  const cpuProfile = argv.includes('--cpu-prof');
  const nodeOptions = flag(argv, 'node-options')
    ?.split(' ')
    .filter((option) => option !== '');
  const warmupS = Math.max(2, Math.round(seconds * 0.4));
  await buildGateway();
  const dir = await mkdtemp(join(tmpdir(), 'bench-gateway-'));
  const kit = await startEmbeddedAws({ shards: 1 });
  const mosquitto = findMosquitto() ? await startMosquitto({ dir: join(dir, 'broker') }) : undefined;
  const url = mosquitto?.url ?? kit.mqtt.url;
  console.log(
    `broker: ${mosquitto ? 'mosquitto (own process)' : 'aedes (embedded, MQTT 3.1.1)'}; ` +
      `kinesis: ${target === 'sink' ? 'PutRecords sink (own process)' : 'kinesalite (embedded)'}; ` +
      `${seconds} s per run, measured after ${warmupS} s; ${EVENTS_PER_TREADMILL_S} readings/s per treadmill`,
  );
  const byLoad = new Map<number, GatewayFigures & { ratio: number }>();
  try {
    for (const treadmills of loads) {
      const offered = treadmills * EVENTS_PER_TREADMILL_S;
      const ceiling = await measureCeiling(url, treadmills, seconds, warmupS);
      const streamName = `bench-${treadmills}`;
      const destination =
        target === 'sink' ? await startSink(streamName) : await useKinesalite(kit, streamName);
      let gateway: GatewayFigures;
      try {
        gateway = await measureGateway(
          { url, treadmills, seconds, warmupS, dir, heapSnapshot, cpuProfile, nodeOptions },
          destination,
          mosquitto ? 5 : 4,
        );
      } finally {
        await destination.close();
      }
      const ratio = ceiling > 0 ? gateway.eventsPerS / ceiling : 0;
      byLoad.set(treadmills, { ...gateway, ratio });
      const { memory } = gateway;
      console.log(
        `${treadmills} treadmills: offered ${offered}/s; bare subscriber ${Math.round(ceiling)}/s; gateway ` +
          `${Math.round(gateway.eventsPerS)}/s (ratio ${ratio.toFixed(2)}) at ${gateway.cpuPct.toFixed(1)} % CPU; ` +
          `lost ${gateway.lost}; load ${loadavg()[0]!.toFixed(2)}\n` +
          `  memory at peak: RSS ${memory.rssMb.toFixed(0)} MB = V8 heap ${memory.heapTotalMb.toFixed(0)} MB ` +
          `(${memory.heapUsedMb.toFixed(0)} used) + external ${memory.externalMb.toFixed(1)} MB ` +
          `(${memory.arrayBuffersMb.toFixed(1)} array buffers) + code, stacks and the Node binary\n` +
          `  ${gateway.note}` +
          (gateway.snapshot ? `\n  heap snapshot, largest by self size: ${gateway.snapshot}` : '') +
          (gateway.profile ? `\n  CPU profile, self time (whole run):\n    ${gateway.profile}` : ''),
      );
    }
  } finally {
    await mosquitto?.stop();
    await kit.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(resultLine(byLoad));
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
