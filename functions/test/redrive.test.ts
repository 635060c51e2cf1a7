/**
 * The redrive Lambda's log: a record still invalid after a redrive is named by field and position,
 * never by its content (its reason may quote a prompt: a non-JSON line, V8's JSON.parse context).
 */
import { randomUUID } from "node:crypto";
import { MemoryDeadLetterQueue, quarantined } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { createAggregatesTable, UsageWriter } from "@bedrock-spend/store";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { logger, metrics } from "../src/lib/powertools";
import { createRedriveHandler } from "../src/redrive";

describe("Handler: redrive", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("logs a record that is still invalid by field and position, with nothing of its content", async () => {
    // Prepare
    const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
    const tableName = `redrive-${randomUUID()}`;
    await createAggregatesTable(client, tableName);
    const queue = new MemoryDeadLetterQueue();
    const prompt = "Patient Jane Roe: summarize the biopsy results";
    await queue.send([
      quarantined({ reason: "json: ...", field: "json", raw: prompt, source: "kinesis:s:1#0" }),
      quarantined({ reason: "json: ...", field: "json", raw: `-${prompt}`, source: "kinesis:s:2#0" }),
    ]);
    const info = vi.spyOn(logger, "info").mockImplementation(() => undefined);
    vi.spyOn(metrics, "addMetric").mockReturnValue(metrics);
    vi.spyOn(metrics, "publishStoredMetrics").mockReturnValue(metrics);
    const handler = createRedriveHandler({
      pricer: new Pricer({ catalog: defaultCatalog() }),
      writer: new UsageWriter({ client, tableName }),
      deadLetters: queue,
      queue,
    });

    // Act
    await handler();

    // Assess
    const logged = JSON.stringify(info.mock.calls);
    expect(logged).toContain("still invalid: json at kinesis:s:1#0:1");
    for (const word of ["Patient", "Jane", "Roe", "biopsy", "summarize"]) expect(logged).not.toContain(word);
  });
});
