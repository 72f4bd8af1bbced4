/**
 * `npm run bench:e2e`: how long an event takes from being published to the gym's broker until the API shows
 * it, with the whole local stack running (broker, gateways, Kinesis and DynamoDB emulators, the ingest handler
 * through the event-source runner, the API) under a simulated fleet publishing from another process.
 *
 * A probe treadmill publishes one belt reading a second; the bench polls the API until the treadmill's
 * last-seen time reaches the reading's time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startDevStack } from '../local/dev-stack.js';

const HELP = `Usage: npm run bench:e2e [-- --loads 24,240 --seconds S]

Runs the local stack once per load (treadmills in 2 gyms, 4 events/s each, simulated in another process),
probes event-published-to-visible-in-API latency once a second for S seconds (default 30) after a 10 s
warm-up, and prints p50 and p95. Ends with one line per load:
RESULT treadmills=N p50_ms=N p95_ms=N (goal<=3000) lost=N load=L (L: the machine's 1-minute load average)`;

const PROBE_GYM = 'gym-a';
const PROBE_TREADMILL = 'tm-probe';
const WARMUP_MS = 10_000;
const VISIBLE_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
/** Issue 15: publish to API within 3 s at the 95th percentile, at 240 treadmills. */
const P95_GOAL_MS = 3_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function parseArgs(argv: string[]): { loads: number[]; seconds: number } {
  const value = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
  };
  const loads = (value('loads') ?? '24,240').split(',').map(Number);
  const seconds = Number(value('seconds') ?? 30);
  if (!loads.every((n) => Number.isInteger(n) && n >= 2 && n % 2 === 0) || !(seconds >= 5)) {
    console.error('bench:e2e: --loads takes even whole numbers >= 2 (two gyms), --seconds a number >= 5');
    process.exit(2);
  }
  return { loads, seconds };
}

async function login(apiUrl: string): Promise<string> {
  const response = await fetch(`${apiUrl}/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'operator-a', password: 'retro-a' }),
  });
  return ((await response.json()) as { token: string }).token;
}

async function lastSeenTs(apiUrl: string, token: string): Promise<number> {
  const response = await fetch(`${apiUrl}/api/gyms/${PROBE_GYM}/treadmills/${PROBE_TREADMILL}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) return 0;
  const body = (await response.json()) as { treadmill: { lastSeenTs: number | null } };
  return body.treadmill.lastSeenTs ?? 0;
}

function startLoad(mqttUrl: string, treadmills: number): ChildProcess {
  return spawn(
    'node_modules/.bin/tsx',
    [
      'scripts/cli.ts',
      'simulate',
      '--mqtt-url',
      mqttUrl,
      '--gyms',
      '2',
      '--treadmills',
      String(treadmills / 2),
      '--seed',
      '7',
      '--idle-minutes',
      '0.1-0.2',
    ],
    { stdio: 'ignore' },
  );
}

async function measure(treadmills: number, seconds: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'retrostride-bench-e2e-'));
  const stack = await startDevStack({
    dataDir,
    fresh: true,
    port: 0,
    host: '127.0.0.1',
    mqttPort: 0,
    simulate: false,
    simulator: { gyms: 2, treadmillsPerGym: treadmills / 2 },
    scheduleMs: 60_000,
    batchingWindowMs: 1_000,
    historyWeeks: 0,
    log: () => undefined,
  });
  const load = startLoad(stack.kit.mqtt.url, treadmills);
  const probe = await mqtt.connectAsync(stack.kit.mqtt.url, { protocolVersion: 4, clientId: 'bench-probe' });
  try {
    const token = await login(stack.api.url);
    const latencies: number[] = [];
    let lost = 0;
    const started = Date.now();
    for (let i = 0; Date.now() - started < WARMUP_MS + seconds * 1000; i++) {
      const publishedTs = Date.now();
      const topic = `gyms/${PROBE_GYM}/treadmills/${PROBE_TREADMILL}/telemetry`;
      await probe.publishAsync(topic, JSON.stringify({ type: 'belt', speedKmh: 3, ts: publishedTs }), {
        qos: 1,
      });
      let seenAt: number | undefined;
      while (Date.now() - publishedTs < VISIBLE_TIMEOUT_MS) {
        if ((await lastSeenTs(stack.api.url, token)) >= publishedTs) {
          seenAt = Date.now();
          break;
        }
        await sleep(POLL_MS);
      }
      const warm = publishedTs - started >= WARMUP_MS;
      if (seenAt === undefined) lost += warm ? 1 : 0;
      else if (warm) latencies.push(seenAt - publishedTs);
      await sleep(Math.max(0, 1000 - (Date.now() - publishedTs)));
      if (i % 10 === 9) process.stderr.write(`  ${treadmills} treadmills: ${latencies.length} probes\n`);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), lost, probes: latencies.length };
  } finally {
    load.kill('SIGTERM');
    await probe.endAsync();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Each load runs in its own process: the handlers keep their clients for the life of a process, as on Lambda. */
function measureInChild(treadmills: number, seconds: number): Promise<Awaited<ReturnType<typeof measure>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'node_modules/.bin/tsx',
      ['scripts/bench/e2e.ts', '--child', '--loads', String(treadmills), '--seconds', String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith(CHILD_RESULT));
      if (code !== 0 || !line) reject(new Error(`the ${treadmills}-treadmill run failed (exit ${code})`));
      else resolve(JSON.parse(line.slice(CHILD_RESULT.length)));
    });
  });
}

const CHILD_RESULT = 'child-result ';

if (process.argv.includes('--help')) {
  console.log(HELP);
} else {
  const { loads, seconds } = parseArgs(process.argv.slice(2));
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  if (process.argv.includes('--child')) {
    console.log(CHILD_RESULT + JSON.stringify(await measure(loads[0] ?? 24, seconds)));
  } else {
    const results = [];
    for (const treadmills of loads) {
      console.log(
        `load: ${treadmills} treadmills (+1 probe), ${seconds} s of probes after ${WARMUP_MS / 1000} s warm-up`,
      );
      const result = await measureInChild(treadmills, seconds);
      console.log(
        `  p50 ${result.p50} ms, p95 ${result.p95} ms over ${result.probes} probes, lost ${result.lost}`,
      );
      results.push({ treadmills, ...result });
    }
    for (const r of results)
      console.log(
        `RESULT treadmills=${r.treadmills} p50_ms=${r.p50} p95_ms=${r.p95} (goal<=${P95_GOAL_MS}) lost=${r.lost} load=${loadavg()[0]!.toFixed(1)}`,
      );
  }
}
