/**
 * The local pipeline end to end on kinesalite and DynamoDB Local, with the real handlers: the
 * Kinesis mapping feeds the aggregate handler, the local Firehose feeds the transform handler, the
 * table stream feeds the budget-alert handler. The lake rows and the aggregates must agree with
 * each other and with the ground truth, to the token and the pico-dollar.
 */
import { randomUUID } from "node:crypto";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { MemoryAlertPublisher, MemoryDeadLetterQueue, MemoryRawFailureStore, type QuarantinedRecord } from "@bedrock-spend/adapters";
import { defaultCatalog, fixedClock, Pricer, parseInvocationLog, parseUsd, type UsageRecord } from "@bedrock-spend/core";
import {
  DynamoDbStreamReader,
  type Kinesalite,
  localDynamoDbClient,
  localDynamoDbStreamsClient,
  localKinesisClient,
  startKinesalite,
} from "@bedrock-spend/emulators";
import { createAggregateHandler } from "@bedrock-spend/functions/aggregate";
import { createBudgetAlertHandler } from "@bedrock-spend/functions/budget-alert";
import { createTransformHandler } from "@bedrock-spend/functions/transform";
import { AggregatesStore, createAggregatesTable, UsageWriter } from "@bedrock-spend/store";
import { generateTraffic, gzipStable, tenantAt, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DynamoDbStreamEventSourceMapping, KinesisEventSourceMapping } from "../src/event-source-mappings";
import { LocalFirehose } from "../src/firehose";
import { KinesisConsumer } from "../src/kinesis-consumer";
import { ensureStream } from "../src/kinesis-put";

let kinesalite: Kinesalite;
beforeAll(async () => {
  kinesalite = await startKinesalite();
});
afterAll(async () => {
  await kinesalite.stop();
});

describe("Local pipeline with the real handlers", () => {
  it("counts, lakes and alerts the same traffic consistently", async () => {
    // Prepare: a stream with traffic, a table, the three mappings
    const kinesis = localKinesisClient(kinesalite.endpoint);
    const streamName = `invocations-${randomUUID()}`;
    // Created and ACTIVE (kinesalite activates a stream asynchronously: a put before that is refused).
    await ensureStream(kinesis, streamName, 2);
    const items = [...generateTraffic({ seed: 11, count: 400, tenants: 8, malformedFraction: 0.02, start: "2026-11-27T10:00:00Z", ratePerSecond: 5 })];
    const payloads = [...toSubscriptionPayloads(items, { eventsPerPayload: 20 })];
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: payloads.map((payload) => ({ Data: gzipStable(JSON.stringify(payload)), PartitionKey: randomUUID() })),
      }),
    );
    const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
    const tableName = `local-${randomUUID()}`;
    await createAggregatesTable(client, tableName);
    const store = new AggregatesStore(client, tableName);
    const pricer = new Pricer({ catalog: defaultCatalog() });
    const deadLetters = new MemoryDeadLetterQueue();
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`;
    const aggregate = new KinesisEventSourceMapping(
      new KinesisConsumer(kinesis, streamName),
      createAggregateHandler({ pricer, writer: new UsageWriter({ client, tableName }), deadLetters }),
      { streamArn, batchSize: 7, onFailure: (info) => deadLetters.sendRaw({ KinesisBatchInfo: info }) },
    );
    const lake: UsageRecord[] = [];
    const firehose = new LocalFirehose(new KinesisConsumer(kinesis, streamName), createTransformHandler({ pricer, failures: new MemoryRawFailureStore() }), {
      deliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/local",
      sourceStreamArn: streamArn,
      bufferRecords: 6,
      deliver: async (rows) => {
        lake.push(...rows);
      },
      fail: async () => {},
    });
    // The biggest tenant of the traffic, with a budget its spend exceeds
    const tenant = tenantAt(0, 8).tenantId;
    await store.putBudget(tenant, { monthlyUsd: "0.01", thresholds: [50, 100] });
    const publisher = new MemoryAlertPublisher();
    const alerts = new DynamoDbStreamEventSourceMapping(
      new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName }),
      // Evaluated as of the day after November: the month is closed, so its alerts are its thresholds.
      createBudgetAlertHandler({ store, publisher, defaultBudget: null, now: fixedClock("2026-12-02T00:00:00Z") }),
    );

    // Act
    const round = await aggregate.runOnce();
    await firehose.runOnce(true);
    for (let i = 0; i < 3; i++) await alerts.runOnce();
    await alerts.runOnce();

    // Assess: the ground truth
    const truth = new Map<string, { invocations: number; tokens: number; costPico: bigint }>();
    let malformed = 0;
    for (const item of items) {
      if (item.kind === "malformed") malformed++;
      if (item.kind !== "record") continue;
      const parsed = parseInvocationLog(item.record);
      if (!parsed.ok) throw new Error(parsed.reason);
      const priced = pricer.price(parsed.log);
      const entry = truth.get(priced.record.tenant_id) ?? { invocations: 0, tokens: 0, costPico: 0n };
      entry.invocations++;
      entry.tokens += priced.record.input_tokens + priced.record.output_tokens + priced.record.cache_read_tokens + priced.record.cache_write_tokens;
      entry.costPico += priced.costPico ?? 0n;
      truth.set(priced.record.tenant_id, entry);
    }
    expect(round).toMatchObject({ records: payloads.length, failedBatches: 0 });
    expect(lake).toHaveLength([...truth.values()].reduce((sum, entry) => sum + entry.invocations, 0));
    for (const [tenantId, expected] of truth) {
      const month = await store.monthTotal(tenantId, "2026-11");
      expect(month?.invocations, tenantId).toBe(expected.invocations);
      expect(month?.costPico, tenantId).toBe(expected.costPico);
      const rows = lake.filter((row) => row.tenant_id === tenantId);
      const lakeCost = rows.reduce((sum, row) => sum + (parseUsd(row.cost_usd ?? "0") ?? 0n), 0n);
      expect(lakeCost, tenantId).toBe(expected.costPico);
      expect(rows.every((row) => row.year === "2026" && row.month === "11" && row.day === "27")).toBe(true);
    }
    expect(([...deadLetters.messages.values()] as QuarantinedRecord[]).filter((message) => typeof message.raw === "string")).toHaveLength(malformed);
    expect(publisher.alerts.filter((alert) => alert.tenantId === tenant).map((alert) => `${alert.month}:${alert.kind}:${alert.threshold}`)).toEqual([
      "2026-11:threshold:50",
      "2026-11:threshold:100",
    ]);
  });
});
