/**
 * The reference implementation of `DashboardData`, a test oracle: an in-memory source over usage
 * records (the lake's rows) with the semantics every source must have (filters, breakdowns, top N,
 * exact sums), written plainly over the records so that the SQL of the lake source is checked
 * against it; and a `SpendApiStore` over the same records and budgets, so that the real spend API
 * handler can answer from it (the browser tests, the SDK's guard tests, the lookup benchmark).
 */
import type { ReportLake, SpendApiStore } from "@bedrock-spend/api";
import {
  addCounters,
  type Budget,
  type BudgetAlert,
  byCodeUnit,
  type Clock,
  countersOf,
  type DayModelRow,
  emptyCounters,
  modelKeyOf,
  parseUsd,
  systemClock,
  TOKEN_CLASSES,
  type TokenClass,
  type UsageCounters,
  type UsageRecord,
} from "@bedrock-spend/core";
import type { PeriodItem } from "@bedrock-spend/store";
import { alertIdOf } from "@bedrock-spend/store/items";
import { alertsSince, breakdownRows, byPerformanceOrder, type ClassCosts, costOverTimeOf, tokenClassRows, totalsOf } from "../../src/summary";
import {
  type AlertItem,
  type DashboardData,
  type DashboardFilters,
  type DashboardResponse,
  type FilterOptions,
  type ModelPerformanceRow,
  NONE_KEY,
} from "../../src/types";

/** Options of the in-memory source. */
export interface MemoryDashboardOptions {
  /** Clock of `generatedAt` and of alerts added without a time. */
  now?: Clock;
  /**
   * Cost of each token class of a priced record, decimal USD; null (or absent) when unknown. When
   * any priced record of a selection has no split, the selection's class costs are null. Default:
   * the record's per-class cost columns (null when one is null).
   */
  classCosts?: (record: UsageRecord) => Partial<Record<TokenClass, string>> | null;
  /** Most recent alerts answered when `since` is absent. Default 50. */
  recentAlerts?: number;
}

/** The in-memory source, with the means to feed it. */
export interface MemoryDashboardData extends DashboardData {
  /** Adds usage records; a `request_id` already held is ignored (exactly once). */
  add(...records: UsageRecord[]): void;
  /** Records an alert as fired at `firedAt` (default: now) and returns its feed item. */
  addAlert(alert: BudgetAlert, firedAt?: Date): AlertItem;
  /** The spend API's view of the same records, plus budgets. */
  readonly spendStore: SpendApiStore;
  /** The spend API's lake over the same records (spend by model, tenant rankings over days). */
  readonly reportLake: ReportLake;
  /** Number of records held. */
  readonly size: number;
}

interface Held {
  record: UsageRecord;
  counters: UsageCounters;
  classCosts: ClassCosts;
  model: string;
  year: number;
  month: number;
  day: string;
}

function costPicoOf(record: UsageRecord): bigint | null {
  if (record.status !== "priced" || record.cost_usd === null) return null;
  const pico = parseUsd(record.cost_usd);
  if (pico === undefined) throw new Error(`record ${record.request_id}: cost_usd ${JSON.stringify(record.cost_usd)} is not a decimal USD amount`);
  return pico;
}

function classCostsOf(record: UsageRecord, split: MemoryDashboardOptions["classCosts"]): ClassCosts {
  if (record.status !== "priced") return { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
  // By default the record's own per-class cost columns, as the pricer wrote them.
  const given = split
    ? split(record)
    : record.input_cost_usd === null || record.output_cost_usd === null || record.cache_read_cost_usd === null || record.cache_write_cost_usd === null
      ? null
      : { input: record.input_cost_usd, output: record.output_cost_usd, cacheRead: record.cache_read_cost_usd, cacheWrite: record.cache_write_cost_usd };
  if (!given) return null;
  const costs = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
  for (const tokenClass of TOKEN_CLASSES) {
    const text = given[tokenClass];
    if (text === undefined) continue;
    const pico = parseUsd(text);
    if (pico === undefined) throw new Error(`record ${record.request_id}: ${tokenClass} cost ${JSON.stringify(text)} is not a decimal USD amount`);
    costs[tokenClass] = pico;
  }
  return costs;
}

/** The `fraction` percentile of sorted latencies by nearest rank (an observed value), as DuckDB's quantile_disc; null for none. */
function nearestRank(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(sorted.length * fraction) - 1)] as number;
}

/** A model's performance row by definition, over its records. */
function performanceRowOf(model: string, records: readonly UsageRecord[]): ModelPerformanceRow {
  const errors = records.filter((record) => record.error_code !== null).length;
  const throttles = records.filter((record) => record.error_code === "ThrottlingException").length;
  const timed = records.filter((record) => record.latency_ms !== null);
  const latencies = timed.map((record) => record.latency_ms as number).sort((a, b) => a - b);
  const latencySum = latencies.reduce((sum, latency) => sum + latency, 0);
  const outputTokens = timed.reduce((sum, record) => sum + record.output_tokens, 0);
  return {
    model,
    invocations: records.length,
    errors,
    throttles,
    errorRate: errors / records.length,
    throttleRate: throttles / records.length,
    timedInvocations: timed.length,
    latencyP50Ms: nearestRank(latencies, 0.5),
    latencyP90Ms: nearestRank(latencies, 0.9),
    latencyP99Ms: nearestRank(latencies, 0.99),
    outputTokensPerSecond: latencySum === 0 ? null : (outputTokens * 1000) / latencySum,
    optimizedShare: records.filter((record) => record.performance_tier === "optimized").length / records.length,
  };
}

function bump(map: Map<string, UsageCounters>, key: string, counters: UsageCounters): void {
  const sum = map.get(key) ?? emptyCounters();
  map.set(key, addCounters(sum, counters));
}

/** Creates an empty in-memory source. */
export function createMemoryDashboardData(options: MemoryDashboardOptions = {}): MemoryDashboardData {
  const now = options.now ?? systemClock;
  const held: Held[] = [];
  const ids = new Set<string>();
  const alerts: AlertItem[] = [];
  const budgets = new Map<string, Budget>();
  let latestEventTime: string | null = null;

  function matches(entry: Held, filters: DashboardFilters): boolean {
    return (
      (filters.year === null || entry.year === filters.year) &&
      (filters.month === null || entry.month === filters.month) &&
      (filters.tenant === null || entry.record.tenant_id === filters.tenant) &&
      (filters.model === null || entry.model === filters.model)
    );
  }

  function rowsOf(tenantId: string, period: { month: string } | { day: string }): DayModelRow[] {
    const prefix = "month" in period ? period.month : period.day;
    const sums = new Map<string, { day: string; model: string; counters: UsageCounters }>();
    for (const entry of held) {
      if (entry.record.tenant_id !== tenantId || !entry.day.startsWith(prefix)) continue;
      const key = `${entry.day}\u0000${entry.model}`;
      const sum = sums.get(key) ?? { day: entry.day, model: entry.model, counters: emptyCounters() };
      addCounters(sum.counters, entry.counters);
      sums.set(key, sum);
    }
    return [...sums.values()].map(({ day, model, counters }) => ({ day, model, counters: { ...counters } }));
  }

  /** Every tenant's month total: what the rank entries point at, all in one bucket (a superset of any page's candidates). */
  function monthTotals(month: string): Map<string, UsageCounters> {
    const totals = new Map<string, UsageCounters>();
    for (const entry of held) if (entry.day.startsWith(`${month}-`)) bump(totals, entry.record.tenant_id, entry.counters);
    return totals;
  }

  /** The lake's sums by group of days `from`..`to`, plainly over the records: the oracle of the SQL report. */
  const reportLake: ReportLake = async (groupBy, from, to) => {
    const groups = new Map<string, UsageCounters>();
    let asOf: string | null = null;
    const field = { tenant: "tenant_id", tenantGroup: "tenant_group", department: "department_id", application: "application_id", user: "user_id" } as const;
    for (const entry of held) {
      if (entry.day < from || entry.day > to) continue;
      const key = groupBy === "model" ? entry.model : entry.record[field[groupBy]];
      if (typeof key !== "string") continue;
      bump(groups, key, entry.counters);
      const time = `${entry.record.event_time.slice(0, 19)}Z`;
      if (asOf === null || time > asOf) asOf = time;
    }
    return { groups, asOf };
  };

  const spendStore: SpendApiStore = {
    async rankComplete() {
      // Every total is in memory: each month ranks whole.
      return true;
    },
    async rankCandidates(month) {
      const tenantIds = [...monthTotals(month).keys()];
      return { tenantIds, buckets: tenantIds.length > 0 ? 1 : 0 };
    },
    async rankedTotals(month, tenantIds) {
      const totals = monthTotals(month);
      return tenantIds.flatMap((tenantId) => {
        const counters = totals.get(tenantId);
        return counters ? [{ tenantId, counters, updatedAt: undefined }] : [];
      });
    },
    async monthTotalTimed(tenantId, month) {
      const rows = rowsOf(tenantId, { month });
      if (rows.length === 0) return undefined;
      const total = emptyCounters();
      for (const row of rows) addCounters(total, row.counters);
      return { counters: { ...total }, updatedAt: undefined };
    },
    async breakdownRows() {
      return [];
    },
    // The by-period index as the report reads it: a month's totals or a day's day x model items of
    // every tenant (no breakdowns: this source writes none).
    async periodItems(period, selector) {
      if (selector.kind === "breakdown") return [];
      const items = new Map<string, PeriodItem>();
      for (const entry of held) {
        if (selector.kind === "month" ? !entry.day.startsWith(`${period}-`) : entry.day !== period) continue;
        const key = selector.kind === "month" ? undefined : entry.model;
        const id = `${entry.record.tenant_id}\u0000${key ?? ""}`;
        const item = items.get(id) ?? { tenantId: entry.record.tenant_id, key, counters: emptyCounters(), updatedAt: undefined };
        addCounters(item.counters, entry.counters);
        items.set(id, item);
      }
      return [...items.values()];
    },
    async alerts() {
      return [];
    },
    async dayModelRows(tenantId, period) {
      return rowsOf(tenantId, period);
    },
    async tenantExists(tenantId) {
      return budgets.has(tenantId) || held.some((entry) => entry.record.tenant_id === tenantId);
    },
    async getBudget(tenantId) {
      const budget = budgets.get(tenantId);
      return budget ? { monthlyUsd: budget.monthlyUsd, thresholds: [...budget.thresholds] } : undefined;
    },
    async putBudget(tenantId, budget) {
      budgets.set(tenantId, { monthlyUsd: budget.monthlyUsd, thresholds: [...budget.thresholds] });
    },
    async deleteBudget(tenantId) {
      return budgets.delete(tenantId);
    },
  };

  return {
    spendStore,
    reportLake,
    get size() {
      return held.length;
    },

    add(...records) {
      for (const record of records) {
        if (ids.has(record.request_id)) continue;
        ids.add(record.request_id);
        const day = record.event_time.slice(0, 10);
        held.push({
          record,
          counters: countersOf(record, costPicoOf(record)),
          classCosts: classCostsOf(record, options.classCosts),
          model: modelKeyOf(record),
          year: Number(day.slice(0, 4)),
          month: Number(day.slice(5, 7)),
          day,
        });
        if (latestEventTime === null || record.event_time > latestEventTime) latestEventTime = record.event_time;
      }
    },

    addAlert(alert, firedAt = new Date(now())) {
      const item: AlertItem = { ...alert, alertId: alertIdOf(alert), firedAt: firedAt.toISOString() };
      // Fired once: a second delivery of the same alert is not a new alert.
      if (!alerts.some((existing) => existing.alertId === item.alertId)) alerts.push(item);
      return item;
    },

    async dashboard(filters): Promise<DashboardResponse> {
      const total = emptyCounters();
      let classCosts: ClassCosts = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
      const groups = new Map<string, UsageCounters>();
      const tenants = new Map<string, UsageCounters>();
      const departments = new Map<string, UsageCounters>();
      const models = new Map<string, UsageCounters>();
      const days = new Map<string, UsageCounters>();
      for (const entry of held) {
        if (!matches(entry, filters)) continue;
        const { record, counters } = entry;
        addCounters(total, counters);
        if (classCosts !== null) {
          const split = entry.classCosts;
          if (split === null) classCosts = null;
          else for (const tokenClass of TOKEN_CLASSES) classCosts[tokenClass] += split[tokenClass];
        }
        bump(groups, record.tenant_group ?? NONE_KEY, counters);
        bump(tenants, record.tenant_id, counters);
        bump(departments, record.department_id ?? NONE_KEY, counters);
        bump(models, entry.model, counters);
        bump(days, entry.day, counters);
      }
      return {
        filters: { ...filters },
        generatedAt: new Date(now()).toISOString(),
        latestEventTime,
        kpis: { ...totalsOf(total), tenants: tenants.size, models: models.size },
        byTenantGroup: breakdownRows(groups),
        byTenant: breakdownRows(tenants),
        byDepartment: breakdownRows(departments),
        byModel: breakdownRows(models),
        costOverTime: costOverTimeOf(days),
        byTokenClass: tokenClassRows(total, classCosts),
      };
    },

    async performance(filters): Promise<ModelPerformanceRow[]> {
      const byModel = new Map<string, UsageRecord[]>();
      for (const entry of held) {
        if (!matches(entry, filters)) continue;
        const records = byModel.get(entry.model);
        if (records) records.push(entry.record);
        else byModel.set(entry.model, [entry.record]);
      }
      return [...byModel.entries()].map(([model, records]) => performanceRowOf(model, records)).sort(byPerformanceOrder);
    },

    async filters(): Promise<FilterOptions> {
      const months = new Set<string>();
      const tenants = new Set<string>();
      const models = new Set<string>();
      for (const entry of held) {
        months.add(entry.day.slice(0, 7));
        tenants.add(entry.record.tenant_id);
        models.add(entry.model);
      }
      const monthList = [...months].sort(byCodeUnit).reverse();
      return {
        years: [...new Set(monthList.map((month) => Number(month.slice(0, 4))))],
        months: monthList,
        tenants: [...tenants].sort(byCodeUnit),
        models: [...models].sort(byCodeUnit),
      };
    },

    async alerts(since) {
      return alertsSince(alerts, since, options.recentAlerts ?? 50);
    },
  };
}
