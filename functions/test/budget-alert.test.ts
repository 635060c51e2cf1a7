/**
 * The budget-alert handler against DynamoDB Local: usage written by the real UsageWriter, budgets by
 * the real store, and the handler fed the real stream records read with DynamoDbStreamReader.
 */
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { type BudgetAlert, tenantPk } from "@bedrock-spend/core";
import { DynamoDbStreamReader, localDynamoDbClient, localDynamoDbStreamsClient, StreamReadError, toDynamoDbStreamEvent } from "@bedrock-spend/local";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, inject, it, type MockInstance, vi } from "vitest";
import { AlertDeliveryLedger, handler } from "../src/budget-alert";
import { metrics } from "../src/lib/powertools";
import { budget, budgetScenario, FailingPublisher, firedThresholds } from "./helpers/budget-factories";

const NOV_1 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

let addMetric: MockInstance<typeof metrics.addMetric>;

beforeEach(() => {
  addMetric = vi.spyOn(metrics, "addMetric");
});

afterEach(() => {
  addMetric.mockRestore();
});

/** Sum of the values recorded for a metric since the test began. */
function metric(name: string): number {
  return addMetric.mock.calls.filter(([metricName]) => metricName === name).reduce((sum, call) => sum + Number(call[2]), 0);
}

function sortKeyOf(record: DynamoDBRecord): string {
  return record.dynamodb?.Keys?.sk?.S ?? "";
}

function sequenceNumbersOf(event: DynamoDBStreamEvent, predicate: (record: DynamoDBRecord) => boolean): string[] {
  return event.Records.filter(predicate).map((record) => record.dynamodb?.SequenceNumber ?? "");
}

describe("Function: budget-alert handler", () => {
  describe("thresholds", () => {
    it("fires a threshold once when the month's spend crosses it", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "40");
      const below = await scenario.handle();

      // Act
      await scenario.spend("acme", "15");
      const response = await scenario.handle();

      // Assess
      expect(below.batchItemFailures).toEqual([]);
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts).toEqual([
        { kind: "threshold", threshold: 50, tenantId: "acme", month: "2026-11", spendUsd: "55.000000", budgetUsd: "100.00", forecastUsd: "1650.000000" },
      ]);
      expect((await scenario.store.alerts("acme")).map((alert) => alert.threshold)).toEqual([50]);
      expect(metric("AlertsFired")).toBe(1);
    });

    it("does not fire a threshold again when the spend rises past it again", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "55");
      await scenario.handle();

      // Act
      await scenario.spend("acme", "10");
      await scenario.handle();
      await scenario.spend("acme", "5");
      await scenario.handle();

      // Assess
      expect(firedThresholds(scenario.published.alerts)).toEqual([50]);
      expect(metric("AlertsFired")).toBe(1);
      expect(metric("AlertsSuppressed")).toBe(2);
    });

    it("fires a threshold when the spend lands exactly on it, not one micro-dollar before", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "49.999999");
      await scenario.handle();
      const before = [...scenario.published.alerts];

      // Act
      await scenario.spend("acme", "0.000001");
      await scenario.handle();

      // Assess
      expect(before).toEqual([]);
      expect(scenario.published.alerts).toMatchObject([{ threshold: 50, spendUsd: "50.000000" }]);
    });

    it("fires each of several thresholds crossed by one update once, lowest first, and nothing on a replay", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "120");
      const event = await scenario.nextEvent();

      // Act
      const first = await scenario.handle(event);
      const replay = await scenario.handle(event);

      // Assess
      expect(first.batchItemFailures).toEqual([]);
      expect(replay.batchItemFailures).toEqual([]);
      expect(firedThresholds(scenario.published.alerts)).toEqual([50, 80, 100]);
      expect(scenario.published.alerts.every((alert) => alert.spendUsd === "120.000000")).toBe(true);
      expect(metric("AlertsFired")).toBe(3);
    });

    it("fires one alert per threshold when two invocations evaluate the same tenant-month at once", async () => {
      // Prepare
      const scenario = await budgetScenario();
      const tenants = ["acme", "globex", "initech"];
      for (const tenant of tenants) await scenario.setBudget(tenant, "100", [50, 80, 100]);
      await scenario.nextEvent(); // the budgets themselves
      for (const tenant of tenants) await scenario.spend(tenant, "60");
      const first = await scenario.nextEvent();
      for (const tenant of tenants) await scenario.spend(tenant, "70");
      const second = await scenario.nextEvent();
      const [one, two] = [scenario.newHandler(), scenario.newHandler()];

      // Act: a retried batch and the next batch in flight together, the same batch twice
      const responses = await Promise.all([one(first), two(second), one(second), two(first)]);

      // Assess
      expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
      for (const tenant of tenants) {
        const alerts = scenario.published.alerts.filter((alert) => alert.tenantId === tenant);
        expect(firedThresholds(alerts).sort()).toEqual([100, 50, 80]);
        expect((await scenario.store.alerts(tenant)).length).toBe(3);
      }
      expect(metric("AlertsFired")).toBe(9);
    });
  });

  describe("periods and budgets", () => {
    it("starts December fresh: November's fired thresholds fire again for December", async () => {
      // Prepare
      const scenario = await budgetScenario({ now: Date.UTC(2026, 10, 30, 12) });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "120", "2026-11-30T11:00:00Z");
      await scenario.handle();

      // Act
      scenario.clock.now = Date.UTC(2026, 11, 1, 1);
      await scenario.spend("acme", "60", "2026-12-01T00:30:00Z");
      await scenario.spend("acme", "10", "2026-11-30T23:59:00Z"); // November's late usage
      await scenario.handle();

      // Assess
      expect(scenario.published.alerts.map((alert) => `${alert.month}:${alert.threshold}`)).toEqual(["2026-11:50", "2026-11:80", "2026-11:100", "2026-12:50"]);
      expect(scenario.published.alerts[3]).toMatchObject({ spendUsd: "60.000000", budgetUsd: "100.00" });
      expect((await scenario.store.monthTotal("acme", "2026-11"))?.costPico).toBe(130_000_000_000_000n);
    });

    it("on a budget lowered mid-month, fires the thresholds the spend now reaches, once", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "60");
      await scenario.handle();

      // Act
      await scenario.setBudget("acme", "50", [50, 80, 100]);
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts.map((alert) => [alert.threshold, alert.budgetUsd, alert.spendUsd])).toEqual([
        [50, "100.00", "60.000000"],
        [80, "50.00", "60.000000"],
        [100, "50.00", "60.000000"],
      ]);
    });

    it("on a budget raised mid-month, fires nothing new", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "60");
      await scenario.handle();

      // Act
      await scenario.setBudget("acme", "200", [50, 80, 100]);
      const response = await scenario.handle();
      await scenario.spend("acme", "1");
      await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts).toMatchObject([{ threshold: 50, budgetUsd: "100.00", spendUsd: "60.000000" }]);
    });

    it("evaluates a budget change in the month of its stream record, even when delivered after that month", async () => {
      // Prepare: no injected clock, so records are evaluated at their ApproximateCreationDateTime
      const scenario = await budgetScenario({ now: null });
      await scenario.spend("acme", "60", "2026-10-20T10:00:00Z");
      await scenario.nextEvent(); // usage without a budget: nothing to evaluate
      await scenario.setBudget("acme", "50", [50, 100]);
      const [change] = (await scenario.nextEvent()).Records;
      // The same record, as a delayed delivery would carry it: made on 31 October.
      const late = { ...change, dynamodb: { ...change?.dynamodb, ApproximateCreationDateTime: Date.UTC(2026, 9, 31, 23, 59, 59) / 1000 } };

      // Act
      await scenario.handle(toDynamoDbStreamEvent([late]));

      // Assess
      expect(change?.dynamodb?.Keys?.sk?.S).toBe("BUDGET");
      expect(scenario.published.alerts.map((alert) => `${alert.month}:${alert.threshold}`)).toEqual(["2026-10:50", "2026-10:100"]);
    });

    it("evaluates a live budget change in the current month of its stream record", async () => {
      // Prepare: usage in this month and the next, so that the record's month has it whichever it is
      const scenario = await budgetScenario({ now: null });
      const now = new Date();
      const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 12));
      const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 12));
      await scenario.spend("acme", "60", thisMonth.toISOString());
      await scenario.spend("acme", "60", nextMonth.toISOString());
      await scenario.nextEvent();

      // Act: lowered below the spend, so no forecast whatever the day of the month
      await scenario.setBudget("acme", "50", [50, 80, 100]);
      const event = await scenario.nextEvent();
      await scenario.handle(event);

      // Assess
      const recordMonth = new Date((event.Records[0]?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString().slice(0, 7);
      expect(scenario.published.alerts.map((alert) => `${alert.month}:${alert.threshold}`)).toEqual([
        `${recordMonth}:50`,
        `${recordMonth}:80`,
        `${recordMonth}:100`,
      ]);
    });

    it("uses the default budget for tenants without one, and a tenant's own budget over it", async () => {
      // Prepare
      const scenario = await budgetScenario({ defaultBudget: budget("10", [50, 100]) });
      await scenario.setBudget("acme", "100", [50, 80, 100]);

      // Act
      await scenario.spend("globex", "6");
      await scenario.spend("acme", "6");
      await scenario.handle();

      // Assess
      expect(scenario.published.alerts).toMatchObject([{ tenantId: "globex", threshold: 50, budgetUsd: "10.00", spendUsd: "6.000000" }]);
    });

    it("fires nothing for a tenant without a budget when there is no default", async () => {
      // Prepare
      const scenario = await budgetScenario({ defaultBudget: null });

      // Act
      await scenario.spend("globex", "1000");
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts).toEqual([]);
    });

    it("does not use a stored budget that does not validate (a budget of 0 would fire every threshold)", async () => {
      // Prepare
      const scenario = await budgetScenario({ defaultBudget: budget("10") });
      await scenario.store.putBudget("acme", { monthlyUsd: "0", thresholds: [50, 100] });

      // Act
      await scenario.spend("acme", "1");
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts).toEqual([]);
      expect(metric("InvalidBudgets")).toBe(1);
    });
  });

  describe("forecast", () => {
    it("fires once when the projected month-end spend exceeds the budget, only after the first 10% of the month", async () => {
      // Prepare
      const scenario = await budgetScenario({ now: NOV_1 + 1.5 * DAY }); // 5% of November
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "20", "2026-11-02T06:00:00Z");
      await scenario.handle(); // projects 400 USD, but too early to tell

      // Act
      scenario.clock.now = NOV_1 + 9 * DAY; // 30%
      await scenario.spend("acme", "20", "2026-11-09T22:00:00Z");
      await scenario.handle();
      scenario.clock.now = NOV_1 + 10 * DAY;
      await scenario.spend("acme", "5", "2026-11-10T22:00:00Z");
      await scenario.handle();

      // Assess: 40 USD after 9 of 30 days projects exactly 40 x 30 / 9 = 133.333333333333(3) USD, floored to the pico-dollar
      expect(scenario.published.alerts).toEqual([
        { kind: "forecast", threshold: null, tenantId: "acme", month: "2026-11", spendUsd: "40.000000", budgetUsd: "100.00", forecastUsd: "133.333333333333" },
      ]);
      expect(metric("ForecastAlerts")).toBe(1);
      expect(metric("AlertsFired")).toBe(1);
    });
  });

  describe("records that call for no evaluation", () => {
    it("ignores removals, TTL deletes, dedup items, day items and alert markers", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "10", [50]);
      await scenario.spend("acme", "6");
      const usage = await scenario.nextEvent();
      await scenario.handle(usage);
      const markers = await scenario.nextEvent(); // the marker's INSERT, and its MODIFY once published
      await scenario.store.deleteBudget("acme");
      const removal = await scenario.nextEvent();
      const dedup = usage.Records.find((record) => record.dynamodb?.Keys?.pk?.S?.startsWith("R#"));
      // DynamoDB Local does not expire items on demand: a TTL delete, shaped as DynamoDB writes it.
      const ttlDelete: DynamoDBRecord = {
        ...dedup,
        eventName: "REMOVE",
        userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
        dynamodb: { ...dedup?.dynamodb, OldImage: dedup?.dynamodb?.NewImage, NewImage: undefined },
      };
      const ignorable = [
        ...usage.Records.filter((record) => !sortKeyOf(record).startsWith("M#") && sortKeyOf(record) !== "BUDGET"),
        ...markers.Records,
        ...removal.Records,
        ttlDelete,
      ];
      const firedAlerts = vi.spyOn(scenario.store, "firedAlerts");
      const getBudget = vi.spyOn(scenario.store, "getBudget");

      // Act
      const response = await scenario.handle(toDynamoDbStreamEvent(ignorable));

      // Assess
      expect(new Set(ignorable.map((record) => sortKeyOf(record).slice(0, 2)))).toEqual(new Set(["R", "D#", "A#", "BU"]));
      expect(markers.Records.map((record) => record.eventName)).toEqual(["INSERT", "MODIFY"]);
      expect(removal.Records.map((record) => record.eventName)).toEqual(["REMOVE"]);
      expect(response.batchItemFailures).toEqual([]);
      expect(firedAlerts).not.toHaveBeenCalled();
      expect(getBudget).not.toHaveBeenCalled();
      expect(scenario.published.alerts).toHaveLength(1);
    });
  });

  describe("publish failures", () => {
    it("reports the failed tenant's lowest record, and delivers the alert once on the retry", async () => {
      // Prepare
      const publisher = new FailingPublisher((alert) => alert.tenantId === "globex");
      const scenario = await budgetScenario({ publisher });
      await scenario.setBudget("acme", "10", [50]);
      await scenario.setBudget("globex", "10", [50]);
      await scenario.nextEvent();
      await scenario.spend("acme", "6");
      await scenario.spend("globex", "4");
      await scenario.spend("globex", "3");
      const event = await scenario.nextEvent();
      const globexMonthTotals = sequenceNumbersOf(event, (record) => record.dynamodb?.Keys?.pk?.S === tenantPk("globex") && sortKeyOf(record) === "M#2026-11");

      // Act
      const failed = await scenario.handle(event);
      publisher.failing = () => false;
      scenario.reader.retryFrom(failed.batchItemFailures[0]?.itemIdentifier ?? "");
      const retried = await scenario.handle();
      const again = await scenario.handle(toDynamoDbStreamEvent((await scenario.nextEvent()).Records.concat(event.Records)));

      // Assess
      expect(globexMonthTotals).toHaveLength(2);
      expect(failed.batchItemFailures).toEqual([{ itemIdentifier: globexMonthTotals[0] }]);
      expect(retried.batchItemFailures).toEqual([]);
      expect(again.batchItemFailures).toEqual([]);
      expect(publisher.alerts.map((alert) => `${alert.tenantId}:${alert.threshold}:${alert.spendUsd}`)).toEqual(["acme:50:6.000000", "globex:50:7.000000"]);
      expect(publisher.attempts.filter((alert) => alert.tenantId === "globex")).toHaveLength(2);
      expect(metric("AlertPublishFailures")).toBe(1);
      expect(metric("AlertsRedelivered")).toBe(1);
    });

    it("delivers an alert whose firer died before publishing once its claim lapses, exactly once among concurrent evaluations", async () => {
      // Prepare: the marker as a crashed invocation left it at 10:00
      const scenario = await budgetScenario({ now: Date.UTC(2026, 10, 20, 10) });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "55");
      const alert: BudgetAlert = {
        kind: "threshold",
        threshold: 50,
        tenantId: "acme",
        month: "2026-11",
        spendUsd: "55.000000",
        budgetUsd: "100.00",
        forecastUsd: "85.000000",
      };
      expect(await scenario.store.markAlertFired(alert, new Date(scenario.clock.now as number))).toBe(true);
      const event = await scenario.nextEvent();

      // Act
      scenario.clock.now = Date.UTC(2026, 10, 20, 10, 5);
      const withinClaim = await scenario.handle(event);
      const delivered = [...scenario.published.alerts];
      scenario.clock.now = Date.UTC(2026, 10, 20, 10, 16);
      const [one, two] = [scenario.newHandler(), scenario.newHandler()];
      const afterLapse = await Promise.all([one(event), two(event)]);

      // Assess
      expect(withinClaim.batchItemFailures).toEqual([]);
      expect(delivered).toEqual([]);
      expect(afterLapse.flatMap((response) => response.batchItemFailures)).toEqual([]);
      expect(scenario.published.alerts).toEqual([alert]);
      expect(await scenario.ledger.takeUndelivered("acme", "2026-11", Date.UTC(2026, 11, 1))).toEqual([]);
    });

    it("keeps an alert whose publish failed undelivered, and leaves its other thresholds delivered", async () => {
      // Prepare
      const publisher = new FailingPublisher((alert) => alert.threshold === 80);
      const scenario = await budgetScenario({ publisher });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "100");

      // Act
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toHaveLength(1);
      expect(firedThresholds(publisher.alerts)).toEqual([50, 100]);
      const undelivered = await scenario.ledger.takeUndelivered("acme", "2026-11", scenario.clock.now as number);
      expect(undelivered.map((taken) => taken.alert.threshold)).toEqual([80]);
    });
  });
});

describe("Function: handler (middy, configured from the environment)", () => {
  const saved = { ...process.env };
  const context = {
    functionName: "budget-alert",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:budget-alert",
    memoryLimitInMB: "256",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
    logGroupName: "/aws/lambda/budget-alert",
    logStreamName: "2026/11/27/[$LATEST]abcdef",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };

  afterEach(() => {
    process.env = { ...saved };
  });

  it("fails closed, naming the setting, when the table or every alert destination is missing", async () => {
    // Prepare
    delete process.env.TABLE_NAME;
    delete process.env.ALERT_TOPIC_ARN;
    delete process.env.EVENT_BUS_NAME;

    // Act
    const withoutTable = await handler({ Records: [] }, context).catch((error: unknown) => error);
    process.env.TABLE_NAME = "aggregates";
    const withoutDestination = await handler({ Records: [] }, context).catch((error: unknown) => error);

    // Assess
    expect((withoutTable as Error).message).toBe("TABLE_NAME: environment variable is required");
    expect((withoutDestination as Error).message).toBe("ALERT_TOPIC_ARN: or EVENT_BUS_NAME is required: alerts need somewhere to go");
  });

  it("builds itself from the environment on first use and answers a batch with nothing to evaluate", async () => {
    // Prepare
    process.env.TABLE_NAME = "aggregates";
    process.env.EVENT_BUS_NAME = "bedrock-spend";
    process.env.DEFAULT_BUDGET_USD = "100";
    process.env.AWS_REGION = "us-east-1";

    // Act
    const response = await handler({ Records: [] }, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
  });
});

describe("Class: AlertDeliveryLedger", () => {
  it("lets one evaluation at a time take over an undelivered alert, and none once it is confirmed", async () => {
    // Prepare
    const scenario = await budgetScenario();
    const ledger = new AlertDeliveryLedger(scenario.client, scenario.tableName, { leaseMs: 60_000 });
    const alert: BudgetAlert = { kind: "forecast", threshold: null, tenantId: "a#b", month: "2026-11", spendUsd: "1", budgetUsd: "2.00", forecastUsd: "3" };
    await scenario.store.markAlertFired(alert, new Date(NOV_1));

    // Act
    const claimed = await ledger.takeUndelivered("a#b", "2026-11", NOV_1 + 59_999);
    const [first, second] = await Promise.all([
      ledger.takeUndelivered("a#b", "2026-11", NOV_1 + 60_000),
      ledger.takeUndelivered("a#b", "2026-11", NOV_1 + 60_000),
    ]);
    const taken = [...(first ?? []), ...(second ?? [])];
    await ledger.release(alert, taken[0]?.leaseUntil, NOV_1 + 61_000);
    const afterRelease = await ledger.takeUndelivered("a#b", "2026-11", NOV_1 + 61_000);
    await ledger.confirm(alert, NOV_1 + 62_000);
    const afterConfirm = await ledger.takeUndelivered("a#b", "2026-11", NOV_1 + DAY);

    // Assess
    expect(claimed).toEqual([]);
    expect(taken).toEqual([{ alert, leaseUntil: NOV_1 + 120_000 }]);
    expect(afterRelease).toEqual([{ alert, leaseUntil: NOV_1 + 121_000 }]);
    expect(afterConfirm).toEqual([]);
  });
});

describe("Class: DynamoDbStreamReader", () => {
  it("returns each record once, in the Lambda event's shape, and only new records on the next poll", async () => {
    // Prepare
    const scenario = await budgetScenario();
    const description = await scenario.client.send(new DescribeTableCommand({ TableName: scenario.tableName }));
    await scenario.setBudget("acme", "100");

    // Act
    const first = await scenario.reader.poll();
    const empty = await scenario.reader.poll();
    await scenario.setBudget("acme", "200");
    const second = await scenario.reader.poll();

    // Assess
    expect(first).toHaveLength(1);
    expect(empty).toEqual([]);
    expect(second).toHaveLength(1);
    expect(first[0]).toMatchObject({
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      eventVersion: "1.1",
      eventSourceARN: description.Table?.LatestStreamArn,
      dynamodb: {
        Keys: { pk: { S: "T#acme" }, sk: { S: "BUDGET" } },
        NewImage: { monthlyUsd: { S: "100.00" }, thresholds: { L: [{ N: "50" }, { N: "80" }, { N: "100" }] } },
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
    expect(Number.isInteger(first[0]?.dynamodb?.ApproximateCreationDateTime)).toBe(true);
    expect(second[0]).toMatchObject({
      eventName: "MODIFY",
      dynamodb: { OldImage: { monthlyUsd: { S: "100.00" } }, NewImage: { monthlyUsd: { S: "200.00" } } },
    });
    expect(BigInt(second[0]?.dynamodb?.SequenceNumber ?? "0")).toBeGreaterThan(BigInt(first[0]?.dynamodb?.SequenceNumber ?? "0"));
  });

  it("re-reads from a failed record on, and resumes from a checkpoint", async () => {
    // Prepare
    const scenario = await budgetScenario();
    await scenario.setBudget("a", "1");
    await scenario.setBudget("b", "2");
    await scenario.setBudget("c", "3");
    const all = await scenario.reader.poll();

    // Act
    scenario.reader.retryFrom(all[1]?.dynamodb?.SequenceNumber ?? "");
    const retried = await scenario.reader.poll();
    const checkpoint = scenario.reader.checkpoint();
    await scenario.setBudget("d", "4");
    const resumed = new DynamoDbStreamReader({
      dynamoDb: scenario.client,
      streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")),
      tableName: scenario.tableName,
      checkpoint,
    });
    const after = await resumed.poll();

    // Assess
    const tenants = (records: DynamoDBRecord[]) => records.map((record) => record.dynamodb?.Keys?.pk?.S);
    expect(tenants(all)).toEqual(["T#a", "T#b", "T#c"]);
    expect(tenants(retried)).toEqual(["T#b", "T#c"]);
    expect(tenants(after)).toEqual(["T#d"]);
    expect(() => scenario.reader.retryFrom("999999")).toThrow(StreamReadError);
  });

  it("names the table when it has no stream", async () => {
    // Prepare
    const client = localDynamoDbClient(inject("dynamoDbEndpoint"));
    const tableName = `no-stream-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(inject("dynamoDbEndpoint")), tableName });

    // Act
    const failure = await reader.poll().catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(StreamReadError);
    expect((failure as StreamReadError).message).toBe(`${tableName}: the table has no stream (StreamSpecification.StreamEnabled is off)`);
  });
});
