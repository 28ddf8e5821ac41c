import { describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels } from '@inference-gateway/sdk/testing';
import teamTag from './index.js';

// The harness runs the gateway's real request processor against synthetic traffic: no
// Envoy, no model servers. `model-router` resolves the model as it does in production.
const gateway = (options: Record<string, unknown> = { team: 'search' }) =>
  createTestGateway({ plugins: ['model-router', { plugin: teamTag, options }], models: exampleModels });

const v2 = { path: '/v2/models/sentiment/infer', json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] } };

describe('acme/team-tag', () => {
  it('tags the request the model server gets, and the response the client gets', async () => {
    const gw = await gateway();
    const res = await gw.request(v2, { upstream: { json: { outputs: [] } } });
    expect(res.upstream?.headers['x-team']).toBe('search');
    expect(res.headers['x-team']).toBe('search');
    expect(res.headers['x-team-wait-ms']).toMatch(/^\d+$/);
    expect(res.vars.team?.name).toBe('search');
  });

  it('costs no body round trip', async () => {
    const gw = await gateway();
    const res = await gw.request(v2);
    expect(res.phases).toEqual(['requestHeaders', 'responseHeaders']);
  });

  it('refuses a client that sets the tag to another team, in the client protocol', async () => {
    const gw = await gateway();
    const v2res = await gw.request({ ...v2, headers: { 'x-team': 'ads' } });
    expect(v2res.status).toBe(400);
    expect(v2res.json()).toEqual({ error: 'x-team is set by the gateway', code: 'team_header_forbidden' });
    expect(v2res.upstream).toBeUndefined();

    const openai = await gw.request({ path: '/v1/chat/completions', json: { model: 'tinylm', messages: [] }, headers: { 'x-team': 'ads' } });
    expect(openai.json()).toMatchObject({ error: { code: 'team_header_forbidden', type: 'invalid_request_error' } });
  });

  it('validates its options when the config loads', async () => {
    await expect(gateway({ team: 'Search Team' })).rejects.toThrow(/\(acme\/team-tag\)\.options\.team: lower-case/);
    await expect(gateway({})).rejects.toThrow(/options\.team/);
  });
});
