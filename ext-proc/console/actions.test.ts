// The console's changes: comment-preserving edits of the config file, applied through the
// reload, undone when the reload refuses them.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { ConfigActions } from './actions.js';
import { ConfigStatus } from './config-status.js';
import { EditError, pointAlias, setWeights } from './edits.js';

const TEXT = `# the gateway
models:
  sentiment:
    protocol: kserve-v2
    versions:
      v1: { endpoints: ["127.0.0.1:9101"] }   # lexicon
      v2: { endpoints: ["127.0.0.1:9102"] }
    aliases:
      stable: v1   # what most clients ask for
    traffic:
      # 90/10 canary
      weights: { v1: 90, v2: 10 }
  iris:
    protocol: tfserving
    versions:
      "1": { endpoints: ["127.0.0.1:9301"] }
      "2": { endpoints: ["127.0.0.1:9302"] }
`;

describe('config edits', () => {
  it('shifts weights in place: the rest of the file stays byte for byte', () => {
    const next = setWeights(TEXT, 'sentiment', { v1: 0, v2: 100 });
    expect(next).toContain('weights: { v1: 0, v2: 100 }');
    for (const comment of ['# the gateway', '# lexicon', '# what most clients ask for', '# 90/10 canary']) expect(next).toContain(comment);
    expect(next.replace('{ v1: 0, v2: 100 }', '{ v1: 90, v2: 10 }')).toBe(TEXT);
  });

  it('drops versions left out, and adds weights to a model without traffic', () => {
    const dropped = setWeights(TEXT, 'sentiment', { v2: 1 });
    expect(dropped).toContain('weights: { v2: 1 }');
    expect(dropped).toContain('# 90/10 canary');
    const iris = setWeights(TEXT, 'iris', { '1': 50, '2': 50 });
    expect(iris).toMatch(/iris:[\s\S]*traffic:\s*\n\s*weights: \{ "1": 50, "2": 50 \}/);
  });

  it('points an alias', () => {
    const next = pointAlias(TEXT, 'sentiment', 'stable', 'v2');
    expect(next).toContain('stable: v2   # what most clients ask for');
    // A new key re-prints the file through the Document API: comments stay.
    const added = pointAlias(TEXT, 'sentiment', 'canary', 'v2');
    expect(added).toMatch(/stable: v1\s+# what most clients ask for\n\s*canary: v2/);
    for (const comment of ['# the gateway', '# lexicon', '# 90/10 canary']) expect(added).toContain(comment);
  });

  it('refuses an unknown model without touching anything', () => {
    expect(() => setWeights(TEXT, 'nope', { v1: 1 })).toThrow(EditError);
    expect(() => pointAlias('models: [', 'sentiment', 'a', 'v1')).toThrow(/not valid YAML/);
  });
});

/** A temp config file with a reloader stand-in: loads and validates the file like the gateway's. */
async function setup(text = TEXT) {
  const dir = await mkdtemp(join(tmpdir(), 'console-actions-'));
  const path = join(dir, 'gateway.yaml');
  await writeFile(path, text);
  const first = await loadConfigFile(path);
  const status = new ConfigStatus({ hash: first.hash, text });
  let reloads = 0;
  const reload = async () => {
    reloads++;
    try {
      const loaded = await loadConfigFile(path);
      if (loaded.hash !== status.hash) status.loaded({ hash: loaded.hash, text: loaded.text ?? '' }, 'signal');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      status.refused('signal', err.message);
    }
  };
  const actions = new ConfigActions({ configPath: path, status, reload, log: pino({ level: 'silent' }), settleMs: 1000 });
  return { path, status, actions, reloads: () => reloads };
}

describe('config actions', () => {
  it('writes the change to the file and applies it through the reload', async () => {
    const { path, status, actions } = await setup();
    const result = await actions.weights('sentiment', { v1: 50, v2: 50 });
    expect(result).toMatchObject({ applied: true, hash: status.hash });
    expect(await readFile(path, 'utf8')).toContain('weights: { v1: 50, v2: 50 }');
    expect(status.lastReload).toMatchObject({ result: 'success' });
  });

  it('undoes a change the reload refuses, and says why', async () => {
    const { path, status, actions } = await setup();
    const before = status.hash;
    const result = await actions.alias('sentiment', 'stable', 'v9');
    expect(result).toMatchObject({ applied: false, status: 422, error: expect.stringContaining('alias points to unknown version "v9"') });
    expect(await readFile(path, 'utf8')).toBe(TEXT);
    expect(status.hash).toBe(before);
    expect(status.lastReload).toMatchObject({ result: 'failure' });
  });

  it('says so when the config file cannot be written, and changes nothing', async () => {
    const { path, actions, reloads } = await setup();
    // A directory where the new file is written first: the write fails, even for root.
    await mkdir(join(dirname(path), `.gateway.yaml.console-${process.pid}`));
    const result = await actions.weights('sentiment', { v1: 1, v2: 1 });
    expect(result).toMatchObject({ applied: false, status: 409, error: expect.stringContaining('cannot write the config file') });
    expect(reloads()).toBe(0);
    expect(await readFile(path, 'utf8')).toBe(TEXT);
  });

  it('rolls back to the config before the last change, and says when there is none', async () => {
    const { path, actions, reloads } = await setup();
    expect(await actions.rollback()).toMatchObject({ applied: false, status: 400, error: expect.stringContaining('no previous config') });
    await actions.weights('sentiment', { v1: 0, v2: 1 });
    expect(await actions.rollback()).toMatchObject({ applied: true });
    expect(await readFile(path, 'utf8')).toBe(TEXT);
    // A change to what is already in force writes and reloads nothing.
    const n = reloads();
    expect(await actions.weights('sentiment', { v1: 90, v2: 10 })).toMatchObject({ applied: true, unchanged: true });
    expect(reloads()).toBe(n);
  });
});
