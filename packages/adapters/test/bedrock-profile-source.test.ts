/**
 * BedrockProfileSource against the Bedrock control-plane stand-in (its signed REST-JSON requests over
 * HTTP on loopback; the profiles set up with the real SDK client), the price-tier rule as
 * properties, and answers the stand-in cannot give (a profile naming several models) through a
 * fetch that answers them as Bedrock would.
 */
import { BedrockClient, DeleteInferenceProfileCommand, TagResourceCommand } from "@aws-sdk/client-bedrock";
import { BedrockSpendError } from "@bedrock-spend/core";
import { BedrockControlPlaneServer } from "@bedrock-spend/emulators";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApplicationProfile } from "../src/bedrock-profile-admin";
import { BedrockProfileSource, ProfileResolutionError, pricingProfileOfModels } from "../src/bedrock-profile-source";

const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const ACCOUNT = "123456789012";
const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };

const foundation = (region: string, model = HAIKU) => `arn:aws:bedrock:${region}::foundation-model/${model}`;
const systemProfile = (region: string, prefix: string) => `arn:aws:bedrock:${region}:${ACCOUNT}:inference-profile/${prefix}.${HAIKU}`;

let server: BedrockControlPlaneServer;
let client: BedrockClient;
let source: BedrockProfileSource;

beforeAll(async () => {
  server = await new BedrockControlPlaneServer().start();
  client = new BedrockClient({ region: "us-east-1", endpoint: server.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  source = new BedrockProfileSource({ region: "us-east-1", endpoint: server.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

afterEach(() => {
  server.resetCalls();
});

async function rejection(promise: Promise<unknown>): Promise<ProfileResolutionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileResolutionError);
    return error as ProfileResolutionError;
  }
  throw new Error("expected the fetch to fail");
}

describe("BedrockProfileSource against the stand-in", () => {
  it("resolves a copy of a foundation model to its base model, priced in-Region, with one call of each action", async () => {
    const arn = await createApplicationProfile(client, { name: "in-region", copyFrom: foundation("us-east-1") });
    expect(await source.fetch(arn)).toEqual({ model: HAIKU, pricingProfile: "none" });
    expect(server.calls("GetInferenceProfile")).toBe(1);
    expect(server.calls("ListTagsForResource")).toBe(1);
  });

  it("resolves copies of the us. and global. system profiles to the us and global tiers", async () => {
    const us = await createApplicationProfile(client, { name: "us-copy", copyFrom: systemProfile("us-east-1", "us") });
    const global = await createApplicationProfile(client, { name: "global-copy", copyFrom: systemProfile("us-east-1", "global") });
    expect(await source.fetch(us)).toEqual({ model: HAIKU, pricingProfile: "us" });
    expect(await source.fetch(global)).toEqual({ model: HAIKU, pricingProfile: "global" });
  });

  it("resolves a copy of the eu. system profile in an EU Region, through a source built from region and endpoint", async () => {
    const eu = await new BedrockControlPlaneServer({ region: "eu-west-1", accountId: "210987654321" }).start();
    const euSource = new BedrockProfileSource({ region: "eu-west-1", endpoint: eu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    try {
      const [profile] = eu.seed([
        { name: "eu-copy", copyFrom: `arn:aws:bedrock:eu-west-1:210987654321:inference-profile/eu.${HAIKU}`, tags: { tenant: "tenant-eu" } },
      ]);
      expect(await euSource.fetch(profile?.arn as string)).toEqual({ model: HAIKU, pricingProfile: "eu", tags: { tenant: "tenant-eu" } });
    } finally {
      euSource.destroy();
      await eu.stop();
    }
  });

  it("returns the tags as a plain object in which a __proto__ key is an own key, not a prototype", async () => {
    const arn = await createApplicationProfile(client, {
      name: "tagged",
      copyFrom: foundation("us-east-1"),
      tags: { tenant: "acme", "cost-center": "42" },
      description: "acme's profile",
    });
    await client.send(new TagResourceCommand({ resourceARN: arn, tags: [{ key: "__proto__", value: "polluted" }] }));
    const target = await source.fetch(arn);
    expect(target?.tags).toEqual({ tenant: "acme", "cost-center": "42", ["__proto__"]: "polluted" });
    expect(Object.hasOwn(target?.tags ?? {}, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(target?.tags)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(server.profiles().find((profile) => profile.arn === arn)?.description).toBe("acme's profile");
  });

  it("returns undefined for a deleted or unknown profile", async () => {
    const arn = await createApplicationProfile(client, { name: "deleted", copyFrom: foundation("us-east-1") });
    await client.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    expect(await source.fetch(arn)).toBeUndefined();
    expect(await source.fetch(server.arnOf("unknown00000"))).toBeUndefined();
  });

  it("throws ProfileResolutionError naming the action when GetInferenceProfile is refused", async () => {
    const arn = await createApplicationProfile(client, { name: "denied", copyFrom: foundation("us-east-1") });
    server.failNext("GetInferenceProfile", "AccessDeniedException");
    const error = await rejection(source.fetch(arn));
    expect(error).toBeInstanceOf(BedrockSpendError);
    expect(error.name).toBe("ProfileResolutionError");
    expect(error.message).toBe(
      `bedrock:GetInferenceProfile on ${arn} was refused (AccessDeniedException): allow bedrock:GetInferenceProfile on application-inference-profile ARNs`,
    );
    expect(error).toMatchObject({ action: "bedrock:GetInferenceProfile", arn, errorName: "AccessDeniedException", retryable: false });
  });

  it("throws a retryable ProfileResolutionError when ListTagsForResource is throttled past the attempts allowed", async () => {
    const arn = await createApplicationProfile(client, { name: "throttled", copyFrom: foundation("us-east-1") });
    server.failNext("ListTagsForResource", "ThrottlingException");
    const error = await rejection(source.fetch(arn));
    expect(error.message).toBe(`bedrock:ListTagsForResource on ${arn} was throttled (ThrottlingException): retry later, or fetch fewer profiles at once`);
    expect(error).toMatchObject({ action: "bedrock:ListTagsForResource", errorName: "ThrottlingException", retryable: true });
  });

  it("retries throttling with backoff (maxAttempts 3 by default)", async () => {
    const retrying = new BedrockProfileSource({ region: "us-east-1", endpoint: server.endpoint, credentials: CREDENTIALS });
    try {
      const arn = await createApplicationProfile(client, { name: "retried", copyFrom: foundation("us-east-1") });
      server.failNext("GetInferenceProfile", "ThrottlingException", 2);
      expect(await retrying.fetch(arn)).toEqual({ model: HAIKU, pricingProfile: "none" });
      expect(server.calls("GetInferenceProfile")).toBe(3);
    } finally {
      retrying.destroy();
    }
  });

  it("throws a retryable one-line ProfileResolutionError when the endpoint cannot be reached", async () => {
    const gone = await new BedrockControlPlaneServer().start();
    const endpoint = gone.endpoint;
    await gone.stop();
    const unreachable = new BedrockProfileSource({ region: "us-east-1", endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    try {
      const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/abcdefghijkl`;
      const error = await rejection(unreachable.fetch(arn));
      expect(error.message).toMatch(new RegExp(`^bedrock:GetInferenceProfile on ${arn} could not reach Bedrock \\(ECONNREFUSED`));
      expect(error.message).toContain("check the network path to the Bedrock endpoint");
      expect(error.message).not.toContain("\n");
      expect(error).toMatchObject({ errorName: "ECONNREFUSED", retryable: true });
    } finally {
      unreachable.destroy();
    }
  });
});

describe("BedrockProfileSource on answers the stand-in does not give", () => {
  const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/abcdefghijkl`;
  const profile = (modelArns: string[]) => ({
    inferenceProfileName: "p",
    inferenceProfileArn: arn,
    inferenceProfileId: "abcdefghijkl",
    status: "ACTIVE",
    type: "APPLICATION",
    models: modelArns.map((modelArn) => ({ modelArn })),
  });
  /** Bedrock's answers, by path; what was asked, with the signature's headers. */
  function answering(get: unknown, tags: unknown, status = 200, headers: Record<string, string> = {}) {
    const requests: { url: string; method: string; headers: Record<string, string> }[] = [];
    const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
      requests.push({ url: String(url), method: init?.method ?? "GET", headers: { ...(init?.headers as Record<string, string>) } });
      const body = String(url).includes("/listTagsForResource") ? tags : get;
      return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
    }) as typeof globalThis.fetch;
    return { requests, source: new BedrockProfileSource({ region: "us-east-1", credentials: CREDENTIALS, fetch, maxAttempts: 1 }) };
  }

  it("refuses a profile that lists several models, none, or a Region set of no known geography", async () => {
    const cases: [string[], string][] = [
      [[foundation("us-east-1"), foundation("us-west-2", "amazon.nova-lite-v1:0")], `lists several models (${HAIKU}, amazon.nova-lite-v1:0)`],
      [[], "lists no model"],
      [[`arn:aws:bedrock:us-east-1:${ACCOUNT}:custom-model/x`], "not a foundation-model ARN"],
      [[foundation("ca-central-1"), foundation("ca-west-1")], "routes to Regions of no known cross-Region geography (ca-central-1, ca-west-1)"],
    ];
    for (const [models, expected] of cases) {
      const error = await rejection(answering(profile(models), { tags: [] }).source.fetch(arn));
      expect(error.message).toContain(`bedrock:GetInferenceProfile on ${arn} answered a profile that cannot be priced`);
      expect(error.message).toContain(expected);
      expect(error).toMatchObject({ errorName: "UnsupportedProfile", retryable: false });
    }
  });

  it("leaves tags out when the profile has none, prices a jp. copy, and signs its requests for bedrock at Bedrock's public endpoint", async () => {
    const { source: mocked, requests } = answering(profile([foundation("ap-northeast-1"), foundation("ap-northeast-3")]), {});
    const target = await mocked.fetch(arn);
    expect(target).toEqual({ model: HAIKU, pricingProfile: "jp" });
    expect(target && "tags" in target).toBe(false);
    expect(requests.map((request) => `${request.method} ${request.url}`).sort()).toEqual([
      `GET https://bedrock.us-east-1.amazonaws.com/inference-profiles/${encodeURIComponent(arn)}`,
      "POST https://bedrock.us-east-1.amazonaws.com/listTagsForResource",
    ]);
    for (const request of requests)
      expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, /);
  });

  it("reads the error name from x-amzn-ErrorType as AWS sends it (with a namespace suffix), or from the body's __type", async () => {
    const fromHeader = answering({ message: "no" }, {}, 403, {
      "x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/",
    });
    expect(await rejection(fromHeader.source.fetch(arn))).toMatchObject({ errorName: "AccessDeniedException", retryable: false });
    const fromBody = answering({ __type: "com.amazonaws.bedrock#ResourceNotFoundException", message: "gone" }, {}, 404);
    expect(await fromBody.source.fetch(arn)).toBeUndefined();
    const server = answering({ message: "oops" }, {}, 500);
    expect(await rejection(server.source.fetch(arn))).toMatchObject({ errorName: "HTTP500", retryable: true });
  });
});

describe("pricingProfileOfModels", () => {
  const GEOGRAPHIES: Record<"us" | "eu" | "apac" | "jp" | "au" | "us-gov", readonly string[]> = {
    us: ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
    eu: ["eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"],
    // Without ap-northeast-3 and ap-southeast-4: two of these are never all Japanese or all Australian.
    apac: ["ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-east-2", "me-central-1"],
    jp: ["ap-northeast-1", "ap-northeast-3"],
    au: ["ap-southeast-2", "ap-southeast-4"],
    "us-gov": ["us-gov-west-1", "us-gov-east-1"],
  };
  /** The geographies a Region of another one makes global: JP and AU Regions are also APAC Regions. */
  const FAMILY: Record<keyof typeof GEOGRAPHIES, string> = { us: "us", eu: "eu", apac: "ap", jp: "ap", au: "ap", "us-gov": "us-gov" };
  const OUTSIDE: Record<string, readonly string[]> = {
    us: ["eu-west-1", "ap-northeast-1", "us-gov-west-1", "ca-central-1", "sa-east-1"],
    eu: ["us-east-1", "ap-south-1", "me-central-1", "ca-central-1"],
    ap: ["us-east-1", "eu-central-1", "us-gov-east-1", "sa-east-1"],
    "us-gov": ["us-east-1", "eu-west-1", "ap-southeast-2"],
  };
  const geography = fc.constantFrom(...(Object.keys(GEOGRAPHIES) as (keyof typeof GEOGRAPHIES)[]));
  const subsetOf = (regions: readonly string[]) => fc.shuffledSubarray([...regions], { minLength: 2 });
  const arnsOf = (regions: readonly string[]) => regions.map((region) => foundation(region));

  it("gives a geography's prefix for any two or more of its Regions, in any order, duplicates or not", () => {
    fc.assert(
      fc.property(
        geography.chain((name) => fc.tuple(fc.constant(name), subsetOf(GEOGRAPHIES[name]), fc.boolean())),
        ([name, regions, duplicated]) => {
          const arns = arnsOf(duplicated ? [...regions, ...regions] : regions);
          expect(pricingProfileOfModels(arns)).toBe(name);
        },
      ),
    );
  });

  it("gives global once a Region of another geography is added", () => {
    fc.assert(
      fc.property(
        geography.chain((name) => fc.tuple(subsetOf(GEOGRAPHIES[name]), fc.constantFrom(...(OUTSIDE[FAMILY[name]] ?? [])), fc.nat())),
        ([regions, outsider, at]) => {
          const mixed = [...regions];
          mixed.splice(at % (mixed.length + 1), 0, outsider);
          expect(pricingProfileOfModels(arnsOf(mixed))).toBe("global");
        },
      ),
    );
  });

  it("gives none for one Region, however often listed, and global for a Region-less model ARN", () => {
    const anyRegion = fc.constantFrom(...Object.values(GEOGRAPHIES).flat(), "ca-central-1", "sa-east-1");
    fc.assert(
      fc.property(anyRegion, fc.integer({ min: 1, max: 4 }), (region, times) => {
        expect(pricingProfileOfModels(arnsOf(Array.from({ length: times }, () => region)))).toBe("none");
        expect(pricingProfileOfModels([...arnsOf([region]), foundation("")])).toBe("global");
      }),
    );
  });

  it("gives the tiers of the system profiles' usual Region sets", () => {
    expect(pricingProfileOfModels(arnsOf(["us-east-1", "us-east-2", "us-west-2"]))).toBe("us");
    expect(pricingProfileOfModels(arnsOf(["ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "me-central-1"]))).toBe("apac");
    expect(pricingProfileOfModels(arnsOf(["ap-northeast-1", "ap-southeast-2"]))).toBe("apac");
    expect(pricingProfileOfModels(arnsOf(["us-gov-west-1", "us-gov-east-1"]).map((arn) => arn.replace("arn:aws:", "arn:aws-us-gov:")))).toBe("us-gov");
    expect(pricingProfileOfModels(arnsOf(["us-east-1", "us-gov-west-1"]))).toBe("global");
    expect(pricingProfileOfModels(arnsOf(["ca-central-1", "ca-west-1"]))).toBeUndefined();
  });
});
