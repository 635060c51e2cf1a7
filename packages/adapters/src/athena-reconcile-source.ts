/**
 * Both sides of the reconciliation on AWS, read with Athena (`ReconcileSource` of
 * `pipeline/reconcile-job.ts`):
 *
 * - the bill: the Glue table over the account's CUR 2.0 export (stacks/Reconcile.ts, partition
 *   projection on `billing_period`), its Bedrock line items summed by day, usage type, product,
 *   billing entity, line item type and pricing unit, as `readCur` sums a local export;
 * - the logs: the usage table of the lake, each invocation once (a row Firehose delivered twice
 *   counts once), summed by what prices it (`LogUsageGroup`), so that a day of millions of
 *   invocations comes back as a few hundred rows, priced exactly in the function.
 *
 * Money and amounts are summed as decimals in SQL and come back as decimal text. A Parquet export
 * types amounts and costs as doubles, rates as strings, the usage start as a timestamp and
 * `product` as a map; a CSV export has text only, `product` as JSON. The SQL is Athena's (Trino)
 * dialect and runs unchanged on the local lake's DuckDB with its Trino shims, which is how it is
 * tested.
 */
import {
  BEDROCK_PRODUCT_CODES,
  BedrockSpendError,
  type BillGroup,
  CLASS_BITS,
  type DayKey,
  type LogUsageGroup,
  MARKETPLACE_EDITION,
  monthsBetween,
  nextUtcDay,
  parseSignedDecimal,
  utcDaysBetween,
} from "@bedrock-spend/core";
import { AthenaQueries, type AthenaQueriesOptions } from "./athena-queries";

/** The CUR table's format, and for CSV the columns it declares (a CSV table maps columns by position). */
export type CurTableFormat = { kind: "parquet" } | { kind: "csv"; columns: readonly string[] };

/** Where the two tables are. */
export interface AthenaReconcileSourceOptions extends AthenaQueriesOptions {
  /** The Glue table over the CUR 2.0 export. */
  curTable: string;
  curFormat: CurTableFormat;
  /** The lake's usage table. */
  usageTable: string;
}

/** A result row Athena returned that is not what the query selects. */
export class ReconcileQueryError extends BedrockSpendError {
  constructor(message: string) {
    super(message);
    this.name = "ReconcileQueryError";
  }
}

/** Optional columns the query reads when the table has them. */
export const OPTIONAL_CUR_COLUMNS = ["bill_billing_entity", "pricing_unit", "line_item_net_unblended_cost", "line_item_unblended_rate", "product"] as const;

const sqlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The query summing the Bedrock line items of `from`..`to` (UTC days of the usage start), as
 * `readCur` does locally: the same columns, the same filters.
 */
export function billGroupsSql(table: string, format: CurTableFormat, from: DayKey, to: DayKey): string {
  const has = (name: string) => format.kind === "parquet" || format.columns.includes(name);
  const text = (name: string) => (has(name) ? `CAST(${name} AS VARCHAR)` : "CAST(NULL AS VARCHAR)");
  const start = format.kind === "parquet" ? "line_item_usage_start_date" : "from_iso8601_timestamp(line_item_usage_start_date)";
  const productName = !has("product")
    ? "CAST(NULL AS VARCHAR)"
    : format.kind === "parquet"
      ? "element_at(product, 'product_name')"
      : "json_extract_scalar(product, '$.product_name')";
  // Decimals from doubles (Parquet) or text (CSV); a blank or unreadable rate is no rate.
  const decimal = (name: string, scale: number) => `CAST(${name} AS DECIMAL(38,${scale}))`;
  const net = has("line_item_net_unblended_cost")
    ? `coalesce(TRY_CAST(NULLIF(trim(CAST(line_item_net_unblended_cost AS VARCHAR)), '') AS DECIMAL(38,12)), ${decimal("line_item_unblended_cost", 12)})`
    : decimal("line_item_unblended_cost", 12);
  const rate = has("line_item_unblended_rate")
    ? `regexp_replace(CAST(TRY_CAST(NULLIF(trim(CAST(line_item_unblended_rate AS VARCHAR)), '') AS DECIMAL(38,12)) AS VARCHAR), '\\.?0+$', '')`
    : "CAST(NULL AS VARCHAR)";
  const lines = `SELECT ${start} AS usage_start, line_item_usage_type AS usage_type, line_item_product_code AS product_code, ${productName} AS product_name,
      ${text("bill_billing_entity")} AS billing_entity, line_item_line_item_type AS line_item_type, ${text("pricing_unit")} AS pricing_unit,
      ${decimal("line_item_usage_amount", 9)} AS amount, ${decimal("line_item_unblended_cost", 12)} AS cost, ${net} AS net, ${rate} AS rate
    FROM ${table}
    WHERE billing_period IN (${monthsBetween(from.slice(0, 7), to.slice(0, 7)).map(sqlString).join(", ")})`;
  return `SELECT date_format(usage_start, '%Y-%m-%d') AS day, usage_type, product_code, product_name, billing_entity, line_item_type, pricing_unit,
    CAST(sum(amount) AS VARCHAR) AS amount, CAST(sum(cost) AS VARCHAR) AS cost, CAST(sum(net) AS VARCHAR) AS net,
    array_join(array_sort(array_distinct(array_agg(rate) FILTER (WHERE rate IS NOT NULL))), ',') AS rates,
    max(hour(usage_start)) AS last_hour, count(*) AS line_items
  FROM (${lines}) AS lines
  WHERE usage_start >= from_iso8601_timestamp(${sqlString(`${from}T00:00:00Z`)}) AND usage_start < from_iso8601_timestamp(${sqlString(`${nextUtcDay(to)}T00:00:00Z`)})
    AND (product_code IN (${BEDROCK_PRODUCT_CODES.map(sqlString).join(", ")}) OR product_name LIKE ${sqlString(`%${MARKETPLACE_EDITION}%`)})
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  ORDER BY 1, 2, 3, 4, 5, 6, 7`;
}

/**
 * The query summing the lake's invocations of `from`..`to` by what prices them. Each day is named
 * by its partition values (partition projection reads those partitions only); an invocation is
 * counted once however often the lake holds it.
 */
export function logGroupsSql(table: string, from: DayKey, to: DayKey, thresholds: readonly number[]): string {
  const partitions = utcDaysBetween(from, to)
    .map((day) => `(year = '${day.slice(0, 4)}' AND month = '${day.slice(5, 7)}' AND day = '${day.slice(8, 10)}')`)
    .join(" OR ");
  const bit = (condition: string, value: number) => `(CASE WHEN ${condition} THEN ${value} ELSE 0 END)`;
  const classMask = [
    bit("input_tokens > 0", CLASS_BITS.input),
    bit("output_tokens > 0", CLASS_BITS.output),
    bit("cache_read_tokens > 0", CLASS_BITS.cacheRead),
    bit("cache_write_tokens > 0", CLASS_BITS.cacheWrite),
    bit("cache_write_1h > 0", CLASS_BITS.cacheWrite1h),
  ].join(" + ");
  const contextBucket =
    thresholds.length === 0 ? "0" : thresholds.map((threshold) => bit(`input_tokens + cache_read_tokens + cache_write_tokens > ${threshold}`, 1)).join(" + ");
  return `SELECT day, model_id, model, region, service_tier, latency, ${classMask} AS class_mask, ${contextBucket} AS context_bucket,
    CAST(sum(input_tokens) AS VARCHAR) AS input_tokens, CAST(sum(output_tokens) AS VARCHAR) AS output_tokens,
    CAST(sum(cache_read_tokens) AS VARCHAR) AS cache_read_tokens, CAST(sum(cache_write_tokens) AS VARCHAR) AS cache_write_tokens,
    CAST(sum(cache_write_1h) AS VARCHAR) AS cache_write_1h_tokens
  FROM (
    SELECT DISTINCT request_id, year || '-' || month || '-' || day AS day, model_id, model, region, service_tier, latency,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, coalesce(cache_write_1h_tokens, 0) AS cache_write_1h
    FROM ${table}
    WHERE ${partitions}
  ) AS invocations
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`;
}

/** A result row of `billGroupsSql` as a bill group. */
export function billGroupOf(row: Record<string, string | null>): BillGroup {
  if (row.day === null || row.day === undefined) throw new ReconcileQueryError(`a bill row without a day: ${JSON.stringify(row)}`);
  return {
    day: row.day,
    usageType: row.usage_type ?? "",
    productCode: row.product_code ?? "",
    productName: row.product_name ?? null,
    billingEntity: row.billing_entity ?? null,
    lineItemType: row.line_item_type ?? "",
    pricingUnit: row.pricing_unit ?? null,
    usageAmount: row.amount ?? "0",
    unblendedCostPico: parseSignedDecimal(row.cost ?? "0", 12),
    netCostPico: parseSignedDecimal(row.net ?? "0", 12),
    rates: row.rates ? row.rates.split(",") : [],
    lastHour: Number(row.last_hour ?? 0),
  };
}

/** A result row of `logGroupsSql` as a log usage group. */
export function logUsageGroupOf(row: Record<string, string | null>): LogUsageGroup {
  const count = (name: string) => {
    const value = Number(row[name] ?? "0");
    if (!Number.isSafeInteger(value) || value < 0) throw new ReconcileQueryError(`${name} is not a token count: ${JSON.stringify(row[name])}`);
    return value;
  };
  if (!row.day || !row.model_id) throw new ReconcileQueryError(`a log row without a day or model: ${JSON.stringify(row)}`);
  return {
    day: row.day,
    modelId: row.model_id,
    model: row.model ?? null,
    region: row.region ?? null,
    serviceTier: row.service_tier ?? null,
    latency: row.latency ?? null,
    classMask: count("class_mask"),
    contextBucket: count("context_bucket"),
    inputTokens: count("input_tokens"),
    outputTokens: count("output_tokens"),
    cacheReadTokens: count("cache_read_tokens"),
    cacheWriteTokens: count("cache_write_tokens"),
    cacheWrite1hTokens: count("cache_write_1h_tokens"),
  };
}

/** The bill and the logs through Athena. */
export class AthenaReconcileSource {
  private readonly queries: AthenaQueries;

  constructor(private readonly options: AthenaReconcileSourceOptions) {
    this.queries = new AthenaQueries(options);
  }

  /** The Bedrock line items of `from`..`to`, summed. */
  async billGroups(from: DayKey, to: DayKey): Promise<BillGroup[]> {
    const rows = await this.queries.select(billGroupsSql(this.qualified(this.options.curTable), this.options.curFormat, from, to));
    return rows.map(billGroupOf);
  }

  /** The lake's invocations of `from`..`to`, summed by what prices them. */
  async logGroups(from: DayKey, to: DayKey, thresholds: readonly number[]): Promise<LogUsageGroup[]> {
    const rows = await this.queries.select(logGroupsSql(this.qualified(this.options.usageTable), from, to, thresholds));
    return rows.map(logUsageGroupOf);
  }

  private qualified(table: string): string {
    return `"${this.options.database}"."${table}"`;
  }
}
