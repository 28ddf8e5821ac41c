// The store options are checked when the config loads: a Redis store needs a URL it can find.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';
import { createConsumerLimits } from './index.js';
import { redactedAddress } from './open-store.js';
import { auth } from './test-support.js';

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

let loads = 0;
const load = async (options: object) => {
  const gw = await createTestGateway({ plugins: [auth, 'model-router', { plugin: createConsumerLimits({ type: `test/store-${gateways.length}-${loads++}` }), name: 'limits', options }], models: exampleModels });
  gateways.push(gw);
  return gw;
};

describe('consumer-limits: store options', () => {
  it('refuses store: redis without redis options, redis options without store: redis, and both or neither of url and urlEnv', async () => {
    await expect(load({ store: 'redis' })).rejects.toThrow(/redis: store: redis needs redis: \{ url \} \(or urlEnv\)/);
    await expect(load({ redis: { url: 'redis://127.0.0.1:6379' } })).rejects.toThrow(/store: redis options are set but store is memory/);
    await expect(load({ store: 'redis', redis: {} })).rejects.toThrow(/set url or urlEnv/);
    await expect(load({ store: 'redis', redis: { url: 'redis://a:1', urlEnv: 'X' } })).rejects.toThrow(/set url or urlEnv/);
    await expect(load({ store: 'redis', redis: { url: 'http://127.0.0.1:6379' } })).rejects.toThrow(/a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('names an unset or malformed urlEnv variable at load', async () => {
    delete process.env.LIMITS_TEST_UNSET;
    await expect(load({ store: 'redis', redis: { urlEnv: 'LIMITS_TEST_UNSET' } })).rejects.toThrow(/the environment variable LIMITS_TEST_UNSET is not set/);
    process.env.LIMITS_TEST_BAD = 'localhost:6379';
    await expect(load({ store: 'redis', redis: { urlEnv: 'LIMITS_TEST_BAD' } })).rejects.toThrow(/LIMITS_TEST_BAD does not hold a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('logs the store address without credentials', () => {
    expect(redactedAddress('redis://user:s3cret@redis.example:6380/2')).toBe('redis://redis.example:6380/2');
    expect(redactedAddress('rediss://:s3cret@cache:6379')).toBe('rediss://cache:6379');
  });
});
