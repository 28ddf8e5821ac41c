// When the gateway's Envoy reads an OpenAI body's `model` (json_to_metadata) and forwards it to
// the ext-proc: only where someone uses it, since it costs Envoy a parse of every OpenAI body.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { OPENAI_BODY_UNTOUCHED_TYPES } from '../../envoy/body-model.js';
import { renderEnvoyConfig } from '../../envoy/render.js';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { builtinPlugins } from '../../plugins/index.js';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';

type Json = Record<string, any>;

function extProcAndFilters(input: GatewayConfigInput): { names: string[]; extProc: Json } {
  const out = renderEnvoyConfig(parseConfigText(stringify(input))) as Json;
  const hcm = out.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
  const filters = hcm.http_filters as Json[];
  return { names: filters.map((f) => f.name as string), extProc: filters.find((f) => f.name === 'envoy.filters.http.ext_proc')?.typed_config as Json };
}

const tinylm = { protocol: 'openai' as const, versions: { v1: { endpoints: ['127.0.0.1:9201'] } } };
const auth = { type: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: ['sha256:c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c'] }] } };
const readsModel = (input: GatewayConfigInput) => {
  const { names, extProc } = extProcAndFilters(input);
  const filter = names.includes('envoy.filters.http.json_to_metadata');
  // The filter and the forwarding go together: one without the other is cost without use.
  expect(extProc.metadata_options !== undefined).toBe(filter);
  return filter;
};

describe("Envoy reads an OpenAI body's model only where it is used", () => {
  it('when the routing step can use it: nothing before the step that may read an OpenAI body', () => {
    expect(readsModel({ plugins: [], models: { tinylm } })).toBe(true);
    expect(readsModel({ plugins: [auth, { type: 'model-router' }, { type: 'openai-usage' }], models: { tinylm } })).toBe(true);
    expect(readsModel({ plugins: [{ type: 'tfserving-validation' }, { type: 'model-router' }, { type: 'openai-validation' }], models: { tinylm } })).toBe(true);
  });

  it('not when a plugin before the step reads the body anyway (the step reads the model there), nor without OpenAI models', () => {
    expect(readsModel({ plugins: [{ type: 'openai-validation' }, { type: 'model-router' }], models: { tinylm } })).toBe(false);
    // Without a model-router entry the step runs after the whole global chain.
    expect(readsModel({ plugins: [auth, { type: 'openai-validation' }], models: { tinylm } })).toBe(false);
    expect(readsModel({ plugins: [], models: { sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:9101'] } } } } })).toBe(false);
  });

  it('always for a fail-open OpenAI model, whose route matches on it', () => {
    expect(readsModel({ plugins: [{ type: 'openai-validation' }, { type: 'model-router' }], models: { tinylm: { ...tinylm, failOpen: true } } })).toBe(true);
  });

  it('the example config reads bodies before routing (openai-validation first): Envoy does not parse them again', () => {
    const { names } = extProcAndFilters(parseConfigText(readFileSync(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8')) as unknown as GatewayConfigInput);
    expect(names).not.toContain('envoy.filters.http.json_to_metadata');
  });

  it('every type said to leave an OpenAI body alone does: no requestBody hook in its source, or not an OpenAI plugin', () => {
    for (const type of OPENAI_BODY_UNTOUCHED_TYPES) {
      const def = builtinPlugins.find((p) => p.type === type);
      expect(def, type).toBeDefined();
      if (def?.protocols && !def.protocols.includes('openai')) continue;
      expect(readFileSync(join(REPO_ROOT, 'plugins', type, 'index.ts'), 'utf8'), type).not.toMatch(/requestBody/);
    }
  });
});
