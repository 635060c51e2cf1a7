/**
 * The handlers keep to their contracts (src/lib/contracts.ts): each emits exactly the metrics its
 * contract lists, in their units, namespace and dimensions; each reads only environment variables
 * the contract names; and none goes around the kit to do either.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { MemoryRawFailureStore } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import {
  type BatchStats,
  type BudgetStreamStats,
  maintainRankEntries,
  processBatch,
  processBudgetStream,
  redrive,
  runReconciliation,
  runRepriceStep,
  sweepUndeliveredAlerts,
} from "@bedrock-spend/pipeline";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fromEnvironment as aggregateFromEnvironment, createAggregateHandler } from "../src/aggregate";
import { fromEnvironment as alertSweepFromEnvironment, createAlertSweepHandler } from "../src/alert-sweep";
import { fromEnvironment as budgetAlertFromEnvironment, createBudgetAlertHandler } from "../src/budget-alert";
import { createLakeRedriveHandler, fromEnvironment as lakeRedriveFromEnvironment } from "../src/lake-redrive";
import { ENV, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICE_NAME } from "../src/lib/contracts";
import type { Environment } from "../src/lib/env";
import { logger, metrics } from "../src/lib/powertools";
import { createReconcileHandler, fromEnvironment as reconcileFromEnvironment } from "../src/reconcile";
import { createRedriveHandler, fromEnvironment as redriveFromEnvironment } from "../src/redrive";
import { createRepriceHandler, fromEnvironment as repriceFromEnvironment } from "../src/reprice";
import { fromEnvironment as spendApiFromEnvironment, spendApiObserver } from "../src/spend-api";
import { createTransformHandler, fromEnvironment as transformFromEnvironment } from "../src/transform";
import { METRIC_EMITTERS, type MetricEmitter } from "./helpers/metric-emitters";
import { controlMessageData, firehoseEvent } from "./helpers/transform-events";

// The domain steps answer with every count non-zero, so that every metric a handler can emit is emitted.
vi.mock("@bedrock-spend/pipeline", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@bedrock-spend/pipeline")>()),
  processBatch: vi.fn(),
  processBudgetStream: vi.fn(),
  maintainRankEntries: vi.fn(),
  redrive: vi.fn(),
  runRepriceStep: vi.fn(),
  runReconciliation: vi.fn(),
  sweepUndeliveredAlerts: vi.fn(),
}));

const SOURCES = join(import.meta.dirname, "../src");

/** Runs one invocation of each handler whose domain step reports every count. */
const INVOKE: Record<MetricEmitter["handler"], () => Promise<unknown>> = {
  aggregate: async () => {
    const stats: BatchStats = {
      records: 2,
      logEvents: 9,
      counted: 1,
      duplicates: 1,
      dropped: 1,
      quarantined: 1,
      unpriced: 1,
      failed: 1,
      deferred: 1,
      costPico: 5_000_000n,
      transactions: 1,
      writeUnits: 7,
      maxLagMs: 120,
    };
    vi.mocked(processBatch).mockResolvedValue({ retryFrom: "7", stats, outcome: {} as never });
    return createAggregateHandler({} as never)({ Records: [] });
  },
  transform: () =>
    createTransformHandler({ pricer: new Pricer({ catalog: defaultCatalog() }), failures: new MemoryRawFailureStore() })(firehoseEvent([controlMessageData()])),
  redrive: async () => {
    vi.mocked(redrive).mockResolvedValue({ messages: 3, counted: 2, duplicates: 1, resolved: 2, kept: [{ handle: "h", reason: "still invalid" }] });
    return createRedriveHandler({} as never)();
  },
  "lake-redrive": async () => {
    const source = new MemoryRawFailureStore();
    await source.keep("good", [{ recordId: "1", data: "H4sI", reason: "oversize", fields: [], failedAt: "2026-12-01T00:00:00.000Z" }]);
    await source.keep("bad", [{ recordId: "2", data: "H4sI", reason: "invalid", fields: ["gzip"], failedAt: "2026-12-01T00:00:00.000Z" }]);
    // One batch accepted, one refused: every count non-zero.
    const target = {
      send: async (failures: readonly { recordId: string }[]) => {
        if (failures[0]?.recordId === "2") throw new Error("ServiceUnavailableException");
      },
    };
    return createLakeRedriveHandler({ sources: [source], target })();
  },
  reprice: async () => {
    vi.mocked(runRepriceStep).mockResolvedValue({ itemsCorrected: 1, invocationsCorrected: 2, lakeDaysRewritten: 3, lakeRowsRewritten: 4 } as never);
    return createRepriceHandler({ sliceMs: 1000 } as never)({ input: { actor: "a" }, execution: { name: "e", startTime: "2026-12-01T00:00:00Z" } });
  },
  reconcile: async () => {
    const day = { day: "2026-11-30", logCostUsd: "1", billCostUsd: "2", driftUsd: "1", driftPct: "50.00", complete: true };
    const report = {
      rows: [],
      unmapped: [],
      totals: { logCostUsd: "1", billCostUsd: "2", unmappedCostUsd: "0.5", netBillCostUsd: "2", driftUsd: "1", driftPct: "50.00" },
    };
    vi.mocked(runReconciliation).mockResolvedValue({
      from: day.day,
      to: day.day,
      report,
      days: [day],
      models: [],
      lastCompleteDay: day.day,
      worstDay: day,
      billGroups: 1,
      logGroups: 1,
    });
    return createReconcileHandler({ saveReport: async () => "s3://results/reconcile/x" } as never)({});
  },
  "budget-alert": async () => {
    const counts = [
      "records",
      "evaluations",
      "failedEvaluations",
      "fired",
      "forecasts",
      "suppressed",
      "redelivered",
      "published",
      "publishFailures",
      "invalidBudgets",
    ];
    const stats = Object.fromEntries(counts.map((count) => [count, 1])) as unknown as BudgetStreamStats;
    vi.mocked(processBudgetStream).mockResolvedValue({ retryFrom: undefined, stats });
    vi.mocked(maintainRankEntries).mockResolvedValue({ retryFrom: undefined, stats: { moved: 1, superseded: 1, failed: 1 }, errors: [], markerFailures: 1 });
    return createBudgetAlertHandler({} as never)({ Records: [] });
  },
  "alert-sweep": async () => {
    vi.mocked(sweepUndeliveredAlerts).mockResolvedValue({ stats: { found: 2, taken: 2, published: 1, failures: 1 }, error: undefined });
    return createAlertSweepHandler({} as never)();
  },
  "spend-api": async () => {
    const observer = spendApiObserver({ info: () => undefined, error: () => undefined }, metrics);
    for (const statusCode of [200, 404, 500]) observer.onRequest({ method: "GET", statusCode, ...(statusCode === 500 ? { error: new Error("down") } : {}) });
  },
};

/** The metrics Powertools holds for the invocation (its EMF document, unflushed), then forgets them. */
function emitted(): { namespace: string; dimensions: Record<string, unknown>; units: Record<string, string> } {
  const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  };
  metrics.clearMetrics();
  metrics.clearDimensions();
  const [directive] = emf._aws.CloudWatchMetrics;
  return {
    namespace: directive?.Namespace ?? "",
    dimensions: Object.fromEntries((directive?.Dimensions[0] ?? []).map((name) => [name, emf[name]])),
    units: Object.fromEntries((directive?.Metrics ?? []).map((metric) => [metric.Name, metric.Unit])),
  };
}

/** An environment that records every name read from it. */
function recordingEnvironment(values: Record<string, string>): { env: Environment; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name);
    },
  });
  return { env, read };
}

/** A valid value of every variable in the contract (the JSON ones stay unset: their absence is valid). */
const CONFIGURED: Record<string, string> = {
  [ENV.tableName]: "aggregates",
  [ENV.deadLetterQueueUrl]: "https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters",
  [ENV.streamArn]: "arn:aws:kinesis:us-east-1:123456789012:stream/invocations",
  [ENV.aggregateBreakdowns]: "departmentId",
  [ENV.dedupRetentionDays]: "35",
  [ENV.defaultBudgetUsd]: "100",
  [ENV.defaultBudgetThresholds]: "50,80,100",
  [ENV.alertTopicArn]: "arn:aws:sns:us-east-1:123456789012:alerts",
  [ENV.eventBusName]: "bedrock-spend",
  [ENV.apiAuthMode]: "iam",
  [ENV.jwtTenantClaim]: "tenant_id",
  [ENV.jwtAdminScope]: "spend:admin",
  [ENV.metricsNamespace]: METRICS_NAMESPACE,
  [ENV.lakeBucket]: "lake",
  [ENV.glueDatabase]: "bedrock_spend_prod",
  [ENV.glueTable]: "invocations",
  [ENV.athenaWorkGroup]: "bedrock-spend-prod",
  [ENV.athenaResultsBucket]: "results",
  [ENV.repriceSliceSeconds]: "600",
  [ENV.repriceSwitchOverSeconds]: "630",
  [ENV.curTable]: "cur",
  [ENV.curFormat]: "parquet",
  [ENV.reconcileWindowDays]: "3",
  [ENV.rawFailureBucket]: "raw-failures",
  [ENV.lakeRedriveStream]: "lake-redrive",
};

const FROM_ENVIRONMENT: Record<MetricEmitter["handler"], (env: Environment) => unknown> = {
  aggregate: aggregateFromEnvironment,
  transform: transformFromEnvironment,
  redrive: redriveFromEnvironment,
  "lake-redrive": lakeRedriveFromEnvironment,
  reprice: repriceFromEnvironment,
  reconcile: reconcileFromEnvironment,
  "budget-alert": budgetAlertFromEnvironment,
  "alert-sweep": alertSweepFromEnvironment,
  "spend-api": spendApiFromEnvironment,
};

function sourceFiles(dir = SOURCES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

describe("Handler contracts: metrics", () => {
  beforeEach(() => {
    metrics.clearMetrics();
    metrics.clearDimensions();
    for (const level of ["info", "warn", "error"] as const) vi.spyOn(logger, level).mockImplementation(() => undefined);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(METRIC_EMITTERS)(
    "$handler emits exactly its contract's metrics, in their units, namespace and dimensions",
    async ({ handler, metrics: contract, dimensions }) => {
      // Act
      await INVOKE[handler]();

      // Assess
      const sent = emitted();
      expect(sent.namespace).toBe(METRICS_NAMESPACE);
      expect(sent.dimensions).toStrictEqual({ [SERVICE_DIMENSION]: SERVICE_NAME, ...dimensions });
      expect(sent.units).toStrictEqual(Object.fromEntries(Object.values(contract).map((metric) => [metric.name, metric.unit ?? "Count"])));
    },
  );

  it("sends each count's value, cost in whole micro-dollars", async () => {
    // Act
    await INVOKE.aggregate();

    // Assess
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({ RecordsIn: 9, WriteFailures: 1, WriteUnits: 7, CostMicroUSD: 5, IteratorLagMs: 120 });
  });

  it("lists every handler once", () => {
    const handlers = readdirSync(SOURCES).filter((name) => name.endsWith(".ts"));
    expect(METRIC_EMITTERS.map((emitter) => `${emitter.handler}.ts`).sort()).toStrictEqual(handlers.sort());
  });
});

describe("Handler contracts: environment", () => {
  it.each(METRIC_EMITTERS.map(({ handler }) => handler))("%s configures itself from contract variables only", (handler) => {
    // Prepare
    const { env, read } = recordingEnvironment({ ...CONFIGURED });

    // Act
    FROM_ENVIRONMENT[handler](env);

    // Assess
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((name) => !(Object.values(ENV) as string[]).includes(name))).toStrictEqual([]);
  });

  it("no handler reads a variable, or sends a metric or dimension, except through the kit", () => {
    const bypasses: string[] = [];
    for (const file of sourceFiles()) {
      const path = relative(SOURCES, file);
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, index) => {
          // A named read (`env.X`, `process.env.X`, `env["X"]`) skips the contract's typed readers in lib/env.ts.
          if (/\benv\.[A-Z_]|\benv\[\s*["'`]/.test(line)) bypasses.push(`${path}:${index + 1}: ${line.trim()}`);
          if (path !== join("lib", "metrics.ts") && /\.(addMetric|addDimension|addDimensions|singleMetric)\(/.test(line))
            bypasses.push(`${path}:${index + 1}: ${line.trim()}`);
        });
    }
    expect(bypasses).toStrictEqual([]);
  });
});
