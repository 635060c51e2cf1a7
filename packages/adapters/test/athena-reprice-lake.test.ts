/**
 * Contract tests of the lake on AWS as a reprice reads and rewrites it: the exact Athena statements
 * and S3 requests, over an in-memory S3 and an Athena stub answering with the services' response
 * shapes (helpers/fake-lake.ts), and what a failed query or a stopped job turns into.
 */
import { gunzipSync } from "node:zlib";
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import type { UsageRecord } from "@bedrock-spend/core";
import { beforeEach, describe, expect, it } from "vitest";
import { AthenaQueryError } from "../src/athena-queries";
import { AthenaRepriceLake, type AthenaRepriceLake as Lake, LakeReplacementError, usageRecordOf } from "../src/athena-reprice-lake";
import { DATABASE, FakeAthena, FakeS3, LAKE, RESULTS, TABLE, usage, WORKGROUP } from "./helpers/fake-lake";

const DAY = "usage/year=2026/month=11/day=27/";

let s3: FakeS3;
let athena: FakeAthena;
let lake: Lake;

function newLake(overrides: Partial<ConstructorParameters<typeof AthenaRepriceLake>[0]> = {}): Lake {
  return new AthenaRepriceLake({
    athena: athena.client,
    s3: s3.client,
    bucket: LAKE,
    database: DATABASE,
    table: TABLE,
    workGroup: WORKGROUP,
    resultsBucket: RESULTS,
    sleep: async () => {},
    attemptId: () => "a1",
    ...overrides,
  });
}

/** A record as `readDay` gives it back: the timestamp with milliseconds, the decimal with 12 digits. */
function asRead(record: UsageRecord): UsageRecord {
  const [whole, fraction = ""] = String(record.cost_usd ?? "").split(".");
  return {
    ...record,
    event_time: `${new Date(record.event_time).toISOString().slice(0, 23)}Z`,
    cost_usd: record.cost_usd === null ? null : `${whole}.${fraction.padEnd(12, "0")}`,
  };
}

/** A record repriced: another cost and version (what runReprice hands to replaceDay). */
function repriced(record: UsageRecord): UsageRecord {
  return { ...asRead(record), cost_usd: "0.000999000000", price_version: "2026-12-01" };
}

beforeEach(() => {
  s3 = new FakeS3();
  athena = new FakeAthena(s3);
  lake = newLake();
});

describe("Class: AthenaRepriceLake — days and reads", () => {
  it("lists the days of a month that hold data objects, across list pages, ignoring _ files and other months", async () => {
    // Prepare
    s3.putRows("usage/year=2026/month=11/day=03/part-1", [usage("a")]);
    s3.putRows("usage/year=2026/month=11/day=03/part-2", [usage("b")]);
    s3.putRows("usage/year=2026/month=11/day=27/part-1", [usage("c")]);
    s3.objects.set(`${LAKE}/usage/year=2026/month=11/day=14/_SUCCESS`, Buffer.from(""));
    s3.putRows("usage/year=2026/month=12/day=01/part-1", [usage("d")]);

    // Act
    const days = await lake.days("2026-11");

    // Assess
    expect(days).toStrictEqual(["2026-11-03", "2026-11-27"]);
  });

  it("selects exactly the listed objects of the partition, in the workgroup and database, and parses every column", async () => {
    // Prepare
    const first = usage("r1", "2026-11-27T10:00:00Z");
    const second = { ...usage("r2", "2026-11-27T11:30:00.250Z", { model: "us.acme.unknown-v1:0" }), tenant_group: null };
    s3.putRows(`${DAY}part-1`, [first]);
    s3.putRows(`${DAY}part-2`, [second]);

    // Act
    const { rows, token } = await lake.readDay("2026-11-27");

    // Assess
    expect(token).toStrictEqual({ keys: [`${DAY}part-1`, `${DAY}part-2`] });
    expect(rows).toStrictEqual([asRead(first), asRead(second)]);
    expect(rows[1]?.status).toBe("unpriced");
    expect(rows[1]?.cost_usd).toBeNull();
    expect(rows[0]?.metadata).toStrictEqual({ tenantId: "acme", team: "search" });
    const [select] = athena.queries;
    expect(select).toMatchObject({ workGroup: WORKGROUP, database: DATABASE });
    expect(select?.sql).toContain(`FROM "${DATABASE}"."${TABLE}" WHERE year = '2026' AND month = '11' AND day = '27' AND "$path" IN (`);
    expect(select?.sql).toContain(`'s3://${LAKE}/${DAY}part-1', 's3://${LAKE}/${DAY}part-2'`);
    expect(select?.sql).toContain(`to_iso8601("event_time") || 'Z' AS "event_time"`);
    expect(select?.sql).toContain(`CAST("cost_usd" AS varchar) AS "cost_usd"`);
    expect(select?.sql).toContain(`json_format(CAST("metadata" AS JSON)) AS "metadata"`);
  });

  it("reads every GetQueryResults page, skipping only the header row of the first", async () => {
    // Prepare: 7 rows + header over pages of 3.
    const records = Array.from({ length: 7 }, (_, index) => usage(`p${index}`));
    s3.putRows(`${DAY}part-1`, records);

    // Act
    const { rows } = await lake.readDay("2026-11-27");

    // Assess
    expect(rows.map((row) => row.request_id)).toStrictEqual(records.map((record) => record.request_id));
    const pages = athena.mock.commandCalls(GetQueryResultsCommand).map((call) => call.args[0].input);
    expect(pages.map((input) => input.NextToken)).toStrictEqual([undefined, "3", "6"]);
    expect(pages.every((input) => input.MaxResults === 1000)).toBe(true);
  });

  it("polls a running query until it succeeds", async () => {
    // Prepare
    athena.runningPolls = 3;
    s3.putRows(`${DAY}part-1`, [usage("r1")]);

    // Act
    await lake.readDay("2026-11-27");

    // Assess
    expect(athena.mock.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
  });

  it("splits a partition of many objects into queries of keysPerQuery paths", async () => {
    // Prepare
    lake = newLake({ keysPerQuery: 2 });
    for (const name of ["p1", "p2", "p3"]) s3.putRows(`${DAY}${name}`, [usage(name)]);

    // Act
    const { rows } = await lake.readDay("2026-11-27");

    // Assess
    expect(rows.map((row) => row.request_id).sort()).toStrictEqual(["p1", "p2", "p3"]);
    expect(athena.mock.commandCalls(StartQueryExecutionCommand)).toHaveLength(2);
  });

  it("counts each tenant's distinct request ids of a month in one query over its partitions, a duplicate once", async () => {
    // Prepare: r1 delivered twice (Firehose is at least once), another month apart.
    s3.putRows("usage/year=2026/month=11/day=03/part-1", [usage("r1", "2026-11-03T10:00:00Z"), usage("r2", "2026-11-03T11:00:00Z", { tenant: "globex" })]);
    s3.putRows("usage/year=2026/month=11/day=27/part-1", [usage("r1", "2026-11-03T10:00:00Z"), usage("r3")]);
    s3.putRows("usage/year=2026/month=12/day=01/part-1", [usage("r4", "2026-12-01T10:00:00Z")]);

    // Act
    const counts = await lake.invocationsByTenant("2026-11");

    // Assess
    expect(counts).toStrictEqual(
      new Map([
        ["acme", 2],
        ["globex", 1],
      ]),
    );
    expect(athena.queries).toHaveLength(1);
    expect(athena.queries[0]?.sql).toBe(
      `SELECT tenant_id, count(DISTINCT request_id) AS invocations FROM "${DATABASE}"."${TABLE}" WHERE year = '2026' AND month = '11' GROUP BY tenant_id`,
    );
    expect(athena.queries[0]).toMatchObject({ workGroup: WORKGROUP, database: DATABASE });
  });

  it("reads an empty partition without a query", async () => {
    // Act
    const result = await lake.readDay("2026-11-27");

    // Assess
    expect(result).toStrictEqual({ rows: [], token: { keys: [] } });
    expect(athena.queries).toHaveLength(0);
  });

  it("turns a FAILED query into an AthenaQueryError with Athena's StateChangeReason", async () => {
    // Prepare
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    athena.failWhen = { sql: /^SELECT/, reason: "HIVE_BAD_DATA: Malformed Parquet file. Expected magic number at tail" };

    // Act
    const failure = await lake.readDay("2026-11-27").catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AthenaQueryError);
    expect((failure as AthenaQueryError).state).toBe("FAILED");
    expect((failure as Error).message).toMatch(/HIVE_BAD_DATA: Malformed Parquet file/);
  });

  it("parses a result row as Athena returns it: text values, {} for NULL, the partition from the day", () => {
    // Act
    const record = usageRecordOf(
      {
        request_id: "r1",
        event_time: "2026-11-27T10:00:00.000Z",
        model_id: "m",
        input_tokens: "1200",
        output_tokens: "30",
        cache_read_tokens: "0",
        cache_write_tokens: "0",
        cache_write_1h_tokens: null,
        metadata: null,
        cost_usd: "0.001230000000",
        status: "priced",
      },
      "2026",
      "11",
      "27",
    );

    // Assess
    expect(record).toMatchObject({
      request_id: "r1",
      input_tokens: 1200,
      cache_write_1h_tokens: null,
      metadata: {},
      latency_ms: null,
      profile_tags: {},
      cost_usd: "0.001230000000",
      region: null,
      year: "2026",
      month: "11",
      day: "27",
    });
  });
});

describe("Class: AthenaRepriceLake — replacing a day", () => {
  it("stages the rows as gzipped JSON, has Athena write Parquet by CTAS, copies it in and moves the replaced objects to history/<id>/", async () => {
    // Prepare
    const records = [usage("r1"), usage("r2"), usage("r3")];
    s3.putRows(`${DAY}part-1`, records.slice(0, 2));
    s3.putRows(`${DAY}part-2`, records.slice(2));
    const { rows, token } = await lake.readDay("2026-11-27");
    s3.putRows(`${DAY}part-3-late`, [usage("late")]);

    // Act
    await lake.replaceDay("2026-11-27", token, rows.map(repriced), "20261202T100000000Z-abc123");

    // Assess: the staged rows
    const staged = gunzipSync(s3.objects.get(`${RESULTS}/reprice/20261202T100000000Z-abc123/2026-11-27/a1/input/rows.json.gz`) as Buffer)
      .toString("utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(staged.map((document) => document.request_id)).toStrictEqual(["r1", "r2", "r3"]);
    expect(staged[0]).toMatchObject({ cost_usd: "0.000999000000", price_version: "2026-12-01" });
    expect(Object.keys(staged[0])).not.toContain("year");
    // the statements
    const tag = "20261202t100000000z_abc123_2026_11_27_a1";
    expect(athena.statements(/^CREATE EXTERNAL TABLE/)).toStrictEqual([
      expect.stringMatching(
        new RegExp(
          `^CREATE EXTERNAL TABLE \`${DATABASE}\`\\.\`reprice_in_${tag}\` \\(\`request_id\` string, \`event_time\` string, .*\`metadata\` map<string,string>, .*\`cost_usd\` string, .*\\) ROW FORMAT SERDE 'org\\.openx\\.data\\.jsonserde\\.JsonSerDe' LOCATION 's3://${RESULTS}/reprice/20261202T100000000Z-abc123/2026-11-27/a1/input/'$`,
        ),
      ),
    ]);
    const [ctas] = athena.statements(/^CREATE TABLE/);
    expect(ctas).toContain(`CREATE TABLE "${DATABASE}"."reprice_out_${tag}" WITH (format = 'PARQUET', write_compression = 'SNAPPY') AS SELECT "request_id", `);
    expect(ctas).toContain(`CAST(from_iso8601_timestamp("event_time") AT TIME ZONE 'UTC' AS timestamp) AS "event_time"`);
    expect(ctas).toContain(`CAST("cost_usd" AS decimal(38,12)) AS "cost_usd"`);
    expect(athena.statements(/^DROP TABLE/)).toStrictEqual([
      `DROP TABLE IF EXISTS \`${DATABASE}\`.\`reprice_out_${tag}\``,
      `DROP TABLE IF EXISTS \`${DATABASE}\`.\`reprice_in_${tag}\``,
    ]);
    expect(athena.tables.size).toBe(0);
    // the lake
    expect(s3.keys(LAKE, DAY)).toStrictEqual([
      `${DAY}part-3-late`,
      `${DAY}reprice-20261202T100000000Z-abc123-20261202_100003_00017_abcde_0`,
      `${DAY}reprice-20261202T100000000Z-abc123-20261202_100003_00017_abcde_1`,
    ]);
    expect(s3.keys(LAKE, "history/")).toStrictEqual([
      "history/20261202T100000000Z-abc123/year=2026/month=11/day=27/part-1",
      "history/20261202T100000000Z-abc123/year=2026/month=11/day=27/part-2",
    ]);
    expect(s3.rows(LAKE, "history/20261202T100000000Z-abc123/year=2026/month=11/day=27/part-1").map((row) => row.request_id)).toStrictEqual(["r1", "r2"]);
    // read again: the repriced rows once each, and the late row as delivered
    const after = await lake.readDay("2026-11-27");
    expect(after.rows.map((row) => [row.request_id, row.price_version]).sort()).toStrictEqual([
      ["late", records[0]?.price_version],
      ["r1", "2026-12-01"],
      ["r2", "2026-12-01"],
      ["r3", "2026-12-01"],
    ]);
  });

  it("completes a replacement a stopped job left half done when the day is read again: each row once, the old objects in history", async () => {
    // Prepare: the job stops after the copies, before the second replaced object is moved.
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    s3.putRows(`${DAY}part-2`, [usage("r2")]);
    const { rows, token } = await lake.readDay("2026-11-27");
    const crash = Object.assign(new Error("Task timed out after 900.00 seconds"), { name: "TimeoutError" });
    s3.failures.push({ command: "DeleteObject", key: /part-2$/, error: crash });
    const stopped = await lake.replaceDay("2026-11-27", token, rows.map(repriced), "rp-1").catch((error: unknown) => error);
    expect(stopped).toBe(crash);
    expect(s3.keys(LAKE, "history/_pending/")).toStrictEqual(["history/_pending/2026-11-27.json"]);

    // Act
    const resumed = await newLake().readDay("2026-11-27");

    // Assess
    expect(resumed.rows.map((row) => [row.request_id, row.price_version]).sort()).toStrictEqual([
      ["r1", "2026-12-01"],
      ["r2", "2026-12-01"],
    ]);
    expect(s3.keys(LAKE, "history/")).toStrictEqual(["history/rp-1/year=2026/month=11/day=27/part-1", "history/rp-1/year=2026/month=11/day=27/part-2"]);
  });

  it("completes a replacement stopped before any copy (the journal written) the same way", async () => {
    // Prepare
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    const { rows, token } = await lake.readDay("2026-11-27");
    s3.failures.push({ command: "CopyObject", key: /reprice-rp-1/, error: new Error("socket hang up") });
    await expect(lake.replaceDay("2026-11-27", token, rows.map(repriced), "rp-1")).rejects.toThrow("socket hang up");
    expect(s3.keys(LAKE, DAY)).toStrictEqual([`${DAY}part-1`]);

    // Act
    const resumed = await lake.readDay("2026-11-27");

    // Assess
    expect(resumed.rows.map((row) => row.price_version)).toStrictEqual(["2026-12-01"]);
    expect(s3.keys(LAKE, "history/")).toStrictEqual(["history/rp-1/year=2026/month=11/day=27/part-1"]);
  });

  it("leaves the partition untouched and drops its temporary tables when the CTAS fails", async () => {
    // Prepare
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    const { rows, token } = await lake.readDay("2026-11-27");
    athena.failWhen = { sql: /^CREATE TABLE/, reason: "HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists" };

    // Act
    const failure = await lake.replaceDay("2026-11-27", token, rows.map(repriced), "rp-1").catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AthenaQueryError);
    expect(athena.statements(/^DROP TABLE/)).toHaveLength(2);
    expect(s3.keys(LAKE)).toStrictEqual([`${DAY}part-1`]);
  });

  it("refuses to start a replacement while another of the same day is pending", async () => {
    // Prepare
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    const { rows, token } = await lake.readDay("2026-11-27");
    s3.objects.set(`${LAKE}/history/_pending/2026-11-27.json`, Buffer.from(JSON.stringify({ repriceId: "other", day: "2026-11-27", replaced: [], added: [] })));

    // Act
    const failure = await lake.replaceDay("2026-11-27", token, rows.map(repriced), "rp-1").catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(LakeReplacementError);
    expect(s3.keys(LAKE, DAY)).toStrictEqual([`${DAY}part-1`]);
  });

  it("says so, and changes nothing, when a pending replacement's staged files are gone", async () => {
    // Prepare
    s3.putRows(`${DAY}part-1`, [usage("r1")]);
    const journal = {
      repriceId: "rp-0",
      day: "2026-11-27",
      replaced: [`${DAY}part-1`],
      added: [{ source: `s3://${RESULTS}/tables/q/f0`, key: `${DAY}reprice-rp-0-f0` }],
    };
    s3.objects.set(`${LAKE}/history/_pending/2026-11-27.json`, Buffer.from(JSON.stringify(journal)));

    // Act
    const failure = await lake.readDay("2026-11-27").catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(LakeReplacementError);
    expect((failure as Error).message).toMatch(/is gone/);
    expect(s3.keys(LAKE, DAY)).toStrictEqual([`${DAY}part-1`]);
  });
});
