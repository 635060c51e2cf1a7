/**
 * The reconcile Lambda around `runReconciliation` (tested end to end with Athena's SQL in
 * pipeline/test/reconcile-job.test.ts): here with an in-memory source, the metrics it publishes
 * (the last complete day, the worst one, per model), the report it keeps and returns, and its
 * configuration.
 */
import { type BillGroup, ConfigurationError, defaultCatalog, fixedClock, type LogUsageGroup, Pricer, usageTypeMap } from "@bedrock-spend/core";
import { INLINE_REPORT_BYTES } from "@bedrock-spend/pipeline";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ENV } from "../src/lib/contracts";
import { metrics } from "../src/lib/powertools";
import { curFormatFromEnv, DEFAULT_WINDOW_DAYS, usageTypeMapFromEnv, windowDaysFromEnv } from "../src/lib/reconcile";
import { createReconcileHandler } from "../src/reconcile";
import { captureStdio } from "./helpers/stdio";

const pricer = new Pricer({ catalog: defaultCatalog() });
const NOVA_LITE = "amazon.nova-lite-v1:0";

/** Nova Lite input (in-Region, us-east-1) on a day: `tokens` in the logs, the bill's amount at `billRatePer1k`. */
function day(date: string, tokens: number, billTokens: number, billRatePer1k: string): { bill: BillGroup; logs: LogUsageGroup } {
  const costPico = (BigInt(billTokens) * BigInt(Math.round(Number(billRatePer1k) * 1e12))) / 1000n;
  return {
    bill: {
      day: date,
      usageType: "USE1-NovaLite-input-tokens",
      productCode: "AmazonBedrock",
      productName: "Amazon Bedrock",
      billingEntity: "AWS",
      lineItemType: "Usage",
      pricingUnit: "1K tokens",
      usageAmount: String(billTokens / 1000),
      unblendedCostPico: costPico,
      netCostPico: costPico,
      rates: [billRatePer1k],
      lastHour: 23,
    },
    logs: {
      day: date,
      modelId: NOVA_LITE,
      model: NOVA_LITE,
      region: "us-east-1",
      serviceTier: null,
      latency: null,
      classMask: 1,
      contextBucket: 0,
      inputTokens: tokens,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
    },
  };
}

// Nova Lite input is $0.06 per million tokens in the catalog: $0.00006 per 1K.
const DAYS = [
  day("2026-11-28", 10_000_000, 10_000_000, "0.00006"), // agrees
  day("2026-11-29", 10_000_000, 10_500_000, "0.00006"), // the bill has 5% more tokens
  day("2026-11-30", 10_000_000, 4_000_000, "0.00006"), // unfinished: the bill's last day
];

function handlerWith(saved: Map<string, string>, days = DAYS) {
  const source = {
    billGroups: vi.fn(async () => days.map((entry) => entry.bill)),
    logGroups: vi.fn(async () => days.map((entry) => entry.logs)),
  };
  const handler = createReconcileHandler({
    source,
    pricer: async () => pricer,
    map: usageTypeMap(),
    now: fixedClock(Date.parse("2026-12-01T06:30:00Z")),
    windowDays: 3,
    saveReport: async (name, body) => {
      saved.set(name, body);
      return `s3://results/reconcile/${name}`;
    },
  });
  return { handler, source };
}

beforeEach(() => {
  metrics.clearMetrics();
  metrics.clearDimensions();
});

afterEach(() => {
  vi.restoreAllMocks();
  metrics.clearMetrics();
});

describe("Function: createReconcileHandler()", () => {
  it("reconciles the days ending yesterday, keeps the report and publishes the drift of the finished days", async () => {
    // Prepare
    const output = captureStdio();
    const saved = new Map<string, string>();
    const { handler, source } = handlerWith(saved);

    // Act
    const result = await handler({ version: "0", "detail-type": "Scheduled Event", source: "aws.events", time: "2026-12-01T06:30:00Z", detail: {} });

    // Assess
    expect(source.billGroups).toHaveBeenCalledWith("2026-11-28", "2026-11-30");
    expect(result).toMatchObject({
      from: "2026-11-28",
      to: "2026-11-30",
      lastCompleteDay: "2026-11-29",
      reportLocation: "s3://results/reconcile/reports/2026-11-28_2026-11-30.json",
    });
    expect(result.days.map((entry) => [entry.day, entry.driftUsd, entry.driftPct, entry.complete])).toStrictEqual([
      ["2026-11-28", "0.000000", "0.00", true],
      ["2026-11-29", "0.030000", "4.76", true],
      ["2026-11-30", "-0.360000", "-150.00", false],
    ]);
    expect(result.worstDay?.day).toBe("2026-11-29");
    expect(JSON.parse(saved.get("reports/2026-11-28_2026-11-30.json") as string)).toStrictEqual({ from: "2026-11-28", to: "2026-11-30", ...result.report });
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({
      ReconcileDriftMicroUSD: 30_000,
      ReconcileAbsDriftPercent: 4.76,
      ReconcileWorstAbsDriftPercent: 4.76,
      ReconcileUnmappedMicroUSD: 0,
      ReconcileCompleteDays: 2,
    });
    // One single-metric document per model, with its model dimension: over the finished days only.
    const perModel = output
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => line.includes("ReconcileModelDriftMicroUSD"))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } });
    expect(perModel).toHaveLength(1);
    expect(perModel[0]).toMatchObject({ model: NOVA_LITE, service: "bedrock-spend", ReconcileModelDriftMicroUSD: 30_000 });
    expect(perModel[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toStrictEqual([["service", "model"]]);
  });

  it("takes the CLI's range, and publishes no day figure while the bill has finished none", async () => {
    // Prepare
    captureStdio();
    const { handler, source } = handlerWith(new Map(), [DAYS[2] as (typeof DAYS)[number]]);

    // Act
    const result = await handler({ from: "2026-11-30", to: "2026-11-30" });

    // Assess
    // With the catalog's long-context thresholds, for the groups' context buckets.
    expect(source.logGroups).toHaveBeenCalledWith("2026-11-30", "2026-11-30", [200_000, 272_000]);
    expect(result.lastCompleteDay).toBeNull();
    expect(metrics.serializeMetrics()).toMatchObject({ ReconcileCompleteDays: 0, ReconcileWorstAbsDriftPercent: 0 });
    expect(result.report?.rows).toHaveLength(1);
  });

  it("returns the report inline only below Lambda's response limit", () => {
    expect(INLINE_REPORT_BYTES).toBeLessThan(6 * 1024 * 1024);
  });

  it("refuses a range it cannot cover, naming it", async () => {
    const { handler } = handlerWith(new Map());
    await expect(handler({ from: "2026-11-31" })).rejects.toThrow("from must be a UTC day YYYY-MM-DD");
  });
});

describe("Configuration of the reconcile function", () => {
  const HEADER =
    "bill_billing_entity,line_item_usage_start_date,line_item_product_code,line_item_usage_type,line_item_line_item_type,line_item_usage_amount,line_item_unblended_cost";

  it("reads the export's format, a CSV export with its header", () => {
    expect(curFormatFromEnv({ [ENV.curFormat]: "parquet" })).toStrictEqual({ kind: "parquet" });
    expect(curFormatFromEnv({ [ENV.curFormat]: "csv", [ENV.curCsvColumns]: HEADER })).toStrictEqual({ kind: "csv", columns: HEADER.split(",") });
  });

  it.each([
    [{ [ENV.curFormat]: "json" }, "CUR_FORMAT: must be parquet or csv"],
    [{ [ENV.curFormat]: "csv" }, "CUR_CSV_COLUMNS"],
    [{ [ENV.curFormat]: "csv", [ENV.curCsvColumns]: "line_item_usage_type" }, "names no line_item_usage_start_date"],
  ])("refuses %j", (env, message) => {
    expect(() => curFormatFromEnv(env)).toThrow(ConfigurationError);
    expect(() => curFormatFromEnv(env)).toThrow(message);
  });

  it("lays USAGE_TYPES over the shipped map, and names it when it is wrong", () => {
    expect(usageTypeMapFromEnv({ [ENV.usageTypes]: '{"models":{"AcmeModel":"acme.model-v1"}}' }).models.AcmeModel).toBe("acme.model-v1");
    expect(usageTypeMapFromEnv({}).regions.APS3).toBe("ap-south-1");
    expect(() => usageTypeMapFromEnv({ [ENV.usageTypes]: "{" })).toThrow(/USAGE_TYPES: is not valid JSON/);
    expect(() => usageTypeMapFromEnv({ [ENV.usageTypes]: '{"units":{"1K tokens":0}}' })).toThrow(/USAGE_TYPES/);
  });

  it("takes the window's days from 1 to 31", () => {
    expect(windowDaysFromEnv({})).toBe(DEFAULT_WINDOW_DAYS);
    expect(windowDaysFromEnv({ [ENV.reconcileWindowDays]: "7" })).toBe(7);
    expect(() => windowDaysFromEnv({ [ENV.reconcileWindowDays]: "0" })).toThrow(/RECONCILE_WINDOW_DAYS/);
    expect(() => windowDaysFromEnv({ [ENV.reconcileWindowDays]: "2.5" })).toThrow(/RECONCILE_WINDOW_DAYS/);
  });
});
