// Rule-based scorer: sum of word polarities per clause, with negation flipping the next
// few words and intensifiers amplifying them. Knows nothing it was not told, so unlike
// naive Bayes it gets "not bad" right but has no opinion on words missing from its lists.
import type { Prediction, SentimentModel } from './model.js';
import { clauses } from './tokenize.js';

const POSITIVE = words(`
  love loved loves lovely wonderful wonderfully great good excellent fantastic amazing brilliant
  superb delicious happy happily enjoy enjoyed enjoys enjoyable beautiful beautifully gorgeous
  perfect perfectly best better nice fun funny charming delightful delighted pleasant pleasure
  recommend recommended impressed impressive outstanding terrific awesome like liked likeable adore
  adored clever smart comfortable comfy friendly helpful kind clean fresh reliable satisfying
  moving inspiring uplifting stunning masterpiece fascinating thrilled glad joy warm cosy cozy
  exceptional elegant gripping heartwarming polite attentive generous memorable hilarious
  charming sweet welcoming spotless relaxing refreshed heavenly fine favourite favorite worth
  engaging easy smooth solid fabulous marvellous marvelous lucky pleased win wins success`);

const NEGATIVE = words(`
  hate hated hates terrible terribly awful horrible horribly bad badly worse worst boring bored
  dull poor poorly disappointing disappointed disappointment rude dirty filthy waste wasted broken
  broke ugly annoying annoyed useless slow cheap stale bland tedious confusing confused mess messy
  miserable painful unhappy regret overpriced noisy uncomfortable lazy stupid silly pointless
  depressing crash crashes crashing buggy damaged blurry unreliable weak sloppy shoddy avoid
  nightmare tasteless soggy mushy wrong fail failed fails failure problem problems sad angry
  frustrating frustrated ridiculous unhelpful unfriendly impolite neglected wobbly dim cramped
  crude clumsy shallow misleading mediocre lousy pathetic disgusting gross dreadful unpleasant
  tired rancid bitter overcooked overheats leaks`);

const NEGATORS = words(`not no never nothing nobody none neither nor without hardly barely cannot`);
const INTENSIFIERS = new Map<string, number>([
  ['very', 1.5], ['really', 1.5], ['so', 1.3], ['extremely', 2], ['absolutely', 1.8], ['truly', 1.5],
  ['incredibly', 1.8], ['highly', 1.5], ['super', 1.5], ['totally', 1.5], ['slightly', 0.5], ['somewhat', 0.6],
]);
/** Words after a negator that it still reaches, e.g. "not at all very good". */
const NEGATION_SCOPE = 3;
/** Maps the polarity sum to a probability; 1.5 makes a single clear word worth ~0.82. */
const CONFIDENCE_SLOPE = 1.5;

function words(list: string): Set<string> {
  return new Set(list.split(/\s+/).filter(Boolean));
}

function isNegator(token: string): boolean {
  return NEGATORS.has(token) || token.endsWith("n't");
}

/** Signed polarity of a text: > 0 positive, < 0 negative. */
export function lexiconPolarity(text: string): number {
  let total = 0;
  for (const clause of clauses(text)) {
    let negateLeft = 0;
    let boost = 1;
    for (const token of clause) {
      if (isNegator(token)) {
        negateLeft = NEGATION_SCOPE;
        continue;
      }
      const intensity = INTENSIFIERS.get(token);
      if (intensity !== undefined) {
        boost *= intensity;
        continue;
      }
      const polarity = POSITIVE.has(token) ? 1 : NEGATIVE.has(token) ? -1 : 0;
      if (polarity !== 0) {
        // A negated strong word is weaker than its opposite ("not terrible" != "great").
        total += negateLeft > 0 ? -0.5 * polarity * boost : polarity * boost;
        boost = 1;
      }
      if (negateLeft > 0) negateLeft--;
    }
  }
  return total;
}

export class LexiconModel implements SentimentModel {
  readonly method = 'lexicon' as const;

  predict(text: string): Prediction {
    const pPositive = 1 / (1 + Math.exp(-CONFIDENCE_SLOPE * lexiconPolarity(text)));
    // No sentiment words at all gives exactly 0.5; the V2 output has no "neutral", so ties go positive.
    return pPositive >= 0.5 ? { label: 'positive', score: pPositive } : { label: 'negative', score: 1 - pPositive };
  }
}
