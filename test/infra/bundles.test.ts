/**
 * The deployed bundles (infra/bundling.ts settings): within the size goal, every bundle CommonJS with the AWS
 * SDK left to the Lambda runtime and loaded by `require`, the clients only some invocations need on first use.
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, FUNCTION_NAMES, functionEntry } from '../../infra/bundling.js';

const GOAL_BYTES = 250 * 1024;
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
  it.each(['ingest', 'sweeper', 'notifier'] as const)(
    `%s stays under ${GOAL_BYTES / 1024} KB (zod tree-shaken: import * as z, not { z })`,
    async (name) => {
      const { bytes, inputs } = await bundle(name);
      expect(inputs.filter((input) => input.includes('zod/v4/locales/')).length).toBeLessThanOrEqual(1);
      expect(bytes).toBeLessThan(GOAL_BYTES);
    },
  );

  it.each([
    ['api', '@aws-sdk/client-secrets-manager'],
    ['progress-email', '@aws-sdk/client-secrets-manager'],
    ['api', '@aws-sdk/client-s3'],
    ['api', '@aws-sdk/s3-request-presigner'],
    ['export', '@aws-sdk/client-s3'],
    ['export', '@aws-sdk/s3-request-presigner'],
    ['progress-email', '@aws-sdk/client-sesv2'],
  ] as const)('%s loads %s on first use only, not at every cold start', async (name, sdkModule) => {
    const { text } = await bundle(name);
    const loads = text.match(new RegExp(`.{0,40}require\\("${sdkModule}"\\)`, 'g')) ?? [];
    expect(loads.length).toBeGreaterThan(0);
    // A lazy import() becomes a require inside a promise callback: it runs when the code path first does.
    for (const load of loads) expect(load).toContain('.then(()=>');
  });

  it.each(present)('%s is CommonJS, the SDK external and required, not imported', async (name) => {
    const { text, inputs } = await bundle(name);
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/'))).toBe(false);
    expect(text).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    // An ES module importing the SDK would go through Node's ESM loader (infra/bundling.ts says why not).
    expect(text).not.toMatch(/(^|[;}])import\s*[{*\w]/);
    expect(text).not.toMatch(/[^.\w]import\(/);
    expect(text).toMatch(/module\.exports=/);
    expect(text).toMatch(/\bhandler:\(\)=>/);
  });
});
