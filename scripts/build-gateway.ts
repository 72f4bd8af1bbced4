/**
 * `npm run build:gateway`: the CLI compiled to plain JavaScript for the gateway box, so that the systemd unit
 * runs `node gateway-agent/dist/cli.js gateway` without a TypeScript loader: tsx keeps a loader thread with
 * its own V8 heap, about 35 MB of resident memory on a Raspberry-Pi-class box (docs/architecture.md section
 * 4.1). npm packages stay external (node_modules beside it); each command is its own chunk, loaded only when
 * run, so `gateway` loads what the gateway needs.
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

export const GATEWAY_DIST = 'gateway-agent/dist';
export const GATEWAY_ENTRY = `${GATEWAY_DIST}/cli.js`;

const HELP = `Usage: npm run build:gateway

Compiles scripts/cli.ts and what it imports (npm packages excluded) to ${GATEWAY_DIST}/, one chunk per
command; the systemd unit runs node ${GATEWAY_ENTRY} gateway --config FILE.`;

export async function buildGateway(): Promise<void> {
  // Chunk names carry a hash: an earlier build's chunks would otherwise pile up beside the new ones.
  await rm(GATEWAY_DIST, { recursive: true, force: true });
  await build({
    entryPoints: ['scripts/cli.ts'],
    outdir: GATEWAY_DIST,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) console.log(HELP);
  else
    await buildGateway().then(
      () => console.log(`built ${GATEWAY_ENTRY}`),
      (error: unknown) => {
        console.error(`build:gateway: ${(error as Error).message.split('\n')[0]}`);
        process.exitCode = 1;
      },
    );
}
