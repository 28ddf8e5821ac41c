// Word-bigram language model. Tokens are whitespace-delimited words exactly as they appear
// in the corpus (punctuation attached), so output keeps the corpus' punctuation. Transitions
// are keyed by a normalised form of the current word ("Alice," and "alice" share successors)
// because the raw-token graph would be too sparse to wander far in a ~4k-word corpus.
import { mulberry32 } from './rng.js';

export interface SamplingOptions {
  /** Upper bound on generated words. */
  maxTokens: number;
  /** 0 = greedy; 1 = corpus frequencies; higher flattens the distribution. */
  temperature: number;
  /** Nucleus sampling: keep the smallest most-likely set whose mass reaches topP. */
  topP: number;
  seed: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop: string[];
}

export interface Generation {
  /** What a streaming response sends, one word each: "word " (the final word has no trailing space). */
  pieces: string[];
  text: string;
  finishReason: 'stop' | 'length';
}

type Counts = Map<string, number>;

const SENTENCE_END = /[.!?]["')]*$/;

export function wordKey(word: string): string {
  return word.toLowerCase().replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export class BigramModel {
  private constructor(
    private readonly transitions: Map<string, Counts>,
    /** Words that open a sentence: where generation starts without a usable prompt word. */
    private readonly starts: Counts,
  ) {}

  /** Trains on text; lines starting with `#` are provenance comments, not corpus. */
  static train(corpus: string): BigramModel {
    const words = corpus
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join(' ')
      .split(/\s+/)
      .filter(Boolean);
    const transitions = new Map<string, Counts>();
    const starts: Counts = new Map();
    let prev: string | undefined;
    for (const word of words) {
      if (prev === undefined || SENTENCE_END.test(prev)) bump(starts, word);
      if (prev !== undefined) {
        const key = wordKey(prev);
        let next = transitions.get(key);
        if (!next) transitions.set(key, (next = new Map()));
        bump(next, word);
      }
      prev = word;
    }
    if (starts.size === 0) throw new Error('bigram: corpus is empty');
    return new BigramModel(transitions, starts);
  }

  get vocabularySize(): number {
    return this.transitions.size;
  }

  /** Continues from `seedWord` if the corpus knows it, otherwise from a sentence start. */
  generate(seedWord: string | undefined, opts: SamplingOptions): Generation {
    const random = mulberry32(opts.seed);
    const words: string[] = [];
    let current = seedWord === undefined ? undefined : this.transitions.get(wordKey(seedWord));
    let finishReason: Generation['finishReason'] = 'length';
    while (words.length < opts.maxTokens) {
      // The corpus' last word has no successor; restart at a sentence opening instead of stalling.
      const word = sample(current && current.size > 0 ? current : this.starts, opts, random);
      words.push(word);
      if (SENTENCE_END.test(word)) {
        finishReason = 'stop';
        break;
      }
      current = this.transitions.get(wordKey(word));
    }
    return applyStop(words.join(' '), finishReason, opts.stop);
  }
}

function bump(counts: Counts, word: string): void {
  counts.set(word, (counts.get(word) ?? 0) + 1);
}

function sample(counts: Counts, opts: SamplingOptions, random: () => number): string {
  const entries = [...counts.entries()];
  if (opts.temperature === 0) {
    // Greedy; ties go to the first-seen successor so the choice is stable.
    return entries.reduce((best, e) => (e[1] > best[1] ? e : best))[0];
  }
  let weighted = entries.map(([w, c]) => [w, Math.pow(c, 1 / opts.temperature)] as const);
  const total = weighted.reduce((s, [, p]) => s + p, 0);
  if (opts.topP < 1) {
    weighted = [...weighted].sort((a, b) => b[1] - a[1]);
    const kept: (readonly [string, number])[] = [];
    let mass = 0;
    for (const e of weighted) {
      kept.push(e);
      mass += e[1] / total;
      if (mass >= opts.topP) break;
    }
    weighted = kept;
  }
  const keptTotal = weighted.reduce((s, [, p]) => s + p, 0);
  let r = random() * keptTotal;
  for (const [w, p] of weighted) {
    r -= p;
    if (r < 0) return w;
  }
  return weighted[weighted.length - 1]![0];
}

/**
 * Cutting at the earliest stop string in the finished text equals checking after every
 * word, because generation is deterministic and each word only extends the text.
 */
function applyStop(full: string, finishReason: Generation['finishReason'], stop: string[]): Generation {
  let cut = -1;
  for (const s of stop) {
    if (s === '') continue;
    const at = full.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  const text = cut >= 0 ? full.slice(0, cut) : full;
  return { text, pieces: text.match(/\S+\s*/g) ?? [], finishReason: cut >= 0 ? 'stop' : finishReason };
}
