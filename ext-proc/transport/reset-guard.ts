import type { Http2Session } from 'node:http2';
import type { Logger } from 'pino';

/**
 * nghttp2's rapid-reset guard (CVE-2023-44487) answers a burst of 1000 reset streams on one
 * connection, then more than 33/s, with GOAWAY(ENHANCE_YOUR_CALM): every stream in flight on
 * that connection fails. Node 20 cannot configure it (`streamResetBurst`/`streamResetRate`
 * arrived in later releases; passed where supported). Envoy closes finished ext_proc streams
 * gracefully (no reset), so only cancelled requests count; a storm of client cancellations
 * must not cost the other requests their streams. This bucket mirrors nghttp2's and closes the
 * connection gracefully (GOAWAY NO_ERROR: streams in flight finish, Envoy opens a new one)
 * well before nghttp2 would cut it.
 */
export const NGHTTP2_RESET_BURST = 1000;
export const NGHTTP2_RESET_RATE = 33;
const MARGIN = 200;

export class ResetGuard {
  private tokens = NGHTTP2_RESET_BURST;
  private last = performance.now();
  private closing = false;

  constructor(
    private readonly session: Http2Session,
    private readonly log: Logger,
  ) {}

  /** A stream of this session ended with a reset. */
  reset(): void {
    const now = performance.now();
    this.tokens = Math.min(NGHTTP2_RESET_BURST, this.tokens + ((now - this.last) / 1000) * NGHTTP2_RESET_RATE) - 1;
    this.last = now;
    if (this.tokens > MARGIN || this.closing) return;
    this.closing = true;
    this.log.warn({ resetStreams: NGHTTP2_RESET_BURST - MARGIN }, 'many reset ext_proc streams on one connection: closing it gracefully before HTTP/2 flood protection cuts it');
    this.session.close();
  }
}
