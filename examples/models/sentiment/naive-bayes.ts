// Multinomial naive Bayes over bag-of-words with Laplace smoothing. Deliberately plain:
// no negation handling, so "not bad" reads as two negative-leaning words. That is the
// behavioural difference from the lexicon version that canary/shadow demos can observe.
import type { Prediction, SentimentLabel, SentimentModel } from './model.js';
import { tokenize } from './tokenize.js';

export interface LabelledText {
  label: SentimentLabel;
  text: string;
}

/** Parses `label<TAB>text` lines; blank lines and `#` comments are skipped. */
export function parseTrainingTsv(tsv: string): LabelledText[] {
  const rows: LabelledText[] = [];
  tsv.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const tab = line.indexOf('\t');
    const label = line.slice(0, tab);
    if (tab < 0 || (label !== 'positive' && label !== 'negative')) {
      throw new Error(`train.tsv line ${i + 1}: expected "positive|negative<TAB>text"`);
    }
    rows.push({ label, text: line.slice(tab + 1) });
  });
  return rows;
}

const LABELS: readonly SentimentLabel[] = ['positive', 'negative'];

interface ClassStats {
  logPrior: number;
  /** log P(word | class), smoothed; `unseenLogProb` covers in-vocabulary words never seen in this class. */
  logLikelihood: Map<string, number>;
  unseenLogProb: number;
}

export class NaiveBayesModel implements SentimentModel {
  readonly method = 'naive-bayes' as const;

  private constructor(
    private readonly classes: Map<SentimentLabel, ClassStats>,
    private readonly vocabulary: Set<string>,
  ) {}

  static train(rows: LabelledText[], alpha = 1): NaiveBayesModel {
    if (rows.length === 0) throw new Error('naive-bayes: empty training set');
    const vocabulary = new Set<string>();
    const counts = new Map<SentimentLabel, { docs: number; words: Map<string, number>; total: number }>();
    for (const label of LABELS) counts.set(label, { docs: 0, words: new Map(), total: 0 });
    for (const row of rows) {
      const c = counts.get(row.label)!;
      c.docs++;
      for (const w of tokenize(row.text)) {
        vocabulary.add(w);
        c.words.set(w, (c.words.get(w) ?? 0) + 1);
        c.total++;
      }
    }
    const classes = new Map<SentimentLabel, ClassStats>();
    for (const label of LABELS) {
      const c = counts.get(label)!;
      const denom = c.total + alpha * vocabulary.size;
      const logLikelihood = new Map<string, number>();
      for (const [w, n] of c.words) logLikelihood.set(w, Math.log((n + alpha) / denom));
      classes.set(label, {
        // Smoothed prior too, so a class absent from the data is unlikely rather than impossible.
        logPrior: Math.log((c.docs + 1) / (rows.length + LABELS.length)),
        logLikelihood,
        unseenLogProb: Math.log(alpha / denom),
      });
    }
    return new NaiveBayesModel(classes, vocabulary);
  }

  predict(text: string): Prediction {
    // Out-of-vocabulary words carry no evidence either way, so they are skipped.
    const words = tokenize(text).filter((w) => this.vocabulary.has(w));
    const logPosterior = LABELS.map((label) => {
      const c = this.classes.get(label)!;
      return words.reduce((sum, w) => sum + (c.logLikelihood.get(w) ?? c.unseenLogProb), c.logPrior);
    });
    const [pos, neg] = logPosterior as [number, number];
    const max = Math.max(pos, neg);
    const pPositive = Math.exp(pos - max) / (Math.exp(pos - max) + Math.exp(neg - max));
    return pPositive >= 0.5 ? { label: 'positive', score: pPositive } : { label: 'negative', score: 1 - pPositive };
  }
}
