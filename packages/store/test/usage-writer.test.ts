import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { fixedClock } from "@bedrock-spend/core";
import { describe, expect, it } from "vitest";
import { AggregatesStore } from "../src/aggregates-store";
import { aggregateKeysOf, dedupKey } from "../src/index";
import { TTL_ATTRIBUTE } from "../src/layout";
import { UsageWriter } from "../src/usage-writer";
import { freshTable, invocation } from "./helpers";

describe("Class: UsageWriter on DynamoDB Local", () => {
  it("counts a batch once, and a replay of it not at all", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    const store = new AggregatesStore(client, tableName);
    const batch = [invocation("r1"), invocation("r2", { input: 1000 }), invocation("r3", { tenant: "globex" })];

    // Act
    const first = await writer.write(batch);
    const replay = await writer.write(batch);

    // Assess
    expect(first.counted.map((item) => item.origin)).toEqual(["r1", "r2", "r3"]);
    expect(replay.counted).toEqual([]);
    expect(replay.duplicates.map((item) => item.origin).sort()).toEqual(["r1", "r2", "r3"]);
    const acme = await store.monthTotal("acme", "2026-11");
    // 100+1000 input at 1.00, 2 x 10 output at 5.00 per million: 1100 + 100 micro-dollars
    expect(acme).toEqual({
      invocations: 2,
      unpricedInvocations: 0,
      inputTokens: 1100,
      outputTokens: 20,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costPico: 1_200_000_000n,
    });
    expect((await store.monthTotal("globex", "2026-11"))?.invocations).toBe(1);
  });

  it("drops the already-counted invocations of a batch and counts the rest", async () => {
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    await writer.write([invocation("a"), invocation("b")]);
    const outcome = await writer.write([invocation("a"), invocation("c"), invocation("b"), invocation("d")]);
    expect(outcome.counted.map((item) => item.origin).sort()).toEqual(["c", "d"]);
    expect(outcome.duplicates.map((item) => item.origin).sort()).toEqual(["a", "b"]);
    expect((await new AggregatesStore(client, tableName).monthTotal("acme", "2026-11"))?.invocations).toBe(4);
  });

  it("splits large batches into transactions of at most 100 actions and counts every invocation", async () => {
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    const batch = Array.from({ length: 450 }, (_, i) => invocation(`big-${i}`, { tenant: `t${i % 7}`, model: i % 2 ? "us.amazon.nova-lite-v1:0" : undefined }));
    const outcome = await writer.write(batch);
    expect(outcome.counted).toHaveLength(450);
    expect(outcome.transactions).toBeGreaterThanOrEqual(5);
    const store = new AggregatesStore(client, tableName);
    let total = 0;
    for (let t = 0; t < 7; t++) total += (await store.monthTotal(`t${t}`, "2026-11"))?.invocations ?? 0;
    expect(total).toBe(450);
  });

  it("writes each aggregate item once per batch when no tenant needs more than one transaction", async () => {
    // Tenants of 1 to 9 invocations over two models: filled tenant by tenant, transactions would cut
    // tenants in two and update their month item twice; packed whole, every item is written once.
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    const batch = [];
    for (let t = 0; t < 60; t++) {
      for (let i = 0; i < 1 + (t % 9); i++) {
        batch.push(invocation(`pack-${t}-${i}`, { tenant: `p${t}`, model: i % 2 ? "us.amazon.nova-lite-v1:0" : undefined }));
      }
    }
    const distinctKeys = new Set(batch.flatMap((item) => aggregateKeysOf(item.record).map((key) => `${key.pk}|${key.sk}`)));

    const outcome = await writer.write(batch);

    expect(outcome.counted).toHaveLength(batch.length);
    // 2 transactional units per dedup item and per aggregate item (all under 1 KB): the minimum.
    expect(outcome.writeUnits).toBe(2 * (batch.length + distinctKeys.size));
    // The by-period index holds breakdown items only: without breakdowns, no index write at all.
    expect(outcome.indexWriteUnits).toBe(0);
    expect(outcome.transactions).toBe(Math.ceil((batch.length + distinctKeys.size) / 100));
    const store = new AggregatesStore(client, tableName);
    for (const t of [0, 8, 59]) expect((await store.monthTotal(`p${t}`, "2026-11"))?.invocations).toBe(1 + (t % 9));
  });

  it("cuts a tenant that overflows one transaction into chunks and still counts each invocation once", async () => {
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    const hot = Array.from({ length: 250 }, (_, i) => invocation(`hot-${i}`, { tenant: "hot" }));
    const cold = Array.from({ length: 30 }, (_, i) => invocation(`cold-${i}`, { tenant: `c${i}` }));

    const outcome = await writer.write([...hot, ...cold]);
    const replay = await writer.write([...cold, ...hot]);

    expect(outcome.counted).toHaveLength(280);
    expect(replay.duplicates).toHaveLength(280);
    const store = new AggregatesStore(client, tableName);
    expect((await store.monthTotal("hot", "2026-11"))?.invocations).toBe(250);
    expect((await store.monthTotal("c29", "2026-11"))?.invocations).toBe(1);
    // The hot tenant needs three chunks (98 invocations + its 2 items each); the 30 cold tenants
    // (3 actions each) fill the chunks' free room and one more transaction.
    expect(outcome.transactions).toBe(4);
  });

  it("cuts an overflowing tenant in key order, so that its chunks share only the items they must", async () => {
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName });
    // 250 invocations alternating between two models: items month, day x model A, day x model B.
    const hot = Array.from({ length: 250 }, (_, i) => invocation(`mix-${i}`, { tenant: "mix", model: i % 2 ? "us.amazon.nova-lite-v1:0" : undefined }));

    const outcome = await writer.write(hot);

    // In key order: [98 of A | month, A], [27 A + 70 B | month, A, B], [55 B | month, B]: 7 item
    // writes. Cut in arrival order, each chunk would touch all three items: 9.
    expect(outcome.transactions).toBe(3);
    expect(outcome.writeUnits).toBe(2 * (250 + 7));
    expect(outcome.indexWriteUnits).toBe(0);
    expect((await new AggregatesStore(client, tableName).monthTotal("mix", "2026-11"))?.invocations).toBe(250);
  });
});

describe("Class: UsageWriter at the edges of months", () => {
  it.each([
    ["2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z"],
    ["2028-02-29T23:59:59.999Z", "2028-03-01T00:00:00.000Z"],
  ])("counts the last instant of a month (%s) and the first of the next (%s) each in its own month and day", async (last, first) => {
    // Prepare: the writer's clock at the first instant, as when the two calls are counted together
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName, now: fixedClock(first), dedupRetentionDays: 35 });
    const store = new AggregatesStore(client, tableName);

    // Act
    const outcome = await writer.write([invocation("last", { timestamp: last }), invocation("first", { timestamp: first, input: 200 })]);

    // Assess: one invocation in each month and each day; the dedup marker lives 35 days from the clock
    expect(outcome.counted).toHaveLength(2);
    expect((await store.monthTotal("acme", last.slice(0, 7)))?.inputTokens).toBe(100);
    expect((await store.monthTotal("acme", first.slice(0, 7)))?.inputTokens).toBe(200);
    expect((await store.dayModelRows("acme", { day: last.slice(0, 10) })).map((row) => row.counters.inputTokens)).toEqual([100]);
    expect((await store.dayModelRows("acme", { day: first.slice(0, 10) })).map((row) => row.counters.inputTokens)).toEqual([200]);
    const marker = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: dedupKey("last").pk }, sk: { S: dedupKey("last").sk } } }));
    expect(marker.Item?.[TTL_ATTRIBUTE]?.N).toBe(String(Date.parse(first) / 1000 + 35 * 86_400));
  });
});
