import { appendFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { baseConfig, extProcLog, useStack } from '../harness/e2e.js';
import { eventually } from '../harness/faults.js';
import { call, currentConfig, reloads, servedBy, sleep, v2Input, writeConfigAtomically, type Seen } from '../harness/traffic.js';

// Config saves as editors and shells really make them: a file written in two parts must
// never be applied half-written, and removing a version still in use is called out.
const config = baseConfig();
const stack = useStack(config);

const chat = () => call(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: [{ role: 'user', content: 'rabbit' }], max_tokens: 2 });

describe('config saves', () => {
  it('a file written in two parts (the first half valid on its own, without tinylm) is applied only whole: tinylm never 404s', async () => {
    const next = currentConfig(stack());
    next.models.sentiment!.traffic = { weights: { v1: 100, v2: 0 } };
    // tinylm last, so the first part (everything before `  tinylm:`) is a valid config without it.
    const { tinylm, ...others } = next.models;
    next.models = { ...others, tinylm: tinylm! };
    const text = stringify(next);
    const cut = text.indexOf('  tinylm:');
    expect(cut).toBeGreaterThan(0);
    const okBefore = await reloads(stack(), 'success');

    let done = false;
    const seen: Seen[] = [];
    const traffic = Promise.all(Array.from({ length: 2 }, async () => {
      while (!done) seen.push(await chat());
    }));
    await sleep(200);
    await writeFile(stack().configPath, text.slice(0, cut)); // `cat > file`: truncate, first part…
    await sleep(300);
    await appendFile(stack().configPath, text.slice(cut)); // …the rest 300 ms later
    await eventually('the whole new config is applied', async () => (await reloads(stack(), 'success')) > okBefore, 10_000);
    await sleep(300);
    done = true;
    await traffic;

    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s.status !== 200), JSON.stringify(seen.filter((s) => s.status !== 200).slice(0, 3))).toEqual([]);
    // Applied once, as a whole: the weight change is in force.
    expect(await reloads(stack(), 'success')).toBe(okBefore + 1);
    for (let i = 0; i < 10; i++) expect(servedBy(await call(`${stack().url}/v2/models/sentiment/infer`, v2Input()))).toBe('v1');
  });

  it('a reload that removes a version that served traffic in the last minute logs a warning naming it', async () => {
    const v2 = await call(`${stack().url}/v2/models/sentiment/versions/v2/infer`, v2Input());
    expect(v2.status).toBe(200);
    const next = currentConfig(stack());
    delete next.models.sentiment!.versions.v2;
    next.models.sentiment!.aliases = { stable: 'v1' };
    next.models.sentiment!.traffic = { weights: { v1: 100 } };
    const okBefore = await reloads(stack(), 'success');
    await writeConfigAtomically(stack(), next);
    await eventually('the reload is applied', async () => (await reloads(stack(), 'success')) > okBefore, 10_000);
    const log = await extProcLog(stack(), (t) => t.includes('config reload removed sentiment@v2'));
    const line = log.split('\n').find((l) => l.includes('config reload removed sentiment@v2')) as string;
    expect(line, 'no warning in the ext-proc log').toBeDefined();
    expect(JSON.parse(line)).toMatchObject({ level: 40 /* warn */, model: 'sentiment', version: 'v2' });
  });
});
