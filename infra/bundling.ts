/**
 * How every function is bundled: the one set of esbuild settings that both the CDK functions (NodejsFunction)
 * and `npm run bench:bundles` use, so the benchmark measures what deploys.
 */
import type { BuildOptions } from 'esbuild';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Lambda's Node 22 runtime ships AWS SDK v3: leaving it out keeps bundles small and cold starts short. */
const EXTERNAL_MODULES = ['@aws-sdk/*'];
const TARGET = 'node22';
// ESM entry points first: they tree-shake (Powertools, middy, zod and smithy all ship them).
const MAIN_FIELDS = ['module', 'main'];

/** The functions infra/ deploys, by name: each is `functions/<name>/handler.ts`, exporting `handler`. */
export const FUNCTION_NAMES = ['ingest', 'sweeper', 'notifier', 'api', 'export', 'progress-email'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Entry file of a function, relative to the project root. */
export const functionEntry = (name: FunctionName): string => `functions/${name}/handler.ts`;

/** NodejsFunction's bundling: local esbuild (no Docker), minified ESM. */
export const cdkBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: TARGET,
  minify: true,
  sourceMap: false,
  mainFields: MAIN_FIELDS,
  externalModules: EXTERNAL_MODULES,
  forceDockerBundling: false,
};

/** The same settings for esbuild's API (what `cdk synth` passes to the esbuild command line). */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: TARGET,
    minify: true,
    sourcemap: false,
    mainFields: MAIN_FIELDS,
    external: EXTERNAL_MODULES,
    logLevel: 'warning',
  };
}
