/**
 * The budget-alert handler against DynamoDB Local: usage written by the real UsageWriter, budgets by
 * the real store, and the handler fed the real stream records read with DynamoDbStreamReader. The
 * alert path's own behaviour is tested in packages/pipeline/test/budget-alerts.test.ts; here, what
 * the handler adds: Lambda events in, batch item failures out, metrics and logs.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DescribeTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { MemoryAlertPublisher } from "@bedrock-spend/adapters";
import { DynamoDbStreamReader, localDynamoDbClient, localDynamoDbStreamsClient, StreamReadError, toDynamoDbStreamEvent } from "@bedrock-spend/emulators";
import type { AggregatesStore } from "@bedrock-spend/store";
import { tenantPk } from "@bedrock-spend/store";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, inject, it, type MockInstance, vi } from "vitest";
import { createBudgetAlertHandler, handler } from "../src/budget-alert";
import { logger, metrics } from "../src/lib/powertools";
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
  describe("metrics", () => {
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

    it("fires a forecast once when the projected month-end spend exceeds the budget, only after the first 10% of the month", async () => {
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

    it("counts a stored budget item that cannot be read as a budget as an invalid budget, and logs the attribute", async () => {
      // Prepare: an item without monthlyUsd
      const scenario = await budgetScenario({ defaultBudget: budget("10") });
      await scenario.client.send(
        new PutItemCommand({
          TableName: scenario.tableName,
          Item: { pk: { S: tenantPk("acme") }, sk: { S: "BUDGET" }, kind: { S: "budget" }, thresholds: { L: [{ N: "50" }] } },
        }),
      );
      const error = vi.spyOn(logger, "error");

      // Act
      await scenario.spend("acme", "9");
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(scenario.published.alerts).toEqual([]);
      expect(metric("InvalidBudgets")).toBe(1);
      expect(error).toHaveBeenCalledWith("stored budget is invalid; no alerts evaluated", {
        tenantId: "acme",
        month: "2026-11",
        field: "monthlyUsd",
        reason: "is missing or not a string",
      });
      error.mockRestore();
    });

    it("sends no metric for a batch with nothing to evaluate", async () => {
      // Prepare
      const store = {} as AggregatesStore; // not called
      const handle = createBudgetAlertHandler({ store, publisher: new MemoryAlertPublisher(), defaultBudget: budget("10") });

      // Act
      const response = await handle({ Records: [] });

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(addMetric).not.toHaveBeenCalled();
    });
  });

  describe("logs", () => {
    it("logs each alert published with its alertId, tenant and month, and the failed evaluation with its error", async () => {
      // Prepare
      const publisher = new FailingPublisher((alert) => alert.threshold === 80);
      const scenario = await budgetScenario({ publisher });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.spend("acme", "100");
      const info = vi.spyOn(logger, "info");
      const error = vi.spyOn(logger, "error");

      // Act
      const response = await scenario.handle();

      // Assess
      expect(response.batchItemFailures).toHaveLength(1);
      expect(firedThresholds(publisher.alerts)).toEqual([50, 100]);
      expect(info.mock.calls).toEqual([
        [
          "budget alert published",
          { tenantId: "acme", month: "2026-11", alertId: "acme#2026-11#050", kind: "threshold", threshold: 50, spendUsd: "100.000000" },
        ],
        [
          "budget alert published",
          { tenantId: "acme", month: "2026-11", alertId: "acme#2026-11#100", kind: "threshold", threshold: 100, spendUsd: "100.000000" },
        ],
        // The first batch of a consumer on a table counted in before it ran: ranked from its clock's now on.
        ["rank marker written: months from then on are ranked from their entries", { since: "2026-11-02T00:00:00.000Z" }],
      ]);
      expect(error.mock.calls).toHaveLength(1);
      expect(error.mock.calls[0]?.[0]).toBe("budget evaluation failed; its records will be retried");
      expect(error.mock.calls[0]?.[1]).toMatchObject({ tenantId: "acme", month: "2026-11", error: { name: "BudgetAlertError" } });
      expect(metric("AlertPublishFailures")).toBe(1);
      info.mockRestore();
      error.mockRestore();
    });

    it("warns when the rank marker cannot be written, retries nothing for it, and writes it on the next batch", async () => {
      // Prepare: the first batch's marker write is denied.
      const scenario = await budgetScenario();
      await scenario.spend("acme", "1");
      const { store, ...rest } = scenario.dependencies();
      let denied = 1;
      const denying = Object.assign(Object.create(store) as AggregatesStore, {
        markRankSince: (seconds: number) =>
          denied-- > 0 ? Promise.reject(new Error("AccessDeniedException: dynamodb:PutItem")) : store.markRankSince(seconds),
      });
      const handle = createBudgetAlertHandler({ ...rest, store: denying });
      const warn = vi.spyOn(logger, "warn");

      // Act
      const first = await handle(await scenario.nextEvent());
      await scenario.spend("acme", "1");
      const second = await handle(await scenario.nextEvent());

      // Assess
      expect(first.batchItemFailures).toEqual([]);
      expect(warn.mock.calls.map(([message]) => message)).toEqual(["rank marker not written; the next batch writes it"]);
      expect(metric("RankMarkerFailures")).toBe(1);
      expect(second.batchItemFailures).toEqual([]);
      expect(await store.rankSince()).toBe(Date.UTC(2026, 10, 2) / 1000);
      warn.mockRestore();
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
    const tableName = `no-stream-${randomUUID()}`;
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
