/**
 * The local lake as a reprice reads and rewrites it (`LocalLakePartitions`), on real Parquet files
 * written by the lake writer and read back by DuckDB: reads by day, counts by tenant, replacements
 * written aside and published, and the replaced files kept in the history.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type DayKey, dataColumns, duckDbType, LakeEncodingError, parseUsd, REPRICED_COLUMNS, type UsageRecord } from "@bedrock-spend/core";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DayFiles, DuckDbLakeWriter, LakeWriteError, LocalAthena, LocalLakePartitions, type StagedDay } from "../src/index";
import { listFiles, recordsAcrossMonths, tempLake } from "./helpers";

const DAY: DayKey = "2026-11-27";
const DAY_DIR = "lake/usage/year=2026/month=11/day=27";

/** A record repriced: the cost, status, reason and version a new catalog would give it. */
function repriced(record: UsageRecord, index: number): UsageRecord {
  return {
    ...record,
    cost_usd: index % 7 === 0 ? null : `0.${String(index).padStart(12, "0")}`,
    status: index % 7 === 0 ? "unpriced" : "priced",
    reason: index % 7 === 0 ? "no price for this model in 2026-12-01" : null,
    price_version: "repriced-v2",
    input_cost_usd: index % 7 === 0 ? null : `0.${String(index).padStart(12, "0")}`,
    output_cost_usd: index % 7 === 0 ? null : "0",
    cache_read_cost_usd: index % 7 === 0 ? null : "0",
    cache_write_cost_usd: index % 7 === 0 ? null : "0",
  };
}

/** A record as values, whatever their text: the cost in pico-dollars, the time in epoch ms. */
function normalized(record: UsageRecord): Record<string, unknown> {
  const values: Record<string, unknown> = { ...record, event_time: Date.parse(record.event_time) };
  for (const column of dataColumns().filter((candidate) => candidate.type === "decimal")) {
    const value = values[column.name] as string | null;
    values[column.name] = value === null ? null : parseUsd(value);
  }
  return values;
}

/** The columns a reprice does not change, of each record by request id. */
function unchangedColumns(records: readonly UsageRecord[]): Map<string, Record<string, unknown>> {
  const repricedNames = new Set<string>(REPRICED_COLUMNS);
  return new Map(records.map((record) => [record.request_id, Object.fromEntries(Object.entries(record).filter(([name]) => !repricedNames.has(name)))]));
}

describe("LocalLakePartitions", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let writer: DuckDbLakeWriter;
  let athena: LocalAthena;
  let partitions: LocalLakePartitions;
  let records: UsageRecord[];

  beforeEach(async () => {
    lake = await tempLake();
    const lakeDir = join(lake.dir, "lake");
    writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
    records = recordsAcrossMonths();
    // Two Firehose flushes of the 27th, and the other days.
    const ofDay = records.filter((record) => record.day === "27" && record.month === "11");
    await writer.write(ofDay.slice(0, 150));
    await writer.write(ofDay.slice(150));
    await writer.write(records.filter((record) => !(record.day === "27" && record.month === "11")));
    athena = await LocalAthena.open({ lakeDir, threads: 1 });
    partitions = new LocalLakePartitions(lakeDir, join(lake.dir, "lake-history"), athena, writer);
  });

  afterEach(async () => {
    await athena.close();
    await writer.close();
    await lake.remove();
  });

  it("reads a day's rows from its files, every value as delivered, and names the files read", async () => {
    // Act
    const { rows, token } = await partitions.readDay(DAY);

    // Assess
    const expected = records.filter((record) => record.month === "11" && record.day === "27");
    expect((token as DayFiles).files).toHaveLength(2);
    expect(new Map(rows.map((row) => [row.request_id, normalized(row)]))).toStrictEqual(
      new Map(expected.map((record) => [record.request_id, normalized(record)])),
    );
    expect(await partitions.days("2026-11")).toStrictEqual(["2026-11-27", "2026-11-30"]);
  });

  it("counts each tenant's distinct request ids of a month, a row the lake holds twice once", async () => {
    // Prepare: one row of the 27th delivered a second time.
    const ofNovember = records.filter((record) => record.month === "11");
    await writer.write([ofNovember[3] as UsageRecord]);

    // Act
    const counts = await partitions.invocationsByTenant("2026-11");

    // Assess
    const expected = new Map<string, number>();
    for (const record of ofNovember) expected.set(record.tenant_id, (expected.get(record.tenant_id) ?? 0) + 1);
    expect(counts).toStrictEqual(expected);
    expect(await partitions.invocationsByTenant("2027-01")).toStrictEqual(new Map());
  });

  it("stages a replacement without changing the lake, then publishes it: new prices, every other value kept, the old files in the history", async () => {
    // Prepare
    const { rows, token } = await partitions.readDay(DAY);
    const next = rows.map(repriced);
    // A flush delivered after the read: not replaced.
    const late = { ...(records.find((record) => record.day === "30") as UsageRecord), request_id: "late-1", day: "27", event_time: "2026-11-27T23:59:59.000Z" };
    await writer.write([late]);

    // Act
    const staged = (await partitions.stageDay(DAY, token, next, "r-1")) as StagedDay;
    const beforePublish = await partitions.readDay(DAY);
    await partitions.publishDay(DAY, staged, "r-1");

    // Assess
    expect(beforePublish.rows.map((row) => row.price_version)).not.toContain("repriced-v2");
    const after = await partitions.readDay(DAY);
    const byId = new Map(after.rows.map((row) => [row.request_id, row]));
    expect(byId.size).toBe(rows.length + 1);
    expect(normalized(byId.get("late-1") as UsageRecord)).toStrictEqual(normalized(late));
    for (const [index, row] of rows.entries()) {
      const read = byId.get(row.request_id) as UsageRecord;
      const want = next[index] as UsageRecord;
      expect([read.cost_usd, read.status, read.reason, read.price_version]).toStrictEqual([want.cost_usd, want.status, want.reason, want.price_version]);
      expect([read.input_cost_usd, read.output_cost_usd].map((cost) => (cost === null ? null : parseUsd(cost)))).toStrictEqual(
        [want.input_cost_usd, want.output_cost_usd].map((cost) => (cost === null ? null : parseUsd(cost))),
      );
    }
    expect(unchangedColumns(after.rows.filter((row) => row.request_id !== "late-1"))).toStrictEqual(unchangedColumns(rows));
    const files = await listFiles(lake.dir);
    expect(files.filter((file) => file.startsWith(`${DAY_DIR}/`))).toHaveLength(2);
    expect(files.filter((file) => file.startsWith("lake-history/r-1/year=2026/month=11/day=27/"))).toHaveLength(2);
    expect(files.some((file) => file.includes(".staged"))).toBe(false);
    // The old rows stay readable where the history keeps them.
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    const old = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT price_version)::INTEGER AS versions FROM read_parquet('${lake.dir}/lake-history/r-1/**/*.parquet', hive_partitioning = true)`,
    );
    connection.closeSync();
    instance.closeSync();
    expect(old.getRowObjectsJson()[0]).toStrictEqual({ n: rows.length, versions: 1 });
  });

  it("keeps one row per request id when the files read hold one twice (a crashed rewrite's old and new files)", async () => {
    // Prepare
    const first = await partitions.readDay(DAY);
    await writer.write(first.rows.slice(0, 10).map(repriced));
    const { rows, token } = await partitions.readDay(DAY);
    expect(rows).toHaveLength(first.rows.length + 10);

    // Act
    await partitions.replaceDay(DAY, token, rows.map(repriced), "r-2");

    // Assess
    const after = await partitions.readDay(DAY);
    expect(after.rows).toHaveLength(first.rows.length);
    expect(new Set(after.rows.map((row) => row.request_id)).size).toBe(first.rows.length);
  });

  it("fails a replacement, and publishes nothing, when a row of the files has no change, a change is foreign or repeated, or a value does not fit", async () => {
    // Prepare
    const { rows, token } = await partitions.readDay(DAY);
    const next = rows.map(repriced);
    const cases: [UsageRecord[], RegExp | typeof LakeEncodingError][] = [
      [next.slice(1), /of the replaced files has no change/],
      [[...next, { ...(next[0] as UsageRecord), request_id: "foreign-1" }], /holding \d+ request ids was given \d+ changes/],
      [[...next, next[0] as UsageRecord], /twice in a replacement's changes/],
      [[{ ...(next[0] as UsageRecord), cost_usd: "1e-3" }, ...next.slice(1)], LakeEncodingError],
    ];

    for (const [changes, failure] of cases) {
      // Act
      const error = await writer
        .writeReplacement((token as DayFiles).files, changes, join(lake.dir, "out", "replacement.parquet"))
        .catch((caught: unknown) => caught);

      // Assess
      if (failure instanceof RegExp) {
        expect(error).toBeInstanceOf(LakeWriteError);
        expect((error as Error).message).toMatch(failure);
      } else expect(error).toBeInstanceOf(failure);
      expect(existsSync(join(lake.dir, "out"))).toBe(false);
    }
    expect((await partitions.readDay(DAY)).rows).toHaveLength(rows.length);
  });

  it("writes a column the replaced files lack (written before it existed) as null, a map column as empty", async () => {
    // Prepare: a file of the 28th without service_tier and the performance columns, as an older lake writer wrote it.
    const old = { ...(records[0] as UsageRecord), request_id: "old-1", day: "28", event_time: "2026-11-28T10:00:00.000Z" };
    const directory = join(lake.dir, "lake/usage/year=2026/month=11/day=28");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    const select = dataColumns()
      .filter((column) => !["service_tier", "latency_ms", "performance_tier", "stop_reason", "profile_tags"].includes(column.name))
      .map((column) => {
        const value = (old as unknown as Record<string, unknown>)[column.name];
        if (column.type === "map") return `MAP {'tenantId': 'acme'} AS ${column.name}`;
        return `CAST(${value === null ? "NULL" : `'${String(value)}'`} AS ${duckDbType(column)}) AS ${column.name}`;
      })
      .join(", ");
    await mkdir(directory, { recursive: true });
    await connection.run(`COPY (SELECT ${select}) TO '${directory}/part-old.parquet' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    const { rows, token } = await partitions.readDay("2026-11-28");
    expect(rows[0]?.service_tier).toBeNull();
    expect(rows[0]?.latency_ms).toBeNull();
    expect(rows[0]?.profile_tags).toEqual({});

    // Act
    await partitions.replaceDay("2026-11-28", token, rows.map(repriced), "r-3");

    // Assess
    const after = await partitions.readDay("2026-11-28");
    expect(after.rows).toHaveLength(1);
    expect(after.rows[0]?.service_tier).toBeNull();
    expect(after.rows[0]?.stop_reason).toBeNull();
    expect(after.rows[0]?.profile_tags).toEqual({});
    expect(after.rows[0]?.price_version).toBe("repriced-v2");
    expect(after.rows[0]?.input_tokens).toBe(old.input_tokens);
  });

  it("discards what a reprice staged and never published", async () => {
    // Prepare
    const { rows, token } = await partitions.readDay(DAY);
    const staged = (await partitions.stageDay(DAY, token, rows.map(repriced), "r-4")) as StagedDay;
    expect(existsSync(staged.file)).toBe(true);

    // Act
    await partitions.discardStaged("r-4");

    // Assess
    expect(existsSync(staged.file)).toBe(false);
    expect((await partitions.readDay(DAY)).rows.map((row) => row.price_version)).not.toContain("repriced-v2");
  });
});
