// ioredis costs the ext-proc ~7 MB of live heap (~11 MB RSS): it is loaded only when a Redis
// store opens (docs/performance.md, "Memory under load"). A fresh process, so nothing else
// loaded it first.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

const script = `
import { createRequire } from 'node:module';
import pino from 'pino';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/ioredis/'));
const { default: plugin } = await import('./index.ts');
const { RedisOptions } = await import('./store-options.ts');
const { RedisStore } = await import('./redis-store.ts');
const { StoreHealth } = await import('./store-health.ts');
const seen = { afterImport: loaded() };
const opts = RedisOptions.parse({ url: 'redis://127.0.0.1:1' });
const store = new RedisStore('redis://127.0.0.1:1', opts, new StoreHealth(pino({ level: 'silent' }), { inc() {} }, 'limits', opts.onFailure, 'test'));
seen.afterOpen = loaded();
await store.close();
console.log(JSON.stringify({ ...seen, plugin: typeof plugin }));
process.exit(0);
`;

describe('the Redis client library', () => {
  it('is not loaded with the plugin, only when a Redis store opens', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: here, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1) as string)).toEqual({ afterImport: false, afterOpen: true, plugin: 'object' });
  });
});
