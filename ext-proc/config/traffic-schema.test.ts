import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from './load.js';

const withTraffic = (traffic: unknown) =>
  stringify({
    models: {
      m: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] }, v2: { endpoints: ['127.0.0.1:2'] } }, traffic },
    },
  });

describe('traffic policy schema', () => {
  it('accepts the full policy and lower-cases the sticky header', () => {
    const config = parseConfigText(
      withTraffic({
        weights: { v1: 90, v2: 10 },
        stickyKey: { header: 'X-User-Id' },
        shadow: { version: 'v2' },
        fallback: 'v1',
        experiment: 'exp-1',
        variants: { v1: 'control', v2: 'treatment' },
      }),
    );
    expect(config.models.m?.traffic).toMatchObject({ stickyKey: { header: 'x-user-id' }, shadow: { version: 'v2', percent: 100 } });
    expect(parseConfigText(withTraffic({ stickyKey: { consumer: true } })).models.m?.traffic?.stickyKey).toEqual({ consumer: true });
  });

  it.each([
    [{ shadow: { version: 'v3', percent: 5 } }, 'models.m.traffic.shadow.version: unknown version "v3"'],
    [{ fallback: 'v9' }, 'models.m.traffic.fallback: unknown version "v9"'],
    [{ variants: { v7: 'x' } }, 'models.m.traffic.variants.v7: unknown version "v7"'],
    [{ shadow: { version: 'v2', percent: 101 } }, 'models.m.traffic.shadow.percent'],
    [{ stickyKey: { header: 'x-user-id', consumer: true } }, 'models.m.traffic.stickyKey'],
    [{ stickyKey: { consumer: false } }, 'models.m.traffic.stickyKey'],
    [{ experiment: 'has space' }, 'models.m.traffic.experiment'],
    [{ weights: { v1: 0, v2: 0 } }, 'models.m.traffic.weights: weights must add up to more than 0'],
  ])('refuses %j naming the field', (traffic, message) => {
    expect(() => parseConfigText(withTraffic(traffic))).toThrow(message);
  });
});
