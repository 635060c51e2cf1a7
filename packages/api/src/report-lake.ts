/**
 * The cross-tenant report from the lake: what the aggregates cannot rank without a write per
 * counter update (spend by model across tenants, a tenant ranking over days or several months).
 *
 * One statement in the portable subset of the dashboard views (`@bedrock-spend/core` views.ts), so
 * that it runs unchanged on Athena and on the local DuckDB lake: the days named by their partition
 * values (partition projection reads those partitions only), each request id once however often
 * the lake holds it (the lake on AWS is at least once), summed by group. Money is summed as a
 * decimal in SQL and read back as decimal text into pico-dollars, never a float. Groups are what
 * the aggregates count: a record without the dimension's value is in no group, and a model is the
 * resolved model, else `unresolved:<model id>`.
 *
 * Freshness: the lake holds an invocation once Firehose delivered its buffer (1 to 15 minutes on
 * AWS, a few seconds locally); `asOf` is the newest `event_time` of the period the lake holds.
 */
import { BedrockSpendError, emptyCounters, parseUsd, UNRESOLVED_MODEL_PREFIX, type UsageCounters, utcDaysBetween } from "@bedrock-spend/core";
import type { ReportGroupBy } from "./schemas";

/** Runs one statement on the lake and gives its rows, every value as text (null for SQL NULL). */
export type LakeQuery = (sql: string) => Promise<Record<string, string | null>[]>;

/** The lake's sums by group of the invocations of days `from`..`to` (YYYY-MM-DD, inclusive). */
export type ReportLake = (groupBy: ReportGroupBy, from: string, to: string) => Promise<LakeGroups>;

/** The report lake of a SQL engine over the lake (Athena, or DuckDB locally): `lakeReportSql`, read by `lakeGroupsOf`. */
export function sqlReportLake(query: LakeQuery, table = "invocations"): ReportLake {
  return async (groupBy, from, to) => lakeGroupsOf(await query(lakeReportSql(table, groupBy, from, to)));
}

/** A row of the lake report that cannot be read as a group. */
export class LakeReportError extends BedrockSpendError {
  readonly column: string;

  constructor(column: string, reason: string) {
    super(`lake report: column ${column} ${reason}`);
    this.name = "LakeReportError";
    this.column = column;
  }
}

/** The lake column (or expression) naming each group. */
const GROUP_EXPRESSION: Readonly<Record<ReportGroupBy, string>> = {
  tenant: "tenant_id",
  tenantGroup: "tenant_group",
  department: "department_id",
  application: "application_id",
  user: "user_id",
  model: `coalesce(model, '${UNRESOLVED_MODEL_PREFIX}' || model_id)`,
};

/** The statement summing the lake's invocations of `from`..`to` by group. Dates are validated upstream (YYYY-MM-DD). */
export function lakeReportSql(table: string, groupBy: ReportGroupBy, from: string, to: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) throw new LakeReportError("period", `must be days, got ${from}..${to}`);
  // Whole months by month partition, other days by day partition: a year is 12 terms, not 365.
  const terms: string[] = [];
  const days = utcDaysBetween(from, to);
  const byMonth = new Map<string, string[]>();
  for (const day of days) byMonth.set(day.slice(0, 7), [...(byMonth.get(day.slice(0, 7)) ?? []), day]);
  for (const [month, monthDays] of byMonth) {
    const [year, monthNumber] = month.split("-").map(Number) as [number, number];
    const inMonth = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
    const partition = `year = '${month.slice(0, 4)}' AND month = '${month.slice(5, 7)}'`;
    if (monthDays.length === inMonth) terms.push(`(${partition})`);
    else terms.push(`(${partition} AND day IN (${monthDays.map((day) => `'${day.slice(8, 10)}'`).join(", ")}))`);
  }
  return `SELECT group_key, CAST(count(*) AS VARCHAR) AS invocations,
    CAST(sum(CASE WHEN status = 'priced' THEN 0 ELSE 1 END) AS VARCHAR) AS unpriced_invocations,
    CAST(sum(input_tokens) AS VARCHAR) AS input_tokens, CAST(sum(output_tokens) AS VARCHAR) AS output_tokens,
    CAST(sum(cache_read_tokens) AS VARCHAR) AS cache_read_tokens, CAST(sum(cache_write_tokens) AS VARCHAR) AS cache_write_tokens,
    CAST(sum(CASE WHEN status = 'priced' THEN cost_usd ELSE NULL END) AS VARCHAR) AS cost_usd, CAST(max(event_time) AS VARCHAR) AS newest
  FROM (
    SELECT DISTINCT request_id, ${GROUP_EXPRESSION[groupBy]} AS group_key, status, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, event_time
    FROM ${table}
    WHERE ${terms.join(" OR ")}
  ) AS invocations
  WHERE group_key IS NOT NULL
  GROUP BY group_key`;
}

/** What the lake report gives: the groups' sums and the newest invocation it holds (ISO 8601), null when none. */
export interface LakeGroups {
  groups: Map<string, UsageCounters>;
  asOf: string | null;
}

/** Reads the rows of `lakeReportSql` as exact group sums. */
export function lakeGroupsOf(rows: readonly Record<string, string | null>[]): LakeGroups {
  const groups = new Map<string, UsageCounters>();
  let newest: string | null = null;
  const integer = (row: Record<string, string | null>, column: string): number => {
    const text = row[column] ?? "0";
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new LakeReportError(column, `is not a count: ${text.slice(0, 40)}`);
    return Number(text);
  };
  for (const row of rows) {
    const key = row.group_key;
    if (key === null || key === undefined) continue;
    // Trino writes a decimal sum with its scale ("0.000320000000"); a sum of nothing is NULL.
    const costPico = row.cost_usd === null || row.cost_usd === undefined ? 0n : parseUsd(row.cost_usd);
    if (costPico === undefined) throw new LakeReportError("cost_usd", `is not a decimal of at most 12 digits: ${String(row.cost_usd).slice(0, 40)}`);
    const counters = emptyCounters();
    counters.invocations = integer(row, "invocations");
    counters.unpricedInvocations = integer(row, "unpriced_invocations");
    counters.inputTokens = integer(row, "input_tokens");
    counters.outputTokens = integer(row, "output_tokens");
    counters.cacheReadTokens = integer(row, "cache_read_tokens");
    counters.cacheWriteTokens = integer(row, "cache_write_tokens");
    counters.costPico = costPico;
    groups.set(key, counters);
    const time = row.newest === null || row.newest === undefined ? null : isoOfTimestamp(row.newest);
    if (time !== null && (newest === null || time > newest)) newest = time;
  }
  return { groups, asOf: newest };
}

/**
 * A timestamp as the engines write it as text (Trino `2026-11-03 08:00:00.000`, DuckDB
 * `2026-11-03 08:00:00`, or ISO 8601) as ISO 8601 UTC to the second.
 */
function isoOfTimestamp(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(text);
  if (!match) throw new LakeReportError("newest", `is not a timestamp: ${text.slice(0, 40)}`);
  return `${match[1]}T${match[2]}Z`;
}
