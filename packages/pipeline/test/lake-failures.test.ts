/**
 * The lake's raw failures in the pipeline: `transformKeepingFailures` (the transform of a batch
 * with its failures kept in a raw failure store and answered Dropped) on real-shaped Firehose
 * events of CloudWatch Logs subscription records, and `redriveLakeFailures` over stored batches.
 */
import { MemoryRawFailureStore, type RawLakeFailure } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import { encodeKinesisData, gzipStable } from "@bedrock-spend/traffic";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { controlMessageData, firehoseEvent, trafficPayloads, unreadableData } from "../../../functions/test/helpers/transform-events";
import { type FirehoseSourceRecord, redriveLakeFailures, transformKeepingFailures } from "../src/lake-failures";
import { transformFirehoseRecords } from "../src/transform-batch";

const pricer = new Pricer({ catalog: defaultCatalog() });
const NOW = new Date("2026-11-27T10:00:07.250Z");

const traffic = trafficPayloads({ seed: 16, count: 120, malformedFraction: 0.05, unpricedFraction: 0.05 });
const trafficData = traffic.payloads.map(encodeKinesisData);
const { badBase64: BAD_BASE64, truncatedGzip: TRUNCATED_GZIP, notJson: NOT_JSON } = unreadableData(trafficData[1] as string);
const EVENT_DATA = [trafficData[0] as string, BAD_BASE64, ...trafficData.slice(1), controlMessageData(), TRUNCATED_GZIP, NOT_JSON];

function records(datas: readonly string[]): FirehoseSourceRecord[] {
  return firehoseEvent(datas).records;
}

function sourceOf(record: FirehoseSourceRecord): string {
  return `kinesis:${record.kinesisRecordMetadata?.shardId}:${record.kinesisRecordMetadata?.sequenceNumber}`;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Function: transformKeepingFailures()", () => {
  it("answers as transformFirehoseRecords does, but keeps each failure as received (reason, fields, source) and answers it Dropped", async () => {
    // Prepare
    const input = records(EVENT_DATA);
    const alone = transformFirehoseRecords(input, pricer);
    const store = new MemoryRawFailureStore();

    // Act
    const result = await transformKeepingFailures(input, pricer, store, { batchId: "2b4d1ad9-2f48-94bd-a088-767c317e994a", now: () => NOW });

    // Assess
    const failedIndexes = alone.records.flatMap((output, index) => (output.result === "ProcessingFailed" ? [index] : []));
    expect(failedIndexes).toEqual([1, EVENT_DATA.length - 2, EVENT_DATA.length - 1]);
    expect(result.records).toEqual(
      alone.records.map((output) => (output.result === "ProcessingFailed" ? { recordId: output.recordId, result: "Dropped", data: "" } : output)),
    );
    expect(result.records.filter((output) => output.result === "Ok")).toHaveLength(trafficData.length);
    expect(result.stats).toEqual(alone.stats);
    expect(result.failures).toEqual({ kept: 3, unkept: 0 });
    expect([...store.batches.keys()]).toEqual(["2b4d1ad9-2f48-94bd-a088-767c317e994a"]);
    expect(store.all()).toEqual(
      failedIndexes.map((index, nth) => ({
        recordId: input[index]?.recordId,
        data: input[index]?.data,
        reason: alone.stats.failures[nth]?.reason,
        fields: alone.stats.failures[nth]?.fields,
        failedAt: NOW.toISOString(),
        source: sourceOf(input[index] as FirehoseSourceRecord),
      })),
    );
    expect(store.all().map((failure) => [failure.reason, failure.fields])).toEqual([
      ["base64", ["data"]],
      ["invalid", ["gzip"]],
      ["invalid", ["json"]],
    ]);
  });

  it("keeps the records the response budget left unprocessed, reason oversize (the transform's options are passed on)", async () => {
    // Prepare
    const input = records(trafficData);
    const full = transformFirehoseRecords(input, pricer);
    const maxResponseBytes = Math.floor(full.stats.responseBytes / 2);
    const store = new MemoryRawFailureStore();

    // Act
    const result = await transformKeepingFailures(input, pricer, store, { batchId: "b", now: () => NOW, maxResponseBytes });

    // Assess
    const dropped = result.records.filter((output) => output.result === "Dropped").map((output) => output.recordId);
    expect(dropped.length).toBeGreaterThan(0);
    expect(store.all().map((failure) => [failure.recordId, failure.reason])).toEqual(dropped.map((recordId) => [recordId, "oversize"]));
    expect(result.stats.oversizeFailed).toBe(dropped.length);
  });

  it("leaves the failures ProcessingFailed as received when the store fails, with the store's error", async () => {
    // Prepare
    const input = records(EVENT_DATA);
    const store = new MemoryRawFailureStore();
    const storeError = new Error("AccessDenied: kms:GenerateDataKey");
    store.failWith = storeError;

    // Act
    const result = await transformKeepingFailures(input, pricer, store, { batchId: "b", now: () => NOW });

    // Assess
    expect(result.records).toEqual(transformFirehoseRecords(input, pricer).records);
    expect(result.records.filter((output) => output.result === "ProcessingFailed").map((output) => output.data)).toEqual([
      BAD_BASE64,
      TRUNCATED_GZIP,
      NOT_JSON,
    ]);
    expect(result.failures).toEqual({ kept: 0, unkept: 3, storeError });
    expect(store.batches.size).toBe(0);
  });

  it("keeps every record of a batch the transform throws on, reason transform-error and the error's name, and answers them Dropped", async () => {
    // Prepare: a pricer that breaks, as a defect would
    const broken = new Pricer({ catalog: defaultCatalog() });
    const defect = new TypeError("cannot read properties of undefined (reading 'input')");
    vi.spyOn(broken, "price").mockImplementation(() => {
      throw defect;
    });
    const input = records([controlMessageData(), ...trafficData.slice(0, 3), BAD_BASE64]);
    const store = new MemoryRawFailureStore();

    // Act
    const result = await transformKeepingFailures(input, broken, store, { batchId: "b", now: () => NOW });

    // Assess
    expect(result.records).toEqual(input.map((record) => ({ recordId: record.recordId, result: "Dropped", data: "" })));
    expect(store.all()).toEqual(
      input.map((record) => ({
        recordId: record.recordId,
        data: record.data,
        reason: "transform-error",
        fields: ["TypeError"],
        failedAt: NOW.toISOString(),
        source: sourceOf(record),
      })),
    );
    expect(result.failures).toEqual({ kept: input.length, unkept: 0, transformError: defect });
    expect(result.stats).toMatchObject({ recordsIn: input.length, ok: 0, processingFailed: input.length, usageRows: 0 });
  });

  it("answers every record once in order, leaves none ProcessingFailed and keeps exactly what the transform alone fails, for any mix", async () => {
    const kinds = fc.oneof(
      fc.constantFrom(...trafficData, controlMessageData(), BAD_BASE64, TRUNCATED_GZIP, NOT_JSON),
      fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString("base64")),
      fc.string({ maxLength: 30 }).map((text) => gzipStable(text).toString("base64")),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(kinds, { maxLength: 12 }), async (datas) => {
        // Prepare
        const input = records(datas);
        const alone = transformFirehoseRecords(input, pricer);
        const store = new MemoryRawFailureStore();

        // Act
        const result = await transformKeepingFailures(input, pricer, store, { batchId: "b", now: () => NOW });

        // Assess
        expect(result.records.map((output) => output.recordId)).toEqual(input.map((record) => record.recordId));
        expect(result.records.some((output) => output.result === "ProcessingFailed")).toBe(false);
        const failed = alone.records.filter((output) => output.result === "ProcessingFailed");
        expect(store.all().map((failure) => [failure.recordId, failure.data])).toEqual(failed.map((output) => [output.recordId, output.data]));
        expect(result.failures).toEqual({ kept: failed.length, unkept: 0 });
        result.records.forEach((output, index) => {
          if (output.result === "Ok") expect(output).toEqual(alone.records[index]);
        });
      }),
      { numRuns: 60 },
    );
  });
});

/** A target that records what it was sent and, at that moment, the batches still in the sources; it refuses records named "poison". */
function recordingTarget(sources: MemoryRawFailureStore[]) {
  const sends: { recordIds: string[]; stored: string[] }[] = [];
  return {
    sends,
    async send(failures: readonly RawLakeFailure[]): Promise<void> {
      sends.push({ recordIds: failures.map((failure) => failure.recordId), stored: sources.flatMap((source) => [...source.batches.keys()]) });
      if (failures.some((failure) => failure.recordId === "poison"))
        throw new Error("1 of 1 records not accepted by lake-redrive after 8 calls (ServiceUnavailableException)");
    },
  };
}

function failure(recordId: string, reason: RawLakeFailure["reason"]): RawLakeFailure {
  return { recordId, data: NOT_JSON, reason, fields: [], failedAt: NOW.toISOString() };
}

describe("Function: redriveLakeFailures()", () => {
  it("sends every batch of every source and removes each only after the target accepted it, counting the records by reason", async () => {
    // Prepare
    const kept = new MemoryRawFailureStore();
    const firehoseErrors = new MemoryRawFailureStore();
    kept.batches.set("a", [failure("a-1", "invalid"), failure("a-2", "base64")]);
    kept.batches.set("b", [failure("b-1", "invalid")]);
    kept.batches.set("empty", []);
    firehoseErrors.batches.set("errors/x", [failure("line-1", "firehose:Lambda.FunctionError")]);
    const target = recordingTarget([kept, firehoseErrors]);

    // Act
    const result = await redriveLakeFailures([kept, firehoseErrors], target);

    // Assess
    expect(result).toEqual({ batches: 4, redriven: 4, kept: [], reasons: { invalid: 2, base64: 1, "firehose:Lambda.FunctionError": 1 } });
    expect(target.sends).toEqual([
      { recordIds: ["a-1", "a-2"], stored: ["a", "b", "empty", "errors/x"] },
      { recordIds: ["b-1"], stored: ["b", "empty", "errors/x"] },
      { recordIds: ["line-1"], stored: ["errors/x"] },
    ]);
    expect(kept.batches.size + firehoseErrors.batches.size).toBe(0);
  });

  it("keeps a batch it cannot read or send, with its source and reason, and goes on with the others", async () => {
    // Prepare
    const kept = new MemoryRawFailureStore();
    kept.batches.set("unreadable", [failure("u-1", "invalid")]);
    kept.batches.set("refused", [failure("ok-before", "invalid"), failure("poison", "oversize")]);
    kept.batches.set("fine", [failure("f-1", "unencodable")]);
    const unreadable = new Error("s3://raw/unreadable: line 1 is not JSON: Unexpected token");
    vi.spyOn(kept, "read").mockImplementation(async (batch) => {
      if (batch === "unreadable") throw unreadable;
      return kept.batches.get(batch) as RawLakeFailure[];
    });
    const firehoseErrors = new MemoryRawFailureStore();
    firehoseErrors.batches.set("errors/y", [failure("line-1", "firehose:Lambda.FunctionTimeout")]);
    const target = recordingTarget([kept, firehoseErrors]);

    // Act
    const result = await redriveLakeFailures([kept, firehoseErrors], target);

    // Assess
    expect(result.kept).toEqual([
      { source: "memory", batch: "unreadable", reason: unreadable.message },
      { source: "memory", batch: "refused", reason: "1 of 1 records not accepted by lake-redrive after 8 calls (ServiceUnavailableException)" },
    ]);
    expect(result).toMatchObject({ batches: 4, redriven: 2, reasons: { unencodable: 1, "firehose:Lambda.FunctionTimeout": 1 } });
    expect([...kept.batches.keys()]).toEqual(["unreadable", "refused"]);
    expect(firehoseErrors.batches.size).toBe(0);
    expect(target.sends.map((send) => send.recordIds)).toEqual([["ok-before", "poison"], ["f-1"], ["line-1"]]);
  });
});
