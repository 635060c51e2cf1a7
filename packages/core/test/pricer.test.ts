import { describe, expect, it } from "vitest";
import { tagKeyMapFrom } from "../src/attribution";
import { PriceCatalog } from "../src/catalog";
import { decodeText } from "../src/decode/decode";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { type ApplicationProfileSource, CachingProfileResolver, StaticProfileMap } from "../src/model";
import { preparedPriceItems } from "../src/priced-items";
import { Pricer } from "../src/pricer";
import { UsageRecordSchema } from "../src/usage";
import { catalogJson, priceEntry } from "./helpers/catalogs";
import { invocationLog, withTokens } from "./helpers/factories";

const pricer = new Pricer({ catalog: defaultCatalog() });
const AIP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";

function priceRecord(record: Record<string, unknown>, using = pricer) {
  const parsed = parseInvocationLog(record);
  if (!parsed.ok) throw new Error(parsed.reason);
  return using.price(parsed.log);
}

describe("Class: Pricer with the shipped catalog", () => {
  it.each([
    // model id, tokens (in, out, cacheRead, cacheWrite), expected cost: worked by hand from aws-formats.md section 6
    ["global.anthropic.claude-haiku-4-5-20251001-v1:0", [120, 40, 0, 0], "0.000320"], // 120x1 + 40x5
    ["us.anthropic.claude-haiku-4-5-20251001-v1:0", [120, 40, 0, 0], "0.000352"], // regional +10%: 120x1.1 + 40x5.5
    ["anthropic.claude-haiku-4-5-20251001-v1:0", [120, 40, 0, 0], "0.000352"], // in-Region is regional
    ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", [1000, 500, 20_000, 0], "0.018150"], // 3300 + 8250 + 6600
    ["anthropic.claude-3-5-haiku-20241022-v1:0", [1_000_000, 0, 0, 0], "0.800000"],
    ["amazon.nova-micro-v1:0", [1000, 1000, 0, 0], "0.000175"], // 35 + 140
    ["us.amazon.nova-premier-v1:0", [2, 2, 0, 0], "0.000030"], // 5 + 25
    ["amazon.titan-embed-text-v2:0", [9, 0, 0, 0], "0.00000018"],
    ["meta.llama3-3-70b-instruct-v1:0", [100, 100, 0, 0], "0.000144"],
  ])("prices %s with tokens %j at %s USD", (modelId, [input, output, cacheRead, cacheWrite], expected) => {
    const priced = priceRecord(withTokens(invocationLog({ modelId }), { input, output, cacheRead, cacheWrite }));
    expect(priced.record.status).toBe("priced");
    expect(priced.record.cost_usd).toBe(expected);
  });

  it("states the exact Sonnet 4.5 global cache-write cost", () => {
    const priced = priceRecord(
      withTokens(invocationLog({ modelId: "global.anthropic.claude-sonnet-4-5-20250929-v1:0" }), { input: 3, output: 142, cacheRead: 0, cacheWrite: 28_857 }),
    );
    // 3 x 3.00 + 142 x 15.00 + 28,857 x 3.75 = 9 + 2130 + 108,213.75 micro-dollars
    expect(priced.record.cost_usd).toBe("0.11035275");
  });

  it("keeps Sonnet 5 at $2 input on either side of 2026-09-01 (the scheduled rise to $3 was cancelled)", () => {
    const before = priceRecord(
      withTokens(invocationLog({ modelId: "global.anthropic.claude-sonnet-5", timestamp: "2026-08-31T23:59:59Z" }), { input: 1_000_000, output: 0 }),
    );
    const after = priceRecord(
      withTokens(invocationLog({ modelId: "global.anthropic.claude-sonnet-5", timestamp: "2026-09-01T00:00:00Z" }), { input: 1_000_000, output: 0 }),
    );
    expect([before.record.cost_usd, after.record.cost_usd]).toEqual(["2.000000", "2.000000"]);
  });

  it("fills the usage record, which satisfies the schema derived from the column list", () => {
    const priced = priceRecord(
      invocationLog({ requestMetadata: { tenantId: "acme", tier: "enterprise", team: "search", user: "u1", app: "chat", extra: "kept" } }),
    );
    expect(UsageRecordSchema.parse(priced.record)).toEqual(priced.record);
    expect(priced.record).toMatchObject({
      request_id: "6f1c2a9e-8b7d-4c3e-9f21-0a1b2c3d4e5f",
      event_time: "2026-11-27T10:00:00Z",
      tenant_id: "acme",
      tenant_group: "enterprise",
      department_id: "search",
      user_id: "u1",
      application_id: "chat",
      metadata: { tenantId: "acme", tier: "enterprise", team: "search", user: "u1", app: "chat", extra: "kept" },
      principal_arn: "arn:aws:sts::123456789012:assumed-role/AppRole/session-1",
      price_version: defaultCatalog().version,
      year: "2026",
      month: "11",
      day: "27",
    });
    expect(JSON.stringify(priced.record)).not.toContain("Summarise the ticket");
  });

  it("leaves an unknown model unpriced with its tokens and a reason", () => {
    const priced = priceRecord(invocationLog({ modelId: "acme.imaginary-model-v1:0" }));
    expect(priced.costPico).toBeNull();
    expect(priced.record).toMatchObject({ status: "unpriced", cost_usd: null, input_tokens: 120, output_tokens: 40 });
    expect(priced.record.reason).toContain("acme.imaginary-model-v1:0 is not in price catalog");
  });

  it("leaves a known model unpriced before its first effective date", () => {
    const priced = priceRecord(invocationLog({ timestamp: "2020-01-01T00:00:00Z" }));
    expect(priced.record.reason).toMatch(/no price for anthropic\.claude-haiku-4-5-20251001-v1:0 \(profile global, region us-east-1\) effective on 2020-01-01/);
  });

  it("prices an application inference profile through the map, and uses its tags for attribution", () => {
    const profiles = StaticProfileMap.fromJson({ [AIP]: { model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", tags: { tenantId: "tagged", team: "ml" } } });
    const withMap = new Pricer({ catalog: defaultCatalog(), profiles });
    const priced = priceRecord(invocationLog({ modelId: AIP, requestMetadata: { team: "override" } }), withMap);
    expect(priced.record).toMatchObject({
      status: "priced",
      profile: "application",
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      tenant_id: "tagged",
      department_id: "override",
      cost_usd: "0.000352",
    });
    expect(priced.record.metadata).toEqual({ team: "override" });
  });

  it("stamps the overlay's version and price, so that history keeps the prices it was computed with", () => {
    const overlay = PriceCatalog.fromJson(
      catalogJson([priceEntry({ profile: "global", input: "0.50", output: "2.50", cacheRead: "0.05", cacheWrite: "0.625" })], "acme-2026-11"),
      "acme.json",
    );
    const discounted = new Pricer({ catalog: defaultCatalog().overlay(overlay) });
    const before = priceRecord(invocationLog(), pricer);
    const after = priceRecord(invocationLog(), discounted);
    expect(before.record).toMatchObject({ cost_usd: "0.000320", price_version: defaultCatalog().version });
    expect(after.record).toMatchObject({ cost_usd: "0.000160", price_version: `${defaultCatalog().version}+acme-2026-11` });
  });
});

describe("Class: Pricer, attribution from an application inference profile's tags", () => {
  const target = { model: "anthropic.claude-haiku-4-5-20251001-v1:0", pricingProfile: "us" as const };

  it("attributes a call with no metadata to the tenant, department and application of the profile's tags", () => {
    const tags = { tenant: "acme", "cost-center": "cc-42", project: "support-bot", Owner: "ops@acme.test", unrelated: "x" };
    const withProfiles = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson({ [AIP]: { ...target, tags } }) });
    const priced = priceRecord(invocationLog({ modelId: AIP, requestMetadata: {} }), withProfiles);
    expect(priced.record).toMatchObject({
      tenant_id: "acme",
      department_id: "cc-42",
      application_id: "support-bot",
      user_id: "ops@acme.test",
      status: "priced",
    });
    expect(priced.record.metadata).toEqual({});
  });

  it("lets request metadata win dimension by dimension, and tags fill only what it leaves out", () => {
    const tags = { tenant: "from-tag", department: "tag-dept", application: "tag-app" };
    const withProfiles = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson({ [AIP]: { ...target, tags } }) });
    const priced = priceRecord(invocationLog({ modelId: AIP, requestMetadata: { tenantId: "from-metadata", department: "  " } }), withProfiles);
    expect(priced.record).toMatchObject({ tenant_id: "from-metadata", department_id: "tag-dept", application_id: "tag-app" });
  });

  it("reads only the tag keys configured, in their priority order", () => {
    const tagKeys = tagKeyMapFrom({ tenantId: ["customer", "tenant"] });
    const tags = { tenant: "second", Customer: "first" };
    const withProfiles = new Pricer({ catalog: defaultCatalog(), tagKeys, profiles: StaticProfileMap.fromJson({ [AIP]: { ...target, tags } }) });
    expect(priceRecord(invocationLog({ modelId: AIP, requestMetadata: {} }), withProfiles).record.tenant_id).toBe("first");
    const onlyAcct = new Pricer({
      catalog: defaultCatalog(),
      tagKeys: tagKeyMapFrom({ tenantId: ["acct"] }),
      profiles: StaticProfileMap.fromJson({ [AIP]: { ...target, tags } }),
    });
    expect(priceRecord(invocationLog({ modelId: AIP, requestMetadata: {} }), onlyAcct).record.tenant_id).toBe("unattributed");
    // A pricer made from this one for other catalogs keeps its tag keys.
    expect(priceRecord(invocationLog({ modelId: AIP, requestMetadata: {} }), onlyAcct.withCatalogs(defaultCatalog())).record.tenant_id).toBe("unattributed");
  });

  it("refuses a tag-key map that names an unknown dimension or maps one key to two dimensions", () => {
    expect(() => tagKeyMapFrom({ tenant: ["t"] }, "tags.json")).toThrow(/tags\.json.*unknown dimension "tenant"/);
    expect(() => tagKeyMapFrom({ tenantId: ["team"] }, "tags.json")).toThrow(/tags\.json.*"team" is mapped to both tenantId and departmentId/);
  });

  it("resolves a batch's profiles through the source once, before pricing, and prices them", async () => {
    const calls: string[] = [];
    const source: ApplicationProfileSource = {
      async fetch(arn) {
        calls.push(arn);
        return arn === AIP ? { ...target, tags: { tenant: "acme" } } : undefined;
      },
    };
    const live = new Pricer({ catalog: defaultCatalog(), profiles: new CachingProfileResolver(source) });
    const gone = AIP.replace("a1b2c3d4e5f6", "deadbeef0000");
    const lines = [AIP, AIP, gone, "us.amazon.nova-lite-v1:0"].map((modelId) => JSON.stringify(invocationLog({ modelId, requestMetadata: {} })));

    const priced = await preparedPriceItems(decodeText(lines.join("\n")), live);

    expect(calls.sort()).toEqual([AIP, gone].sort());
    expect(priced.usage.map(({ usage }) => [usage.record.tenant_id, usage.record.status])).toEqual([
      ["acme", "priced"],
      ["acme", "priced"],
      ["unattributed", "unpriced"],
      ["unattributed", "priced"],
    ]);
    expect(priced.usage[2]?.usage.record.reason).toMatch(/does not exist/);
    expect(live.resolvesAhead).toBe(true);
    expect(pricer.resolvesAhead).toBe(false);
  });
});
