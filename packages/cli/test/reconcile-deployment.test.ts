/**
 * `reconcile --stage`: the deployed stage's reconcile function invoked through the AWS SDK, and a
 * report too large for Lambda's response read where the function kept it. Lambda and S3 here have
 * no local implementation for a function's invocation: their clients are mocked with the
 * responses the APIs return (a `FunctionError` with Lambda's error document, a
 * `ResourceNotFoundException`, a refusal), and the function's side is tested in
 * functions/test/reconcile.test.ts. The command itself runs in this process, with the credentials
 * of a named profile (--profile) from AWS config files of its own.
 */
import { InvokeCommand, LambdaClient, LambdaServiceException, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ReconcileReport } from "@bedrock-spend/core";
import type { ReconcileResult } from "@bedrock-spend/pipeline";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DeploymentReconcileError, reconcileDeployment, reconcileFunctionName } from "../src/commands/reconcile-deployment";
import { onlyTheOpsProfile, PROFILE, runStageCli, signingOf } from "./helpers/stage-cli";

const lambdaMock = mockClient(LambdaClient);
const s3Mock = mockClient(S3Client);
afterEach(() => {
  lambdaMock.reset();
  s3Mock.reset();
});

const TARGET = { stage: "prod", region: "eu-west-1" };
const clients = () => ({ lambda: new LambdaClient({ region: "eu-west-1" }), s3: new S3Client({ region: "eu-west-1" }) });
const REPORT: ReconcileReport = {
  rows: [
    {
      day: "2026-11-29",
      region: "us-east-1",
      model: "amazon.nova-lite-v1:0",
      tokenClass: "input",
      tier: "standard",
      logTokens: 1000,
      billTokens: 1000,
      logCostUsd: "0.000060",
      billCostUsd: "0.000066",
      driftUsd: "0.000006",
      driftPct: "9.09",
      likelyCause: "a rate different from the catalog: the bill's rate is 0.000066 USD per 1K tokens",
    },
  ],
  unmapped: [],
  totals: { logCostUsd: "0.000060", billCostUsd: "0.000066", unmappedCostUsd: "0.000000", netBillCostUsd: "0.000066", driftUsd: "0.000006", driftPct: "9.09" },
};
const RESULT: ReconcileResult = {
  from: "2026-11-28",
  to: "2026-11-30",
  days: [{ day: "2026-11-29", logCostUsd: "0.000060", billCostUsd: "0.000066", driftUsd: "0.000006", driftPct: "9.09", complete: true }],
  models: [],
  lastCompleteDay: "2026-11-29",
  worstDay: null,
  billGroups: 1,
  logGroups: 1,
  totals: REPORT.totals,
  rows: 1,
  unmapped: 0,
  reportLocation: "s3://prod-results/reconcile/reports/2026-11-28_2026-11-30.json",
  report: REPORT,
};
/** A response payload: the SDK's blob adapter is a Uint8Array, which is all the command reads. */
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

describe("reconcile --stage", () => {
  it("invokes the stage's reconcile function with the range and returns its report", async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, ExecutedVersion: "$LATEST", Payload: payload(RESULT) });

    // Act
    const { result, report } = await reconcileDeployment(TARGET, { from: "2026-11-28", to: "2026-11-30" }, clients());

    // Assess
    const call = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ FunctionName: "bedrock-spend-prod-reconcile", InvocationType: "RequestResponse" });
    expect(JSON.parse(new TextDecoder().decode(call?.Payload as Uint8Array))).toStrictEqual({ from: "2026-11-28", to: "2026-11-30" });
    expect(report).toStrictEqual(REPORT);
    expect(result.lastCompleteDay).toBe("2026-11-29");
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("reads a report too large for Lambda's response where the function kept it", async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ ...RESULT, report: null }) });
    s3Mock
      .on(GetObjectCommand, { Bucket: "prod-results", Key: "reconcile/reports/2026-11-28_2026-11-30.json" })
      // The SDK's stream body, as far as the command reads it.
      .resolves({ Body: { transformToString: async () => JSON.stringify({ from: "2026-11-28", to: "2026-11-30", ...REPORT }) } as never });

    // Act
    const { report } = await reconcileDeployment(TARGET, {}, clients());

    // Assess
    expect(report).toStrictEqual(REPORT);
    expect(JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array))).toStrictEqual({});
  });

  it("names the function's error when the run fails", async () => {
    // Prepare: Lambda's error document of an unhandled error.
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: payload({ errorType: "ReconcileRangeError", errorMessage: 'from must be a UTC day YYYY-MM-DD, got "2026-11-31"', trace: [] }),
    });

    // Act
    const failure = await reconcileDeployment(TARGET, { from: "2026-11-31" }, clients()).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DeploymentReconcileError);
    expect((failure as Error).message).toBe(
      'bedrock-spend-prod-reconcile: the reconciliation failed (Unhandled): ReconcileRangeError: from must be a UTC day YYYY-MM-DD, got "2026-11-31"',
    );
  });

  it("says how to deploy the reconciliation when the stage has none", async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).rejects(
      new ResourceNotFoundException({
        message: "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:bedrock-spend-prod-reconcile",
        $metadata: {},
      }),
    );

    // Act
    const failure = await reconcileDeployment(TARGET, {}, clients()).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DeploymentReconcileError);
    expect((failure as Error).message).toMatch(/stage prod has no reconcile function: deploy it with BEDROCK_SPEND_CUR_BUCKET/);
    expect(reconcileFunctionName("staging")).toBe("bedrock-spend-staging-reconcile");
  });
});

describe("bedrock-spend reconcile --stage (the command)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("invokes the stage's function with the credentials and the Region of the --profile", async () => {
    // Prepare: the profile's keys are the only credentials the SDK can find
    onlyTheOpsProfile();
    const signing: { accessKeyId: string; region: string }[] = [];
    lambdaMock.on(InvokeCommand).callsFake(async (_input, getClient) => {
      signing.push(await signingOf(getClient()));
      return { StatusCode: 200, Payload: payload(RESULT) };
    });

    // Act
    const result = await runStageCli(["reconcile", "--stage", "prod", "--profile", PROFILE.name, "--from", "2026-11-28", "--to", "2026-11-30", "--json"]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toStrictEqual(REPORT);
    expect(signing).toEqual([{ accessKeyId: PROFILE.accessKeyId, region: PROFILE.region }]);
    expect(process.env.AWS_PROFILE).toBe(PROFILE.name);
  });

  it("exits 2 for --profile or --region without --stage, an empty --profile, and local options with --stage", async () => {
    // Act
    const results = [];
    for (const args of [
      ["reconcile", "--cur", "cur/", "--profile", "ops"],
      ["reconcile", "--cur", "cur/", "--region", "eu-west-1"],
      ["reconcile", "--stage", "prod", "--profile", ""],
      ["reconcile", "--stage", "prod", "--profile", "ops", "--cur", "cur/"],
    ])
      results.push(await runStageCli(args));

    // Assess
    expect(results.map(({ code, stderr }) => [code, stderr.split("\n")[0]])).toEqual([
      [2, "bedrock-spend: error: --profile is for a deployed stage (--stage)"],
      [2, "bedrock-spend: error: --region is for a deployed stage (--stage)"],
      [2, "bedrock-spend: error: --profile must not be empty"],
      [2, "bedrock-spend: error: reconcile: --cur is not for --stage: the stage reconciles its own CUR export and lake, with its own configuration"],
    ]);
    for (const { stderr } of results) expect(stderr).toContain("  --profile P         the AWS profile to call it with");
    expect(lambdaMock.calls()).toHaveLength(0);
  });

  it("says which permission the caller lacks (exit status 1)", async () => {
    // Prepare: Lambda's answer to a caller without lambda:InvokeFunction
    const refusal =
      "User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:eu-west-1:123456789012:function:bedrock-spend-prod-reconcile because no identity-based policy allows the lambda:InvokeFunction action";
    lambdaMock
      .on(InvokeCommand)
      .rejects(new LambdaServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 }, message: refusal }));

    // Act
    const result = await runStageCli(["reconcile", "--stage", "prod", "--region", "eu-west-1"]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `bedrock-spend: error: the caller lacks lambda:InvokeFunction on the function bedrock-spend-prod-reconcile (AccessDeniedException: ${refusal})\n`,
    );
  });
});
