import type { BinaryReader } from '@bufbuild/protobuf/wire';
import { Metadata } from './gen/envoy/config/core/v3/base.js';

type FilterMetadata = Metadata['filterMetadata'];

/**
 * `metadata_context` (config.core.v3.Metadata), as the generated decoder returns it. What the
 * gateway's Envoy forwards — json_to_metadata's `model`, one namespace of string values
 * (envoy/body-model.ts) — is read here in place. The generated decoder goes through four
 * nested decoders (map entry, Struct, map entry, Value), each with its own objects, and then
 * unwraps the Struct and the Value: after the idle gap between two requests at a low rate,
 * with cold caches, that cost ~30 µs of the request headers' message, more than its headers.
 * Anything else — typed metadata, other value kinds, unknown fields, or bytes that do not
 * add up — is decoded by the generated decoder from the start, so the result is always its.
 */
export function decodeMetadata(reader: BinaryReader, length: number): Metadata {
  const start = reader.pos;
  const end = start + length;
  let fast: FilterMetadata | undefined;
  try {
    fast = end <= reader.len ? stringFilterMetadata(reader, end) : undefined;
  } catch {
    fast = undefined;
  }
  if (fast !== undefined) return { filterMetadata: fast, typedFilterMetadata: {} };
  reader.pos = start;
  return Metadata.decode(reader, length);
}

/** The length-delimited field at the reader: where it ends, or -1 when it would pass `end`. */
function fieldEnd(reader: BinaryReader, end: number): number {
  const n = reader.uint32();
  const to = reader.pos + n;
  return to > end ? -1 : to;
}

/** `filter_metadata` entries only, each a namespace → Struct of strings; undefined for anything else. */
function stringFilterMetadata(reader: BinaryReader, end: number): FilterMetadata | undefined {
  const namespaces: FilterMetadata = {};
  while (reader.pos < end) {
    if (reader.uint32() !== 10) return undefined;
    const entryEnd = fieldEnd(reader, end);
    if (entryEnd < 0) return undefined;
    let key = '';
    let fields: Record<string, string> | undefined;
    while (reader.pos < entryEnd) {
      const tag = reader.uint32();
      if (tag === 10) key = reader.string();
      else if (tag === 18) {
        const structEnd = fieldEnd(reader, entryEnd);
        fields = structEnd < 0 ? undefined : stringFields(reader, structEnd);
        if (fields === undefined) return undefined;
      } else return undefined;
    }
    if (reader.pos !== entryEnd) return undefined;
    // As the generated decoder: an entry without its Struct sets nothing, a repeated key the last one.
    if (fields !== undefined) namespaces[key] = fields;
  }
  return reader.pos === end ? namespaces : undefined;
}

/** A Struct whose every field is a string Value; undefined for anything else. */
function stringFields(reader: BinaryReader, end: number): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  while (reader.pos < end) {
    if (reader.uint32() !== 10) return undefined;
    const entryEnd = fieldEnd(reader, end);
    if (entryEnd < 0) return undefined;
    let key = '';
    let value: string | undefined;
    while (reader.pos < entryEnd) {
      const tag = reader.uint32();
      if (tag === 10) key = reader.string();
      else if (tag === 18) {
        const valueEnd = fieldEnd(reader, entryEnd);
        if (valueEnd < 0) return undefined;
        value = undefined;
        // Value's string_value (field 3); a repeated one is the last.
        while (reader.pos < valueEnd) {
          if (reader.uint32() !== 26) return undefined;
          value = reader.string();
        }
        if (reader.pos !== valueEnd || value === undefined) return undefined;
      } else return undefined;
    }
    if (reader.pos !== entryEnd || value === undefined) return undefined;
    fields[key] = value;
  }
  return reader.pos === end ? fields : undefined;
}
