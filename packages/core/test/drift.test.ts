import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BillGroup, parseSignedDecimal, type ReconcileReport, type ReconcileRow, summarizeDrift } from "../src/index";
import { billGroup } from "./helpers/bill";

function row(day: string, model: string, logCostUsd: string, billCostUsd: string): ReconcileRow {
  return {
    day,
    region: "us-east-1",
    model,
    tokenClass: "input",
    tier: "standard",
    logTokens: 1,
    billTokens: 1,
    logCostUsd,
    billCostUsd,
    driftUsd: "",
    driftPct: null,
    likelyCause: null,
  };
}

function report(rows: ReconcileRow[]): ReconcileReport {
  return { rows, unmapped: [], totals: { logCostUsd: "0", billCostUsd: "0", unmappedCostUsd: "0", netBillCostUsd: "0", driftUsd: "0", driftPct: null } };
}

const billThrough = (day: string): BillGroup[] => [billGroup(day, "USE1-NovaLite-input-tokens", 1000, "0.00006")];

describe("Function: summarizeDrift", () => {
  it("sums by day, marks the bill's last day unfinished, and sums models over finished days only", () => {
    // Prepare
    const rows = [
      row("2026-11-01", "a", "10.000000", "10.500000"),
      row("2026-11-01", "b", "4.000000", "3.000000"),
      row("2026-11-02", "a", "10.000000", "10.000000"),
      row("2026-11-03", "a", "10.000000", "2.000000"),
    ];

    // Act
    const summary = summarizeDrift(report(rows), billThrough("2026-11-03"));

    // Assess
    expect(summary.days).toStrictEqual([
      { day: "2026-11-01", logCostUsd: "14.000000", billCostUsd: "13.500000", driftUsd: "-0.500000", driftPct: "-3.70", complete: true },
      { day: "2026-11-02", logCostUsd: "10.000000", billCostUsd: "10.000000", driftUsd: "0.000000", driftPct: "0.00", complete: true },
      { day: "2026-11-03", logCostUsd: "10.000000", billCostUsd: "2.000000", driftUsd: "-8.000000", driftPct: "-400.00", complete: false },
    ]);
    expect(summary.models).toStrictEqual([
      { model: "b", logCostUsd: "4.000000", billCostUsd: "3.000000", driftUsd: "-1.000000", driftPct: "-33.33" },
      { model: "a", logCostUsd: "20.000000", billCostUsd: "20.500000", driftUsd: "0.500000", driftPct: "2.44" },
    ]);
    expect(summary.lastCompleteDay).toBe("2026-11-02");
    expect(summary.worstDay?.day).toBe("2026-11-01");
  });

  it("has no complete day while the bill has no later day, and none with no bill at all", () => {
    const rows = [row("2026-11-01", "a", "1.000000", "1.000000")];
    expect(summarizeDrift(report(rows), billThrough("2026-11-01"))).toMatchObject({ lastCompleteDay: null, worstDay: null, models: [] });
    expect(summarizeDrift(report(rows), []).days[0]?.complete).toBe(false);
  });

  it("adds up exactly: the days' drifts sum to the rows' drift", () => {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 15n }).map((pico) => `${pico / 10n ** 12n}.${(pico % 10n ** 12n).toString().padStart(12, "0")}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ day: fc.constantFrom("2026-11-01", "2026-11-02", "2026-11-03"), model: fc.constantFrom("a", "b"), log: amount, bill: amount }), {
          maxLength: 40,
        }),
        (drawn) => {
          const rows = drawn.map((entry) => row(entry.day, entry.model, entry.log, entry.bill));
          const summary = summarizeDrift(report(rows), billThrough("2026-11-04"));
          const sum = (values: string[]) => values.reduce((total, value) => total + parseSignedDecimal(value, 12), 0n);
          const expected = sum(drawn.map((entry) => entry.bill)) - sum(drawn.map((entry) => entry.log));
          expect(sum(summary.days.map((day) => day.driftUsd))).toBe(expected);
          expect(sum(summary.models.map((model) => model.driftUsd))).toBe(expected);
        },
      ),
    );
  });
});
