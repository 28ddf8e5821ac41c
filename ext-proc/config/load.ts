import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { GatewayConfigSchema, type GatewayConfig } from './schema.js';

/** A config that cannot be used; the message names every bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `models.sentiment.versions.v1.endpoints[0]` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = formatPath(issue.path);
      const where = prefix ? (path === '(root)' ? prefix : `${prefix}.${path}`) : path;
      return `${where}: ${issue.message}`;
    })
    .join('\n');
}

export interface LoadedConfig {
  config: GatewayConfig;
  /** sha256 of the file's bytes: shows which config is active. */
  hash: string;
  path: string;
  /** The file's text: what a rollback writes back (the console keeps the previous one). */
  text?: string;
}

export function parseConfigText(text: string, source = 'config'): GatewayConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  const result = GatewayConfigSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!result.success) throw new ConfigError(`${source}: invalid gateway config:\n${formatIssues(result.error.issues)}`);
  return result.data;
}

export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config: ${(err as Error).message}`);
  }
}

/** Parses config text read from `path` (the hash identifies these exact bytes). */
export function loadConfigText(text: string, path: string): LoadedConfig {
  return { config: parseConfigText(text, path), hash: createHash('sha256').update(text).digest('hex'), path, text };
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  return loadConfigText(await readConfigText(path), path);
}
