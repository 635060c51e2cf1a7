import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COST_DECIMAL, duckDbType, USAGE_COLUMNS, type UsageColumn, type UsageRecord, UsageRecordSchema } from "../src/usage";
import {
  createViewStatement,
  DASHBOARD_VIEWS,
  type DashboardView,
  dashboardView,
  dashboardViews,
  USAGE_TABLE,
  VIEW_TOKEN_CLASSES,
  type ViewColumnType,
  viewSql,
} from "../src/views";

const COLUMN_NAMES = new Set<string>(USAGE_COLUMNS.map((column) => column.name));

/** SQL words the views may use (upper case: identifiers are lower case, so the two cannot be confused). */
const SQL_WORDS = new Set([
  "SELECT",
  "FROM",
  "WITH",
  "GROUP",
  "BY",
  "CROSS",
  "JOIN",
  "VALUES",
  "CAST",
  "SUM",
  "COUNT",
  "COALESCE",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "IS",
  "NOT",
  "NULL",
  "NULLIF",
  "APPROX_PERCENTILE",
  "QUANTILE_DISC",
]);

/**
 * What a view's SQL defines (relations: CTEs and aliased subqueries; outputs: column aliases) and
 * references (every other identifier). Qualified references `r.c` must name a defined relation and
 * one of its columns; unqualified ones must be SQL words, the usage table, its columns or defined relations.
 */
function analyse(sql: string): { relations: Set<string>; outputs: Set<string>; references: string[] } {
  const relations = new Set<string>();
  const outputs = new Set<string>();
  let text = sql.replace(/'(?:[^']|'')*'/g, "''");
  text = text.replace(/\bAS\s+(BIGINT|VARCHAR|DATE|DOUBLE|DECIMAL\(\d+,\s*\d+\))\s*\)/g, ")");
  text = text.replace(/\b([a-z_]\w*)\s+AS\s*\(/g, (_match, name: string) => {
    relations.add(name);
    return "(";
  });
  text = text.replace(/\)\s*AS\s+([a-z_]\w*)\s*\(([^)]*)\)/g, (_match, name: string, columns: string) => {
    relations.add(name);
    for (const column of columns.split(",")) outputs.add(column.trim());
    return ")";
  });
  text = text.replace(/\bAS\s+([a-z_]\w*)/g, (_match, name: string) => {
    outputs.add(name);
    return " ";
  });
  const references = [...text.matchAll(/[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?/g)].map((match) => match[0]);
  return { relations, outputs, references };
}

/** References of a view's SQL that are neither SQL words, the usage table or its columns, nor names the view defines. */
function unknownReferences(sql: string): string[] {
  const { relations, outputs, references } = analyse(sql);
  return references.filter((reference) => {
    const [first, second] = reference.split(".") as [string, string | undefined];
    // A relation's columns are its aliases and the usage columns it selects as they are.
    if (second !== undefined) return !(relations.has(first) && (outputs.has(second) || COLUMN_NAMES.has(second)));
    return !(SQL_WORDS.has(first) || COLUMN_NAMES.has(first) || relations.has(first) || first === USAGE_TABLE);
  });
}

describe("dashboard views: definitions", () => {
  it("are the dashboard's views, with unique lower-snake-case names and descriptions", () => {
    const names = DASHBOARD_VIEWS.map((view) => view.name);
    expect(names).toEqual([
      "token_usage_by_tenant_group",
      "token_usage_by_company",
      "token_usage_by_department",
      "model_distribution",
      "daily_cost_trend",
      "tokens_by_class",
      "cost_by_model",
      "spend_by_tenant_month",
      "usage_daily",
      "model_performance_daily",
    ]);
    expect(new Set(names).size).toBe(names.length);
    for (const view of DASHBOARD_VIEWS) {
      expect(view.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(view.description.length).toBeGreaterThan(20);
      expect(view.description.length).toBeLessThanOrEqual(1024); // Athena named query description limit
      expect(view.columns.length).toBeGreaterThan(0);
    }
  });

  it("reference only usage-record columns (derived from USAGE_COLUMNS), in both dialects", () => {
    for (const view of DASHBOARD_VIEWS) {
      for (const sql of [viewSql(view, "athena"), viewSql(view, "duckdb")]) {
        expect({ view: view.name, unknown: unknownReferences(sql) }).toEqual({ view: view.name, unknown: [] });
        expect(sql).toMatch(new RegExp(`\\bFROM ${USAGE_TABLE}\\b`));
      }
    }
  });

  it("the column check catches a column the usage record does not have", () => {
    expect(unknownReferences("SELECT tenant, SUM(cost_usd) AS cost_usd FROM invocations GROUP BY tenant")).toEqual(["tenant", "tenant"]);
    expect(unknownReferences("SELECT t.cost FROM invocations")).toEqual(["t.cost"]);
    expect(unknownReferences("SELECT tenant_id, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens FROM invocations GROUP BY tenant_id")).toEqual([]);
  });

  it("declare output columns that match the SELECT list, with year and month to filter partitions on", () => {
    for (const view of DASHBOARD_VIEWS) {
      const { outputs } = analyse(view.sql);
      for (const column of view.columns) {
        // An output is either aliased or a usage column selected as is.
        expect(outputs.has(column.name) || (COLUMN_NAMES.has(column.name) && new RegExp(`\\b${column.name}\\b`).test(view.sql))).toBe(true);
      }
      expect(view.columns.map((column) => column.name)).toEqual(expect.arrayContaining(["year", "month"]));
      expect(new Set(view.columns.map((column) => column.name)).size).toBe(view.columns.length);
    }
  });

  it("keep to SQL that Athena (Trino) and DuckDB share", () => {
    for (const view of DASHBOARD_VIEWS) {
      for (const sql of [viewSql(view, "athena"), viewSql(view, "duckdb")]) {
        expect(sql).not.toMatch(/::|"|`|;/); // casts, quoted identifiers, statement separators
        expect(sql).not.toMatch(/\b(ILIKE|QUALIFY|EXCLUDE|PIVOT|UNPIVOT|GROUP BY ALL|strftime|date_diff|list_|struct_pack)\b/i);
        // `cost` is a keyword in some engines: never an alias.
        expect(sql).not.toMatch(/\bAS cost\b/i);
      }
      // Each engine's percentile only in its own text.
      expect(viewSql(view, "athena")).not.toMatch(/QUANTILE_DISC/i);
      expect(viewSql(view, "duckdb")).not.toMatch(/APPROX_PERCENTILE/i);
    }
  });

  it("produce one CREATE OR REPLACE VIEW per view, the same for both dialects but for the percentile function", () => {
    const athena = DASHBOARD_VIEWS.map((view) => createViewStatement(view, "athena"));
    expect(athena).toHaveLength(DASHBOARD_VIEWS.length);
    expect(DASHBOARD_VIEWS.map((view) => createViewStatement(view, "duckdb").replaceAll("QUANTILE_DISC(", "APPROX_PERCENTILE("))).toEqual(athena);
    expect(DASHBOARD_VIEWS.filter((view) => view.duckdbSql !== undefined).map((view) => view.name)).toEqual(["model_performance_daily"]);
    DASHBOARD_VIEWS.forEach((view, index) => {
      expect(athena[index]).toBe(`CREATE OR REPLACE VIEW ${view.name} AS\n${view.sql}`);
    });
    expect(createViewStatement(dashboardView("usage_daily"), "duckdb")).toMatch(/^CREATE OR REPLACE VIEW usage_daily AS\nSELECT/);
  });

  it("model_performance_daily: per day and model key, the Athena text with approx_percentile", () => {
    expect(createViewStatement(dashboardView("model_performance_daily"), "athena")).toBe(
      [
        "CREATE OR REPLACE VIEW model_performance_daily AS",
        "SELECT",
        "  year,",
        "  month,",
        "  day,",
        "  CAST(event_time AS DATE) AS usage_date,",
        "  COALESCE(model, 'unresolved:' || model_id) AS model,",
        "  COUNT(*) AS invocations,",
        "  CAST(SUM(CASE WHEN error_code IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS errors,",
        "  CAST(SUM(CASE WHEN error_code = 'ThrottlingException' THEN 1 ELSE 0 END) AS BIGINT) AS throttles,",
        "  CAST(CAST(SUM(CASE WHEN error_code IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS DOUBLE) / COUNT(*) AS error_rate,",
        "  CAST(CAST(SUM(CASE WHEN error_code = 'ThrottlingException' THEN 1 ELSE 0 END) AS BIGINT) AS DOUBLE) / COUNT(*) AS throttle_rate,",
        "  COUNT(latency_ms) AS timed_invocations,",
        "  APPROX_PERCENTILE(latency_ms, 0.5) AS latency_p50_ms,",
        "  APPROX_PERCENTILE(latency_ms, 0.9) AS latency_p90_ms,",
        "  APPROX_PERCENTILE(latency_ms, 0.99) AS latency_p99_ms,",
        "  CAST(SUM(CASE WHEN latency_ms IS NOT NULL THEN output_tokens END) AS DOUBLE) * 1000 / NULLIF(SUM(latency_ms), 0) AS output_tokens_per_second,",
        "  CAST(CAST(SUM(CASE WHEN performance_tier = 'optimized' THEN 1 ELSE 0 END) AS BIGINT) AS DOUBLE) / COUNT(*) AS optimized_share",
        "FROM invocations",
        "GROUP BY",
        "  year,",
        "  month,",
        "  day,",
        "  CAST(event_time AS DATE),",
        "  COALESCE(model, 'unresolved:' || model_id)",
      ].join("\n"),
    );
    expect(createViewStatement(dashboardView("model_performance_daily"), "duckdb")).toContain("  QUANTILE_DISC(latency_ms, 0.99) AS latency_p99_ms,\n");
  });

  it("can read a qualified table, and name an unknown view in the error", () => {
    const qualified = dashboardViews('"lake"."invocations"');
    for (const view of qualified) expect(view.sql).toContain('FROM "lake"."invocations"');
    expect(() => dashboardView("nope")).toThrow(/unknown dashboard view "nope"; expected one of token_usage_by_tenant_group/);
  });
});

// --- DuckDB: every view really runs -------------------------------------------------------------

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** A usage-record value as a DuckDB literal of its column's type. */
function literal(column: UsageColumn, value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  switch (column.type) {
    case "string":
      return quote(String(value));
    case "timestamp":
      return `TIMESTAMP ${quote(String(value).replace("T", " ").replace("Z", ""))}`;
    case "bigint":
      return String(value);
    case "decimal":
      return `CAST(${quote(String(value))} AS ${duckDbType(column)})`;
    case "map": {
      const entries = Object.entries(value as Record<string, string>).map(([key, entry]) => `${quote(key)}: ${quote(entry)}`);
      return `MAP {${entries.join(", ")}}`;
    }
  }
}

const DUCKDB_TYPES: Record<ViewColumnType, string> = {
  string: "VARCHAR",
  bigint: "BIGINT",
  decimal: `DECIMAL(${COST_DECIMAL.precision},${COST_DECIMAL.scale})`,
  date: "DATE",
  double: "DOUBLE",
};

function record(overrides: Partial<UsageRecord> & Pick<UsageRecord, "request_id" | "event_time">): UsageRecord {
  const eventTime = overrides.event_time;
  return UsageRecordSchema.parse({
    account_id: "123456789012",
    region: "us-east-1",
    inference_region: null,
    operation: "Converse",
    model_id: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    model: "anthropic.claude-haiku-4-5-20251001-v1:0",
    profile: "global",
    tenant_id: "acme",
    tenant_group: "enterprise",
    department_id: "sales",
    user_id: null,
    application_id: null,
    principal_arn: null,
    metadata: {},
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: "0",
    price_version: "2026-11-27",
    status: "priced",
    reason: null,
    error_code: null,
    cache_write_1h_tokens: null,
    latency: null,
    service_tier: null,
    latency_ms: null,
    performance_tier: null,
    stop_reason: null,
    profile_tags: {},
    input_cost_usd: null,
    output_cost_usd: null,
    cache_read_cost_usd: null,
    cache_write_cost_usd: null,
    year: eventTime.slice(0, 4),
    month: eventTime.slice(5, 7),
    day: eventTime.slice(8, 10),
    ...overrides,
  });
}

/** A few invocations: two tenants, two months, a missing group and department, an unpriced and an unresolved model. */
const ROWS: UsageRecord[] = [
  record({
    request_id: "r1",
    event_time: "2026-11-27T10:00:00Z",
    input_tokens: 120,
    output_tokens: 40,
    cost_usd: "0.00032",
    metadata: { tenantId: "acme", departmentId: "sales" },
  }),
  record({ request_id: "r2", event_time: "2026-11-27T10:00:05.250Z", input_tokens: 1000, output_tokens: 200, cache_read_tokens: 800, cost_usd: "0.00208" }),
  record({
    request_id: "r3",
    event_time: "2026-11-28T08:30:00Z",
    tenant_id: "globex",
    tenant_group: null,
    department_id: null,
    model_id: "us.amazon.nova-micro-v1:0",
    model: "amazon.nova-micro-v1:0",
    profile: "us",
    input_tokens: 5000,
    output_tokens: 1000,
    cache_write_tokens: 300,
    cost_usd: "0.000315",
  }),
  record({
    request_id: "r4",
    event_time: "2026-11-28T09:00:00Z",
    tenant_id: "globex",
    tenant_group: null,
    model_id: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
    model: null,
    profile: "application",
    input_tokens: 70,
    output_tokens: 30,
    cost_usd: null,
    price_version: null,
    status: "unpriced",
    reason: "unknown model",
  }),
  record({ request_id: "r5", event_time: "2026-12-01T00:00:01Z", input_tokens: 10, output_tokens: 10, cost_usd: "0.000000000001" }),
];

/** Exact sums, in pico-dollars, for comparing with DuckDB's decimal(38,12) text. */
const pico = (decimal: string) => {
  const [whole, fraction = ""] = decimal.split(".");
  return BigInt(whole ?? "0") * 10n ** 12n + BigInt(fraction.padEnd(12, "0"));
};
const decimalText = (value: bigint) => `${value / 10n ** 12n}.${(value % 10n ** 12n).toString().padStart(12, "0")}`;
const totalTokens = (row: UsageRecord) => row.input_tokens + row.output_tokens + row.cache_read_tokens + row.cache_write_tokens;

describe("dashboard views: run in DuckDB over usage records", () => {
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  const query = async (sql: string) => {
    if (!connection) throw new Error("DuckDB did not start");
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  };

  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    const duck = await instance.connect();
    connection = duck;
    // The table is exactly the usage record: a view that names any other column fails to bind.
    await duck.run(`CREATE TABLE ${USAGE_TABLE} (${USAGE_COLUMNS.map((column) => `${column.name} ${duckDbType(column)}`).join(", ")})`);
    const values = ROWS.map((row) => `(${USAGE_COLUMNS.map((column) => literal(column, (row as Record<string, unknown>)[column.name])).join(", ")})`);
    await duck.run(`INSERT INTO ${USAGE_TABLE} VALUES ${values.join(",\n")}`);
    for (const statement of DASHBOARD_VIEWS.map((view) => createViewStatement(view, "duckdb"))) await duck.run(statement);
  });

  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });

  it.each(DASHBOARD_VIEWS.map((view) => [view.name, view] as [string, DashboardView]))(
    "%s has its declared columns, names, order and types",
    async (_name, view) => {
      const described = await query(`DESCRIBE ${view.name}`);
      expect(described.map((row) => [row.column_name, row.column_type])).toEqual(view.columns.map((column) => [column.name, DUCKDB_TYPES[column.type]]));
    },
  );

  it.each(DASHBOARD_VIEWS.filter((view) => view.name !== "tokens_by_class" && view.name !== "model_performance_daily").map((view) => [view.name]))(
    "%s accounts for every invocation, token and cent once",
    async (name) => {
      const [totals] = await query(
        `SELECT CAST(SUM(invocations) AS BIGINT) AS invocations, CAST(SUM(unpriced_invocations) AS BIGINT) AS unpriced,
                CAST(SUM(total_tokens) AS BIGINT) AS tokens, SUM(cost_usd) AS cost_usd FROM ${name}`,
      );
      expect(totals).toEqual({
        invocations: String(ROWS.length),
        unpriced: "1",
        tokens: String(ROWS.reduce((sum, row) => sum + totalTokens(row), 0)),
        cost_usd: decimalText(ROWS.reduce((sum, row) => sum + (row.cost_usd === null ? 0n : pico(row.cost_usd)), 0n)),
      });
    },
  );

  it("spend_by_tenant_month matches the spend figures: unpriced calls count in tokens, not in cost", async () => {
    const rows = await query(
      "SELECT period, tenant_id, invocations, unpriced_invocations, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd FROM spend_by_tenant_month ORDER BY period, tenant_id",
    );
    expect(rows).toEqual([
      {
        period: "2026-11",
        tenant_id: "acme",
        invocations: "2",
        unpriced_invocations: "0",
        input_tokens: "1120",
        output_tokens: "240",
        cache_read_tokens: "800",
        cache_write_tokens: "0",
        cost_usd: "0.002400000000",
      },
      {
        period: "2026-11",
        tenant_id: "globex",
        invocations: "2",
        unpriced_invocations: "1",
        input_tokens: "5070",
        output_tokens: "1030",
        cache_read_tokens: "0",
        cache_write_tokens: "300",
        cost_usd: "0.000315000000",
      },
      {
        period: "2026-12",
        tenant_id: "acme",
        invocations: "1",
        unpriced_invocations: "0",
        input_tokens: "10",
        output_tokens: "10",
        cache_read_tokens: "0",
        cache_write_tokens: "0",
        cost_usd: "0.000000000001",
      },
    ]);
  });

  it("groups a missing tenant group or department under a name of its own, and an unresolved model under its logged id", async () => {
    expect(await query("SELECT tenant_group, total_tokens FROM token_usage_by_tenant_group WHERE month = '11' ORDER BY tenant_group")).toEqual([
      { tenant_group: "enterprise", total_tokens: "2160" },
      { tenant_group: "ungrouped", total_tokens: "6400" },
    ]);
    expect(await query("SELECT tenant_id, department_id, invocations FROM token_usage_by_department ORDER BY month, tenant_id, department_id")).toEqual([
      { tenant_id: "acme", department_id: "sales", invocations: "2" },
      { tenant_id: "globex", department_id: "sales", invocations: "1" },
      { tenant_id: "globex", department_id: "unassigned", invocations: "1" },
      { tenant_id: "acme", department_id: "sales", invocations: "1" },
    ]);
    expect(await query("SELECT model, profile, invocations, unpriced_invocations, cost_usd FROM model_distribution WHERE month = '11' ORDER BY model")).toEqual(
      [
        { model: "amazon.nova-micro-v1:0", profile: "us", invocations: "1", unpriced_invocations: "0", cost_usd: "0.000315000000" },
        { model: "anthropic.claude-haiku-4-5-20251001-v1:0", profile: "global", invocations: "2", unpriced_invocations: "0", cost_usd: "0.002400000000" },
        {
          model: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
          profile: "application",
          invocations: "1",
          unpriced_invocations: "1",
          cost_usd: null,
        },
      ],
    );
  });

  it("daily_cost_trend is by calendar day of the invocation; cost_by_model by catalog version", async () => {
    expect(await query("SELECT CAST(usage_date AS VARCHAR) AS usage_date, invocations, cost_usd FROM daily_cost_trend ORDER BY usage_date")).toEqual([
      { usage_date: "2026-11-27", invocations: "2", cost_usd: "0.002400000000" },
      { usage_date: "2026-11-28", invocations: "2", cost_usd: "0.000315000000" },
      { usage_date: "2026-12-01", invocations: "1", cost_usd: "0.000000000001" },
    ]);
    expect(await query("SELECT price_version, invocations FROM cost_by_model WHERE month = '11' ORDER BY price_version NULLS LAST, model")).toEqual([
      { price_version: "2026-11-27", invocations: "1" },
      { price_version: "2026-11-27", invocations: "2" },
      { price_version: null, invocations: "1" },
    ]);
  });

  it("tokens_by_class has one row per class whose tokens add up to the usage record's columns", async () => {
    const rows = await query("SELECT token_class, CAST(SUM(tokens) AS BIGINT) AS tokens FROM tokens_by_class GROUP BY token_class ORDER BY token_class");
    const expected = VIEW_TOKEN_CLASSES.map((tokenClass) => ({
      token_class: tokenClass,
      tokens: String(ROWS.reduce((sum, row) => sum + row[`${tokenClass}_tokens`], 0)),
    })).sort((a, b) => a.token_class.localeCompare(b.token_class));
    expect(rows).toEqual(expected);
    const [{ groups } = {}] = await query("SELECT COUNT(*) AS groups FROM usage_daily");
    expect(groups).toBe("4"); // r1 and r2 share tenant, group, department, model, profile and day
  });
});
