import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DASHBOARD_VIEWS, duckDbType, USAGE_COLUMNS, type UsageRecord, type ViewColumnType } from "@bedrock-spend/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DuckDbLakeWriter, LocalAthena, QueryError, usageDir } from "../src/index";
import { costPico, decimal12, groupBy, picoOf, recordsAcrossMonths, sumOf, tempLake, usageRecords } from "./helpers";

const VIEW_TYPES: Record<ViewColumnType, string> = { string: "VARCHAR", bigint: "BIGINT", decimal: "DECIMAL(38,12)", date: "DATE", double: "DOUBLE" };
const TOKEN_FIELDS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"] as const;

/** Sum of a column over result rows: numbers, or exact pico-dollars for decimals. */
function total(rows: readonly Record<string, unknown>[], column: string): number | bigint {
  if (rows.length > 0 && typeof rows.find((row) => row[column] !== null)?.[column] === "string") {
    return rows.reduce((sum, row) => sum + (picoOf(row[column]) ?? 0n), 0n);
  }
  return rows.reduce((sum, row) => sum + (row[column] as number), 0);
}

describe("LocalAthena over an empty lake", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let athena: LocalAthena;

  beforeEach(async () => {
    lake = await tempLake();
    athena = await LocalAthena.open({ lakeDir: join(lake.dir, "lake-not-created-yet") });
  });

  afterEach(async () => {
    await athena.close();
    await lake.remove();
  });

  it("has an empty invocations with the lake's columns and types", async () => {
    const described = await athena.query("DESCRIBE invocations");
    expect(described.rows.map((row) => [row.column_name, row.column_type])).toEqual(USAGE_COLUMNS.map((column) => [column.name, duckDbType(column)]));
    const counted = await athena.query("SELECT count(*) AS n, sum(cost_usd) AS cost FROM invocations");
    expect(counted.rows).toEqual([{ n: 0, cost: null }]);
  });

  it("runs every dashboard view, with no rows", async () => {
    expect(athena.viewNames).toEqual(DASHBOARD_VIEWS.map((view) => view.name));
    for (const view of DASHBOARD_VIEWS) {
      const result = await athena.query(`SELECT * FROM ${view.name}`);
      expect(result.rows, view.name).toEqual([]);
      expect(result.columns, view.name).toEqual(view.columns.map((column) => ({ name: column.name, type: VIEW_TYPES[column.type] })));
    }
  });

  it("sees files written after it was opened", async () => {
    const writer = await DuckDbLakeWriter.open({ lakeDir: join(lake.dir, "lake-not-created-yet") });
    try {
      const first = usageRecords({ seed: "append-1", count: 120 });
      const second = usageRecords({ seed: "append-2", count: 80, start: "2026-12-03T08:00:00Z" });
      await writer.write(first);
      expect((await athena.query("SELECT count(*) AS n FROM invocations")).rows[0]?.n).toBe(first.length);
      await writer.write(second);
      const after = await athena.query("SELECT count(*) AS n, sum(cost_usd) AS cost FROM invocations");
      expect(after.rows[0]).toEqual({ n: first.length + second.length, cost: decimal12(costPico([...first, ...second])) });
      expect((await athena.query("SELECT sum(invocations) AS n FROM token_usage_by_company")).rows[0]?.n).toBe(first.length + second.length);
    } finally {
      await writer.close();
    }
  });

  it("goes back to an empty invocations when the lake is emptied", async () => {
    const lakeDir = join(lake.dir, "lake-not-created-yet");
    const writer = await DuckDbLakeWriter.open({ lakeDir });
    await writer.write(usageRecords({ seed: "emptied", count: 30 }));
    await writer.close();
    expect((await athena.query("SELECT count(*) AS n FROM invocations")).rows[0]?.n).toBeGreaterThan(0);
    await rm(usageDir(lakeDir), { recursive: true });
    expect((await athena.query("SELECT count(*) AS n FROM invocations")).rows[0]?.n).toBe(0);
  });
});

describe("LocalAthena over a lake across two months", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let athena: LocalAthena;
  let records: UsageRecord[];

  beforeAll(async () => {
    lake = await tempLake();
    records = recordsAcrossMonths();
    const writer = await DuckDbLakeWriter.open({ lakeDir: lake.dir });
    // Two flushes, as a Firehose would deliver them.
    await writer.write(records.slice(0, 700));
    await writer.write(records.slice(700));
    await writer.close();
    athena = await LocalAthena.open({ lakeDir: lake.dir });
  });

  afterAll(async () => {
    await athena.close();
    await lake.remove();
  });

  it("reads the partitions as VARCHAR columns, and prunes on them", async () => {
    const { rows } = await athena.query("SELECT year, month, day, count(*) AS n FROM invocations GROUP BY ALL ORDER BY ALL");
    const expected = [...groupBy(records, (record) => `${record.year}|${record.month}|${record.day}`)].map(([key, group]) => {
      const [year, month, day] = key.split("|");
      return { year, month, day, n: group.length };
    });
    expect(rows).toEqual(expected);
    expect(rows.map((row) => `${row.year}-${row.month}-${row.day}`)).toEqual(["2026-11-27", "2026-11-30", "2026-12-01"]);
    const plan = await athena.query("EXPLAIN SELECT request_id FROM invocations WHERE year = '2026' AND month = '12'");
    // Two flushes, each one file per day: 4 files, of which 1 in December.
    expect(JSON.stringify(plan.rows)).toMatch(/Scanning Files: 1\/4/);
  });

  it("sums cost_usd exactly", async () => {
    const { rows } = await athena.query("SELECT sum(cost_usd) AS cost, count(*) AS n, count_if(status = 'unpriced') AS unpriced FROM invocations");
    expect(rows[0]).toEqual({
      cost: decimal12(costPico(records)),
      n: records.length,
      unpriced: records.filter((record) => record.status === "unpriced").length,
    });
  });

  it("runs every dashboard view with its declared columns, and totals that match the input", async () => {
    const expected: Record<string, number | bigint> = {
      invocations: records.length,
      unpriced_invocations: records.filter((record) => record.status === "unpriced").length,
      input_tokens: sumOf(records, "input_tokens"),
      output_tokens: sumOf(records, "output_tokens"),
      cache_read_tokens: sumOf(records, "cache_read_tokens"),
      cache_write_tokens: sumOf(records, "cache_write_tokens"),
      total_tokens: TOKEN_FIELDS.reduce((sum, field) => sum + sumOf(records, field), 0),
      cost_usd: costPico(records),
    };
    for (const view of DASHBOARD_VIEWS) {
      const result = await athena.query(`SELECT * FROM ${view.name}`);
      expect(result.columns, view.name).toEqual(view.columns.map((column) => ({ name: column.name, type: VIEW_TYPES[column.type] })));
      expect(result.rows.length, view.name).toBeGreaterThan(0);
      for (const [measure, value] of Object.entries(expected)) {
        if (view.columns.some((column) => column.name === measure)) expect(total(result.rows, measure), `${view.name}.${measure}`).toEqual(value);
      }
    }
  });

  it("token_usage_by_tenant_group: tokens by tenant group sum to the input's", async () => {
    const { rows } = await athena.query("SELECT * FROM token_usage_by_tenant_group");
    const groups = groupBy(records, (record) => `${record.year}-${record.month}|${record.tenant_group ?? "ungrouped"}`);
    expect(rows).toHaveLength(groups.size);
    for (const row of rows) {
      const group = groups.get(`${row.year}-${row.month}|${row.tenant_group}`) ?? [];
      expect(row.invocations).toBe(group.length);
      for (const field of TOKEN_FIELDS) expect(row[field], field).toBe(sumOf(group, field));
      expect(picoOf(row.cost_usd) ?? 0n).toBe(costPico(group));
    }
  });

  it("spend_by_tenant_month: cost per tenant and month, exact", async () => {
    const { rows } = await athena.query("SELECT * FROM spend_by_tenant_month WHERE period = '2026-12'");
    const december = groupBy(
      records.filter((record) => record.month === "12"),
      (record) => record.tenant_id,
    );
    expect(rows).toHaveLength(december.size);
    for (const row of rows) {
      const group = december.get(row.tenant_id as string) ?? [];
      expect(row.invocations).toBe(group.length);
      expect(picoOf(row.cost_usd) ?? 0n).toBe(costPico(group));
    }
  });

  it("daily_cost_trend: one row per calendar day", async () => {
    const { rows } = await athena.query("SELECT usage_date, invocations, cost_usd FROM daily_cost_trend ORDER BY usage_date");
    const days = groupBy(records, (record) => record.event_time.slice(0, 10));
    expect(rows.map((row) => row.usage_date)).toEqual([...days.keys()].sort());
    for (const row of rows) expect(picoOf(row.cost_usd) ?? 0n).toBe(costPico(days.get(row.usage_date as string) ?? []));
  });

  it("tokens_by_class: each class sums to the input's", async () => {
    const { rows } = await athena.query("SELECT token_class, sum(tokens) AS tokens FROM tokens_by_class GROUP BY token_class ORDER BY token_class");
    expect(rows).toEqual(
      ["cache_read", "cache_write", "input", "output"].map((tokenClass) => ({
        token_class: tokenClass,
        tokens: sumOf(records, `${tokenClass}_tokens` as (typeof TOKEN_FIELDS)[number]),
      })),
    );
  });

  it("runs Athena-dialect queries with the shims", async () => {
    const byTenant = await athena.query(`
      SELECT date_format(event_time, '%Y-%m') AS period,
             element_at(metadata, 'tenantId') AS tenant,
             approx_distinct(user_id) AS users,
             approx_percentile(output_tokens, 0.5) AS p50_output,
             CAST(sum(cost_usd) AS VARCHAR) AS cost
      FROM invocations
      WHERE event_time >= from_iso8601_timestamp('2026-11-30T00:00:00Z')
        AND event_time < date_add('day', 2, from_iso8601_timestamp('2026-11-30T00:00:00Z'))
        AND regexp_like(tenant_id, '^[a-z]')
      GROUP BY 1, 2
      ORDER BY 1, 2`);
    const window = records.filter((record) => record.event_time >= "2026-11-30" && /^[a-z]/.test(record.tenant_id));
    expect(byTenant.rows.reduce((sum, row) => sum + (picoOf(row.cost) ?? 0n), 0n)).toBe(costPico(window));
    expect(new Set(byTenant.rows.map((row) => row.period))).toEqual(new Set(["2026-11", "2026-12"]));
    for (const row of byTenant.rows) expect(typeof row.users).toBe("number");

    const parsed = await athena.query(
      "SELECT count(*) AS n FROM invocations WHERE date_parse(year || '-' || month || '-' || day, '%Y-%m-%d') = date_trunc('day', event_time)",
    );
    expect(parsed.rows[0]?.n).toBe(records.length);

    const hours = await athena.query("SELECT date_diff('hour', min(event_time), max(event_time)) AS h, to_unixtime(max(event_time)) AS last FROM invocations");
    const times = records.map((record) => Date.parse(record.event_time)).sort((a, b) => a - b);
    const [first, last] = [times[0] as number, times.at(-1) as number];
    expect(hours.rows[0]?.h).toBe(Math.floor((last - first) / 3_600_000));
    expect(hours.rows[0]?.last).toBe(last / 1000);
  });

  it("divides integers as Trino does", async () => {
    expect((await athena.query("SELECT 7 / 2 AS q, CAST(7 AS DOUBLE) / 2 AS d")).rows[0]).toEqual({ q: 3, d: 3.5 });
  });
});

describe("LocalAthena query results", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let athena: LocalAthena;

  beforeAll(async () => {
    lake = await tempLake();
    athena = await LocalAthena.open({ lakeDir: lake.dir });
  });

  afterAll(async () => {
    await athena.close();
    await lake.remove();
  });

  it("returns JSON-safe values", async () => {
    const result = await athena.query(`SELECT
      CAST(9007199254740993 AS BIGINT) AS big,
      CAST(42 AS BIGINT) AS small,
      CAST(170141183460469231731687303715884105727 AS HUGEINT) AS huge,
      CAST('0.000320' AS DECIMAL(38,12)) AS cost,
      CAST(-1.5 AS DECIMAL(10,2)) AS negative,
      TIMESTAMP '2026-11-27 10:00:00' AS ts,
      TIMESTAMP '2026-11-27 10:00:00.123' AS ts_ms,
      TIMESTAMP '2026-11-27 10:00:00.123456' AS ts_us,
      TIMESTAMP '1969-12-31 23:59:59.5' AS ts_before_epoch,
      CAST('2026-11-27T12:00:00+02:00' AS TIMESTAMPTZ) AS tstz,
      DATE '2026-11-27' AS d,
      MAP(ARRAY['tenantId', 'dept'], ARRAY['acme', 'sales']) AS m,
      {'a': 1, 'b': [1, 2]} AS s,
      [CAST(1 AS BIGINT), NULL] AS l,
      CAST('NaN' AS DOUBLE) AS nan,
      1.25::DOUBLE AS dbl,
      true AS flag,
      NULL AS nothing`);
    expect(result.rows[0]).toEqual({
      big: "9007199254740993",
      small: 42,
      huge: "170141183460469231731687303715884105727",
      cost: "0.000320000000",
      negative: "-1.50",
      ts: "2026-11-27T10:00:00Z",
      ts_ms: "2026-11-27T10:00:00.123Z",
      ts_us: "2026-11-27T10:00:00.123456Z",
      ts_before_epoch: "1969-12-31T23:59:59.500Z",
      tstz: "2026-11-27T10:00:00Z",
      d: "2026-11-27",
      m: { tenantId: "acme", dept: "sales" },
      s: { a: 1, b: [1, 2] },
      l: [1, null],
      nan: "NaN",
      dbl: 1.25,
      flag: true,
      nothing: null,
    });
    expect(result.columns.find((column) => column.name === "cost")?.type).toBe("DECIMAL(38,12)");
    expect(result.columns.find((column) => column.name === "m")?.type).toBe("MAP(VARCHAR, VARCHAR)");
    expect(() => JSON.stringify(result)).not.toThrow();
  });

  it("keeps repeated column names apart", async () => {
    const result = await athena.query("SELECT 1 AS a, 2 AS a, 3 AS a_2");
    expect(result.columns.map((column) => column.name)).toEqual(["a", "a_2", "a_2_2"]);
    expect(result.rows[0]).toEqual({ a: 1, a_2: 2, a_2_2: 3 });
  });

  it.each([
    "SELECT 1",
    "select 1",
    "  -- a comment\n/* and another */ SELECT 1;",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "VALUES (1), (2)",
    "DESCRIBE invocations",
    "SHOW TABLES",
    "EXPLAIN SELECT * FROM invocations",
    "EXPLAIN ANALYZE SELECT count(*) FROM invocations",
  ])("runs the read %j", async (sql) => {
    await expect(athena.query(sql)).resolves.toHaveProperty("columns");
  });

  it.each([
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW invocations",
    "CREATE OR REPLACE VIEW invocations AS SELECT 1",
    "INSERT INTO invocations SELECT * FROM invocations",
    "DELETE FROM invocations",
    "COPY (SELECT 1) TO '/tmp/x.csv'",
    "ATTACH ':memory:' AS other",
    "SET threads = 1",
    "PRAGMA version",
    "CALL pragma_version()",
    "INSTALL httpfs",
    "LOAD json",
    "EXPORT DATABASE '/tmp/x'",
    "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "SUMMARIZE invocations",
    "FROM invocations",
    "SELECT 1; DROP VIEW invocations",
    "",
    " ; -- nothing",
  ])("refuses %j", async (sql) => {
    const error = await athena.query(sql).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).kind).toBe("refused");
    expect((error as QueryError).sql).toBe(sql);
    // Nothing changed.
    expect((await athena.query("SELECT count(*) AS n FROM invocations")).rows[0]?.n).toBe(0);
  });

  it("reports bad SQL with DuckDB's message", async () => {
    const cases: [string, string, RegExp][] = [
      ["SELEC 1", "Parser Error", /syntax error at or near "SELEC"/],
      ["SELECT nope FROM invocations", "Binder Error", /"nope" not found/],
      ["SELECT * FROM nowhere", "Catalog Error", /nowhere does not exist/],
      ["SELECT no_such_function(1)", "Catalog Error", /no_such_function does not exist/],
      ["SELECT CAST('x' AS INTEGER)", "Conversion Error", /Could not convert string 'x'/],
      // `cost` may not be a bare column label in DuckDB (it may be one with AS); Trino takes both.
      ["SELECT sum(cost_usd) cost FROM invocations", "Parser Error", /syntax error at or near "cost"/],
    ];
    for (const [sql, errorType, message] of cases) {
      const error = await athena.query(sql).catch((caught: unknown) => caught);
      expect(error, sql).toBeInstanceOf(QueryError);
      expect((error as QueryError).kind).toBe("failed");
      expect((error as QueryError).errorType, sql).toBe(errorType);
      expect((error as QueryError).message, sql).toMatch(message);
    }
  });

  it("reads no file outside the lake", async () => {
    const outside = join(lake.dir, "..", `outside-${process.pid}.csv`);
    await writeFile(outside, "a,b\n1,2\n");
    try {
      const error = await athena.query(`SELECT * FROM read_csv('${outside}')`).catch((caught: unknown) => caught);
      expect((error as QueryError).errorType).toBe("Permission Error");
      const open = await LocalAthena.open({ lakeDir: lake.dir, sandbox: false });
      try {
        expect((await open.query(`SELECT * FROM read_csv('${outside}')`)).rows).toEqual([{ a: 1, b: 2 }]);
      } finally {
        await open.close();
      }
    } finally {
      await rm(outside, { force: true });
    }
  });

  it("refuses queries once closed", async () => {
    const other = await LocalAthena.open({ lakeDir: lake.dir });
    await other.close();
    await expect(other.query("SELECT 1")).rejects.toThrow(/closed/);
  });
});
