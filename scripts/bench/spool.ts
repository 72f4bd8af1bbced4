/**
 * Spool append throughput with fsync: one appender awaiting each append, then many concurrent appenders
 * (as MQTT QoS 1 deliveries arrive), whose appends share fsyncs through group commit.
 * Usage: npx tsx scripts/bench/spool.ts [--events N] [--dir PATH] (the dir should be on the target disk)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monotonicFactory } from 'ulid';
import { Spool } from '../../gateway-agent/src/spool.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, dir: { type: 'string' } } });
const total = Number(values.events ?? 20_000);
if (!Number.isInteger(total) || total < 1000) {
  console.error('bench:spool: --events must be a whole number >= 1000');
  process.exit(2);
}

const nextId = monotonicFactory();
const TREADMILLS = 500;
const seqs = new Map<string, number>();

function event(index: number): TelemetryEvent {
  const treadmillId = `tm-${index % TREADMILLS}`;
  const seq = (seqs.get(treadmillId) ?? 0) + 1;
  seqs.set(treadmillId, seq);
  const now = Date.now();
  return {
    type: 'belt',
    speedKmh: 5.5,
    inclinePct: 2,
    id: nextId(),
    gymId: 'gym-bench',
    treadmillId,
    seq,
    ts: now,
    rxTs: now,
  };
}

async function run(label: string, appenders: number, perAppend: number): Promise<void> {
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'spool-bench-'));
  seqs.clear();
  const spool = await Spool.open({ dir });
  const appendsEach = Math.ceil(total / appenders / perAppend);
  const started = process.hrtime.bigint();
  let index = 0;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      for (let call = 0; call < appendsEach; call++) {
        await spool.append(Array.from({ length: perAppend }, () => event(index++)));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { appended, fsyncs, depthBytes } = spool.stats();
  await spool.close();
  await rm(dir, { recursive: true, force: true });
  const rate = Math.round(appended / seconds);
  console.log(
    `${label.padEnd(44)} ${String(rate).padStart(8)} events/s  (${(appended / fsyncs).toFixed(1)} events per fsync, ${(depthBytes / appended).toFixed(0)} B/event on disk)`,
  );
}

/** Reopening scans and CRC-checks every segment and refills the window: what a restart after an outage costs. */
async function reopen(events: number): Promise<void> {
  const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'spool-bench-'));
  seqs.clear();
  const writer = await Spool.open({ dir });
  for (let index = 0; index < events; index += 1000) {
    await writer.append(Array.from({ length: 1000 }, (_, offset) => event(index + offset)));
  }
  const { depthBytes } = writer.stats();
  await writer.close();
  const started = process.hrtime.bigint();
  const reader = await Spool.open({ dir });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { depthEvents } = reader.stats();
  await reader.close();
  await rm(dir, { recursive: true, force: true });
  const mib = depthBytes / 1024 / 1024;
  console.log(
    `${'reopen with a backlog'.padEnd(44)} ${String(Math.round(mib / seconds)).padStart(8)} MiB/s   (${mib.toFixed(0)} MiB, ${depthEvents} events unacked, ${seconds.toFixed(2)} s)`,
  );
}

await run('1 appender, 1 event per append', 1, 1);
await run('1 appender, 100 events per append', 1, 100);
await run('16 concurrent appenders, 1 event each', 16, 1);
await run('100 concurrent appenders, 1 event each', 100, 1);
await run('1000 concurrent appenders, 1 event each', 1000, 1);
await reopen(total * 25);
