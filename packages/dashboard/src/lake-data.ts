/**
 * The dashboard's data in local mode: SQL over the lake (`invocations`, through LocalAthena) and
 * the fired alerts of the aggregates table. Same semantics, to the pico-dollar, as the reference
 * implementation over usage records (test/reference/memory-data.ts): periods are the UTC calendar
 * periods of `event_time`, a record without a tenant group or department is keyed `(none)`, a
 * record whose model did not resolve `unresolved:<model_id>`, unpriced invocations count in tokens
 * and invocations but not in cost, and cost by token class is the sum of the per-class cost columns
 * the pricer wrote (null when a priced invocation of the selection has none: files written before them).
 *
 * One statement per answer: a `GROUPING SETS` query gives the totals and the five breakdowns at
 * once; the top-N cut is the dashboard package's, shared by every source.
 */
import {
  addCounters,
  byCodeUnit,
  type Clock,
  emptyCounters,
  modelPerformanceMeasures,
  parseUsd,
  systemClock,
  UNRESOLVED_MODEL_PREFIX,
  type UsageCounters,
} from "@bedrock-spend/core";
import { type JsonValue, type LocalAthena, sqlString } from "@bedrock-spend/local-lake";
import { alertsSince, breakdownRows, byPerformanceOrder, type ClassCosts, costOverTimeOf, tokenClassRows, totalsOf } from "./summary";
import {
  type AlertItem,
  type DashboardData,
  type DashboardFilters,
  type DashboardResponse,
  type FilterOptions,
  type ModelPerformanceRow,
  NONE_KEY,
} from "./types";

/** Options of the local dashboard data. */
export interface LocalDashboardDataOptions {
  athena: LocalAthena;
  /** Fired alerts, newest first. */
  alerts: () => readonly AlertItem[];
  now?: Clock;
  /** Most recent alerts answered when `since` is absent. Default 50. */
  recentAlerts?: number;
}

/** `modelKeyOf` in SQL: the base model, or `unresolved:<model id as logged>`. */
const MODEL_KEY = `COALESCE(model, ${sqlString(UNRESOLVED_MODEL_PREFIX)} || model_id)`;

function whereOf(filters: DashboardFilters): string {
  const conditions = ["true"];
  if (filters.year !== null) conditions.push(`year(event_time) = ${Math.trunc(filters.year)}`);
  if (filters.month !== null) conditions.push(`month(event_time) = ${Math.trunc(filters.month)}`);
  if (filters.tenant !== null) conditions.push(`tenant_id = ${sqlString(filters.tenant)}`);
  if (filters.model !== null) conditions.push(`${MODEL_KEY} = ${sqlString(filters.model)}`);
  return conditions.join(" AND ");
}

/** The query behind `dashboard()`: one row per (dimension, key), plus the grand total (`all`). */
export function dashboardSql(filters: DashboardFilters): string {
  return `WITH selection AS (
  SELECT
    COALESCE(tenant_group, ${sqlString(NONE_KEY)}) AS k_group,
    tenant_id AS k_tenant,
    COALESCE(department_id, ${sqlString(NONE_KEY)}) AS k_department,
    ${MODEL_KEY} AS k_model,
    strftime(event_time, '%Y-%m-%d') AS k_day,
    CASE WHEN status = 'priced' AND cost_usd IS NOT NULL THEN 0 ELSE 1 END AS unpriced_flag,
    CASE WHEN status = 'priced' THEN cost_usd END AS priced_cost,
    CASE WHEN status = 'priced' THEN input_cost_usd END AS priced_input_cost,
    CASE WHEN status = 'priced' THEN output_cost_usd END AS priced_output_cost,
    CASE WHEN status = 'priced' THEN cache_read_cost_usd END AS priced_cache_read_cost,
    CASE WHEN status = 'priced' THEN cache_write_cost_usd END AS priced_cache_write_cost,
    CASE WHEN status = 'priced' AND cost_usd IS NOT NULL AND (input_cost_usd IS NULL OR output_cost_usd IS NULL OR cache_read_cost_usd IS NULL OR cache_write_cost_usd IS NULL) THEN 1 ELSE 0 END AS unsplit_flag,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
  FROM invocations
  WHERE ${whereOf(filters)}
)
SELECT
  CASE WHEN GROUPING(k_group) = 0 THEN 'group' WHEN GROUPING(k_tenant) = 0 THEN 'tenant' WHEN GROUPING(k_department) = 0 THEN 'department'
       WHEN GROUPING(k_model) = 0 THEN 'model' WHEN GROUPING(k_day) = 0 THEN 'day' ELSE 'all' END AS dimension,
  COALESCE(k_group, k_tenant, k_department, k_model, k_day) AS key,
  COUNT(*) AS invocations,
  CAST(COALESCE(SUM(unpriced_flag), 0) AS BIGINT) AS unpriced_invocations,
  CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens,
  CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens,
  CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens,
  CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens,
  SUM(priced_cost) AS cost_usd,
  SUM(priced_input_cost) AS input_cost_usd,
  SUM(priced_output_cost) AS output_cost_usd,
  SUM(priced_cache_read_cost) AS cache_read_cost_usd,
  SUM(priced_cache_write_cost) AS cache_write_cost_usd,
  CAST(COALESCE(SUM(unsplit_flag), 0) AS BIGINT) AS unsplit_invocations,
  (SELECT max(event_time) FROM invocations) AS latest_event_time
FROM selection
GROUP BY GROUPING SETS ((k_group), (k_tenant), (k_department), (k_model), (k_day), ())`;
}

/**
 * The query behind `performance()`: the measures of the `model_performance_daily` view (DuckDB
 * dialect, from the core, so the panel and the view cannot disagree), per model over the selection.
 */
export function performanceSql(filters: DashboardFilters): string {
  const measures = modelPerformanceMeasures("duckdb").map(({ name, expression }) => `  ${expression} AS ${name}`);
  return `SELECT
  ${MODEL_KEY} AS model,
${measures.join(",\n")}
FROM invocations
WHERE ${whereOf(filters)}
GROUP BY 1`;
}

/** The query behind `filters()`. */
export const FILTERS_SQL = `SELECT 'month' AS kind, strftime(event_time, '%Y-%m') AS value FROM invocations GROUP BY 2
UNION ALL SELECT 'tenant' AS kind, tenant_id AS value FROM invocations GROUP BY 2
UNION ALL SELECT 'model' AS kind, ${MODEL_KEY} AS value FROM invocations GROUP BY 2`;

function integer(value: JsonValue | undefined, column: string): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number))
    throw new Error(`dashboard query: ${column} is not a safe integer: ${JSON.stringify(value)}`);
  return number;
}

function ratio(value: JsonValue | undefined, column: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`dashboard query: ${column} is not a number: ${JSON.stringify(value)}`);
  return value;
}

function optional<T>(value: JsonValue | undefined, read: (present: JsonValue) => T): T | null {
  return value === null || value === undefined ? null : read(value);
}

function pico(value: JsonValue | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  const parsed = typeof value === "string" ? parseUsd(value) : undefined;
  if (parsed === undefined) throw new Error(`dashboard query: cost ${JSON.stringify(value)} is not a decimal USD amount`);
  return parsed;
}

/** The local dashboard data source. */
export function createLocalDashboardData(options: LocalDashboardDataOptions): DashboardData {
  const now = options.now ?? systemClock;
  return {
    async dashboard(filters: DashboardFilters): Promise<DashboardResponse> {
      const { rows } = await options.athena.query(dashboardSql(filters));
      const total = emptyCounters();
      const maps = {
        group: new Map<string, UsageCounters>(),
        tenant: new Map<string, UsageCounters>(),
        department: new Map<string, UsageCounters>(),
        model: new Map<string, UsageCounters>(),
      };
      const days = new Map<string, UsageCounters>();
      let latest: string | null = null;
      let classCosts: ClassCosts = null;
      for (const row of rows) {
        const counters: UsageCounters = {
          invocations: integer(row.invocations, "invocations"),
          unpricedInvocations: integer(row.unpriced_invocations, "unpriced_invocations"),
          inputTokens: integer(row.input_tokens, "input_tokens"),
          outputTokens: integer(row.output_tokens, "output_tokens"),
          cacheReadTokens: integer(row.cache_read_tokens, "cache_read_tokens"),
          cacheWriteTokens: integer(row.cache_write_tokens, "cache_write_tokens"),
          costPico: pico(row.cost_usd),
        };
        if (typeof row.latest_event_time === "string") latest = row.latest_event_time;
        const key = typeof row.key === "string" ? row.key : "";
        switch (row.dimension) {
          case "all":
            addCounters(total, counters);
            // Split by class only when every priced invocation of the selection carries its class costs (files written before the columns do not).
            classCosts =
              integer(row.unsplit_invocations, "unsplit_invocations") > 0
                ? null
                : {
                    input: pico(row.input_cost_usd),
                    output: pico(row.output_cost_usd),
                    cacheRead: pico(row.cache_read_cost_usd),
                    cacheWrite: pico(row.cache_write_cost_usd),
                  };
            break;
          case "day":
            days.set(key, counters);
            break;
          case "group":
          case "tenant":
          case "department":
          case "model":
            maps[row.dimension].set(key, counters);
            break;
        }
      }
      if (rows.length === 0) latest = await latestEventTime(options.athena);
      const anyPriced = total.invocations - total.unpricedInvocations > 0;
      return {
        filters: { ...filters },
        generatedAt: new Date(now()).toISOString(),
        latestEventTime: latest,
        kpis: { ...totalsOf(total), tenants: maps.tenant.size, models: maps.model.size },
        byTenantGroup: breakdownRows(maps.group),
        byTenant: breakdownRows(maps.tenant),
        byDepartment: breakdownRows(maps.department),
        byModel: breakdownRows(maps.model),
        costOverTime: costOverTimeOf(days),
        byTokenClass: tokenClassRows(total, anyPriced ? classCosts : { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n }),
      };
    },

    async performance(filters: DashboardFilters): Promise<ModelPerformanceRow[]> {
      const { rows } = await options.athena.query(performanceSql(filters));
      return rows
        .map(
          (row): ModelPerformanceRow => ({
            model: typeof row.model === "string" ? row.model : "",
            invocations: integer(row.invocations, "invocations"),
            errors: integer(row.errors, "errors"),
            throttles: integer(row.throttles, "throttles"),
            errorRate: ratio(row.error_rate, "error_rate"),
            throttleRate: ratio(row.throttle_rate, "throttle_rate"),
            timedInvocations: integer(row.timed_invocations, "timed_invocations"),
            latencyP50Ms: optional(row.latency_p50_ms, (value) => integer(value, "latency_p50_ms")),
            latencyP90Ms: optional(row.latency_p90_ms, (value) => integer(value, "latency_p90_ms")),
            latencyP99Ms: optional(row.latency_p99_ms, (value) => integer(value, "latency_p99_ms")),
            outputTokensPerSecond: optional(row.output_tokens_per_second, (value) => ratio(value, "output_tokens_per_second")),
            optimizedShare: ratio(row.optimized_share, "optimized_share"),
          }),
        )
        .sort(byPerformanceOrder);
    },

    async filters(): Promise<FilterOptions> {
      const { rows } = await options.athena.query(FILTERS_SQL);
      const months: string[] = [];
      const tenants: string[] = [];
      const models: string[] = [];
      for (const row of rows) {
        if (typeof row.value !== "string") continue;
        if (row.kind === "month") months.push(row.value);
        else if (row.kind === "tenant") tenants.push(row.value);
        else if (row.kind === "model") models.push(row.value);
      }
      months.sort(byCodeUnit).reverse();
      return {
        years: [...new Set(months.map((month) => Number(month.slice(0, 4))))],
        months,
        tenants: tenants.sort(byCodeUnit),
        models: models.sort(byCodeUnit),
      };
    },

    async alerts(since?: string): Promise<AlertItem[]> {
      return alertsSince(options.alerts(), since, options.recentAlerts ?? 50);
    },
  };
}

async function latestEventTime(athena: LocalAthena): Promise<string | null> {
  const { rows } = await athena.query("SELECT max(event_time) AS latest FROM invocations");
  const value = rows[0]?.latest;
  return typeof value === "string" ? value : null;
}
