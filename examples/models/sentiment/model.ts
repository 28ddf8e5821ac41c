// The contract both sentiment versions implement, and the factory the server uses.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LexiconModel } from './lexicon.js';
import { NaiveBayesModel, parseTrainingTsv } from './naive-bayes.js';

export type SentimentLabel = 'positive' | 'negative';

export interface Prediction {
  label: SentimentLabel;
  /** Probability the model assigns to `label`, in [0.5, 1]. */
  score: number;
}

export interface SentimentModel {
  readonly method: SentimentMethod;
  predict(text: string): Prediction;
}

export const SENTIMENT_METHODS = ['lexicon', 'naive-bayes'] as const;
export type SentimentMethod = (typeof SENTIMENT_METHODS)[number];

export const DEFAULT_TRAIN_PATH = fileURLToPath(new URL('./data/train.tsv', import.meta.url));

export function createSentimentModel(method: SentimentMethod, trainPath = DEFAULT_TRAIN_PATH): SentimentModel {
  if (method === 'lexicon') return new LexiconModel();
  return NaiveBayesModel.train(parseTrainingTsv(readFileSync(trainPath, 'utf8')));
}
