/**
 * Keys of the aggregates table (one DynamoDB table: `pk` partition key, `sk` sort key).
 *
 * Every component taken from data (tenant ids, model ids, breakdown values) is escaped, so that a
 * metadata value containing the `#` delimiter (Bedrock allows it) cannot address another tenant's
 * items: `%` becomes `%25` and `#` becomes `%23`, which makes the encoding injective and keeps `#`
 * for structure only. See docs/aggregates-table.md for the access patterns.
 */

import type { DayKey, MonthKey } from "@bedrock-spend/core";

/** Escapes one key component: the result never contains `#`. */
export function escapeKeyComponent(value: string): string {
  return value.replace(/%/g, "%25").replace(/#/g, "%23");
}

/** Reverses `escapeKeyComponent`. */
export function unescapeKeyComponent(value: string): string {
  return value.replace(/%23/g, "#").replace(/%25/g, "%");
}

/** Partition key of everything that belongs to one tenant. */
export function tenantPk(tenantId: string): string {
  return `T#${escapeKeyComponent(tenantId)}`;
}

/** Reads the tenant id back from a tenant partition key; undefined for other partitions. */
export function tenantFromPk(pk: string): string | undefined {
  return pk.startsWith("T#") ? unescapeKeyComponent(pk.slice(2)) : undefined;
}

/** Sort key of a tenant's month total (budgets read these). */
export function monthSk(month: MonthKey): string {
  return `M#${month}`;
}

/** Sort key of a tenant's per-day, per-model counters. */
export function dayModelSk(day: DayKey, model: string): string {
  return `D#${day}#${escapeKeyComponent(model)}`;
}

/** Sort-key prefix selecting one month of day x model items. */
export function dayModelMonthPrefix(month: MonthKey): string {
  return `D#${month}-`;
}

/** Sort-key prefix selecting one day of day x model items. */
export function dayModelDayPrefix(day: DayKey): string {
  return `D#${day}#`;
}

/** Sort key of a configured breakdown (e.g. departmentId) of a tenant's month. */
export function breakdownSk(month: MonthKey, dimension: string, value: string): string {
  return `B#${month}#${escapeKeyComponent(dimension)}#${escapeKeyComponent(value)}`;
}

/** Sort key of a tenant's budget. */
export const BUDGET_SK = "BUDGET";

/** Sort-key prefix of every alert marker of a tenant. */
export const ALERT_SK_PREFIX = "A#";

/** Sort key of one alert's fire-once marker: threshold percent zero-padded, or `FORECAST`. */
export function alertSk(month: MonthKey, threshold: number | "FORECAST"): string {
  return `${ALERT_SK_PREFIX}${month}#${threshold === "FORECAST" ? "FORECAST" : String(threshold).padStart(3, "0")}`;
}

/** Sort-key prefix of a tenant's alert markers for one month. */
export function alertMonthPrefix(month: MonthKey): string {
  return `${ALERT_SK_PREFIX}${month}#`;
}

/** Partition and sort key of an invocation's dedup marker. */
export function dedupKey(requestId: string): { pk: string; sk: string } {
  return { pk: `R#${escapeKeyComponent(requestId)}`, sk: "R" };
}

/** Parses a day x model sort key back into its parts. */
export function parseDayModelSk(sk: string): { day: DayKey; model: string } | undefined {
  const match = /^D#(\d{4}-\d{2}-\d{2})#(.*)$/.exec(sk);
  if (!match) return undefined;
  return { day: match[1] as string, model: unescapeKeyComponent(match[2] as string) };
}
