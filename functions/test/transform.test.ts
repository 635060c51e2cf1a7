import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MemoryRawFailureStore } from "@bedrock-spend/adapters";
import { decodeBytes, defaultCatalog, Pricer, parseUsd, USAGE_COLUMNS, type UsageRecord } from "@bedrock-spend/core";
import { applicationProfileMap, encodeKinesisData, type TrafficItem } from "@bedrock-spend/traffic";
import type { FirehoseTransformationResultRecord } from "aws-lambda";
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { pricerFromEnv } from "../src/lib/env";
import { logger, metrics } from "../src/lib/powertools";
import { createTransformHandler } from "../src/transform";
import { captureStdio } from "./helpers/stdio";
import { controlMessageData, firehoseEvent, lambdaContext, trafficPayloads, unreadableData } from "./helpers/transform-events";

const DATA_COLUMN_NAMES = USAGE_COLUMNS.filter((column) => !("partition" in column && column.partition)).map((column) => column.name);
const pricer = new Pricer({ catalog: defaultCatalog() });

// A day's start of real-shaped traffic: the permissions line, malformed lines, unpriced models.
const traffic = trafficPayloads({ seed: 11, count: 150, malformedFraction: 0.04, unpricedFraction: 0.04 });
const trafficData = traffic.payloads.map(encodeKinesisData);
const { badBase64: BAD_BASE64, truncatedGzip: TRUNCATED_GZIP, notJson: NOT_JSON } = unreadableData(trafficData[1] as string);
const EVENT_DATA = [...trafficData, controlMessageData(), BAD_BASE64, TRUNCATED_GZIP, NOT_JSON];

function lines(record: FirehoseTransformationResultRecord): string[] {
  return Buffer.from(record.data ?? "", "base64")
    .toString("utf8")
    .split("\n")
    .slice(0, -1);
}

function usageOf(data: string, using = pricer): UsageRecord[] {
  return decodeBytes(Buffer.from(data, "base64")).flatMap((item) => {
    const outcome = using.priceItem(item);
    return outcome.kind === "usage" ? [outcome.usage.record] : [];
  });
}

function prose(items: TrafficItem[]): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string" && value.length >= 24 && value.split(" ").length > 3) texts.push(value.slice(0, 24));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
  };
  for (const item of items) if (item.kind === "record") walk([item.record.input.inputBodyJson, item.record.output.outputBodyJson]);
  return texts;
}

describe("Function: createTransformHandler()", () => {
  let addMetric: MockInstance<Metrics["addMetric"]>;
  let info: MockInstance<Logger["info"]>;
  let warn: MockInstance<Logger["warn"]>;
  let error: MockInstance<Logger["error"]>;
  let store: MemoryRawFailureStore;

  beforeEach(() => {
    store = new MemoryRawFailureStore();
    error = vi.spyOn(logger, "error").mockImplementation(() => undefined);
    addMetric = vi.spyOn(metrics, "addMetric").mockReturnValue(metrics);
    vi.spyOn(metrics, "addDimension").mockReturnValue(metrics);
    info = vi.spyOn(logger, "info").mockImplementation(() => undefined);
    warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("answers every record of a Kinesis-sourced event once, in order, and keeps the failures as received in the store, answered Dropped", async () => {
    // Prepare
    const event = firehoseEvent(EVENT_DATA);
    const handler = createTransformHandler({ pricer, failures: store });

    // Act
    const response = await handler(event);

    // Assess
    expect(response.records.map((record) => record.recordId)).toEqual(event.records.map((record) => record.recordId));
    expect(response.records.map((record) => record.result)).toEqual([...trafficData.map(() => "Ok"), "Dropped", "Dropped", "Dropped", "Dropped"]);
    for (const record of response.records) {
      if (record.result === "Dropped") expect(record.data).toBe("");
      // Only the contract's fields: nothing of the input's Kinesis metadata leaks back.
      expect(Object.keys(record).every((key) => ["recordId", "result", "data", "metadata"].includes(key))).toBe(true);
    }
    // The three failures, with their content as received, their reason and where they came from: one batch, the invocation's.
    expect([...store.batches.keys()]).toEqual([event.invocationId]);
    const failed = event.records.slice(-3);
    expect(store.all()).toEqual(
      failed.map((record, index) => ({
        recordId: record.recordId,
        data: record.data,
        reason: ["base64", "invalid", "invalid"][index],
        fields: [["data"], ["gzip"], ["json"]][index],
        failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        source: `kinesis:${record.kinesisRecordMetadata?.shardId}:${record.kinesisRecordMetadata?.sequenceNumber}`,
      })),
    );
  });

  it("answers the failures ProcessingFailed as received when the store is down (Firehose then keeps them), logging an error", async () => {
    // Prepare
    const event = firehoseEvent(EVENT_DATA);
    store.failWith = new Error("AccessDenied: kms:GenerateDataKey");

    // Act
    const response = await createTransformHandler({ pricer, failures: store })(event);

    // Assess
    expect(response.records.map((record) => record.result)).toEqual([
      ...trafficData.map(() => "Ok"),
      "Dropped",
      "ProcessingFailed",
      "ProcessingFailed",
      "ProcessingFailed",
    ]);
    response.records.forEach((record, index) => {
      if (record.result === "ProcessingFailed") expect(record.data).toBe(event.records[index]?.data);
    });
    expect(addMetric).toHaveBeenCalledWith("RawFailuresUnkept", "Count", 3);
    expect(addMetric).toHaveBeenCalledWith("RawFailuresKept", "Count", 0);
    expect(error).toHaveBeenCalledWith(
      "records transformed, failures not all kept",
      expect.objectContaining({ storeError: "AccessDenied: kms:GenerateDataKey", kept: 0, unkept: 3 }),
    );
  });

  it("keeps every record of a batch the transform throws on (a defect), reason transform-error, and answers them Dropped", async () => {
    // Prepare: a pricer that breaks, as a defect would
    const broken = new Pricer({ catalog: defaultCatalog() });
    vi.spyOn(broken, "price").mockImplementation(() => {
      throw new TypeError("cannot read properties of undefined");
    });
    const event = firehoseEvent(trafficData.slice(0, 3));

    // Act
    const response = await createTransformHandler({ pricer: broken, failures: store })(event);

    // Assess
    expect(response.records.map((record) => record.result)).toEqual(["Dropped", "Dropped", "Dropped"]);
    expect(store.all().map((failure) => [failure.data, failure.reason, failure.fields])).toEqual(
      event.records.map((record) => [record.data, "transform-error", ["TypeError"]]),
    );
    expect(error).toHaveBeenCalledWith(
      "transform failed on the batch, every record kept",
      expect.objectContaining({ transformError: "TypeError: cannot read properties of undefined", kept: 3 }),
    );
  });

  it("writes the documents, costs and partition keys the Pricer computes, and no body text", async () => {
    // Prepare
    const event = firehoseEvent(EVENT_DATA);
    const handler = createTransformHandler({ pricer, failures: store });

    // Act
    const response = await handler(event);

    // Assess
    const texts = prose(traffic.items);
    expect(texts.length).toBeGreaterThan(100);
    trafficData.forEach((data, index) => {
      const record = response.records[index] as FirehoseTransformationResultRecord;
      const expected = usageOf(data);
      const written = lines(record);
      expect(written.map((line) => (JSON.parse(line) as { request_id: string }).request_id)).toEqual(expected.map((usage) => usage.request_id));
      written.forEach((line, row) => {
        const usage = expected[row] as UsageRecord;
        expect(Object.keys(JSON.parse(line) as object)).toEqual(DATA_COLUMN_NAMES);
        expect(line).toContain(`"cost_usd":${usage.cost_usd ?? "null"},`);
      });
      const document = written.join("\n");
      expect(texts.filter((text) => document.includes(text))).toEqual([]);
      const first = expected[0] as UsageRecord;
      expect(record.metadata?.partitionKeys).toEqual({
        year: first.event_time.slice(0, 4),
        month: first.event_time.slice(5, 7),
        day: first.event_time.slice(8, 10),
      });
    });
  });

  it("measures the invocation with EMF metrics and logs its counts with the invocation id", async () => {
    // Prepare
    const event = firehoseEvent(EVENT_DATA);
    const handler = createTransformHandler({ pricer, failures: store });
    const usage = trafficData.flatMap((data) => usageOf(data));
    const costPico = usage.reduce((sum, record) => sum + (record.cost_usd === null ? 0n : (parseUsd(record.cost_usd) as bigint)), 0n);
    const malformed = traffic.items.filter((item) => item.kind === "malformed").length;

    // Act
    await handler(event);

    // Assess
    const sent = Object.fromEntries(addMetric.mock.calls.map(([name, _unit, value]) => [name, value]));
    expect(sent).toMatchObject({
      RecordsIn: EVENT_DATA.length,
      UsageRows: usage.length,
      UnpricedRows: usage.filter((record) => record.status === "unpriced").length,
      Dropped: 1,
      ProcessingFailed: 3,
      OversizeFailed: 0,
      RawFailuresKept: 3,
      RawFailuresUnkept: 0,
      CostMicroUSD: Number(costPico / 1_000_000n),
    });
    // The malformed lines, plus one invalid item for each of the truncated gzip and the non-JSON text.
    expect(sent.InvalidRecords).toBe(malformed + 2);
    expect(malformed).toBeGreaterThan(0);
    expect(sent.CostMicroUSD).toBeGreaterThan(0);
    expect(metrics.addDimension).toHaveBeenCalledWith("consumer", "transform");
    expect(info).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, summary] = warn.mock.calls[0] as [string, Record<string, unknown>];
    expect(message).toBe("records transformed, some failed and were kept");
    expect(summary).toMatchObject({ invocationId: event.invocationId, recordsIn: EVENT_DATA.length, processingFailed: 3, costPico: costPico.toString() });
    expect(summary.failures).toEqual([
      { recordId: event.records.at(-3)?.recordId, reason: "base64", fields: ["data"] },
      { recordId: event.records.at(-2)?.recordId, reason: "invalid", fields: ["gzip"] },
      { recordId: event.records.at(-1)?.recordId, reason: "invalid", fields: ["json"] },
    ]);
    // The log line holds counts and field names, never raw record content.
    for (const text of prose(traffic.items)) expect(JSON.stringify(summary)).not.toContain(text);
  });

  it("logs at info level when every record is transformed", async () => {
    // Act
    await createTransformHandler({ pricer, failures: store })(firehoseEvent([trafficData[2] as string, controlMessageData()]));

    // Assess
    expect(warn).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledWith("records transformed", expect.objectContaining({ ok: 1, dropped: 1, processingFailed: 0 }));
  });

  it("keeps its response under the configured budget and keeps the overflow as received (reason oversize)", async () => {
    // Prepare
    const event = firehoseEvent(trafficData);
    const full = await createTransformHandler({ pricer, failures: store })(event);
    const asReceived = Buffer.byteLength(
      JSON.stringify({ records: event.records.map(({ recordId, data }) => ({ recordId, result: "ProcessingFailed", data })) }),
    );
    const maxResponseBytes = Math.floor((Buffer.byteLength(JSON.stringify(full)) + asReceived) / 2);
    addMetric.mockClear();

    // Act
    const response = await createTransformHandler({ pricer, failures: store, maxResponseBytes })(event);

    // Assess
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThanOrEqual(maxResponseBytes);
    const overflow = response.records.filter((record) => record.result === "Dropped");
    expect(overflow.length).toBeGreaterThan(0);
    expect(response.records.some((record) => record.result === "ProcessingFailed")).toBe(false);
    expect(store.all().map((failure) => [failure.recordId, failure.reason, failure.data])).toEqual(
      overflow.map((record) => [record.recordId, "oversize", event.records.find((input) => input.recordId === record.recordId)?.data]),
    );
    expect(addMetric).toHaveBeenCalledWith("OversizeFailed", "Count", overflow.length);
    expect(addMetric).toHaveBeenCalledWith("ProcessingFailed", "Count", 0);
  });
});

describe("Function: handler", () => {
  const env = { ...process.env };
  let output: string[];
  /** The raw failure bucket's PUTs: S3 has no local implementation, so fetch answers as S3 does (200, empty body). */
  let puts: { url: string; init: RequestInit }[];

  beforeEach(() => {
    vi.resetModules();
    puts = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (url, init) => {
      puts.push({ url: String(url), init: init ?? {} });
      return new Response("", { status: 200 });
    });
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
    });
    process.env.RAW_FAILURE_BUCKET = "bedrock-spend-raw-failures";
    delete process.env.PRICE_OVERLAY;
    delete process.env.PROFILE_MAP;
    delete process.env.METADATA_ALIASES;
    output = captureStdio();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...env };
  });

  afterAll(() => {
    process.env = env;
  });

  /** The JSON lines the handler printed: Powertools log lines and the EMF document. */
  function printed(): Record<string, unknown>[] {
    return output
      .join("")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it("runs end to end through middy, prices with the environment's pricer and flushes EMF metrics", async () => {
    // Prepare: the application-profile map makes the generator's mapped application inference profile priceable.
    process.env.PROFILE_MAP = JSON.stringify(applicationProfileMap());
    const event = firehoseEvent(EVENT_DATA);
    const { handler } = await import("../src/transform");
    const expected = trafficData.flatMap((data) => usageOf(data, pricerFromEnv()));

    // Act
    const response = await handler(event, lambdaContext());

    // Assess
    const written = response.records.flatMap((record) => (record.result === "Ok" ? lines(record) : []));
    expect(written.map((line) => (JSON.parse(line) as { request_id: string }).request_id)).toEqual(expected.map((usage) => usage.request_id));
    written.forEach((line, row) => {
      expect(line).toContain(`"cost_usd":${expected[row]?.cost_usd ?? "null"},`);
    });
    const unpriced = traffic.items.filter((item) => item.kind === "record" && !item.priced).length;
    expect(expected.filter((usage) => usage.status === "unpriced")).toHaveLength(unpriced);

    const json = printed();
    const emf = json.find((line) => "_aws" in line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    };
    expect(emf).toBeDefined();
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe("BedrockSpend");
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(expect.arrayContaining(["service", "consumer"]));
    expect(emf).toMatchObject({
      consumer: "transform",
      RecordsIn: EVENT_DATA.length,
      UsageRows: expected.length,
      UnpricedRows: unpriced,
      Dropped: 1,
      ProcessingFailed: 3,
    });
    const log = json.find((line) => line.message === "records transformed, some failed and were kept");
    expect(log).toMatchObject({
      level: "WARN",
      invocationId: event.invocationId,
      function_name: "bedrock-spend-transform",
      usageRows: expected.length,
      kept: 3,
    });
    // The three failures, in one signed PUT of one object of the raw failure bucket, filed by day and invocation.
    expect(puts).toHaveLength(1);
    expect(puts[0]?.url).toMatch(
      new RegExp(`^https://bedrock-spend-raw-failures\\.s3\\.us-east-1\\.amazonaws\\.com/\\d{4}/\\d\\d/\\d\\d/${event.invocationId}\\.jsonl$`),
    );
    const [put] = puts as [{ url: string; init: RequestInit }];
    expect(put.init.method).toBe("PUT");
    expect((put.init.headers as Record<string, string>).authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request/,
    );
    expect(
      new TextDecoder()
        .decode(put.init.body as Uint8Array)
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).data),
    ).toEqual(event.records.slice(-3).map((record) => record.data));
  });

  it("fails closed on the first invocation without its raw failure bucket", async () => {
    // Prepare
    delete process.env.RAW_FAILURE_BUCKET;

    // Act
    const { handler } = await import("../src/transform");

    // Assess
    await expect(handler(firehoseEvent([controlMessageData()]), lambdaContext())).rejects.toThrow(/RAW_FAILURE_BUCKET/);
  });

  it("imports without configuration and fails closed on the first invocation when it is wrong", async () => {
    // Prepare
    process.env.PRICE_OVERLAY = "{not json";

    // Act
    const { handler } = await import("../src/transform");
    const invocation = handler(firehoseEvent([controlMessageData()]), lambdaContext());

    // Assess
    await expect(invocation).rejects.toThrow(/PRICE_OVERLAY/);
  });
});
