/**
 * Pure building blocks of a `DashboardResponse`: exact counters (pico-dollar bigints) and the
 * top-N-plus-other breakdown rule, shared by every data source so that they all cut the same way.
 */
import {
  addCounters,
  byCodeUnit,
  emptyCounters,
  formatUsd,
  spendTotals,
  TOKEN_CLASSES,
  type TokenClass,
  totalTokensOf,
  type UsageCounters,
} from "@bedrock-spend/core";
import {
  type AlertItem,
  type BreakdownRow,
  DASHBOARD_TOP_N,
  type DayPoint,
  type ModelPerformanceRow,
  OTHER_KEY,
  type TokenClassRow,
  type UsageTotals,
} from "./types";

/** The JSON totals of counters (exact cost as a decimal string, and the tokens of all classes). */
export function totalsOf(counters: UsageCounters): UsageTotals {
  return { ...spendTotals(counters), totalTokens: totalTokensOf(counters) };
}

/**
 * A breakdown: keys sorted by total tokens (descending), then key; at most `topN` rows, and one
 * more row (`other: true`) that sums every key beyond them.
 */
export function breakdownRows(countersByKey: ReadonlyMap<string, UsageCounters>, topN = DASHBOARD_TOP_N): BreakdownRow[] {
  const entries = [...countersByKey.entries()].sort(([ka, a], [kb, b]) => totalTokensOf(b) - totalTokensOf(a) || byCodeUnit(ka, kb));
  const rows: BreakdownRow[] = entries.slice(0, topN).map(([key, counters]) => ({ key, ...totalsOf(counters) }));
  const rest = entries.slice(topN);
  if (rest.length > 0) {
    const other = emptyCounters();
    for (const [, counters] of rest) addCounters(other, counters);
    rows.push({ key: OTHER_KEY, ...totalsOf(other), other: true, otherCount: rest.length });
  }
  return rows;
}

/** Per-class cost, pico-dollars, or null when the source cannot split cost by class. */
export type ClassCosts = Record<TokenClass, bigint> | null;

/** The four token-class rows of counters. */
export function tokenClassRows(counters: UsageCounters, classCosts: ClassCosts): TokenClassRow[] {
  const tokens: Record<TokenClass, number> = {
    input: counters.inputTokens,
    output: counters.outputTokens,
    cacheRead: counters.cacheReadTokens,
    cacheWrite: counters.cacheWriteTokens,
  };
  return TOKEN_CLASSES.map((tokenClass) => ({
    tokenClass,
    tokens: tokens[tokenClass],
    costUsd: classCosts === null ? null : formatUsd(classCosts[tokenClass]),
  }));
}

/** Cost over time: one point per day that has usage, chronological. */
export function costOverTimeOf(days: ReadonlyMap<string, UsageCounters>): DayPoint[] {
  return [...days.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([day, counters]) => {
      const totals = totalsOf(counters);
      return {
        day,
        costUsd: totals.costUsd,
        invocations: totals.invocations,
        unpricedInvocations: totals.unpricedInvocations,
        totalTokens: totals.totalTokens,
      };
    });
}

/** The alerts fired at or after `since` (ISO 8601), or the `recent` newest ones; newest first. */
export function alertsSince(alerts: readonly AlertItem[], since: string | undefined, recent: number): AlertItem[] {
  const newestFirst = [...alerts].sort((a, b) => byCodeUnit(b.firedAt, a.firedAt) || byCodeUnit(a.alertId, b.alertId));
  if (since === undefined) return newestFirst.slice(0, recent);
  const from = Date.parse(since);
  return newestFirst.filter((alert) => Date.parse(alert.firedAt) >= from);
}

/** The order of the "Model performance" rows: most invocations first, then by model key (code units). */
export function byPerformanceOrder(a: ModelPerformanceRow, b: ModelPerformanceRow): number {
  return b.invocations - a.invocations || byCodeUnit(a.model, b.model);
}
