/**
 * The one real synth: `npx cdk synth` through the CLI, as in a fresh clone, with no AWS credentials, no
 * Docker, and any network call pointed at a closed port. It bundles every function with local esbuild,
 * validates the template (CloudFormation schema and cdk-nag) and writes the assembly. About 30 s here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntry } from '../../infra/bundling.js';

const outdir = mkdtempSync(join(tmpdir(), 'retrostride-cdk-out-'));
const DEAD_PROXY = 'http://127.0.0.1:9';
let result: ReturnType<typeof spawnSync>;
let template: {
  Resources: Record<
    string,
    { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
};

beforeAll(() => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(key)) env[key] = value;
  }
  result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
    env: {
      ...env,
      CDK_DISABLE_VERSION_CHECK: '1',
      HTTPS_PROXY: DEAD_PROXY,
      HTTP_PROXY: DEAD_PROXY,
      https_proxy: DEAD_PROXY,
      http_proxy: DEAD_PROXY,
      NO_PROXY: '',
    },
    encoding: 'utf8',
    timeout: 170_000,
  });
  if (result.status === 0)
    template = JSON.parse(readFileSync(join(outdir, 'Retrostride-dev.template.json'), 'utf8'));
}, 180_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('npx cdk synth (offline, no credentials, no Docker)', () => {
  it('succeeds with validation and cdk-nag on, and nothing to report', () => {
    expect(result.status, String(result.stderr)).toBe(0);
    expect(String(result.stderr)).not.toMatch(/^(ERROR|WARNING) /m);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ summary?: { status: string } }>;
    };
    for (const plugin of report.pluginReports) expect(plugin.summary?.status).not.toBe('failure');
  });

  it('bundles every function as a minified CommonJS file, the same bytes the bundle benchmark measures', async () => {
    const functions = Object.entries(template.Resources).filter(
      ([id, resource]) =>
        resource.Type === 'AWS::Lambda::Function' && !id.startsWith('CustomCDKBucketDeployment'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const [, fn] of functions) {
      const assetPath = (fn.Metadata?.['aws:asset:path'] as string | undefined) ?? '';
      const files = readdirSync(join(outdir, assetPath));
      expect(files).toEqual(['index.js']);
    }
    const ingest = functions.find(([id]) => id.startsWith('IngestFunction'));
    const deployed = readFileSync(join(outdir, String(ingest?.[1].Metadata?.['aws:asset:path']), 'index.js'));
    const benched = await build({ ...esbuildOptions(functionEntry('ingest'), 'index.js'), write: false });
    expect(deployed.equals(Buffer.from(benched.outputFiles?.[0]?.contents ?? []))).toBe(true);
    // CommonJS (the benchmark's options minify), the SDK left to the runtime and loaded by require.
    expect(deployed.toString()).toMatch(/module\.exports=/);
    expect(deployed.toString()).toContain('require("@aws-sdk/client-dynamodb")');
  });

  it('writes the dashboard files as assets (config.json among them, built at deploy time)', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const dashboard = assets.find((name) => existsSync(join(outdir, name, 'index.html')));
    expect(dashboard).toBeDefined();
    expect(existsSync(join(outdir, String(dashboard), 'js', 'app.js'))).toBe(true);
    expect(existsSync(join(outdir, String(dashboard), 'tsconfig.json'))).toBe(false);
  });
});
