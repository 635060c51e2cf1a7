/**
 * `backfill --stage NAME` in this process: the source and the lake bucket on the S3 loopback
 * server, the stage's table on DynamoDB Local, and the services with no local implementation
 * (CloudFormation, STS, Kinesis, Athena, SQS) answering with AWS's recorded shapes. Live traffic
 * counted part of both months first (markers, aggregates, lake rows Athena reports); a run stopped
 * after a few hours, a second run, then the stream's records counted as the stage's consumers
 * count them: every tenant-month equals the ground truth, nothing was put or written twice.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeBytes, decodeText, defaultCatalog, Pricer, priceItems, recordCostPico, utcMonthOf } from "@bedrock-spend/core";
import { type S3Loopback, startS3Loopback } from "@bedrock-spend/emulators";
import { LocalAthena } from "@bedrock-spend/local-lake";
import { createAggregatesTable, scanMonthTotals, UsageWriter } from "@bedrock-spend/store";
import { generateTraffic, itemLine, s3LogObjects, type TrafficItem } from "@bedrock-spend/traffic";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { onlyTheOpsProfile, PROFILE, runStageCli } from "./helpers/stage-cli";

const NOW = "2026-12-02T09:00:00Z";
const cfn = mockClient(CloudFormationClient);
const sts = mockClient(STSClient);
const kinesis = mockClient(KinesisClient);
const athena = mockClient(AthenaClient);
const sqs = mockClient(SQSClient);

/** Each tenant-month's invocations and cost, as the table holds them. */
async function monthItems(client: DynamoDBClient, tableName: string): Promise<Map<string, { invocations: number; costPico: bigint }>> {
  const totals = await scanMonthTotals(client, tableName);
  return new Map([...totals].map(([key, counters]) => [key, { invocations: counters.invocations, costPico: counters.costPico }]));
}

describe("bedrock-spend backfill --stage", () => {
  let s3: S3Loopback;
  let client: DynamoDBClient;
  let scratch: string;
  const pricer = new Pricer({ catalog: defaultCatalog() });
  const items: TrafficItem[] = [
    ...generateTraffic({
      seed: 31,
      count: 400,
      tenants: 20,
      start: "2026-09-30T20:00:00Z",
      ratePerSecond: 400 / (8 * 3600),
      bodyBytes: 200,
      malformedFraction: 0.01,
    }),
    ...generateTraffic({
      seed: 32,
      count: 90,
      tenants: 20,
      start: "2026-11-30T10:00:00Z",
      ratePerSecond: 90 / (3 * 3600),
      bodyBytes: 200,
      permissionsLine: false,
      malformedFraction: 0,
    }),
  ];
  const priced = priceItems(
    items.flatMap((item) => decodeText(itemLine(item))),
    pricer,
  ).usage.map((outcome) => outcome.usage);

  beforeAll(async () => {
    s3 = await startS3Loopback({ buckets: ["bedrock-logs", "prod-lake"] });
    for (const object of s3LogObjects(items, { prefix: "logs/", linesPerObject: 40 })) s3.put("bedrock-logs", object.key, object.body);
    // DynamoDB Local keeps a table per access key and Region: the test's client signs as the ops profile, as the command does.
    client = new DynamoDBClient({
      endpoint: inject("dynamoDbEndpoint"),
      region: PROFILE.region,
      credentials: { accessKeyId: PROFILE.accessKeyId, secretAccessKey: PROFILE.secretAccessKey },
    });
    scratch = await mkdtemp(join(tmpdir(), "backfill-stage-"));
  });
  afterAll(async () => {
    await s3?.close();
    client?.destroy();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const mock of [cfn, sts, kinesis, athena, sqs]) mock.reset();
    vi.unstubAllEnvs();
  });

  it("counts history into a deployed stage once, across a stopped run and a second one", async () => {
    const tableName = `prod-aggregates-${randomUUID()}`;
    await createAggregatesTable(client, tableName);
    onlyTheOpsProfile();
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", inject("dynamoDbEndpoint"));
    vi.stubEnv("AWS_ENDPOINT_URL_S3", s3.endpoint);
    vi.stubEnv("BEDROCK_SPEND_NOW", NOW);

    // Live traffic counted every fifth invocation of both months: markers and aggregates in the table, rows in the lake.
    const live = priced.filter((_, index) => index % 5 === 0);
    const writer = new UsageWriter({ client, tableName, now: () => Date.parse(NOW) });
    await writer.write(live.map((usage) => ({ ...usage, origin: "live" })));
    const lakeRows = new Map<string, { request_id: string; path: string }[]>();
    for (const { record } of live) {
      const day = `${record.year}-${record.month}-${record.day}`;
      const rows = lakeRows.get(day) ?? [];
      rows.push({ request_id: record.request_id, path: `s3://prod-lake/usage/year=${record.year}/month=${record.month}/day=${record.day}/firehose-1.parquet` });
      lakeRows.set(day, rows);
    }

    const outputs: Record<string, Record<string, string>> = {
      Processing: { AggregatesTable: tableName, DeadLetterQueue: "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-dlq" },
      Ingest: { InvocationStream: "prod-bedrock-spend-invocations" },
      Lake: { LakeBucket: "prod-lake", GlueDatabase: "bedrock_spend_prod", GlueTable: "usage" },
      Analytics: { AthenaWorkGroup: "bedrock-spend-prod" },
    };
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      const stack = input.StackName.replace("prod-bedrock-spend-", "");
      return {
        Stacks: [
          {
            StackName: input.StackName,
            StackStatus: "UPDATE_COMPLETE",
            CreationTime: new Date(NOW),
            Outputs: Object.entries(outputs[stack] ?? {}).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          },
        ],
      };
    });
    sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012", Arn: "arn:aws:sts::123456789012:assumed-role/ops/me", UserId: "AROA:me" });
    const put: Uint8Array[] = [];
    let firstPut = true;
    kinesis.on(PutRecordsCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
      // The first request has its last entry throttled, as a hot shard answers: it is sent again, alone.
      const throttled = firstPut && input.Records.length > 1 ? input.Records.length - 1 : -1;
      firstPut = false;
      input.Records.forEach((record, index) => {
        if (index !== throttled) put.push(record.Data);
      });
      return {
        FailedRecordCount: throttled >= 0 ? 1 : 0,
        Records: input.Records.map((_, index) =>
          index === throttled
            ? { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard shardId-000000000000" }
            : { SequenceNumber: `${index}`, ShardId: "shardId-000000000000" },
        ),
      };
    });
    const queries = new Map<string, string>();
    athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string; WorkGroup?: string }) => {
      expect(input.WorkGroup).toBe("bedrock-spend-prod");
      const id = randomUUID();
      queries.set(id, input.QueryString);
      return { QueryExecutionId: id };
    });
    athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
      QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 1024 } },
    }));
    athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
      const match = /year = '(\d{4})' AND month = '(\d{2})' AND day = '(\d{2})'/.exec(queries.get(input.QueryExecutionId) ?? "");
      const rows = match ? (lakeRows.get(`${match[1]}-${match[2]}-${match[3]}`) ?? []) : [];
      return {
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: "request_id", Type: "varchar" },
              { Name: "path", Type: "varchar" },
            ],
          },
          Rows: [
            { Data: [{ VarCharValue: "request_id" }, { VarCharValue: "path" }] },
            ...rows.map((row) => ({ Data: [{ VarCharValue: row.request_id }, { VarCharValue: row.path }] })),
          ],
        },
      };
    });
    const quarantined: string[] = [];
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
      quarantined.push(...input.Entries.map((entry) => entry.MessageBody));
      return { Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: randomUUID(), MD5OfMessageBody: "" })), Failed: [] };
    });

    const args = ["backfill", "s3://bedrock-logs/logs/", "--stage", "prod", "--profile", "ops", "--json"];
    const first = await runStageCli([...args, "--max-hours", "3"]);
    if (first.stdout === "") throw new Error(first.stderr);
    expect(first.code, first.stderr).toBe(1);
    const one = JSON.parse(first.stdout);
    expect(one).toMatchObject({ interrupted: true, hoursRead: 3, liveVerified: false });
    const second = await runStageCli(args);
    expect(second.code, second.stderr).toBe(0);
    const two = JSON.parse(second.stdout);
    expect(two).toMatchObject({ interrupted: false, hoursResumed: 3 });
    for (const run of [one, two]) expect(run.read).toBe(run.counted + run.alreadyCounted + run.quarantined + run.dropped);
    expect(one.read + two.read).toBe(items.length);
    expect(one.alreadyCounted + two.alreadyCounted).toBe(live.length);
    expect(quarantined.length).toBe(items.filter((item) => item.kind === "malformed").length);

    // What went on the stream: each open-month invocation live traffic had not counted, once. The stage's consumers count it.
    const streamed = priceItems(
      put.flatMap((data) => decodeBytes(data)),
      pricer,
    ).usage.map((outcome) => outcome.usage);
    const liveIds = new Set(live.map((usage) => usage.record.request_id));
    const openIds = priced.filter((usage) => utcMonthOf(Date.parse(usage.record.event_time)) === "2026-11" && !liveIds.has(usage.record.request_id));
    expect(streamed.map((usage) => usage.record.request_id).sort()).toEqual(openIds.map((usage) => usage.record.request_id).sort());
    expect(one.countedLive + two.countedLive).toBe(openIds.length);
    const consumed = await writer.write(streamed.map((usage) => ({ ...usage, origin: "stream" })));
    expect(consumed.duplicates).toHaveLength(0);

    // The table: every tenant-month as the ground truth over distinct request ids.
    const expected = new Map<string, { invocations: number; costPico: bigint }>();
    for (const record of new Map(priced.map((usage) => [usage.record.request_id, usage.record])).values()) {
      const key = `${record.tenant_id}|${utcMonthOf(Date.parse(record.event_time))}`;
      const entry = expected.get(key) ?? { invocations: 0, costPico: 0n };
      entry.invocations++;
      entry.costPico += recordCostPico(record) ?? 0n;
      expected.set(key, entry);
    }
    expect(await monthItems(client, tableName)).toEqual(expected);

    // The lake bucket: the settled invocations live traffic had not counted, once, in the hours' own files.
    const keys = s3.keys("prod-lake");
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^usage\/year=2026\/month=(09|10)\/day=\d{2}\/backfill-[0-9a-f]{16}-123456789012-us-east-1-\d{10}_0\.parquet$/);
    const files: string[] = [];
    for (const [index, key] of keys.entries()) {
      const file = join(scratch, `${index}.parquet`);
      await writeFile(file, s3.get("prod-lake", key) as Buffer);
      files.push(file);
    }
    const reader = await LocalAthena.open({ lakeDir: scratch, views: [] });
    try {
      const { rows } = await reader.query(
        `SELECT count(*) AS n, count(DISTINCT request_id) AS ids FROM read_parquet([${files.map((file) => `'${file}'`).join(", ")}])`,
      );
      const settled = priced.filter((usage) => utcMonthOf(Date.parse(usage.record.event_time)) !== "2026-11" && !liveIds.has(usage.record.request_id)).length;
      expect(Number(rows[0]?.n)).toBe(settled);
      expect(Number(rows[0]?.ids)).toBe(settled);
      expect(one.countedSettled + two.countedSettled).toBe(settled);
    } finally {
      await reader.close();
    }
  }, 120_000);

  it("names the permission a refused call lacks", async () => {
    onlyTheOpsProfile();
    vi.stubEnv("AWS_ENDPOINT_URL_S3", s3.endpoint);
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(
        new Error(
          "User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: cloudformation:DescribeStacks on resource: arn:aws:cloudformation:eu-west-1:123456789012:stack/prod-bedrock-spend-Processing/*",
        ),
        {
          name: "AccessDenied",
          $metadata: { httpStatusCode: 403 },
        },
      ),
    );
    const refused = await runStageCli(["backfill", "s3://bedrock-logs/logs/", "--stage", "prod", "--profile", "ops"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("cloudformation:DescribeStacks");
    const both = await runStageCli(["backfill", "s3://bedrock-logs/logs/", "--stage", "prod", "--data-dir", "x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--data-dir and --stage are exclusive");
  });
});
