import { randomUUID } from "node:crypto";
import { MemoryDeadLetterQueue, type QuarantinedRecord } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { AggregatesStore, createAggregatesTable, UsageWriter } from "@bedrock-spend/store";
import { encodeKinesisData, generateTraffic, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { describe, expect, inject, it } from "vitest";
import { createAggregateHandler } from "../src/aggregate";

/** A Kinesis event as the event source mapping delivers it, carrying subscription payloads. */
function kinesisEvent(payloads: unknown[], firstSequence = 100n): KinesisStreamEvent {
  const records: KinesisStreamRecord[] = payloads.map((payload, index) => {
    const sequenceNumber = String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_800n + firstSequence + BigInt(index));
    return {
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: randomUUID(),
        sequenceNumber,
        data: encodeKinesisData(payload as never),
        approximateArrivalTimestamp: 1_795_000_000.25,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `shardId-000000000003:${sequenceNumber}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/aggregate",
      awsRegion: "us-east-1",
      eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/bedrock-spend",
    };
  });
  return { Records: records };
}

async function setup() {
  const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
  const tableName = `aggregate-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  const deadLetters = new MemoryDeadLetterQueue();
  const handler = createAggregateHandler({ pricer: new Pricer({ catalog: defaultCatalog() }), writer: new UsageWriter({ client, tableName }), deadLetters });
  return { client, tableName, deadLetters, handler, store: new AggregatesStore(client, tableName) };
}

const traffic = (seed: number) => [...generateTraffic({ seed, count: 60, tenants: 3, malformedFraction: 0.1, start: "2026-11-27T10:00:00Z" })];

describe("Handler: aggregate", () => {
  it("counts a Kinesis batch, quarantines malformed lines with their raw content, and reports no failure", async () => {
    // Prepare
    const { handler, deadLetters, store } = await setup();
    const items = traffic(3);
    const event = kinesisEvent([...toSubscriptionPayloads(items, { eventsPerPayload: 7 })]);

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const tenants = new Set(items.flatMap((item) => (item.kind === "record" ? [item.record.requestMetadata?.tenantId ?? "unattributed"] : [])));
    let invocations = 0;
    for (const tenant of tenants) invocations += (await store.monthTotal(tenant, "2026-11"))?.invocations ?? 0;
    expect(invocations).toBe(items.filter((item) => item.kind === "record").length);
    const quarantined = [...deadLetters.messages.values()] as QuarantinedRecord[];
    const malformed = items.filter((item) => item.kind === "malformed");
    expect(quarantined).toHaveLength(malformed.length);
    for (const entry of quarantined) {
      expect(entry.source).toMatch(/^kinesis:shardId-000000000003:\d+:1 event \d+$/);
      expect(malformed.map((item) => (item.kind === "malformed" ? item.line : ""))).toContain(entry.raw);
    }
  });

  it("reports the first record as failed when nothing can be written, and quarantines nothing yet", async () => {
    const { client, deadLetters } = await setup();
    const handler = createAggregateHandler({
      pricer: new Pricer({ catalog: defaultCatalog() }),
      writer: new UsageWriter({ client, tableName: "no-such-table", retry: { maxAttempts: 1 } }),
      deadLetters,
    });
    const event = kinesisEvent([...toSubscriptionPayloads(traffic(4), { eventsPerPayload: 10 })]);
    const response = await handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }]);
    expect(deadLetters.messages.size).toBe(0);
  });

  it("retries from the first record with a bad line when the dead-letter queue is down", async () => {
    const { client, tableName } = await setup();
    const handler = createAggregateHandler({
      pricer: new Pricer({ catalog: defaultCatalog() }),
      writer: new UsageWriter({ client, tableName }),
      deadLetters: {
        send: async () => {
          throw new Error("SQS unavailable");
        },
      },
    });
    const good = [...generateTraffic({ seed: 5, count: 5, malformedFraction: 0, permissionsLine: false })];
    const bad = [...generateTraffic({ seed: 6, count: 40, malformedFraction: 0.5, permissionsLine: false })];
    const event = kinesisEvent([...toSubscriptionPayloads(good, { eventsPerPayload: 5 }), ...toSubscriptionPayloads(bad, { eventsPerPayload: 40 })]);
    const response = await handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]?.kinesis.sequenceNumber }]);
  });
});
