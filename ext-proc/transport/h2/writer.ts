import type { Socket } from 'node:net';

/**
 * A connection's outgoing frames, written in one batch per turn of the event loop: every
 * answer made while handling what arrived leaves in a single write (one syscall, one packet
 * for Envoy to read) instead of one per frame.
 */
export class BatchWriter {
  private out: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    /** Runs after every flush (e.g. to end a connection that went idle). */
    private readonly afterFlush: () => void,
  ) {}

  get pending(): boolean {
    return this.scheduled;
  }

  write(buf: Buffer): void {
    this.out.push(buf);
    this.bytes += buf.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const bufs = this.out;
    const bytes = this.bytes;
    this.out = [];
    this.bytes = 0;
    if (this.socket.destroyed || bufs.length === 0) return;
    const writable = this.socket.write(bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs, bytes));
    // The peer reads slower than we answer: stop reading its frames until it catches up.
    if (!writable && !this.socket.isPaused()) {
      this.socket.pause();
      this.socket.once('drain', () => this.socket.resume());
    }
    this.afterFlush();
  };
}
