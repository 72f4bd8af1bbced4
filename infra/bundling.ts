/**
 * How every function is bundled: the one set of esbuild settings that both the CDK functions (NodejsFunction)
 * and `npm run bench:bundles` use, so the benchmark measures what deploys.
 */
import type { BuildOptions } from 'esbuild';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * Lambda's Node 22 runtime ships AWS SDK v3: leaving it out keeps the bundles small (bundled, minified and
 * tree-shaken, the SDK adds 340-560 KB per function for a cold init about as long, measured by
 * `npm run bench:bundles`; docs/architecture.md section 1).
 */
const EXTERNAL_MODULES = ['@aws-sdk/*'];
const TARGET = 'node22';
// ESM entry points first: they tree-shake (Powertools, middy, zod and smithy all ship them).
const MAIN_FIELDS = ['module', 'main'];
/**
 * CommonJS output, and lazy `import()`s turned into `require`: the runtime's SDK is CommonJS, and an ES module
 * importing it goes through Node's ESM loader, which scans every CommonJS file of the SDK for its exports;
 * `require` skips that, about 40 % of each function's cold init (bench:bundles, before vs after).
 */
const UNSUPPORTED = { 'dynamic-import': false };

/** The functions infra/ deploys, by name: each is `functions/<name>/handler.ts`, exporting `handler`. */
export const FUNCTION_NAMES = ['ingest', 'sweeper', 'notifier', 'api', 'export', 'progress-email'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Entry file of a function, relative to the project root. */
export const functionEntry = (name: FunctionName): string => `functions/${name}/handler.ts`;

/** NodejsFunction's bundling: local esbuild (no Docker), minified CommonJS (index.js). */
export const cdkBundling: BundlingOptions = {
  format: OutputFormat.CJS,
  target: TARGET,
  minify: true,
  sourceMap: false,
  mainFields: MAIN_FIELDS,
  externalModules: EXTERNAL_MODULES,
  esbuildArgs: Object.fromEntries(
    Object.entries(UNSUPPORTED).map(([feature, on]) => [`--supported:${feature}`, String(on)]),
  ),
  forceDockerBundling: false,
};

/** The same settings for esbuild's API (what `cdk synth` passes to the esbuild command line). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: TARGET,
    minify: true,
    sourcemap: false,
    mainFields: MAIN_FIELDS,
    external: EXTERNAL_MODULES,
    supported: UNSUPPORTED,
    logLevel: 'warning',
  };
}
