// A Kubernetes ConfigMap volume never writes the file in place: the kubelet writes the new
// contents to a fresh timestamped directory, points a `..data_tmp` symlink at it, renames that
// over `..data`, and removes the old directory. `gateway.yaml` itself is a symlink to
// `..data/gateway.yaml` that never changes. The reloader must see every such swap, not only
// the first (a watch on the file's first target would go stale with the removed directory).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { loadConfigFile, type LoadedConfig } from './load.js';
import { ConfigReloader, type ReloadResult } from './reload.js';
import { ConfigMapVolume } from '../../test/harness/configmap-volume.js';

const configText = (weights: string) => `
plugins: [{ type: model-router }]
models:
  m:
    protocol: kserve-v2
    versions: { v1: { endpoints: ["127.0.0.1:1"] }, v2: { endpoints: ["127.0.0.1:2"] } }
    traffic: { weights: ${weights} }
`;

describe('ConfigReloader on a Kubernetes ConfigMap volume', () => {
  let volume: ConfigMapVolume;
  let current: LoadedConfig;
  let results: ReloadResult[];
  let reloader: ConfigReloader;

  beforeEach(async () => {
    volume = new ConfigMapVolume(await mkdtemp(join(tmpdir(), 'configmap-')));
    await volume.publish({ 'gateway.yaml': configText('{ v1: 90, v2: 10 }') });
    const path = join(volume.dir, 'gateway.yaml');
    current = await loadConfigFile(path);
    results = [];
    reloader = new ConfigReloader({
      path,
      log: createLogger('silent'),
      currentHash: () => current.hash,
      apply: async (loaded) => void (current = loaded),
      onResult: (result) => void results.push(result),
      debounceMs: 20,
    }).watch();
  });

  afterEach(async () => {
    reloader.close();
    await rm(volume.dir, { recursive: true, force: true });
  });

  it('reloads on every update the kubelet publishes, without a signal', async () => {
    const weights = () => current.config.models.m?.traffic?.weights;
    await volume.publish({ 'gateway.yaml': configText('{ v1: 50, v2: 50 }') });
    await vi.waitFor(() => expect(weights()).toEqual({ v1: 50, v2: 50 }));
    await volume.publish({ 'gateway.yaml': configText('{ v1: 0, v2: 100 }') });
    await vi.waitFor(() => expect(weights()).toEqual({ v1: 0, v2: 100 }));
    expect(results.filter((r) => r === 'success')).toHaveLength(2);
    expect(results).not.toContain('failure');
  });
});
