/**
 * The spend object: what `bedrock-spend spend --json` prints and what the spend API returns.
 * Token counts are exact JSON numbers; money is an exact decimal string.
 */

import type { Budget } from "./budget";
import { addCounters, emptyCounters, type UsageCounters } from "./counters";
import { formatUsd } from "./money";

/** Totals of a period or of one breakdown key: the usage counters, with the exact cost as a decimal USD string. */
export interface SpendTotals extends Omit<UsageCounters, "costPico"> {
  costUsd: string;
}

/** One row of a breakdown (`by=model` or `by=day`). */
export interface SpendBreakdownRow extends SpendTotals {
  key: string;
}

/** A tenant's spend for a month or a day. */
export interface Spend extends SpendTotals {
  tenantId: string;
  /** `YYYY-MM` or `YYYY-MM-DD`. */
  period: string;
  budget: Budget | null;
  breakdown?: SpendBreakdownRow[];
}

/** Breakdown dimensions served from the day x model items. */
export type SpendBreakdownBy = "model" | "day";

/** Converts counters to the totals of the spend object. */
export function spendTotals(counters: UsageCounters): SpendTotals {
  return {
    invocations: counters.invocations,
    unpricedInvocations: counters.unpricedInvocations,
    inputTokens: counters.inputTokens,
    outputTokens: counters.outputTokens,
    cacheReadTokens: counters.cacheReadTokens,
    cacheWriteTokens: counters.cacheWriteTokens,
    costUsd: formatUsd(counters.costPico),
  };
}

/** A day x model aggregate row, as read from the table. */
export interface DayModelRow {
  day: string;
  model: string;
  counters: UsageCounters;
}

/**
 * Sums day x model rows into a breakdown: by model (highest cost first, then name) or by day
 * (chronological). Rows outside `onlyDay` are ignored when it is given.
 */
export function breakdownOf(rows: readonly DayModelRow[], by: SpendBreakdownBy, onlyDay?: string): SpendBreakdownRow[] {
  const sums = new Map<string, UsageCounters>();
  for (const row of rows) {
    if (onlyDay !== undefined && row.day !== onlyDay) continue;
    const key = by === "model" ? row.model : row.day;
    const sum = sums.get(key) ?? emptyCounters();
    sums.set(key, addCounters(sum, row.counters));
  }
  const entries = [...sums.entries()];
  // Code-unit order, not localeCompare: the same order on every machine.
  const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (by === "day") entries.sort(([a], [b]) => byKey(a, b));
  else entries.sort(([ka, a], [kb, b]) => (a.costPico === b.costPico ? byKey(ka, kb) : a.costPico > b.costPico ? -1 : 1));
  return entries.map(([key, counters]) => ({ key, ...spendTotals(counters) }));
}

/** Sums day x model rows (optionally of one day) into period totals. */
export function totalOf(rows: readonly DayModelRow[], onlyDay?: string): UsageCounters {
  const total = emptyCounters();
  for (const row of rows) if (onlyDay === undefined || row.day === onlyDay) addCounters(total, row.counters);
  return total;
}

/** Builds the spend object. */
export function spendOf(input: { tenantId: string; period: string; totals: UsageCounters; budget: Budget | null; breakdown?: SpendBreakdownRow[] }): Spend {
  const spend: Spend = { tenantId: input.tenantId, period: input.period, ...spendTotals(input.totals), budget: input.budget };
  if (input.breakdown) spend.breakdown = input.breakdown;
  return spend;
}
