/**
 * The custom resource over the account's Bedrock model invocation logging (src/custom-resources):
 * it adds our CloudWatch destination without taking the setting over, refuses one that delivers
 * elsewhere, and gives back what it found. Bedrock has no local implementation: the handler runs
 * against a mocked client holding one account setting (helpers/bedrock-logging.ts), and the last
 * tests run the real client's (de)serialization against the API's response shapes.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { BedrockClient, type LoggingConfig, PutModelInvocationLoggingConfigurationCommand, ValidationException } from "@aws-sdk/client-bedrock";
import { ConfigurationError } from "@bedrock-spend/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BedrockLoggingError, type BedrockLoggingResponse, createBedrockLoggingHandler } from "../src/custom-resources/bedrock-logging";
import {
  BedrockLoggingConflictError,
  MAX_PHYSICAL_RESOURCE_ID,
  PriorConfigurationRecordError,
  readPrior,
  recordPrior,
} from "../src/custom-resources/logging-configuration";
import { logger } from "../src/lib/powertools";
import {
  createEvent,
  deleteEvent,
  type FakeAccount,
  fakeAccount,
  GET_NOTHING_BODY,
  GET_THEIRS_BODY,
  OUR_LOG_GROUP,
  OUR_ROLE,
  PERMISSIONS_NOT_YET_VISIBLE,
  PROPERTIES,
  permissionsNotYetVisible,
  THEIR_LOG_GROUP,
  THEIR_ROLE,
  updateEvent,
} from "./helpers/bedrock-logging";

/** What the stack puts on an account that had no setting. */
const OURS_ALONE: LoggingConfig = {
  cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: OUR_ROLE },
  textDataDeliveryEnabled: true,
  imageDataDeliveryEnabled: false,
  embeddingDataDeliveryEnabled: false,
  videoDataDeliveryEnabled: false,
  audioDataDeliveryEnabled: false,
};

/** An S3-only setting with its own choice of data types (text off). */
const S3_ONLY: LoggingConfig = {
  s3Config: { bucketName: "platform-bedrock-logs", keyPrefix: "invocations" },
  textDataDeliveryEnabled: false,
  imageDataDeliveryEnabled: true,
  embeddingDataDeliveryEnabled: true,
  videoDataDeliveryEnabled: false,
};

let sleeps: number[];

function handlerOn(account: FakeAccount) {
  return createBedrockLoggingHandler({ bedrock: account.bedrock, sleep: async (ms) => void sleeps.push(ms) });
}

beforeEach(() => {
  sleeps = [];
  for (const level of ["info", "warn"] as const) vi.spyOn(logger, level).mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Bedrock logging custom resource: create", () => {
  it("puts our CloudWatch destination, text only, on an account with no setting, and records that there was none", async () => {
    // Prepare
    const account = fakeAccount();

    // Act
    const response = await handlerOn(account)(createEvent());

    // Assess
    expect(account.puts()).toStrictEqual([OURS_ALONE]);
    expect(account.setting()).toStrictEqual(OURS_ALONE);
    expect(readPrior(response.PhysicalResourceId)).toBeNull();
  });

  it("keeps an S3 destination and its data-type switches, adds ours and turns text on, and records the setting found", async () => {
    // Prepare
    const account = fakeAccount(S3_ONLY);

    // Act
    const response = await handlerOn(account)(createEvent());

    // Assess
    expect(account.puts()).toStrictEqual([
      {
        cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: OUR_ROLE },
        s3Config: { bucketName: "platform-bedrock-logs", keyPrefix: "invocations" },
        textDataDeliveryEnabled: true,
        imageDataDeliveryEnabled: true,
        embeddingDataDeliveryEnabled: true,
        videoDataDeliveryEnabled: false,
      },
    ]);
    expect(readPrior(response.PhysicalResourceId)).toStrictEqual(S3_ONLY);
  });

  it("keeps the S3 destination, the large-data delivery of our destination and every switch when it finds its own destination with text off", async () => {
    // Prepare: our destination (our role), with large-data delivery and an S3 destination added by hand
    const found: LoggingConfig = {
      ...S3_ONLY,
      cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: OUR_ROLE, largeDataDeliveryS3Config: { bucketName: "large-data", keyPrefix: "big" } },
      audioDataDeliveryEnabled: true,
    };
    const account = fakeAccount(found);

    // Act
    const response = await handlerOn(account)(createEvent());

    // Assess
    expect(account.puts()).toStrictEqual([
      {
        cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: OUR_ROLE, largeDataDeliveryS3Config: { bucketName: "large-data", keyPrefix: "big" } },
        s3Config: S3_ONLY.s3Config,
        textDataDeliveryEnabled: true,
        imageDataDeliveryEnabled: true,
        embeddingDataDeliveryEnabled: true,
        videoDataDeliveryEnabled: false,
        audioDataDeliveryEnabled: true,
      },
    ]);
    // Our own destination is not part of what we give back: the rest is.
    expect(readPrior(response.PhysicalResourceId)).toStrictEqual({ ...S3_ONLY, audioDataDeliveryEnabled: true });
  });

  it("refuses a setting that delivers to another log group, naming both and the settings to deploy with, and changes nothing", async () => {
    // Prepare
    const account = fakeAccount(JSON.parse(GET_THEIRS_BODY).loggingConfig);

    // Act
    const error = await handlerOn(account)(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BedrockLoggingConflictError);
    expect((error as BedrockLoggingConflictError).message).toBe(
      `Bedrock model invocation logging in this account and Region already delivers to the log group ${THEIR_LOG_GROUP}, not to ${OUR_LOG_GROUP}; ` +
        "it is one setting per account and Region, and the deploy does not replace it. " +
        `To read the invocation logs Bedrock already writes there, deploy with BEDROCK_SPEND_EXISTING_LOG_GROUP=${THEIR_LOG_GROUP} and BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING=false.`,
    );
    expect(error).toMatchObject({ name: "BedrockLoggingConflictError", configuredLogGroup: THEIR_LOG_GROUP, logGroup: OUR_LOG_GROUP });
    expect(account.puts()).toStrictEqual([]);
    expect(account.deletes()).toBe(0);
  });

  it("tells to switch text delivery on first when the other log group gets no text records", async () => {
    // Prepare
    const account = fakeAccount({ cloudWatchConfig: { logGroupName: THEIR_LOG_GROUP, roleArn: THEIR_ROLE }, textDataDeliveryEnabled: false });

    // Act
    const error = await handlerOn(account)(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toContain(
      `deploy with BEDROCK_SPEND_EXISTING_LOG_GROUP=${THEIR_LOG_GROUP} and BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING=false, after switching its text delivery on`,
    );
    expect(account.puts()).toStrictEqual([]);
  });

  it("is idempotent on its own destination (a re-run): nothing put, and nothing recorded to give back", async () => {
    // Prepare
    const account = fakeAccount(OURS_ALONE);

    // Act
    const response = await handlerOn(account)(createEvent());

    // Assess
    expect(account.puts()).toStrictEqual([]);
    expect(account.setting()).toStrictEqual(OURS_ALONE);
    expect(readPrior(response.PhysicalResourceId)).toBeNull();
  });

  it("leaves someone else's destination to our log group as it is when it delivers text already, and records it", async () => {
    // Prepare: BEDROCK_SPEND_EXISTING_LOG_GROUP names the group another team's setting already delivers to
    const theirs: LoggingConfig = {
      cloudWatchConfig: { logGroupName: THEIR_LOG_GROUP, roleArn: THEIR_ROLE, largeDataDeliveryS3Config: { bucketName: "large-data" } },
      textDataDeliveryEnabled: true,
    };
    const account = fakeAccount(theirs);

    // Act
    const response = await handlerOn(account)(createEvent({ ...PROPERTIES, LogGroupName: THEIR_LOG_GROUP }));

    // Assess
    expect(account.puts()).toStrictEqual([]);
    expect(readPrior(response.PhysicalResourceId)).toStrictEqual(theirs);
  });

  it("retries the put while Bedrock cannot see the new role's permissions yet, backing off", async () => {
    // Prepare
    const account = fakeAccount();
    let refusals = 3;
    account.mock.on(PutModelInvocationLoggingConfigurationCommand).callsFake(async (input: { loggingConfig: LoggingConfig }) => {
      if (refusals-- > 0) throw permissionsNotYetVisible();
      account.set(input.loggingConfig);
      return {};
    });

    // Act
    await handlerOn(account)(createEvent());

    // Assess
    expect(account.puts()).toHaveLength(4);
    expect(sleeps).toStrictEqual([1_000, 2_000, 4_000]);
    expect(account.setting()).toStrictEqual(OURS_ALONE);
  });

  it("gives up after a bounded number of puts, with a typed error holding Bedrock's", async () => {
    // Prepare
    const account = fakeAccount();
    account.mock.on(PutModelInvocationLoggingConfigurationCommand).rejects(permissionsNotYetVisible());

    // Act
    const error = await handlerOn(account)(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BedrockLoggingError);
    expect(error).toMatchObject({ name: "BedrockLoggingError", operation: "PutModelInvocationLoggingConfiguration", attempts: 8, loggingConfig: OURS_ALONE });
    expect((error as Error).cause).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toContain(PERMISSIONS_NOT_YET_VISIBLE);
    expect(sleeps).toStrictEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
  });

  it("does not retry any other validation error", async () => {
    // Prepare
    const account = fakeAccount();
    const invalid = new ValidationException({
      message: "1 validation error detected: Value at 'loggingConfig.cloudWatchConfig.roleArn' failed",
      $metadata: {},
    });
    account.mock.on(PutModelInvocationLoggingConfigurationCommand).rejects(invalid);

    // Act
    const error = await handlerOn(account)(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BedrockLoggingError", attempts: 1 });
    expect(sleeps).toStrictEqual([]);
  });

  it("refuses, changing nothing, a setting too long to record in CloudFormation's 1 KB physical id", async () => {
    // Prepare: an S3 prefix that does not compress
    const noise = randomBytes(900).toString("base64url");
    const account = fakeAccount({ s3Config: { bucketName: "logs", keyPrefix: noise }, textDataDeliveryEnabled: true });

    // Act
    const error = await handlerOn(account)(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PriorConfigurationRecordError);
    expect((error as Error).message).toMatch(/too long to record .* nothing was changed.*BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING=false/);
    expect(account.puts()).toStrictEqual([]);
  });

  it("fails naming the property the stack did not set", async () => {
    // Prepare
    const account = fakeAccount();

    // Act
    const error = await handlerOn(account)(createEvent({ ...PROPERTIES, RoleArn: "" })).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).origin).toBe("ResourceProperties.RoleArn");
  });
});

describe("Bedrock logging custom resource: update", () => {
  it("re-points our destination at the new log group, keeping everything else and the record", async () => {
    // Prepare: created over an S3-only setting, then the stack moves to another log group
    const account = fakeAccount(S3_ONLY);
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    const moved = { ...PROPERTIES, LogGroupName: "/bedrock-spend/prod/model-invocations-v2" };

    // Act
    const updated = await handler(updateEvent(created.PhysicalResourceId, moved, PROPERTIES));

    // Assess
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(account.setting()).toStrictEqual({
      cloudWatchConfig: { logGroupName: "/bedrock-spend/prod/model-invocations-v2", roleArn: OUR_ROLE },
      s3Config: S3_ONLY.s3Config,
      textDataDeliveryEnabled: true,
      imageDataDeliveryEnabled: true,
      embeddingDataDeliveryEnabled: true,
      videoDataDeliveryEnabled: false,
    });
    expect(readPrior(updated.PhysicalResourceId)).toStrictEqual(S3_ONLY);
  });

  it("moves to a new logging role, the old one being ours too", async () => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    const newRole = `${OUR_ROLE}-2`;

    // Act
    await handler(updateEvent(created.PhysicalResourceId, { ...PROPERTIES, RoleArn: newRole }, PROPERTIES));

    // Assess
    expect(account.setting()?.cloudWatchConfig).toStrictEqual({ logGroupName: OUR_LOG_GROUP, roleArn: newRole });
  });

  it("puts our destination back when the setting was deleted since", async () => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    account.set(undefined);

    // Act
    await handler(updateEvent(created.PhysicalResourceId));

    // Assess
    expect(account.setting()).toStrictEqual(OURS_ALONE);
  });

  it("leaves alone a setting someone pointed at another log group since (a rollback's update must not fail on it either)", async () => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    const theirs = JSON.parse(GET_THEIRS_BODY).loggingConfig as LoggingConfig;
    account.set(theirs);

    // Act
    const updated = await handler(updateEvent(created.PhysicalResourceId, { ...PROPERTIES, LogGroupName: "/bedrock-spend/prod/other" }));

    // Assess
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(account.puts()).toHaveLength(1);
    expect(account.setting()).toStrictEqual(theirs);
  });
});

describe("Bedrock logging custom resource: delete", () => {
  it("restores the setting found at create", async () => {
    // Prepare
    const account = fakeAccount(S3_ONLY);
    const handler = handlerOn(account);
    const created = await handler(createEvent());

    // Act
    const deleted = await handler(deleteEvent(created.PhysicalResourceId));

    // Assess
    expect(deleted.PhysicalResourceId).toBe(created.PhysicalResourceId);
    expect(account.setting()).toStrictEqual(S3_ONLY);
    expect(account.deletes()).toBe(0);
  });

  it("restores the setting found at create after an update moved our destination", async () => {
    // Prepare
    const account = fakeAccount(S3_ONLY);
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    const moved = { ...PROPERTIES, LogGroupName: "/bedrock-spend/prod/model-invocations-v2" };
    await handler(updateEvent(created.PhysicalResourceId, moved, PROPERTIES));

    // Act
    await handler(deleteEvent(created.PhysicalResourceId, moved));

    // Assess
    expect(account.setting()).toStrictEqual(S3_ONLY);
  });

  it("deletes the setting when there was none before the stack", async () => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());

    // Act
    await handler(deleteEvent(created.PhysicalResourceId));

    // Assess
    expect(account.deletes()).toBe(1);
    expect(account.setting()).toBeUndefined();
  });

  it("keeps an S3 destination added since, removing only ours, when there was none before", async () => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    account.set({ ...OURS_ALONE, s3Config: { bucketName: "added-later" } });

    // Act
    await handler(deleteEvent(created.PhysicalResourceId));

    // Assess
    expect(account.deletes()).toBe(0);
    expect(account.setting()).toStrictEqual({
      s3Config: { bucketName: "added-later" },
      textDataDeliveryEnabled: true,
      imageDataDeliveryEnabled: false,
      embeddingDataDeliveryEnabled: false,
      videoDataDeliveryEnabled: false,
      audioDataDeliveryEnabled: false,
    });
  });

  it.each([
    ["another log group", { cloudWatchConfig: { logGroupName: THEIR_LOG_GROUP, roleArn: THEIR_ROLE }, textDataDeliveryEnabled: true }],
    ["our log group through someone else's role", { cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: THEIR_ROLE }, textDataDeliveryEnabled: true }],
    ["S3 only", S3_ONLY],
  ] satisfies [string, LoggingConfig][])("leaves alone a setting someone changed since to %s", async (_, changed) => {
    // Prepare
    const account = fakeAccount();
    const handler = handlerOn(account);
    const created = await handler(createEvent());
    account.set(changed);

    // Act
    await handler(deleteEvent(created.PhysicalResourceId));

    // Assess
    expect(account.puts()).toHaveLength(1);
    expect(account.deletes()).toBe(0);
    expect(account.setting()).toStrictEqual(changed);
  });

  it("never deletes a setting that was there before, even one that was ours alone (a re-run over a kept setting)", async () => {
    // Prepare: the destination found at create was someone else's, to our log group
    const theirs: LoggingConfig = { cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: THEIR_ROLE }, textDataDeliveryEnabled: true };
    const account = fakeAccount(theirs);
    const handler = handlerOn(account);
    const created = await handler(createEvent());

    // Act
    await handler(deleteEvent(created.PhysicalResourceId));

    // Assess
    expect(account.deletes()).toBe(0);
    expect(account.setting()).toStrictEqual(theirs);
  });

  it("does nothing for a physical id it did not write (the provider framework's marker of a failed create)", async () => {
    // Prepare
    const account = fakeAccount(OURS_ALONE);

    // Act
    const response: BedrockLoggingResponse = await handlerOn(account)(deleteEvent("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"));

    // Assess
    expect(response.PhysicalResourceId).toBe("AWSCDK::CustomResourceProviderFramework::CREATE_FAILED");
    expect(account.mock.calls()).toHaveLength(0);
  });
});

describe("Bedrock logging custom resource: the record of the setting found", () => {
  it("round-trips a full setting within CloudFormation's 1 KB", () => {
    const full = JSON.parse(GET_THEIRS_BODY).loggingConfig as LoggingConfig;
    const id = recordPrior(full);
    expect(id.length).toBeLessThanOrEqual(MAX_PHYSICAL_RESOURCE_ID);
    expect(readPrior(id)).toStrictEqual(full);
    expect(readPrior(recordPrior(null))).toBeNull();
  });

  it("refuses a record it cannot read back, rather than guessing", () => {
    expect(() => readPrior("bedrock-invocation-logging:v1:not-deflate")).toThrow(PriorConfigurationRecordError);
  });
});

/** A Bedrock client whose HTTP answers are `answers`, in order, and which records each request. */
function wireClient(answers: { status: number; body: string; errorType?: string }[]) {
  const requests: { method: string; path: string; body: string }[] = [];
  const client = new BedrockClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { method: string; path: string; body?: unknown }) => {
        const body = typeof request.body === "string" ? request.body : request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : "";
        requests.push({ method: request.method, path: request.path, body });
        const answer = answers.shift();
        if (!answer) throw new Error(`unexpected request ${request.method} ${request.path}`);
        const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-requestid": "r-1" };
        if (answer.errorType) headers["x-amzn-errortype"] = `${answer.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`;
        return { response: { statusCode: answer.status, headers, body: Readable.from([Buffer.from(answer.body)]) } };
      },
    } as never,
  });
  return { client, requests };
}

describe("Bedrock logging custom resource: the API's wire shapes, through the real client", () => {
  it("reads an empty setting, retries the permissions ValidationException and puts our destination as JSON", async () => {
    // Prepare
    const { client, requests } = wireClient([
      { status: 200, body: GET_NOTHING_BODY },
      { status: 400, errorType: "ValidationException", body: JSON.stringify({ message: PERMISSIONS_NOT_YET_VISIBLE }) },
      { status: 200, body: "" },
    ]);

    // Act
    await createBedrockLoggingHandler({ bedrock: client, sleep: async (ms) => void sleeps.push(ms) })(createEvent());

    // Assess
    expect(requests.map(({ method, path }) => `${method} ${path}`)).toStrictEqual([
      "GET /logging/modelinvocations",
      "PUT /logging/modelinvocations",
      "PUT /logging/modelinvocations",
    ]);
    expect(JSON.parse(requests[2]?.body ?? "")).toStrictEqual({ loggingConfig: OURS_ALONE });
    expect(sleeps).toStrictEqual([1_000]);
  });

  it("reads a console-made setting to another log group, large-data delivery included, and refuses it", async () => {
    // Prepare
    const { client, requests } = wireClient([{ status: 200, body: GET_THEIRS_BODY }]);

    // Act
    const error = await createBedrockLoggingHandler({ bedrock: client })(createEvent()).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BedrockLoggingConflictError", configuredLogGroup: THEIR_LOG_GROUP });
    expect(requests).toHaveLength(1);
  });

  it("restores a console-made setting exactly, on the wire", async () => {
    // Prepare: the setting delivers to our group through our role; the record holds the console-made one
    const theirs = JSON.parse(GET_THEIRS_BODY).loggingConfig as LoggingConfig;
    const current = { ...theirs, cloudWatchConfig: { logGroupName: OUR_LOG_GROUP, roleArn: OUR_ROLE } };
    const { client, requests } = wireClient([
      { status: 200, body: JSON.stringify({ loggingConfig: current }) },
      { status: 200, body: "" },
    ]);

    // Act
    await createBedrockLoggingHandler({ bedrock: client })(deleteEvent(recordPrior(theirs)));

    // Assess
    expect(JSON.parse(requests[1]?.body ?? "")).toStrictEqual({ loggingConfig: theirs });
  });
});
