import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DeadLetterError, quarantined } from "../src/dead-letter";
import { FileDeadLetterQueue } from "../src/file-dead-letter";
import { SqsDeadLetterQueue } from "../src/sqs-dead-letter";

const record = (raw: string) =>
  quarantined(
    { reason: "input.inputTokenCount: must be a non-negative integer, got -1", field: "input.inputTokenCount", raw, source: "kinesis:shard-1:42#0" },
    new Date("2026-11-27T10:00:00Z"),
  );

describe("Function: quarantined()", () => {
  it("gives the same raw content the same id, and different content different ids", () => {
    expect(record("a").id).toBe(record("a").id);
    expect(record("a").id).not.toBe(record("b").id);
    expect(record("a")).toMatchObject({ quarantinedAt: "2026-11-27T10:00:00.000Z", field: "input.inputTokenCount" });
  });
});

describe("Class: SqsDeadLetterQueue (contract with SQS)", () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());

  it("sends records in batches of 10 with the record as the body", async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "https://sqs.us-east-1.amazonaws.com/123456789012/dlq");
    const records = Array.from({ length: 23 }, (_, i) => record(`raw-${i}`));

    // Act
    await queue.send(records);

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const first = calls[0]?.args[0].input;
    expect(first?.QueueUrl).toBe("https://sqs.us-east-1.amazonaws.com/123456789012/dlq");
    expect(JSON.parse(first?.Entries?.[0]?.MessageBody ?? "{}")).toEqual(records[0]);
    expect(first?.Entries?.[0]?.MessageAttributes?.field?.StringValue).toBe("input.inputTokenCount");
  });

  it("retries failed entries once and then throws naming the records that were not stored", async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: "1", Code: "InternalError", SenderFault: false },
          { Id: "2", Code: "InternalError", SenderFault: false },
        ],
      })
      .resolvesOnce({ Failed: [{ Id: "2", Code: "InternalError", SenderFault: false }] });
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "q");
    const records = [record("x"), record("y"), record("z")];
    const error = await queue.send(records).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as DeadLetterError).failedIds).toEqual([records[2]?.id]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.map((entry) => entry.Id)).toEqual(["1", "2"]);
  });

  it("receives messages as parsed bodies and deletes by receipt handle", async () => {
    sqs.on(ReceiveMessageCommand).resolves({
      Messages: [
        { ReceiptHandle: "h1", Body: JSON.stringify(record("x")) },
        { ReceiptHandle: "h2", Body: "not json" },
      ],
    });
    sqs.on(DeleteMessageBatchCommand).resolves({ Failed: [] });
    const queue = new SqsDeadLetterQueue(new SQSClient({}), "q");
    const messages = await queue.receive(10);
    expect(messages).toEqual([
      { handle: "h1", body: record("x") },
      { handle: "h2", body: "not json" },
    ]);
    await queue.delete(["h1"]);
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([{ Id: "0", ReceiptHandle: "h1" }]);
  });
});

describe("Class: FileDeadLetterQueue", () => {
  it("appends one JSON line per record to a file per day, once per content id", async () => {
    // Prepare
    const directory = mkdtempSync(join(tmpdir(), "quarantine-"));
    const queue = new FileDeadLetterQueue(directory);

    // Act
    await queue.send([record("a"), record("b")]);
    await queue.send([record("a")]);
    await new FileDeadLetterQueue(directory).send([record("b"), record("c")]);

    // Assess
    const lines = readFileSync(join(directory, "2026-11-27.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).raw)).toEqual(["a", "b", "c"]);
  });

  it("keeps a record once when batches with the same record are sent at the same time", async () => {
    // Prepare: as the local aggregate mapping sends, one batch per shard in parallel
    const directory = mkdtempSync(join(tmpdir(), "quarantine-"));
    const queue = new FileDeadLetterQueue(directory);

    // Act
    await Promise.all([queue.send([record("a"), record("b")]), queue.send([record("b"), record("a")]), queue.send([record("c"), record("a")])]);

    // Assess
    const lines = readFileSync(join(directory, "2026-11-27.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).raw).sort()).toEqual(["a", "b", "c"]);
  });

  it("hands each message out once, and moves deleted ones to redriven/", async () => {
    const directory = mkdtempSync(join(tmpdir(), "quarantine-"));
    const queue = new FileDeadLetterQueue(directory);
    await queue.send([record("a"), record("b")]);
    const first = await queue.receive(1);
    const second = await queue.receive(10);
    expect(first.map((message) => (message.body as { raw: string }).raw)).toEqual(["a"]);
    expect(second.map((message) => (message.body as { raw: string }).raw)).toEqual(["b"]);
    await queue.delete([first[0]?.handle as string]);
    expect((await queue.list()).map((item) => item.raw)).toEqual(["b"]);
    expect(readFileSync(join(directory, "redriven", "redriven.jsonl"), "utf8")).toContain('"raw":"a"');
  });
});
