/**
 * The alert path (`processBudgetStream`) against DynamoDB Local: usage written by the real
 * UsageWriter, budgets by the real store, and the real stream records read with
 * DynamoDbStreamReader. `scenario.totals` adds up the counts the handler sends as metrics
 * (fired: AlertsFired, suppressed: AlertsSuppressed, forecasts: ForecastAlerts, redelivered:
 * AlertsRedelivered, publishFailures: AlertPublishFailures, invalidBudgets: InvalidBudgets).
 */
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { BudgetAlert } from "@bedrock-spend/core";
import { AggregatesStore, MalformedBudgetError, tenantPk } from "@bedrock-spend/store";
import type { DynamoDBRecord } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { BudgetAlertError, type BudgetStreamEvent, processBudgetStream, type TableStreamRecord } from "../src/budget-alerts";
import { budget, budgetScenario, FailingPublisher, firedThresholds } from "./budget-factories";

const NOV_1 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

function sortKeyOf(record: DynamoDBRecord): string {
  return record.dynamodb?.Keys?.sk?.S ?? "";
}

function sequenceNumbersOf(records: readonly DynamoDBRecord[], predicate: (record: DynamoDBRecord) => boolean): string[] {
  return records.filter(predicate).map((record) => record.dynamodb?.SequenceNumber ?? "");
}

describe("Function: processBudgetStream", () => {
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
      expect(below.retryFrom).toBeUndefined();
      expect(response.retryFrom).toBeUndefined();
      expect(scenario.published.alerts).toEqual([
        { kind: "threshold", threshold: 50, tenantId: "acme", month: "2026-11", spendUsd: "55.000000", budgetUsd: "100.00", forecastUsd: "1650.000000" },
      ]);
      expect((await scenario.store.alerts("acme")).map((alert) => alert.threshold)).toEqual([50]);
      expect(scenario.totals.fired).toBe(1);
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
      expect(scenario.totals.fired).toBe(1);
      expect(scenario.totals.suppressed).toBe(2);
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
      const records = await scenario.nextRecords();

      // Act
      const first = await scenario.handle(records);
      const replay = await scenario.handle(records);

      // Assess
      expect(first.retryFrom).toBeUndefined();
      expect(replay.retryFrom).toBeUndefined();
      expect(firedThresholds(scenario.published.alerts)).toEqual([50, 80, 100]);
      expect(scenario.published.alerts.every((alert) => alert.spendUsd === "120.000000")).toBe(true);
      expect(scenario.totals.fired).toBe(3);
    });

    it("fires one alert per threshold when two instances evaluate the same tenant-month at once", async () => {
      // Prepare
      const scenario = await budgetScenario();
      const tenants = ["acme", "globex", "initech"];
      for (const tenant of tenants) await scenario.setBudget(tenant, "100", [50, 80, 100]);
      await scenario.nextRecords(); // the budgets themselves
      for (const tenant of tenants) await scenario.spend(tenant, "60");
      const first = await scenario.nextRecords();
      for (const tenant of tenants) await scenario.spend(tenant, "70");
      const second = await scenario.nextRecords();
      const [one, two] = [scenario.newProcessor(), scenario.newProcessor()];

      // Act: a retried batch and the next batch in flight together, the same batch twice
      const responses = await Promise.all([one(first), two(second), one(second), two(first)]);

      // Assess
      expect(responses.map((response) => response.retryFrom)).toEqual([undefined, undefined, undefined, undefined]);
      for (const tenant of tenants) {
        const alerts = scenario.published.alerts.filter((alert) => alert.tenantId === tenant);
        expect(firedThresholds(alerts).sort()).toEqual([100, 50, 80]);
        expect((await scenario.store.alerts(tenant)).length).toBe(3);
      }
      expect(scenario.totals.fired).toBe(9);
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
      expect(response.retryFrom).toBeUndefined();
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
      expect(response.retryFrom).toBeUndefined();
      expect(scenario.published.alerts).toMatchObject([{ threshold: 50, budgetUsd: "100.00", spendUsd: "60.000000" }]);
    });

    it("evaluates a budget change in the month of its stream record, even when delivered after that month", async () => {
      // Prepare: no injected clock, so records are evaluated at their ApproximateCreationDateTime
      const scenario = await budgetScenario({ now: null });
      await scenario.spend("acme", "60", "2026-10-20T10:00:00Z");
      await scenario.nextRecords(); // usage without a budget: nothing to evaluate
      await scenario.setBudget("acme", "50", [50, 100]);
      const [change] = await scenario.nextRecords();
      // The same record, as a delayed delivery would carry it: made on 31 October.
      const late = { ...change, dynamodb: { ...change?.dynamodb, ApproximateCreationDateTime: Date.UTC(2026, 9, 31, 23, 59, 59) / 1000 } };

      // Act
      await scenario.handle([late]);

      // Assess
      expect(change?.dynamodb?.Keys?.sk?.S).toBe("BUDGET");
      expect(scenario.published.alerts.map((alert) => `${alert.month}:${alert.threshold}`)).toEqual(["2026-10:50", "2026-10:100"]);
    });

    it.each([
      ["2026-12-31T23:59:59Z", "2026-12"],
      ["2027-01-01T00:00:00Z", "2027-01"],
      ["2028-02-29T23:59:59Z", "2028-02"],
      ["2028-03-01T00:00:00Z", "2028-03"],
    ])("evaluates a live budget change made at %s in %s, the month of its stream record", async (at, month) => {
      // Prepare: usage in the record's month and in the months either side of it
      const scenario = await budgetScenario({ now: null });
      const record = Date.parse(at);
      const mid = (offset: number) => {
        const day = new Date(record);
        return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + offset, 15, 12)).toISOString();
      };
      for (const offset of [-1, 0, 1]) await scenario.spend("acme", "60", mid(offset));
      await scenario.nextRecords();

      // Act: lowered below the spend (so no forecast), the change stamped at the edge as a live record would be
      await scenario.setBudget("acme", "50", [50, 80, 100]);
      const [change] = await scenario.nextRecords();
      const live = { ...change, dynamodb: { ...change?.dynamodb, ApproximateCreationDateTime: record / 1000 } };
      await scenario.handle([live]);

      // Assess
      expect(change?.dynamodb?.Keys?.sk?.S).toBe("BUDGET");
      expect(scenario.published.alerts.map((alert) => `${alert.month}:${alert.threshold}`)).toEqual([`${month}:50`, `${month}:80`, `${month}:100`]);
    });

    it.each([
      ["2026-12-31T23:59:59Z", "2026-12", ["threshold:50", "threshold:80", "forecast:null"]],
      ["2027-01-01T00:00:00Z", "2027-01", ["threshold:50", "threshold:80"]],
      ["2028-02-29T23:59:59Z", "2028-02", ["threshold:50", "threshold:80", "forecast:null"]],
      ["2028-03-01T00:00:00Z", "2028-03", ["threshold:50", "threshold:80"]],
    ])("counts spend made at %s into %s and alerts there, forecasting only once the month is under way", async (at, month, expected) => {
      // Prepare: the clock at the very instant of the spend
      const scenario = await budgetScenario({ now: Date.parse(at) });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.nextRecords();

      // Act: 99.999999 USD: one second before the end it projects above 100; in the first second it is too early to project
      await scenario.spend("acme", "99.999999", at);
      await scenario.handle();

      // Assess
      expect(scenario.published.alerts.map((alert) => alert.month)).toEqual(expected.map(() => month));
      expect(scenario.published.alerts.map((alert) => `${alert.kind}:${alert.threshold}`)).toEqual(expected);
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
      expect(response.retryFrom).toBeUndefined();
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
      expect(response.retryFrom).toBeUndefined();
      expect(scenario.published.alerts).toEqual([]);
      expect(scenario.totals.invalidBudgets).toBe(1);
    });

    it("does not use a stored budget item that cannot be read as a budget, nor the default instead", async () => {
      // Prepare: an item without monthlyUsd (getBudget throws MalformedBudgetError rather than inventing "0")
      const scenario = await budgetScenario({ defaultBudget: budget("10") });
      await scenario.client.send(
        new PutItemCommand({
          TableName: scenario.tableName,
          Item: { pk: { S: tenantPk("acme") }, sk: { S: "BUDGET" }, kind: { S: "budget" }, thresholds: { L: [{ N: "50" }] } },
        }),
      );
      await expect(scenario.store.getBudget("acme")).rejects.toBeInstanceOf(MalformedBudgetError);

      // Act
      await scenario.spend("acme", "9");
      const response = await scenario.handle();

      // Assess
      expect(response.retryFrom).toBeUndefined();
      expect(scenario.published.alerts).toEqual([]);
      expect(scenario.totals.invalidBudgets).toBe(1); // the budget's record and the spend's: one evaluation of November
      expect(scenario.events).toEqual([
        { type: "invalid-budget", tenantId: "acme", month: "2026-11", field: "monthlyUsd", reason: "is missing or not a string" },
      ]);
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
      expect(scenario.totals.forecasts).toBe(1);
      expect(scenario.totals.fired).toBe(1);
    });
  });

  describe("records that call for no evaluation", () => {
    it("ignores removals, TTL deletes, dedup items, day items and alert markers", async () => {
      // Prepare
      const scenario = await budgetScenario();
      await scenario.setBudget("acme", "10", [50]);
      await scenario.spend("acme", "6");
      const usage = await scenario.nextRecords();
      await scenario.handle(usage);
      const markers = await scenario.nextRecords(); // the marker's INSERT, and its MODIFY once published
      await scenario.store.deleteBudget("acme");
      const removal = await scenario.nextRecords();
      const dedup = usage.find((record) => record.dynamodb?.Keys?.pk?.S?.startsWith("R#"));
      // DynamoDB Local does not expire items on demand: a TTL delete, shaped as DynamoDB writes it.
      const ttlDelete: DynamoDBRecord = {
        ...dedup,
        eventName: "REMOVE",
        userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
        dynamodb: { ...dedup?.dynamodb, OldImage: dedup?.dynamodb?.NewImage, NewImage: undefined },
      };
      const ignorable = [...usage.filter((record) => !sortKeyOf(record).startsWith("M#") && sortKeyOf(record) !== "BUDGET"), ...markers, ...removal, ttlDelete];
      const firedAlerts = vi.spyOn(scenario.store, "firedAlerts");
      const getBudget = vi.spyOn(scenario.store, "getBudget");

      // Act
      const response = await scenario.handle(ignorable);

      // Assess
      expect(new Set(ignorable.map((record) => sortKeyOf(record).slice(0, 2)))).toEqual(new Set(["R", "D#", "A#", "BU"]));
      expect(markers.map((record) => record.eventName)).toEqual(["INSERT", "MODIFY"]);
      expect(removal.map((record) => record.eventName)).toEqual(["REMOVE"]);
      expect(response.retryFrom).toBeUndefined();
      expect(response.stats).toMatchObject({ records: ignorable.length, evaluations: 0 });
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
      await scenario.nextRecords();
      await scenario.spend("acme", "6");
      await scenario.spend("globex", "4");
      await scenario.spend("globex", "3");
      const records = await scenario.nextRecords();
      const globexMonthTotals = sequenceNumbersOf(
        records,
        (record) => record.dynamodb?.Keys?.pk?.S === tenantPk("globex") && sortKeyOf(record) === "M#2026-11",
      );

      // Act
      const failed = await scenario.handle(records);
      publisher.failing = () => false;
      scenario.reader.retryFrom(failed.retryFrom ?? "");
      const retried = await scenario.handle();
      const again = await scenario.handle((await scenario.nextRecords()).concat(records));

      // Assess
      expect(globexMonthTotals).toHaveLength(2);
      expect(failed.retryFrom).toBe(globexMonthTotals[0]);
      expect(retried.retryFrom).toBeUndefined();
      expect(again.retryFrom).toBeUndefined();
      expect(publisher.alerts.map((alert) => `${alert.tenantId}:${alert.threshold}:${alert.spendUsd}`)).toEqual(["acme:50:6.000000", "globex:50:7.000000"]);
      expect(publisher.attempts.filter((alert) => alert.tenantId === "globex")).toHaveLength(2);
      expect(scenario.totals.publishFailures).toBe(1);
      expect(scenario.totals.redelivered).toBe(1);
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
      const records = await scenario.nextRecords();

      // Act
      scenario.clock.now = Date.UTC(2026, 10, 20, 10, 5);
      const withinClaim = await scenario.handle(records);
      const delivered = [...scenario.published.alerts];
      scenario.clock.now = Date.UTC(2026, 10, 20, 10, 16);
      const [one, two] = [scenario.newProcessor(), scenario.newProcessor()];
      const afterLapse = await Promise.all([one(records), two(records)]);

      // Assess
      expect(withinClaim.retryFrom).toBeUndefined();
      expect(delivered).toEqual([]);
      expect(afterLapse.map((response) => response.retryFrom)).toEqual([undefined, undefined]);
      expect(scenario.published.alerts).toEqual([alert]);
      expect(await scenario.store.takeUndeliveredAlerts("acme", "2026-11", Date.UTC(2026, 11, 1))).toEqual([]);
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
      expect(response.retryFrom).toBeDefined();
      expect(firedThresholds(publisher.alerts)).toEqual([50, 100]);
      const undelivered = await scenario.store.takeUndeliveredAlerts("acme", "2026-11", scenario.clock.now as number);
      expect(undelivered.map((taken) => taken.alert.threshold)).toEqual([80]);
    });

    it("reports each publish, the failed one, and the month's failure with its records, for the caller to log", async () => {
      // Prepare
      const publisher = new FailingPublisher((alert) => alert.threshold === 80);
      const scenario = await budgetScenario({ publisher });
      await scenario.setBudget("acme", "100", [50, 80, 100]);
      await scenario.nextRecords();
      await scenario.spend("acme", "100");
      const records = await scenario.nextRecords();
      const monthTotal = sequenceNumbersOf(records, (record) => sortKeyOf(record) === "M#2026-11");

      // Act
      const response = await scenario.handle(records);

      // Assess
      const keys = { tenantId: "acme", month: "2026-11" };
      expect(scenario.events.map((event) => [event.type, "alert" in event ? event.alert.threshold : null])).toEqual([
        ["alert-published", 50],
        ["alert-publish-failed", 80],
        ["alert-published", 100],
        ["evaluation-failed", null],
      ]);
      expect(scenario.events.every((event) => event.tenantId === keys.tenantId && event.month === keys.month)).toBe(true);
      const failure = scenario.events.at(-1) as Extract<BudgetStreamEvent, { type: "evaluation-failed" }>;
      expect(failure.error).toBeInstanceOf(BudgetAlertError);
      expect(failure.error).toMatchObject({ ...keys, message: "acme 2026-11: test: alert acme#2026-11#080: topic unavailable" });
      expect(failure.sequenceNumbers).toEqual(monthTotal);
      expect(response).toEqual({
        retryFrom: monthTotal[0],
        stats: {
          records: records.length,
          evaluations: 1,
          failedEvaluations: 1,
          fired: 3,
          forecasts: 0,
          suppressed: 0,
          redelivered: 0,
          published: 2,
          publishFailures: 1,
          invalidBudgets: 0,
        },
      });
    });

    it("does not fail the record when a publish is not recorded as published, and publishes again once the claim lapses", async () => {
      // Prepare: a store whose confirmation fails once
      const scenario = await budgetScenario({ now: Date.UTC(2026, 10, 20, 10) });
      const store = new AggregatesStore(scenario.client, scenario.tableName);
      const confirm = vi.spyOn(store, "confirmAlertDelivery").mockRejectedValueOnce(new Error("throttled"));
      const deps = { ...scenario.dependencies(), store };
      await scenario.setBudget("acme", "100", [50]);
      await scenario.spend("acme", "55");
      const records = await scenario.nextRecords();
      const events: BudgetStreamEvent[] = [];

      // Act
      const first = await processBudgetStream(records, { ...deps, onEvent: (event) => events.push(event) });
      scenario.clock.now = Date.UTC(2026, 10, 20, 10, 16);
      const second = await processBudgetStream(records, deps);

      // Assess
      expect(first.retryFrom).toBeUndefined();
      expect(events.map((event) => event.type)).toEqual(["alert-published", "delivery-confirm-failed"]);
      expect(second.retryFrom).toBeUndefined();
      expect(second.stats).toMatchObject({ fired: 0, redelivered: 1, published: 1 });
      expect(firedThresholds(scenario.published.alerts)).toEqual([50, 50]);
      expect(confirm).toHaveBeenCalledTimes(2);
      expect(await store.takeUndeliveredAlerts("acme", "2026-11", Date.UTC(2026, 11, 1))).toEqual([]);
    });
  });

  describe("records of any source", () => {
    it("takes plain records, and retries from the numerically lowest failed sequence number", async () => {
      // Prepare: a store that fails for globex and initech, whose records' numbers sort differently as text
      const failure = new Error("ProvisionedThroughputExceeded");
      const failing = new Set(["globex", "initech"]);
      const store = {
        firedAlerts: vi.fn(async (tenantId: string) => {
          if (failing.has(tenantId)) throw failure;
          return new Set<number | "FORECAST">();
        }),
        getBudget: vi.fn(async () => undefined),
        monthTotal: vi.fn(async () => undefined),
        markAlertFired: vi.fn(async () => true),
        takeUndeliveredAlerts: vi.fn(async () => []),
        confirmAlertDelivery: vi.fn(async () => undefined),
        releaseAlertClaim: vi.fn(async () => undefined),
      };
      const record = (tenant: string, sk: string, sequenceNumber: string, costPico?: string): TableStreamRecord => ({
        eventName: "MODIFY",
        dynamodb: {
          Keys: { pk: { S: tenantPk(tenant) }, sk: { S: sk } },
          ...(costPico ? { NewImage: { costPico: { N: costPico } } } : {}),
          SequenceNumber: sequenceNumber,
        },
      });
      const events: BudgetStreamEvent[] = [];

      // Act
      const result = await processBudgetStream(
        [
          record("acme", "M#2026-11", "800", "5"),
          record("initech", "M#2026-11", "1000", "7"),
          record("globex", "M#2026-11", "900", "1"),
          record("globex", "M#2026-11", "1100", "3"),
          record("acme", "M#2026-11", ""), // without a sequence number: not evaluated
        ],
        { store, publisher: new FailingPublisher(), defaultBudget: budget("10"), now: () => NOV_1, onEvent: (event) => events.push(event) },
      );

      // Assess
      expect(result.retryFrom).toBe("900");
      expect(result.stats).toMatchObject({ records: 5, evaluations: 3, failedEvaluations: 2 });
      expect(store.firedAlerts.mock.calls).toEqual([
        ["acme", "2026-11"],
        ["initech", "2026-11"],
        ["globex", "2026-11"],
      ]);
      expect(events).toEqual([
        { type: "evaluation-failed", tenantId: "initech", month: "2026-11", error: failure, sequenceNumbers: ["1000"] },
        { type: "evaluation-failed", tenantId: "globex", month: "2026-11", error: failure, sequenceNumbers: ["900", "1100"] },
      ]);
    });
  });
});
