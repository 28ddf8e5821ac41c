import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { loadConfigFile, type LoadedConfig } from './load.js';
import { ConfigReloader, type ReloadResult, type ReloadSource } from './reload.js';

const configText = (weights: string) => `
plugins: [{ type: model-router }]
models:
  m:
    protocol: kserve-v2
    versions: { v1: { endpoints: ["127.0.0.1:1"] }, v2: { endpoints: ["127.0.0.1:2"] } }
    traffic: { weights: ${weights} }
`;

describe('ConfigReloader', () => {
  let dir: string;
  let path: string;
  let current: LoadedConfig;
  let applied: LoadedConfig[];
  let results: [ReloadResult, ReloadSource][];
  let reloader: ConfigReloader;
  let refuseNext: Error | undefined;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reload-test-'));
    path = join(dir, 'gateway.yaml');
    await writeFile(path, configText('{ v1: 90, v2: 10 }'));
    current = await loadConfigFile(path);
    applied = [];
    results = [];
    refuseNext = undefined;
    logs.length = 0;
    reloader = new ConfigReloader({
      path,
      log: createLogger('info', { write: (line: string) => void logs.push(line) }),
      currentHash: () => current.hash,
      apply: async (loaded) => {
        if (refuseNext) throw refuseNext;
        applied.push(loaded);
        current = loaded;
      },
      onResult: (result, source) => void results.push([result, source]),
      debounceMs: 20,
    }).watch();
  });

  afterEach(async () => {
    reloader.close();
    await rm(dir, { recursive: true, force: true });
  });

  const weightsOf = (c: LoadedConfig) => c.config.models.m?.traffic?.weights;

  it('applies a file edited in place', async () => {
    await writeFile(path, configText('{ v1: 100, v2: 0 }'));
    await vi.waitFor(() => expect(results).toEqual([['success', 'file']]));
    expect(weightsOf(current)).toEqual({ v1: 100, v2: 0 });
  });

  it('never applies a file written in two parts half-written, even when the first part is valid on its own', async () => {
    const whole = `${configText('{ v1: 100, v2: 0 }')}    aliases: { stable: v1 }\n`;
    const cut = whole.indexOf('    aliases:');
    await writeFile(path, whole.slice(0, cut));
    await new Promise((r) => setTimeout(r, 300));
    await appendFile(path, whole.slice(cut));
    await vi.waitFor(() => expect(results).toEqual([['success', 'file']]), { timeout: 3000 });
    expect(applied).toHaveLength(1);
    expect(applied[0]?.config.models.m?.aliases).toEqual({ stable: 'v1' });
  });

  it('applies a file an editor replaced by renaming a new one over it', async () => {
    const tmp = join(dir, '.gateway.yaml.swp');
    await writeFile(tmp, configText('{ v1: 50, v2: 50 }'));
    await rename(tmp, path);
    await vi.waitFor(() => expect(results).toEqual([['success', 'file']]));
    expect(weightsOf(current)).toEqual({ v1: 50, v2: 50 });
  });

  it('refuses an invalid file with a log line naming the field, keeps the last good config, then takes the fixed one', async () => {
    const good = current;
    await writeFile(path, configText('{ v1: 90, v3: 10 }'));
    await vi.waitFor(() => expect(results).toEqual([['failure', 'file']]), { timeout: 3000 });
    expect(current).toBe(good);
    const line = logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 50);
    expect(line?.msg).toContain('config reload refused; keeping the last good config');
    expect(line?.msg).toContain('models.m.traffic.weights.v3: unknown version "v3"');

    await writeFile(path, configText('{ v1: 80, v2: 20 }'));
    await vi.waitFor(() => expect(results.at(-1)).toEqual(['success', 'file']), { timeout: 3000 });
    expect(weightsOf(current)).toEqual({ v1: 80, v2: 20 });
  });

  it('refuses a config its apply step rejects (e.g. a plugin whose setup fails)', async () => {
    refuseNext = new Error('setup failed');
    await writeFile(path, configText('{ v1: 1, v2: 1 }'));
    await vi.waitFor(() => expect(results).toEqual([['failure', 'file']]));
    expect(applied).toEqual([]);
  });

  it('ignores events that leave the bytes unchanged, but a signal always rebuilds', async () => {
    await writeFile(path, configText('{ v1: 90, v2: 10 }'));
    await vi.waitFor(() => expect(results).toEqual([['unchanged', 'file']]));
    await reloader.trigger('signal');
    expect(results.at(-1)).toEqual(['success', 'signal']);
    expect(applied).toHaveLength(1);
  });

  it('runs one reload at a time and coalesces the triggers that arrive meanwhile', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = new ConfigReloader({
      path,
      log: createLogger('silent'),
      currentHash: () => 'x',
      apply: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
      },
      onResult: (result) => void results.push([result, 'signal']),
    });
    await Promise.all([slow.trigger('signal'), slow.trigger('signal'), slow.trigger('signal'), slow.trigger('signal')]);
    await vi.waitFor(() => expect(results).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 80));
    expect(results).toHaveLength(2);
    expect(maxInFlight).toBe(1);
    slow.close();
  });
});
