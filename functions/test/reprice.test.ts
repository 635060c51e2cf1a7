/**
 * The reprice Lambda: a thin step around `runRepriceStep` (tested in pipeline/test/reprice-job.test.ts).
 * Here: the slice of time it gives a step, the report it stores for a dry run, and its configuration.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfigurationError, defaultCatalog, type RepriceReport } from "@bedrock-spend/core";
import { type RepriceJobDeps, type RepriceStepResult, runRepriceStep } from "@bedrock-spend/pipeline";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ENV } from "../src/lib/contracts";
import { logger } from "../src/lib/powertools";
import { createRepriceHandler, DEFAULT_SLICE_SECONDS, fromEnvironment } from "../src/reprice";

vi.mock("@bedrock-spend/pipeline", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@bedrock-spend/pipeline")>()),
  runRepriceStep: vi.fn(),
}));

const ENVIRONMENT: Record<string, string> = {
  [ENV.tableName]: "aggregates",
  [ENV.lakeBucket]: "lake",
  [ENV.glueDatabase]: "bedrock_spend_prod",
  [ENV.glueTable]: "invocations",
  [ENV.athenaWorkGroup]: "bedrock-spend-prod",
  [ENV.athenaResultsBucket]: "results",
  [ENV.repriceSwitchOverSeconds]: "630",
};

const EVENT = { input: { from: "2026-09", actor: "arn:aws:iam::123456789012:role/ops" }, execution: { name: "e-1", startTime: "2026-12-01T00:00:00Z" } };
const STEP = { repriceId: "r", done: false, itemsCorrected: 0, invocationsCorrected: 0, lakeDaysRewritten: 1, lakeRowsRewritten: 5 } as RepriceStepResult;

const s3 = mockClient(S3Client);

beforeEach(() => {
  vi.spyOn(logger, "info").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.mocked(runRepriceStep).mockReset();
  s3.reset();
});

/** The deps the handler gave the step. */
function depsOfStep(): RepriceJobDeps {
  return vi.mocked(runRepriceStep).mock.calls[0]?.[1] as RepriceJobDeps;
}

describe("Function: createRepriceHandler()", () => {
  it("gives the step its slice: shouldStop says so once sliceMs have passed since the step began", async () => {
    // Prepare
    let time = 1_000_000;
    vi.mocked(runRepriceStep).mockImplementation(async (_event, deps) => {
      const early = deps.shouldStop();
      time += 59_999;
      const almost = deps.shouldStop();
      time += 1;
      return { ...STEP, lakeDaysRewritten: [early, almost, deps.shouldStop()].filter(Boolean).length };
    });
    const handler = createRepriceHandler({ sliceMs: 60_000, clock: () => time } as never);

    // Act
    const step = await handler(EVENT);

    // Assess
    expect(step.lakeDaysRewritten).toBe(1);
    expect(vi.mocked(runRepriceStep).mock.calls[0]?.[0]).toBe(EVENT);
  });
});

describe("Function: fromEnvironment()", () => {
  it("configures the lake, the table and the timing from the environment, the slice 600 s by default", async () => {
    // Prepare
    vi.mocked(runRepriceStep).mockResolvedValue(STEP);

    // Act
    await fromEnvironment(ENVIRONMENT)(EVENT);

    // Assess
    const deps = depsOfStep();
    expect(deps).toMatchObject({ tableName: "aggregates", switchOverSeconds: 630, breakdowns: [], dedupRetentionDays: 35 });
    expect(deps.pricer.catalog.version).toBe(defaultCatalog().version);
    expect(DEFAULT_SLICE_SECONDS).toBe(600);
  });

  it("stores a dry run's report next to the query results and says where", async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    vi.mocked(runRepriceStep).mockResolvedValue(STEP);
    await fromEnvironment(ENVIRONMENT)(EVENT);
    const report: RepriceReport = { from: "2026-09", to: "2026-09", priceVersion: "v", invocations: 1, changed: 1, tenants: [] };

    // Act
    const location = await depsOfStep().saveReport?.("e-1.json", report);

    // Assess
    expect(location).toBe("s3://results/reprice/reports/e-1.json");
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: "results",
      Key: "reprice/reports/e-1.json",
      Body: JSON.stringify(report),
    });
  });

  it.each([
    [ENV.repriceSwitchOverSeconds, undefined, /required/],
    [ENV.repriceSliceSeconds, "ten", /whole seconds/],
    [ENV.lakeBucket, undefined, /required/],
  ])("fails closed on %s = %s", (name, value, message) => {
    // Prepare
    const env: Record<string, string | undefined> = { ...ENVIRONMENT, [name]: value };

    // Act
    const failure = (() => {
      try {
        fromEnvironment(env);
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toMatch(message);
  });
});
