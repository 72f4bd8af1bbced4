import { defineConfig } from 'vitest/config';

// `vitest run` runs every project; `--project unit`, `--project integration` or `--project e2e` runs one.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 },
      },
      {
        // Emulators, brokers and child processes over real sockets: slower, and heavy on a 2-core machine.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The CDK app: templates built in-process, plus one real `cdk synth` through the CLI (slow: ~30 s).
        extends: true,
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 180_000 },
      },
      {
        // Headless Chromium through playwright-core (a system one, else the one npm brings) against the local
        // api-server or the whole dev stack, and `npm start` itself in a fresh clone.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
