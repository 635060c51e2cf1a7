import { randomUUID } from "node:crypto";
import { MemoryDeadLetterQueue, quarantined } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { AggregatesStore, createAggregatesTable, UsageWriter } from "@bedrock-spend/store";
import { describe, expect, inject, it } from "vitest";
import { redrive } from "../src/redrive";

const record = (requestId: string, inputTokenCount: unknown) =>
  JSON.stringify({
    timestamp: "2026-11-27T10:00:00Z",
    requestId,
    region: "us-east-1",
    modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: { tenantId: "acme" },
    input: { inputTokenCount },
    output: { outputTokenCount: 10 },
  });

async function setup() {
  const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
  const tableName = `redrive-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  const queue = new MemoryDeadLetterQueue();
  const writer = new UsageWriter({ client, tableName });
  return {
    queue,
    writer,
    store: new AggregatesStore(client, tableName),
    deps: { pricer: new Pricer({ catalog: defaultCatalog() }), writer, deadLetters: queue, queue },
  };
}

describe("Function: redrive()", () => {
  it("counts what now reads, keeps what is still invalid with the reason, and counts nothing twice", async () => {
    // Prepare: one record quarantined by an older, stricter parser, one truly bad
    const { queue, store, deps } = await setup();
    await queue.send([
      quarantined({ reason: "input.inputTokenCount: ...", field: "input.inputTokenCount", raw: record("fixed", "120"), source: "kinesis:s:1#0" }),
      quarantined({ reason: "input.inputTokenCount: ...", field: "input.inputTokenCount", raw: record("bad", -5), source: "kinesis:s:2#0" }),
    ]);

    // Act
    const first = await redrive(deps);
    queue.release();
    const second = await redrive(deps);

    // Assess
    expect(first).toMatchObject({ messages: 2, counted: 1, resolved: 1 });
    expect(first.kept).toEqual([{ handle: expect.any(String), reason: "still invalid: input.inputTokenCount at kinesis:s:2#0:1" }]);
    expect(second).toMatchObject({ messages: 1, counted: 0, resolved: 0 });
    expect((await store.monthTotal("acme", "2026-11"))?.invocations).toBe(1);
  });

  it("keeps a record that is still invalid with a reason naming field and position, never the record's content", async () => {
    // Prepare: a prompt on a non-JSON line (its decode reason quotes it) and a cut JSON line (V8's message quotes it)
    const { queue, deps } = await setup();
    const prompt = "Patient Jane Roe: summarize the biopsy results";
    await queue.send([
      quarantined({ reason: "json: ...", field: "json", raw: prompt, source: "kinesis:s:3#0" }),
      quarantined({ reason: "json: ...", field: "json", raw: `"${prompt}`, source: "kinesis:s:4#0" }),
    ]);

    // Act
    const result = await redrive(deps);

    // Assess
    expect(result.kept.map((kept) => kept.reason)).toEqual(["still invalid: json at kinesis:s:3#0:1", "still invalid: json at kinesis:s:4#0:1"]);
    for (const word of ["Patient", "Jane", "Roe", "biopsy", "summarize"]) expect(JSON.stringify(result)).not.toContain(word);
  });

  it("keeps a Kinesis on-failure record when no stream reader is configured, and unknown messages", async () => {
    const { queue, deps } = await setup();
    await queue.sendRaw({ KinesisBatchInfo: { shardId: "shardId-000000000000", startSequenceNumber: "1", endSequenceNumber: "2" } });
    await queue.sendRaw({ hello: "world" });
    const result = await redrive(deps);
    expect(result.kept.map((kept) => kept.reason)).toEqual([
      "on-failure record of a Kinesis batch, but no stream reader is configured",
      "unrecognized dead-letter message (neither a quarantined record nor a Kinesis on-failure record)",
    ]);
    expect(queue.messages.size).toBe(2);
  });
});
