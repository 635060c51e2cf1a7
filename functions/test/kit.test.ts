/**
 * The handler kit (src/lib): the Lambda entry point wrapper, partial batch responses and metric
 * emission, and the size the kit keeps handlers at.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigurationError } from "@bedrock-spend/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { partialBatchResponse } from "../src/lib/batch";
import { AGGREGATE_METRICS, type MetricContracts, TRANSFORM_DIMENSIONS } from "../src/lib/contracts";
import { lambdaHandler } from "../src/lib/handler";
import { emitMetrics, type MetricSink, microDollars } from "../src/lib/metrics";
import { logger, metrics } from "../src/lib/powertools";
import { captureStdio } from "./helpers/stdio";
import { lambdaContext } from "./helpers/transform-events";

/** A sink that keeps every metric it is given, in order. */
function recordingSink(): MetricSink & { sent: [string, string, number][] } {
  const sent: [string, string, number][] = [];
  return { sent, addMetric: (name, unit, value) => sent.push([name, unit, value]) };
}

describe("Function: lambdaHandler()", () => {
  let output: string[];

  beforeEach(() => {
    output = captureStdio();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    metrics.clearMetrics();
    metrics.clearDimensions();
  });

  /** The JSON lines printed: Powertools log lines and EMF documents. */
  const printed = () =>
    output
      .join("")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("builds the handler from process.env on the first invocation only, not at creation", async () => {
    // Prepare
    const fromEnvironment = vi.fn((_env: unknown) => async (event: { n: number }) => event.n * 2);

    // Act
    const handler = lambdaHandler(fromEnvironment);
    const built = fromEnvironment.mock.calls.length;
    const answers = [await handler({ n: 1 }, lambdaContext()), await handler({ n: 2 }, lambdaContext())];

    // Assess
    expect(built).toBe(0);
    expect(answers).toStrictEqual([2, 4]);
    expect(fromEnvironment).toHaveBeenCalledTimes(1);
    expect(fromEnvironment).toHaveBeenCalledWith(process.env);
  });

  it("fails an invocation closed on a configuration error, and builds again on the next one", async () => {
    // Prepare
    let configured = false;
    const handler = lambdaHandler(() => {
      if (!configured) throw new ConfigurationError("TABLE_NAME", "environment variable is required");
      return async () => "served";
    });

    // Act
    const failure = await handler({}, lambdaContext()).catch((error: unknown) => error);
    configured = true;
    const answer = await handler({}, lambdaContext());

    // Assess
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as ConfigurationError).origin).toBe("TABLE_NAME");
    expect(answer).toBe("served");
  });

  it("flushes the invocation's metrics as EMF and forgets the keys it appended to the logger", async () => {
    // Prepare
    const handler = lambdaHandler(() => async (event: { tenantId?: string }) => {
      if (event.tenantId) logger.appendKeys({ tenantId: event.tenantId });
      logger.warn("served");
      emitMetrics({ counted: AGGREGATE_METRICS.counted }, { counted: 3 });
    });

    // Act
    await handler({ tenantId: "acme" }, lambdaContext("bedrock-spend-aggregate"));
    await handler({}, lambdaContext("bedrock-spend-aggregate"));

    // Assess
    const lines = printed();
    const logs = lines.filter((line) => line.message === "served");
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatchObject({ tenantId: "acme", function_name: "bedrock-spend-aggregate" });
    expect(logs[1]).not.toHaveProperty("tenantId");
    const documents = lines.filter((line) => "_aws" in line);
    expect(documents).toHaveLength(2);
    expect(documents[0]).toMatchObject({ service: "bedrock-spend", Counted: 3 });
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});

describe("Function: partialBatchResponse()", () => {
  it("retries from the lowest failed record, or from nothing", () => {
    expect(partialBatchResponse("4959033827149025660855969253836157")).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: "4959033827149025660855969253836157" }],
    });
    expect(partialBatchResponse(undefined)).toStrictEqual({ batchItemFailures: [] });
  });
});

describe("Function: emitMetrics()", () => {
  const CONTRACT = {
    first: { name: "First" },
    lag: { name: "LagMs", unit: "Milliseconds" },
    idle: { name: "Idle" },
  } as const satisfies MetricContracts;

  afterEach(() => {
    vi.restoreAllMocks();
    metrics.clearMetrics();
    metrics.clearDimensions();
  });

  it("sends every count of the contract, in its order and unit (Count by default), and nothing else", () => {
    // Prepare
    const sink = recordingSink();
    const stats = { idle: 0, lag: 250, first: 2, notInContract: 9 };

    // Act
    emitMetrics(CONTRACT, stats, { sink });

    // Assess
    expect(sink.sent).toStrictEqual([
      ["First", "Count", 2],
      ["LagMs", "Milliseconds", 250],
      ["Idle", "Count", 0],
    ]);
  });

  it("leaves zeros out when asked", () => {
    const sink = recordingSink();
    emitMetrics(CONTRACT, { first: 1, lag: 0, idle: 0 }, { sink, skipZeros: true });
    expect(sink.sent).toStrictEqual([["First", "Count", 1]]);
  });

  it("sends to Powertools' metrics by default, with the dimensions given", () => {
    // Prepare
    const addMetric = vi.spyOn(metrics, "addMetric");
    const addDimension = vi.spyOn(metrics, "addDimension");

    // Act
    emitMetrics(CONTRACT, { first: 1, lag: 2, idle: 3 }, { dimensions: TRANSFORM_DIMENSIONS });

    // Assess
    expect(addDimension).toHaveBeenCalledWith("consumer", "transform");
    expect(addMetric.mock.calls).toStrictEqual([
      ["First", "Count", 1],
      ["LagMs", "Milliseconds", 2],
      ["Idle", "Count", 3],
    ]);
  });
});

describe("Function: microDollars()", () => {
  it("truncates pico-dollars to whole micro-dollars", () => {
    expect(microDollars(0n)).toBe(0);
    expect(microDollars(1_999_999n)).toBe(1);
    expect(microDollars(12_345_000_000n)).toBe(12_345);
  });
});

describe("Handlers", () => {
  it("are at most 45 lines each: the kit holds what they share", () => {
    const dir = join(import.meta.dirname, "../src");
    const lengths = Object.fromEntries(
      readdirSync(dir)
        .filter((name) => name.endsWith(".ts"))
        .map((name) => [name, readFileSync(join(dir, name), "utf8").trimEnd().split("\n").length]),
    );
    expect(Object.keys(lengths).length).toBeGreaterThanOrEqual(5);
    expect(Object.entries(lengths).filter(([, lines]) => lines > 45)).toStrictEqual([]);
  });
});
