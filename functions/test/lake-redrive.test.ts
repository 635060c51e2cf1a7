/**
 * The lake-redrive Lambda end to end, configured from the environment: the raw failure bucket's
 * objects and Firehose's processing-failed output in the lake bucket put back on the redrive
 * delivery stream, each object deleted once accepted; its metrics and logs; failing closed without
 * its configuration. S3 and Firehose are aws-sdk-client-mock stubs answering as the services do
 * (Firehose has no local implementation); the redrive itself is tested in
 * packages/pipeline/test/lake-failures.test.ts.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { DeleteObjectCommand, GetObjectCommand, type GetObjectCommandOutput, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { rawFailureLines } from "@bedrock-spend/adapters";
import { encodeKinesisData } from "@bedrock-spend/traffic";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { LAKE_PROCESSING_FAILED_PREFIX } from "../src/lib/contracts";
import { lambdaContext, trafficPayloads } from "./helpers/transform-events";

const RAW_BUCKET = "bedrock-spend-test-rawfailures";
const LAKE_BUCKET = "bedrock-spend-test-lakebucket";
const STREAM = "bedrock-spend-test-lake-redrive";
const RAW_KEY = "2026/11/27/2b4d1ad9-2f48-94bd-a088-767c317e994a.jsonl";
const ERROR_KEY = `${LAKE_PROCESSING_FAILED_PREFIX}2026/11/27/bedrock-spend-test-lake-1-2026-11-27-10-01-05-0b1f3c8e-6a52-4d0e-9d7f-2f4f1f6d9a10`;

const s3 = mockClient(S3Client);
const firehose = mockClient(FirehoseClient);

// Two real-shaped subscription records: one the transform kept, one Firehose wrote itself.
const [keptData, erroredData] = trafficPayloads({ seed: 5, count: 8 }, 4).payloads.map(encodeKinesisData) as [string, string];

/** The buckets: `bucket/key` -> text. */
let objects: Map<string, string>;

function serveS3(): void {
  s3.on(ListObjectsV2Command).callsFake((input) => {
    const keys = [...objects.keys()].filter((id) => id.startsWith(`${input.Bucket}/${input.Prefix ?? ""}`)).map((id) => id.slice(input.Bucket.length + 1));
    return {
      Contents: keys.map((Key) => ({ Key, Size: objects.get(`${input.Bucket}/${Key}`)?.length, StorageClass: "STANDARD" })),
      IsTruncated: false,
      KeyCount: keys.length,
    };
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(`${input.Bucket}/${input.Key}`);
    if (text === undefined) throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
    return { Body: { transformToByteArray: async () => new TextEncoder().encode(text) } } as unknown as GetObjectCommandOutput;
  });
  s3.on(DeleteObjectCommand).callsFake((input) => {
    objects.delete(`${input.Bucket}/${input.Key}`);
    return {};
  });
}

describe("Function: handler (middy, configured from the environment)", () => {
  const env = { ...process.env };
  let addMetric: MockInstance<Metrics["addMetric"]>;
  let info: MockInstance<Logger["info"]>;
  let warn: MockInstance<Logger["warn"]>;

  beforeEach(async () => {
    // A fresh module graph per test (the handler configures itself once): spy on its Powertools instances.
    vi.resetModules();
    const { logger, metrics } = await import("../src/lib/powertools");
    s3.reset();
    firehose.reset();
    objects = new Map([
      [
        `${RAW_BUCKET}/${RAW_KEY}`,
        rawFailureLines([
          {
            recordId: "49656000000000000000000000000000000000000000000000000000000",
            data: keptData,
            reason: "invalid",
            fields: ["json"],
            failedAt: "2026-11-27T10:00:07.250Z",
          },
        ]),
      ],
      [
        `${LAKE_BUCKET}/${ERROR_KEY}`,
        `${JSON.stringify({
          attemptsMade: 4,
          arrivalTimestamp: 1764230405000,
          errorCode: "Lambda.FunctionError",
          errorMessage: "The Lambda function was successfully invoked but it returned an error result.",
          attemptEndingTimestamp: 1764230465000,
          rawData: erroredData,
          lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST",
        })}\n`,
      ],
      [`${LAKE_BUCKET}/usage/year=2026/month=11/day=27/part-0.parquet`, "PAR1"],
    ]);
    serveS3();
    Object.assign(process.env, { RAW_FAILURE_BUCKET: RAW_BUCKET, LAKE_BUCKET, LAKE_REDRIVE_STREAM: STREAM });
    addMetric = vi.spyOn(metrics, "addMetric").mockReturnValue(metrics);
    vi.spyOn(metrics, "publishStoredMetrics").mockReturnValue(metrics);
    info = vi.spyOn(logger, "info").mockImplementation(() => undefined);
    warn = vi.spyOn(logger, "warn").mockImplementation(() => undefined);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    process.env = { ...env };
  });

  afterAll(() => {
    process.env = env;
  });

  it("puts the raw failure bucket's records and Firehose's processing-failed records on the stream, as received, then deletes both objects", async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).callsFake((input) => ({
      FailedPutCount: 0,
      Encrypted: false,
      RequestResponses: (input.Records ?? []).map((_: unknown, index: number) => ({ RecordId: `Rc0${index}Cz9xQdE5mYkz3vK1uJ` })),
    }));
    const { handler } = await import("../src/lake-redrive");

    // Act
    const result = await handler({}, lambdaContext("bedrock-spend-test-lake-redrive"));

    // Assess
    expect(result).toEqual({ batches: 2, redriven: 2, kept: [], reasons: { invalid: 1, "firehose:Lambda.FunctionError": 1 } });
    const puts = firehose.commandCalls(PutRecordBatchCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => put.DeliveryStreamName)).toEqual([STREAM, STREAM]);
    expect(puts.map((put) => (put.Records ?? []).map((record) => Buffer.from(record.Data as Uint8Array).toString("base64")))).toEqual([
      [keptData],
      [erroredData],
    ]);
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: RAW_BUCKET, Key: RAW_KEY },
      { Bucket: LAKE_BUCKET, Key: ERROR_KEY },
    ]);
    expect([...objects.keys()]).toEqual([`${LAKE_BUCKET}/usage/year=2026/month=11/day=27/part-0.parquet`]);
    expect(Object.fromEntries(addMetric.mock.calls.map(([name, _unit, value]) => [name, value]))).toEqual({
      LakeRedriveBatches: 2,
      LakeRedriveRecords: 2,
      LakeRedriveKept: 0,
    });
    expect(info).toHaveBeenCalledWith("lake redrive finished", expect.objectContaining({ batches: 2, redriven: 2 }));
    expect(warn).not.toHaveBeenCalled();
  });

  it("leaves an object the stream did not accept in its bucket, named in the result and a warning", async () => {
    // Prepare: Firehose refuses every record, every time
    firehose.on(PutRecordBatchCommand).callsFake((input) => ({
      FailedPutCount: input.Records?.length,
      Encrypted: false,
      RequestResponses: (input.Records ?? []).map(() => ({ ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." })),
    }));
    objects.delete(`${RAW_BUCKET}/${RAW_KEY}`);
    // No wait between the eight calls: the backoff's jitter (Math.random) is zero.
    vi.spyOn(Math, "random").mockReturnValue(0);
    const { fromEnvironment } = await import("../src/lake-redrive");

    // Act
    const result = await fromEnvironment(process.env)();

    // Assess
    expect(result.kept).toEqual([
      {
        source: `s3://${LAKE_BUCKET}/${LAKE_PROCESSING_FAILED_PREFIX}`,
        batch: ERROR_KEY,
        reason: `1 of 1 records not accepted by ${STREAM} after 8 calls (ServiceUnavailableException)`,
      },
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(8);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(objects.has(`${LAKE_BUCKET}/${ERROR_KEY}`)).toBe(true);
    expect(addMetric).toHaveBeenCalledWith("LakeRedriveKept", "Count", 1);
    expect(warn).toHaveBeenCalledWith("lake redrive finished, some batches kept", expect.objectContaining({ batches: 1, redriven: 0 }));
  });

  it("fails closed on the first invocation without its delivery stream, naming the variable, and touches nothing", async () => {
    // Prepare
    delete process.env.LAKE_REDRIVE_STREAM;
    const { handler } = await import("../src/lake-redrive");

    // Act
    const invocation = handler({}, lambdaContext("bedrock-spend-test-lake-redrive"));

    // Assess
    await expect(invocation).rejects.toThrow("LAKE_REDRIVE_STREAM: environment variable is required");
    expect(s3.calls()).toHaveLength(0);
    expect(firehose.calls()).toHaveLength(0);
  });
});
