/**
 * The deployment's price configuration (stacks/config.ts): validated when the app is synthesized,
 * so that a price file that cannot be used stops `sst deploy` instead of every cold start after it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployedPricingOf, loadConfig } from "../../stacks/config";

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
  it("bundles a price file laid over the shipped catalog as the overlay, and as the whole catalog with BEDROCK_SPEND_PRICES_ONLY", () => {
    expect(deployedPricingOf(loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated }))).toEqual({ overlay: JSON.parse(negotiated) });
    expect(deployedPricingOf(loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated, BEDROCK_SPEND_PRICES_ONLY: "true" }))).toEqual({
      catalog: JSON.parse(negotiated),
    });
    expect(deployedPricingOf(loadConfig({}))).toBeNull();
  });

  it("reads a price file, a profile map and an alias map from files as from inline JSON", () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-config-"));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const profiles = JSON.stringify({
      "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123": "anthropic.claude-3-haiku-20240307-v1:0",
    });
    const aliases = JSON.stringify({ tenantId: ["acct"] });

    // Act
    const fromFiles = loadConfig({
      BEDROCK_SPEND_PRICE_OVERLAY: file("prices.json", negotiated),
      BEDROCK_SPEND_PROFILE_MAP: ` ${file("profiles.json", profiles)} `,
      BEDROCK_SPEND_METADATA_ALIASES: file("aliases.json", aliases),
    });
    const inline = loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: negotiated, BEDROCK_SPEND_PROFILE_MAP: profiles, BEDROCK_SPEND_METADATA_ALIASES: aliases });

    // Assess
    expect(deployedPricingOf(fromFiles)).toStrictEqual(deployedPricingOf(inline));
    expect(deployedPricingOf(fromFiles)).toMatchObject({
      overlay: { version: "acme-2026-10" },
      profiles: JSON.parse(profiles),
      aliases: { tenantId: ["acct"] },
    });
  });

  it("refuses, naming the variable and the entry, a file it cannot read, a profile map or alias map that does not validate", () => {
    expect(() => loadConfig({ BEDROCK_SPEND_PRICE_OVERLAY: "./no/such/prices.json" })).toThrow(
      /^BEDROCK_SPEND_PRICE_OVERLAY: is neither inline JSON nor a readable file: .*no\/such\/prices\.json \(ENOENT\)/,
    );
    expect(() => loadConfig({ BEDROCK_SPEND_PROFILE_MAP: '{"not-an-arn": "anthropic.claude-3-haiku-20240307-v1:0"}' })).toThrow(
      /^BEDROCK_SPEND_PROFILE_MAP: .*not-an-arn/,
    );
    expect(() => loadConfig({ BEDROCK_SPEND_METADATA_ALIASES: '{"tenantId": "acct"}' })).toThrow(/^BEDROCK_SPEND_METADATA_ALIASES: .*tenantId/);
    expect(() => loadConfig({ BEDROCK_SPEND_METADATA_ALIASES: "[1," })).toThrow(/^BEDROCK_SPEND_METADATA_ALIASES: is not valid JSON/);
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

describe("Deployment configuration: the JWT admin scope", () => {
  const jwt = { BEDROCK_SPEND_JWT_ISSUER: "https://login.example.com/", BEDROCK_SPEND_JWT_AUDIENCE: "spend-api" };

  it("reads BEDROCK_SPEND_JWT_ADMIN_SCOPE, trimmed, and none when unset", () => {
    expect(loadConfig({ ...jwt, BEDROCK_SPEND_JWT_ADMIN_SCOPE: " spend:admin " }).jwtAdminScope).toBe("spend:admin");
    expect(loadConfig({ ...jwt, BEDROCK_SPEND_JWT_ADMIN_SCOPE: "https://api.example.com/budgets.write" }).jwtAdminScope).toBe(
      "https://api.example.com/budgets.write",
    );
    expect(loadConfig(jwt).jwtAdminScope).toBeUndefined();
  });

  it.each(["spend:admin openid", "[spend:admin]", 'spend"admin'])("refuses, naming the variable, the admin scope %j: not one scope", (scope) => {
    expect(() => loadConfig({ ...jwt, BEDROCK_SPEND_JWT_ADMIN_SCOPE: scope })).toThrow(/^BEDROCK_SPEND_JWT_ADMIN_SCOPE: must be one OAuth 2.0 scope/);
  });

  it("refuses an admin scope without the JWT API it applies to", () => {
    expect(() => loadConfig({ BEDROCK_SPEND_JWT_ADMIN_SCOPE: "spend:admin" })).toThrow(
      "BEDROCK_SPEND_JWT_ADMIN_SCOPE: needs BEDROCK_SPEND_JWT_ISSUER, the JWT API whose budget writes it allows",
    );
  });
});

describe("Deployment configuration: the raw failures' retention", () => {
  it("keeps raw failures 14 days by default, and takes 1 to 365 days, naming the variable otherwise", () => {
    expect(loadConfig({}).rawFailureRetentionDays).toBe(14);
    expect(loadConfig({ BEDROCK_SPEND_RAW_FAILURE_RETENTION_DAYS: "3" }).rawFailureRetentionDays).toBe(3);
    for (const bad of ["0", "366", "1.5", "two weeks"])
      expect(() => loadConfig({ BEDROCK_SPEND_RAW_FAILURE_RETENTION_DAYS: bad }), bad).toThrow(/^BEDROCK_SPEND_RAW_FAILURE_RETENTION_DAYS: /);
  });
});

describe("Deployment configuration: application inference profiles", () => {
  it("resolves profiles through Bedrock by default, caching an hour, and takes 60 s to a day, naming the variable otherwise", () => {
    expect(loadConfig({})).toMatchObject({ resolveProfiles: true, profileCacheSeconds: 3600 });
    expect(loadConfig({ BEDROCK_SPEND_RESOLVE_PROFILES: "false", BEDROCK_SPEND_PROFILE_CACHE_SECONDS: "300" })).toMatchObject({
      resolveProfiles: false,
      profileCacheSeconds: 300,
    });
    for (const bad of ["59", "86401", "1.5", "hour"])
      expect(() => loadConfig({ BEDROCK_SPEND_PROFILE_CACHE_SECONDS: bad }), bad).toThrow(/^BEDROCK_SPEND_PROFILE_CACHE_SECONDS: /);
  });

  it("bundles the tag keys with the pricing, and refuses a map naming an unknown dimension or one key twice", () => {
    const tagKeys = '{"tenantId":["customer-id","tenant"],"departmentId":["cost-center"]}';
    expect(deployedPricingOf(loadConfig({ BEDROCK_SPEND_PROFILE_TAG_KEYS: tagKeys }))).toStrictEqual({ tagKeys: JSON.parse(tagKeys) });
    expect(() => loadConfig({ BEDROCK_SPEND_PROFILE_TAG_KEYS: '{"tenant":["x"]}' })).toThrow(/^BEDROCK_SPEND_PROFILE_TAG_KEYS: .*unknown dimension "tenant"/);
    expect(() => loadConfig({ BEDROCK_SPEND_PROFILE_TAG_KEYS: '{"tenantId":["team"]}' })).toThrow(
      /^BEDROCK_SPEND_PROFILE_TAG_KEYS: .*"team" is mapped to both/,
    );
  });
});
