// envoy/envoy.yaml and envoy/envoy.docker.yaml are committed as the rendered output of
// examples/gateway.yaml; this fails when either drifts from a fresh render.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../ext-proc/config/load.js';
import { DOCKER_RENDER, renderEnvoyYaml, type RenderOptions } from '../../envoy/render.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';

describe('checked-in Envoy config', () => {
  it.each<[string, RenderOptions]>([
    ['envoy/envoy.yaml', {}],
    ['envoy/envoy.docker.yaml', DOCKER_RENDER],
  ])('%s is the rendered output of examples/gateway.yaml (fix: npm run render:envoy)', async (file, opts) => {
    const { config } = await loadConfigFile(join(REPO_ROOT, 'examples/gateway.yaml'));
    const committed = await readFile(join(REPO_ROOT, file), 'utf8');
    expect(committed).toBe(renderEnvoyYaml(config, opts));
  });
});
