/**
 * The by-period index of the cross-tenant report by breakdown: the table has it from creation, an
 * older table gets it (filled from the items it holds), and it lists one period's breakdown items of
 * every tenant and nothing else.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { describe, expect, it, onTestFinished } from "vitest";
import { AggregatesStore } from "../src/aggregates-store";
import { PERIOD_INDEX, PK, SK } from "../src/layout";
import { ensureAggregatesTable } from "../src/scan";
import { UsageWriter } from "../src/usage-writer";
import { freshTable, invocation } from "./helpers";

describe("Index: by-period", () => {
  it("lists a period's breakdowns of every tenant, and no month total or day x model item (no index write per counter update)", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const writer = new UsageWriter({ client, tableName, breakdowns: ["departmentId"] });
    const outcome = await writer.write(
      [
        invocation("p1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 }),
        invocation("p2", { tenant: "globex#x", timestamp: "2026-11-03T11:00:00Z", input: 2000, output: 0 }),
        invocation("p3", { tenant: "acme", timestamp: "2026-12-01T00:00:00Z", input: 10, output: 0 }),
      ].map((counted, index) => ({ ...counted, record: { ...counted.record, department_id: index === 1 ? "sales" : "support" } })),
    );
    const store = new AggregatesStore(client, tableName);
    await store.putBudget("acme", { monthlyUsd: "5.00", thresholds: [80] });

    // Act
    const months = await store.periodItems("2026-11", { kind: "month" });
    const days = await store.periodItems("2026-11-03", { kind: "day-model" });
    const breakdowns = await store.periodItems("2026-11", { kind: "breakdown", dimension: "departmentId" });

    // Assess
    expect(breakdowns.map((item) => [item.tenantId, item.key, item.counters.costPico]).sort()).toStrictEqual([
      ["acme", "support", 1_000_000_000n],
      ["globex#x", "sales", 2_000_000_000n],
    ]);
    expect(breakdowns.every((item) => typeof item.updatedAt === "number")).toBe(true);
    expect(months).toStrictEqual([]);
    expect(days).toStrictEqual([]);
    // Only breakdown items count an index write.
    expect(outcome.indexWriteUnits).toBe(3);
  });

  it("is added to a table created without it, filled from the items it already holds", { timeout: 300_000 }, async () => {
    // Prepare: a table of an earlier version (no by-period index), with usage. On a DynamoDB Local of
    // its own: on the run's shared one, busy with every other file's tables, filling a new index
    // took over 120 s on two loaded cores (CI), against a second alone.
    const local = await startDynamoDbLocal();
    onTestFinished(() => local.stop());
    const client = localDynamoDbClient(local.endpoint);
    onTestFinished(() => client.destroy());
    const tableName = `aggregates-old-${randomUUID()}`;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: PK, AttributeType: "S" },
          { AttributeName: SK, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: PK, KeyType: "HASH" },
          { AttributeName: SK, KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const counted = invocation("o1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 0 });
    await new UsageWriter({ client, tableName, breakdowns: ["departmentId"] }).write([{ ...counted, record: { ...counted.record, department_id: "sales" } }]);

    // Act
    await ensureAggregatesTable(client, tableName);
    const items = await new AggregatesStore(client, tableName).periodItems("2026-11", { kind: "breakdown", dimension: "departmentId" });

    // Assess
    const indexes = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes ?? [];
    expect(indexes.map((index) => index.IndexName).sort()).toStrictEqual([PERIOD_INDEX.name, "undelivered-alerts"]);
    expect(items.map((item) => [item.tenantId, item.counters.invocations])).toStrictEqual([["acme", 1]]);
  });
});
