/**
 * SqsDeadLetterQueue against SQS's byte limits, with large non-ASCII records: the inputs the adapter
 * gives SendMessageBatch are checked against the documented limits, and the mock answers as SQS
 * does (the response shape of a successful batch; `BatchRequestTooLong` and
 * `TooManyEntriesInBatchRequest` for a batch over its limits).
 */
import { createHash } from "node:crypto";
import {
  BatchRequestTooLong,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  SQSClient,
  TooManyEntriesInBatchRequest,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DeadLetterError, type QuarantinedRecord, quarantined } from "../src/dead-letter";
import { SqsDeadLetterQueue, type SqsQuarantinedBody } from "../src/sqs-dead-letter";

/** SendMessageBatch: 1 MiB for the sum of the messages, 10 entries (SQS API Reference). */
const BATCH_LIMIT_BYTES = 1_048_576;
/** The smallest MaximumMessageSize default a queue may have (262,144 before SQS raised it to 1 MiB). */
const MESSAGE_LIMIT_BYTES = 262_144;

/** A message's size as SQS counts it: body, and each attribute's name, type and value. */
function messageBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? "", "utf8");
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8") + Buffer.byteLength(value.StringValue ?? "", "utf8");
  }
  return bytes;
}

/** Answers a SendMessageBatch as SQS does: refuses a batch over its limits, else reports every entry stored. */
function sqsAnswer(input: SendMessageBatchCommandInput): SendMessageBatchCommandOutput {
  const entries = input.Entries ?? [];
  if (entries.length > 10)
    throw new TooManyEntriesInBatchRequest({ message: `Maximum number of entries per request are 10. You have sent ${entries.length}.`, $metadata: {} });
  const total = entries.reduce((sum, entry) => sum + messageBytes(entry), 0);
  if (total > BATCH_LIMIT_BYTES) {
    throw new BatchRequestTooLong({ message: `Batch requests cannot be longer than ${BATCH_LIMIT_BYTES} bytes. You have sent ${total} bytes.`, $metadata: {} });
  }
  return {
    Successful: entries.map((entry, index) => ({
      Id: entry.Id ?? "",
      MessageId: `0e4f7b1a-6d1c-4f0b-9a57-2c1d8e3f4a${String(index).padStart(2, "0")}`,
      MD5OfMessageBody: createHash("md5")
        .update(entry.MessageBody ?? "")
        .digest("hex"),
    })),
    Failed: [],
    $metadata: { httpStatusCode: 200 },
  };
}

/** A bad invocation log record of `characters` CJK characters (3 bytes each) in a prompt, quotes and all. */
function largeRecord(index: number, characters: number): QuarantinedRecord {
  const prompt = `第${index}号"${"预算超支警报".repeat(Math.ceil(characters / 6)).slice(0, characters)}"`;
  const raw = JSON.stringify({ requestId: `req-${index}`, input: { inputBodyJson: { prompt }, inputTokenCount: -1 } });
  return quarantined(
    { reason: "input.inputTokenCount: must be a non-negative integer, got -1", field: "input.inputTokenCount", raw, source: `kinesis:shard-1:${index}#0` },
    new Date("2026-11-27T10:00:00Z"),
  );
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

describe("Class: SqsDeadLetterQueue within SQS's byte limits", () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake(sqsAnswer);
  });

  it("sends ten records of 200 KB escaped in batches that stay within 1 MiB, whole", async () => {
    // Prepare: ten bodies of about 198 KB each, about 2 MB together
    const records = Array.from({ length: 10 }, (_, i) => largeRecord(i, 66_000));
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "q");

    // Act
    await queue.send(records);

    // Assess
    const inputs = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.Entries?.length)).toEqual([5, 5]);
    const bodies = inputs.flatMap((input) => input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? "") as SqsQuarantinedBody);
    expect(bodies).toEqual(records);
  });

  it("keeps every batch within 10 entries and 1 MiB, and every message within 256 KiB, for 30 large non-ASCII records", async () => {
    // Prepare: 30 to 450 KB each, in an order that mixes small and large
    const sizes = Array.from({ length: 30 }, (_, i) => 10_000 + ((i * 37) % 30) * 5_000);
    const records = sizes.map((characters, i) => largeRecord(i, characters));
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "https://sqs.us-east-1.amazonaws.com/123456789012/dlq");

    // Act
    await queue.send(records);

    // Assess: the limits
    const inputs = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    for (const input of inputs) {
      const entries = input.Entries ?? [];
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(entries.reduce((sum, entry) => sum + messageBytes(entry), 0)).toBeLessThanOrEqual(BATCH_LIMIT_BYTES);
      for (const entry of entries) expect(messageBytes(entry)).toBeLessThanOrEqual(MESSAGE_LIMIT_BYTES);
    }
    // Assess: each record sent once, in order; whole, or clipped to a valid prefix with its original size
    const bodies = inputs.flatMap((input) => input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? "") as SqsQuarantinedBody);
    expect(bodies.map((body) => body.id)).toEqual(records.map((record) => record.id));
    let clipped = 0;
    bodies.forEach((body, i) => {
      const record = records[i] as QuarantinedRecord;
      if (body.rawClipped === undefined) {
        expect(body).toEqual(record);
        return;
      }
      clipped++;
      const { raw, rawClipped, ...rest } = body;
      const { raw: original, ...fields } = record;
      expect(rest).toEqual(fields);
      expect(original.startsWith(raw)).toBe(true);
      expect(fatalUtf8.decode(Buffer.from(raw, "utf8"))).toBe(raw);
      expect(rawClipped).toEqual({ keptBytes: Buffer.byteLength(raw, "utf8"), originalBytes: Buffer.byteLength(original, "utf8") });
    });
    expect(clipped).toBeGreaterThan(5);
    // Clipped no more than needed: a clipped message is full to within one code point and its escape
    for (const entry of inputs.flatMap((input) => input.Entries ?? [])) {
      if ((JSON.parse(entry.MessageBody ?? "") as SqsQuarantinedBody).rawClipped) expect(messageBytes(entry)).toBeGreaterThan(MESSAGE_LIMIT_BYTES - 8);
    }
  });

  it("sends a large record whole to a queue configured for 1 MiB messages, alone in its batch", async () => {
    // Prepare: 1,047,000 bytes of prompt fit a 1 MiB message, with no room for the 6 KB of a neighbour
    const records = [largeRecord(0, 2_000), largeRecord(1, 349_000), largeRecord(2, 2_000)];
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "q", { maxMessageBytes: 1_048_576 });

    // Act
    await queue.send(records);

    // Assess
    const inputs = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.Entries?.map((entry) => entry.Id))).toEqual([["0"], ["1"], ["2"]]);
    expect(JSON.parse(inputs[1]?.Entries?.[0]?.MessageBody ?? "")).toEqual(records[1]);
  });

  it("names a record that cannot fit even without its raw content, after sending the others", async () => {
    // Prepare: a queue of 2 KiB messages and a reason of 3,000 characters
    const fits = largeRecord(0, 100);
    const tooLarge = quarantined(
      { reason: `record: ${"x".repeat(3_000)}`, field: "record", raw: "{}", source: "kinesis:shard-1:1#0" },
      new Date("2026-11-27T10:00:00Z"),
    );
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "q", { maxMessageBytes: 2_048 });

    // Act
    const error = await queue.send([fits, tooLarge]).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as DeadLetterError).failedIds).toEqual([tooLarge.id]);
    const entries = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(entries.map((entry) => JSON.parse(entry.MessageBody ?? "").id)).toEqual([fits.id]);
  });
});
