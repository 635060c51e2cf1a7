/**
 * The backfill on DynamoDB Local and the DuckDB lake, from a directory in Bedrock's S3 layout:
 * history that live traffic partly counted already (settled and open months), interrupted runs
 * and crashes in the middle of an application, then a resume. After the last run every tenant's
 * month item equals the ground truth over distinct request ids, the lake holds each invocation
 * once, every run's summary adds up, and a run over a finished source reads nothing.
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DirectoryInvocationLogSource, MemoryDeadLetterQueue } from "@bedrock-spend/adapters";
import { type DecodedItem, decodeText, defaultCatalog, Pricer, priceItems, recordCostPico, type UsageRecord, utcMonthOf } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { LocalAthena } from "@bedrock-spend/local-lake";
import { type BackfillLiveSink, type BackfillResult, runBackfill } from "@bedrock-spend/pipeline";
import {
  type AggregateDelta,
  BackfillStore,
  countBackfillDeltas,
  countedRequestIds,
  createAggregatesTable,
  scanMonthTotals,
  UsageWriter,
} from "@bedrock-spend/store";
import { generateTraffic, itemLine, s3LogObjects, type TrafficItem } from "@bedrock-spend/traffic";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LocalBackfillLake } from "../src/backfill-lake";

const NOW = Date.parse("2026-12-02T09:00:00Z");
const clock = () => NOW;
const pricer = new Pricer({ catalog: defaultCatalog() });

/** The end of September and the start of October (settled) over ~20 hours, and 30 November (open) over ~6 hours. */
function history(): TrafficItem[] {
  const settled = [
    ...generateTraffic({
      seed: 7,
      count: 900,
      tenants: 40,
      start: "2026-09-30T14:00:00Z",
      ratePerSecond: 900 / (20 * 3600),
      bodyBytes: 200,
      malformedFraction: 0.01,
    }),
  ];
  const open = [
    ...generateTraffic({
      seed: 8,
      count: 240,
      tenants: 40,
      start: "2026-11-30T10:00:00Z",
      ratePerSecond: 240 / (6 * 3600),
      bodyBytes: 200,
      malformedFraction: 0.01,
      permissionsLine: false,
    }),
  ];
  return [...settled, ...open];
}

function usageOf(items: readonly TrafficItem[]): UsageRecord[] {
  const decoded: DecodedItem[] = items.flatMap((item) => [...decodeText(itemLine(item))]);
  return priceItems(decoded, pricer).usage.map((outcome) => outcome.usage.record);
}

const costPicoOf = (record: UsageRecord) => recordCostPico(record) ?? 0n;

/** Each tenant-month's invocations and cost, as the table holds them. */
async function monthItems(client: DynamoDBClient, tableName: string): Promise<Map<string, { invocations: number; costPico: bigint }>> {
  const totals = await scanMonthTotals(client, tableName);
  return new Map([...totals].map(([key, counters]) => [key, { invocations: counters.invocations, costPico: counters.costPico }]));
}

function expectAddsUp(result: BackfillResult): void {
  const { tally } = result;
  expect(tally.read).toBe(tally.counted + tally.alreadyCounted + tally.quarantined + tally.dropped + result.notCounted);
}

describe("backfill (DynamoDB Local, DuckDB lake, a directory in the S3 layout)", () => {
  let root: string;
  let client: DynamoDBClient;
  const items = history();
  const usage = usageOf(items);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "backfill-"));
    for (const object of s3LogObjects(items, { prefix: "logs/", linesPerObject: 60 })) {
      const path = join(root, "source", object.key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, object.body);
    }
    // An offloaded body: not a log record, never read.
    const dataDir = join(root, "source/logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/09/30/03/data");
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, "offloaded.json"), '{"not":"a record"}');
    client = localDynamoDbClient(inject("dynamoDbEndpoint"));
  });
  afterAll(async () => {
    client?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it("counts every invocation exactly once across live history, interruptions, crashes and resumes", async () => {
    let crashes = 0;
    let interruptions = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          liveShare: fc.double({ min: 0, max: 0.6, noNaN: true }),
          stopAfterHours: fc.integer({ min: 1, max: 20 }),
          crashAtCount: fc.integer({ min: 0, max: 3 }),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          // Puts for new items (a stage), or every item through the conditional update (a data dir).
          createWithPuts: fc.boolean(),
        }),
        async ({ liveShare, stopAfterHours, crashAtCount, seed, createWithPuts }) => {
          const tableName = `backfill-${randomUUID()}`;
          await createAggregatesTable(client, tableName);
          const lakeDir = join(root, `lake-${randomUUID()}`);
          const lake = await LocalBackfillLake.open(lakeDir);
          const writer = new UsageWriter({ client, tableName, now: clock });
          try {
            // What live traffic counted before the backfill: in the aggregates (with markers) and in the lake.
            let state = seed;
            const random = () => {
              state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
              return state / 2_147_483_648;
            };
            const counted = usage.filter(() => random() < liveShare);
            await writer.write(counted.map((record) => ({ record, costPico: recordCostPico(record), origin: "live" })));
            await lake.writeHour(counted, "part-live");

            // The stream and its consumers: counted by marker, delivered to the lake.
            const live: BackfillLiveSink = {
              put: async (decoded) => {
                const records = priceItems(decoded, pricer).usage.map((outcome) => outcome.usage);
                const outcome = await writer.write(records.map((entry) => ({ ...entry, origin: "stream" })));
                await lake.writeHour(
                  outcome.counted.map((entry) => entry.record),
                  `part-stream-${randomUUID()}`,
                );
              },
              finish: async (ids) => countedRequestIds(client, tableName, ids),
            };
            const source = new DirectoryInvocationLogSource({ directory: join(root, "source/logs") });
            const store = new BackfillStore(client, tableName, "test-source", { now: clock });
            let countCalls = 0;
            const run = (options: { stopAfter?: number; crashAt?: number }) => {
              const controller = new AbortController();
              return runBackfill({
                source,
                range: {},
                store,
                pricer,
                clock,
                live,
                lake,
                markers: (ids) => countedRequestIds(client, tableName, ids),
                count: async (token, deltas: readonly AggregateDelta[]) => {
                  countCalls++;
                  if (options.crashAt !== undefined && countCalls === options.crashAt) {
                    // A crash in the middle of an application: part of its items counted, the process gone.
                    await countBackfillDeltas(client, tableName, token, deltas.slice(0, Math.ceil(deltas.length / 2)), { now: clock, createWithPuts });
                    throw new Error("crash");
                  }
                  return countBackfillDeltas(client, tableName, token, deltas, { now: clock, createWithPuts });
                },
                quarantine: new MemoryDeadLetterQueue(),
                onProgress: (progress) => {
                  if (options.stopAfter !== undefined && progress.hoursDone - progress.hoursResumed >= options.stopAfter) controller.abort();
                },
                signal: controller.signal,
              });
            };

            const first = await run({ stopAfter: stopAfterHours });
            expectAddsUp(first);
            if (first.interrupted) interruptions++;
            if (crashAtCount > 0) {
              // Crashes in the middle of its n-th application, if it gets that far.
              const crashed = await run({ crashAt: countCalls + crashAtCount }).then(
                (result) => {
                  expectAddsUp(result);
                  return false;
                },
                (error: Error) => error.message === "crash" || Promise.reject(error),
              );
              if (crashed) crashes++;
            }
            const last = await run({});
            expectAddsUp(last);
            expect(last.interrupted).toBe(false);

            // Ground truth: every distinct request id once, at its price.
            const expected = new Map<string, { invocations: number; costPico: bigint }>();
            const distinct = new Map(usage.map((record) => [record.request_id, record]));
            for (const record of distinct.values()) {
              const key = `${record.tenant_id}|${utcMonthOf(Date.parse(record.event_time))}`;
              const entry = expected.get(key) ?? { invocations: 0, costPico: 0n };
              entry.invocations++;
              entry.costPico += costPicoOf(record);
              expected.set(key, entry);
            }
            expect(await monthItems(client, tableName)).toEqual(expected);

            const athena = await LocalAthena.open({ lakeDir, views: [] });
            try {
              const { rows } = await athena.query("SELECT count(*) AS n, count(DISTINCT request_id) AS ids FROM invocations");
              expect(Number(rows[0]?.n)).toBe(distinct.size);
              expect(Number(rows[0]?.ids)).toBe(distinct.size);
            } finally {
              await athena.close();
            }

            // A finished source: nothing read, nothing counted.
            const again = await run({});
            expect(again.hoursRead).toBe(0);
            expect(again.hoursResumed).toBe(again.hours);
            expect(again.tally.read).toBe(0);
            expect(again.itemsUpdated).toBe(0);
            expect(await monthItems(client, tableName)).toEqual(expected);
          } finally {
            await lake.close();
          }
        },
      ),
      { numRuns: 6, seed: 17 },
    );
    // The runs did go through what they are about.
    expect(crashes).toBeGreaterThan(0);
    expect(interruptions).toBeGreaterThan(0);
  }, 300_000);
});
