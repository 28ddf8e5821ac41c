import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Plugins import the SDK by package name (package.json `exports`); tests resolve it to the source.
const resolve = {
  alias: {
    '@inference-gateway/sdk/testing': fileURLToPath(new URL('./plugins/sdk/testing.ts', import.meta.url)),
    '@inference-gateway/sdk/shared': fileURLToPath(new URL('./plugins/sdk/shared.ts', import.meta.url)),
    '@inference-gateway/sdk': fileURLToPath(new URL('./plugins/sdk/index.ts', import.meta.url)),
    'inference-gateway/sdk/testing': fileURLToPath(new URL('./plugins/sdk/testing.ts', import.meta.url)),
    'inference-gateway/sdk': fileURLToPath(new URL('./plugins/sdk/index.ts', import.meta.url)),
  },
};

// Two projects: fast unit tests (no Envoy) and the e2e suite, which starts real Envoy,
// the ext-proc and the demo model servers on free loopback ports.
export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['ext-proc/**/*.test.ts', 'plugins/**/*.test.ts', 'examples/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/harness/build.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          // e2e files each start their own stack; on 2 cores run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
