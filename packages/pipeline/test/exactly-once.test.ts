/**
 * Invariants 1 and 2 under random delivery histories, on DynamoDB Local and kinesalite.
 *
 * Real-shaped traffic is packed into CloudWatch Logs subscription payloads, put into a kinesalite
 * stream and read back with real sequence numbers. A simulated event source mapping then delivers
 * it in random batch sizes while faults are injected into the DynamoDB client: a crash right after
 * the k-th call committed, a lost response (committed, but the client sees a timeout), throttling,
 * transaction conflicts; batches are retried whole or from the reported checkpoint, bisected,
 * given up to the on-failure destination (the dead-letter queue) and redriven from the stream;
 * CloudWatch duplicates some payloads; the whole input is re-ingested. Whatever happens, the
 * aggregates must equal the ground truth from the distinct request ids, for every key, and every
 * input item must end counted, dropped or quarantined.
 */
import { randomUUID } from "node:crypto";
import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { MemoryDeadLetterQueue, type QuarantinedRecord, readShardRange } from "@bedrock-spend/adapters";
import { defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap } from "@bedrock-spend/core";
import { type Kinesalite, localDynamoDbClient, localKinesisClient, startKinesalite } from "@bedrock-spend/emulators";
import { type AggregateDelta, countersFromItem, createAggregatesTable, preAggregate, UsageWriter } from "@bedrock-spend/store";
import { APPLICATION_PROFILES, controlMessagePayload, generateTraffic, gzipStable, type TrafficItem, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { processBatch, type StreamRecord } from "../src/aggregate-batch";
import { redrive } from "../src/redrive";

type Fault = { kind: "none" } | { kind: "crash-after" | "lost-response" | "throttle" | "conflict"; call: number };

/** Injects faults into the k-th DynamoDB call of the current attempt. */
class FaultController {
  private fault: Fault = { kind: "none" };
  private calls = 0;
  crashed = false;

  arm(fault: Fault): void {
    this.fault = fault;
    this.calls = 0;
    this.crashed = false;
  }

  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.crashed) throw Object.assign(new Error("process is dead"), { name: "SimulatedCrash" });
        this.calls++;
        const fault = this.fault;
        const hit = fault.kind !== "none" && fault.call === this.calls;
        if (hit && fault.kind === "throttle") throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: {} });
        if (hit && fault.kind === "conflict" && context.commandName === "TransactWriteItemsCommand") {
          const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
          throw Object.assign(new Error("Transaction cancelled"), {
            name: "TransactionCanceledException",
            CancellationReasons: items.map(() => ({ Code: "TransactionConflict" })),
            $metadata: {},
          });
        }
        const result = await next(args);
        if (hit && fault.kind === "lost-response") throw Object.assign(new Error("socket timed out"), { name: "TimeoutError", $metadata: {} });
        if (hit && fault.kind === "crash-after") {
          this.crashed = true;
          throw Object.assign(new Error("crash after a committed write"), { name: "SimulatedCrash" });
        }
        return result;
      },
      { step: "initialize", name: "faultInjection" },
    );
  }
}

let kinesalite: Kinesalite;
const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });

beforeAll(async () => {
  kinesalite = await startKinesalite();
});
afterAll(async () => {
  await kinesalite.stop();
});

/** Puts Kinesis data into a fresh one-shard stream and reads it back with real sequence numbers. */
async function throughKinesis(data: Uint8Array[]): Promise<{ records: StreamRecord[]; streamName: string; shardId: string }> {
  const client = localKinesisClient(kinesalite.endpoint);
  const streamName = `events-${randomUUID()}`;
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
  // kinesalite makes a stream ACTIVE asynchronously: a put before that is refused (ResourceNotFound).
  while ((await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary?.StreamStatus !== "ACTIVE");
  for (let offset = 0; offset < data.length; offset += 100) {
    const result = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: data.slice(offset, offset + 100).map((bytes) => ({ Data: bytes, PartitionKey: randomUUID() })),
      }),
    );
    expect(result.FailedRecordCount ?? 0).toBe(0);
  }
  const shardId = (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards?.[0]?.ShardId as string;
  const iterator = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }));
  const records: StreamRecord[] = [];
  let next = iterator.ShardIterator;
  while (next && records.length < data.length) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator: next }));
    for (const record of page.Records ?? []) {
      const sequenceNumber = record.SequenceNumber as string;
      records.push({
        sequenceNumber,
        source: `kinesis:${shardId}:${sequenceNumber}`,
        data: record.Data as Uint8Array,
        arrivedAt: record.ApproximateArrivalTimestamp?.getTime(),
      });
    }
    next = page.NextShardIterator;
  }
  client.destroy();
  expect(records).toHaveLength(data.length);
  return { records, streamName, shardId };
}

/** Every aggregate item of the table (month totals and day x model), by key. */
async function aggregatesOf(
  client: DynamoDBClient,
  tableName: string,
): Promise<{ aggregates: Map<string, ReturnType<typeof countersFromItem>>; dedupItems: number }> {
  const aggregates = new Map<string, ReturnType<typeof countersFromItem>>();
  let dedupItems = 0;
  let start: ScanCommandOutput["LastEvaluatedKey"];
  do {
    const page: ScanCommandOutput = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of page.Items ?? []) {
      const sk = item.sk?.S ?? "";
      if (sk === "R") dedupItems++;
      else if (sk.startsWith("M#") || sk.startsWith("D#")) aggregates.set(`${item.pk?.S}|${sk}`, countersFromItem(item));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { aggregates, dedupItems };
}

const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Fault>({ kind: "none" }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("crash-after", "lost-response", "throttle", "conflict"),
      call: fc.integer({ min: 1, max: 4 }),
    }) as fc.Arbitrary<Fault>,
  },
);

const planArbitrary = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  count: fc.integer({ min: 10, max: 70 }),
  eventsPerPayload: fc.integer({ min: 1, max: 12 }),
  duplicatePayloads: fc.array(fc.nat(), { maxLength: 4 }),
  batchSize: fc.integer({ min: 1, max: 9 }),
  bisect: fc.boolean(),
  maxRetries: fc.integer({ min: 0, max: 3 }),
  faults: fc.array(faultArbitrary, { minLength: 1, maxLength: 8 }),
  reingest: fc.boolean(),
});

describe("Exactly once (invariant 1) and nothing lost (invariant 2)", () => {
  it("holds for random delivery histories with crashes, lost responses, throttling, conflicts, duplicates, bisection and redrive", async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary, async (plan) => {
        // Prepare: traffic around a month boundary, with malformed lines and unpriced models
        const items: TrafficItem[] = [
          ...generateTraffic({
            seed: plan.seed,
            count: plan.count,
            tenants: 5,
            start: "2026-11-30T23:59:00Z",
            ratePerSecond: 0.5,
            malformedFraction: 0.08,
            unpricedFraction: 0.05,
            bodyBytes: 700,
          }),
        ];
        const payloads = [...toSubscriptionPayloads(items, { eventsPerPayload: plan.eventsPerPayload })];
        const data: Uint8Array[] = payloads.map((payload) => gzipStable(JSON.stringify(payload)));
        data.push(gzipStable(JSON.stringify(controlMessagePayload(Date.parse("2026-12-01T00:00:00Z")))));
        // CloudWatch Logs delivers some payloads twice
        for (const index of plan.duplicatePayloads) data.push(data[index % payloads.length] as Uint8Array);
        const { records, streamName, shardId } = await throughKinesis(data);

        const endpoint = inject("dynamoDbEndpoint");
        const client = localDynamoDbClient(endpoint);
        const tableName = `exactly-once-${randomUUID()}`;
        await createAggregatesTable(client, tableName);
        const faults = new FaultController();
        faults.install(client);
        const writer = new UsageWriter({ client, tableName, retry: { maxAttempts: 3, sleep: async () => {} } });
        const queue = new MemoryDeadLetterQueue();
        const deadLetters = {
          send: async (batch: readonly QuarantinedRecord[]) => {
            if (faults.crashed) throw new Error("process is dead");
            await queue.send(batch);
          },
        };
        const deps = { pricer, writer, deadLetters };

        // Act: the simulated event source mapping
        let attempt = 0;
        let position = 0;
        let retries = 0;
        let batchSize = plan.batchSize;
        while (position < records.length) {
          const batch = records.slice(position, position + batchSize);
          const fault = attempt < 40 ? (plan.faults[attempt % plan.faults.length] as Fault) : { kind: "none" as const };
          attempt++;
          faults.arm(fault);
          const result = await processBatch(batch, deps);
          const crashed = faults.crashed;
          faults.arm({ kind: "none" });
          let failedFrom: number | undefined;
          if (crashed) failedFrom = 0;
          else if (result.retryFrom !== undefined) failedFrom = batch.findIndex((record) => record.sequenceNumber === result.retryFrom);
          if (failedFrom === undefined) {
            position += batch.length;
            retries = 0;
            batchSize = plan.batchSize;
            continue;
          }
          position += failedFrom;
          if (plan.bisect && crashed && batch.length > 1) {
            // Bisection splits the failed batch; it does not count as a retry.
            batchSize = Math.ceil(batch.length / 2);
            continue;
          }
          if (retries >= plan.maxRetries) {
            const failed = records.slice(position, position + batch.length - failedFrom);
            await queue.sendRaw({
              requestContext: { condition: "RetryAttemptsExhausted" },
              KinesisBatchInfo: {
                shardId,
                startSequenceNumber: failed[0]?.sequenceNumber,
                endSequenceNumber: failed.at(-1)?.sequenceNumber,
                batchSize: failed.length,
              },
            });
            position += failed.length;
            retries = 0;
            continue;
          }
          retries++;
        }
        if (plan.reingest) {
          const again = await processBatch(records, deps);
          expect(again.stats.counted).toBe(0);
        }
        const kinesis = localKinesisClient(kinesalite.endpoint);
        const redriven = await redrive({
          ...deps,
          queue,
          readBatch: async (info) =>
            (await readShardRange(kinesis, { streamName }, info.shardId, info.startSequenceNumber, info.endSequenceNumber)).map((record) => ({
              sequenceNumber: record.sequenceNumber,
              source: `kinesis:${info.shardId}:${record.sequenceNumber}`,
              data: record.data,
            })),
        });
        kinesis.destroy();

        // Assess: aggregates equal the ground truth over distinct request ids, for every key
        const valid = new Map<string, { record: ReturnType<Pricer["price"]>["record"]; costPico: bigint | null }>();
        let malformed = 0;
        let permissionLines = 0;
        for (const item of items) {
          if (item.kind === "malformed") malformed++;
          else if (item.kind === "permissions-line") permissionLines++;
          else {
            const parsed = parseInvocationLog(item.record);
            if (!parsed.ok) throw new Error(parsed.reason);
            const priced = pricer.price(parsed.log);
            valid.set(priced.record.request_id, { record: priced.record, costPico: priced.costPico });
          }
        }
        const truth = new Map<string, AggregateDelta>(preAggregate(valid.values()).map((delta) => [`${delta.pk}|${delta.sk}`, delta]));
        const { aggregates, dedupItems } = await aggregatesOf(client, tableName);
        expect([...aggregates.keys()].sort()).toEqual([...truth.keys()].sort());
        for (const [key, delta] of truth) expect(aggregates.get(key), key).toEqual(delta.counters);
        expect(dedupItems).toBe(valid.size);

        // Nothing lost: every input item is counted, quarantined, or a dropped control/permissions message
        const quarantinedIds = new Set(
          [...queue.messages.values()].filter((body) => typeof (body as QuarantinedRecord).raw === "string").map((body) => (body as QuarantinedRecord).id),
        );
        expect(redriven.kept.filter((kept) => !kept.reason.startsWith("still invalid"))).toEqual([]);
        expect([...queue.messages.values()].filter((body) => (body as { KinesisBatchInfo?: unknown }).KinesisBatchInfo)).toEqual([]);
        expect(quarantinedIds.size).toBe(malformed);
        expect(redriven.kept.every((kept) => kept.reason.startsWith("still invalid"))).toBe(true);
        expect(valid.size + quarantinedIds.size + permissionLines).toBe(items.length);
        client.destroy();
      }),
      { numRuns: 25 },
    );
    // 25 random histories against DynamoDB Local: 30 s to over a minute, by the histories drawn and the machine's load.
  }, 240_000);
});
