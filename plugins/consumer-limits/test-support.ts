// Shared by this plugin's tests (not part of the plugin).
import { hashKey } from '../sdk/keys.js';

const consumers = ['alice', 'bob', 'batch-1', 'vip'];

/** api-key-auth knowing each consumer by the key `<id>-key`; requests without a key stay anonymous. */
export const auth = { plugin: 'api-key-auth', options: { consumers: consumers.map((id) => ({ id, keys: [hashKey(`${id}-key`)] })), required: false } };

export const as = (id: string): Record<string, string> => ({ 'x-api-key': `${id}-key` });

/** A clock the test moves by hand. */
export function manualClock(): { now: () => number; advance: (ms: number) => number } {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
