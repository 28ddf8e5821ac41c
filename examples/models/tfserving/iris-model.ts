// Multinomial logistic regression on the four Iris measurements, trained by full-batch
// gradient descent at start-up. Fixed initialisation and ordering make every run
// produce the same weights, so predictions are reproducible across processes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'] as const;
export type IrisClass = (typeof IRIS_CLASSES)[number];
export const FEATURE_COUNT = 4;

export interface IrisSample {
  features: number[];
  label: IrisClass;
}

export const DEFAULT_IRIS_PATH = fileURLToPath(new URL('./data/iris.csv', import.meta.url));

export function parseIrisCsv(csv: string): IrisSample[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const features = cells.slice(0, FEATURE_COUNT).map(Number);
    const label = cells[FEATURE_COUNT] as IrisClass;
    if (features.length !== FEATURE_COUNT || features.some((x) => !Number.isFinite(x)) || !IRIS_CLASSES.includes(label)) {
      throw new Error(`iris.csv row ${i + 2}: expected 4 numbers and a species`);
    }
    return { features, label };
  });
}

export class IrisModel {
  private constructor(
    private readonly mean: number[],
    private readonly std: number[],
    /** weights[class][feature] over standardised features. */
    private readonly weights: number[][],
    private readonly bias: number[],
  ) {}

  static train(samples: IrisSample[], epochs = 1500, learningRate = 0.5, l2 = 1e-3): IrisModel {
    const n = samples.length;
    const k = IRIS_CLASSES.length;
    // Standardising lets one learning rate suit features measured on different scales.
    const mean = range(FEATURE_COUNT).map((j) => samples.reduce((s, x) => s + x.features[j]!, 0) / n);
    const std = range(FEATURE_COUNT).map((j) =>
      Math.sqrt(samples.reduce((s, x) => s + (x.features[j]! - mean[j]!) ** 2, 0) / n) || 1,
    );
    const xs = samples.map((s) => s.features.map((v, j) => (v - mean[j]!) / std[j]!));
    const ys = samples.map((s) => IRIS_CLASSES.indexOf(s.label));
    const weights = range(k).map(() => new Array<number>(FEATURE_COUNT).fill(0));
    const bias = new Array<number>(k).fill(0);

    for (let epoch = 0; epoch < epochs; epoch++) {
      const gw = range(k).map(() => new Array<number>(FEATURE_COUNT).fill(0));
      const gb = new Array<number>(k).fill(0);
      xs.forEach((x, i) => {
        const p = softmax(logits(weights, bias, x));
        for (let c = 0; c < k; c++) {
          const err = p[c]! - (ys[i] === c ? 1 : 0);
          gb[c]! += err / n;
          for (let j = 0; j < FEATURE_COUNT; j++) gw[c]![j]! += (err * x[j]!) / n;
        }
      });
      for (let c = 0; c < k; c++) {
        bias[c]! -= learningRate * gb[c]!;
        for (let j = 0; j < FEATURE_COUNT; j++) weights[c]![j]! -= learningRate * (gw[c]![j]! + l2 * weights[c]![j]!);
      }
    }
    return new IrisModel(mean, std, weights, bias);
  }

  static load(path = DEFAULT_IRIS_PATH): IrisModel {
    return IrisModel.train(parseIrisCsv(readFileSync(path, 'utf8')));
  }

  /** Class probabilities in IRIS_CLASSES order. */
  predictProba(features: number[]): number[] {
    const x = features.map((v, j) => (v - this.mean[j]!) / this.std[j]!);
    return softmax(logits(this.weights, this.bias, x));
  }

  predictClass(features: number[]): IrisClass {
    const p = this.predictProba(features);
    return IRIS_CLASSES[p.indexOf(Math.max(...p))]!;
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function logits(weights: number[][], bias: number[], x: number[]): number[] {
  return weights.map((w, c) => w.reduce((s, wj, j) => s + wj * x[j]!, bias[c]!));
}

function softmax(z: number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}
