/**
 * The deployment's price configuration (stacks/config.ts): validated when the app is synthesized,
 * so that a price file that cannot be used stops `sst deploy` instead of every cold start after it.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, pricingEnvironment } from "../../stacks/config";

const negotiated = JSON.stringify({
  version: "acme-2026-10",
  currency: "USD",
  unit: "per_million_tokens",
  models: [
    {
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-10-01",
      effectiveTo: null,
      input: "0.20",
      output: "1.00",
    },
  ],
});

describe("Deployment configuration: prices", () => {
  it("passes a price file laid over the shipped catalog as PRICE_OVERLAY, and as PRICE_CATALOG with BEDROCK_SPEND_PRICES_ONLY", () => {
    expect(pricingEnvironment(loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated }))).toEqual({ PRICE_OVERLAY: negotiated });
    expect(pricingEnvironment(loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated, BEDROCK_SPEND_PRICES_ONLY: "true" }))).toEqual({
      PRICE_CATALOG: negotiated,
    });
    expect(pricingEnvironment(loadConfig({}))).toEqual({});
  });

  it("refuses, naming the variable, a price file that does not validate or is not JSON, and PRICES_ONLY without a file", () => {
    expect(() => loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated.replace("per_million_tokens", "per_thousand_tokens") })).toThrow(
      /^BEDROCK_SPEND_PRICE_OVERLAY: invalid price catalog \(1 problem\):\n {2}BEDROCK_SPEND_PRICE_OVERLAY: unit: must be "per_million_tokens"/,
    );
    expect(() => loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: "{not json" })).toThrow(/^BEDROCK_SPEND_PRICE_OVERLAY: is not valid JSON/);
    expect(() => loadConfig({ BEDROCK_SPEND_PRICES_ONLY: "true" })).toThrow(
      "BEDROCK_SPEND_PRICES_ONLY: needs BEDROCK_SPEND_PRICE_OVERLAY, the catalog to use alone",
    );
    expect(() => loadConfig({ BEDROCK_SPEND_PRICES_ONLY: "yes" })).toThrow(/^BEDROCK_SPEND_PRICES_ONLY:/);
  });
});
