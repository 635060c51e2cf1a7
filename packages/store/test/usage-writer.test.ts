import { describe, expect, it } from "vitest";
import { AggregatesStore } from "../src/aggregates-store";
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
});
