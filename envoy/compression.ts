import type { GatewayConfig } from '../ext-proc/config/schema.js';
import { EXT_PROC_FILTER } from './fail-open.js';

// Compressed bodies, both ways, handled by Envoy so that no plugin ever reads compressed bytes:
// request bodies are decompressed before the ext_proc filter (and before the size limit is
// applied, so a small compressed body that inflates past `maxRequestBytes` gets a 413), and
// responses are compressed after it, for clients that accept it.

type Json = Record<string, unknown>;

/** Request encodings Envoy 1.40's decompressor libraries handle (all three ship in the PyPI build). */
export const REQUEST_ENCODINGS = ['gzip', 'br', 'zstd'] as const;
/** Response encodings offered, in Envoy's order of preference when the client accepts several. */
export const RESPONSE_ENCODINGS = ['br', 'gzip'] as const;
/** Responses the compressor touches; event streams are never buffered or compressed. */
const COMPRESSIBLE_TYPES = ['application/json', 'text/plain'];

export const UNSUPPORTED_ENCODING_ROUTE = 'unsupported_content_encoding';
export const UNSUPPORTED_ENCODING_MESSAGE = `This Content-Encoding is not supported; send the body as it is or encoded with ${REQUEST_ENCODINGS.join(', ')}`;

const disabled = (key: string): Json => ({ enabled: { default_value: false, runtime_key: key } });

const decompressorLibrary: Record<(typeof REQUEST_ENCODINGS)[number], Json> = {
  // zlib can't inflate more than ~1032:1: the largest ratio lets every real gzip body through,
  // and the size limit after decompression stops the bombs.
  gzip: { '@type': 'type.googleapis.com/envoy.extensions.compression.gzip.decompressor.v3.Gzip', max_inflate_ratio: 1032 },
  br: { '@type': 'type.googleapis.com/envoy.extensions.compression.brotli.decompressor.v3.Brotli' },
  zstd: { '@type': 'type.googleapis.com/envoy.extensions.compression.zstd.decompressor.v3.Zstd' },
};

const compressorLibrary: Record<(typeof RESPONSE_ENCODINGS)[number], Json> = {
  gzip: { '@type': 'type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip' },
  br: { '@type': 'type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli' },
};

/** One decompressor filter per encoding; each acts only on requests with its Content-Encoding. */
export function decompressorFilters(): Json[] {
  return REQUEST_ENCODINGS.map((encoding) => ({
    name: `envoy.filters.http.decompressor.${encoding}`,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.decompressor.v3.Decompressor',
      decompressor_library: { name: encoding, typed_config: decompressorLibrary[encoding] },
      // Don't tell the model server we take compressed answers: the plugins read them.
      request_direction_config: { advertise_accept_encoding: false },
      response_direction_config: { common_config: disabled(`gateway.decompress_responses_${encoding}`) },
    },
  }));
}

/**
 * One compressor filter per response encoding, placed before the ext_proc filter so that on
 * the way back it compresses what the plugins already read or rewrote.
 */
export function compressorFilters(config: GatewayConfig): Json[] {
  const c = config.envoy.compression;
  if (!c.responses) return [];
  return RESPONSE_ENCODINGS.map((encoding, i) => ({
    name: `envoy.filters.http.compressor.${encoding}`,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor',
      compressor_library: { name: encoding, typed_config: compressorLibrary[encoding] },
      response_direction_config: {
        common_config: {
          min_content_length: c.minResponseBytes,
          // One matcher: JSON (V2, TF Serving, OpenAI, the gateway's errors) and plain text.
          content_type_matcher: { safe_regex: { regex: `^(${COMPRESSIBLE_TYPES.map((t) => t.replace(/[.+/]/g, '\\$&')).join('|')})\\b.*` } },
        },
        // The model server answers plain (the plugins read the answer); Envoy compresses for the
        // client. Only the last compressor removes the header: the others must still see it.
        remove_accept_encoding_header: i === RESPONSE_ENCODINGS.length - 1,
      },
    },
  }));
}

/**
 * First route of the virtual host: a body in an encoding no decompressor handles (deflate,
 * compress, a list of several) gets a 415 from Envoy, and the ext-proc never reads bytes it
 * can't use. The route may be chosen before a decompressor removes its header, so the match
 * names the supported encodings as exceptions.
 */
export function unsupportedEncodingRoute(): Json {
  return {
    name: UNSUPPORTED_ENCODING_ROUTE,
    match: {
      prefix: '/',
      headers: [
        { name: 'content-encoding', present_match: true },
        { name: 'content-encoding', string_match: { safe_regex: { regex: `^\\s*(?i:${REQUEST_ENCODINGS.join('|')}|identity)\\s*$` } }, invert_match: true },
      ],
    },
    direct_response: { status: 415, body: { inline_string: UNSUPPORTED_ENCODING_MESSAGE } },
    typed_per_filter_config: {
      [EXT_PROC_FILTER]: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute', disabled: true },
    },
  };
}
