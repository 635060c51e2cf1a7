/**
 * Budgets: a monthly amount in USD and the percentages at which to alert, and the pure evaluation
 * of a tenant's month spend against them. Periods are calendar months in UTC; nothing resets,
 * because the month is part of every key.
 */
import { formatUsd, parseUsd } from "./money";
import { monthBounds } from "./periods";

/** A tenant's monthly budget. */
export interface Budget {
  /** Decimal USD string, e.g. "100.00". */
  monthlyUsd: string;
  /** Alert thresholds in percent of the budget, ascending, e.g. [50, 80, 100]. */
  thresholds: number[];
}

/** Default alert thresholds. */
export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];

/** Result of validating a budget from user input. */
export type BudgetValidation = { ok: true; budget: Budget } | { ok: false; field: string; reason: string };

/** Largest monthly budget accepted, in USD: far above any real one, and small enough to stay cheap to evaluate. */
export const MAX_BUDGET_USD = "1000000000000";
/** Longest `monthlyUsd` text read: 13 whole digits, a point and 12 decimals, with room for zeros and whitespace. */
export const MAX_BUDGET_TEXT_LENGTH = 40;
const MAX_BUDGET_PICO = parseUsd(MAX_BUDGET_USD) as bigint;
const AMOUNT_RULE = `a positive decimal amount in USD of at most ${MAX_BUDGET_USD}, with at most 12 decimals`;

/**
 * Validates user input for a budget: `monthlyUsd` a positive decimal string (or number) of at most
 * `MAX_BUDGET_USD` with at most 12 fractional digits, its text at most `MAX_BUDGET_TEXT_LENGTH`
 * characters (checked before it is parsed); `thresholds` distinct integers 1-1000, sorted on return.
 */
export function validateBudget(input: unknown): BudgetValidation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, field: "body", reason: "must be a JSON object" };
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => key !== "monthlyUsd" && key !== "thresholds");
  if (unknown.length > 0) return { ok: false, field: unknown[0] as string, reason: "is not a budget field (expected monthlyUsd, thresholds)" };
  let amountText: string;
  if (typeof body.monthlyUsd === "string") amountText = body.monthlyUsd.trim();
  else if (typeof body.monthlyUsd === "number" && Number.isFinite(body.monthlyUsd)) amountText = String(body.monthlyUsd);
  else return { ok: false, field: "monthlyUsd", reason: `is required: ${AMOUNT_RULE}, e.g. "100.00"` };
  // Before parsing: a megabyte of digits costs BigInt time on every evaluation and never fits an item.
  if (amountText.length > MAX_BUDGET_TEXT_LENGTH)
    return {
      ok: false,
      field: "monthlyUsd",
      reason: `must be ${AMOUNT_RULE}; got ${amountText.length} characters, over the ${MAX_BUDGET_TEXT_LENGTH} allowed`,
    };
  const pico = parseUsd(amountText);
  if (pico === undefined || pico <= 0n || pico > MAX_BUDGET_PICO)
    return { ok: false, field: "monthlyUsd", reason: `must be ${AMOUNT_RULE}, got ${JSON.stringify(body.monthlyUsd)}` };
  let thresholds = [...DEFAULT_THRESHOLDS];
  if (body.thresholds !== undefined) {
    if (!Array.isArray(body.thresholds) || body.thresholds.length === 0 || body.thresholds.length > 10) {
      return { ok: false, field: "thresholds", reason: "must be an array of 1 to 10 percentages" };
    }
    for (const value of body.thresholds) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1000) {
        return { ok: false, field: "thresholds", reason: `must hold integers from 1 to 1000, got ${JSON.stringify(value)}` };
      }
    }
    thresholds = [...new Set(body.thresholds as number[])].sort((a, b) => a - b);
  }
  return { ok: true, budget: { monthlyUsd: formatUsd(pico, 2), thresholds } };
}

/** Pico-dollar amount of `percent`% of the budget, rounded up so that "at the threshold" is exact. */
export function thresholdPico(budget: Budget, percent: number): bigint {
  const monthly = budgetPico(budget);
  return (monthly * BigInt(percent) + 99n) / 100n;
}

/**
 * Projected month-end spend: the spend so far scaled linearly by elapsed time. Exact integer
 * arithmetic (pico-dollars x milliseconds). Returns the spend itself once the month is over.
 */
export function forecastMonthEnd(spendPico: bigint, month: string, now: number): bigint {
  const { start, end } = monthBounds(month);
  // Outside the month there is nothing to project: the spend is what it is.
  if (now >= end || now <= start) return spendPico;
  const elapsed = BigInt(now - start);
  return (spendPico * BigInt(end - start)) / elapsed;
}

/**
 * Fraction of a month that must have passed before its month-end spend is projected (noise
 * guard): an hour into a month, one call projects to hundreds of times the spend.
 */
export const FORECAST_AFTER = 0.1;

/**
 * The month-end projection worth showing: the linear forecast once `after` of the month has
 * passed, null before that (too early to say), and the spend itself for a month that is over
 * (or not begun).
 */
export function monthEndForecast(spendPico: bigint, month: string, now: number, after = FORECAST_AFTER): bigint | null {
  const { start, end } = monthBounds(month);
  if (now >= start && now < end && now - start < after * (end - start)) return null;
  return forecastMonthEnd(spendPico, month, now);
}

/** An alert a tenant's month spend calls for. */
export interface BudgetAlert {
  kind: "threshold" | "forecast";
  /** Percent for threshold alerts; null for the forecast alert. */
  threshold: number | null;
  tenantId: string;
  month: string;
  spendUsd: string;
  budgetUsd: string;
  forecastUsd: string;
}

/** Inputs of a budget evaluation. */
export interface BudgetEvaluation {
  tenantId: string;
  month: string;
  spendPico: bigint;
  budget: Budget;
  /** Thresholds (and `"FORECAST"`) already fired for this tenant and month. */
  fired: ReadonlySet<number | "FORECAST">;
  /** Evaluation time, epoch ms (the stream record's time). */
  now: number;
  /** Fraction of the month that must have passed before a forecast alert (noise guard). Default 0.1. */
  forecastAfter?: number;
}

/**
 * Alerts due now: every threshold the spend has reached (at or above) and that has not fired,
 * and a forecast alert when the projected month-end spend exceeds the budget. Reaching, not
 * crossing: a budget lowered mid-month fires the thresholds the spend already passed. The caller
 * makes each one fire once with a conditional write of its marker.
 */
export function alertsDue(evaluation: BudgetEvaluation): BudgetAlert[] {
  const { budget, spendPico, month, now, fired } = evaluation;
  const forecast = forecastMonthEnd(spendPico, month, now);
  const common = {
    tenantId: evaluation.tenantId,
    month,
    spendUsd: formatUsd(spendPico),
    budgetUsd: budget.monthlyUsd,
    forecastUsd: formatUsd(forecast),
  };
  const alerts: BudgetAlert[] = [];
  for (const threshold of budget.thresholds) {
    if (fired.has(threshold)) continue;
    if (spendPico >= thresholdPico(budget, threshold)) alerts.push({ kind: "threshold", threshold, ...common });
  }
  const { start, end } = monthBounds(month);
  const elapsedFraction = (now - start) / (end - start);
  const monthly = budgetPico(budget);
  if (!fired.has("FORECAST") && elapsedFraction >= (evaluation.forecastAfter ?? FORECAST_AFTER) && now < end && forecast > monthly && spendPico < monthly) {
    alerts.push({ kind: "forecast", threshold: null, ...common });
  }
  return alerts;
}

/** Budget amount in pico-dollars. */
export function budgetPico(budget: Budget): bigint {
  return parseUsd(budget.monthlyUsd) ?? 0n;
}
