import { existsSync } from "node:fs";
import { basename } from "node:path";
import { dataColumns, duckDbType, LakeEncodingError, USAGE_COLUMNS, type UsageRecord } from "@bedrock-spend/core";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DuckDbLakeWriter, LocalAthena } from "../src/index";
import { costPico, decimal12, listFiles, picoOf, recordsAcrossMonths, tempLake, usageRecords } from "./helpers";

const PART_FILE = /^part-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.parquet$/;

/** Reads a Parquet file's schema and codecs with a bare DuckDB (no views, no shims). */
async function parquetFacts(file: string): Promise<{ columns: Map<string, string>; codecs: Set<string>; rows: number }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const schema = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
    const columns = new Map(schema.getRowObjectsJson().map((row) => [String(row.column_name), String(row.column_type)]));
    const meta = await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    const codecs = new Set(meta.getRowObjectsJson().map((row) => String(row.compression)));
    const count = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
    return { columns, codecs, rows: Number(count.getRowObjectsJson()[0]?.n) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe("DuckDbLakeWriter", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let writer: DuckDbLakeWriter;

  beforeEach(async () => {
    lake = await tempLake();
    writer = await DuckDbLakeWriter.open({ lakeDir: lake.dir });
  });

  afterEach(async () => {
    await writer.close();
    await lake.remove();
  });

  it("writes one ZSTD Parquet file per day partition, hive layout, partition columns only in the path", async () => {
    const records = recordsAcrossMonths();
    const result = await writer.write(records);

    expect(result.rows).toBe(records.length);
    expect(result.files.map((file) => file.slice(lake.dir.length + 1).replace(/part-.*$/, ""))).toEqual([
      "usage/year=2026/month=11/day=27/",
      "usage/year=2026/month=11/day=30/",
      "usage/year=2026/month=12/day=01/",
    ]);
    for (const file of result.files) {
      expect(existsSync(file)).toBe(true);
      expect(basename(file)).toMatch(PART_FILE);
    }
    // Nothing else is left in the lake (no staging files).
    expect(await listFiles(lake.dir)).toEqual(result.files.map((file) => file.slice(lake.dir.length + 1)));

    const perDay = new Map<string, number>();
    for (const record of records) perDay.set(`${record.month}/${record.day}`, (perDay.get(`${record.month}/${record.day}`) ?? 0) + 1);
    for (const file of result.files) {
      const facts = await parquetFacts(file);
      const [, month, day] = /month=(\d\d)\/day=(\d\d)/.exec(file) ?? [];
      expect(facts.rows).toBe(perDay.get(`${month}/${day}`));
      expect(facts.codecs).toEqual(new Set(["ZSTD"]));
      // Data columns only, in lake order, with the types of duckDbType.
      expect([...facts.columns.keys()]).toEqual(dataColumns().map((column) => column.name));
      for (const column of dataColumns()) expect(facts.columns.get(column.name), column.name).toBe(duckDbType(column));
    }
    expect(perDay.size).toBe(3);
  });

  it("reads back every record exactly: costs, timestamps, metadata, token counts", async () => {
    const records = recordsAcrossMonths();
    await writer.write(records);
    const athena = await LocalAthena.open({ lakeDir: lake.dir });
    try {
      const { rows } = await athena.query("SELECT * FROM invocations");
      expect(rows).toHaveLength(records.length);
      const byId = new Map(rows.map((row) => [row.request_id, row]));
      for (const record of records) {
        const row = byId.get(record.request_id);
        expect(row, record.request_id).toBeDefined();
        const expected: Record<string, unknown> = { ...record };
        // Every decimal (cost_usd and the per-class costs) reads back with the column's 12 digits.
        for (const column of USAGE_COLUMNS.filter((candidate) => candidate.type === "decimal")) {
          const value = expected[column.name] as string | null;
          expected[column.name] = value === null ? null : decimal12(picoOf(value) as bigint);
        }
        expect(row).toEqual(expected);
      }
      const total = await athena.query("SELECT sum(cost_usd) AS total, count(cost_usd) AS priced FROM invocations");
      expect(total.rows[0]?.total).toBe(decimal12(costPico(records)));
      expect(total.rows[0]?.priced).toBe(records.filter((record) => record.cost_usd !== null).length);
    } finally {
      await athena.close();
    }
  });

  it("keeps decimals exact at the edges of DECIMAL(38,12)", async () => {
    const [base] = usageRecords({ seed: "edges", count: 1 });
    if (!base) throw new Error("no record");
    const costs = ["99999999999999999999999999.999999999999", "0.000000000001", "12345678901234.123456789012", "0", "0.1", "0.2"];
    const records: UsageRecord[] = costs.map((cost, index) => ({ ...base, request_id: `edge-${index}`, cost_usd: cost, status: "priced" }));
    await writer.write(records);
    const athena = await LocalAthena.open({ lakeDir: lake.dir });
    try {
      const { rows } = await athena.query("SELECT request_id, cost_usd FROM invocations ORDER BY request_id");
      expect(rows.map((row) => picoOf(row.cost_usd))).toEqual(costs.map((cost) => picoOf(cost)));
      const sum = await athena.query("SELECT sum(cost_usd) AS total FROM invocations WHERE request_id <> 'edge-0'");
      expect(sum.rows[0]?.total).toBe("12345678901234.423456789013");
    } finally {
      await athena.close();
    }
  });

  it("adds a new file per partition on every write, never rewriting one", async () => {
    const first = await writer.write(usageRecords({ seed: "w1", count: 50 }));
    const second = await writer.write(usageRecords({ seed: "w2", count: 70 }));
    expect(first.files).toHaveLength(1);
    expect(second.files).toHaveLength(1);
    expect(second.files[0]).not.toBe(first.files[0]);
    expect(await listFiles(lake.dir)).toHaveLength(2);
  });

  it("serializes concurrent writes", async () => {
    const batches = ["c1", "c2", "c3"].map((seed) => usageRecords({ seed, count: 100 }));
    const results = await Promise.all(batches.map((batch) => writer.write(batch)));
    expect(results.map((result) => result.rows)).toEqual(batches.map((batch) => batch.length));
    expect(await listFiles(lake.dir)).toHaveLength(3);
  });

  it("writes nothing for an empty batch", async () => {
    expect(await writer.write([])).toEqual({ files: [], rows: 0 });
    expect(await listFiles(lake.dir)).toEqual([]);
  });

  it("refuses a batch with a record that does not fit its columns, writing nothing of it", async () => {
    const records = usageRecords({ seed: "bad", count: 20 });
    const cases: [string, Partial<Record<keyof UsageRecord, unknown>>][] = [
      ["cost_usd", { cost_usd: "1e-3" }],
      ["cost_usd", { cost_usd: "0.0000000000001" }],
      ["cost_usd", { cost_usd: 0.5 }],
      ["event_time", { event_time: "2026-11-27 10:00:00" }],
      ["input_tokens", { input_tokens: -1 }],
      ["input_tokens", { input_tokens: 1.5 }],
      ["metadata", { metadata: { tenantId: 7 } }],
      ["tenant_id", { tenant_id: null }],
      ["year", { year: "../../etc" }],
      ["day", { day: "32" }],
    ];
    for (const [column, change] of cases) {
      const batch = records.map((record, index) => (index === 7 ? ({ ...record, ...change } as UsageRecord) : record));
      const error = await writer.write(batch).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, column).toBeInstanceOf(LakeEncodingError);
      expect((error as LakeEncodingError).column).toBe(column);
      expect((error as LakeEncodingError).requestId).toBe(records[7]?.request_id);
    }
    expect(await listFiles(lake.dir)).toEqual([]);
  });

  it("refuses writes after close", async () => {
    await writer.close();
    await expect(writer.write(usageRecords({ seed: "late", count: 1 }))).rejects.toThrow(/closed/);
  });
});
