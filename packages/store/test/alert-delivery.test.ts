/**
 * Delivery state of fired alerts on their markers (AggregatesStore: takeUndeliveredAlerts,
 * releaseAlertClaim, confirmAlertDelivery), on DynamoDB Local.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { BudgetAlert } from "@bedrock-spend/core";
import { describe, expect, it } from "vitest";
import { AggregatesStore, DEFAULT_DELIVERY_LEASE_MS } from "../src/aggregates-store";
import { alertSk, tenantPk } from "../src/index";
import { freshTable } from "./helpers";

const NOV_1 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

const forecast: BudgetAlert = { kind: "forecast", threshold: null, tenantId: "a#b", month: "2026-11", spendUsd: "1", budgetUsd: "2.00", forecastUsd: "3" };
const threshold: BudgetAlert = { kind: "threshold", threshold: 80, tenantId: "acme", month: "2026-11", spendUsd: "80", budgetUsd: "100.00", forecastUsd: "90" };

describe("Class: AggregatesStore, delivery of fired alerts", () => {
  it("lets one evaluation at a time take over an undelivered alert, and none once it is confirmed", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName, { alertLeaseMs: 60_000 });
    await store.markAlertFired(forecast, new Date(NOV_1));

    // Act
    const claimed = await store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + 59_999);
    const [first, second] = await Promise.all([
      store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + 60_000),
      store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + 60_000),
    ]);
    const taken = [...(first ?? []), ...(second ?? [])];
    await store.releaseAlertClaim(forecast, taken[0]?.leaseUntil, NOV_1 + 61_000);
    const afterRelease = await store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + 61_000);
    await store.confirmAlertDelivery(forecast, NOV_1 + 62_000);
    const afterConfirm = await store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + DAY);

    // Assess
    expect(claimed).toEqual([]);
    expect(taken).toEqual([{ alert: forecast, leaseUntil: NOV_1 + 120_000 }]);
    expect(afterRelease).toEqual([{ alert: forecast, leaseUntil: NOV_1 + 121_000 }]);
    expect(afterConfirm).toEqual([]);
  });

  it("holds the firer's claim for the default lease of 15 minutes after firing", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    await store.markAlertFired(threshold, new Date(NOV_1));

    // Act
    const withinClaim = await store.takeUndeliveredAlerts("acme", "2026-11", NOV_1 + DEFAULT_DELIVERY_LEASE_MS - 1);
    const lapsed = await store.takeUndeliveredAlerts("acme", "2026-11", NOV_1 + DEFAULT_DELIVERY_LEASE_MS);

    // Assess
    expect(DEFAULT_DELIVERY_LEASE_MS).toBe(900_000);
    expect(withinClaim).toEqual([]);
    expect(lapsed).toEqual([{ alert: threshold, leaseUntil: NOV_1 + 2 * DEFAULT_DELIVERY_LEASE_MS }]);
  });

  it("lets a firer give back its own claim only while no one took the alert over", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName, { alertLeaseMs: 60_000 });
    await store.markAlertFired(threshold, new Date(NOV_1));
    const [taken] = await store.takeUndeliveredAlerts("acme", "2026-11", NOV_1 + 60_000);

    // Act: the firer's late release must not cut the new holder's lease short
    await store.releaseAlertClaim(threshold, undefined, NOV_1 + 61_000);
    const whileHeld = await store.takeUndeliveredAlerts("acme", "2026-11", NOV_1 + 61_000);
    const item = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: tenantPk("acme") }, sk: { S: alertSk("2026-11", 80) } }, ConsistentRead: true }),
    );

    // Assess
    expect(taken?.leaseUntil).toBe(NOV_1 + 120_000);
    expect(whileHeld).toEqual([]);
    expect(item.Item?.leaseUntil).toEqual({ N: String(NOV_1 + 120_000) });
    expect(item.Item?.deliveryAttempts).toEqual({ N: "1" });
  });

  it("refuses to confirm the delivery of an alert that was never fired", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);

    // Act
    const failure = await store.confirmAlertDelivery(threshold, NOV_1).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe("ConditionalCheckFailedException");
    expect(await store.alerts("acme")).toEqual([]);
  });
});
