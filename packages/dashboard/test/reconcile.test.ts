/**
 * The "Bill vs logs" summary (pure) and the reconciliation file it reads: the known
 * reconciliation summed by day and model, every way a file
 * can be malformed, and, for reconciliations `reconcile` (core) computes from random bills and
 * logs, the per-day and per-model sums equal to the totals to the pico-dollar.
 */
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BillGroup, type LogUsage, parseSignedDecimal, percentOf, reconcile, TOKEN_CLASSES, usageTypeMap } from "@bedrock-spend/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReconcileSnapshot, ReconcileFileError, readReconcileFile, reconcileFileOf, reconcileFileSource, summarizeReconciliation } from "../src/index";
import { KNOWN_SNAPSHOT, NOVA, SONNET, writeReconcileFile } from "./helpers/reconcile";

const FILE = "/data/reconcile/last.json";
const pico = (usd: string) => parseSignedDecimal(usd, 12);

describe("Function: summarizeReconciliation", () => {
  it("sums the known reconciliation by day and by model, exactly", () => {
    // Act
    const summary = summarizeReconciliation(KNOWN_SNAPSHOT, FILE);

    // Assess
    expect(summary.byDay).toStrictEqual([
      {
        day: "2026-11-01",
        logCostUsd: "4.900000",
        billCostUsd: "5.550000",
        driftUsd: "0.650000",
        driftPct: "11.71",
        logTokens: 7_766_667,
        billTokens: 6_150_000,
        rows: 3,
        complete: true,
      },
      {
        day: "2026-11-02",
        logCostUsd: "2.120000",
        billCostUsd: "2.500000",
        driftUsd: "0.380000",
        driftPct: "15.20",
        logTokens: 1_166_667,
        billTokens: 833_333,
        rows: 2,
        complete: false,
      },
    ]);
    expect(summary.byModel).toStrictEqual([
      {
        model: SONNET,
        logCostUsd: "6.500000",
        billCostUsd: "7.750000",
        driftUsd: "1.250000",
        driftPct: "16.13",
        logTokens: 1_766_667,
        billTokens: 1_983_333,
        rows: 3,
      },
      {
        model: NOVA,
        logCostUsd: "0.520000",
        billCostUsd: "0.300000",
        driftUsd: "-0.220000",
        driftPct: "-73.33",
        logTokens: 7_166_667,
        billTokens: 5_000_000,
        rows: 2,
      },
    ]);
    expect(summary.totals).toStrictEqual({ ...KNOWN_SNAPSHOT.totals, mappedBillCostUsd: "8.050000" });
    expect(summary.unmapped).toStrictEqual({ costUsd: "1.034567", lines: KNOWN_SNAPSHOT.unmapped });
    expect(summary).toMatchObject({ loaded: true, location: FILE, from: "2026-11-01", to: "2026-11-02", cur: KNOWN_SNAPSHOT.cur, rows: 5 });
  });

  it("orders models by absolute drift, a negative one first when it is the largest", () => {
    // Arrange
    const rows = KNOWN_SNAPSHOT.rows.map((row) =>
      row.model === NOVA && row.tokenClass === "input" ? { ...row, billCostUsd: "0.000000", driftUsd: "-0.400000" } : row,
    );

    // Act
    const summary = summarizeReconciliation({ ...KNOWN_SNAPSHOT, rows }, FILE);

    // Assess
    expect(summary.byModel.map((model) => [model.model, model.driftUsd])).toStrictEqual([
      [SONNET, "1.250000"],
      [NOVA, "-0.520000"],
    ]);
    expect(summary.byModel[1]?.driftPct).toBeNull(); // Nova's bill is 0 there
  });

  it("summarizes an empty bill as no days, no models and zero totals", () => {
    // Act
    const summary = summarizeReconciliation(
      {
        from: null,
        to: null,
        cur: ["/empty"],
        rows: [],
        unmapped: [],
        totals: {
          logCostUsd: "0.000000",
          billCostUsd: "0.000000",
          unmappedCostUsd: "0.000000",
          netBillCostUsd: "0.000000",
          driftUsd: "0.000000",
          driftPct: null,
        },
      },
      FILE,
    );

    // Assess
    expect(summary).toMatchObject({ byDay: [], byModel: [], rows: 0, totals: { mappedBillCostUsd: "0.000000", driftPct: null } });
  });
});

describe("Function: parseReconcileSnapshot", () => {
  const valid = JSON.stringify(KNOWN_SNAPSHOT);

  it("reads a reconciliation file, dropping fields it does not know", () => {
    // Act
    const snapshot = parseReconcileSnapshot(JSON.stringify({ ...KNOWN_SNAPSHOT, schemaVersion: 2 }), FILE);

    // Assess
    expect(snapshot).toStrictEqual(KNOWN_SNAPSHOT);
    expect(parseReconcileSnapshot(valid, FILE)).toStrictEqual(KNOWN_SNAPSHOT);
  });

  const withRow = (index: number, fields: Record<string, unknown>) => ({
    ...KNOWN_SNAPSHOT,
    rows: KNOWN_SNAPSHOT.rows.map((row, at) => (at === index ? { ...row, ...fields } : row)),
  });
  const withTotals = (fields: Record<string, unknown>) => ({ ...KNOWN_SNAPSHOT, totals: { ...KNOWN_SNAPSHOT.totals, ...fields } });
  const { totals: _totals, ...noTotals } = KNOWN_SNAPSHOT;

  it.each([
    ["money as a JSON number", withTotals({ logCostUsd: 7.02 }), "totals.logCostUsd", "expected string"],
    ["money in exponent notation", withRow(1, { billCostUsd: "2.5e0" }), "rows[1].billCostUsd", "decimal USD string"],
    ["money beyond the pico-dollar", withRow(1, { logCostUsd: "2.0000000000001" }), "rows[1].logCostUsd", "at most 12 decimals"],
    ["a missing section", noTotals, "totals", "expected object"],
    ["rows that are not a list", { ...KNOWN_SNAPSHOT, rows: {} }, "rows", "expected array"],
    ["a day that is not a day", withRow(2, { day: "2026-11-31x" }), "rows[2].day", "YYYY-MM-DD"],
    ["an unknown token class", withRow(0, { tokenClass: "images" }), "rows[0].tokenClass", ""],
    ["fractional tokens", withRow(3, { logTokens: 1.5 }), "rows[3].logTokens", ""],
    ["a percentage with one decimal", withRow(0, { driftPct: "33.3" }), "rows[0].driftPct", "two decimals"],
    [
      "an unmapped amount that is not a number",
      { ...KNOWN_SNAPSHOT, unmapped: [{ ...KNOWN_SNAPSHOT.unmapped[0], usageAmount: "lots" }] },
      "unmapped[0].usageAmount",
      "",
    ],
    ["a drift that is not bill - logs", withRow(2, { driftUsd: "0.120000" }), "rows[2].driftUsd", "billCostUsd - logCostUsd is -0.120000"],
    ["rows that do not sum to the logs' total", withTotals({ logCostUsd: "7.000000" }), "totals.logCostUsd", "sum to 7.020000"],
    ["a drift total that is not the rows' sum", withTotals({ driftUsd: "1.000000" }), "totals.driftUsd", "sum to 1.030000"],
    ["unmapped lines that do not sum to their total", withTotals({ unmappedCostUsd: "1.000000" }), "totals.unmappedCostUsd", "sum to 1.034567"],
    ["a bill that is not the rows plus the unmapped", withTotals({ billCostUsd: "9.000000" }), "totals.billCostUsd", "sum to 9.084567"],
  ])("refuses %s, naming the file and %s", (_what, content, field, detail) => {
    // Act
    let error: unknown;
    try {
      parseReconcileSnapshot(JSON.stringify(content), FILE);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(ReconcileFileError);
    const problem = error as ReconcileFileError;
    expect(problem.file).toBe(FILE);
    expect(problem.field).toBe(field);
    expect(problem.message.startsWith(`${FILE}: ${field}: `)).toBe(true);
    expect(problem.message).toContain(detail);
  });

  it("refuses text that is not JSON, and JSON that is not an object, naming the file", () => {
    expect(() => parseReconcileSnapshot(valid.slice(0, 200), FILE)).toThrow(new RegExp(`^${FILE}: not JSON`));
    expect(() => parseReconcileSnapshot("[]", FILE)).toThrow(`${FILE}: Invalid input: expected object, received array`);
  });

  it("counts the other problems after the first", () => {
    expect(() => parseReconcileSnapshot(JSON.stringify(withRow(0, { region: 1, tier: 2, model: 3 })), FILE)).toThrow(
      `${FILE}: rows[0].region: Invalid input: expected string, received number (and 2 more problems)`,
    );
  });
});

describe("the reconciliation file in a data dir", () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "bedrock-spend-reconcile-"));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is where the reconcile command keeps it", () => {
    expect(reconcileFileOf("/srv/spend")).toBe("/srv/spend/reconcile/last.json");
  });

  it("reads as none before the first reconciliation, then as the file says after each rewrite", async () => {
    // Arrange
    const source = reconcileFileSource(reconcileFileOf(dataDir));

    // Act + Assess
    expect(await source.read()).toBeUndefined();
    expect(await readReconcileFile(reconcileFileOf(dataDir))).toBeUndefined();
    await writeReconcileFile(dataDir, KNOWN_SNAPSHOT);
    expect(await source.read()).toStrictEqual(KNOWN_SNAPSHOT);
    const later = { ...KNOWN_SNAPSHOT, from: "2026-10-01", cur: ["/bills/october", "/bills/november"] };
    await writeReconcileFile(dataDir, later);
    expect(await source.read()).toStrictEqual(later);
    await writeReconcileFile(dataDir, "{");
    await expect(source.read()).rejects.toThrow(ReconcileFileError);
    await unlink(reconcileFileOf(dataDir));
    expect(await source.read()).toBeUndefined();
  });

  it("reports a file it cannot read by name", async () => {
    await expect(readReconcileFile(dataDir)).rejects.toThrow(`${dataDir}: cannot be read (EISDIR)`);
  });
});

// A few usage types the shipped map places, and two it cannot place (unmapped usage).
const USAGE_TYPES = [
  "USE1-Claude4.5Sonnet-input-tokens",
  "USE1-Claude4.5Sonnet-output-tokens",
  "USE1-Claude4.5Sonnet-cache-read-input-token-count",
  "USW2-NovaLite-input-tokens",
  "USE1-NovaMicro-output-tokens",
  "USE1-Mystery9-input-tokens",
  "USE1-TitanImageGenerator-images",
] as const;
const DAYS = ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-15"] as const;
const MODELS = ["anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0", "meta.llama3-3-70b-instruct-v1:0"] as const;
/** Pico-dollars from a credit of $50 to a charge of $500. */
const amount = fc.bigInt({ min: -50n * 10n ** 12n, max: 500n * 10n ** 12n });

const billGroup: fc.Arbitrary<BillGroup> = fc
  .record({
    day: fc.constantFrom(...DAYS),
    usageType: fc.constantFrom(...USAGE_TYPES),
    lineItemType: fc.constantFrom("Usage", "Usage", "DiscountedUsage", "Credit", "Tax"),
    thousands: fc.integer({ min: 0, max: 5_000_000 }),
    cost: amount,
  })
  .map(({ day, usageType, lineItemType, thousands, cost }) => ({
    day,
    usageType,
    productCode: "AmazonBedrock",
    productName: "Amazon Bedrock",
    billingEntity: "AWS",
    lineItemType,
    pricingUnit: "1K tokens",
    usageAmount: `${Math.floor(thousands / 1000)}.${String(thousands % 1000).padStart(3, "0")}`,
    unblendedCostPico: cost,
    netCostPico: cost,
    rates: [],
    lastHour: 23,
  }));

const logUsage: fc.Arbitrary<LogUsage> = fc.record({
  day: fc.constantFrom(...DAYS),
  region: fc.constantFrom("us-east-1", "us-west-2"),
  model: fc.constantFrom(...MODELS),
  tokenClass: fc.constantFrom(...TOKEN_CLASSES),
  tier: fc.constantFrom("standard", "global"),
  tokens: fc.integer({ min: 1, max: 10_000_000 }),
  costPico: fc.bigInt({ min: 0n, max: 500n * 10n ** 12n }),
});

/** The exact sum of one amount over groups (days, models) or unmapped lines. */
function sumOf<Field extends string>(items: readonly Record<Field, string>[], field: Field): bigint {
  return items.reduce((sum, item) => sum + pico(item[field]), 0n);
}

describe("Property: the summary of any reconciliation adds up", () => {
  it("sums the days and the models each exactly to the totals, for reconciliations of random bills and logs", () => {
    fc.assert(
      fc.property(fc.array(billGroup, { maxLength: 40 }), fc.array(logUsage, { maxLength: 40 }), (bill, logs) => {
        // Arrange: the report as the CLI writes it, read back through the file's parser.
        const report = reconcile(bill, logs, { map: usageTypeMap() });
        const snapshot = parseReconcileSnapshot(JSON.stringify({ from: DAYS[0], to: DAYS[3], cur: ["/cur"], ...report }), FILE);

        // Act
        const summary = summarizeReconciliation(snapshot, FILE);

        // Assess
        const totals = report.totals;
        const placedBill = pico(totals.billCostUsd) - pico(totals.unmappedCostUsd);
        expect(pico(summary.totals.mappedBillCostUsd)).toBe(placedBill);
        for (const groups of [summary.byDay, summary.byModel]) {
          expect(sumOf(groups, "logCostUsd")).toBe(pico(totals.logCostUsd));
          expect(sumOf(groups, "billCostUsd")).toBe(placedBill);
          expect(sumOf(groups, "driftUsd")).toBe(pico(totals.driftUsd));
          expect(groups.reduce((sum, group) => sum + group.rows, 0)).toBe(report.rows.length);
          for (const group of groups) expect(group.driftPct).toBe(percentOf(pico(group.driftUsd), pico(group.billCostUsd)));
        }
        // The percentage rounds as the reconciliation's own: the same answer for all the rows together.
        expect(percentOf(sumOf(summary.byDay, "driftUsd"), placedBill)).toBe(totals.driftPct);
        expect(new Set(summary.byDay.map((day) => day.day)).size).toBe(summary.byDay.length);
        expect(summary.byDay.map((day) => day.day)).toStrictEqual([...new Set(report.rows.map((row) => row.day))].sort());
        expect(sumOf(summary.unmapped.lines, "billCostUsd")).toBe(pico(totals.unmappedCostUsd));
      }),
      { numRuns: 300 },
    );
  });

  it("gives a day of one row that row's own drift percentage", () => {
    fc.assert(
      fc.property(billGroup, logUsage, (bill, log) => {
        const report = reconcile([{ ...bill, lineItemType: "Usage" }], [log], { map: usageTypeMap() });
        const summary = summarizeReconciliation(parseReconcileSnapshot(JSON.stringify({ from: null, to: null, cur: [], ...report }), FILE), FILE);
        for (const row of report.rows) {
          const day = summary.byDay.find((entry) => entry.day === row.day);
          if (day?.rows === 1) expect(day.driftPct).toBe(row.driftPct);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("Function: summarizeReconciliation — days the bill has not finished", () => {
  it("says nothing of a day's completeness when the file does not (an older CLI's file)", () => {
    // Prepare
    const { days: _days, ...older } = KNOWN_SNAPSHOT;

    // Act
    const summary = summarizeReconciliation(older, FILE);

    // Assess
    expect(summary.byDay.map((day) => [day.day, day.complete])).toStrictEqual([
      ["2026-11-01", null],
      ["2026-11-02", null],
    ]);
  });
});
