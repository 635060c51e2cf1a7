/**
 * The lake's raw failures as stored: the JSON Lines format (`rawFailureLines`, `parseRawFailures`),
 * the S3 store and its batches against the in-memory S3 of fake-lake.ts (paginated listing), and
 * Firehose's own processing-failed output read as raw failures (`S3FirehoseErrorBatches`).
 */
import { gzipSync } from "node:zlib";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import {
  firehoseErrorFailures,
  parseRawFailures,
  type RawLakeFailure,
  rawFailureLines,
  S3FirehoseErrorBatches,
  S3RawFailureBatches,
  S3RawFailureStore,
} from "../src/raw-failures";
import { FakeS3 } from "./helpers/fake-lake";

const RAW = "bedrock-spend-test-rawfailures";
const LAKE = "bedrock-spend-test-lakebucket";
const ERRORS = "errors/processing-failed/";
const LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:transform:$LATEST";

/** Base64 of a gzipped CloudWatch Logs subscription payload, as a record of the stream holds it. */
function payloadData(requestId: string): string {
  const message = JSON.stringify({ requestId, modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0", input: { inputBodyJson: { messages: ["hi"] } } });
  const payload = {
    messageType: "DATA_MESSAGE",
    owner: "123456789012",
    logGroup: "/bedrock/invocations",
    logStream: "aws/bedrock/modelinvocations",
    logEvents: [{ id: "1", timestamp: 1764230400000, message }],
  };
  return gzipSync(JSON.stringify(payload)).toString("base64");
}

function failure(recordId: string, fields: Partial<RawLakeFailure> = {}): RawLakeFailure {
  return {
    recordId,
    data: payloadData(recordId),
    reason: "invalid",
    fields: ["json"],
    failedAt: "2026-11-27T10:00:06.000Z",
    source: `kinesis:shardId-000000000001:${recordId}`,
    ...fields,
  };
}

/** One line of Firehose's processing-failed output, as Firehose writes it. */
function firehoseLine(data: string, attemptEndingTimestamp: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    attemptsMade: 4,
    arrivalTimestamp: 1764230405000,
    errorCode: "Lambda.FunctionError",
    errorMessage: "The Lambda function was successfully invoked but it returned an error result.",
    attemptEndingTimestamp,
    rawData: data,
    lambdaArn: LAMBDA_ARN,
    ...extra,
  });
}

let s3: FakeS3;

beforeEach(() => {
  s3 = new FakeS3();
});

describe("Class: S3RawFailureStore and S3RawFailureBatches", () => {
  it("writes one object per batch at <prefix>YYYY/MM/DD/<batchId>.jsonl, one JSON line per failure", async () => {
    // Prepare
    const store = new S3RawFailureStore({ s3: s3.client, bucket: RAW, prefix: "kept/" });
    const failures = [failure("r-1"), failure("r-2", { reason: "base64", fields: ["data"] })];

    // Act
    await store.keep("2b4d1ad9-2f48-94bd-a088-767c317e994a", failures);
    await store.keep("empty-batch", []);

    // Assess
    expect(s3.keys(RAW)).toEqual(["kept/2026/11/27/2b4d1ad9-2f48-94bd-a088-767c317e994a.jsonl"]);
    const text = (s3.objects.get(`${RAW}/kept/2026/11/27/2b4d1ad9-2f48-94bd-a088-767c317e994a.jsonl`) as Buffer).toString("utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(
      text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual(failures);
  });

  it("refuses a batch id that could leave its day's folder, before writing anything", async () => {
    // Prepare
    const store = new S3RawFailureStore({ s3: s3.client, bucket: RAW, prefix: "" });

    // Act
    const refused = await Promise.all(["../2026/evil", "a/b", "..\\x", ""].map((id) => store.keep(id, [failure("r-1")]).catch((error: unknown) => error)));

    // Assess
    for (const error of refused) expect(error).toBeInstanceOf(RangeError);
    expect((refused[0] as Error).message).toContain('got "../2026/evil"');
    expect(s3.objects.size).toBe(0);
  });

  it("round-trips through the batches: lists every object across pages, oldest day first, reads and removes them", async () => {
    // Prepare: five batches over three days (pages of two), and a folder marker the listing skips
    const store = new S3RawFailureStore({ s3: s3.client, bucket: RAW, prefix: "" });
    const days = ["2026-11-29", "2026-11-27", "2026-11-28", "2026-11-27", "2026-11-29"];
    const kept = days.map((day, index) => [failure(`r-${index}`, { failedAt: `${day}T23:59:59.999Z` })]);
    for (const [index, batch] of kept.entries()) await store.keep(`batch-${index}`, batch);
    s3.objects.set(`${RAW}/2026/11/30/`, Buffer.alloc(0));
    const batches = new S3RawFailureBatches({ s3: s3.client, bucket: RAW, prefix: "" });

    // Act
    const listed = await batches.list();
    const read = await Promise.all(listed.map((key) => batches.read(key)));
    for (const key of listed) await batches.remove(key);

    // Assess
    expect(listed).toEqual([
      "2026/11/27/batch-1.jsonl",
      "2026/11/27/batch-3.jsonl",
      "2026/11/28/batch-2.jsonl",
      "2026/11/29/batch-0.jsonl",
      "2026/11/29/batch-4.jsonl",
    ]);
    expect(s3.mock.commandCalls(ListObjectsV2Command).length).toBe(3);
    expect(read).toEqual([kept[1], kept[3], kept[2], kept[0], kept[4]]);
    expect(batches.name).toBe(`s3://${RAW}/`);
    expect(s3.keys(RAW)).toEqual(["2026/11/30/"]);
  });

  it("names the object and line of a stored batch that is not raw failures", async () => {
    // Prepare
    s3.objects.set(`${RAW}/2026/11/27/b.jsonl`, Buffer.from(`${rawFailureLines([failure("r-1")])}{"recordId":"r-2","data":"AA=="}\n`));
    const batches = new S3RawFailureBatches({ s3: s3.client, bucket: RAW, prefix: "" });

    // Act
    const error = await batches.read("2026/11/27/b.jsonl").catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toBe(`s3://${RAW}/2026/11/27/b.jsonl: line 2 is not a raw failure (recordId, data and reason are required)`);
  });
});

describe("Class: S3FirehoseErrorBatches", () => {
  it("reads Firehose's processing-failed object into raw failures: the data as received, the error code, when the last attempt ended", async () => {
    // Prepare
    const datas = [payloadData("req-a"), payloadData("req-b")];
    const ended = [1764230465000, 1764230470123];
    const key = `${ERRORS}2026/11/27/bedrock-spend-test-lake-1-2026-11-27-10-01-05-0b1f3c8e-6a52-4d0e-9d7f-2f4f1f6d9a10`;
    const text = `${firehoseLine(datas[0] as string, ended[0] as number)}\n${firehoseLine(datas[1] as string, ended[1] as number, { errorCode: "Lambda.FunctionTimeout", shardId: "shardId-000000000002", sequenceNumber: "4965600" })}\n`;
    s3.objects.set(`${LAKE}/${key}`, Buffer.from(text));
    const batches = new S3FirehoseErrorBatches({ s3: s3.client, bucket: LAKE, prefix: ERRORS }, () => new Date("2026-12-01T00:00:00Z"));

    // Act
    const listed = await batches.list();
    const failures = await batches.read(key);

    // Assess
    expect(listed).toEqual([key]);
    expect(failures).toEqual([
      { recordId: "line-1", data: datas[0], reason: "firehose:Lambda.FunctionError", fields: [], failedAt: new Date(ended[0] as number).toISOString() },
      {
        recordId: "line-2",
        data: datas[1],
        reason: "firehose:Lambda.FunctionTimeout",
        fields: [],
        failedAt: new Date(ended[1] as number).toISOString(),
        source: "kinesis:shardId-000000000002:4965600",
      },
    ]);
  });

  it("refuses an object with a line that is not a Firehose error record, naming it, and leaves the object in place", async () => {
    // Prepare
    const key = `${ERRORS}2026/11/27/part`;
    const lines = [firehoseLine(payloadData("a"), 1764230465000), '{"errorCode":"Lambda.FunctionError"}', "not json", ""];
    s3.objects.set(`${LAKE}/${key}`, Buffer.from(lines.join("\n")));
    const batches = new S3FirehoseErrorBatches({ s3: s3.client, bucket: LAKE, prefix: ERRORS });

    // Act
    const error = await batches.read(key).catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toBe(`s3://${LAKE}/${key}: line 2, 3 is not a Firehose error record with rawData`);
    expect(s3.keys(LAKE)).toEqual([key]);
  });

  it("falls back to the reading time and an unknown code when Firehose's line lacks them", () => {
    // Act
    const { failures, unreadable } = firehoseErrorFailures(`${JSON.stringify({ rawData: "AA==", recordId: "rec-7" })}\n[1]\n`, "2026-12-01T00:00:00.000Z");

    // Assess
    expect(failures).toEqual([{ recordId: "rec-7", data: "AA==", reason: "firehose:unknown", fields: [], failedAt: "2026-12-01T00:00:00.000Z" }]);
    expect(unreadable).toEqual([2]);
  });

  it("keeps a record whose attemptEndingTimestamp is out of the Date range, with the reading time", () => {
    // Act
    const { failures, unreadable } = firehoseErrorFailures(
      `${JSON.stringify({ rawData: "AA==", errorCode: "X", attemptEndingTimestamp: 1e20 })}\n`,
      "2026-12-01T00:00:00.000Z",
    );

    // Assess
    expect(unreadable).toEqual([]);
    expect(failures).toEqual([expect.objectContaining({ data: "AA==", reason: "firehose:X", failedAt: "2026-12-01T00:00:00.000Z" })]);
  });
});

describe("Function: parseRawFailures()", () => {
  it("names the place and the line of a line that is not JSON or not a raw failure", () => {
    // Prepare
    const good = rawFailureLines([failure("r-1")]);

    // Act
    const notJson = () => parseRawFailures(`${good}\n{"recordId":`, "lake-errors/b.jsonl");
    const notFailure = () => parseRawFailures(`${good}null\n`, "lake-errors/c.jsonl");

    // Assess
    expect(notJson).toThrow(/^lake-errors\/b\.jsonl: line 3 is not JSON: /);
    expect(notFailure).toThrow("lake-errors/c.jsonl: line 2 is not a raw failure (recordId, data and reason are required)");
  });

  it("gives the optional fields their defaults on a line that lacks them", () => {
    // Act
    const parsed = parseRawFailures('{"recordId":"r","data":"AA==","reason":"oversize"}', "x");

    // Assess
    expect(parsed).toEqual([{ recordId: "r", data: "AA==", reason: "oversize", fields: [], failedAt: "" }]);
  });

  it("is the inverse of rawFailureLines for any failures (unicode ids and fields, base64 data)", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    const arbitraryFailure: fc.Arbitrary<RawLakeFailure> = fc.record(
      {
        recordId: text,
        data: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("base64")),
        reason: fc.oneof(
          fc.constantFrom("base64", "invalid", "unencodable", "oversize", "transform-error" as const),
          text.map((code) => `firehose:${code}` as const),
        ),
        fields: fc.array(text, { maxLength: 4 }),
        failedAt: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        source: text,
      },
      { requiredKeys: ["recordId", "data", "reason", "fields", "failedAt"] },
    );
    fc.assert(
      fc.property(fc.array(arbitraryFailure, { maxLength: 8 }), (failures) => {
        expect(parseRawFailures(rawFailureLines(failures), "property")).toEqual(failures);
      }),
      { numRuns: 200 },
    );
  });
});
