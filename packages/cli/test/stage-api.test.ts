/**
 * `spend --stage` and `budgets set|rm --stage`: the deployed stage's spend API found from its Api
 * stack's outputs (CloudFormation mocked with DescribeStacks' response shape: no local
 * CloudFormation) and called through a local HTTP server standing in for the IAM Function URL. The
 * server checks each request's SigV4 signature as Lambda would (it signs what it received again
 * with the caller's credentials and compares), answers 403 `{"Message":"Forbidden"}` as a Function
 * URL does when IAM refuses, and otherwise runs the real API handler over DynamoDB Local. What the
 * commands print with --stage is what the API answers, the same object the local commands print.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { Sha256 } from "@bedrock-spend/adapters";
import { handleSpendApi } from "@bedrock-spend/api";
import { SignatureV4 } from "@smithy/signature-v4";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { type ApiFixture, freshApi, invocationOf } from "../../api/test/helpers/fixtures";
import { alertsCommand } from "../src/commands/alerts";
import { budgetsCommand } from "../src/commands/budgets";
import { spendCommand } from "../src/commands/spend";
import { CommandFailure, UsageError } from "../src/errors";
import { functionUrlRegion, stageSpendApi } from "../src/stage-api";
import { readStageTable } from "../src/stage-table";

const KEYS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:bedrock-spend-prod-SpendApi";
const OPERATOR = "arn:aws:sts::123456789012:assumed-role/operator/alice";
const cloudFormation = mockClient(CloudFormationClient);

let api: ApiFixture;
let server: Server;
let url: string;
/** Who the server saw, by the access key of each request it let through. */
let callers: string[];

/** Lambda's check of a Function URL request: the signature of what arrived, with the caller's key. */
async function signatureMatches(request: IncomingMessage, body: Buffer): Promise<boolean> {
  const authorization = String(request.headers.authorization ?? "");
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const date = String(request.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(date)) return false;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name]);
  const address = new URL(request.url ?? "/", url);
  const signer = new SignatureV4({ service: "lambda", region: "eu-west-1", credentials: KEYS, sha256: Sha256 });
  const again = await signer.sign(
    {
      method: request.method ?? "",
      protocol: "http:",
      hostname: address.hostname,
      port: Number(address.port),
      path: address.pathname,
      query: Object.fromEntries(address.searchParams),
      headers,
      ...(body.length > 0 ? { body } : {}),
    },
    { signingDate: new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) },
  );
  return again.headers.authorization === authorization;
}

beforeAll(async () => {
  api = await freshApi({ now: new Date("2026-11-27T12:00:00Z") });
  await api.write([invocationOf("acme", "req-1", { input: 1000, output: 200 }), invocationOf("acme", "req-2", { input: 50, output: 5 })]);
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks);
      if (!(await signatureMatches(request, body))) {
        response.writeHead(403, { "content-type": "application/json" }).end('{"Message":"Forbidden"}');
        return;
      }
      callers.push(/Credential=([^/]+)/.exec(String(request.headers.authorization))?.[1] ?? "");
      const address = new URL(request.url ?? "/", url);
      const answer = await handleSpendApi(
        {
          method: request.method ?? "GET",
          path: address.pathname,
          query: Object.fromEntries(address.searchParams),
          body: body.length > 0 ? body.toString("utf8") : null,
          auth: { mode: "iam", iamPrincipal: OPERATOR },
        },
        api.deps,
      );
      response.writeHead(answer.statusCode, { "content-type": "application/json" }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  callers = [];
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Api" }).resolves({
    Stacks: [
      {
        StackName: "prod-bedrock-spend-Api",
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date("2026-11-01T00:00:00Z"),
        Outputs: [
          { OutputKey: "SpendApiFunctionUrl", OutputValue: url },
          { OutputKey: "SpendApiFunctionArn", OutputValue: FUNCTION_ARN },
        ],
      },
    ],
  });
  vi.stubEnv("AWS_ACCESS_KEY_ID", KEYS.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", KEYS.secretAccessKey);
  vi.stubEnv("AWS_REGION", "eu-west-1");
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Runs a command, returning its exit code and what it printed on stdout. */
async function run(command: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; stdout: string }> {
  const printed: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  const code = await command(argv);
  vi.mocked(process.stdout.write).mockRestore();
  return { code, stdout: printed.join("") };
}

describe("spend --stage", () => {
  it("prints, with --json, exactly what the stage's API answers, signed with the caller's credentials", async () => {
    // Act
    const { code, stdout } = await run(spendCommand, [
      "--tenant",
      "acme",
      "--month",
      "2026-11",
      "--by",
      "model",
      "--stage",
      "prod",
      "--region",
      "eu-west-1",
      "--json",
    ]);

    // Assess
    expect(code).toBe(0);
    const direct = await api.call({
      method: "GET",
      path: "/v1/tenants/acme/spend",
      query: { month: "2026-11", by: "model" },
      body: null,
      auth: { mode: "iam", iamPrincipal: OPERATOR },
    });
    expect(stdout).toBe(`${JSON.stringify(direct.json)}\n`);
    expect(direct.json.invocations).toBe(2);
    expect(callers).toEqual([KEYS.accessKeyId]);
  });

  it("signs with the credentials of --profile, from the AWS config files, when the environment has none", async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-aws-"));
    writeFileSync(join(dir, "credentials"), `[ops]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`);
    writeFileSync(join(dir, "config"), "[profile ops]\nregion = eu-west-1\n");
    vi.stubEnv("AWS_ACCESS_KEY_ID", undefined);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", undefined);
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(dir, "credentials"));
    vi.stubEnv("AWS_CONFIG_FILE", join(dir, "config"));
    vi.stubEnv("AWS_PROFILE", "default-that-does-not-exist");

    // Act
    const { code, stdout } = await run(spendCommand, ["--tenant", "acme", "--month", "2026-11", "--stage", "prod", "--profile", "ops", "--json"]);
    const without = await spendCommand(["--tenant", "acme", "--profile", "ops"]).catch((error: unknown) => error);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ tenantId: "acme", invocations: 2 });
    expect(callers).toEqual([KEYS.accessKeyId]);
    expect((without as Error).message).toBe("--profile is for a deployed stage (--stage)");
  });

  it("says which permission is missing when the Function URL refuses the caller", async () => {
    // Prepare: credentials the server does not recognize
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "not-the-secret");

    // Act
    const failure = await spendCommand(["--tenant", "acme", "--stage", "prod", "--region", "eu-west-1"]).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CommandFailure);
    expect((failure as Error).message).toBe(
      `${url.replace(/\/$/, "")}: 403 {"Message":"Forbidden"}: the caller needs lambda:InvokeFunctionUrl on ${FUNCTION_ARN}, with credentials that have not expired`,
    );
  });

  it("names the stack when the stage is not deployed, and refuses --data-dir with --stage", async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: "dev-bedrock-spend-Api" }).rejects(
      new CloudFormationServiceException({
        name: "ValidationError",
        $fault: "client",
        $metadata: {},
        message: "Stack with id dev-bedrock-spend-Api does not exist",
      }),
    );

    // Act
    const missing = await spendCommand(["--tenant", "acme", "--stage", "dev"]).catch((error: unknown) => error);
    const both = await spendCommand(["--tenant", "acme", "--stage", "prod", "--data-dir", "x"]).catch((error: unknown) => error);

    // Assess
    expect(missing).toBeInstanceOf(UsageError);
    expect((missing as Error).message).toMatch(/--stage dev: no stack dev-bedrock-spend-Api in this account and Region/);
    expect((both as Error).message).toBe("--data-dir and --stage are exclusive: a data dir is local, a stage is deployed");
  });
});

describe("budgets --stage", () => {
  it("sets and removes a tenant's budget through the stage's API, as the local command does", async () => {
    // Act
    const set = await run(budgetsCommand, ["set", "--tenant", "acme", "--monthly-usd", "250", "--thresholds", "50,90", "--stage", "prod", "--json"]);
    const after = await api.call({ method: "GET", path: "/v1/tenants/acme/budget", query: {}, body: null, auth: { mode: "iam", iamPrincipal: OPERATOR } });
    const removed = await run(budgetsCommand, ["rm", "--tenant", "acme", "--stage", "prod"]);
    const gone = await api.call({ method: "GET", path: "/v1/tenants/acme/budget", query: {}, body: null, auth: { mode: "iam", iamPrincipal: OPERATOR } });

    // Assess
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ budget: { monthlyUsd: "250.00", thresholds: [50, 90] } });
    expect(after.json).toMatchObject({ budget: { monthlyUsd: "250.00", thresholds: [50, 90] } });
    expect(removed.stdout).toBe("budget of acme removed\n");
    expect(gone.statusCode).toBe(200);
    expect(gone.json.budget).toBeNull();
  });

  it("names the option of a budget the API refuses", async () => {
    const failure = await budgetsCommand(["set", "--tenant", "acme", "--monthly-usd", "ten", "--stage", "prod"]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toMatch(/^--monthly-usd: /);
  });
});

describe("budgets list --stage and alerts --stage", () => {
  beforeEach(() => {
    // The stage's table is a DynamoDB Local table: the SDK's own endpoint override (AWS_ENDPOINT_URL_DYNAMODB) points there.
    vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", inject("dynamoDbEndpoint"));
    // DynamoDB Local keeps a database per access key and Region: those the fixture's table was made with.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
    cloudFormation.on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Processing" }).resolves({
      Stacks: [
        {
          StackName: "prod-bedrock-spend-Processing",
          StackStatus: "UPDATE_COMPLETE",
          CreationTime: new Date("2026-11-01T00:00:00Z"),
          Outputs: [{ OutputKey: "AggregatesTable", OutputValue: api.tableName }],
        },
      ],
    });
  });

  it("list the stage's budgets and fired alerts from its table, as the local commands print them", async () => {
    // Prepare
    await api.store.putBudget("globex", { monthlyUsd: "40.00", thresholds: [80] }, new Date("2026-11-20T00:00:00Z"));
    const alert = {
      kind: "threshold" as const,
      threshold: 80,
      tenantId: "globex",
      month: "2026-11",
      spendUsd: "32.50",
      budgetUsd: "40.00",
      forecastUsd: "61.00",
    };
    await api.store.markAlertFired(alert, new Date("2026-11-26T09:00:00Z"));

    // Act
    const budgets = await run(budgetsCommand, ["list", "--tenant", "globex", "--stage", "prod", "--region", "us-east-1", "--json"]);
    const alerts = await run(alertsCommand, ["--tenant", "globex", "--stage", "prod", "--region", "us-east-1", "--json"]);
    const none = await run(alertsCommand, ["--tenant", "initech", "--stage", "prod", "--region", "us-east-1"]);

    // Assess
    expect(JSON.parse(budgets.stdout)).toEqual([expect.objectContaining({ tenantId: "globex", budget: { monthlyUsd: "40.00", thresholds: [80] } })]);
    expect(JSON.parse(alerts.stdout)).toEqual([expect.objectContaining({ ...alert, firedAt: "2026-11-26T09:00:00.000Z" })]);
    expect(none.stdout).toBe("no alerts fired in stage prod for this selection\n");
  });

  it("name the DynamoDB action a refused caller lacks, and an expired session", async () => {
    // Prepare: DynamoDB's refusals as the SDK raises them (DynamoDB Local has no IAM to refuse with)
    const refused = (name: string, message: string) => async () => {
      throw Object.assign(new Error(message), { name });
    };

    // Act
    const denied = await readStageTable(
      { stage: "prod", region: "us-east-1" },
      "dynamodb:Scan",
      refused("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/viewer/bob is not authorized to perform: dynamodb:Scan"),
    ).catch((error: unknown) => error);
    const expired = await readStageTable(
      { stage: "prod", region: "us-east-1" },
      "dynamodb:Scan",
      refused("ExpiredTokenException", "The security token included in the request is expired"),
    ).catch((error: unknown) => error);

    // Assess
    expect(denied).toBeInstanceOf(CommandFailure);
    expect((denied as Error).message).toBe(
      `stage prod: the caller needs dynamodb:Scan on the table ${api.tableName}: User: arn:aws:sts::123456789012:assumed-role/viewer/bob is not authorized to perform: dynamodb:Scan`,
    );
    expect((expired as Error).message).toMatch(
      /^stage prod: the AWS credentials were refused \(ExpiredTokenException: The security token included in the request is expired\); refresh the session/,
    );
  });
});

describe("Function: functionUrlRegion()", () => {
  it("reads the Region of a Function URL, and nothing from another host", async () => {
    expect(functionUrlRegion("https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-southeast-2.on.aws/")).toBe("ap-southeast-2");
    expect(functionUrlRegion("http://127.0.0.1:8080/")).toBeUndefined();
    await expect(
      stageSpendApi({ stage: "prod", region: "eu-west-1" }, { cloudFormation: new CloudFormationClient({ region: "eu-west-1" }) }),
    ).resolves.toBeTypeOf("function");
  });
});
