/**
 * The functions that price resolve application inference profiles through Bedrock's control plane
 * (here the stand-in on loopback, spoken to by the AWS SDK client the functions bundle), with the
 * configuration the stacks give them; and attribute calls without metadata by the profile's tags.
 */
import { BedrockClient } from "@aws-sdk/client-bedrock";
import { createApplicationProfile, MemoryRawFailureStore } from "@bedrock-spend/adapters";
import { ConfigurationError, decodeText, preparedPriceItems, type UsageRecord } from "@bedrock-spend/core";
import { BedrockControlPlaneServer } from "@bedrock-spend/emulators";
import { encodeKinesisData, tenantProfileSpecs } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { pricingPricerFromEnv } from "../src/lib/adapters";
import { pricerFromEnv } from "../src/lib/env";
import { logger, metrics } from "../src/lib/powertools";
import { createTransformHandler } from "../src/transform";
import { firehoseEvent, trafficPayloads } from "./helpers/transform-events";

const TENANTS = 20;
let bedrock: BedrockControlPlaneServer;
let profiles: Record<string, string>;
let deletedArn: string;

beforeAll(async () => {
  bedrock = await new BedrockControlPlaneServer().start();
  const client = new BedrockClient({ region: "us-east-1", endpoint: bedrock.endpoint, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
  profiles = {};
  for (const spec of tenantProfileSpecs({ tenants: TENANTS })) {
    profiles[spec.tenantId] = await createApplicationProfile(client, { name: spec.name, copyFrom: spec.copyFrom, tags: spec.tags });
  }
  deletedArn = bedrock.arnOf("zzzzzzzzzzzz");
  client.destroy();
});

afterAll(async () => {
  await bedrock.stop();
});

beforeEach(() => {
  // What the Lambda runtime gives the SDK client: its Region and the role's credentials.
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
  vi.spyOn(logger, "info").mockImplementation(() => undefined);
  vi.spyOn(metrics, "addMetric").mockReturnValue(metrics);
  vi.spyOn(metrics, "addDimension").mockReturnValue(metrics);
  bedrock.resetCalls();
  return () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  };
});

function rowsOf(result: { records: { data?: string; result: string }[] }): UsageRecord[] {
  return result.records.flatMap((record) =>
    record.result === "Ok"
      ? Buffer.from(record.data ?? "", "base64")
          .toString("utf8")
          .split("\n")
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as UsageRecord)
      : [],
  );
}

describe("Function: pricingPricerFromEnv()", () => {
  const env = (extra: Record<string, string> = {}) => ({
    PROFILE_RESOLUTION: "bedrock",
    BEDROCK_ENDPOINT: bedrock.endpoint,
    PROFILE_CACHE_SECONDS: "60",
    ...extra,
  });

  it("prices calls through per-tenant profiles, attributing those without metadata by the profile's tags, fetching each profile once", async () => {
    // Prepare
    const traffic = trafficPayloads({ seed: 5, count: 400, tenants: TENANTS, malformedFraction: 0, unpricedFraction: 0, tenantProfiles: profiles }, 40);
    const handler = createTransformHandler({ pricer: pricingPricerFromEnv(env()), failures: new MemoryRawFailureStore() });
    const datas = traffic.payloads.map(encodeKinesisData);

    // Act: two Firehose invocations, as two buffers of the same delivery stream
    const first = await handler(firehoseEvent(datas.slice(0, 5)));
    const second = await handler(firehoseEvent(datas.slice(5)));

    // Assess
    const rows = [...rowsOf(first), ...rowsOf(second)];
    const throughProfiles = rows.filter((row) => row.profile === "application" && Object.values(profiles).includes(row.model_id));
    expect(throughProfiles.length).toBeGreaterThan(20);
    for (const row of throughProfiles) {
      const tenant = Object.entries(profiles).find(([, arn]) => arn === row.model_id)?.[0];
      expect(row).toMatchObject({ tenant_id: tenant, status: "priced" });
    }
    const withoutMetadata = throughProfiles.filter((row) => Object.keys(row.metadata).length === 0);
    expect(withoutMetadata.length).toBeGreaterThan(5);
    // Each profile: one GetInferenceProfile and one ListTagsForResource, across both invocations
    // (the traffic's own unmapped profile too: not found, so not asked again within the negative TTL).
    const used = new Set(rows.filter((row) => row.profile === "application").map((row) => row.model_id));
    expect(used.size).toBeGreaterThan(Object.keys(profiles).length);
    expect(bedrock.calls("GetInferenceProfile")).toBe(used.size);
    expect(bedrock.calls("ListTagsForResource")).toBeLessThanOrEqual(used.size);
    expect(bedrock.calls("ListTagsForResource")).toBeGreaterThanOrEqual(Object.keys(profiles).length);
  });

  it("leaves a call through a profile that does not exist unpriced, naming why, and does not ask again within the negative TTL", async () => {
    const pricer = pricingPricerFromEnv(env());
    const line = JSON.stringify({ ...trafficRecord(), modelId: deletedArn });

    const first = await preparedPriceItems(decodeText(line), pricer);
    const again = await preparedPriceItems(decodeText(line), pricer);

    for (const priced of [first, again]) {
      expect(priced.usage[0]?.usage.record).toMatchObject({ status: "unpriced", profile: "application", model: null });
      expect(priced.usage[0]?.usage.record.reason).toMatch(/does not exist/);
    }
    expect(bedrock.calls("GetInferenceProfile")).toBe(1);
  });

  it("names the refused action when Bedrock denies GetInferenceProfile, and prices the profile once allowed", async () => {
    const pricer = pricingPricerFromEnv(env());
    const [tenantId, arn] = Object.entries(profiles)[0] as [string, string];
    const line = JSON.stringify({ ...trafficRecord(), modelId: arn, requestMetadata: {} });

    bedrock.failNext("GetInferenceProfile", "AccessDeniedException");

    const denied = await preparedPriceItems(decodeText(line), pricer);
    const allowed = await preparedPriceItems(decodeText(line), pricer);

    expect(denied.usage[0]?.usage.record).toMatchObject({ status: "unpriced", tenant_id: "unattributed" });
    expect(denied.usage[0]?.usage.record.reason).toMatch(/bedrock:GetInferenceProfile/);
    expect(allowed.usage[0]?.usage.record).toMatchObject({ status: "priced", tenant_id: tenantId });
  });

  it("uses the profile map alone when resolution is off, and refuses a resolution mode it does not know", () => {
    expect(pricingPricerFromEnv({}).resolvesAhead).toBe(false);
    expect(pricingPricerFromEnv({ PROFILE_RESOLUTION: "off" }).resolvesAhead).toBe(false);
    expect(() => pricingPricerFromEnv({ PROFILE_RESOLUTION: "GetInferenceProfile" })).toThrow(ConfigurationError);
    expect(() => pricingPricerFromEnv({ PROFILE_RESOLUTION: "GetInferenceProfile" })).toThrow(/PROFILE_RESOLUTION.*"bedrock" or "off"/);
    expect(() => pricingPricerFromEnv(env({ PROFILE_CACHE_SECONDS: "0" }))).toThrow(/PROFILE_CACHE_SECONDS/);
    expect(() => pricerFromEnv({ PROFILE_RESOLUTION: "bedrock" })).toThrow(/no Bedrock profile source/);
  });

  it("reads the tag keys from PROFILE_TAG_KEYS", async () => {
    const [, arn] = Object.entries(profiles)[0] as [string, string];
    const pricer = pricingPricerFromEnv(env({ PROFILE_TAG_KEYS: JSON.stringify({ tenantId: ["project"], applicationId: ["app"] }) }));

    const priced = await preparedPriceItems(decodeText(JSON.stringify({ ...trafficRecord(), modelId: arn, requestMetadata: {} })), pricer);
    expect(priced.usage[0]?.usage.record.tenant_id).toBe("support-assistant");
    expect(() => pricingPricerFromEnv(env({ PROFILE_TAG_KEYS: '{"tenant":["x"]}' }))).toThrow(/PROFILE_TAG_KEYS.*unknown dimension/);
    expect(() => pricingPricerFromEnv(env({ PROFILE_TAG_KEYS: '{"tenantId":["project"]}' }))).toThrow(
      /PROFILE_TAG_KEYS.*"project" is mapped to both tenantId and applicationId/,
    );
  });
});

function trafficRecord(): Record<string, unknown> {
  const item = trafficPayloads({ seed: 2, count: 3, tenants: TENANTS, malformedFraction: 0, unpricedFraction: 0, permissionsLine: false }, 3).items[0];
  if (item?.kind !== "record") throw new Error("expected a record");
  return item.record as unknown as Record<string, unknown>;
}
