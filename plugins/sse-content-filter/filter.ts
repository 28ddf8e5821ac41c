export interface WordFilterOptions {
  words: readonly string[];
  replacement: string;
  caseSensitive: boolean;
  /** Match whole words only (`ass` does not hit `class`). */
  wholeWords: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The banned-word list as one global regular expression. */
function bannedWords(opts: WordFilterOptions): RegExp {
  // Longest first, so "bad word" wins over "bad".
  const alternatives = [...opts.words].sort((a, b) => b.length - a.length).map(escape).join('|');
  const pattern = opts.wholeWords ? `(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])` : `(?:${alternatives})`;
  return new RegExp(pattern, opts.caseSensitive ? 'gu' : 'giu');
}

/** Compiles the banned-word list once; returns a function that replaces them and counts hits. */
export function wordFilter(opts: WordFilterOptions): (text: string) => { text: string; hits: number } {
  const re = bannedWords(opts);
  return (text) => {
    let hits = 0;
    const out = text.replace(re, () => {
      hits++;
      return opts.replacement;
    });
    return { text: out, hits };
  };
}

/** What a stream filter keeps between events for one choice. */
export interface HeldText {
  /** Text not yet passed on: it may be the start of a banned word. */
  held: string;
  /** The last character passed on, so whole-word matching sees what came before. */
  before: string;
}

/**
 * Filtering for text that arrives in pieces (SSE deltas), catching a word split across
 * pieces: the tail that could still become a banned word is held back until the next piece
 * shows what it is, or until `final`. A piece without such a tail passes at once.
 */
export function streamFilter(opts: WordFilterOptions): (state: HeldText, piece: string, final: boolean) => { text: string; hits: number } {
  const fold = (s: string) => (opts.caseSensitive ? s : s.toLowerCase());
  const words = opts.words.map(fold);
  const re = bannedWords(opts);

  /** Length of the longest tail of `text` that is the start of a banned word (or all of one). */
  const startOfWordAtEnd = (text: string): number => {
    const folded = fold(text);
    let longest = 0;
    for (const w of words) {
      for (let k = Math.min(w.length, folded.length); k > longest; k--) {
        if (folded.endsWith(w.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  };

  return (state, piece, final) => {
    const text = state.held + piece;
    const ctx = state.before;
    // Matches over the whole text, with one character of what was already sent before it.
    const matches = [...(ctx + text).matchAll(re)].map((m) => ({ start: (m.index ?? 0) - ctx.length, end: (m.index ?? 0) - ctx.length + m[0].length }));
    let cut = final ? text.length : text.length - startOfWordAtEnd(text);
    // Never cut through a match: hold it whole, it is decided with the next piece.
    const split = matches.find((m) => m.start < cut && m.end > cut);
    if (split) cut = split.start;
    let out = '';
    let at = 0;
    let hits = 0;
    for (const m of matches) {
      if (m.end > cut || m.start < 0) continue;
      out += text.slice(at, m.start) + opts.replacement;
      at = m.end;
      hits++;
    }
    out += text.slice(at, cut);
    state.held = text.slice(cut);
    if (cut > 0) state.before = text.slice(cut - 1, cut);
    return { text: out, hits };
  };
}
