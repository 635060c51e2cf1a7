/**
 * Pure building blocks of a `DashboardResponse`: exact counters (pico-dollar bigints) and the
 * top-N-plus-other breakdown rule, shared by every data source so that they all cut the same way.
 */
import { addCounters, emptyCounters, formatUsd, TOKEN_CLASSES, type TokenClass, type UsageCounters } from "@bedrock-spend/core";
import { type BreakdownRow, DASHBOARD_TOP_N, OTHER_KEY, type TokenClassRow, type UsageTotals } from "./types";

/** Exact running totals: core's usage counters (cost in pico-dollars, formatted only when answered). */
export type Tally = UsageCounters;

/** A tally of zero. */
export const emptyTally = emptyCounters;

/** Adds `delta` into `into` (mutates `into`) and returns it. */
export const addTally = addCounters;

/** Total tokens of a tally, all four classes. */
export function totalTokensOf(tally: Tally): number {
  return tally.inputTokens + tally.outputTokens + tally.cacheReadTokens + tally.cacheWriteTokens;
}

/** The JSON totals of a tally. */
export function totalsOf(tally: Tally): UsageTotals {
  return {
    invocations: tally.invocations,
    unpricedInvocations: tally.unpricedInvocations,
    inputTokens: tally.inputTokens,
    outputTokens: tally.outputTokens,
    cacheReadTokens: tally.cacheReadTokens,
    cacheWriteTokens: tally.cacheWriteTokens,
    totalTokens: totalTokensOf(tally),
    costUsd: formatUsd(tally.costPico),
  };
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A breakdown: keys sorted by total tokens (descending), then key; at most `topN` rows, and one
 * more row (`other: true`) that sums every key beyond them.
 */
export function breakdownRows(tallies: ReadonlyMap<string, Tally>, topN = DASHBOARD_TOP_N): BreakdownRow[] {
  const entries = [...tallies.entries()].sort(([ka, a], [kb, b]) => totalTokensOf(b) - totalTokensOf(a) || byCodeUnit(ka, kb));
  const rows: BreakdownRow[] = entries.slice(0, topN).map(([key, tally]) => ({ key, ...totalsOf(tally) }));
  const rest = entries.slice(topN);
  if (rest.length > 0) {
    const other = emptyTally();
    for (const [, tally] of rest) addTally(other, tally);
    rows.push({ key: OTHER_KEY, ...totalsOf(other), other: true, otherCount: rest.length });
  }
  return rows;
}

/** Per-class cost, pico-dollars, or null when the source cannot split cost by class. */
export type ClassCosts = Record<TokenClass, bigint> | null;

/** The four token-class rows of a tally. */
export function tokenClassRows(tally: Tally, classCosts: ClassCosts): TokenClassRow[] {
  const tokens: Record<TokenClass, number> = {
    input: tally.inputTokens,
    output: tally.outputTokens,
    cacheRead: tally.cacheReadTokens,
    cacheWrite: tally.cacheWriteTokens,
  };
  return TOKEN_CLASSES.map((tokenClass) => ({
    tokenClass,
    tokens: tokens[tokenClass],
    costUsd: classCosts === null ? null : formatUsd(classCosts[tokenClass]),
  }));
}
