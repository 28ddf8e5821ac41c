// The console as an operator uses it: headless Chromium on the e2e stack (Envoy, ext-proc, the
// demo models of examples/gateway.yaml) under traffic. Needs Debian's chromium (.ci/run
// installs it; locally: bash scripts/install-chromium.sh).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { useStack } from '../harness/e2e.js';
import { startLoad, type LoadRun } from '../harness/load.js';
import { call, currentConfig, runConcurrently, servedBy, v2Input, writeConfigAtomically } from '../harness/traffic.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve('.tmp/console-e2e');

const example = parse(readFileSync(resolve('examples/gateway.yaml'), 'utf8')) as GatewayConfigInput;
const config: GatewayConfigInput = { ...example, console: { actions: true, sampleIntervalMs: 1000 } };
const stack = useStack(config);
const auth = { authorization: 'Bearer demo-key' };

let browser: Browser;
let page: Page;
let load: LoadRun;
const pageProblems: string[] = [];

/** A mix like a small production day: the split model, chat (streamed and not), iris, and some refusals. */
function trafficMix(url: string): () => Promise<Response> {
  let i = 0;
  const json = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return () => {
    const n = i++ % 10;
    if (n < 6) return json('/v2/models/sentiment/infer', v2Input());
    if (n === 6) return json('/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'user', content: 'hello rabbit' }], stream: true });
    if (n === 7) return json('/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'user', content: 'hello' }] });
    if (n === 8) return json('/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4, 0.2]] });
    return json('/v2/models/sentiment/infer', v2Input(), { authorization: 'Bearer wrong-key' });
  };
}

/** The observed share of `version` on the model's card, and how many requests it is over. */
async function observedShare(model: string, version: string): Promise<number> {
  return page.$eval(
    `[data-model="${model}"] [data-kind="observed"]`,
    (bar, v) => Number(bar.querySelector<HTMLElement>(`[data-version="${v}"]`)?.dataset.share ?? 'NaN'),
    version,
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/install-chromium.sh (or set CHROMIUM_PATH)`);
  await mkdir(ARTIFACTS, { recursive: true });
  load = startLoad({ concurrency: 3, send: trafficMix(stack().url) });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers: Chromium's sandbox needs user namespaces it does not get there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    defaultViewport: { width: 1280, height: 900 },
  });
  page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageProblems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => pageProblems.push(`page error: ${(err as Error).message}`));
  page.on('requestfailed', (req) => pageProblems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
});

afterAll(async () => {
  await load?.stop();
  await browser?.close();
});

describe('the console in a browser, on the e2e stack under traffic', () => {
  const consoleUrl = () => `http://127.0.0.1:${stack().extProcs[0]?.httpPort}/`;

  it('loads without console errors and shows every model and version with Envoy health', async () => {
    await page.goto(consoleUrl(), { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('.live.ok');
    for (const [model, versions] of [['sentiment', ['v1', 'v2']], ['tinylm', ['v1', 'v2']], ['iris', ['1']]] as const) {
      for (const v of versions) {
        expect(await page.$(`[data-model="${model}"] tr[data-version="${v}"]`), `${model}@${v} on the page`).not.toBeNull();
      }
    }
    // Envoy's view: every demo endpoint is healthy.
    const health = await page.$$eval('[data-model] .endpoint', (els) => els.map((e) => (e as HTMLElement).dataset.health));
    expect(health.length).toBeGreaterThanOrEqual(5);
    expect(health.every((x) => x === 'healthy')).toBe(true);
    // Aliases, shadow and fallback as configured.
    expect(await page.$('[data-model="sentiment"] [data-alias="canary"][data-target="v2"]')).not.toBeNull();
    expect(await page.$eval('[data-model="tinylm"] [data-role="shadow"]', (e) => e.textContent)).toContain('v2');
    expect(await page.$eval('[data-model="sentiment"] [data-role="fallback"]', (e) => e.textContent)).toContain('v1');
    expect(pageProblems).toEqual([]);
  });

  it('shows traffic: rates, latency charts, consumers and recent errors with request ids', async () => {
    await vi.waitFor(
      async () => {
        const rps = await page.$eval('[data-model="sentiment"] tr[data-version="v1"] td.num', (td) => Number(td.textContent));
        expect(rps).toBeGreaterThan(0);
        expect(await page.$$('[data-model="sentiment"] .spark polyline')).not.toHaveLength(0);
        expect(await page.$eval('[data-consumer="demo"]', (tr) => tr.textContent)).toMatch(/\d/);
        // The wrong-key requests: rejections, and examples with their request ids.
        expect(await page.$eval('#errors', (e) => e.textContent)).toContain('invalid_api_key');
      },
      { timeout: 30_000, interval: 500 },
    );
  });

  it('moves the observed split when the config file changes the weights', async () => {
    await vi.waitFor(async () => expect(await observedShare('sentiment', 'v1')).toBeGreaterThan(0.6), { timeout: 30_000, interval: 500 });
    const next = currentConfig(stack());
    const sentiment = next.models.sentiment as NonNullable<GatewayConfigInput['models'][string]>;
    sentiment.traffic = { ...sentiment.traffic, weights: { v1: 0, v2: 100 } };
    // Keep the console's own settings (currentConfig is the parsed config: defaults filled in).
    await writeConfigAtomically(stack(), next);
    await vi.waitFor(async () => expect(await page.$eval('[data-model="sentiment"] [data-kind="configured"] [data-version="v2"]', (e) => Number((e as HTMLElement).dataset.share))).toBe(1), {
      timeout: 10_000,
      interval: 250,
    });
    await vi.waitFor(async () => expect(await observedShare('sentiment', 'v2')).toBeGreaterThan(0.5), { timeout: 60_000, interval: 500 });
    expect(pageProblems).toEqual([]);
  }, 120_000);

  it('an action shifts the weights: written to the file, reloaded, and routing follows', async () => {
    const form = '[data-action="weights"][data-model="sentiment"]';
    await page.waitForSelector(form);
    const set = async (version: string, value: string) => {
      const input = await page.$(`${form} input[data-weight="${version}"]`);
      await input?.click({ count: 3 });
      await input?.type(value);
    };
    await set('v1', '100');
    await set('v2', '0');
    await page.click(`${form} button[type="submit"]`);
    await page.waitForFunction(() => document.querySelector('#action-result')?.textContent?.includes('applied'));
    expect(await readFile(stack().configPath, 'utf8')).toMatch(/weights:[\s\S]*v1: 100[\s\S]*v2: 0/);
    const seen = await runConcurrently(40, 4, () => call(`${stack().url}/v2/models/sentiment/infer`, v2Input(), auth));
    expect(seen.map((s) => [s.status, servedBy(s)])).toEqual(seen.map(() => [200, 'v1']));

    expect(pageProblems).toEqual([]);

    // A change the reload refuses shows why, and the file goes back to the config in force.
    await set('v1', '0');
    await page.click(`${form} button[type="submit"]`);
    await page.waitForFunction(() => document.querySelector('#action-result')?.textContent?.includes('refused'));
    expect(await page.$eval('#action-result', (e) => e.textContent)).toContain('weights must add up to more than 0');
    await page.waitForFunction(() => document.querySelector('#last-reload')?.textContent?.includes('weights must add up to more than 0'));
    expect(await readFile(stack().configPath, 'utf8')).toMatch(/v1: 100/);
    // Chromium logs the refusal's 422 as a failed resource; that one is expected.
    expect(pageProblems.filter((p) => !p.includes('status of 422'))).toEqual([]);
    pageProblems.length = 0;
  }, 120_000);

  it('an action points an alias, and a rollback undoes it', async () => {
    const form = '[data-action="alias"][data-model="sentiment"]';
    const canary = () => call(`${stack().url}/v2/models/sentiment/versions/canary/infer`, v2Input(), auth);
    expect(servedBy(await canary())).toBe('v2');
    await page.select(`${form} select[name="alias"]`, 'canary');
    await page.select(`${form} select[name="version"]`, 'v1');
    await page.click(`${form} button[type="submit"]`);
    await page.waitForFunction(() => document.querySelector('#action-result')?.textContent?.includes('sentiment:canary: applied'));
    await page.waitForSelector('[data-model="sentiment"] [data-alias="canary"][data-target="v1"]');
    expect(servedBy(await canary())).toBe('v1');

    await page.waitForSelector('[data-action="rollback"] button:not([disabled])');
    await page.click('[data-action="rollback"] button');
    await page.waitForFunction(() => document.querySelector('#action-result')?.textContent?.includes('rollback: applied'));
    expect(servedBy(await canary())).toBe('v2');
    expect(pageProblems).toEqual([]);
  }, 120_000);

  it("shows an endpoint Envoy's health checks failed", async () => {
    // The shadow candidate: its loss changes what clients get not at all.
    await stack().demos.get('tinylm@v2')?.[0]?.child.stop();
    await page.waitForSelector('[data-model="tinylm"] tr[data-version="v2"] .endpoint.down', { timeout: 30_000 });
    const health = await page.$eval('[data-model="tinylm"] tr[data-version="v2"] .endpoint', (e) => (e as HTMLElement).dataset.health);
    expect(health).toMatch(/failed_active_hc|outlier_ejected/);
  });

  it('keeps a screenshot', async () => {
    // Let the charts gather a few more points after the changes.
    await page.waitForFunction(() => document.querySelectorAll('.spark polyline').length > 8, { timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/console.png`, fullPage: true });
    // The top of the page, the size docs/console.png is taken at.
    await page.screenshot({ path: `${ARTIFACTS}/console-top.png`, clip: { x: 0, y: 0, width: 1280, height: 1000 } });
    expect(existsSync(`${ARTIFACTS}/console.png`)).toBe(true);
  });
});
