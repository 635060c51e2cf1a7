/**
 * `reprice --stage`: the deployed stage's reprice job started and followed through the AWS SDK.
 * Step Functions, STS and CloudFormation have no local implementation: their clients are mocked
 * with the response shapes the APIs return; the audit trail is read from DynamoDB Local.
 */
import { randomUUID } from "node:crypto";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import type { RepriceStepResult } from "@bedrock-spend/pipeline";
import { createAggregatesTable, putRepriceAudit, type RepriceAudit } from "@bedrock-spend/store";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, inject, it } from "vitest";
import { type RepriceDeploymentOutput, repriceDeployment } from "../src/commands/reprice-deployment";
import { DeploymentJobError } from "../src/deployment";
import { UsageError } from "../src/errors";

const sfnMock = mockClient(SFNClient);
const stsMock = mockClient(STSClient);
const cfnMock = mockClient(CloudFormationClient);
afterEach(() => {
  sfnMock.reset();
  stsMock.reset();
  cfnMock.reset();
});

const CALLER = "arn:aws:sts::123456789012:assumed-role/finops-admin/alice";
const TARGET = { stage: "prod", region: "eu-west-1" };
const STATE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:bedrock-spend-prod-reprice";
const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:bedrock-spend-prod-reprice:reprice-1";
/** When the mocked executions started (a fixed instant: nothing here reads the machine clock). */
const STARTED = new Date("2026-12-01T10:00:00Z");

function clients(tableName = "unused") {
  stsMock.on(GetCallerIdentityCommand).resolves({ UserId: "AROAEXAMPLE:alice", Account: "123456789012", Arn: CALLER });
  cfnMock.on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Processing" }).resolves({
    Stacks: [
      {
        StackName: "prod-bedrock-spend-Processing",
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date("2026-10-01T00:00:00Z"),
        Outputs: [
          { OutputKey: "DeadLetterQueue", OutputValue: "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq" },
          { OutputKey: "AggregatesTable", OutputValue: tableName },
        ],
      },
    ],
  });
  return {
    sfn: new SFNClient({ region: "eu-west-1" }),
    sts: new STSClient({ region: "eu-west-1" }),
    cloudFormation: new CloudFormationClient({ region: "eu-west-1" }),
    dynamoDb: localDynamoDbClient(inject("dynamoDbEndpoint")),
  };
}

const STEP: RepriceStepResult = {
  repriceId: "20261201T100000000Z-abc123",
  done: true,
  waitSeconds: 0,
  status: "applied",
  stage: "done",
  invocations: 1_000,
  changed: 120,
  tenantMonths: 7,
  totalsBefore: "10.5",
  totalsAfter: "9.75",
  itemsCorrected: 40,
  invocationsCorrected: 0,
  lakeDaysRewritten: 3,
  lakeRowsRewritten: 120,
  reportLocation: null,
  lakeNextDay: null,
};

const options = { now: () => Date.parse("2026-12-01T10:00:00Z"), pollMs: 0, sleep: async () => {} };

function audit(id: string, status: RepriceAudit["status"]): RepriceAudit {
  return {
    id,
    status,
    stage: status === "applied" ? "done" : "aggregates",
    from: "2026-10",
    to: "2026-11",
    priceVersion: "2026-12-01+corrected",
    catalog: { kind: "overlay", origin: "corrected.json" },
    versionsBefore: ["2026-12-01"],
    actor: CALLER,
    startedAt: "2026-12-01T09:00:00.000Z",
    finishedAt: status === "applied" ? "2026-12-01T09:10:00.000Z" : null,
    totalsBefore: "10.5",
    totalsAfter: "9.75",
    invocations: 1000,
    changed: 120,
    tenantMonths: 7,
    unreconciled: [],
    error: null,
  };
}

describe("reprice --stage", () => {
  it("starts the stage's job as the caller with the catalog's content, and follows it to its end", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: STARTED });
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: EXECUTION, stateMachineArn: STATE_MACHINE, status: "RUNNING", startDate: STARTED })
      .resolves({
        executionArn: EXECUTION,
        stateMachineArn: STATE_MACHINE,
        status: "SUCCEEDED",
        startDate: STARTED,
        output: JSON.stringify({ input: {}, step: STEP }),
      });
    const source = { kind: "overlay" as const, json: { version: "corrected", models: [] }, origin: "corrected.json" };
    const progress: string[] = [];
    const result = (await repriceDeployment(
      TARGET,
      { kind: "reprice", from: "2026-10", to: "2026-11", source, dryRun: false, all: false, wait: true },
      clients(),
      {
        ...options,
        onProgress: (message) => progress.push(message),
      },
    )) as RepriceDeploymentOutput;

    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(STATE_MACHINE);
    expect(start?.name).toMatch(/^reprice-20261201T100000000Z-[0-9a-f]{8}$/);
    expect(JSON.parse(start?.input ?? "{}")).toEqual({ from: "2026-10", to: "2026-11", source, actor: CALLER });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
    expect(result).toEqual({ stage: "prod", executionArn: EXECUTION, step: STEP });
    expect(progress).toEqual([`started ${EXECUTION} (${CALLER}); it runs in the account, Ctrl-C does not stop it`, "job running", "job succeeded"]);
  });

  it("with --no-wait returns once the job is started; a dry run is named so", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: STARTED });
    const result = await repriceDeployment(
      TARGET,
      { kind: "reprice", from: "2026-10", to: "2026-10", source: { kind: "defaults" }, dryRun: true, all: true, wait: false },
      clients(),
      options,
    );
    expect(result).toEqual({ stage: "prod", executionArn: EXECUTION, step: null });
    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.name).toMatch(/^dry-run-/);
    expect(JSON.parse(start?.input ?? "{}")).toEqual({ from: "2026-10", to: "2026-10", source: { kind: "defaults" }, actor: CALLER, dryRun: true, all: true });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it("says how a job that failed ended, with Step Functions' error and cause", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: STARTED });
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      stateMachineArn: STATE_MACHINE,
      status: "FAILED",
      startDate: STARTED,
      error: "RepriceInProgressError",
      cause: "reprice 20261130-x is unfinished",
    });
    const failure = repriceDeployment(
      TARGET,
      { kind: "reprice", from: "2026-10", to: "2026-10", source: { kind: "defaults" }, dryRun: false, all: false, wait: true },
      clients(),
      options,
    );
    await expect(failure).rejects.toBeInstanceOf(DeploymentJobError);
    await expect(failure).rejects.toThrow(`the reprice job ${EXECUTION} ended FAILED: RepriceInProgressError: reprice 20261130-x is unfinished`);
  });

  it("reads the audit trail from the stage's table, and resumes the unfinished reprice by its id", async () => {
    const table = `stage-${randomUUID()}`;
    const dynamoDb = localDynamoDbClient(inject("dynamoDbEndpoint"));
    await createAggregatesTable(dynamoDb, table);
    await putRepriceAudit(dynamoDb, table, audit("20261101T000000000Z-old", "applied"));
    await putRepriceAudit(dynamoDb, table, audit("20261201T090000000Z-new", "running"));
    const history = await repriceDeployment(TARGET, { kind: "history" }, clients(table), options);
    expect((history as RepriceAudit[]).map((entry) => entry.id)).toEqual(["20261201T090000000Z-new", "20261101T000000000Z-old"]);

    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: STARTED });
    await repriceDeployment(TARGET, { kind: "resume", wait: false }, clients(table), options);
    expect(JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? "{}")).toEqual({
      resume: "20261201T090000000Z-new",
      actor: CALLER,
    });
    dynamoDb.destroy();
  });

  it("names a stage that is not deployed", async () => {
    const mocked = clients();
    cfnMock
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error("Stack with id prod-bedrock-spend-Processing does not exist"), { name: "ValidationError" }));
    const missing = repriceDeployment(TARGET, { kind: "history" }, mocked, options);
    await expect(missing).rejects.toBeInstanceOf(UsageError);
    await expect(missing).rejects.toThrow(
      "--stage prod: no stack prod-bedrock-spend-Processing in this account and Region (deploy with sst deploy --stage prod)",
    );
  });
});
