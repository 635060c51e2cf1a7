import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../src/errors";
import { type ApplicationProfileSource, CachingProfileResolver, resolveModel, StaticProfileMap } from "../src/model";

const AIP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";

describe("Function: resolveModel()", () => {
  it.each([
    ["anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0", "none"],
    ["anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", "none"],
    ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "us"],
    ["global.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0", "global"],
    ["eu.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "eu"],
    ["apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", "apac"],
    ["jp.amazon.nova-2-lite-v1:0", "amazon.nova-2-lite-v1:0", "jp"],
    ["au.anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", "au"],
    ["us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov"],
    ["deepseek.v3.2", "deepseek.v3.2", "none"],
    ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", "none"],
    [
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "anthropic.claude-sonnet-4-5-20250929-v1:0",
      "us",
    ],
    [
      "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "anthropic.claude-sonnet-4-5-20250929-v1:0",
      "us-gov",
    ],
  ])("resolves %s to %s with profile %s", (modelId, model, profile) => {
    expect(resolveModel(modelId)).toEqual({ ok: true, model, profile, pricingProfile: profile });
  });

  it("leaves an unmapped application inference profile unresolved, with the reason", () => {
    const result = resolveModel(AIP);
    expect(result).toMatchObject({ ok: false, profile: "application", model: null });
    expect(result.ok ? "" : result.reason).toContain("--profiles");
  });

  it("resolves a mapped application inference profile at its source tier", () => {
    const profiles = StaticProfileMap.fromJson({ [AIP]: { model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", tags: { tenantId: "acme" } } });
    expect(resolveModel(AIP, profiles)).toMatchObject({
      ok: true,
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "application",
      pricingProfile: "us",
    });
  });

  it.each(["provisioned-model", "custom-model", "imported-model"])("does not price %s ARNs per token", (type) => {
    const result = resolveModel(`arn:aws:bedrock:us-east-1:123456789012:${type}/abc123`);
    expect(result).toMatchObject({ ok: false });
    expect(result.ok ? "" : result.reason).toContain("not per token");
  });
});

describe("Class: StaticProfileMap", () => {
  it("accepts a bare model string and an explicit pricing profile", () => {
    const map = StaticProfileMap.fromJson({ [AIP]: "anthropic.claude-3-haiku-20240307-v1:0" });
    expect(map.get(AIP)).toEqual({ model: "anthropic.claude-3-haiku-20240307-v1:0", pricingProfile: "none" });
    const explicit = StaticProfileMap.fromJson({ [AIP]: { model: "anthropic.claude-3-haiku-20240307-v1:0", pricingProfile: "eu" } });
    expect(explicit.get(AIP)?.pricingProfile).toBe("eu");
  });

  it.each([
    [{ "not-an-arn": "x" }, "not an application-inference-profile ARN"],
    [{ [AIP]: 5 }, "expected a model id string"],
    [{ [AIP]: { model: "x", pricingProfile: "mars" } }, "pricingProfile must be one of"],
    [{ [AIP]: { model: AIP } }, "is not a model id"],
    [{ [AIP]: { model: "x", tags: { a: 1 } } }, "tags must be an object of strings"],
  ])("fails closed on %j", (json, message) => {
    expect(() => StaticProfileMap.fromJson(json, "profiles.json")).toThrow(ConfigurationError);
    expect(() => StaticProfileMap.fromJson(json, "profiles.json")).toThrow(message);
  });
});

describe("Class: CachingProfileResolver", () => {
  function countingSource(answers: Record<string, string | Error>): ApplicationProfileSource & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      async fetch(arn) {
        calls.push(arn);
        const answer = answers[arn];
        if (answer instanceof Error) throw answer;
        return answer === undefined ? undefined : { model: answer, pricingProfile: "none" };
      },
    };
  }

  it("fetches each profile once within the TTL and again after it", async () => {
    // Prepare
    let now = 0;
    const source = countingSource({ [AIP]: "anthropic.claude-3-haiku-20240307-v1:0" });
    const resolver = new CachingProfileResolver(source, { ttlMillis: 1000, now: () => now });

    // Act
    await resolver.warm([AIP, AIP, "us.amazon.nova-lite-v1:0"]);
    await resolver.warm([AIP]);
    now = 1000;
    await resolver.warm([AIP]);

    // Assess
    expect(source.calls).toEqual([AIP, AIP]);
    expect(resolver.get(AIP)?.model).toBe("anthropic.claude-3-haiku-20240307-v1:0");
  });

  it("does not cache a failed fetch, so the next batch retries", async () => {
    const source = countingSource({ [AIP]: new Error("ThrottlingException") });
    const resolver = new CachingProfileResolver(source);
    expect(await resolver.warm([AIP])).toEqual([AIP]);
    expect(resolver.get(AIP)).toBeUndefined();
    await resolver.warm([AIP]);
    expect(source.calls).toHaveLength(2);
  });

  it("prefers the static map and never fetches what it holds", async () => {
    const source = countingSource({});
    const fallback = StaticProfileMap.fromJson({ [AIP]: "anthropic.claude-3-haiku-20240307-v1:0" });
    const resolver = new CachingProfileResolver(source, { fallback });
    await resolver.warm([AIP]);
    expect(source.calls).toEqual([]);
    expect(resolver.get(AIP)?.model).toBe("anthropic.claude-3-haiku-20240307-v1:0");
  });
});
