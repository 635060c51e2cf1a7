/**
 * The Bedrock control-plane stand-in through the real `@aws-sdk/client-bedrock` client (what the
 * adapter sends), and raw HTTP for what the SDK hides: the error headers and bodies, unsigned requests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccessDeniedException,
  BedrockClient,
  ConflictException,
  CreateInferenceProfileCommand,
  DeleteInferenceProfileCommand,
  GetInferenceProfileCommand,
  InternalServerException,
  ListInferenceProfilesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  ThrottlingException,
  UntagResourceCommand,
  ValidationException,
} from "@aws-sdk/client-bedrock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BedrockControlPlaneServer, BedrockControlPlaneStateError } from "../src/bedrock-loopback";

const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const HAIKU_FOUNDATION = `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}`;
const HAIKU_US = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${HAIKU}`;
const CREATED = new Date("2025-03-04T05:06:07.089Z");
const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };

let server: BedrockControlPlaneServer;
let client: BedrockClient;

function clientFor(endpoint: string, maxAttempts = 1): BedrockClient {
  return new BedrockClient({ region: "us-east-1", endpoint, credentials: CREDENTIALS, maxAttempts });
}

beforeAll(async () => {
  server = await new BedrockControlPlaneServer({ now: () => CREATED }).start();
  client = clientFor(server.endpoint);
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

afterEach(async () => {
  for (const profile of server.profiles()) await client.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: profile.id }));
  server.resetCalls();
});

async function create(name: string, copyFrom: string, tags?: Record<string, string>): Promise<string> {
  const output = await client.send(
    new CreateInferenceProfileCommand({
      inferenceProfileName: name,
      modelSource: { copyFrom },
      tags: tags && Object.entries(tags).map(([key, value]) => ({ key, value })),
    }),
  );
  expect(output.status).toBe("ACTIVE");
  expect(output.$metadata.httpStatusCode).toBe(201);
  return output.inferenceProfileArn as string;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

describe("the server", () => {
  it("listens on 127.0.0.1 only, on the port of its endpoint", () => {
    const address = server.address();
    expect(address?.address).toBe("127.0.0.1");
    expect(address?.family).toBe("IPv4");
    expect(server.endpoint).toBe(`http://127.0.0.1:${address?.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it("refuses an unsigned request and answers an unknown route as AWS does, without CORS headers", async () => {
    const unsigned = await fetch(`${server.endpoint}/inference-profiles`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(unsigned.headers.get("access-control-allow-origin")).toBeNull();
    expect(await unsigned.json()).toEqual({ message: "Missing Authentication Token" });
    const unknown = await fetch(`${server.endpoint}/foundation-models`, { headers: { authorization: "AWS4-HMAC-SHA256 Credential=x" } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
  });
});

describe("CreateInferenceProfile and GetInferenceProfile", () => {
  it("copies a foundation model: one model ARN, an application-inference-profile ARN with a 12-character id", async () => {
    const arn = await create("tenant-a", HAIKU_FOUNDATION);
    expect(arn).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:application-inference-profile\/[a-z0-9]{12}$/);
    const id = arn.split("/")[1] as string;
    const byId = await client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: id }));
    expect(byId).toMatchObject({
      inferenceProfileName: "tenant-a",
      inferenceProfileArn: arn,
      inferenceProfileId: id,
      models: [{ modelArn: HAIKU_FOUNDATION }],
      status: "ACTIVE",
      type: "APPLICATION",
    });
    expect(byId.description).toBeUndefined();
    expect(byId.createdAt).toEqual(CREATED);
    expect(byId.updatedAt).toEqual(CREATED);
    const byArn = await client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    expect(byArn.inferenceProfileId).toBe(id);
    expect(server.calls("GetInferenceProfile")).toBe(2);
    expect(server.calls("CreateInferenceProfile")).toBe(1);
  });

  it("copies a system-defined profile: the foundation-model ARNs of its geography's Regions", async () => {
    const us = await client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: await create("tenant-us", HAIKU_US) }));
    expect(us.models?.map((model) => model.modelArn)).toEqual(
      ["us-east-1", "us-east-2", "us-west-2"].map((region) => `arn:aws:bedrock:${region}::foundation-model/${HAIKU}`),
    );
    const eu = new BedrockControlPlaneServer({ region: "eu-west-1", accountId: "210987654321" });
    const [profile] = eu.seed([{ name: "eu", copyFrom: `arn:aws:bedrock:eu-west-1:210987654321:inference-profile/eu.${HAIKU}`, description: "EU tenant" }]);
    expect(profile?.arn).toMatch(/^arn:aws:bedrock:eu-west-1:210987654321:application-inference-profile\/[a-z0-9]{12}$/);
    expect(profile?.models.map((model) => model.split(":")[3])).toEqual(["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"]);
    expect(profile?.description).toBe("EU tenant");
  });

  it("keeps the description and answers a retried request (same clientRequestToken) with the same profile", async () => {
    const input = { inferenceProfileName: "retried", modelSource: { copyFrom: HAIKU_FOUNDATION }, description: "for tenant b", clientRequestToken: "token-1" };
    const first = await client.send(new CreateInferenceProfileCommand(input));
    const second = await client.send(new CreateInferenceProfileCommand(input));
    expect(second.inferenceProfileArn).toBe(first.inferenceProfileArn);
    expect(server.profiles()).toHaveLength(1);
    const profile = await client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: first.inferenceProfileArn }));
    expect(profile.description).toBe("for tenant b");
  });

  it("answers a duplicate name with ConflictException and an invalid source with ValidationException", async () => {
    await create("taken", HAIKU_FOUNDATION);
    const conflict = await rejection(create("taken", HAIKU_FOUNDATION));
    expect(conflict).toBeInstanceOf(ConflictException);
    // The Bedrock model gives ConflictException HTTP status 400.
    expect(conflict.$metadata?.httpStatusCode).toBe(400);
    for (const copyFrom of [
      "anthropic.claude-haiku",
      `arn:aws:bedrock:eu-west-1::foundation-model/${HAIKU}`,
      `arn:aws:bedrock:us-east-1:123456789012:inference-profile/xx.${HAIKU}`,
    ]) {
      const error = await rejection(create(`bad-${server.calls()}`, copyFrom));
      expect(error, copyFrom).toBeInstanceOf(ValidationException);
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }
    const badName = await rejection(create("no/slashes", HAIKU_FOUNDATION));
    expect(badName).toBeInstanceOf(ValidationException);
    expect(badName.message).toContain("'inferenceProfileName'");
  });

  it("answers an unknown profile with ResourceNotFoundException, 404", async () => {
    for (const identifier of ["abcdefghijkl", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdefghijkl"]) {
      const error = await rejection(client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: identifier })));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata?.httpStatusCode).toBe(404);
      expect(error.message).toContain(identifier);
    }
  });
});

describe("tags", () => {
  it("lists, adds, replaces and removes tags", async () => {
    const arn = await create("tagged", HAIKU_FOUNDATION, { tenant: "acme", team: "search" });
    const listed = await client.send(new ListTagsForResourceCommand({ resourceARN: arn }));
    expect(listed.tags).toEqual([
      { key: "tenant", value: "acme" },
      { key: "team", value: "search" },
    ]);
    await client.send(
      new TagResourceCommand({
        resourceARN: arn,
        tags: [
          { key: "team", value: "ads" },
          { key: "__proto__", value: "x" },
        ],
      }),
    );
    await client.send(new UntagResourceCommand({ resourceARN: arn, tagKeys: ["tenant", "absent"] }));
    const after = await client.send(new ListTagsForResourceCommand({ resourceARN: arn }));
    expect(after.tags).toEqual([
      { key: "team", value: "ads" },
      { key: "__proto__", value: "x" },
    ]);
    expect(server.calls("TagResource")).toBe(1);
    expect(server.calls("UntagResource")).toBe(1);
  });

  it("answers tags of an unknown resource with ResourceNotFoundException", async () => {
    const resourceARN = server.arnOf("zzzzzzzzzzzz");
    for (const command of [new ListTagsForResourceCommand({ resourceARN }), new TagResourceCommand({ resourceARN, tags: [{ key: "a", value: "b" }] })]) {
      const error = await rejection(client.send(command as ListTagsForResourceCommand));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata?.httpStatusCode).toBe(404);
    }
  });
});

describe("ListInferenceProfiles and DeleteInferenceProfile", () => {
  it("pages application profiles in creation order with nextToken", async () => {
    const arns: string[] = [];
    for (let i = 0; i < 5; i++) arns.push(await create(`paged-${i}`, HAIKU_FOUNDATION));
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListInferenceProfilesCommand({ typeEquals: "APPLICATION", maxResults: 2, nextToken }));
      pages.push((page.inferenceProfileSummaries ?? []).map((summary) => summary.inferenceProfileArn as string));
      expect(page.inferenceProfileSummaries?.[0]).toMatchObject({
        type: "APPLICATION",
        status: "ACTIVE",
        models: [{ modelArn: HAIKU_FOUNDATION }],
        createdAt: CREATED,
      });
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages).toEqual([arns.slice(0, 2), arns.slice(2, 4), arns.slice(4)]);
    const system = await client.send(new ListInferenceProfilesCommand({ typeEquals: "SYSTEM_DEFINED" }));
    expect(system.inferenceProfileSummaries).toEqual([]);
    const tooMany = await rejection(client.send(new ListInferenceProfilesCommand({ maxResults: 1001 })));
    expect(tooMany).toBeInstanceOf(ValidationException);
    const badToken = await rejection(client.send(new ListInferenceProfilesCommand({ nextToken: "not-a-token" })));
    expect(badToken).toBeInstanceOf(ValidationException);
  });

  it("deletes by id or ARN; the profile and its tags are gone", async () => {
    const arn = await create("deleted", HAIKU_FOUNDATION, { tenant: "gone" });
    const deleted = await client.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    expect(await rejection(client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await rejection(client.send(new ListTagsForResourceCommand({ resourceARN: arn })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await rejection(client.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn })))).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("fault injection", () => {
  it("answers the next calls of an operation with the injected errors, then normally", async () => {
    const arn = await create("faulted", HAIKU_FOUNDATION);
    server.failNext("GetInferenceProfile", "ThrottlingException");
    server.failNext("GetInferenceProfile", "AccessDeniedException");
    server.failNext("*", "InternalServerException");
    const get = () => client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }));

    const throttled = await rejection(get());
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    const denied = await rejection(get());
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    expect(denied.message).toBe(
      `User: arn:aws:sts::123456789012:assumed-role/bedrock-spend/loopback is not authorized to perform: bedrock:GetInferenceProfile on resource: ${arn} because no identity-based policy allows the bedrock:GetInferenceProfile action`,
    );
    // The `*` fault is taken by whichever operation comes next.
    const failed = await rejection(client.send(new ListTagsForResourceCommand({ resourceARN: arn })));
    expect(failed).toBeInstanceOf(InternalServerException);
    expect(failed.$metadata?.httpStatusCode).toBe(500);
    expect((await get()).inferenceProfileArn).toBe(arn);
    expect(server.calls("GetInferenceProfile")).toBe(3);
    expect(server.requests.filter((request) => request.operation === "GetInferenceProfile").map((request) => request.status)).toEqual([429, 403, 200]);
  });

  it("sends the error as AWS's REST-JSON services do: x-amzn-ErrorType and a message body", async () => {
    server.failNext("ListInferenceProfiles", "ThrottlingException");
    const response = await fetch(`${server.endpoint}/inference-profiles?type=APPLICATION`, { headers: { authorization: "AWS4-HMAC-SHA256 Credential=x" } });
    expect(response.status).toBe(429);
    expect(response.headers.get("x-amzn-errortype")).toBe("ThrottlingException");
    expect(response.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ message: "Too many requests, please wait before trying again." });
  });

  it("retries throttling as the SDK does, and drops the connection on ConnectionReset", async () => {
    const arn = await create("retried-get", HAIKU_FOUNDATION);
    const retrying = clientFor(server.endpoint, 3);
    try {
      server.failNext("GetInferenceProfile", "ThrottlingException", 2);
      const output = await retrying.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
      expect(output.$metadata.attempts).toBe(3);
      expect(server.calls("GetInferenceProfile")).toBe(3);
    } finally {
      retrying.destroy();
    }
    server.failNext("GetInferenceProfile", "ConnectionReset");
    const reset = await rejection(client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn })));
    expect(reset.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${(reset as { code?: string }).code ?? reset.name}`).toMatch(/ECONNRESET|socket hang up/i);
  });
});

describe("state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bedrock-loopback-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the profiles and their tags across a restart, and a later server sees them", async () => {
    const stateFile = join(dir, "nested", "bedrock.json");
    const first = await new BedrockControlPlaneServer({ stateFile, now: () => CREATED }).start();
    const firstClient = clientFor(first.endpoint);
    const arn = (
      await firstClient.send(
        new CreateInferenceProfileCommand({ inferenceProfileName: "persisted", modelSource: { copyFrom: HAIKU_US }, tags: [{ key: "tenant", value: "acme" }] }),
      )
    ).inferenceProfileArn as string;
    const removed = (
      await firstClient.send(new CreateInferenceProfileCommand({ inferenceProfileName: "removed", modelSource: { copyFrom: HAIKU_FOUNDATION } }))
    ).inferenceProfileArn as string;
    await firstClient.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: removed }));
    firstClient.destroy();
    await first.stop();

    const saved = JSON.parse(readFileSync(stateFile, "utf8")) as { profiles: { arn: string }[] };
    expect(saved.profiles.map((profile) => profile.arn)).toEqual([arn]);

    const second = await new BedrockControlPlaneServer({ stateFile }).start();
    const secondClient = clientFor(second.endpoint);
    try {
      const profile = await secondClient.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
      expect(profile.models).toHaveLength(3);
      expect(profile.createdAt).toEqual(CREATED);
      expect((await secondClient.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags).toEqual([{ key: "tenant", value: "acme" }]);
      // Creation order goes on after the loaded profiles.
      const [next] = second.seed([{ name: "after-restart", copyFrom: HAIKU_FOUNDATION }]);
      expect(next?.sequence).toBe(3);
    } finally {
      secondClient.destroy();
      await second.stop();
    }
  });

  it("refuses a state file it did not write", async () => {
    const stateFile = join(dir, "foreign.json");
    rmSync(stateFile, { force: true });
    writeFileSync(stateFile, JSON.stringify({ profiles: "nope" }));
    await expect(new BedrockControlPlaneServer({ stateFile }).start()).rejects.toBeInstanceOf(BedrockControlPlaneStateError);
  });
});
