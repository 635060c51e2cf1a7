/**
 * Contract tests of the alert publishers: the exact SNS and EventBridge requests, and what a
 * failure turns into. The AWS SDK clients are stubbed with aws-sdk-client-mock.
 */
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { BedrockSpendError } from "@bedrock-spend/core";
import { alertIdOf } from "@bedrock-spend/store";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  AlertPublishError,
  type AlertPublisher,
  awsAlertPublisher,
  EventBridgeAlertPublisher,
  FanOutAlertPublisher,
  MemoryAlertPublisher,
  SnsAlertPublisher,
} from "../src/alert-publisher";
import { budgetAlert, forecastAlert } from "./helpers/budget-alert-factory";

const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:bedrock-spend-alerts";
const BUS = "bedrock-spend";

const sns = mockClient(SNSClient);
const eventBridge = mockClient(EventBridgeClient);

afterEach(() => {
  sns.reset();
  eventBridge.reset();
});

describe("Class: SnsAlertPublisher", () => {
  it("publishes the alert's JSON to the topic, with a subject and tenant, kind and alert id attributes", async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const alert = budgetAlert();

    // Act
    await new SnsAlertPublisher(new SNSClient({ region: "us-east-1" }), TOPIC_ARN).publish(alert);

    // Assess
    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      {
        TopicArn: TOPIC_ARN,
        Subject: "Budget 80% reached: acme 2026-11",
        Message: JSON.stringify(alert),
        MessageAttributes: {
          tenantId: { DataType: "String", StringValue: "acme" },
          kind: { DataType: "String", StringValue: "threshold" },
          alertId: { DataType: "String", StringValue: "acme#2026-11#080" },
        },
      },
    ]);
    expect(JSON.parse(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? "")).toEqual(alert);
  });

  it("titles a forecast alert as such", async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: "m-2" });

    // Act
    await new SnsAlertPublisher(new SNSClient({ region: "us-east-1" }), TOPIC_ARN).publish(forecastAlert());

    // Assess
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toBe("Budget forecast exceeded: acme 2026-11");
    expect(input?.MessageAttributes?.kind).toEqual({ DataType: "String", StringValue: "forecast" });
  });

  it("keeps the subject within SNS's 100 printable ASCII characters, whatever the tenant id", async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: "m-3" });
    const tenantId = `Zürich\nteam ${"x".repeat(200)}`;

    // Act
    await new SnsAlertPublisher(new SNSClient({ region: "us-east-1" }), TOPIC_ARN).publish(budgetAlert({ tenantId }));

    // Assess
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toHaveLength(100);
    expect(input?.Subject).toMatch(/^Budget 80% reached: Z\?rich\?team x+~$/);
    expect(input?.MessageAttributes?.tenantId?.StringValue).toBe(tenantId);
  });

  it("throws an AlertPublishError naming the topic and the alert, with the SDK error as cause", async () => {
    // Prepare
    const sdkError = Object.assign(new Error("Topic does not exist"), { name: "NotFoundException" });
    sns.on(PublishCommand).rejects(sdkError);

    // Act
    const failure = await new SnsAlertPublisher(new SNSClient({ region: "us-east-1" }), TOPIC_ARN).publish(budgetAlert()).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AlertPublishError);
    expect(failure).toBeInstanceOf(BedrockSpendError);
    const error = failure as AlertPublishError;
    expect(error.name).toBe("AlertPublishError");
    expect(error.cause).toBe(sdkError);
    expect(error.context).toEqual({ publisher: "sns", destination: TOPIC_ARN, alertId: "acme#2026-11#080", tenantId: "acme", month: "2026-11", threshold: 80 });
    expect(error.message).toBe(`sns ${TOPIC_ARN}: alert acme#2026-11#080: Publish failed: Topic does not exist`);
  });
});

describe("Class: EventBridgeAlertPublisher", () => {
  it("puts one 'Budget Threshold Reached' event from bedrock-spend with the alert's figures", async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e-1" }] });

    // Act
    await new EventBridgeAlertPublisher(new EventBridgeClient({ region: "us-east-1" }), BUS).publish(budgetAlert());

    // Assess
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Entries: [
          {
            EventBusName: BUS,
            Source: "bedrock-spend",
            DetailType: "Budget Threshold Reached",
            Detail: JSON.stringify({
              alertId: "acme#2026-11#080",
              kind: "threshold",
              tenantId: "acme",
              month: "2026-11",
              thresholdPercent: 80,
              spendUsd: "80.250000",
              budgetUsd: "100.00",
              forecastMonthEndUsd: "120.375000",
            }),
          },
        ],
      },
    ]);
  });

  it("puts a 'Budget Forecast Exceeded' event for a forecast alert, without a threshold", async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e-2" }] });

    // Act
    await new EventBridgeAlertPublisher(new EventBridgeClient({ region: "us-east-1" }), BUS).publish(forecastAlert());

    // Assess
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe("Budget Forecast Exceeded");
    expect(JSON.parse(entry?.Detail ?? "")).toEqual({
      alertId: "acme#2026-11#FORECAST",
      kind: "forecast",
      tenantId: "acme",
      month: "2026-11",
      thresholdPercent: null,
      spendUsd: "40.000000",
      budgetUsd: "100.00",
      forecastMonthEndUsd: "133.333333333333",
    });
  });

  it("throws an AlertPublishError naming the rejected entry when PutEvents answers with a failed entry", async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "Try again" }] });

    // Act
    const failure = await new EventBridgeAlertPublisher(new EventBridgeClient({ region: "us-east-1" }), BUS)
      .publish(budgetAlert())
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AlertPublishError);
    const error = failure as AlertPublishError;
    expect(error.entry).toEqual({ detailType: "Budget Threshold Reached", errorCode: "InternalFailure", errorMessage: "Try again" });
    expect(error.context).toMatchObject({ publisher: "eventbridge", destination: BUS, alertId: "acme#2026-11#080" });
    expect(error.message).toBe(`eventbridge ${BUS}: alert acme#2026-11#080: PutEvents rejected entry 0 (Budget Threshold Reached): InternalFailure: Try again`);
    expect(error.cause).toBeUndefined();
  });

  it("wraps an SDK error in an AlertPublishError", async () => {
    // Prepare
    const sdkError = Object.assign(new Error("Event bus bedrock-spend does not exist."), { name: "ResourceNotFoundException" });
    eventBridge.on(PutEventsCommand).rejects(sdkError);

    // Act
    const failure = await new EventBridgeAlertPublisher(new EventBridgeClient({ region: "us-east-1" }), BUS)
      .publish(forecastAlert())
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AlertPublishError);
    expect((failure as AlertPublishError).cause).toBe(sdkError);
    expect((failure as AlertPublishError).context.threshold).toBeNull();
    expect((failure as AlertPublishError).entry).toBeUndefined();
  });
});

describe("Class: FanOutAlertPublisher", () => {
  it("publishes to every publisher", async () => {
    // Prepare
    const [first, second] = [new MemoryAlertPublisher(), new MemoryAlertPublisher()];
    const alert = budgetAlert();

    // Act
    await new FanOutAlertPublisher([first, second]).publish(alert);

    // Assess
    expect(first.alerts).toEqual([alert]);
    expect(second.alerts).toEqual([alert]);
  });

  it("tries every publisher, then fails with the errors of those that failed", async () => {
    // Prepare
    const delivered = new MemoryAlertPublisher();
    const broken: AlertPublisher = {
      publish: async (alert) => {
        throw new AlertPublishError("down", {
          publisher: "sns",
          alertId: alertIdOf(alert),
          tenantId: alert.tenantId,
          month: alert.month,
          threshold: alert.threshold,
        });
      },
    };
    const thrower: AlertPublisher = {
      publish: async () => {
        throw "not an Error";
      },
    };

    // Act
    const failure = await new FanOutAlertPublisher([broken, delivered, thrower]).publish(budgetAlert()).catch((error: unknown) => error);

    // Assess
    expect(delivered.alerts).toHaveLength(1);
    expect(failure).toBeInstanceOf(AlertPublishError);
    const error = failure as AlertPublishError;
    expect(error.context).toEqual({ publisher: "fan-out", alertId: "acme#2026-11#080", tenantId: "acme", month: "2026-11", threshold: 80 });
    expect(error.errors.map((child) => child.message)).toEqual(["sns: alert acme#2026-11#080: down", "not an Error"]);
    expect(error.cause).toBe(error.errors[0]);
    expect(error.message).toBe("fan-out: alert acme#2026-11#080: 2 of 3 publishers failed: sns: alert acme#2026-11#080: down; not an Error");
  });
});

describe("Function: awsAlertPublisher()", () => {
  it("publishes to both SNS and EventBridge when both are configured", async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: "m-4" });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e-4" }] });

    // Act
    const publisher = awsAlertPublisher({ topicArn: TOPIC_ARN, eventBusName: BUS });
    await publisher.publish(budgetAlert());

    // Assess
    expect(publisher).toBeInstanceOf(FanOutAlertPublisher);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.TopicArn).toBe(TOPIC_ARN);
    expect(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.EventBusName).toBe(BUS);
  });

  it("uses the one publisher configured, and refuses a configuration with none", () => {
    // Act
    const snsOnly = awsAlertPublisher({ topicArn: TOPIC_ARN });
    const busOnly = awsAlertPublisher({ eventBusName: BUS });

    // Assess
    expect(snsOnly).toBeInstanceOf(SnsAlertPublisher);
    expect(busOnly).toBeInstanceOf(EventBridgeAlertPublisher);
    expect(() => awsAlertPublisher({})).toThrow(/a topicArn or an eventBusName is required/);
  });
});

describe("Class: MemoryAlertPublisher", () => {
  it("keeps copies of the alerts in publish order", async () => {
    // Prepare
    const memory = new MemoryAlertPublisher();
    const alert = budgetAlert();

    // Act
    await memory.publish(alert);
    await memory.publish(forecastAlert());
    alert.spendUsd = "changed";

    // Assess
    expect(memory.alerts.map((kept) => [kept.kind, kept.spendUsd])).toEqual([
      ["threshold", "80.250000"],
      ["forecast", "40.000000"],
    ]);
  });
});
