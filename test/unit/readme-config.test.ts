import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseConfigText } from '../../ext-proc/config/load.js';
import { createRegistry } from '../../ext-proc/registry.js';
import { buildRuntime } from '../../ext-proc/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';

describe('README configuration reference', () => {
  it('is a config the gateway accepts, plugin options included', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const config = parseConfigText(yaml as string, 'README.md');
    expect(Object.keys(config.models)).toContain('sentiment');
    const runtime = await buildRuntime(
      { config, hash: 'readme', path: '/tmp/readme.yaml' },
      await createRegistry(builtinPlugins),
      pino({ level: 'silent' }),
    );
    // Tracing, when configured, adds its own instance at the head of the chain.
    expect(runtime.globalChain.map((p) => p.type)).toEqual(['otel-tracing', 'api-key-auth', 'model-router', 'model-access']);
    await runtime.close();
  });
});
