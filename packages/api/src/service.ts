/**
 * What the spend API reads and writes: a tenant's spend (the same object as `spend --json`) and
 * its budget. Keys are built by the store from `@bedrock-spend/core` with escaped components, so
 * the tenant id given here addresses that tenant's partition and no other.
 */
import { type Budget, breakdownOf, emptyCounters, type Spend, spendOf, totalOf } from "@bedrock-spend/core";
import type { AggregatesStore } from "@bedrock-spend/store";
import type { SpendQuery } from "./validation";

/** The part of the aggregates store the API uses. */
export type SpendApiStore = Pick<AggregatesStore, "monthTotal" | "dayModelRows" | "tenantExists" | "getBudget" | "putBudget" | "deleteBudget">;

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

/**
 * A tenant's spend for a month or a day, or undefined for a tenant the table has no item of.
 * A month without a breakdown reads the month-total item (one GetItem); anything else sums the
 * day x model items, so that totals and breakdown come from the same rows and always agree.
 */
export async function readSpend(store: SpendApiStore, tenantId: string, query: SpendQuery, defaultBudget: Budget | null): Promise<Spend | undefined> {
  const { period, by } = query;
  const [own, counted] = await Promise.all([
    store.getBudget(tenantId),
    "month" in period && by === undefined
      ? store.monthTotal(tenantId, period.month).then((totals) => ({ found: totals !== undefined, totals: totals ?? emptyCounters(), breakdown: undefined }))
      : store.dayModelRows(tenantId, period).then((rows) => ({
          found: rows.length > 0,
          totals: totalOf(rows),
          breakdown: by === undefined ? undefined : breakdownOf(rows, by),
        })),
  ]);
  // Only an empty answer needs the existence check: zero spend for a known tenant, 404 otherwise.
  if (!counted.found && !own && !(await store.tenantExists(tenantId))) return undefined;
  return spendOf({
    tenantId,
    period: "month" in period ? period.month : period.day,
    totals: counted.totals,
    budget: own ?? defaultBudget,
    ...(counted.breakdown ? { breakdown: counted.breakdown } : {}),
  });
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
