/**
 * The deployed reconciliation, end to end on local implementations: a lake written by the lake
 * writer (Parquet partitions as Firehose writes them) and a synthetic CUR 2.0 export (Parquet and
 * gzip CSV), queried by `AthenaReconcileSource`'s Athena SQL run on DuckDB with the Trino shims
 * (the local Athena) behind a stub of the Athena API answering with the service's response shapes
 * (a header row first, pages of 1,000 rows, `{}` for NULL). Its report must equal, field for
 * field, the local `reconcile` of the same export read by `readCur` and of the same invocations
 * priced one by one; the daily figures, the window and the range checks are tested too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, type Row, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { AthenaReconcileSource, type CurTableFormat } from "@bedrock-spend/adapters";
import { readCur, writeCurFiles } from "@bedrock-spend/bill";
import {
  defaultCatalog,
  fixedClock,
  LogUsageTally,
  logUsageOf,
  Pricer,
  parseInvocationLog,
  reconcile,
  StaticProfileMap,
  type UsageRecord,
  usageTypeMap,
} from "@bedrock-spend/core";
import { DuckDbLakeWriter, LocalAthena } from "@bedrock-spend/local-lake";
import { APPLICATION_PROFILES, generateBill, generateTraffic } from "@bedrock-spend/traffic";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_RECONCILE_DAYS, ReconcileRangeError, reconcileRange, reconcileWindow, runReconciliation } from "../src/reconcile-job";

const DATABASE = "bedrock_spend_test";
const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
const map = usageTypeMap({ units: { Units: 1_000_000 } });
const NOVA_MICRO = "amazon.nova-micro-v1:0";
const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";

let dir: string;
let traffic: UsageRecord[];
const athenas: LocalAthena[] = [];

/** The Athena API over a LocalAthena: each statement runs at once; results page 1,000 rows at a time after a header row. */
function athenaOver(local: LocalAthena): { client: AthenaClient; statements: string[] } {
  const client = new AthenaClient({ region: "us-east-1" });
  const mock = mockClient(client);
  const statements: string[] = [];
  const results = new Map<string, Promise<{ columns: string[]; rows: (string | null)[][] }>>();
  mock.on(StartQueryExecutionCommand).callsFake((input) => {
    const id = `q-${statements.length + 1}`;
    statements.push(input.QueryString);
    expect(input.QueryExecutionContext).toStrictEqual({ Catalog: "AwsDataCatalog", Database: DATABASE });
    // The local Athena has no database: the tables are views of the same names.
    const sql = String(input.QueryString).replaceAll(`"${DATABASE}".`, "");
    const run = local.query(sql).then((result) => ({
      columns: result.columns.map((column) => column.name),
      rows: result.rows.map((row) => result.columns.map((column) => (row[column.name] === null ? null : String(row[column.name])))),
    }));
    results.set(id, run);
    return { QueryExecutionId: id };
  });
  mock.on(GetQueryExecutionCommand).callsFake(async (input) => {
    const run = results.get(input.QueryExecutionId);
    try {
      await run;
      return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: "SUCCEEDED" } } };
    } catch (error) {
      return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: "FAILED", StateChangeReason: (error as Error).message } } };
    }
  });
  mock.on(GetQueryResultsCommand).callsFake(async (input) => {
    const { columns, rows } = await (results.get(input.QueryExecutionId) as Promise<{ columns: string[]; rows: (string | null)[][] }>);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page: Row[] = rows.slice(start, start + 999).map((row) => ({ Data: row.map((value) => (value === null ? {} : { VarCharValue: value })) }));
    if (start === 0) page.unshift({ Data: columns.map((name) => ({ VarCharValue: name })) });
    const next = start + 999 < rows.length ? String(start + 999) : undefined;
    return { ResultSet: { ResultSetMetadata: { ColumnInfo: columns.map((name) => ({ Name: name, Type: "varchar" })) }, Rows: page }, NextToken: next };
  });
  return { client, statements };
}

/** The CUR export as the Glue table of stacks/Reconcile.ts sees it: its columns, and `billing_period` from the partition. */
function curView(exportDir: string, format: "parquet" | "csv.gz") {
  const source =
    format === "parquet"
      ? `read_parquet('${exportDir}/**/*.parquet', hive_partitioning = true, hive_types = {'BILLING_PERIOD': VARCHAR}, union_by_name = true)`
      : `read_csv('${exportDir}/**/*.csv.gz', header = true, all_varchar = true, hive_partitioning = true, hive_types = {'BILLING_PERIOD': VARCHAR}, union_by_name = true)`;
  return { name: "cur", description: "the CUR export", sql: `SELECT * FROM ${source}`, columns: [] };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bedrock-spend-reconcile-job-"));
  traffic = [];
  for (const item of generateTraffic({ seed: "reconcile-job", count: 5000, start: "2026-11-29T00:00:00Z", ratePerSecond: 0.02, bodyBytes: 32 })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (parsed.ok) traffic.push(pricer.price(parsed.log).record);
  }
  const writer = await DuckDbLakeWriter.open({ lakeDir: join(dir, "lake"), threads: 1 });
  try {
    // Firehose delivers at least once: the lake holds the first 200 invocations twice.
    await writer.write(traffic);
    await writer.write(traffic.slice(0, 200));
  } finally {
    await writer.close();
  }
}, 120_000);

afterAll(async () => {
  for (const athena of athenas) await athena.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Function: runReconciliation (Athena over the CUR table and the lake)", () => {
  it.each(["parquet", "csv.gz"] as const)(
    "reports exactly what the local reconciliation reports, from a %s export",
    async (format) => {
      // Prepare: a bill with a rate 10% above the catalog's, Marketplace Haiku, a credit, tax and EDP, and an unfinished last day.
      const bill = generateBill(traffic, pricer, {
        marketplaceModels: [HAIKU],
        rateDrifts: [{ model: NOVA_MICRO, tokenClass: "output", percent: 10 }],
        creditUsd: "5",
        taxUsd: "0.75",
        edpPercent: 3,
        unknownUsageUsd: "0.42",
        openDayUntilHour: 14,
      });
      const exportDir = join(dir, `cur-${format}`);
      const files = await writeCurFiles(bill, exportDir, { format });
      const header = format === "parquet" ? undefined : Object.keys(bill[0] as object);
      const curFormat: CurTableFormat = header ? { kind: "csv", columns: header } : { kind: "parquet" };
      const local = await LocalAthena.open({ lakeDir: join(dir, "lake"), views: [curView(exportDir, format)], sandbox: false, threads: 1 });
      athenas.push(local);
      const { client, statements } = athenaOver(local);
      const source = new AthenaReconcileSource({
        athena: client,
        workGroup: "wg",
        database: DATABASE,
        curTable: "cur",
        curFormat,
        usageTable: "invocations",
        pollMs: 1,
      });
      const days = [...new Set(traffic.map((record) => record.event_time.slice(0, 10)))].sort();
      const from = days[0] as string;
      const to = days.at(-1) as string;

      // Act
      const run = await runReconciliation(
        { from, to },
        { source, pricer: async () => pricer, map, now: fixedClock(Date.parse("2026-12-10T06:00:00Z")), windowDays: 3 },
      );

      // Assess: the local reconciliation of the same export and the same invocations, each once.
      const read = await readCur(files, { from, to });
      const tally = new LogUsageTally();
      for (const record of traffic) tally.add(logUsageOf(record, pricer));
      const expected = reconcile(read.groups, tally.usages(), { map });
      expect(run.report).toStrictEqual(expected);
      expect(statements).toHaveLength(2);
      expect(statements[0]).toContain(`FROM "${DATABASE}"."cur"`);
      expect(statements[0]).toContain("billing_period IN ('2026-11', '2026-12')");
      expect(statements[1]).toContain(`FROM "${DATABASE}"."invocations"`);
      // The drift is there to find: Nova Micro's output at the bill's higher rate, on complete days only in the model figures.
      const micro = run.models.find((model) => model.model === NOVA_MICRO);
      expect(micro && Number(micro.driftUsd)).toBeGreaterThan(0);
      expect(run.days.map((day) => [day.day, day.complete])).toStrictEqual(days.map((day) => [day, day !== to]));
      expect(run.lastCompleteDay).toBe(days.at(-2));
      // The usage type no map knows, $0.42 a day over three days.
      expect(days).toHaveLength(3);
      expect(run.report.unmapped.map((line) => line.billCostUsd)).toContain("1.260000");
      expect(run.logGroups).toBeLessThan(traffic.length / 5);
    },
    120_000,
  );
});

describe("Function: reconcileRange", () => {
  const deps = { now: fixedClock(Date.parse("2027-01-01T00:30:00Z")), windowDays: 3 };

  it("defaults to the days ending yesterday, across a year's end", () => {
    expect(reconcileRange({}, deps)).toStrictEqual({ from: "2026-12-29", to: "2026-12-31" });
    expect(reconcileWindow(Date.parse("2028-03-01T00:00:00Z"), 2)).toStrictEqual({ from: "2028-02-28", to: "2028-02-29" });
  });

  it("takes one day for both ends when only one is given", () => {
    expect(reconcileRange({ from: "2026-11-03" }, deps)).toStrictEqual({ from: "2026-11-03", to: "2026-11-03" });
    expect(reconcileRange({ to: "2026-11-04" }, deps)).toStrictEqual({ from: "2026-11-04", to: "2026-11-04" });
  });

  it.each([
    [{ from: "2026-11-31" }, /from must be a UTC day/],
    [{ from: "2026-11-05", to: "2026-11-04" }, /from 2026-11-05 is after to 2026-11-04/],
    [{ from: "2026-01-01", to: "2026-03-31" }, new RegExp(`90 days; one run reconciles at most ${MAX_RECONCILE_DAYS}`)],
  ])("refuses %j", (event, message) => {
    expect(() => reconcileRange(event, deps)).toThrow(ReconcileRangeError);
    expect(() => reconcileRange(event, deps)).toThrow(message);
  });
});
