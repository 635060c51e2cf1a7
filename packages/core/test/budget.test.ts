/**
 * The pure budget functions: validation of user input, threshold amounts, the month-end forecast
 * and which alerts are due.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alertsDue,
  type Budget,
  type BudgetEvaluation,
  budgetPico,
  FORECAST_AFTER,
  forecastMonthEnd,
  monthEndForecast,
  thresholdPico,
  validateBudget,
} from "../src/budget";
import { formatUsd, PICO_PER_USD, parseUsd } from "../src/money";
import { monthBounds } from "../src/periods";

const USD = PICO_PER_USD;
const DAY = 86_400_000;
const NOV_1 = Date.UTC(2026, 10, 1);

/** An evaluation of acme's November 2026 against 100 USD at 50/80/100%, on 2 November (before the forecast window). */
function evaluation(overrides: Partial<BudgetEvaluation> = {}): BudgetEvaluation {
  return {
    tenantId: "acme",
    month: "2026-11",
    spendPico: 0n,
    budget: { monthlyUsd: "100.00", thresholds: [50, 80, 100] },
    fired: new Set(),
    now: NOV_1 + DAY,
    ...overrides,
  };
}

describe("Function: validateBudget()", () => {
  it.each([
    [{ monthlyUsd: "100" }, { monthlyUsd: "100.00", thresholds: [50, 80, 100] }],
    [{ monthlyUsd: " 12.5 " }, { monthlyUsd: "12.50", thresholds: [50, 80, 100] }],
    [
      { monthlyUsd: 250.75, thresholds: [100, 25, 25, 1000] },
      { monthlyUsd: "250.75", thresholds: [25, 100, 1000] },
    ],
    [
      { monthlyUsd: "0.000000000001", thresholds: [1] },
      { monthlyUsd: "0.000000000001", thresholds: [1] },
    ],
    [{ monthlyUsd: "1000000000000.000000000000" }, { monthlyUsd: "1000000000000.00", thresholds: [50, 80, 100] }],
  ])("accepts %j as %j", (input, expected) => {
    // Act
    const result = validateBudget(input);

    // Assess
    expect(result).toEqual({ ok: true, budget: expected });
  });

  it.each([
    [null, "body", "must be a JSON object"],
    [[], "body", "must be a JSON object"],
    ["100", "body", "must be a JSON object"],
    [{ monthlyUsd: "100", threshold: [50] }, "threshold", "is not a budget field (expected monthlyUsd, thresholds)"],
    [{}, "monthlyUsd", 'is required: a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, e.g. "100.00"'],
    [
      { monthlyUsd: Number.NaN },
      "monthlyUsd",
      'is required: a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, e.g. "100.00"',
    ],
    [{ monthlyUsd: "0" }, "monthlyUsd", 'must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got "0"'],
    [{ monthlyUsd: "-5" }, "monthlyUsd", 'must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got "-5"'],
    [{ monthlyUsd: "1e3" }, "monthlyUsd", 'must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got "1e3"'],
    [{ monthlyUsd: "1,000" }, "monthlyUsd", 'must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got "1,000"'],
    [
      { monthlyUsd: "0.0000000000001" },
      "monthlyUsd",
      'must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got "0.0000000000001"',
    ],
    [
      { monthlyUsd: "1000000000000.000000000001" },
      "monthlyUsd",
      `must be ${"a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals"}, got "1000000000000.000000000001"`,
    ],
    [
      { monthlyUsd: 1e13 },
      "monthlyUsd",
      `must be ${"a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals"}, got 10000000000000`,
    ],
    [{ monthlyUsd: "100", thresholds: "50" }, "thresholds", "must be an array of 1 to 10 percentages"],
    [{ monthlyUsd: "100", thresholds: [] }, "thresholds", "must be an array of 1 to 10 percentages"],
    [{ monthlyUsd: "100", thresholds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, "thresholds", "must be an array of 1 to 10 percentages"],
    [{ monthlyUsd: "100", thresholds: [50, 80.5] }, "thresholds", "must hold integers from 1 to 1000, got 80.5"],
    [{ monthlyUsd: "100", thresholds: [0] }, "thresholds", "must hold integers from 1 to 1000, got 0"],
    [{ monthlyUsd: "100", thresholds: [1001] }, "thresholds", "must hold integers from 1 to 1000, got 1001"],
    [{ monthlyUsd: "100", thresholds: ["50"] }, "thresholds", 'must hold integers from 1 to 1000, got "50"'],
  ])("refuses %j, naming the field %s", (input, field, reason) => {
    // Act
    const result = validateBudget(input);

    // Assess
    expect(result).toEqual({ ok: false, field, reason });
  });

  it("refuses a multi-megabyte amount by its length, before parsing it, without echoing it", () => {
    // Act
    const result = validateBudget({ monthlyUsd: "9".repeat(4_000_000) });

    // Assess
    expect(result).toEqual({
      ok: false,
      field: "monthlyUsd",
      reason: "must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals; got 4000000 characters, over the 40 allowed",
    });
  });
});

describe("Function: thresholdPico()", () => {
  it.each([
    ["100.00", 80, 80n * USD],
    ["100.00", 1000, 1000n * USD],
    ["0.03", 50, 15_000_000_000n],
    // 0.5 pico-dollars rounds up to 1: reaching "50% of 1 pico" takes a whole pico-dollar
    ["0.000000000001", 50, 1n],
    ["0.000000000003", 50, 2n],
    ["0.000000000003", 33, 1n],
    ["0.000000000003", 100, 3n],
    ["0.000000000003", 150, 5n],
    ["33.333333333333", 30, 10_000_000_000_000n],
  ])("of %s USD at %i%% is %s pico-dollars, rounded up", (monthlyUsd, percent, expected) => {
    // Act
    const amount = thresholdPico({ monthlyUsd, thresholds: [percent] }, percent);

    // Assess
    expect(amount).toBe(expected);
  });

  it("is the least amount whose percentage of the budget reaches the threshold", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 18n }), fc.integer({ min: 1, max: 1000 }), (monthly, percent) => {
        // Prepare
        const budget: Budget = { monthlyUsd: formatUsd(monthly, 2), thresholds: [percent] };

        // Act
        const amount = thresholdPico(budget, percent);

        // Assess: amount x 100 >= monthly x percent, and one pico-dollar less does not reach it
        expect(amount * 100n >= monthly * BigInt(percent)).toBe(true);
        expect((amount - 1n) * 100n < monthly * BigInt(percent)).toBe(true);
      }),
    );
  });
});

describe("Function: forecastMonthEnd()", () => {
  it.each([
    ["10 USD after 10 of November's 30 days", 10n * USD, "2026-11", NOV_1 + 10 * DAY, 30n * USD],
    ["29 USD after 1 of February 2028's 29 days", 29n * USD, "2028-02", Date.UTC(2028, 1, 2), 841n * USD],
    ["40 USD after 9 days, floored to the pico-dollar", 40n * USD, "2026-11", NOV_1 + 9 * DAY, 133_333_333_333_333n],
    ["1 pico-dollar after 7 days", 1n, "2026-11", NOV_1 + 7 * DAY, 4n],
    ["a spend beyond 2^53 pico-dollars", 123_456_789_123_456_789_012n, "2026-11", NOV_1 + 10 * DAY, 370_370_367_370_370_367_036n],
    ["a month that is over", 55n * USD, "2026-11", Date.UTC(2026, 11, 3), 55n * USD],
    ["the month's last millisecond", 30n * USD, "2026-11", Date.UTC(2026, 11, 1) - 1, (30n * USD * (30n * 86_400_000n)) / (30n * 86_400_000n - 1n)],
  ])("projects %s exactly", (_, spend, month, now, expected) => {
    // Act
    const forecast = forecastMonthEnd(spend, month, now);

    // Assess
    expect(forecast).toBe(expected);
  });

  it("equals spend x month length / elapsed time in integers, for any spend and moment of the month", () => {
    const start = Date.UTC(2026, 11, 1);
    const end = Date.UTC(2027, 0, 1);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.integer({ min: start + 1, max: end - 1 }), (spend, now) => {
        // Act
        const forecast = forecastMonthEnd(spend, "2026-12", now);

        // Assess: the floor of the exact quotient, so forecast <= exact < forecast + 1
        const length = BigInt(end - start);
        const elapsed = BigInt(now - start);
        expect(forecast * elapsed <= spend * length).toBe(true);
        expect((forecast + 1n) * elapsed > spend * length).toBe(true);
      }),
    );
  });
});

describe("Function: monthBounds()", () => {
  it.each([
    ["2026-11", Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 1)],
    ["2026-12", Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
    ["2028-02", Date.UTC(2028, 1, 1), Date.UTC(2028, 2, 1)],
  ])("bounds %s as a calendar month in UTC", (month, start, end) => {
    // Act
    const bounds = monthBounds(month);

    // Assess
    expect(bounds).toEqual({ start, end });
  });
});

describe("Function: alertsDue()", () => {
  it("returns every unfired threshold the spend has reached, lowest first, with the figures", () => {
    // Act
    const alerts = alertsDue(evaluation({ spendPico: 85n * USD, fired: new Set([50]) }));

    // Assess
    expect(alerts).toEqual([
      { kind: "threshold", threshold: 80, tenantId: "acme", month: "2026-11", spendUsd: "85.000000", budgetUsd: "100.00", forecastUsd: "2550.000000" },
    ]);
  });

  it("counts a spend exactly at a threshold as reaching it", () => {
    // Act
    const at = alertsDue(evaluation({ spendPico: 50n * USD }));
    const below = alertsDue(evaluation({ spendPico: 50n * USD - 1n }));

    // Assess
    expect(at.map((alert) => alert.threshold)).toEqual([50]);
    expect(below).toEqual([]);
  });

  it("fires the thresholds a lowered budget puts behind the spend (reaching, not crossing)", () => {
    // Act
    const alerts = alertsDue(evaluation({ spendPico: 60n * USD, budget: { monthlyUsd: "50.00", thresholds: [50, 80, 100] }, fired: new Set([50]) }));

    // Assess
    expect(alerts.map((alert) => [alert.threshold, alert.budgetUsd])).toEqual([
      [80, "50.00"],
      [100, "50.00"],
    ]);
  });

  describe("the forecast alert", () => {
    it("is due once the projection exceeds the budget after the first 10% of the month", () => {
      // Act
      const alerts = alertsDue(evaluation({ spendPico: 40n * USD, now: NOV_1 + 9 * DAY }));

      // Assess
      expect(alerts).toEqual([
        { kind: "forecast", threshold: null, tenantId: "acme", month: "2026-11", spendUsd: "40.000000", budgetUsd: "100.00", forecastUsd: "133.333333333333" },
      ]);
    });

    it.each([
      ["before 10% of the month", { spendPico: 20n * USD, now: NOV_1 + 2 * DAY }],
      ["once fired", { spendPico: 40n * USD, now: NOV_1 + 9 * DAY, fired: new Set<number | "FORECAST">(["FORECAST"]) }],
      ["when the projection is within the budget", { spendPico: 30n * USD, now: NOV_1 + 9 * DAY }],
      ["when the budget is already spent", { spendPico: 100n * USD, budget: { monthlyUsd: "100.00", thresholds: [200] }, now: NOV_1 + 9 * DAY }],
      ["after the month", { spendPico: 40n * USD, now: Date.UTC(2026, 11, 2) }],
      ["before a later noise guard", { spendPico: 40n * USD, now: NOV_1 + 9 * DAY, forecastAfter: 0.5 }],
    ])("is not due %s", (_, overrides) => {
      // Act
      const alerts = alertsDue(evaluation(overrides));

      // Assess
      expect(alerts.filter((alert) => alert.kind === "forecast")).toEqual([]);
    });
  });

  it("never returns a fired threshold, and returns exactly the unfired thresholds whose amount the spend reaches", () => {
    const budgets = fc.record({
      monthly: fc.bigInt({ min: 1n, max: 10n ** 18n }),
      thresholds: fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 10 }),
    });
    const cases = budgets.chain(({ monthly, thresholds }) =>
      fc.record({
        budget: fc.constant<Budget>({ monthlyUsd: formatUsd(monthly, 2), thresholds: [...thresholds].sort((a, b) => a - b) }),
        fired: fc.subarray(thresholds).map((subset) => new Set<number | "FORECAST">(subset)),
        withForecastFired: fc.boolean(),
        spendPico: fc.oneof(
          fc.bigInt({ min: 0n, max: monthly * 11n }),
          // spends landing on a threshold amount, or one pico-dollar either side
          fc.tuple(fc.constantFrom(...thresholds), fc.constantFrom(-1n, 0n, 1n)).map(([percent, delta]) => {
            const amount = (monthly * BigInt(percent) + 99n) / 100n + delta;
            return amount < 0n ? 0n : amount;
          }),
        ),
        now: fc.integer({ min: NOV_1, max: Date.UTC(2026, 11, 1) + DAY }),
      }),
    );
    fc.assert(
      fc.property(cases, ({ budget, fired, withForecastFired, spendPico, now }) => {
        // Prepare
        if (withForecastFired) fired.add("FORECAST");
        const monthly = budgetPico(budget);

        // Act
        const due = alertsDue(evaluation({ budget, fired, spendPico, now })).filter((alert) => alert.kind === "threshold");

        // Assess: reached means spend x 100 >= budget x percent, computed here without thresholdPico
        const expected = budget.thresholds.filter((percent) => !fired.has(percent) && spendPico * 100n >= monthly * BigInt(percent));
        expect(due.map((alert) => alert.threshold)).toEqual(expected);
        expect(due.some((alert) => fired.has(alert.threshold as number))).toBe(false);
        expect(due.every((alert) => alert.spendUsd === formatUsd(spendPico) && parseUsd(alert.budgetUsd) === monthly)).toBe(true);
      }),
    );
  });
});

/** The last second of a month (31 December, 29 February) and the first second of the next. */
const EDGES = [
  { at: "2026-12-31T23:59:59.000Z", month: "2026-12", next: "2027-01" },
  { at: "2028-02-29T23:59:59.000Z", month: "2028-02", next: "2028-03" },
] as const;

describe.each(EDGES)("Budgets at the edge of $month", ({ at, month, next }) => {
  const lastSecond = Date.parse(at);
  const firstSecond = lastSecond + 1000;
  const budget: Budget = { monthlyUsd: "100.00", thresholds: [50, 80, 100] };

  it("in its last second: the thresholds reached fire for the month, and the forecast is the spend (almost)", () => {
    // Act
    const due = alertsDue(evaluation({ month, budget, spendPico: 85n * USD, now: lastSecond }));
    const forecast = monthEndForecast(85n * USD, month, lastSecond);

    // Assess: one second before the end, the spend scaled by length / (length - 1 s)
    const { start, end } = monthBounds(month);
    expect(due.map((alert) => `${alert.month}:${alert.kind}:${alert.threshold}`)).toEqual([`${month}:threshold:50`, `${month}:threshold:80`]);
    expect(forecast).toBe((85n * USD * BigInt(end - start)) / BigInt(end - start - 1000));
  });

  it("in its last second: a spend one pico-dollar below the budget forecasts above it", () => {
    // Act
    const due = alertsDue(evaluation({ month, budget, spendPico: 100n * USD - 1n, now: lastSecond }));

    // Assess
    expect(due.map((alert) => alert.kind)).toEqual(["threshold", "threshold", "forecast"]);
  });

  it("in the next month's first second: the closed month forecasts its spend and no forecast alert fires", () => {
    // Act: a late record of the closed month, evaluated in the first second of the next
    const late = alertsDue(evaluation({ month, budget, spendPico: 99n * USD, now: firstSecond }));
    const fresh = alertsDue(evaluation({ month: next, budget, spendPico: 99n * USD, now: firstSecond }));

    // Assess
    expect(new Date(firstSecond).toISOString().slice(0, 7)).toBe(next);
    expect(monthEndForecast(99n * USD, month, firstSecond)).toBe(99n * USD);
    expect(late.map((alert) => alert.kind)).toEqual(["threshold", "threshold"]);
    expect(monthEndForecast(99n * USD, next, firstSecond)).toBeNull();
    expect(monthEndForecast(99n * USD, next, firstSecond - 1000)).toBe(99n * USD);
    expect(fresh.map((alert) => alert.kind)).toEqual(["threshold", "threshold"]);
  });

  it(`forecasts from ${FORECAST_AFTER * 100}% of the next month on, not before`, () => {
    const { start, end } = monthBounds(next);
    const from = start + Math.ceil(FORECAST_AFTER * (end - start));
    expect(monthEndForecast(USD, next, from - 1)).toBeNull();
    expect(monthEndForecast(USD, next, from)).toBe(forecastMonthEnd(USD, next, from));
  });
});
