/**
 * `reprice --stage`: the deployed stage's reprice job started and followed through the AWS SDK.
 * Step Functions, STS and CloudFormation have no local implementation: their clients are mocked
 * with the response shapes the APIs return (their errors too: a refused call, an expired session);
 * the audit trail is read from DynamoDB Local. The command itself runs in this process, with the
 * credentials of a named profile (--profile) from AWS config files of its own.
 */
import { randomUUID } from "node:crypto";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient, DynamoDBServiceException, QueryCommand } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient, SFNServiceException, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import type { RepriceStepResult } from "@bedrock-spend/pipeline";
import { createAggregatesTable, putRepriceAudit, type RepriceAudit } from "@bedrock-spend/store";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { type RepriceDeploymentOutput, repriceDeployment } from "../src/commands/reprice-deployment";
import { DeploymentJobError } from "../src/deployment";
import { CommandFailure, UsageError } from "../src/errors";
import { onlyTheOpsProfile, PROFILE, runStageCli, signingOf } from "./helpers/stage-cli";

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

describe("bedrock-spend reprice --stage (the command)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const reprice = ["reprice", "--from", "2026-10", "--to", "2026-10", "--stage", "prod"];

  it("calls the stage with the credentials and the Region of the --profile", async () => {
    // Prepare: the profile's keys are the only credentials the SDK can find
    onlyTheOpsProfile();
    const signing: { accessKeyId: string; region: string }[] = [];
    stsMock.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      signing.push(await signingOf(getClient()));
      return { UserId: "AROAEXAMPLE:alice", Account: "123456789012", Arn: CALLER };
    });
    sfnMock.on(StartExecutionCommand).callsFake(async (_input, getClient) => {
      signing.push(await signingOf(getClient()));
      return { executionArn: EXECUTION, startDate: STARTED };
    });

    // Act
    const result = await runStageCli([...reprice, "--profile", PROFILE.name, "--no-wait", "--json"]);

    // Assess: the state machine of the profile's Region (no --region given)
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ stage: "prod", executionArn: EXECUTION, step: null });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(STATE_MACHINE);
    expect(signing).toEqual([
      { accessKeyId: PROFILE.accessKeyId, region: PROFILE.region },
      { accessKeyId: PROFILE.accessKeyId, region: PROFILE.region },
    ]);
    expect(process.env.AWS_PROFILE).toBe(PROFILE.name);
  });

  it("exits 2 for --profile, --region or --no-wait without --stage and for an empty --profile, before any AWS call", async () => {
    // Act
    const results = [];
    for (const args of [
      ["reprice", "--from", "2026-10", "--profile", "ops"],
      ["reprice", "--history", "--region", "eu-west-1"],
      ["reprice", "--from", "2026-10", "--no-wait"],
      ["reprice", "--history", "--stage", "prod", "--profile", " "],
      [...reprice, "--data-dir", ".bedrock-spend"],
    ])
      results.push(await runStageCli(args));

    // Assess
    expect(results.map(({ code, stderr }) => [code, stderr.split("\n")[0]])).toEqual([
      [2, "bedrock-spend: error: --profile is for a deployed stage (--stage)"],
      [2, "bedrock-spend: error: --region is for a deployed stage (--stage)"],
      [2, "bedrock-spend: error: reprice: --no-wait is for a deployed stage (--stage)"],
      [2, "bedrock-spend: error: --profile must not be empty"],
      [2, "bedrock-spend: error: --data-dir and --stage are exclusive: a data dir is local, a stage is deployed"],
    ]);
    for (const { stderr } of results) expect(stderr).toContain("  --profile P       the AWS profile to call it with");
    expect([...stsMock.calls(), ...sfnMock.calls(), ...cfnMock.calls()]).toHaveLength(0);
  });

  it("says which permission the caller lacks, and when its session has expired (exit status 1)", async () => {
    // Prepare: Step Functions' answer to a caller without states:StartExecution
    clients();
    const refusal =
      "User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: states:StartExecution on resource: " +
      `${STATE_MACHINE} because no identity-based policy allows the states:StartExecution action`;
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new SFNServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 400 }, message: refusal }));

    // Act
    const denied = await runStageCli([...reprice, "--region", "eu-west-1"]);
    stsMock.reset();
    stsMock.on(GetCallerIdentityCommand).rejects(
      new STSServiceException({
        name: "ExpiredToken",
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
        message: "The security token included in the request is expired",
      }),
    );
    const expired = await runStageCli([...reprice, "--region", "eu-west-1"]);

    // Assess
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      `bedrock-spend: error: the caller lacks states:StartExecution on the state machine ${STATE_MACHINE} (AccessDeniedException: ${refusal})\n`,
    );
    expect(expired.code).toBe(1);
    expect(expired.stderr).toBe(
      "bedrock-spend: error: sts:GetCallerIdentity on STS: the AWS session has expired (ExpiredToken: The security token included in the request is expired); renew it (aws sso login, or new keys for the profile) and run the command again\n",
    );
  });

  it("says which permission reading the audit trail lacks", async () => {
    // Prepare: DynamoDB's refusal of a Query on the stage's table
    const mocked = { ...clients("prod-bedrock-spend-Processing-AggregatesDCEBC1D6-1A2B3C4D5E6F"), dynamoDb: new DynamoDBClient({ region: "eu-west-1" }) };
    const refusal =
      "User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/prod-bedrock-spend-Processing-AggregatesDCEBC1D6-1A2B3C4D5E6F because no identity-based policy allows the dynamodb:Query action";
    mockClient(mocked.dynamoDb)
      .on(QueryCommand)
      .rejects(new DynamoDBServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 400 }, message: refusal }));

    // Act
    const failure = await repriceDeployment(TARGET, { kind: "history" }, mocked, options).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toBe(
      `the caller lacks dynamodb:Query on the table prod-bedrock-spend-Processing-AggregatesDCEBC1D6-1A2B3C4D5E6F (AccessDeniedException: ${refusal})`,
    );
  });
});
