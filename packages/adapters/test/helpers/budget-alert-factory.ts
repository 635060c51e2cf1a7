/**
 * Budget alerts for the publisher tests.
 */
import type { BudgetAlert } from "@bedrock-spend/core";

/** A threshold alert of acme for November 2026 (80% of 100 USD); `overrides` replace fields. */
export function budgetAlert(overrides: Partial<BudgetAlert> = {}): BudgetAlert {
  return {
    kind: "threshold",
    threshold: 80,
    tenantId: "acme",
    month: "2026-11",
    spendUsd: "80.250000",
    budgetUsd: "100.00",
    forecastUsd: "120.375000",
    ...overrides,
  };
}

/** The forecast alert of acme for November 2026. */
export function forecastAlert(overrides: Partial<BudgetAlert> = {}): BudgetAlert {
  return budgetAlert({ kind: "forecast", threshold: null, spendUsd: "40.000000", forecastUsd: "133.333333333333", ...overrides });
}
