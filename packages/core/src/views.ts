/**
 * The dashboard views: defined once, in SQL that runs unchanged on Athena (Trino) in AWS and on
 * DuckDB in local mode, over a table named `invocations` whose columns are `USAGE_COLUMNS`.
 *
 * Portable subset, on purpose: `SELECT ... FROM ... GROUP BY <expressions>`, `CAST`, `SUM`,
 * `COUNT`, `COALESCE`, `NULLIF`, `CASE`, `||`, one `WITH` and a `VALUES` list. No `::`, no
 * double-quoted identifiers, no `GROUP BY ALL`, no engine-specific functions but one: a percentile
 * (`model_performance_daily`), which the engines name and compute differently, so that view has a
 * DuckDB text of its own (`duckdbSql`, see `percentile`). Every view groups by the `year` and
 * `month` partition columns and exposes them, so a filter on them in a query over a view reaches
 * the table and prunes partitions (Trino pushes such predicates through the aggregation).
 *
 * Types are pinned: `SUM` of a bigint is a bigint in Trino but a HUGEINT in DuckDB, so token sums
 * are cast to BIGINT; `SUM` of `cost_usd` is decimal(38,12) in both. Each view declares its output
 * columns; a test runs every view in DuckDB and compares them with what the engine reports, and the
 * QuickSight dataset's columns are derived from the same declaration.
 *
 * Unpriced invocations count in `invocations`, `unpriced_invocations` and the token columns, never
 * in `cost_usd` (their `cost_usd` is null, which `SUM` skips): never silently free.
 *
 * Cost by token class is not a view yet: the pricer writes it per invocation (`input_cost_usd`,
 * `output_cost_usd`, `cache_read_cost_usd`, `cache_write_cost_usd`, summing to `cost_usd`), and
 * the local dashboard sums those columns; files written before them hold nulls there, which is why
 * the views keep giving tokens by class (`tokens_by_class`) and cost by model (`cost_by_model`).
 */

/** Name of the usage-record table the views read (the Glue table, and the local DuckDB table). */
export const USAGE_TABLE = "invocations";

/** SQL engines the views run on. */
export type SqlDialect = "athena" | "duckdb";

/** Logical type of a view column: Athena varchar / bigint / decimal(38,12) / date / double (rates, never money). */
export type ViewColumnType = "string" | "bigint" | "decimal" | "date" | "double";

/** One output column of a view. */
export interface ViewColumn {
  readonly name: string;
  readonly type: ViewColumnType;
  readonly doc: string;
}

/** A dashboard view. `sql` is the query (no trailing semicolon) over `invocations`. */
export interface DashboardView {
  readonly name: string;
  readonly description: string;
  /** The query in Athena's dialect, and in DuckDB's unless `duckdbSql` is given. */
  readonly sql: string;
  /** The query in DuckDB's dialect, where it differs from Athena's (a percentile function). */
  readonly duckdbSql?: string;
  readonly columns: readonly ViewColumn[];
}

/** A grouping column of a view: its SQL expression over the usage record, and its output column. */
interface Dimension extends ViewColumn {
  readonly expression: string;
}

/** A measure: an aggregate expression and its output column. */
interface Measure extends ViewColumn {
  readonly expression: string;
}

/**
 * Token classes as the views name them (`token_class` values, `<class>_tokens` columns), in the
 * order of the usage record's token columns. The catalog's `TOKEN_CLASSES` are the camelCase rates.
 */
export const VIEW_TOKEN_CLASSES = ["input", "output", "cache_read", "cache_write"] as const;

/** Value shown for a missing tenant group or department (a group of its own, never dropped). */
export const UNGROUPED = "ungrouped";
export const UNASSIGNED = "unassigned";

const sumBigint = (expression: string) => `CAST(SUM(${expression}) AS BIGINT)`;

const YEAR: Dimension = { name: "year", expression: "year", type: "string", doc: "Partition: YYYY (UTC)" };
const MONTH: Dimension = { name: "month", expression: "month", type: "string", doc: "Partition: MM (UTC)" };
const DAY: Dimension = { name: "day", expression: "day", type: "string", doc: "Partition: DD (UTC)" };
const TENANT: Dimension = { name: "tenant_id", expression: "tenant_id", type: "string", doc: "Tenant (the company); 'unattributed' when untagged" };
const TENANT_GROUP: Dimension = {
  name: "tenant_group",
  expression: `COALESCE(tenant_group, '${UNGROUPED}')`,
  type: "string",
  doc: `Tenant group; '${UNGROUPED}' when the call carried none`,
};
const DEPARTMENT: Dimension = {
  name: "department_id",
  expression: `COALESCE(department_id, '${UNASSIGNED}')`,
  type: "string",
  doc: `Department; '${UNASSIGNED}' when the call carried none`,
};
const MODEL: Dimension = {
  name: "model",
  expression: "COALESCE(model, model_id)",
  type: "string",
  doc: "Base model id; the model id as logged when it did not resolve",
};
const PROFILE: Dimension = { name: "profile", expression: "profile", type: "string", doc: "Inference profile: global, us, eu, ..., none or application" };
const PRICE_VERSION: Dimension = { name: "price_version", expression: "price_version", type: "string", doc: "Price catalog version; null when unpriced" };
const USAGE_DATE: Dimension = { name: "usage_date", expression: "CAST(event_time AS DATE)", type: "date", doc: "Calendar day of the invocation (UTC)" };
const PERIOD: Dimension = {
  name: "period",
  expression: "year || '-' || month",
  type: "string",
  doc: "Calendar month YYYY-MM (UTC), as the spend API names it",
};

const INVOCATIONS: Measure = { name: "invocations", expression: "COUNT(*)", type: "bigint", doc: "Invocations, priced or not" };
const UNPRICED: Measure = {
  name: "unpriced_invocations",
  expression: sumBigint("CASE WHEN status = 'unpriced' THEN 1 ELSE 0 END"),
  type: "bigint",
  doc: "Invocations no price matched: counted in tokens, not in cost_usd",
};
const TOKEN_MEASURES: readonly Measure[] = VIEW_TOKEN_CLASSES.map((tokenClass) => ({
  name: `${tokenClass}_tokens`,
  expression: sumBigint(`${tokenClass}_tokens`),
  type: "bigint",
  doc: `${tokenClass.replace("_", " ")} tokens`,
}));
const TOTAL_TOKENS: Measure = {
  name: "total_tokens",
  expression: sumBigint(VIEW_TOKEN_CLASSES.map((tokenClass) => `${tokenClass}_tokens`).join(" + ")),
  type: "bigint",
  doc: "Tokens of all four classes (input, output, cache read, cache write)",
};
const COST: Measure = { name: "cost_usd", expression: "SUM(cost_usd)", type: "decimal", doc: "Exact cost in USD of the priced invocations" };

/** The measures of every usage view: the fields of `spend --json`, plus total tokens. */
const USAGE_MEASURES: readonly Measure[] = [INVOCATIONS, UNPRICED, ...TOKEN_MEASURES, TOTAL_TOKENS, COST];

function aggregateSql(table: string, dimensions: readonly Dimension[], measures: readonly Measure[]): string {
  const select = [...dimensions, ...measures].map(({ name, expression }) => (expression === name ? name : `${expression} AS ${name}`));
  return [`SELECT`, `  ${select.join(",\n  ")}`, `FROM ${table}`, `GROUP BY`, `  ${dimensions.map((dimension) => dimension.expression).join(",\n  ")}`].join(
    "\n",
  );
}

function aggregateView(name: string, description: string, table: string, dimensions: readonly Dimension[], measures = USAGE_MEASURES): DashboardView {
  return {
    name,
    description,
    sql: aggregateSql(table, dimensions, measures),
    columns: [...dimensions, ...measures].map(({ name: column, type, doc }) => ({ name: column, type, doc })),
  };
}

function tokensByClassView(table: string): DashboardView {
  const dimensions = [YEAR, MONTH, TENANT, MODEL];
  const totals = aggregateSql(table, dimensions, TOKEN_MEASURES);
  const cases = VIEW_TOKEN_CLASSES.map((tokenClass) => `WHEN '${tokenClass}' THEN totals.${tokenClass}_tokens`).join(" ");
  const classes = VIEW_TOKEN_CLASSES.map((tokenClass) => `('${tokenClass}')`).join(", ");
  const sql = [
    `WITH totals AS (`,
    totals.replace(/^/gm, "  "),
    `)`,
    `SELECT`,
    `  ${dimensions.map((dimension) => `totals.${dimension.name}`).join(",\n  ")},`,
    `  CAST(classes.token_class AS VARCHAR) AS token_class,`,
    `  CASE classes.token_class ${cases} END AS tokens`,
    `FROM totals`,
    `CROSS JOIN (VALUES ${classes}) AS classes (token_class)`,
  ].join("\n");
  return {
    name: "tokens_by_class",
    description:
      "Tokens per class (input, output, cache_read, cache_write) by month, tenant and model, one row per class. " +
      "Cost per class is not stored (one exact cost_usd per invocation): it would need the catalog entry that priced each row.",
    sql,
    columns: [
      ...dimensions.map(({ name, type, doc }) => ({ name, type, doc })),
      { name: "token_class", type: "string", doc: `One of ${VIEW_TOKEN_CLASSES.join(", ")}` },
      { name: "tokens", type: "bigint", doc: "Tokens of that class" },
    ],
  };
}

/** Bedrock's errorCode of a throttled call (HTTP 429, `ThrottlingException` in the Bedrock Runtime API). */
export const THROTTLING_ERROR_CODE = "ThrottlingException";

/** Latency percentiles of `model_performance_daily`: output column suffix and fraction. */
export const LATENCY_PERCENTILES = [
  { name: "p50", fraction: 0.5 },
  { name: "p90", fraction: 0.9 },
  { name: "p99", fraction: 0.99 },
] as const;

/**
 * The `fraction` percentile of the bigint `expression`, nulls skipped, as a bigint: Athena's
 * `APPROX_PERCENTILE` (Trino's quantile digest, an observed value within its error bound), DuckDB's
 * `QUANTILE_DISC` (exact, an observed value: the one nearest Trino's answer, of the same type, and
 * deterministic, so tests can assert it; `quantile_cont` would interpolate into a DOUBLE and
 * `approx_quantile` is a t-digest whose answer on a few rows is not an observed value). The local
 * lake is small enough for the exact sort.
 */
export function percentile(expression: string, fraction: number, dialect: SqlDialect): string {
  return dialect === "athena" ? `APPROX_PERCENTILE(${expression}, ${fraction})` : `QUANTILE_DISC(${expression}, ${fraction})`;
}

const countWhen = (condition: string) => sumBigint(`CASE WHEN ${condition} THEN 1 ELSE 0 END`);
/** A share of `COUNT(*)` as a double (Trino and DuckDB both divide a double by a bigint as doubles). */
const shareOf = (condition: string) => `CAST(${countWhen(condition)} AS DOUBLE) / COUNT(*)`;

/**
 * The measures of the performance views, per group of invocations, in a dialect. Latency figures
 * are over the calls whose log says a latency (`latency_ms` not null: Converse and ConverseStream),
 * and so is the throughput: sum(output_tokens) * 1000 / sum(latency_ms) of those calls, null when
 * there are none (or their latencies add up to 0).
 */
export function modelPerformanceMeasures(dialect: SqlDialect): ReadonlyArray<ViewColumn & { readonly expression: string }> {
  return [
    INVOCATIONS,
    { name: "errors", expression: countWhen("error_code IS NOT NULL"), type: "bigint", doc: "Invocations logged with an errorCode" },
    {
      name: "throttles",
      expression: countWhen(`error_code = '${THROTTLING_ERROR_CODE}'`),
      type: "bigint",
      doc: `Invocations throttled (errorCode ${THROTTLING_ERROR_CODE})`,
    },
    { name: "error_rate", expression: shareOf("error_code IS NOT NULL"), type: "double", doc: "errors / invocations" },
    { name: "throttle_rate", expression: shareOf(`error_code = '${THROTTLING_ERROR_CODE}'`), type: "double", doc: "throttles / invocations" },
    { name: "timed_invocations", expression: "COUNT(latency_ms)", type: "bigint", doc: "Invocations whose log says their latency (latency_ms)" },
    ...LATENCY_PERCENTILES.map(({ name, fraction }) => ({
      name: `latency_${name}_ms`,
      expression: percentile("latency_ms", fraction, dialect),
      type: "bigint" as const,
      doc: `${name} of latency_ms, ms (Athena: approximate); null without timed invocations`,
    })),
    {
      name: "output_tokens_per_second",
      expression: "CAST(SUM(CASE WHEN latency_ms IS NOT NULL THEN output_tokens END) AS DOUBLE) * 1000 / NULLIF(SUM(latency_ms), 0)",
      type: "double",
      doc: "Output tokens per second of the timed invocations: sum(output_tokens) * 1000 / sum(latency_ms); null without any",
    },
    {
      name: "optimized_share",
      expression: shareOf("performance_tier = 'optimized'"),
      type: "double",
      doc: "Share of invocations asking for (and served at) optimized latency",
    },
  ];
}

/** The model key of `modelKeyOf` in SQL: the base model, or `unresolved:<model id as logged>`. */
const MODEL_KEY: Dimension = {
  name: "model",
  expression: "COALESCE(model, 'unresolved:' || model_id)",
  type: "string",
  doc: "Base model id; 'unresolved:<model id as logged>' when it did not resolve (modelKeyOf)",
};

function modelPerformanceDailyView(table: string): DashboardView {
  const dimensions = [YEAR, MONTH, DAY, USAGE_DATE, MODEL_KEY];
  const athena = modelPerformanceMeasures("athena");
  return {
    name: "model_performance_daily",
    description:
      "Per model and UTC day: invocations, errors and throttles (errorCode ThrottlingException) and their rates, latency p50/p90/p99 " +
      "(ms, over calls whose log says latency_ms; Athena approx_percentile), output tokens per second and the optimized-latency share.",
    sql: aggregateSql(table, dimensions, athena),
    duckdbSql: aggregateSql(table, dimensions, modelPerformanceMeasures("duckdb")),
    columns: [...dimensions, ...athena].map(({ name, type, doc }) => ({ name, type, doc })),
  };
}

/**
 * The dashboard views over `table` (default `invocations`; pass a qualified name, e.g.
 * `"db"."invocations"` in Athena, to embed a view's query where no default database applies).
 */
export function dashboardViews(table: string = USAGE_TABLE): readonly DashboardView[] {
  return [
    aggregateView("token_usage_by_tenant_group", "Token usage and cost by month and tenant group (the seed's vertical bar chart).", table, [
      YEAR,
      MONTH,
      TENANT_GROUP,
    ]),
    aggregateView("token_usage_by_company", "Token usage and cost by month and company, i.e. tenant (the seed's pie chart).", table, [YEAR, MONTH, TENANT]),
    aggregateView(
      "token_usage_by_department",
      "Token usage and cost by month, tenant and department (the seed's horizontal bar chart); departments are per tenant.",
      table,
      [YEAR, MONTH, TENANT, DEPARTMENT],
    ),
    aggregateView("model_distribution", "Invocations, tokens and cost by month, model and inference profile (the seed's model distribution donut).", table, [
      YEAR,
      MONTH,
      MODEL,
      PROFILE,
    ]),
    aggregateView("daily_cost_trend", "Cost, invocations and tokens per calendar day (UTC) of the invocation.", table, [YEAR, MONTH, USAGE_DATE]),
    tokensByClassView(table),
    aggregateView("cost_by_model", "Cost by month, model, inference profile and price catalog version (which catalog priced which spend).", table, [
      YEAR,
      MONTH,
      MODEL,
      PROFILE,
      PRICE_VERSION,
    ]),
    aggregateView(
      "spend_by_tenant_month",
      "Spend per tenant and calendar month: the same figures as `bedrock-spend spend --json` and the spend API, for reconciliation.",
      table,
      [PERIOD, YEAR, MONTH, TENANT],
    ),
    aggregateView("usage_daily", "Daily rollup by tenant, tenant group, department, model and profile: the QuickSight dashboard's dataset.", table, [
      YEAR,
      MONTH,
      DAY,
      USAGE_DATE,
      TENANT,
      TENANT_GROUP,
      DEPARTMENT,
      MODEL,
      PROFILE,
    ]),
    modelPerformanceDailyView(table),
  ];
}

/** The dashboard views over `invocations`. */
export const DASHBOARD_VIEWS: readonly DashboardView[] = dashboardViews();

/** The view named `name`. @throws RangeError for an unknown name. */
export function dashboardView(name: string, table: string = USAGE_TABLE): DashboardView {
  const view = dashboardViews(table).find((candidate) => candidate.name === name);
  if (!view) throw new RangeError(`unknown dashboard view "${name}"; expected one of ${DASHBOARD_VIEWS.map((known) => known.name).join(", ")}`);
  return view;
}

/**
 * `CREATE OR REPLACE VIEW <name> AS <query>` for a view, one statement, no trailing semicolon
 * (Athena runs one statement per query; DuckDB runs it as is).
 *
 * The SQL is the same for both dialects but where a view has a DuckDB text of its own (a
 * percentile, which the engines name differently).
 */
export function createViewStatement(view: DashboardView, dialect: SqlDialect = "athena"): string {
  return `CREATE OR REPLACE VIEW ${view.name} AS\n${viewSql(view, dialect)}`;
}

/** A view's query in `dialect`. */
export function viewSql(view: DashboardView, dialect: SqlDialect): string {
  return dialect === "duckdb" ? (view.duckdbSql ?? view.sql) : view.sql;
}
