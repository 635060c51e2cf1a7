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

describe("Class: CachingProfileResolver, bounded and negative", () => {
  const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
  function arn(id: number): string {
    return `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p${String(id).padStart(11, "0")}`;
  }
  function source(answer: (arn: string) => string | undefined | Error): ApplicationProfileSource & { calls: string[]; inFlight: number; maxInFlight: number } {
    const state = {
      calls: [] as string[],
      inFlight: 0,
      maxInFlight: 0,
      async fetch(profileArn: string) {
        state.calls.push(profileArn);
        state.inFlight++;
        state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        state.inFlight--;
        const value = answer(profileArn);
        if (value instanceof Error) throw value;
        return value === undefined ? undefined : { model: value, pricingProfile: "us" as const };
      },
    };
    return state;
  }

  it("caches a missing profile for the negative TTL only, and says why it does not resolve", async () => {
    let now = 0;
    let exists = false;
    const fetcher = source(() => (exists ? HAIKU : undefined));
    const resolver = new CachingProfileResolver(fetcher, { ttlMillis: 60_000, negativeTtlMillis: 5_000, now: () => now });

    await resolver.warm([AIP]);
    expect(resolver.get(AIP)).toBeUndefined();
    expect(resolver.reasonFor(AIP)).toMatch(/does not exist .*ResourceNotFoundException/);
    expect(resolveModel(AIP, resolver)).toMatchObject({ ok: false, reason: expect.stringContaining("does not exist") });

    exists = true; // created after the first call
    now = 4_999;
    await resolver.warm([AIP]);
    expect(fetcher.calls).toHaveLength(1);
    now = 5_000;
    await resolver.warm([AIP]);
    expect(fetcher.calls).toHaveLength(2);
    expect(resolver.get(AIP)?.model).toBe(HAIKU);
    expect(resolver.reasonFor(AIP)).toBeUndefined();
  });

  it("keeps serving a known profile when refreshing it fails, and names the failure for a profile never resolved", async () => {
    let now = 0;
    let failing = false;
    const denied = new Error("bedrock:GetInferenceProfile on the profile was refused (AccessDeniedException)");
    const fetcher = source((profileArn) => (failing ? denied : profileArn === AIP ? HAIKU : undefined));
    const resolver = new CachingProfileResolver(fetcher, { ttlMillis: 1_000, now: () => now });
    await resolver.warm([AIP]);

    failing = true;
    now = 1_000;
    const other = arn(1);
    expect(await resolver.warm([AIP, other])).toEqual(expect.arrayContaining([AIP, other]));

    expect(resolver.get(AIP)?.model).toBe(HAIKU);
    expect(resolver.get(other)).toBeUndefined();
    expect(resolveModel(other, resolver)).toMatchObject({ ok: false, reason: denied.message });
    // The stale entry is fetched again by the next batch.
    await resolver.warm([AIP]);
    expect(fetcher.calls.filter((call) => call === AIP)).toHaveLength(3);
  });

  it("holds at most maxEntries profiles, dropping the least recently used", async () => {
    const fetcher = source(() => HAIKU);
    const resolver = new CachingProfileResolver(fetcher, { maxEntries: 3 });
    await resolver.warm([arn(1), arn(2), arn(3)]);
    expect(resolver.get(arn(1))?.model).toBe(HAIKU); // arn(1) is now the most recently used

    await resolver.warm([arn(4)]);

    expect(resolver.size).toBe(3);
    expect(resolver.get(arn(2))).toBeUndefined();
    expect(resolver.get(arn(1))?.model).toBe(HAIKU);
    await resolver.warm([arn(2)]);
    expect(fetcher.calls.filter((call) => call === arn(2))).toHaveLength(2);
  });

  it("fetches a batch's profiles once each, at most `concurrency` at a time, ignoring other model ids", async () => {
    const fetcher = source(() => HAIKU);
    const resolver = new CachingProfileResolver(fetcher, { concurrency: 2 });
    const ids = [...Array.from({ length: 10 }, (_, index) => arn(index % 5)), "us.amazon.nova-lite-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"];

    expect(await resolver.warm(ids)).toEqual([]);

    expect([...fetcher.calls].sort()).toEqual([arn(0), arn(1), arn(2), arn(3), arn(4)]);
    expect(fetcher.maxInFlight).toBe(2);
  });

  it.each([
    [{ ttlMillis: 0 }, /ttlMillis must be a positive integer/],
    [{ maxEntries: 1.5 }, /maxEntries must be a positive integer/],
    [{ concurrency: -1 }, /concurrency must be a positive integer/],
  ])("refuses options %j", (options, message) => {
    expect(
      () =>
        new CachingProfileResolver(
          source(() => HAIKU),
          options,
        ),
    ).toThrow(message);
  });
});
