import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineBatch } from './log-batch.js';

afterEach(() => vi.useRealTimers());

function recordingSink() {
  const writes: string[] = [];
  return { writes, sink: { write: (data: string) => void writes.push(data), flushSync: vi.fn() } };
}

describe('LineBatch', () => {
  it('hands lines on in order, a batch of ~minLength characters at a time', () => {
    const { writes, sink } = recordingSink();
    const batch = new LineBatch(sink, 1000);
    const lines = Array.from({ length: 100 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(90)}"}\n`);
    for (const line of lines) batch.write(line);
    batch.flushSync();
    expect(writes.join('')).toBe(lines.join(''));
    expect(writes.length).toBeLessThanOrEqual(11);
    expect(sink.flushSync).toHaveBeenCalledTimes(1);
  });

  it('hands a partial batch on after periodMs', () => {
    vi.useFakeTimers();
    const { writes, sink } = recordingSink();
    const batch = new LineBatch(sink, 4096, 100);
    batch.write('one\n');
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(writes).toEqual(['one\n']);
  });
});

describe('the gateway logger on stdout', () => {
  const logger = fileURLToPath(new URL('./logger.ts', import.meta.url));
  const run = (ending: string, lines = 1000) =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const { createLogger, stdoutDestination } = await import(${JSON.stringify(logger)});
      const log = createLogger('info', stdoutDestination());
      for (let i = 0; i < ${lines}; i++) log.info({ i }, 'line');
      ${ending}
    `]).toString('utf8');
  const numbers = (out: string) => out.trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);

  it('a warning is written before the call returns: it and the lines before it survive a SIGKILL right after', () => {
    let out = '';
    try {
      // Less than a batch before it: nothing was written yet when the warning comes.
      out = run("log.warn({ i: 20 }, 'last'); process.kill(process.pid, 'SIGKILL');", 20);
    } catch (err) {
      out = (err as { stdout: Buffer }).stdout.toString('utf8');
    }
    expect(numbers(out)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it.each([
    ['process.exit()', 'process.exit(0);'],
    ['the event loop ending', ''],
    ['a warning, then process.exit()', "log.warn({ i: 1000 }, 'last'); process.exit(0);"],
  ])('writes every line, in order, when the process ends by %s', (_, ending) => {
    const expected = Array.from({ length: ending.includes('warn') ? 1001 : 1000 }, (_, i) => i);
    expect(numbers(run(ending))).toEqual(expected);
  });
});
