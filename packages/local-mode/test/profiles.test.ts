/**
 * Local mode resolves application inference profiles as the deployed consumers do: through the AWS
 * adapter, against the Bedrock stand-in the stack runs, its profiles kept in the data dir. Tenants
 * that call through their own tagged profile, with or without request metadata, are attributed and
 * priced alike in the aggregates and the lake, and the profile's tags are queryable in the lake.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CachingProfileResolver, defaultCatalog, fixedClock, formatUsd, Pricer, parseInvocationLog, StaticProfileMap } from "@bedrock-spend/core";
import { APPLICATION_PROFILES, generateTraffic, gzipStable, type TrafficItem, tenantProfileSpecs, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack } from "../src/local-stack";
import { ensureTenantProfiles } from "../src/tenant-profiles";

const TENANTS = 12;
const START = "2026-11-20T08:00:00Z";
const clock = fixedClock(Date.parse("2026-11-20T09:00:00Z"));
const staticMap = StaticProfileMap.fromJson(APPLICATION_PROFILES);

let dataDir: string;
let stack: LocalStack;
let profiles: Record<string, string>;
let items: TrafficItem[];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-profiles-"));
  stack = await LocalStack.start({ dataDir, profiles: staticMap, clock, handleSignals: false });
  profiles = await ensureTenantProfiles(stack.bedrock, tenantProfileSpecs({ tenants: TENANTS }));
  items = [...generateTraffic({ seed: 21, count: 600, tenants: TENANTS, start: START, malformedFraction: 0, tenantProfiles: profiles })];
  const payloads = [...toSubscriptionPayloads(items, { eventsPerPayload: 25 })].map((payload) => gzipStable(JSON.stringify(payload)));
  await stack.putPayloads(payloads);
  await stack.drain();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What each tenant spent, priced from the profiles' definitions as the stand-in holds them. */
async function expectedByTenant(): Promise<Map<string, { invocations: number; costUsd: string }>> {
  const byArn = new Map(stack.bedrock.profiles().map((profile) => [profile.arn, profile]));
  const truth = new Pricer({
    catalog: defaultCatalog(),
    profiles: new CachingProfileResolver(
      {
        async fetch(arn) {
          const profile = byArn.get(arn);
          if (!profile) return undefined;
          const model = profile.models[0]?.split("foundation-model/")[1] as string;
          const pricingProfile = profile.copyFrom.includes("inference-profile/us.")
            ? "us"
            : profile.copyFrom.includes("inference-profile/global.")
              ? "global"
              : "none";
          return { model, pricingProfile, tags: Object.fromEntries(profile.tags.map((tag) => [tag.key, tag.value])) };
        },
      },
      { fallback: staticMap },
    ),
  });
  const records = items.flatMap((item) => (item.kind === "record" ? [item.record] : []));
  await truth.prepareModelIds(records.map((record) => record.modelId));
  const sums = new Map<string, { invocations: number; pico: bigint }>();
  for (const record of records) {
    const parsed = parseInvocationLog(record);
    if (!parsed.ok) throw new Error(parsed.reason);
    const priced = truth.price(parsed.log);
    const sum = sums.get(priced.record.tenant_id) ?? { invocations: 0, pico: 0n };
    sum.invocations++;
    sum.pico += priced.costPico ?? 0n;
    sums.set(priced.record.tenant_id, sum);
  }
  return new Map([...sums].map(([tenant, { invocations, pico }]) => [tenant, { invocations, costUsd: formatUsd(pico) }]));
}

describe("Local mode: application inference profiles through the Bedrock stand-in", () => {
  it("creates the per-tenant profiles once, with their tags, and finds them again on a second call", async () => {
    expect(Object.keys(profiles).sort()).toEqual(
      tenantProfileSpecs({ tenants: TENANTS })
        .map((spec) => spec.tenantId)
        .sort(),
    );
    const again = await ensureTenantProfiles(stack.bedrock, tenantProfileSpecs({ tenants: TENANTS }));
    expect(again).toEqual(profiles);
    expect(stack.bedrock.profiles()).toHaveLength(3);
    expect(stack.bedrock.calls("CreateInferenceProfile")).toBe(3);
  });

  it("counts each profile tenant's calls, those without metadata included, in the aggregates as in the lake", async () => {
    const expected = await expectedByTenant();
    for (const tenantId of Object.keys(profiles)) {
      const want = expected.get(tenantId);
      expect(want?.invocations, tenantId).toBeGreaterThan(0);
      const counted = await stack.store.monthTotal(tenantId, "2026-11");
      expect({ invocations: counted?.invocations, costUsd: formatUsd(counted?.costPico ?? -1n) }, tenantId).toEqual(want);
      const lake = await stack.athena.query(`SELECT COUNT(*) AS invocations FROM invocations WHERE tenant_id = '${tenantId}'`);
      expect(Number(lake.rows[0]?.invocations), tenantId).toBe(want?.invocations);
    }
    const withoutMetadata = await stack.athena.query(
      `SELECT COUNT(*) AS n FROM invocations WHERE profile = 'application' AND cardinality(metadata) = 0 AND tenant_id <> 'unattributed'`,
    );
    expect(Number(withoutMetadata.rows[0]?.n)).toBeGreaterThan(10);
  });

  it("keeps the profile's tags in the lake's profile_tags column, and none for other calls", async () => {
    const tagged = await stack.athena.query(
      `SELECT tenant_id, profile_tags['tenant'] AS tenant_tag, profile_tags['project'] AS project FROM invocations WHERE model_id = '${Object.values(profiles)[0]}' LIMIT 1`,
    );
    expect(tagged.rows[0]).toEqual({ tenant_id: Object.keys(profiles)[0], tenant_tag: Object.keys(profiles)[0], project: "support-assistant" });
    const untagged = await stack.athena.query(`SELECT COUNT(*) AS n FROM invocations WHERE profile <> 'application' AND cardinality(profile_tags) > 0`);
    expect(Number(untagged.rows[0]?.n)).toBe(0);
  });
});
