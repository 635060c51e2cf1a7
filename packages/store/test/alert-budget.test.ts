/**
 * Budgets as the alert path and the spend API read them (AggregatesStore.getBudget), on DynamoDB
 * Local: the stored values, never invented ones.
 */
import { type AttributeValue, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { AggregatesStore } from "../src/aggregates-store";
import { BUDGET_SK, tenantPk } from "../src/index";
import { MalformedBudgetError } from "../src/items";
import { freshTable } from "./helpers";

describe("Class: AggregatesStore, budgets", () => {
  it("returns the stored budget as stored, thresholds ascending, without validating it", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    await store.putBudget("acme", { monthlyUsd: "0", thresholds: [100, 50] });

    // Act
    const stored = await store.getBudget("acme");
    const none = await store.getBudget("globex");

    // Assess
    expect(stored).toStrictEqual({ monthlyUsd: "0", thresholds: [50, 100] });
    expect(none).toBeUndefined();
  });

  it("throws a MalformedBudgetError naming the attribute, rather than inventing a value, for an item that is not a budget", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    const put = (tenantId: string, attributes: Record<string, AttributeValue>) =>
      client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: tenantPk(tenantId) }, sk: { S: BUDGET_SK }, ...attributes } }));
    await put("no-amount", { thresholds: { L: [{ N: "50" }] } });
    await put("numeric-amount", { monthlyUsd: { N: "100" }, thresholds: { L: [{ N: "50" }] } });
    await put("no-thresholds", { monthlyUsd: { S: "100.00" } });
    await put("text-threshold", { monthlyUsd: { S: "100.00" }, thresholds: { L: [{ N: "50" }, { S: "80" }] } });

    // Act
    const failures = await Promise.all(
      ["no-amount", "numeric-amount", "no-thresholds", "text-threshold"].map((tenantId) => store.getBudget(tenantId).catch((error: unknown) => error)),
    );

    // Assess
    for (const failure of failures) expect(failure).toBeInstanceOf(MalformedBudgetError);
    expect(failures.map((failure) => [(failure as MalformedBudgetError).tenantId, (failure as MalformedBudgetError).field])).toEqual([
      ["no-amount", "monthlyUsd"],
      ["numeric-amount", "monthlyUsd"],
      ["no-thresholds", "thresholds"],
      ["text-threshold", "thresholds"],
    ]);
    expect((failures[0] as Error).message).toBe('budget of "no-amount": monthlyUsd is missing or not a string');
    expect((failures[0] as Error).name).toBe("MalformedBudgetError");
  });
});
