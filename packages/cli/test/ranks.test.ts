/**
 * `ranks status|sync --stage`: a deployed stage's rank entries, on its table. The table is
 * DynamoDB Local (the SDK pointed at it with AWS_ENDPOINT_URL_DYNAMODB); CloudFormation, which
 * names the table, is mocked with the shape DescribeStacks returns. The command runs in this
 * process with the credentials of a named profile from AWS config files of its own.
 */
import { randomUUID } from "node:crypto";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { AggregatesStore, createAggregatesTable, rankPk, UsageWriter } from "@bedrock-spend/store";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { invocation } from "../../store/test/helpers";
import { onlyTheOpsProfile, PROFILE, runStageCli } from "./helpers/stage-cli";

const cfnMock = mockClient(CloudFormationClient);
afterEach(() => {
  cfnMock.reset();
  vi.unstubAllEnvs();
});

/** When the commands run: 10 December 2026. */
const NOW = "2026-12-10T12:00:00Z";

/** A stage whose Processing stack names `tableName`, its table upgraded mid-December: three totals counted before this version. */
async function upgradedStage() {
  // DynamoDB Local keeps a table per access key and Region: this client signs as the ops profile, as the command does.
  const client = new DynamoDBClient({
    endpoint: inject("dynamoDbEndpoint"),
    region: PROFILE.region,
    credentials: { accessKeyId: PROFILE.accessKeyId, secretAccessKey: PROFILE.secretAccessKey },
  });
  const tableName = `prod-aggregates-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  await new UsageWriter({ client, tableName }).write([
    invocation("r1", { tenant: "acme", timestamp: "2026-12-01T08:00:00Z", input: 5000, output: 0 }),
    invocation("r2", { tenant: "globex", timestamp: "2026-12-02T08:00:00Z", input: 300, output: 0 }),
    invocation("r3", { tenant: "initech", timestamp: "2026-11-28T08:00:00Z", input: 300, output: 0 }),
  ]);
  onlyTheOpsProfile();
  vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", inject("dynamoDbEndpoint"));
  vi.stubEnv("BEDROCK_SPEND_NOW", NOW);
  cfnMock.on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Processing" }).resolves({
    Stacks: [
      {
        StackName: "prod-bedrock-spend-Processing",
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date("2026-10-01T00:00:00Z"),
        Outputs: [{ OutputKey: "AggregatesTable", OutputValue: tableName }],
      },
    ],
  });
  return { client, tableName, store: new AggregatesStore(client, tableName) };
}

const STAGE = ["--stage", "prod", "--profile", "ops"];

describe("bedrock-spend ranks --stage", () => {
  it("refuses to sync before the stream consumer wrote its marker, then syncs the month it was upgraded in", async () => {
    // Prepare
    const { client, tableName, store } = await upgradedStage();
    const early = await runStageCli(["ranks", "sync", "--month", "2026-12", ...STAGE, "--json"]);
    const unmarked = await runStageCli(["ranks", "status", ...STAGE]);
    // The consumer of this version first ran on 5 December.
    await store.markRankSince(Date.parse("2026-12-05T00:00:00Z") / 1000);

    // Act
    const before = await runStageCli(["ranks", "status", "--month", "2026-12", ...STAGE, "--json"]);
    const synced = await runStageCli(["ranks", "sync", "--month", "2026-12", ...STAGE, "--json"]);
    const after = await runStageCli(["ranks", "status", ...STAGE]);
    const january = await runStageCli(["ranks", "status", "--month", "2027-01", ...STAGE, "--json"]);

    // Assess
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/rank entries of 2026-12 not synced: the table's stream consumer \(the budget-alert function\) has not run/);
    expect(early.stderr).toContain("(the stage's budget-alert function runs on its next counted invocation)");
    expect(unmarked).toMatchObject({
      code: 0,
      stdout:
        "no rank marker yet: the table's stream consumer has not run since this version was deployed\n" +
        "2026-12: incomplete, ranked from the lake (sync it once the marker is written)\n",
    });
    expect(JSON.parse(before.stdout)).toStrictEqual({ since: "2026-12-05T00:00:00.000Z", month: "2026-12", complete: false });
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout)).toStrictEqual({ month: "2026-12", totals: 2, moved: 2, complete: true });
    expect(after).toMatchObject({
      code: 0,
      stdout: "entries follow every change since 2026-12-05T00:00:00.000Z\n2026-12: complete, ranked from its entries\n",
    });
    expect(JSON.parse(january.stdout)).toMatchObject({ month: "2027-01", complete: true });
    const entries = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: rankPk("2026-12") } },
        ScanIndexForward: false,
      }),
    );
    expect(entries.Items?.map((item) => item.tenantId?.S)).toStrictEqual(["acme", "globex"]);
    const markers = await client.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: "K#since" } } }),
    );
    expect(markers.Items?.find((item) => item.sk?.S === "M#2026-12")).toMatchObject({ syncedAt: { N: String(Date.parse(NOW) / 1000) }, totals: { N: "2" } });
  });

  it("names what is wrong with the arguments, and exits 2", async () => {
    // Act: one at a time (each captures this process's stdout and stderr).
    const results = [];
    for (const args of [["ranks", "sync", ...STAGE], ["ranks", "rebuild", "--month", "2026-12"], ["ranks", "status", "--month", "2026-13"], ["ranks"]])
      results.push(await runStageCli(args));

    // Assess
    expect(results.map((result) => result.code)).toStrictEqual([2, 2, 2, 2]);
    expect(results[0]?.stderr).toMatch(/ranks sync: --month YYYY-MM is required/);
    expect(results[1]?.stderr).toMatch(/ranks: expected "status" or "sync", got "rebuild"/);
    expect(results[2]?.stderr).toMatch(/--month must be a UTC calendar month YYYY-MM, got "2026-13"/);
    expect(results[3]?.stderr).toMatch(/ranks: expected "status" or "sync", got nothing/);
  });
});
