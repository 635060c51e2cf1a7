import { describe, expect, it } from "vitest";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, defaultBudgetFromEnv, pricerFromEnv, requireEnv } from "../src/lib/env";

describe("Handler configuration from the environment", () => {
  it("fails closed on a missing required variable, naming it", () => {
    expect(() => requireEnv("TABLE_NAME", {})).toThrow("TABLE_NAME: environment variable is required");
  });

  it("builds a pricer with an overlay, a profile map and aliases, and refuses bad JSON", () => {
    const overlay = {
      version: "acme",
      currency: "USD",
      unit: "per_million_tokens",
      models: [{ model: "acme.custom-v1", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "1", output: "2" }],
    };
    const pricer = pricerFromEnv({ PRICE_OVERLAY: JSON.stringify(overlay), METADATA_ALIASES: '{"tenantId":["acct"]}' });
    expect(pricer.catalog.version).toMatch(/\+acme$/);
    expect(pricer.catalog.knowsModel("acme.custom-v1")).toBe(true);
    expect(() => pricerFromEnv({ PROFILE_MAP: "{nope" })).toThrow(/PROFILE_MAP: is not valid JSON/);
    expect(() => pricerFromEnv({ PRICE_OVERLAY: JSON.stringify({ ...overlay, unit: "per_thousand_tokens" }) })).toThrow(/unit/);
  });

  it("uses PRICE_CATALOG as the whole catalog, and refuses it together with PRICE_OVERLAY", () => {
    const only = {
      version: "acme-only",
      currency: "USD",
      unit: "per_million_tokens",
      models: [{ model: "acme.custom-v1", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "1", output: "2" }],
    };
    const pricer = pricerFromEnv({ PRICE_CATALOG: JSON.stringify(only) });
    expect(pricer.catalog.version).toBe("acme-only");
    expect(pricer.catalog.knowsModel("acme.custom-v1")).toBe(true);
    expect(pricer.catalog.knowsModel("amazon.nova-lite-v1:0")).toBe(false);
    expect(() => pricerFromEnv({ PRICE_CATALOG: JSON.stringify(only), PRICE_OVERLAY: JSON.stringify(only) })).toThrow(
      "PRICE_CATALOG: and PRICE_OVERLAY are exclusive",
    );
  });

  it("prices with the bundled pricing of a deployed function, not with its environment", () => {
    // Prepare
    const bundled = {
      version: "acme-bundled",
      currency: "USD",
      unit: "per_million_tokens",
      models: [{ model: "acme.bundled-v1", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "1", output: "2" }],
    };
    const fromEnvironment = { ...bundled, version: "acme-environment", models: [{ ...bundled.models[0], model: "acme.environment-v1" }] };

    // Act
    const pricer = pricerFromEnv({ PRICE_OVERLAY: JSON.stringify(fromEnvironment) }, { catalog: bundled, aliases: { tenantId: ["acct"] } });

    // Assess
    expect(pricer.catalog.version).toBe("acme-bundled");
    expect(pricer.catalog.knowsModel("acme.bundled-v1")).toBe(true);
    expect(pricer.catalog.knowsModel("acme.environment-v1")).toBe(false);
    expect(() => pricerFromEnv({}, { overlay: { ...bundled, unit: "per_thousand_tokens" } })).toThrow(/bundled PRICE_OVERLAY/);
  });

  it("reads breakdowns, the default budget and the dedup retention, refusing bad values", () => {
    expect(breakdownsFromEnv({ AGGREGATE_BREAKDOWNS: "departmentId, applicationId" })).toEqual(["departmentId", "applicationId"]);
    expect(() => breakdownsFromEnv({ AGGREGATE_BREAKDOWNS: "department" })).toThrow(/unknown dimension "department"/);
    expect(defaultBudgetFromEnv({})).toBeNull();
    expect(defaultBudgetFromEnv({ DEFAULT_BUDGET_USD: "250", DEFAULT_BUDGET_THRESHOLDS: "90,50" })).toEqual({ monthlyUsd: "250.00", thresholds: [50, 90] });
    expect(() => defaultBudgetFromEnv({ DEFAULT_BUDGET_USD: "-1" })).toThrow(/DEFAULT_BUDGET_USD/);
    expect(dedupRetentionDaysFromEnv({})).toBe(35);
    expect(() => dedupRetentionDaysFromEnv({ DEDUP_RETENTION_DAYS: "7" })).toThrow(/longer than the dead-letter queue/);
  });
});
