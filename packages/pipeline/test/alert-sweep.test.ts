/**
 * The alert sweep (`sweepUndeliveredAlerts`) against DynamoDB Local: alerts fired by the real
 * stream path (`processBudgetStream` fed the real stream records) whose publish failed, and then no
 * further stream record for the tenant's month, found in the undelivered-alerts index and
 * delivered. The publisher is the one mock (SNS and EventBridge have no local implementation).
 */
import type { AlertPublisher } from "@bedrock-spend/adapters";
import type { BudgetAlert } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { AggregatesStore } from "@bedrock-spend/store";
import { describe, expect, inject, it } from "vitest";
import { ALERT_SWEEP_GRACE_MS, AlertSweepError, type AlertSweepEvent, sweepUndeliveredAlerts } from "../src/alert-sweep";
import { budgetScenario, FailingPublisher } from "./budget-factories";

const FIRED_AT = Date.UTC(2026, 10, 20, 10);
const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A scenario whose stream path fired acme's 50% alert at `FIRED_AT` and failed to publish it (the
 * stream records reported failed, the claim given back), after which the publisher works again and
 * no stream record of acme's month comes.
 */
async function undeliveredAlertScenario() {
  const publisher = new FailingPublisher();
  const scenario = await budgetScenario({ publisher, now: FIRED_AT });
  await scenario.setBudget("acme", "100", [50]);
  await scenario.spend("acme", "55");
  const records = await scenario.nextRecords();
  const failed = await scenario.handle(records);
  expect(failed.retryFrom).toBeDefined();
  expect(publisher.alerts).toEqual([]);
  const alert = publisher.attempts[0] as BudgetAlert;
  expect(alert).toMatchObject({ kind: "threshold", threshold: 50, tenantId: "acme", month: "2026-11", spendUsd: "55.000000" });
  publisher.failing = () => false;
  const sweepEvents: AlertSweepEvent[] = [];
  /** A sweep at `at` (epoch ms), as another Lambda instance would run it: its own client, the same table. */
  const sweep = (at: number, options: { publisher?: AlertPublisher } = {}) =>
    sweepUndeliveredAlerts({
      store: new AggregatesStore(localDynamoDbClient(inject("dynamoDbEndpoint")), scenario.tableName),
      publisher: options.publisher ?? publisher,
      now: () => at,
      onEvent: (event) => sweepEvents.push(event),
    });
  return { ...scenario, publisher, records, alert, sweepEvents, sweep };
}

describe("Function: sweepUndeliveredAlerts", () => {
  it("delivers an alert whose publish failed and whose month brought no further record, once, after the grace period only", async () => {
    // Prepare
    const scenario = await undeliveredAlertScenario();

    // Act
    const early = await scenario.sweep(FIRED_AT + ALERT_SWEEP_GRACE_MS - MINUTE);
    const afterGrace = await scenario.sweep(FIRED_AT + ALERT_SWEEP_GRACE_MS + MINUTE);
    const again = await scenario.sweep(FIRED_AT + ALERT_SWEEP_GRACE_MS + 2 * MINUTE);

    // Assess
    expect(early).toEqual({ stats: { found: 0, taken: 0, published: 0, failures: 0 }, error: undefined });
    expect(afterGrace).toEqual({ stats: { found: 1, taken: 1, published: 1, failures: 0 }, error: undefined });
    expect(again).toEqual({ stats: { found: 0, taken: 0, published: 0, failures: 0 }, error: undefined });
    expect(scenario.publisher.alerts).toEqual([scenario.alert]);
    expect(scenario.sweepEvents.map((event) => [event.type, event.tenantId, event.month])).toEqual([
      ["alert-redelivering", "acme", "2026-11"],
      ["alert-published", "acme", "2026-11"],
    ]);
    expect(await scenario.store.takeUndeliveredAlerts("acme", "2026-11", FIRED_AT + DAY)).toEqual([]);
  });

  it("delivers once when the stream's retry, and two sweeps, take the same alert at once", async () => {
    // Prepare
    const scenario = await undeliveredAlertScenario();
    const at = FIRED_AT + ALERT_SWEEP_GRACE_MS + MINUTE;
    scenario.clock.now = at;
    const streamRetry = scenario.newProcessor();

    // Act
    const [stream, first, second] = await Promise.all([streamRetry(scenario.records), scenario.sweep(at), scenario.sweep(at)]);

    // Assess
    expect(scenario.publisher.alerts).toEqual([scenario.alert]);
    expect(stream.retryFrom).toBeUndefined();
    expect(stream.stats.redelivered + first.stats.taken + second.stats.taken).toBe(1);
    expect(stream.stats.published + first.stats.published + second.stats.published).toBe(1);
    expect((await scenario.sweep(at + MINUTE)).stats).toEqual({ found: 0, taken: 0, published: 0, failures: 0 });
  });

  it("leaves an alert it took to the stream path while the stream path's claim holds, and sweeps it once that lapses", async () => {
    // Prepare: the stream's retry takes the alert over and dies before publishing (its lease runs 15 minutes)
    const scenario = await undeliveredAlertScenario();
    const takenAt = FIRED_AT + ALERT_SWEEP_GRACE_MS + MINUTE;
    const [taken] = await scenario.store.takeUndeliveredAlerts("acme", "2026-11", takenAt);

    // Act
    const whileClaimed = await scenario.sweep(takenAt + MINUTE);
    const afterLapse = await scenario.sweep((taken?.leaseUntil ?? 0) + MINUTE);

    // Assess
    expect(taken?.alert).toEqual(scenario.alert);
    expect(whileClaimed.stats).toEqual({ found: 1, taken: 0, published: 0, failures: 0 });
    expect(afterLapse.stats).toEqual({ found: 1, taken: 1, published: 1, failures: 0 });
    expect(scenario.publisher.alerts).toEqual([scenario.alert]);
  });

  it("reports an alert whose publish fails again, gives its claim back, and delivers it on a later sweep", async () => {
    // Prepare
    const scenario = await undeliveredAlertScenario();
    const down = new FailingPublisher();
    const at = FIRED_AT + ALERT_SWEEP_GRACE_MS + MINUTE;

    // Act
    const failed = await scenario.sweep(at, { publisher: down });
    const next = await scenario.sweep(at + MINUTE);

    // Assess
    expect(failed.stats).toEqual({ found: 1, taken: 1, published: 0, failures: 1 });
    expect(failed.error).toBeInstanceOf(AlertSweepError);
    expect(failed.error).toMatchObject({
      alertIds: ["acme#2026-11#050"],
      message: "1 undelivered alert(s) not delivered: acme#2026-11#050: test: alert acme#2026-11#050: topic unavailable",
    });
    expect(scenario.sweepEvents.map((event) => event.type)).toEqual(["alert-redelivering", "alert-publish-failed", "alert-redelivering", "alert-published"]);
    expect(down.attempts).toEqual([scenario.alert]);
    expect(next.stats).toEqual({ found: 1, taken: 1, published: 1, failures: 0 });
    expect(scenario.publisher.alerts).toEqual([scenario.alert]);
  });

  it("leaves alerts fired before its window (35 days) alone", async () => {
    // Prepare
    const scenario = await undeliveredAlertScenario();

    // Act
    const late = await scenario.sweep(FIRED_AT + 35 * DAY + MINUTE);

    // Assess
    expect(late.stats).toEqual({ found: 0, taken: 0, published: 0, failures: 0 });
    expect(scenario.publisher.alerts).toEqual([]);
  });
});
