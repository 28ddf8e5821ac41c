// Shared text normalisation so both model versions see identical tokens; they should
// disagree because of their method, not because of preprocessing differences.

/** Lower-cased word tokens; apostrophes kept so "didn't" survives as a negator. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().replace(/[\u2018\u2019]/g, "'").match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}

/**
 * Splits text into clauses at punctuation and "but", the usual boundaries of a negation's
 * scope ("not great, but fine" negates only "great").
 */
export function clauses(text: string): string[][] {
  return text
    .split(/[.,;:!?()\n]+|\bbut\b/i)
    .map(tokenize)
    .filter((c) => c.length > 0);
}
