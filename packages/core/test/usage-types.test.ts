import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mapUsageType, parseUsageTypeMap, type UsageLine, UsageTypeMapError, usageTypeMap } from "../src/bill/usage-types";

const map = usageTypeMap();
const native = (usageType: string, pricingUnit = "1K tokens"): UsageLine => ({ usageType, productName: "Amazon Bedrock", pricingUnit });

describe("Function: mapUsageType — the usage types AWS documents", () => {
  it.each([
    ["USE1-Claude4.6Sonnet-input-tokens", "us-east-1", "anthropic.claude-sonnet-4-6", "input", "standard"],
    ["USE1-Claude4.6Sonnet-cache-read-input-token-count", "us-east-1", "anthropic.claude-sonnet-4-6", "cacheRead", "standard"],
    ["USE1-Claude4.6Sonnet-output-tokens-cross-region-global", "us-east-1", "anthropic.claude-sonnet-4-6", "output", "global"],
    ["USE1-Nova2.0Lite-input-tokens-flex", "us-east-1", "amazon.nova-2-lite-v1:0", "input", "flex"],
    ["USE1-gpt-oss-120b-output-tokens-priority", "us-east-1", "openai.gpt-oss-120b-1:0", "output", "priority"],
    ["USE1-openai.gpt-oss-120b-mantle-input-tokens-standard", "us-east-1", "openai.gpt-oss-120b", "input", "standard"],
    ["USE1-NovaLite-input-tokens", "us-east-1", "amazon.nova-lite-v1:0", "input", "standard"],
    [
      "USE1-Claude4Sonnet-input-tokens-long-context-cross-region-global",
      "us-east-1",
      "anthropic.claude-sonnet-4-20250514-v1:0",
      "input",
      "global+long-context",
    ],
    ["USE1-Claude4Sonnet-cache-write-input-token-count-1-hour", "us-east-1", "anthropic.claude-sonnet-4-20250514-v1:0", "cacheWrite", "standard"],
    ["USE1-Claude4Sonnet-input-tokens-cross-region-global-batch", "us-east-1", "anthropic.claude-sonnet-4-20250514-v1:0", "input", "global+batch"],
    ["USE1-Llama4-Maverick-17B-input-tokens-batch", "us-east-1", "meta.llama4-maverick-17b-instruct-v1:0", "input", "batch"],
    ["USE1-NovaPro-cache-write-input-token-count", "us-east-1", "amazon.nova-pro-v1:0", "cacheWrite", "standard"],
    ["USE1-NovaPro-input-tokens-latency-optimized", "us-east-1", "amazon.nova-pro-v1:0", "input", "latency-optimized"],
    ["APS3-NovaMicro-output-tokens", "ap-south-1", "amazon.nova-micro-v1:0", "output", "standard"],
  ])("%s is %s, %s, %s, %s", (usageType, region, model, tokenClass, tier) => {
    // Act
    const mapped = mapUsageType(native(usageType), map);

    // Assess
    expect(mapped).toStrictEqual({ ok: true, region, model, tokenClass, tier, tokensPerUnit: 1000, marketplace: false });
  });

  it.each([
    ["USW2-MP:USW2_InputTokenCount-Units", "us-west-2", "input", "standard"],
    ["USE1-MP:USE1_CacheReadInputTokenCount-Units", "us-east-1", "cacheRead", "standard"],
    ["USE1-MP:USE1_InputTokenCount_Global-Units", "us-east-1", "input", "global"],
    ["USE1-MP:USE1_CacheWrite1hInputTokenCount-Units", "us-east-1", "cacheWrite", "standard"],
    ["USE1-MP:USE1_InputTokenCount_Batch-Units", "us-east-1", "input", "batch"],
    ["USW2-MP:USW2_input_tokens_global_standard-Units", "us-west-2", "input", "global"],
    ["USW2-MP:USW2_output_tokens_long_ctx_standard-Units", "us-west-2", "output", "long-context"],
  ])("Marketplace %s is %s, the product's model, %s, %s", (usageType, region, tokenClass, tier) => {
    // Prepare: the unit of Marketplace rows is not documented; the user's map says what it is.
    const withUnits = usageTypeMap({ units: { Units: 1_000_000 } });

    // Act
    const mapped = mapUsageType({ usageType, productName: "Claude Haiku 4.5 (Amazon Bedrock Edition)", pricingUnit: "Units" }, withUnits);

    // Assess
    expect(mapped).toStrictEqual({
      ok: true,
      region,
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      tokenClass,
      tier,
      tokensPerUnit: 1_000_000,
      marketplace: true,
    });
  });
});

describe("Function: mapUsageType — what it does not place, and why", () => {
  it.each([
    [native("USE1-Nova2.0Pro-input-image-token-count-cross-region-global"), /not a text token usage type/],
    [native("USE1-Guardrail-AutomatedReasoningPolicyUnitsConsumed"), /not a text token usage type/],
    [native("XYZ9-NovaLite-input-tokens"), /unknown Region prefix "XYZ9"/],
    [native("USE1-Claude9Ultra-input-tokens"), /unknown billing model name "Claude9Ultra"/],
    [native("USE1-NovaLite-input-tokens-turbo"), /unknown usage-type suffix "turbo"/],
    [native("USE1-NovaLite-input-tokens", "10K tokens"), /unknown pricing_unit "10K tokens"/],
    [{ usageType: "USE1-NovaLite-input-tokens", productName: null, pricingUnit: null }, /no pricing_unit/],
    [
      { usageType: "USW2-MP:USW2_InputTokenCount-Units", productName: "Claude 3 Haiku (Amazon Bedrock Edition)", pricingUnit: "Units" },
      /unknown pricing_unit "Units"/,
    ],
    [
      { usageType: "USW2-MP:USW2_InputTokenCount-Units", productName: "Some Model (Amazon Bedrock Edition)", pricingUnit: "Units" },
      /unknown Marketplace product/,
    ],
    [{ usageType: "USW2-MP:USW2_ImageCount-Units", productName: "Claude 3 Haiku (Amazon Bedrock Edition)", pricingUnit: "Units" }, /not a token count/],
  ])("%o: %s", (line, reason) => {
    // Act
    const mapped = mapUsageType(line, map);

    // Assess
    expect(mapped.ok).toBe(false);
    expect(mapped.ok ? "" : mapped.reason).toMatch(reason);
  });
});

describe("Function: mapUsageType — properties", () => {
  const prefixes = Object.keys(map.regions);
  const names = Object.keys(map.models);
  const classes = [
    ["input-tokens", "input"],
    ["output-tokens", "output"],
    ["cache-read-input-token-count", "cacheRead"],
    ["cache-write-input-token-count", "cacheWrite"],
  ] as const;

  it("places every native usage type built from the map's names, with any documented suffixes in order", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        fc.constantFrom(...names),
        fc.constantFrom(...classes),
        fc.boolean(),
        fc.constantFrom(null, "flex", "priority", "batch", "latency-optimized"),
        fc.boolean(),
        (prefix, name, [token, tokenClass], longContext, tier, global) => {
          // Prepare
          const suffixes = [longContext ? "long-context" : null, global ? "cross-region-global" : null, tier].filter((part) => part !== null);
          const usageType = [`${prefix}-${name}-${token}`, ...suffixes].join("-");

          // Act
          const mapped = mapUsageType(native(usageType), map);

          // Assess
          const parts = [global ? "global" : null, tier, longContext ? "long-context" : null].filter((part) => part !== null);
          expect(mapped).toStrictEqual({
            ok: true,
            region: map.regions[prefix],
            model: map.models[name],
            tokenClass,
            tier: parts.length === 0 ? "standard" : parts.join("+"),
            tokensPerUnit: 1000,
            marketplace: false,
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throws, whatever the text: each line is placed or says why not", () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string()), fc.option(fc.constantFrom("1K tokens", "Units", "")), (usageType, productName, pricingUnit) => {
        const mapped = mapUsageType({ usageType, productName, pricingUnit }, map);
        if (!mapped.ok) expect(mapped.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("Function: parseUsageTypeMap and usageTypeMap", () => {
  it("lays a user's entries over the shipped ones, each winning where it names the same key", () => {
    // Act
    const merged = usageTypeMap(
      parseUsageTypeMap({ models: { NovaLite: "amazon.nova-lite-v2:0", Acme1: "acme.one-v1:0" }, units: { Units: 1_000_000 } }, "mine.json"),
    );

    // Assess
    expect(merged.models.NovaLite).toBe("amazon.nova-lite-v2:0");
    expect(merged.models.Acme1).toBe("acme.one-v1:0");
    expect(merged.models.NovaMicro).toBe("amazon.nova-micro-v1:0");
    expect(merged.units).toMatchObject({ "1K tokens": 1000, Units: 1_000_000 });
  });

  it.each([
    [[], /must be a JSON object/],
    [{ tiers: {} }, /unknown section "tiers"/],
    [{ models: [] }, /"models" must be an object/],
    [{ models: { NovaLite: "" } }, /models\["NovaLite"\] must be a non-empty string/],
    [{ units: { "1K tokens": 1.5 } }, /units\["1K tokens"\] must be a positive whole number/],
    [{ units: { "1K tokens": "1000" } }, /units\["1K tokens"\] must be a positive whole number/],
  ])("refuses %j, naming the file and the entry", (json, message) => {
    // Act
    const error = (() => {
      try {
        parseUsageTypeMap(json, "mine.json");
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(UsageTypeMapError);
    expect((error as Error).message).toMatch(/^mine\.json: /);
    expect((error as Error).message).toMatch(message);
  });
});
