/**
 * A reconciliation with known numbers, as `bedrock-spend reconcile --data-dir DIR` keeps it, and
 * what the dashboard must make of it.
 *
 * Rows (bill - logs = drift, USD):
 *   2026-11-01 Sonnet input   3.00 - 3.00 =  0.00
 *   2026-11-01 Sonnet output  2.25 - 1.50 =  0.75
 *   2026-11-01 Nova   input   0.30 - 0.40 = -0.10
 *   2026-11-02 Sonnet input   2.50 - 2.00 =  0.50
 *   2026-11-02 Nova   output  0.00 - 0.12 = -0.12
 * By day: 11-01 5.55 - 4.90 = 0.65 (11.71 %), 11-02 2.50 - 2.12 = 0.38 (15.20 %).
 * By model: Sonnet 7.75 - 6.50 = 1.25 (16.13 %), Nova 0.30 - 0.52 = -0.22 (-73.33 %).
 * Placed bill 8.05, logs 7.02, drift 1.03 (12.80 %); unmapped 1.00 + 0.034567 = 1.034567, so the
 * bill is 9.084567; credits bring the net bill to 9.00.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ReconcileRow } from "@bedrock-spend/core";
import { reconcileFileOf } from "../../src/index";
import type { ReconcileSnapshot } from "../../src/types";

export const SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0";
export const NOVA = "amazon.nova-lite-v1:0";

function row(fields: Partial<ReconcileRow> & Pick<ReconcileRow, "day" | "model" | "tokenClass" | "logCostUsd" | "billCostUsd" | "driftUsd">): ReconcileRow {
  return { region: "us-east-1", tier: "standard", logTokens: 1000, billTokens: 1000, driftPct: null, likelyCause: null, ...fields };
}

/** The known reconciliation (rows in the order `reconcile` sorts them: largest absolute drift first). */
export const KNOWN_SNAPSHOT: ReconcileSnapshot = {
  from: "2026-11-01",
  to: "2026-11-02",
  cur: ["/bills/cur/BILLING_PERIOD=2026-11/part-0.parquet"],
  rows: [
    row({
      day: "2026-11-01",
      model: SONNET,
      tokenClass: "output",
      logTokens: 100_000,
      billTokens: 150_000,
      logCostUsd: "1.500000",
      billCostUsd: "2.250000",
      driftUsd: "0.750000",
      driftPct: "33.33",
      likelyCause: "missing log records: the bill has 50000 tokens more than the logs",
    }),
    row({
      day: "2026-11-02",
      model: SONNET,
      tokenClass: "input",
      logTokens: 666_667,
      billTokens: 833_333,
      logCostUsd: "2.000000",
      billCostUsd: "2.500000",
      driftUsd: "0.500000",
      driftPct: "20.00",
    }),
    row({
      day: "2026-11-02",
      model: NOVA,
      tokenClass: "output",
      logTokens: 500_000,
      billTokens: 0,
      logCostUsd: "0.120000",
      billCostUsd: "0.000000",
      driftUsd: "-0.120000",
      likelyCause: "a day the bill has not finished: CUR lags up to a day (and restates the previous month for two weeks)",
    }),
    row({
      day: "2026-11-01",
      model: NOVA,
      tokenClass: "input",
      logTokens: 6_666_667,
      billTokens: 5_000_000,
      logCostUsd: "0.400000",
      billCostUsd: "0.300000",
      driftUsd: "-0.100000",
      driftPct: "-33.33",
    }),
    row({
      day: "2026-11-01",
      model: SONNET,
      tokenClass: "input",
      logTokens: 1_000_000,
      billTokens: 1_000_000,
      logCostUsd: "3.000000",
      billCostUsd: "3.000000",
      driftUsd: "0.000000",
      driftPct: "0.00",
    }),
  ],
  unmapped: [
    {
      usageType: "USE1-TitanImageGenerator-images",
      productCode: "AmazonBedrock",
      productName: "Amazon Bedrock",
      billCostUsd: "1.000000",
      usageAmount: "25",
      pricingUnit: "Images",
      reason: "not a text token usage type (input, output, cache read or cache write tokens)",
    },
    {
      usageType: "USW2-MP:USW2_InputTokenCount-Units",
      productCode: "AmazonBedrockMarketplace",
      productName: "Acme Writer (Amazon Bedrock Edition)",
      billCostUsd: "0.034567",
      usageAmount: "1234.5",
      pricingUnit: "Units",
      reason: 'unknown Marketplace product "Acme Writer (Amazon Bedrock Edition)": add it to the products of --usage-types',
    },
  ],
  totals: {
    logCostUsd: "7.020000",
    billCostUsd: "9.084567",
    unmappedCostUsd: "1.034567",
    netBillCostUsd: "9.000000",
    driftUsd: "1.030000",
    driftPct: "12.80",
  },
  // The bill's last day is unfinished (CUR lags up to a day).
  days: [
    { day: "2026-11-01", complete: true },
    { day: "2026-11-02", complete: false },
  ],
};

/** Writes `content` (JSON of it, or the text as is) where the CLI keeps the last reconciliation of `dataDir`; returns the file. */
export async function writeReconcileFile(dataDir: string, content: unknown): Promise<string> {
  const file = reconcileFileOf(dataDir);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, typeof content === "string" ? content : `${JSON.stringify(content)}\n`);
  return file;
}
