// One table of error codes (plugins/sdk/error-codes.ts): every code the core, the built-ins and
// Envoy's local replies emit is in it with the status its call site uses, every entry is
// emitted somewhere, and docs/errors.md lists exactly the table.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from '../../plugins/sdk/error-codes.js';
import { GatewayErrorCodes } from '../../plugins/sdk/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(): { file: string; text: string }[] {
  return ['ext-proc', 'plugins', 'envoy'].flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && d.name !== 'test-support.ts')
      .map((d) => path.join(d.parentPath, d.name))
      .filter((f) => !f.includes(`${path.sep}gen${path.sep}`) && !f.includes(`${path.sep}dist${path.sep}`) && !f.endsWith('.d.ts') && !f.endsWith('error-codes.ts'))
      .map((f) => ({ file: path.relative(root, f), text: readFileSync(f, 'utf8') })),
  );
}

interface Emitted {
  code: string;
  status: number | undefined;
  at: string;
}

/** Codes as the sources emit them, with the status the call site gives when it gives one. */
function emitted(): Emitted[] {
  const out: Emitted[] = [];
  for (const { file, text } of sources()) {
    const lineOf = (i: number) => `${file}:${text.slice(0, i).split('\n').length}`;
    const add = (code: string, status: number | undefined, i: number) => out.push({ code, status, at: lineOf(i) });
    const claimed = new Set<number>();
    // ctx.fail(status, message, { code }) and { status, code } records.
    for (const m of text.matchAll(/fail\((\d{3}),(?:(?!fail\()[\s\S]){0,400}?\bcode: '([a-z_]+)'/g)) {
      claimed.add((m.index as number) + m[0].lastIndexOf('code:'));
      add(m[2] as string, Number(m[1]), m.index as number);
    }
    for (const m of text.matchAll(/status: (\d{3}), code: '([a-z_]+)'/g)) {
      claimed.add((m.index as number) + m[0].lastIndexOf('code:'));
      add(m[2] as string, Number(m[1]), m.index as number);
    }
    for (const m of text.matchAll(/new PluginError\((\d{3}), '([a-z_]+)'/g)) add(m[2] as string, Number(m[1]), m.index as number);
    for (const m of text.matchAll(/unauthorized\(ctx, '([a-z_]+)'/g)) add(m[1] as string, 401, m.index as number);
    for (const m of text.matchAll(/gatewayError\('([a-z_]+)'/g)) add(m[1] as string, undefined, m.index as number);
    for (const m of text.matchAll(/GatewayErrorCodes\.(\w+)/g)) add(GatewayErrorCodes[m[1] as keyof typeof GatewayErrorCodes] ?? `GatewayErrorCodes.${m[1]}`, undefined, m.index as number);
    // Any other `code: '...'` (problem records, Envoy's local replies); zod's issue codes are not ours.
    for (const m of text.matchAll(/\bcode: '([a-z_]+)'/g)) {
      if (claimed.has(m.index as number)) continue;
      const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index));
      if (line.includes('addIssue')) continue;
      add(m[1] as string, undefined, m.index as number);
    }
  }
  return out;
}

describe('error codes', () => {
  const codes = emitted();

  it('finds the codes it looks for (the scan itself works)', () => {
    expect(codes.length).toBeGreaterThan(40);
    expect(codes.some((c) => c.code === 'request_too_large' && c.status === 413 && c.at.startsWith('plugins/shared/contract.ts'))).toBe(true);
  });

  it('every emitted code is in the table, with the status its call site uses', () => {
    const problems = codes.flatMap((c) => {
      if (!isErrorCode(c.code)) return [`${c.at}: '${c.code}' is not in plugins/sdk/error-codes.ts`];
      const status = ERROR_CODES[c.code].status;
      return c.status !== undefined && c.status !== status ? [`${c.at}: '${c.code}' sent with ${c.status}, the table says ${status}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('every code in the table is emitted somewhere', () => {
    const seen = new Set(codes.map((c) => c.code));
    expect(Object.keys(ERROR_CODES).filter((c) => !seen.has(c))).toEqual([]);
  });

  it('docs/errors.md lists exactly the table: code, status, category, shown', () => {
    const doc = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| ([a-z]+) \| (yes|no) \|/gm)].map((m) => [m[1], Number(m[2]), m[3], m[4] === 'yes']);
    const table = Object.entries(ERROR_CODES).map(([code, i]) => [code, i.status, i.category, i.expose]);
    expect(rows).toEqual(table);
  });

  it('one code per cause: every 413 is request_too_large', () => {
    expect(codes.filter((c) => c.status === 413).map((c) => c.code)).toEqual(expect.arrayContaining(['request_too_large']));
    expect(Object.entries(ERROR_CODES).filter(([, i]) => i.status === 413).map(([c]) => c)).toEqual(['request_too_large']);
  });
});
