import { pino, type Logger } from 'pino';

/** A field's value as the access line has them; anything else goes through pino itself. */
export type FieldValue = string | number | boolean | undefined;

/**
 * pino's quoting of a string (lib/tools.js `_asString`), kept byte for byte: short strings
 * without control characters only get `"` and `\` escaped, anything else is JSON.stringify'd.
 */
export function pinoQuote(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += `${str.slice(last, i)}\\`;
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : `"${result}"`;
}

/** The seconds part of the last ISO time pino's `isoTime` would print, and which second it is. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * pino's `stdTimeFunctions.isoTime` (`,"time":"<toISOString()>"`) for a fraction of its cost:
 * the date and time up to the second are formatted once a second, the milliseconds each time.
 */
export function isoTime(): string {
  const now = Date.now();
  const ms = now % 1000;
  const second = now - ms;
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = `,"time":"${new Date(second).toISOString().slice(0, 20)}`;
  }
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

/** What pino renders around a line's own fields, for one logger and message. */
interface Frame {
  /** `{"level":30` */
  head: string;
  /** The logger's bindings (`,"svc":"ext-proc","log":"access"`). */
  bindings: string;
  /** `,"msg":"request"}` and the line end. */
  tail: string;
}

const TIME_MARK = '\u0000time\u0000';
const PROBE = '\u0000probe\u0000';

type Internals = Record<symbol, unknown>;

/**
 * The frame pino puts around a line at `info`, learnt from pino rendering a probe line (so
 * base, bindings, message key and line end are its own); undefined when pino would render
 * these fields in a way a frame cannot reproduce (a mixin, a log formatter, a nested key, a
 * message prefix, a serializer or redaction on one of the fields, a stream hook or a
 * multistream wanting metadata).
 */
function frameOf(log: Logger, msg: string, keys: readonly string[]): Frame | undefined {
  const s = pino.symbols;
  const internals = log as unknown as Internals;
  const stream = internals[s.streamSym] as Internals;
  const formatters = internals[s.formattersSym] as { log?: unknown };
  const serializers = internals[s.serializersSym] as Record<string, unknown>;
  const stringifiers = internals[s.stringifiersSym] as Record<string | symbol, unknown>;
  if (internals[s.mixinSym] || formatters.log || internals[s.nestedKeySym] || internals[(s as unknown as Record<string, symbol>).msgPrefixSym as symbol]) return undefined;
  if (stream[s.needsMetadataGsym] === true || (internals[s.hooksSym] as { streamWrite?: unknown }).streamWrite) return undefined;
  if (stringifiers[s.wildcardFirstSym] || keys.some((k) => serializers[k] || stringifiers[k] || k === internals[s.errorKeySym])) return undefined;
  const asJson = internals[s.asJsonSym] as (obj: object, msg: string, num: number, time: string) => string;
  const line = asJson.call(log, { [PROBE]: 1 }, msg, log.levels.values.info as number, TIME_MARK);
  const probe = `,${JSON.stringify(PROBE)}:1`;
  const [head, rest, extra] = line.split(TIME_MARK);
  const at = rest?.indexOf(probe) ?? -1;
  if (head === undefined || rest === undefined || extra !== undefined || at < 0) return undefined;
  return { head, bindings: rest.slice(0, at), tail: rest.slice(at + probe.length) };
}

/**
 * Writes `info` lines with these fields (in this order) through the logger: byte for byte
 * the line `log.info(fields as object, msg)` writes, for less than half the CPU. pino renders any
 * field for any logger; these lines have fixed keys and plain values, so the keys are
 * quoted once, and the bindings, level and message come from a frame pino rendered once.
 * A value that is not a string, number or boolean, or a logger this cannot imitate, and
 * the line goes through pino itself.
 */
export function lineWriter<K extends string>(log: Logger, msg: string, keys: readonly K[]): (fields: Readonly<Record<K, FieldValue>>) => void {
  const frame = frameOf(log, msg, keys);
  if (!frame) return (fields) => log.info(fields as object, msg);
  const internals = log as unknown as Internals;
  const time = internals[pino.symbols.timeSym] as () => string;
  const stream = internals[pino.symbols.streamSym] as { write(line: string): void };
  const quotedKeys = keys.map((k) => `,${pinoQuote(k)}:`);
  const n = keys.length;
  return (fields) => {
    let line = frame.head + time() + frame.bindings;
    for (let i = 0; i < n; i++) {
      const value = fields[keys[i] as K];
      if (value === undefined) continue;
      const key = quotedKeys[i] as string;
      if (typeof value === 'string') line += key + pinoQuote(value);
      else if (typeof value === 'number') line += key + (Number.isFinite(value) ? value : 'null');
      else if (typeof value === 'boolean') line += key + value;
      else return log.info(fields as object, msg);
    }
    stream.write(line + frame.tail);
  };
}
