import { BinaryReader } from '@bufbuild/protobuf/wire';
import { decodeMetadata } from './envoy-metadata.js';
import { decodeWireHeaderMap } from './wire-headers.js';
import { ProcessingMode_BodySendMode } from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { HttpHeaders_AttributesEntry, HttpTrailers, ProcessingRequest, type HttpBody, type HttpHeaders } from './gen/envoy/service/ext_proc/v3/external_processor.js';

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * ProcessingRequest.protocol_config (field 11; newer than the generated stubs): the body modes
 * in force for this stream, after per-route overrides, and whether Envoy sends bodies without
 * waiting for the headers' answer. Envoy 1.40 sends it with the first message of a stream.
 */
export interface ProtocolConfig {
  readonly requestBodyMode: ProcessingMode_BodySendMode;
  readonly responseBodyMode: ProcessingMode_BodySendMode;
  readonly sendBodyWithoutWaitingForHeaderResponse: boolean;
}

/** A ProcessingRequest with the fields our generated stubs predate. */
export type EnvoyRequest = ProcessingRequest & { protocolConfig?: ProtocolConfig };

/**
 * ProcessingRequest.decode with a fast path for what every request carries: headers and bodies.
 * The generated decoder makes two Buffers per header (an empty default, then a copy of the
 * value) and reads each name through a TextDecoder; at ~20 headers a message that was the
 * largest item of our own per-request CPU. Here headers go straight into the name → value map
 * the processor reads (wire-headers.ts; the HeaderValue list is made only if read), bodies are
 * views on the message (no copy), metadata of string values is read in place (envoy-metadata.ts),
 * and everything else — trailers, other metadata, attributes — still goes through the generated
 * decoders (metadata for its own field only).
 * Same result type, same fields.
 */
export function decodeProcessingRequest(bytes: Uint8Array): EnvoyRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const reader = new BinaryReader(buf);
  const message: EnvoyRequest = { request: undefined, metadataContext: undefined, attributes: {}, observabilityMode: false };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case 18: // request_headers
        message.request = { $case: 'requestHeaders', value: httpHeaders(reader, buf, reader.uint32()) };
        continue;
      case 26: // response_headers
        message.request = { $case: 'responseHeaders', value: httpHeaders(reader, buf, reader.uint32()) };
        continue;
      case 34: // request_body
        message.request = { $case: 'requestBody', value: httpBody(reader, buf, reader.uint32()) };
        continue;
      case 42: // response_body
        message.request = { $case: 'responseBody', value: httpBody(reader, buf, reader.uint32()) };
        continue;
      case 50: // request_trailers
        message.request = { $case: 'requestTrailers', value: HttpTrailers.decode(reader, reader.uint32()) };
        continue;
      case 58: // response_trailers
        message.request = { $case: 'responseTrailers', value: HttpTrailers.decode(reader, reader.uint32()) };
        continue;
      case 66: // metadata_context: the body's model, which Envoy read for OpenAI requests (envoy/body-model.ts)
        message.metadataContext = decodeMetadata(reader, reader.uint32());
        continue;
      case 90: // protocol_config
        message.protocolConfig = protocolConfig(reader, reader.uint32());
        continue;
    }
    // attributes, observability_mode: rare; the generated decoder reads the whole message.
    if (tag === 74 || tag === 80) return withProtocolConfig(ProcessingRequest.decode(buf), buf);
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return message;
}

function protocolConfig(reader: BinaryReader, length: number): ProtocolConfig {
  const end = reader.pos + length;
  let requestBodyMode = ProcessingMode_BodySendMode.NONE;
  let responseBodyMode = ProcessingMode_BodySendMode.NONE;
  let sendBodyWithoutWaitingForHeaderResponse = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 8) requestBodyMode = reader.int32();
    else if (tag === 16) responseBodyMode = reader.int32();
    else if (tag === 24) sendBodyWithoutWaitingForHeaderResponse = reader.bool();
    else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return { requestBodyMode, responseBodyMode, sendBodyWithoutWaitingForHeaderResponse };
}

/** The generated decoder skips field 11: read it from the same bytes. */
function withProtocolConfig(message: EnvoyRequest, buf: Buffer): EnvoyRequest {
  const reader = new BinaryReader(buf);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 90) {
      message.protocolConfig = protocolConfig(reader, reader.uint32());
      break;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return message;
}

function httpHeaders(reader: BinaryReader, buf: Buffer, length: number): HttpHeaders {
  const end = reader.pos + length;
  const message: HttpHeaders = { headers: undefined, attributes: {}, endOfStream: false };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      message.headers = decodeWireHeaderMap(reader, buf, reader.uint32());
    } else if (tag === 24) {
      message.endOfStream = reader.bool();
    } else if (tag === 18) {
      const entry = HttpHeaders_AttributesEntry.decode(reader, reader.uint32());
      if (entry.value !== undefined) message.attributes[entry.key] = entry.value;
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return message;
}

function httpBody(reader: BinaryReader, buf: Buffer, length: number): HttpBody {
  const end = reader.pos + length;
  const message: HttpBody = { body: EMPTY, endOfStream: false };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      const n = reader.uint32();
      const start = reader.pos;
      if (start + n > end || start + n > reader.len) throw new RangeError('premature end of an HttpBody');
      reader.pos = start + n;
      message.body = buf.subarray(start, start + n);
    } else if (tag === 16) {
      message.endOfStream = reader.bool();
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return message;
}
