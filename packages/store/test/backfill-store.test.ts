/**
 * The backfill's table state on DynamoDB Local: the lease that keeps backfills one at a time, and
 * the counting of an application's deltas, exactly once whether the items exist, half of them
 * were counted by a crashed attempt, or the same application comes twice.
 */
import { GetItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import {
  type AggregateDelta,
  BACKFILL_LEASE_MS,
  BackfillLeaseError,
  BackfillStore,
  countBackfillDeltas,
  countersFromItem,
  counterUpdate,
} from "@bedrock-spend/store";
import { describe, expect, it } from "vitest";
import { freshTable } from "./helpers";

const T0 = Date.parse("2026-12-02T09:00:00Z");

function delta(tenant: string, sk: string, invocations: number, costPico: bigint): AggregateDelta {
  return {
    pk: `T#${tenant}`,
    sk,
    attributes: { tenantId: tenant, period: "2026-09", kind: "month" },
    counters: {
      invocations,
      unpricedInvocations: 0,
      inputTokens: 10 * invocations,
      outputTokens: invocations,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costPico,
    },
  };
}

describe("BackfillStore lease", () => {
  it("keeps a second source's backfill out until the first releases or its lease ends, and lets the same source resume", async () => {
    const { client, tableName } = await freshTable();
    let now = T0;
    const a = new BackfillStore(client, tableName, "source-a", { now: () => now });
    const b = new BackfillStore(client, tableName, "source-b", { now: () => now });

    await a.acquireLease("run-1", "s3://logs-a/");
    const refused = await b.acquireLease("run-2", "s3://logs-b/").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BackfillLeaseError);
    expect((refused as BackfillLeaseError).message).toContain("another backfill (of s3://logs-a/) is running on this table until 2026-12-02T09:10:00.000Z");
    // The same source after a crash: its new run takes the lease back at once.
    await a.acquireLease("run-3", "s3://logs-a/");
    await expect(a.renewLease("run-1")).rejects.toBeInstanceOf(BackfillLeaseError);
    await a.renewLease("run-3");

    // An abandoned lease ends; the other source takes it, and the old run cannot renew it any more.
    now += BACKFILL_LEASE_MS + 1;
    await b.acquireLease("run-4", "s3://logs-b/");
    await expect(a.renewLease("run-3")).rejects.toBeInstanceOf(BackfillLeaseError);
    // Releasing a lease one does not hold changes nothing.
    await a.releaseLease("run-3");
    await expect(a.acquireLease("run-5", "s3://logs-a/")).rejects.toBeInstanceOf(BackfillLeaseError);
    await b.releaseLease("run-4");
    await a.acquireLease("run-5", "s3://logs-a/");
  });
});

describe("countBackfillDeltas", () => {
  it.each([true, false])("creates missing items (with puts: %s), adds to existing ones, and counts nothing twice for one token", async (createWithPuts) => {
    const { client, tableName } = await freshTable();
    // An item live traffic counted before: it gets the delta added, not replaced.
    const existing = delta("acme", "M#2026-09", 5, 500n);
    await client.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: counterUpdate(tableName, existing, T0 / 1000) }] }));
    const deltas = [
      delta("acme", "M#2026-09", 3, 300n),
      ...Array.from({ length: 130 }, (_, index) => delta(`t${index}`, "M#2026-09", index + 1, BigInt(index))),
    ];

    // A crashed first attempt counted a third of the items.
    const first = await countBackfillDeltas(client, tableName, "tok-1", deltas.slice(0, 44), { now: () => T0, createWithPuts });
    expect(first).toMatchObject({ items: 44, created: createWithPuts ? 43 : 0, alreadyApplied: 0 });
    const resumed = await countBackfillDeltas(client, tableName, "tok-1", deltas, { now: () => T0, createWithPuts });
    expect(resumed).toMatchObject({ items: 87, created: createWithPuts ? 87 : 0, alreadyApplied: 44 });
    const again = await countBackfillDeltas(client, tableName, "tok-1", deltas, { now: () => T0, createWithPuts });
    expect(again).toMatchObject({ items: 0, alreadyApplied: 131 });

    const read = async (pk: string) =>
      (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: "M#2026-09" } }, ConsistentRead: true }))).Item;
    const acme = await read("T#acme");
    expect(countersFromItem(acme as never)).toMatchObject({ invocations: 8, costPico: 800n, inputTokens: 80, outputTokens: 8 });
    expect(acme?.backfills?.SS).toEqual(["tok-1"]);
    const created = await read("T#t129");
    expect(countersFromItem(created as never)).toMatchObject({ invocations: 130, costPico: 129n, unpricedInvocations: 0, cacheReadTokens: 0 });
    // A created item holds what the update would have made of it: the same attributes.
    expect(Object.keys(created ?? {}).sort()).toEqual(Object.keys(acme ?? {}).sort());

    // Another application (another token) adds again.
    await countBackfillDeltas(client, tableName, "tok-2", [delta("acme", "M#2026-09", 1, 100n)], { now: () => T0, createWithPuts });
    expect(countersFromItem((await read("T#acme")) as never)).toMatchObject({ invocations: 9, costPico: 900n });
  });
});
