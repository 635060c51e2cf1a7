/**
 * What the spend API reads and writes: a tenant's spend (the same object as `spend --json`) and
 * its budget. Keys are built by the store from `@bedrock-spend/core` with escaped components, so
 * the tenant id given here addresses that tenant's partition and no other.
 */
import {
  type AttributionDimension,
  type Budget,
  breakdownOf,
  byCodeUnit,
  emptyCounters,
  formatUsd,
  monthEndForecast,
  type Spend,
  type SpendBreakdownRow,
  spendOf,
  spendTotals,
  totalOf,
  type UsageCounters,
} from "@bedrock-spend/core";
import { type AggregatesStore, alertIdOf } from "@bedrock-spend/store";
import { badRequest } from "./http";
import { DIMENSION_OF, isoSeconds } from "./report";
import { SPEND_BY } from "./schemas";
import type { SpendQuery } from "./validation";

/** The part of the aggregates store the API uses. */
export type SpendApiStore = Pick<
  AggregatesStore,
  | "monthTotalTimed"
  | "dayModelRows"
  | "breakdownRows"
  | "periodItems"
  | "rankCandidates"
  | "rankedTotals"
  | "rankComplete"
  | "alerts"
  | "tenantExists"
  | "getBudget"
  | "putBudget"
  | "deleteBudget"
>;

/** A tenant's budget as the API shows it: its own, else the deployment default, else none. */
export interface BudgetResource {
  tenantId: string;
  budget: Budget | null;
  source: "tenant" | "default" | "none";
}

function budgetResource(tenantId: string, own: Budget | undefined, defaultBudget: Budget | null): BudgetResource {
  if (own) return { tenantId, budget: own, source: "tenant" };
  return defaultBudget ? { tenantId, budget: defaultBudget, source: "default" } : { tenantId, budget: null, source: "none" };
}

/** A tenant's spend as the API answers it: the `spend --json` object, plus when it last changed and the month-end forecast. */
export type SpendAnswer = Omit<Spend, "breakdown"> & {
  asOf: string | null;
  forecast: { month: string; costUsd: string } | null;
  breakdown?: SpendBreakdownRow[];
};

/** Breakdown rows in the report's order: cost, highest first, ties by key. */
function byCost(rows: { key: string; counters: UsageCounters }[]): SpendBreakdownRow[] {
  return rows
    .sort((a, b) => (a.counters.costPico === b.counters.costPico ? byCodeUnit(a.key, b.key) : a.counters.costPico > b.counters.costPico ? -1 : 1))
    .map((row) => ({ key: row.key, ...spendTotals(row.counters) }));
}

/**
 * A tenant's spend for a month or a day; zeros for a tenant with nothing counted (a tenant that
 * has not spent yet is not unknown). A month without a breakdown, or with a breakdown dimension,
 * reads the month-total item (one GetItem) for its totals; model and day breakdowns sum the day x
 * model items, so that totals and breakdown come from the same rows and always agree. `asOf` is
 * the month item's `updatedAt` (for a day, its month's), `forecast` the linear month-end
 * projection of `monthEndForecast` (null for a day, and before a tenth of the month).
 * `breakdowns`: the dimensions the aggregator writes, when the deployment says; a `by` outside
 * them is a 400 rather than an empty breakdown.
 */
export async function readSpend(
  store: SpendApiStore,
  tenantId: string,
  query: SpendQuery,
  options: { defaultBudget: Budget | null; now: Date; breakdowns?: readonly AttributionDimension[] },
): Promise<SpendAnswer> {
  const { period, by } = query;
  const month = "month" in period ? period.month : period.day.slice(0, 7);
  const dimension = by === undefined || by === "model" || by === "day" ? undefined : DIMENSION_OF[by];
  if (dimension !== undefined && options.breakdowns !== undefined && !options.breakdowns.includes(dimension)) {
    const allowed = ["model", "day", ...SPEND_BY.filter((name) => name !== "model" && name !== "day" && options.breakdowns?.includes(DIMENSION_OF[name]))];
    throw badRequest(
      "by",
      `this deployment keeps no breakdown by ${dimension} (AGGREGATE_BREAKDOWNS lists ${options.breakdowns.join(", ") || "none"})`,
      allowed,
    );
  }
  const dayRows = by === "model" || by === "day" || "day" in period;
  const [own, monthItem, rows, breakdownRows] = await Promise.all([
    store.getBudget(tenantId),
    store.monthTotalTimed(tenantId, month),
    dayRows ? store.dayModelRows(tenantId, period) : undefined,
    dimension !== undefined ? store.breakdownRows(tenantId, month, dimension) : undefined,
  ]);
  const totals = rows ? totalOf(rows) : (monthItem?.counters ?? emptyCounters());
  let breakdown: SpendBreakdownRow[] | undefined;
  if (rows && (by === "model" || by === "day")) breakdown = breakdownOf(rows, by);
  if (breakdownRows) breakdown = byCost(breakdownRows.map((row) => ({ key: row.value, counters: row.counters })));
  const forecast = "month" in period ? monthEndForecast(totals.costPico, month, options.now.getTime()) : null;
  const { breakdown: _none, ...spend } = spendOf({
    tenantId,
    period: "month" in period ? period.month : period.day,
    totals,
    budget: own ?? options.defaultBudget,
  });
  return {
    ...spend,
    asOf: monthItem?.updatedAt === undefined ? null : isoSeconds(monthItem.updatedAt),
    forecast: forecast === null ? null : { month, costUsd: formatUsd(forecast) },
    ...(breakdown ? { breakdown } : {}),
  };
}

/** A tenant's fired alerts (newest first), of one month or all. */
export async function readAlerts(store: SpendApiStore, tenantId: string, month: string | undefined) {
  const alerts = (await store.alerts(tenantId)).filter((alert) => month === undefined || alert.month === month);
  return {
    tenantId,
    alerts: alerts.map((alert) => ({
      alertId: alertIdOf(alert),
      kind: alert.kind,
      threshold: alert.threshold,
      month: alert.month,
      spendUsd: alert.spendUsd,
      budgetUsd: alert.budgetUsd,
      forecastUsd: alert.forecastUsd,
      firedAt: alert.firedAt,
    })),
  };
}

/** The budget that applies to a tenant, or undefined for a tenant the table has no item of. */
export async function readBudget(store: SpendApiStore, tenantId: string, defaultBudget: Budget | null): Promise<BudgetResource | undefined> {
  const [exists, own] = await Promise.all([store.tenantExists(tenantId), store.getBudget(tenantId)]);
  if (!exists && !own) return undefined;
  return budgetResource(tenantId, own, defaultBudget);
}

/** Sets a tenant's own budget (a tenant may get one before its first invocation). */
export async function writeBudget(store: SpendApiStore, tenantId: string, budget: Budget, now: Date): Promise<BudgetResource> {
  await store.putBudget(tenantId, budget, now);
  return budgetResource(tenantId, budget, null);
}

/** Removes a tenant's own budget; undefined when it had none. Returns what applies afterwards. */
export async function removeBudget(store: SpendApiStore, tenantId: string, defaultBudget: Budget | null): Promise<BudgetResource | undefined> {
  const removed = await store.deleteBudget(tenantId);
  return removed ? budgetResource(tenantId, undefined, defaultBudget) : undefined;
}
