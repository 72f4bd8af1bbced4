/**
 * The deployed bundles (infra/bundling.ts settings): ingest within its size goal, every bundle loadable as an
 * ES module (no CommonJS `require` left behind) with the AWS SDK left to the Lambda runtime.
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, FUNCTION_NAMES, functionEntry } from '../../infra/bundling.js';

const INGEST_GOAL_BYTES = 300 * 1024;
const present = FUNCTION_NAMES.filter((name) => existsSync(functionEntry(name)));

async function bundle(name: (typeof FUNCTION_NAMES)[number]) {
  const result = await build({
    ...esbuildOptions(functionEntry(name), `${name}.mjs`),
    write: false,
    metafile: true,
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`no output for ${name}`);
  // Files that contributed bytes (tree-shaken ones are listed with none).
  const inputs = Object.entries(result.metafile.outputs[`${name}.mjs`]?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
  return { text: output.text, bytes: output.contents.byteLength, inputs };
}

describe('function bundles', () => {
  it(`ingest stays under ${INGEST_GOAL_BYTES / 1024} KB (zod tree-shaken: import * as z, not { z })`, async () => {
    const { bytes, inputs } = await bundle('ingest');
    expect(inputs.filter((input) => input.includes('zod/v4/locales/')).length).toBeLessThanOrEqual(1);
    expect(bytes).toBeLessThan(INGEST_GOAL_BYTES);
  });

  it.each(['api', 'progress-email'] as const)(
    '%s reads the unsubscribe secret from Secrets Manager, its client imported on first use only',
    async (name) => {
      const { text } = await bundle(name);
      // A dynamic import: the client loads when the secret is first needed, not at every cold start.
      expect(text).toMatch(/import\(\s*["']@aws-sdk\/client-secrets-manager["']\s*\)/);
      expect(text).not.toMatch(/from\s*["']@aws-sdk\/client-secrets-manager["']/);
    },
  );

  it.each(present)('%s is an ES module with the SDK external and no CommonJS require', async (name) => {
    const { text, inputs } = await bundle(name);
    expect(text).not.toContain('Dynamic require of');
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/'))).toBe(false);
    expect(text).toMatch(/export\s*\{[^}]*\bhandler\b/);
  });
});
