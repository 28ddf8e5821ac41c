import { z } from 'zod';
import type { PluginHost, Protocol } from '../sdk/types.js';
import { metadataTargets, pollMetadata, type MetadataOptions, type MetadataReader, type MetadataSource } from './metadata.js';

/** Declared signatures are keyed by `model` or `model@version`. */
export const SignatureKey = z.string().regex(/^[a-z0-9][a-z0-9_-]*(@[A-Za-z0-9_-]+)?$/, 'must be a model name or model@version');

/** A declared tensor shape: `-1` is a wildcard dimension (e.g. the batch). */
export const SignatureShape = z.array(z.number().int().min(-1));

/** Whether `shape` has the rank of `spec` and its fixed dimensions (`-1` matches any size). */
export function shapeFits(spec: readonly number[], shape: readonly number[]): boolean {
  return spec.length === shape.length && spec.every((d, k) => d === -1 || d === shape[k]);
}

export const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

export interface SignatureSource<T> {
  /** The declared signature of `model@version`, else of `model`, else the one read from metadata. */
  get(model: string, version: string | undefined): T | undefined;
  close(): void;
}

/**
 * A validator's signatures: those declared in its options, and (with `metadata.fetch`) those
 * read from the model servers of every `protocol` model. The more specific declaration wins;
 * a declaration wins over metadata.
 */
export async function signatureSource<T>(
  declared: Readonly<Record<string, T>>,
  metadata: MetadataOptions,
  host: PluginHost,
  protocol: Protocol,
  reader: MetadataReader<T>,
): Promise<SignatureSource<T>> {
  let fetched: MetadataSource<T> | undefined;
  if (metadata.fetch) fetched = await pollMetadata(metadataTargets(host.models, protocol), metadata, host.log, reader);
  // Own keys only: a model named `constructor` must not find Object.prototype's.
  const own = (key: string) => (Object.hasOwn(declared, key) ? declared[key] : undefined);
  return {
    get: (model, version) =>
      (version !== undefined ? own(`${model}@${version}`) : undefined) ?? own(model) ?? (version !== undefined ? fetched?.get(model, version) : undefined),
    close: () => fetched?.close(),
  };
}
