export interface WordFilterOptions {
  words: readonly string[];
  replacement: string;
  caseSensitive: boolean;
  /** Match whole words only (`ass` does not hit `class`). */
  wholeWords: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles the banned-word list once; returns a function that replaces them and counts hits. */
export function wordFilter(opts: WordFilterOptions): (text: string) => { text: string; hits: number } {
  // Longest first, so "bad word" wins over "bad".
  const alternatives = [...opts.words].sort((a, b) => b.length - a.length).map(escape).join('|');
  const pattern = opts.wholeWords ? `(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])` : `(?:${alternatives})`;
  const re = new RegExp(pattern, opts.caseSensitive ? 'gu' : 'giu');
  return (text) => {
    let hits = 0;
    const out = text.replace(re, () => {
      hits++;
      return opts.replacement;
    });
    return { text: out, hits };
  };
}
