import { describe, expect, it } from "vitest";
import { TOKEN_CLASSES } from "../src/catalog";
import { DEFAULT_CATALOG_JSON, defaultCatalog } from "../src/defaults";
import { splitProfilePrefix } from "../src/model";

describe("The shipped price catalog", () => {
  const catalog = defaultCatalog();

  it("validates and covers at least 40 models", () => {
    expect(new Set(catalog.entries.map((entry) => entry.model)).size).toBeGreaterThanOrEqual(40);
    expect((DEFAULT_CATALOG_JSON as { unit: string }).unit).toBe("per_million_tokens");
  });

  it("names on every entry the page its price was read from, the date it was read and how sure it is", () => {
    const unsourced = catalog.entries.filter(
      ({ provenance }) =>
        provenance.source === null || !/^https:\/\/\S+$/.test(provenance.source) || provenance.checked === null || provenance.confidence === null,
    );
    expect(unsourced.map((entry) => `${entry.path} ${entry.model}`)).toEqual([]);
  });

  it("reads primary prices from AWS's own pages", () => {
    const primary = catalog.entries.filter((entry) => entry.provenance.confidence === "primary");
    expect(primary.length).toBeGreaterThan(0);
    expect(
      primary.filter(
        (entry) => !/^https:\/\/([a-z0-9.-]+\.)?(aws\.amazon\.com|amazonaws\.com|github\.com\/(aws|awslabs|aws-samples)\/)/.test(entry.provenance.source ?? ""),
      ),
    ).toEqual([]);
  });

  it.each([
    ["Claude 3 Haiku", "anthropic.claude-3-haiku-20240307-v1:0"],
    ["Claude Sonnet 4.6", "anthropic.claude-sonnet-4-6"],
    ["Claude Opus 4.6", "anthropic.claude-opus-4-6-v1"],
    ["Nova Lite", "amazon.nova-lite-v1:0"],
    ["Nova 2 Lite", "amazon.nova-2-lite-v1:0"],
    ["Llama 3.3 70B", "meta.llama3-3-70b-instruct-v1:0"],
    ["Llama 4 Maverick", "meta.llama4-maverick-17b-instruct-v1:0"],
    ["Mistral Large 3", "mistral.mistral-large-3-675b-instruct"],
    ["Cohere Command R+", "cohere.command-r-plus-v1:0"],
    ["DeepSeek V3.2", "deepseek.v3.2"],
    ["gpt-oss 120B", "openai.gpt-oss-120b-1:0"],
    ["Qwen3 32B", "qwen.qwen3-32b-v1:0"],
    ["Titan Embeddings v2", "amazon.titan-embed-text-v2:0"],
    ["Cohere Embed v4", "cohere.embed-v4:0"],
  ])("prices %s", (_, model) => {
    expect(catalog.knowsModel(model)).toBe(true);
  });

  it("prices the global tier of Claude 4.5+ about 10% below the regional tier", () => {
    const at = (profile: "global" | "us") =>
      catalog.lookup({
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        pricingProfile: profile,
        region: "us-east-1",
        timestamp: Date.parse("2026-11-27T00:00:00Z"),
      });
    expect(at("global")?.json).toMatchObject({ input: "3.00", output: "15.00" });
    expect(at("us")?.json).toMatchObject({ input: "3.30", output: "16.50" });
  });

  it("gives Claude cache classes and long-context tiers where they exist", () => {
    const sonnet4 = catalog.lookup({
      model: "anthropic.claude-sonnet-4-20250514-v1:0",
      pricingProfile: "us",
      region: null,
      timestamp: Date.parse("2026-11-27T00:00:00Z"),
    });
    expect(sonnet4?.rates.cacheRead).toBeDefined();
    expect(sonnet4?.rates.cacheWrite).toBeDefined();
    expect(sonnet4?.longContext?.aboveInputTokens).toBe(200_000);
    for (const tokenClass of TOKEN_CLASSES) expect(sonnet4?.longContext?.rates[tokenClass]).toBeDefined();
  });

  it("holds base model ids only: no profile prefixes or ARNs", () => {
    for (const entry of catalog.entries) {
      expect(splitProfilePrefix(entry.model).prefix).toBe("none");
      expect(entry.model.startsWith("arn:")).toBe(false);
    }
  });
});
