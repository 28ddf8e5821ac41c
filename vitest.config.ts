import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (no Envoy) and the e2e suite, which starts real Envoy,
// the ext-proc and the demo model servers on free loopback ports.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['ext-proc/**/*.test.ts', 'plugins/**/*.test.ts', 'examples/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          // e2e files each start their own stack; on 2 cores run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
