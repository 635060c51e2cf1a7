/**
 * The cost engine: exact cost of one invocation from its token counts, the billing dimensions the
 * log carries, and a price entry.
 *
 * Bedrock logs cache tokens outside `inputTokenCount`, so each class is priced separately:
 * cost = input x input rate + output x output rate + cacheRead x cacheRead rate + 5-minute cache
 * writes x cacheWrite rate + 1-hour cache writes x cacheWrite1h rate. Nothing is derived from
 * another class. The rates are the entry's own, or its latency-optimized or service-tier block
 * when the log says the call ran that way.
 */
import { type PricedServiceTier, type PriceEntry, type RateClass, type Rates, TOKEN_CLASSES, type TokenClass } from "./catalog";

/** Token counts of one invocation, by class. */
export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Of `cacheWrite`, the tokens written with a 1-hour lifetime (0 when the log does not split writes). */
  cacheWrite1h?: number;
}

/** The rates in the order they are summed: the token classes, then the 1-hour cache writes. */
const RATE_ORDER: readonly RateClass[] = [...TOKEN_CLASSES, "cacheWrite1h"];

/** How a call was served, as far as the log says (null: the log does not say, which bills as standard). */
export interface BillingDimensions {
  latency: "standard" | "optimized" | null;
  serviceTier: "default" | PricedServiceTier | null;
}

/** The standard dimensions: what a log that says nothing is billed as. */
export const STANDARD_DIMENSIONS: BillingDimensions = { latency: null, serviceTier: null };

/** The rate block that applies to a call, or why none does. */
export type RateBlock = { rates: Rates; label: string | null } | { rates: null; label: string };

/**
 * Picks the rates for the call: the service tier's block for flex, priority and reserved, the
 * latency-optimized block for optimized latency, the entry's own (or long-context) rates otherwise.
 * A combination the entry has no block for (a tier it does not price, optimized latency on a model
 * without it, long context beyond the standard tier) has no rates: the call is unpriced, never
 * billed at a rate that is not its own.
 */
export function rateBlockOf(entry: PriceEntry, dimensions: BillingDimensions, longContext: boolean): RateBlock {
  const tier = dimensions.serviceTier === "default" ? null : dimensions.serviceTier;
  const optimized = dimensions.latency === "optimized";
  if (tier !== null && optimized) return { rates: null, label: `latency-optimized ${tier} tier` };
  const label = tier !== null ? `${tier} tier` : optimized ? "latency-optimized" : null;
  if (label === null) return { rates: longContext && entry.longContext ? entry.longContext.rates : entry.rates, label: longContext ? "long context" : null };
  const rates = tier !== null ? entry.tiers[tier] : entry.latencyOptimized;
  if (!rates) return { rates: null, label };
  if (longContext) return { rates: null, label: `long-context ${label}` };
  return { rates, label };
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
      /** The rates with tokens but no price (all of them when the entry has no block for the call's dimensions). */
      missing: RateClass[];
      longContext: boolean;
      /** The rate block the call needed (`flex tier`, `latency-optimized`, `long context`), null for the standard one. */
      block: string | null;
      /** True when the entry has no rates at all for the call's dimensions. */
      noBlock: boolean;
    };

/** Whether the entry's long-context tier applies: input + cacheRead + cacheWrite above the threshold. */
export function usesLongContext(entry: PriceEntry, tokens: TokenCounts): boolean {
  if (!entry.longContext) return false;
  return tokens.input + tokens.cacheRead + tokens.cacheWrite > entry.longContext.aboveInputTokens;
}

/**
 * Prices `tokens` with `entry` under `dimensions`. A class with tokens and no rate makes the whole
 * invocation unpriced (never free, never partially priced), so that the caller flags it.
 * `longContext` is decided from `tokens` unless given: tokens summed over invocations are priced
 * with the decision each invocation made (the cost is linear in tokens, the decision is not).
 */
export function computeCost(
  entry: PriceEntry,
  tokens: TokenCounts,
  dimensions: BillingDimensions = STANDARD_DIMENSIONS,
  longContext: boolean = usesLongContext(entry, tokens),
): CostResult {
  const block = rateBlockOf(entry, dimensions, longContext);
  if (block.rates === null) return { priced: false, missing: [], longContext, block: block.label, noBlock: true };
  const rates = block.rates;
  const missing: RateClass[] = [];
  const byClass: Record<TokenClass, bigint> = {
    input: 0n,
    output: 0n,
    cacheRead: 0n,
    cacheWrite: 0n,
  };
  // The log counts every cache write in one class; the 1-hour ones are billed at their own rate.
  const oneHour = Math.min(tokens.cacheWrite1h ?? 0, tokens.cacheWrite);
  let total = 0n;
  for (const rateClass of RATE_ORDER) {
    const count = rateClass === "cacheWrite" ? tokens.cacheWrite - oneHour : rateClass === "cacheWrite1h" ? oneHour : tokens[rateClass];
    if (count === 0) continue;
    const rate = rates[rateClass];
    if (rate === undefined) {
      missing.push(rateClass);
      continue;
    }
    const cost = BigInt(count) * rate;
    byClass[rateClass === "cacheWrite1h" ? "cacheWrite" : rateClass] += cost;
    total += cost;
  }
  if (missing.length > 0) return { priced: false, missing, longContext, block: block.label, noBlock: false };
  return { priced: true, costPico: total, byClass, longContext };
}
