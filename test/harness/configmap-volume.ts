import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A directory laid out and updated the way the kubelet's atomic writer does a ConfigMap
 * volume: the contents in a fresh timestamped directory, a `..data_tmp` symlink to it renamed
 * over `..data`, the old directory removed; each key is a symlink `<key> -> ..data/<key>` that
 * never changes.
 */
export class ConfigMapVolume {
  private generation = 0;
  private current: string | undefined;
  constructor(readonly dir: string) {}

  async publish(files: Readonly<Record<string, string>>): Promise<void> {
    const data = `..2026_11_30_00_00_00.${String(++this.generation).padStart(9, '0')}`;
    await mkdir(join(this.dir, data));
    for (const [key, text] of Object.entries(files)) await writeFile(join(this.dir, data, key), text);
    await symlink(data, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const key of Object.keys(files)) await symlink(`..data/${key}`, join(this.dir, key)).catch(() => undefined);
    if (this.current !== undefined) await rm(join(this.dir, this.current), { recursive: true });
    this.current = data;
  }
}
