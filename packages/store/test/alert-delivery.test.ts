/**
 * Delivery state of fired alerts on their markers (AggregatesStore: takeUndeliveredAlerts,
 * releaseAlertClaim, confirmAlertDelivery), and the undelivered-alerts index the alert sweep reads
 * (undeliveredAlerts, takeUndeliveredAlert, ensureUndeliveredAlertsIndex), on DynamoDB Local.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { BudgetAlert } from "@bedrock-spend/core";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { describe, expect, it, onTestFinished } from "vitest";
import { AggregatesStore, DEFAULT_DELIVERY_LEASE_MS } from "../src/aggregates-store";
import { alertSk, ensureAggregatesTable, ensureUndeliveredAlertsIndex, tenantPk } from "../src/index";
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

describe("Class: AggregatesStore, the undelivered-alerts index", () => {
  const other: BudgetAlert = { ...threshold, threshold: 100, spendUsd: "100" };

  it("lists the alerts fired in a range and not yet published, oldest first, up to a limit", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName);
    await store.markAlertFired(other, new Date(NOV_1 + 3_000));
    await store.markAlertFired(threshold, new Date(NOV_1 + 2_000));
    await store.markAlertFired(forecast, new Date(NOV_1 + 1_000));
    await store.markAlertFired({ ...threshold, month: "2026-10" }, new Date(NOV_1 - DAY));
    await store.confirmAlertDelivery(threshold, NOV_1 + 4_000);

    // Act
    const listed = await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 10 });
    const first = await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 1 });
    const none = await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + 999, limit: 10 });

    // Assess
    expect(listed).toEqual([
      { tenantId: "a#b", sk: alertSk("2026-11", "FORECAST"), firedAt: new Date(NOV_1 + 1_000).toISOString(), leaseUntil: undefined },
      { tenantId: "acme", sk: alertSk("2026-11", 100), firedAt: new Date(NOV_1 + 3_000).toISOString(), leaseUntil: undefined },
    ]);
    expect(first).toEqual(listed.slice(0, 1));
    expect(none).toEqual([]);
  });

  it("takes over a listed alert with the stream path's conditional update: once among concurrent takers, not while claimed, not once published", async () => {
    // Prepare
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName, { alertLeaseMs: 60_000 });
    await store.markAlertFired(forecast, new Date(NOV_1));
    await store.markAlertFired(threshold, new Date(NOV_1));
    const refs = await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1, limit: 10 });
    const forecastRef = refs.find((ref) => ref.tenantId === "a#b");
    const thresholdRef = refs.find((ref) => ref.tenantId === "acme");
    if (!forecastRef || !thresholdRef) throw new Error("both alerts are listed");

    // Act
    const withinClaim = await store.takeUndeliveredAlert(forecastRef, NOV_1 + 59_999);
    const takers = await Promise.all([
      store.takeUndeliveredAlert(forecastRef, NOV_1 + 60_000),
      store.takeUndeliveredAlert(forecastRef, NOV_1 + 60_000),
      store.takeUndeliveredAlerts("a#b", "2026-11", NOV_1 + 60_000),
    ]);
    await store.confirmAlertDelivery(threshold, NOV_1 + 60_000);
    // The ref as the index saw it before the publish (an eventually consistent read)
    const afterPublish = await store.takeUndeliveredAlert(thresholdRef, NOV_1 + DAY);

    // Assess
    expect(withinClaim).toBeUndefined();
    expect(takers.flat().filter((taken) => taken !== undefined)).toEqual([{ alert: forecast, leaseUntil: NOV_1 + 120_000 }]);
    expect(afterPublish).toBeUndefined();
    expect(await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 10 })).toEqual([
      { tenantId: "a#b", sk: alertSk("2026-11", "FORECAST"), firedAt: new Date(NOV_1).toISOString(), leaseUntil: String(NOV_1 + 120_000) },
    ]);
  });

  it("lists an alert fired before the index existed once the stream path takes it over", async () => {
    // Prepare: a marker as markAlertFired wrote it before the index (no `undelivered`)
    const { client, tableName } = await freshTable();
    const store = new AggregatesStore(client, tableName, { alertLeaseMs: 60_000 });
    await client.send(new PutItemCommand({ TableName: tableName, Item: legacyMarker(threshold, NOV_1) }));
    const before = await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 10 });

    // Act: taken over, and its publish failed
    const [taken] = await store.takeUndeliveredAlerts("acme", "2026-11", NOV_1 + 60_000);
    await store.releaseAlertClaim(threshold, taken?.leaseUntil, NOV_1 + 61_000);

    // Assess
    expect(before).toEqual([]);
    expect(await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 10 })).toEqual([
      { tenantId: "acme", sk: alertSk("2026-11", 80), firedAt: new Date(NOV_1).toISOString(), leaseUntil: String(NOV_1 + 61_000) },
    ]);
  });

  it("is added to a data dir's table created without it, listing the alerts that table holds fired and not published", { timeout: 300_000 }, async () => {
    // Prepare: a data dir's DynamoDB Local (the run's shared one, busy with many streams, reports an
    // index added by UpdateTable CREATING for good), its table as an earlier version created it,
    // with a published and an unpublished marker
    const dbPath = mkdtempSync(join(tmpdir(), "bedrock-spend-index-"));
    const local = await startDynamoDbLocal({ dbPath });
    onTestFinished(async () => {
      await local.stop();
      rmSync(dbPath, { recursive: true, force: true });
    });
    const client = localDynamoDbClient(local.endpoint);
    const tableName = "aggregates";
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await client.send(new PutItemCommand({ TableName: tableName, Item: legacyMarker(threshold, NOV_1) }));
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { ...legacyMarker(forecast, NOV_1), publishedAt: { S: new Date(NOV_1 + 1_000).toISOString() } } }),
    );
    const store = new AggregatesStore(client, tableName);
    // The first poll of the new index fails as DynamoDB Local's DescribeTable sometimes does while
    // it fills an index (InternalFailure, after the SDK's retries): the wait goes on.
    let describes = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DescribeTableCommand" && ++describes === 3)
          throw Object.assign(new Error("The request processing has failed because of an unknown error, exception or failure."), {
            name: "InternalFailure",
            $metadata: { httpStatusCode: 500 },
          });
        return next(args);
      },
      { step: "initialize", name: "describeTableFault" },
    );

    // Act
    const created = await ensureAggregatesTable(client, tableName);
    const again = await ensureUndeliveredAlertsIndex(client, tableName);

    // Assess
    expect(created).toBe(false);
    expect(again).toBe(false);
    expect(describes).toBeGreaterThan(3);
    expect(await store.undeliveredAlerts({ firedFrom: NOV_1, firedUntil: NOV_1 + DAY, limit: 10 })).toEqual([
      { tenantId: "acme", sk: alertSk("2026-11", 80), firedAt: new Date(NOV_1).toISOString(), leaseUntil: undefined },
    ]);
  });
});

/** An alert marker as `markAlertFired` wrote it before the undelivered-alerts index existed. */
function legacyMarker(alert: BudgetAlert, firedAt: number) {
  return {
    pk: { S: tenantPk(alert.tenantId) },
    sk: { S: alertSk(alert.month, alert.threshold ?? "FORECAST") },
    kind: { S: "alert" },
    alert: { S: JSON.stringify(alert) },
    firedAt: { S: new Date(firedAt).toISOString() },
  };
}
