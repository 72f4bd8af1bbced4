import { defineConfig } from 'vitest/config';

// `vitest run` runs both projects; `--project unit` or `--project integration` runs one.
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
    ],
  },
});
