/**
 * The alert-sweep handler against DynamoDB Local: an alert the budget-alert handler fired and
 * could not publish (the stream path's scenario, its publisher failing), then swept. The sweep's
 * own behaviour is tested in packages/pipeline/test/alert-sweep.test.ts; here, what the handler
 * adds: metrics, logs, a failed invocation when an alert was not delivered, and the Lambda entry
 * point configured from the environment (EventBridge, which has no local implementation, stood in
 * for by an HTTP server that accepts PutEvents).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AlertSweepError } from "@bedrock-spend/pipeline";
import { afterEach, beforeEach, describe, expect, inject, it, type MockInstance, vi } from "vitest";
import { createAlertSweepHandler, handler } from "../src/alert-sweep";
import { logger, metrics } from "../src/lib/powertools";
import { budgetScenario, FailingPublisher } from "./helpers/budget-factories";
import { lambdaContext } from "./helpers/transform-events";

const FIRED_AT = Date.UTC(2026, 10, 20, 10);
/** Past the sweep's grace period (15 minutes) after the alert fired. */
const AFTER_GRACE = FIRED_AT + 16 * 60_000;

let addMetric: MockInstance<typeof metrics.addMetric>;

beforeEach(() => {
  addMetric = vi.spyOn(metrics, "addMetric");
});

afterEach(() => {
  vi.restoreAllMocks();
  metrics.clearMetrics();
  metrics.clearDimensions();
});

/** The values sent for a metric since the test began, in order. */
function sent(name: string): number[] {
  return addMetric.mock.calls.filter(([metricName]) => metricName === name).map((call) => Number(call[2]));
}

/** acme's 50% alert fired by the budget-alert handler at `FIRED_AT`, its publish failed, and no further stream record. */
async function undeliveredAlert() {
  const publisher = new FailingPublisher();
  const scenario = await budgetScenario({ publisher, now: FIRED_AT });
  await scenario.setBudget("acme", "100", [50]);
  await scenario.spend("acme", "55");
  const response = await scenario.handle();
  expect(response.batchItemFailures).toHaveLength(1);
  addMetric.mockClear();
  return { ...scenario, publisher };
}

describe("Function: alert-sweep handler", () => {
  it("delivers an alert the stream path could not publish, once, and sends each run's counts, zeros too", async () => {
    // Prepare
    const scenario = await undeliveredAlert();
    scenario.publisher.failing = () => false;
    const sweep = createAlertSweepHandler({ store: scenario.store, publisher: scenario.publisher, now: () => AFTER_GRACE });
    const info = vi.spyOn(logger, "info");

    // Act
    const first = await sweep({});
    const second = await sweep({});

    // Assess
    expect(first).toEqual({ found: 1, taken: 1, published: 1, failures: 0 });
    expect(second).toEqual({ found: 0, taken: 0, published: 0, failures: 0 });
    expect(scenario.publisher.alerts.map((alert) => `${alert.tenantId}:${alert.month}:${alert.threshold}`)).toEqual(["acme:2026-11:50"]);
    expect(sent("AlertsSwept")).toEqual([1, 0]);
    expect(sent("AlertsSweepPublished")).toEqual([1, 0]);
    expect(sent("AlertSweepFailures")).toEqual([0, 0]);
    expect(info.mock.calls).toEqual([
      ["delivering an alert fired earlier", { tenantId: "acme", month: "2026-11", alertId: "acme#2026-11#050" }],
      ["budget alert published", { tenantId: "acme", month: "2026-11", alertId: "acme#2026-11#050", kind: "threshold", threshold: 50, spendUsd: "55.000000" }],
    ]);
  });

  it("fails the invocation when an alert could not be delivered, after sending the counts and logging the alert", async () => {
    // Prepare
    const scenario = await undeliveredAlert();
    const sweep = createAlertSweepHandler({ store: scenario.store, publisher: scenario.publisher, now: () => AFTER_GRACE });
    const error = vi.spyOn(logger, "error");

    // Act
    const failure = await sweep({}).catch((thrown: unknown) => thrown);

    // Assess
    expect(failure).toBeInstanceOf(AlertSweepError);
    expect((failure as AlertSweepError).alertIds).toEqual(["acme#2026-11#050"]);
    expect(sent("AlertsSwept")).toEqual([1]);
    expect(sent("AlertSweepFailures")).toEqual([1]);
    expect(error.mock.calls).toHaveLength(1);
    expect(error.mock.calls[0]?.[0]).toBe("could not deliver an undelivered alert; the next sweep tries again");
    expect(error.mock.calls[0]?.[1]).toMatchObject({ tenantId: "acme", month: "2026-11", alertId: "acme#2026-11#050", error: { name: "AlertPublishError" } });
    expect(scenario.publisher.attempts).toHaveLength(2);
  });
});

/** An EventBridge endpoint that accepts every PutEvents and keeps the requests' bodies. */
async function eventBridgeStandIn(): Promise<{ endpoint: string; requests: { target: string; body: Record<string, unknown> }[]; server: Server }> {
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({ target: String(request.headers["x-amz-target"]), body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> });
      response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      response.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: "event-1" }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe("Function: handler (middy, configured from the environment)", () => {
  const saved = { ...process.env };
  let standIn: Server | undefined;

  afterEach(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    vi.useRealTimers();
    await new Promise((resolve) => (standIn ? standIn.close(resolve) : resolve(undefined)));
    standIn = undefined;
  });

  it("fails closed, naming the setting, when the table or every alert destination is missing", async () => {
    // Prepare
    delete process.env.TABLE_NAME;
    delete process.env.ALERT_TOPIC_ARN;
    delete process.env.EVENT_BUS_NAME;

    // Act
    const withoutTable = await handler({}, lambdaContext("bedrock-spend-alert-sweep")).catch((error: unknown) => error);
    process.env.TABLE_NAME = "aggregates";
    const withoutDestination = await handler({}, lambdaContext("bedrock-spend-alert-sweep")).catch((error: unknown) => error);

    // Assess
    expect((withoutTable as Error).message).toBe("TABLE_NAME: environment variable is required");
    expect((withoutDestination as Error).message).toBe("ALERT_TOPIC_ARN: or EVENT_BUS_NAME is required: alerts need somewhere to go");
  });

  it("sweeps the table TABLE_NAME names, by the machine's clock, onto the bus EVENT_BUS_NAME names", async () => {
    // Prepare: the machine's clock pinned past the grace period
    const scenario = await undeliveredAlert();
    const eventBridge = await eventBridgeStandIn();
    standIn = eventBridge.server;
    Object.assign(process.env, {
      TABLE_NAME: scenario.tableName,
      EVENT_BUS_NAME: "bedrock-spend-test",
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamoDbEndpoint"),
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(AFTER_GRACE);

    // Act
    const stats = await handler({ "detail-type": "Scheduled Event", source: "aws.events", detail: {} }, lambdaContext("bedrock-spend-alert-sweep"));

    // Assess
    expect(stats).toEqual({ found: 1, taken: 1, published: 1, failures: 0 });
    expect(eventBridge.requests).toHaveLength(1);
    expect(eventBridge.requests[0]?.target).toBe("AWSEvents.PutEvents");
    expect(eventBridge.requests[0]?.body).toMatchObject({ Entries: [{ EventBusName: "bedrock-spend-test", DetailType: "Budget Threshold Reached" }] });
    expect(await scenario.store.takeUndeliveredAlerts("acme", "2026-11", AFTER_GRACE + 86_400_000)).toEqual([]);
  });
});
