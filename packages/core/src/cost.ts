/**
 * The cost engine: exact cost of one invocation from its token counts and a price entry.
 *
 * Bedrock logs cache tokens outside `inputTokenCount`, so each class is priced separately:
 * cost = input x input rate + output x output rate + cacheRead x cacheRead rate + cacheWrite x
 * cacheWrite rate. Nothing is derived from another class.
 */
import { type PriceEntry, type Rates, TOKEN_CLASSES, type TokenClass } from "./catalog";

/** Token counts of one invocation, by class. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** The result of pricing one invocation. */
export type CostResult =
  | {
      priced: true;
      /** Total, pico-dollars. */
      costPico: bigint;
      /** Per class, pico-dollars (0 for classes with no tokens). */
      byClass: Readonly<Record<TokenClass, bigint>>;
      longContext: boolean;
    }
  | {
      priced: false;
      /** The classes with tokens but no price. */
      missing: TokenClass[];
      longContext: boolean;
    };

/** Whether the entry's long-context tier applies: input + cacheRead + cacheWrite above the threshold. */
export function usesLongContext(entry: PriceEntry, tokens: TokenCounts): boolean {
  if (!entry.longContext) return false;
  return tokens.input + tokens.cacheRead + tokens.cacheWrite > entry.longContext.aboveInputTokens;
}

/**
 * Prices `tokens` with `entry`. A class with tokens and no rate makes the whole invocation
 * unpriced (never free, never partially priced), so that the caller flags it.
 */
export function computeCost(entry: PriceEntry, tokens: TokenCounts): CostResult {
  const longContext = usesLongContext(entry, tokens);
  const rates: Rates = longContext && entry.longContext ? entry.longContext.rates : entry.rates;
  const missing: TokenClass[] = [];
  const byClass: Record<TokenClass, bigint> = {
    input: 0n,
    output: 0n,
    cacheRead: 0n,
    cacheWrite: 0n,
  };
  let total = 0n;
  for (const tokenClass of TOKEN_CLASSES) {
    const count = tokens[tokenClass];
    if (count === 0) continue;
    const rate = rates[tokenClass];
    if (rate === undefined) {
      missing.push(tokenClass);
      continue;
    }
    const cost = BigInt(count) * rate;
    byClass[tokenClass] = cost;
    total += cost;
  }
  if (missing.length > 0) return { priced: false, missing, longContext };
  return { priced: true, costPico: total, byClass, longContext };
}
