/**
 * `npm run bench:bundles`: each function bundled exactly as infra/ deploys it (infra/bundling.ts: minified
 * ESM, AWS SDK external), its size, and its cold module-init time: a fresh node process importing the bundle,
 * minus a fresh node process importing nothing, median of several runs each (interleaved, so drift in the
 * machine's load hits both alike). The SDK resolves from node_modules, as Lambda's runtime provides it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, FUNCTION_NAMES, type FunctionName, functionEntry } from '../../infra/bundling.js';
import { numberFlag, parseCommandArgs, UsageError, wantsHelp } from '../lib/command.js';

const HELP = `Usage: npm run bench:bundles [-- --runs N]

Bundles every function under functions/ with the deployed esbuild settings (infra/bundling.ts), then times a
cold import of each bundle in a fresh node process, minus an empty node process: the median of N runs
(default 9). Goals: ingest under 300 KB and under 150 ms. Ends with one line per function:
RESULT function=NAME bytes=N init_ms=N`;

/** Bundles live inside the project so that the external AWS SDK resolves from node_modules. */
const OUT_DIR = '.data/bench-bundles';
const GOALS: Partial<Record<FunctionName, { bytes: number; initMs: number }>> = {
  ingest: { bytes: 300 * 1024, initMs: 150 },
};
// Region and credentials-free environment: module init must not need AWS (handlers create clients lazily).
const CHILD_ENV = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', TABLE_PREFIX: 'bench' };

interface Measured {
  name: FunctionName;
  bytes: number;
  initMs: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Wall time of a fresh node process running `code` as an ES module. */
function timeProcess(code: string): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: CHILD_ENV });
  const elapsed = performance.now() - started;
  if (child.status !== 0) throw new Error(`node exited ${child.status}: ${child.stderr.toString().trim()}`);
  return elapsed;
}

async function bundle(name: FunctionName): Promise<string> {
  const outfile = join(OUT_DIR, name, 'index.mjs');
  await build(esbuildOptions(functionEntry(name), outfile));
  return outfile;
}

function measureInit(bundles: ReadonlyMap<FunctionName, string>, runs: number): Map<FunctionName, number> {
  const empty: number[] = [];
  const samples = new Map<FunctionName, number[]>([...bundles.keys()].map((name) => [name, []]));
  timeProcess(''); // warms the file cache for node itself
  for (let run = 0; run < runs; run++) {
    empty.push(timeProcess(''));
    for (const [name, file] of bundles) {
      samples.get(name)?.push(timeProcess(`await import(${JSON.stringify(pathToFileURL(file).href)});`));
    }
  }
  const baseline = median(empty);
  return new Map([...samples].map(([name, values]) => [name, Math.max(0, median(values) - baseline)]));
}

const ratio = (value: number, goal: number | undefined): string =>
  goal === undefined
    ? '—'
    : `${(value / goal).toFixed(2)}x of ${goal >= 1024 ? `${goal / 1024} KB` : `${goal} ms`}`;

function report(results: readonly Measured[]): void {
  const rows = results.map((r) => {
    const goal = GOALS[r.name];
    return [
      r.name,
      `${(r.bytes / 1024).toFixed(1)} KB`,
      ratio(r.bytes, goal?.bytes),
      `${r.initMs.toFixed(0)} ms`,
      ratio(r.initMs, goal?.initMs),
    ];
  });
  const header = ['function', 'bundle', 'vs goal', 'cold init', 'vs goal'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
  for (const r of results) {
    console.log(`RESULT function=${r.name} bytes=${r.bytes} init_ms=${Math.round(r.initMs)}`);
  }
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  const { values } = parseCommandArgs(argv, { runs: { type: 'string' } });
  const runs = numberFlag('runs', values.runs, { min: 1, max: 101 }) ?? 9;
  if (!Number.isInteger(runs)) throw new UsageError('--runs must be a whole number');

  const present = FUNCTION_NAMES.filter((name) => existsSync(functionEntry(name)));
  const missing = FUNCTION_NAMES.filter((name) => !present.includes(name));
  if (missing.length > 0) console.log(`not yet written, skipped: ${missing.join(', ')}`);
  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const bundles = new Map<FunctionName, string>();
  for (const name of present) bundles.set(name, await bundle(name));
  console.log(
    `bundled ${bundles.size} functions (minified ESM, AWS SDK external); ${runs} cold imports each\n`,
  );
  const init = measureInit(bundles, runs);
  report(
    [...bundles].map(([name, file]) => ({ name, bytes: statSync(file).size, initMs: init.get(name) ?? 0 })),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`bench:bundles: ${error.message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
