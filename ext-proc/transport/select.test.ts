import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { extProcWorkers, selectTransport } from './select.js';

describe('transport and worker selection', () => {
  it('takes the config transport unless GATEWAY_EXT_PROC_TRANSPORT names another, and refuses unknown names', () => {
    expect(selectTransport('h2', {})).toBe('h2');
    expect(selectTransport('http2', {})).toBe('http2');
    expect(selectTransport('h2', { GATEWAY_EXT_PROC_TRANSPORT: 'http2' })).toBe('http2');
    expect(selectTransport('http2', { GATEWAY_EXT_PROC_TRANSPORT: 'grpc-js' })).toBe('grpc-js');
    expect(() => selectTransport('http2', { GATEWAY_EXT_PROC_TRANSPORT: 'grpc' })).toThrow(/h2, http2, grpc-js/);
  });

  it('runs one worker by default, a number or one per core (auto) when asked', () => {
    expect(extProcWorkers({ extProc: {} }, {})).toBe(1);
    expect(extProcWorkers({ extProc: { workers: 3 } }, {})).toBe(3);
    expect(extProcWorkers({ extProc: { workers: 'auto' } }, {})).toBe(availableParallelism());
    expect(extProcWorkers({ extProc: { workers: 3 } }, { GATEWAY_EXT_PROC_WORKERS: '2' })).toBe(2);
    expect(extProcWorkers({ extProc: {} }, { GATEWAY_EXT_PROC_WORKERS: 'auto' })).toBe(availableParallelism());
    expect(() => extProcWorkers({ extProc: {} }, { GATEWAY_EXT_PROC_WORKERS: '0' })).toThrow(/positive integer/);
  });
});
