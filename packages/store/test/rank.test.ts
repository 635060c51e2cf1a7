/**
 * Rank entries of month totals: the bucket function, the moves a change stream calls for, and the
 * candidates a report reads, on DynamoDB Local with the table's real stream.
 */
import { BatchWriteItemCommand, DeleteItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDbStreamReader, localDynamoDbStreamsClient } from "@bedrock-spend/emulators";
import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import { ensureRankMarker, maintainRankEntries, RankMarkerError } from "../../pipeline/src/rank-entries";
import { AggregatesStore } from "../src/aggregates-store";
import { monthSk, tenantPk } from "../src/keys";
import { PK, SK } from "../src/layout";
import { bucketOfRankSk, RANK_ATTRIBUTE, RANK_SINCE_KEY, RankSyncError, rankBucket, rankChangeOf, rankPk, rankSk } from "../src/rank";
import { ensureAggregatesTable } from "../src/scan";
import { UsageWriter } from "../src/usage-writer";
import { freshTable, invocation } from "./helpers";

/** When the consumer runs in these tests: 2026-12-03T10:00:00Z. */
const NOW = Date.UTC(2026, 11, 3, 10);

/** The month's rank entries as (tenant, bucket), in the partition's order. */
async function entriesOf(store: { client: import("@aws-sdk/client-dynamodb").DynamoDBClient; tableName: string }, month: string) {
  const result = await store.client.send(
    new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": PK },
      ExpressionAttributeValues: { ":pk": { S: rankPk(month) } },
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []).map((item) => [item.tenantId?.S, bucketOfRankSk(item[SK]?.S ?? "")] as const);
}

describe("Rank: buckets", () => {
  it("puts nothing in bucket 0, and four buckets in each doubling of the cost", () => {
    expect([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n].map(rankBucket)).toStrictEqual([0, 1, 5, 7, 9, 10, 11, 12, 13]);
    expect(rankBucket(-5n)).toBe(0);
  });

  it("never gives a larger cost a smaller bucket, and sort keys order as buckets do", () => {
    const cost = fc.bigInt({ min: 0n, max: 10n ** 30n });
    fc.assert(
      fc.property(cost, cost, (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(rankBucket(low)).toBeLessThanOrEqual(rankBucket(high));
        const [skLow, skHigh] = [rankSk(rankBucket(low), "T#z"), rankSk(rankBucket(high), "T#a")];
        if (rankBucket(low) < rankBucket(high)) expect(skLow < skHigh).toBe(true);
        expect(bucketOfRankSk(skHigh)).toBe(rankBucket(high));
      }),
    );
  });

  it("buckets within a factor 1.25 of each other: a page reads few totals", () => {
    for (const cost of [1_000n, 123_456_789n, 10n ** 18n]) {
      const bucket = rankBucket(cost);
      // The smallest cost of the bucket above is at most 1.25 times this one's.
      // Binary search for it: the bucket doubles at most, so it lies in (cost, 2 cost].
      let [low, high] = [cost, cost * 2n];
      while (high - low > 1n) {
        const middle = (low + high) / 2n;
        if (rankBucket(middle) === bucket) low = middle;
        else high = middle;
      }
      expect(rankBucket(high)).toBe(bucket + 1);
      expect(high * 4n <= cost * 5n + 4n).toBe(true);
    }
  });
});

describe("Rank: entries from the table's stream on DynamoDB Local", () => {
  async function scenario() {
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    const writer = new UsageWriter({ client, tableName });
    const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName });
    const consume = async () => maintainRankEntries(await reader.poll(), store, NOW);
    return { client, tableName, store, writer, consume };
  }

  it("lists each month total once, in its cost's bucket, as the total grows, and nothing else", async () => {
    // Prepare
    const { client, tableName, store, writer, consume } = await scenario();
    await writer.write([
      invocation("g1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 }),
      invocation("g2", { tenant: "globex#x", timestamp: "2026-11-03T11:00:00Z", input: 3000, output: 0 }),
      invocation("g3", { tenant: "acme", timestamp: "2026-12-01T00:00:00Z", input: 10, output: 0 }),
    ]);
    await store.putBudget("acme", { monthlyUsd: "5.00", thresholds: [80] });

    // Act
    const first = await consume();
    await writer.write([invocation("g4", { tenant: "acme", timestamp: "2026-11-04T10:00:00Z", input: 9000, output: 0 })]);
    const second = await consume();
    // The move's own write comes back on the stream and calls for nothing.
    const third = await consume();

    // Assess
    expect(first.stats).toStrictEqual({ moved: 3, superseded: 0, failed: 0 });
    expect(second.stats).toStrictEqual({ moved: 1, superseded: 0, failed: 0 });
    expect(third.stats).toStrictEqual({ moved: 0, superseded: 0, failed: 0 });
    expect(await entriesOf({ client, tableName }, "2026-11")).toStrictEqual([
      ["globex#x", rankBucket(3_000_000_000n)],
      ["acme", rankBucket(10_000_000_000n)],
    ]);
    expect(await entriesOf({ client, tableName }, "2026-12")).toStrictEqual([["acme", rankBucket(10_000_000n)]]);
  });

  it("skips a move another came before, and converges on the total's last record", async () => {
    // Prepare: two records of the same total; the older one arrives again after the newer (a retried batch).
    const { client, tableName, store, writer, consume } = await scenario();
    await writer.write([invocation("s1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 })]);
    const stale = rankChangeOf("MODIFY", { [PK]: { S: tenantPk("acme") }, [SK]: { S: monthSk("2026-11") } }, { costPico: { N: "1000000000" } }, undefined);
    await consume();
    await writer.write([invocation("s2", { tenant: "acme", timestamp: "2026-11-03T11:00:00Z", input: 100_000, output: 0 })]);
    await consume();

    // Act
    const replayed = stale ? await store.moveRank(stale) : undefined;

    // Assess
    expect(replayed).toBe(false);
    expect(await entriesOf({ client, tableName }, "2026-11")).toStrictEqual([["acme", rankBucket(101_000_000_000n)]]);
  });

  it("removes the entry of a removed total, and answers a retry of a failed move", async () => {
    // Prepare
    const { client, tableName, writer, consume } = await scenario();
    await writer.write([invocation("d1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 })]);
    await consume();

    // Act
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { [PK]: { S: tenantPk("acme") }, [SK]: { S: monthSk("2026-11") } } }));
    const removed = await consume();

    // Assess
    expect(removed.stats.moved).toBe(1);
    expect(await entriesOf({ client, tableName }, "2026-11")).toStrictEqual([]);
  });

  it("reports the record of a move that failed, to be retried from", async () => {
    // Prepare: a store whose moves fail.
    const { client, tableName, writer } = await scenario();
    await writer.write([invocation("f1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 })]);
    const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName });
    const records = await reader.poll();
    const store = new AggregatesStore(client, tableName);
    const failing = Object.assign(Object.create(store) as AggregatesStore, { moveRank: () => Promise.reject(new Error("ThrottlingException")) });

    // Act
    const result = await maintainRankEntries(records, failing, NOW);

    // Assess
    expect(result.stats).toStrictEqual({ moved: 0, superseded: 0, failed: 1 });
    expect(result.retryFrom).toBe(records.find((record) => record.dynamodb?.Keys?.[SK]?.S === monthSk("2026-11"))?.dynamodb?.SequenceNumber);
    expect(result.errors.map((error) => error.message)).toStrictEqual(["ThrottlingException"]);
  });

  it("gives the candidates of the costliest tenants: every tenant left out costs less than every one given", async () => {
    // Prepare: 300 tenants with spread costs, ranked from the stream.
    const { store, writer, consume } = await scenario();
    const costs = new Map<string, number>();
    const invocations = [];
    for (let index = 0; index < 300; index++) {
      const tenant = `t${String(index).padStart(3, "0")}`;
      const input = 1 + ((index * 7919) % 100_000);
      costs.set(tenant, input);
      invocations.push(invocation(`c${index}`, { tenant, timestamp: "2026-11-03T10:00:00Z", input, output: 0 }));
    }
    await writer.write(invocations);
    await consume();

    // Act
    const top = await store.rankCandidates("2026-11", 20);
    const afterBucket = rankBucket(BigInt(costs.get("t001") ?? 0) * 1_000_000n);
    const next = await store.rankCandidates("2026-11", 20, afterBucket);

    // Assess
    const given = new Set(top.tenantIds);
    expect(given.size).toBeGreaterThanOrEqual(20);
    expect(given.size).toBeLessThan(100);
    const minGiven = Math.min(...[...given].map((tenant) => costs.get(tenant) ?? 0));
    for (const [tenant, cost] of costs) if (!given.has(tenant)) expect(cost).toBeLessThan(minGiven);
    // From a cursor's bucket: that bucket whole, then at least 20 more below it.
    expect(next.tenantIds.filter((tenant) => rankBucket(BigInt(costs.get(tenant) ?? 0) * 1_000_000n) < afterBucket).length).toBeGreaterThanOrEqual(20);
    expect(next.tenantIds.every((tenant) => rankBucket(BigInt(costs.get(tenant) ?? 0) * 1_000_000n) <= afterBucket)).toBe(true);
    const totals = await store.rankedTotals("2026-11", top.tenantIds);
    expect(totals.map((total) => [total.tenantId, total.counters.inputTokens]).sort()).toStrictEqual(
      top.tenantIds.map((tenant) => [tenant, costs.get(tenant)]).sort(),
    );
  });

  it("puts a total written before rank entries existed in place when asked (sync)", async () => {
    // Prepare: a month total without `rank`, and no stream consumer.
    const { client, tableName, store } = await scenario();
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: [
            { PutRequest: { Item: { [PK]: { S: tenantPk("old") }, [SK]: { S: monthSk("2026-10") }, costPico: { N: "7000000" }, invocations: { N: "3" } } } },
          ],
        },
      }),
    );

    // Act
    const moved = await store.syncRank("old", "2026-10");
    const again = await store.syncRank("old", "2026-10");
    const missing = await store.syncRank("nobody", "2026-10");

    // Assess
    expect([moved, again, missing]).toStrictEqual([true, false, false]);
    expect(await entriesOf({ client, tableName }, "2026-10")).toStrictEqual([["old", rankBucket(7_000_000n)]]);
    expect(RANK_ATTRIBUTE).toBe("rank");
  });
});

describe("Rank: the marker of since when the entries are complete", () => {
  it("is written by the first batch, from now on, on a table an earlier version counted in: months that began before it are not complete", async () => {
    // Prepare: totals counted with no consumer of this version (an upgraded stage).
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    await new UsageWriter({ client, tableName }).write([invocation("u1", { tenant: "idle", timestamp: "2026-12-01T08:00:00Z", input: 1000, output: 0 })]);
    const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName });
    const before = [await store.rankSince(), await store.rankComplete("2027-01")];

    // Act
    const first = await maintainRankEntries(await reader.poll(), store, NOW);
    const second = await maintainRankEntries(await reader.poll(), store, NOW + 86_400_000);

    // Assess: December began before the marker, January after it.
    expect(before).toStrictEqual([undefined, false]);
    expect(first.markedSince).toBe(NOW / 1000);
    expect(second.markedSince).toBeUndefined();
    expect(await store.rankSince()).toBe(NOW / 1000);
    expect([await store.rankComplete("2026-11"), await store.rankComplete("2026-12"), await store.rankComplete("2027-01")]).toStrictEqual([false, false, true]);
  });

  it("is 0 on a table nothing was counted in before the consumer ran, and 0 on a table created locally: every month is complete", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    const local = `${tableName}-local`;

    // Act
    const marked = await ensureRankMarker(new AggregatesStore(client, tableName), NOW);
    const created = await ensureAggregatesTable(client, local);

    // Assess
    expect(marked).toBe(0);
    expect(await store.rankComplete("2020-01")).toBe(true);
    expect(created).toBe(true);
    expect(await new AggregatesStore(client, local).rankSince()).toBe(0);
    expect(await new AggregatesStore(client, local).rankComplete("1999-12")).toBe(true);
  });

  it("is from now on when DescribeTable gives no item count, and 0 when its count (refreshed every six hours) is still 0", async () => {
    // Prepare: AWS's ItemCount lags the table; DynamoDB Local's does not, so the count is set here.
    const countOf = async (count: number | undefined) => {
      const { client, tableName } = await freshTable();
      const store = new AggregatesStore(client, tableName);
      return ensureRankMarker(Object.assign(Object.create(store) as AggregatesStore, { approximateItemCount: async () => count }), NOW);
    };

    // Act
    const [none, stale, counted] = [await countOf(undefined), await countOf(0), await countOf(12)];

    // Assess
    expect([none, stale, counted]).toStrictEqual([NOW / 1000, 0, NOW / 1000]);
  });

  it("is written once: a second writer, concurrent or later, gets the first one's value, and the marker is no month's partition", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const [one, two] = [new AggregatesStore(client, tableName), new AggregatesStore(client, tableName)];

    // Act
    const concurrent = await Promise.all([one.markRankSince(1_700_000_000), two.markRankSince(1_800_000_000)]);
    const later = await new AggregatesStore(client, tableName).markRankSince(5);

    // Assess
    expect(concurrent[0]).toBe(concurrent[1]);
    expect(later).toBe(concurrent[0]);
    expect(RANK_SINCE_KEY.pk.startsWith("K#")).toBe(true);
    expect(await entriesOf({ client, tableName }, "since")).toHaveLength(1);
    expect(await one.rankCandidates("2026-12", 10)).toStrictEqual({ tenantIds: [], buckets: 0 });
  });

  it("moves the entries when the marker cannot be written, and leaves it to the next batch without a retry", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    await new UsageWriter({ client, tableName }).write([invocation("m1", { tenant: "acme", timestamp: "2026-12-02T08:00:00Z", input: 1000, output: 0 })]);
    const records = await new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName }).poll();
    const unmarkable = Object.assign(Object.create(store) as AggregatesStore, { markRankSince: () => Promise.reject(new Error("AccessDeniedException")) });

    // Act
    const result = await maintainRankEntries(records, unmarkable, NOW);
    const next = await maintainRankEntries(records, store, NOW + 1000);

    // Assess
    expect(result.stats).toStrictEqual({ moved: 1, superseded: 0, failed: 0 });
    expect(result.retryFrom).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toBeInstanceOf(RankMarkerError);
    expect(result.errors[0]?.message).toContain("AccessDeniedException");
    expect(next.markedSince).toBe(NOW / 1000 + 1);
  });

  it("syncs a month begun before the marker: every total of the month gets its entry, and the month is complete for every reader", async () => {
    // Prepare: an upgraded stage. Three tenants counted in December before this version; the
    // consumer's first batch comes on 3 December and sees only globex's new usage.
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    const writer = new UsageWriter({ client, tableName });
    const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName });
    await writer.write([
      invocation("p1", { tenant: "idle", timestamp: "2026-12-01T08:00:00Z", input: 5000, output: 0 }),
      invocation("p2", { tenant: "globex", timestamp: "2026-12-01T09:00:00Z", input: 100, output: 0 }),
      invocation("p3", { tenant: "november-only", timestamp: "2026-11-20T09:00:00Z", input: 100, output: 0 }),
    ]);
    await reader.poll(); // consumed by the earlier version, which kept no entries
    const refused = await store.syncRankMonth("2026-12", NOW / 1000).catch((error: unknown) => error);
    await writer.write([invocation("p4", { tenant: "globex", timestamp: "2026-12-03T09:00:00Z", input: 100, output: 0 })]);
    await maintainRankEntries(await reader.poll(), store, NOW);
    const before = [await store.rankComplete("2026-12"), (await store.rankCandidates("2026-12", 10)).tenantIds];

    // Act
    const synced = await store.syncRankMonth("2026-12", NOW / 1000 + 60, 3);
    const again = await store.syncRankMonth("2026-12", NOW / 1000 + 120, 3);

    // Assess
    expect(refused).toBeInstanceOf(RankSyncError);
    expect((refused as RankSyncError).message).toMatch(/2026-12 not synced: the table's stream consumer .* has not run/);
    expect(before).toStrictEqual([false, ["globex"]]);
    expect(synced).toStrictEqual({ totals: 2, moved: 1 });
    expect(again).toStrictEqual({ totals: 2, moved: 0 });
    expect(await entriesOf({ client, tableName }, "2026-12")).toStrictEqual([
      ["globex", rankBucket(200_000_000n)],
      ["idle", rankBucket(5_000_000_000n)],
    ]);
    // Another instance (its own cache) reads the month's sync item; November stays incomplete.
    const other = new AggregatesStore(client, tableName);
    expect([await other.rankComplete("2026-12"), await other.rankComplete("2026-11")]).toStrictEqual([true, false]);
  });
});
