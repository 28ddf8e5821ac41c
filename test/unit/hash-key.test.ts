import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { KeyTable } from '../../plugins/sdk/keys.js';

const run = (args: string[], input?: string) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/hash-key.ts', ...args], { cwd: REPO_ROOT, input, encoding: 'utf8' });

describe('scripts/hash-key.ts', () => {
  it('hashes a key from the command line or stdin into the form api-key-auth stores', () => {
    const expected = `sha256:${createHash('sha256').update('demo-key').digest('hex')}`;
    expect(run(['demo-key']).trim()).toBe(expected);
    expect(run([], 'demo-key\n').trim()).toBe(expected);
  });

  it('generates a key whose printed hash authenticates it', () => {
    const out = run(['--generate']);
    const key = /key: +(\S+)/.exec(out)?.[1] as string;
    const hash = /hash: +(\S+)/.exec(out)?.[1] as string;
    expect(key).toMatch(/^gw_[A-Za-z0-9_-]{32}$/);
    expect(new KeyTable([{ id: 'x', keys: [hash] }]).lookup(key)).toBe('x');
  });
});
