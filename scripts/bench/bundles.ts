/**
 * `npm run bench:bundles`: each function bundled exactly as infra/ deploys it (infra/bundling.ts), beside the
 * same function as a git revision bundled it (before) and with the AWS SDK bundled instead of external (the
 * other way of shipping it): the bytes of each, and the cold init of each, the time to load the bundle in a
 * fresh node process as Lambda's runtime does (`require` for CommonJS, `import()` for an ES module), the SDK
 * resolving from node_modules, outside the bundle, as the runtime's copy would. Every run loads every variant
 * once, in turn, so drift in the machine's load hits all alike; wall and CPU time are both reported (CPU time
 * is steadier on a busy machine).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import * as deployed from '../../infra/bundling.js';
import { quantile } from '../../shared/src/export/quantiles.js';
import { numberFlag, parseCommandArgs, UsageError, wantsHelp } from '../lib/command.js';

/** The last commit before issue 15's bundle work: what `before` means unless --before names another. */
const DEFAULT_BEFORE = '784e848';
const GOAL_KB = 250;
const GOAL_MS = 120;

const HELP = `Usage: npm run bench:bundles [-- --runs N] [--before REF | --before none]

Bundles every function three ways: as infra/bundling.ts deploys it now (after), as the git revision REF
bundled it (before; default ${DEFAULT_BEFORE}, extracted with git archive into .data/), and with the AWS SDK
bundled, minified and tree-shaken instead of external (sdk-bundled). Then loads each bundle in a fresh node
process N times (default 9), the variants in turn, and prints per function the bytes and the cold init,
median and p90 of wall time and median of CPU time. Goals: every bundle <= ${GOAL_KB} KB, cold init <= ${GOAL_MS} ms.
Ends with: RESULT bundle_max_kb=N (goal<=${GOAL_KB}, was N) cold_init_max_ms=N (goal<=${GOAL_MS}, was N) ...`;

/** Bundles live inside the project so that the external AWS SDK resolves from node_modules. */
const OUT_DIR = '.data/bench-bundles';
// Region and credentials-free environment: module init must not need AWS (handlers create clients lazily).
const CHILD_ENV = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', TABLE_PREFIX: 'bench' };

type BundlingModule = Pick<typeof deployed, 'esbuildOptions' | 'functionEntry' | 'FUNCTION_NAMES'>;
type FunctionName = deployed.FunctionName;
type Variant = 'before' | 'after' | 'sdk-bundled';

interface Bundle {
  file: string;
  format: 'esm' | 'cjs';
  bytes: number;
}

interface InitTimes {
  wallMs: number[];
  cpuMs: number[];
}

/** `git archive` of `ref` into a directory of .data (the working tree is left alone). */
async function extractRevision(ref: string): Promise<string> {
  const dir = join(OUT_DIR, `src-${ref.replace(/[^\w.-]/g, '_')}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const tar = execFileSync(
    'git',
    ['archive', '--format=tar', ref, 'infra', 'functions', 'shared', 'package.json'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return dir;
}

async function bundleWith(
  bundling: BundlingModule,
  root: string,
  name: FunctionName,
  outDir: string,
  adjust: (options: BuildOptions) => BuildOptions = (options) => options,
): Promise<Bundle> {
  const format = bundling.esbuildOptions('entry', 'out').format === 'esm' ? 'esm' : 'cjs';
  const file = join(outDir, name, format === 'esm' ? 'index.mjs' : 'index.js');
  await build(adjust(bundling.esbuildOptions(join(root, bundling.functionEntry(name)), file)));
  // Lambda's asset has no package.json, so index.js is CommonJS there; the project's says "module".
  if (format === 'cjs') await writeFile(join(dirname(file), 'package.json'), '{"type":"commonjs"}\n');
  return { file, format, bytes: statSync(file).size };
}

/** Wall and CPU time of loading `bundle` in a fresh node process, measured inside it. */
function timeColdInit(bundle: Bundle): { wallMs: number; cpuMs: number } {
  const target = JSON.stringify(
    bundle.format === 'esm' ? pathToFileURL(resolve(bundle.file)).href : resolve(bundle.file),
  );
  const load = bundle.format === 'esm' ? `await import(${target})` : `require(${target})`;
  const code = `const cpu = process.cpuUsage(); const t = performance.now(); ${load};
const used = process.cpuUsage(cpu); console.log(JSON.stringify({ wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 }));`;
  const args = bundle.format === 'esm' ? ['--input-type=module', '-e', code] : ['-e', code];
  const child = spawnSync(process.execPath, args, { env: CHILD_ENV, encoding: 'utf8' });
  if (child.status !== 0)
    throw new Error(`loading ${bundle.file} failed: ${child.stderr.trim().split('\n')[0]}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { wallMs: number; cpuMs: number };
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const ms = (value: number | null) => (value === null ? '-' : value.toFixed(0));

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  const { values } = parseCommandArgs(argv, { runs: { type: 'string' }, before: { type: 'string' } });
  const runs = numberFlag('runs', values.runs, { min: 1, max: 101 }) ?? 9;
  if (!Number.isInteger(runs)) throw new UsageError('--runs must be a whole number');
  const beforeRef = values.before ?? DEFAULT_BEFORE;

  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });
  const variants = new Map<
    Variant,
    { root: string; bundling: BundlingModule; adjust?: (o: BuildOptions) => BuildOptions }
  >();
  if (beforeRef !== 'none') {
    let root: string;
    try {
      root = await extractRevision(beforeRef);
    } catch {
      throw new UsageError(`--before ${beforeRef}: not a git revision with infra/bundling.ts`);
    }
    variants.set('before', {
      root,
      bundling: (await import(pathToFileURL(resolve(root, 'infra/bundling.ts')).href)) as BundlingModule,
    });
  }
  variants.set('after', { root: '.', bundling: deployed });
  variants.set('sdk-bundled', {
    root: '.',
    bundling: deployed,
    adjust: (options) => ({ ...options, external: [] }),
  });

  const names = deployed.FUNCTION_NAMES.filter((name) => existsSync(deployed.functionEntry(name)));
  const bundles = new Map<string, Bundle>();
  for (const [variant, { root, bundling, adjust }] of variants) {
    for (const name of names) {
      if (!existsSync(join(root, bundling.functionEntry(name)))) continue;
      bundles.set(
        `${variant}/${name}`,
        await bundleWith(bundling, root, name, join(OUT_DIR, variant), adjust),
      );
    }
  }
  console.log(
    `${bundles.size} bundles (${[...variants.keys()].join(', ')}; before = ${beforeRef}); ${runs} cold loads each, in turn; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );

  const times = new Map<string, InitTimes>(
    [...bundles.keys()].map((key) => [key, { wallMs: [], cpuMs: [] }]),
  );
  timeColdInit([...bundles.values()][0]!); // warms the file cache for node and the SDK
  for (let run = 0; run < runs; run++) {
    for (const [key, bundle] of bundles) {
      const { wallMs, cpuMs } = timeColdInit(bundle);
      times.get(key)?.wallMs.push(wallMs);
      times.get(key)?.cpuMs.push(cpuMs);
    }
  }
  const median = (key: string, field: keyof InitTimes) => quantile(times.get(key)?.[field] ?? [], 0.5);
  const p90 = (key: string) => quantile(times.get(key)?.wallMs ?? [], 0.9);

  const header = ['function', 'variant', 'KB', 'init med ms', 'p90 ms', 'cpu med ms'];
  const rows: string[][] = [];
  for (const name of names) {
    for (const variant of variants.keys()) {
      const key = `${variant}/${name}`;
      const bundle = bundles.get(key);
      if (!bundle) continue;
      rows.push([
        name,
        `${variant} (${bundle.format})`,
        kb(bundle.bytes),
        ms(median(key, 'wallMs')),
        ms(p90(key)),
        ms(median(key, 'cpuMs')),
      ]);
    }
  }
  printTable(header, rows);

  const worst = (variant: Variant, measure: (key: string, bundle: Bundle) => number) =>
    Math.max(
      ...[...bundles].filter(([key]) => key.startsWith(`${variant}/`)).map(([key, b]) => measure(key, b)),
    );
  const bytes = (_key: string, bundle: Bundle) => bundle.bytes;
  const wall = (key: string) => median(key, 'wallMs') ?? Number.NaN;
  const cpu = (key: string) => median(key, 'cpuMs') ?? Number.NaN;
  const was = (measure: (key: string, bundle: Bundle) => number, format: (n: number) => string) =>
    variants.has('before') ? format(worst('before', measure)) : '-';
  const load = loadavg()[0]!.toFixed(2);
  console.log(
    `\nRESULT bundle_max_kb=${kb(worst('after', bytes))} (goal<=${GOAL_KB}, was ${was(bytes, kb)}) ` +
      `cold_init_max_ms=${ms(worst('after', wall))} (goal<=${GOAL_MS}, was ${was(wall, ms)}) ` +
      `cold_init_cpu_max_ms=${ms(worst('after', cpu))} (was ${was(cpu, ms)}) ` +
      `sdk_bundled_max_kb=${kb(worst('sdk-bundled', bytes))} sdk_bundled_init_max_ms=${ms(worst('sdk-bundled', wall))} ` +
      `runs=${runs} load=${load}`,
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
    console.error(`bench:bundles: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
