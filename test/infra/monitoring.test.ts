import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Alerts } from "../../stacks/Alerts";
import { Lake } from "../../stacks/Lake";
import { Monitoring } from "../../stacks/Monitoring";
import { Processing } from "../../stacks/Processing";
import { exportOfRef, flatten, only, resources } from "./helpers";
import { ACCOUNT, REGION, type SynthesizedApp, synthesize } from "./synth";

let synthesized: SynthesizedApp;
let template: Template;
// Everything on (the JWT function too), so that "every function has an errors alarm" covers the most functions.
beforeAll(async () => {
  synthesized = await synthesize({
    jwtIssuer: "https://login.example.com/",
    jwtAudience: ["spend-api"],
    alertEmail: "finance@example.com",
    opsEmail: "oncall@example.com",
  });
  template = synthesized.template(Monitoring);
}, 300_000);

type Alarm = Record<string, unknown>;
const alarms = (): Alarm[] => Object.values(resources(template, "AWS::CloudWatch::Alarm")).map((alarm) => alarm.Properties);

/** The one alarm on this metric (and, if given, with these dimensions). */
function alarmOn(namespace: string, metricName: string, dimensions?: Array<{ Name: string; Value: unknown }>): Alarm {
  const found = alarms().filter(
    (alarm) =>
      alarm.Namespace === namespace &&
      alarm.MetricName === metricName &&
      (dimensions === undefined || JSON.stringify(alarm.Dimensions) === JSON.stringify(dimensions)),
  );
  expect(found, `one alarm on ${namespace}/${metricName} ${JSON.stringify(dimensions ?? "")}`).toHaveLength(1);
  return found[0] as Alarm;
}

/** What Monitoring imports to name a resource of another stack (its Ref, or an attribute). */
function imported(
  stack: Parameters<SynthesizedApp["template"]>[0],
  type: string,
  props?: Record<string, unknown>,
  attribute?: string,
): { "Fn::ImportValue": string } {
  const producer = synthesized.template(stack);
  const [id] = only(producer, type, props);
  return { "Fn::ImportValue": exportOfRef(producer, id, attribute) };
}

describe("Stack: Monitoring", () => {
  it("notifies an ops topic of its own, encrypted with a rotating key CloudWatch may use", () => {
    const [keyId, key] = only(template, "AWS::KMS::Key", { EnableKeyRotation: true });
    const [topicId] = only(template, "AWS::SNS::Topic", { KmsMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
    const statements = (key.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey"], Effect: "Allow" }),
      ]),
    );
    const [, policy] = only(template, "AWS::SNS::TopicPolicy", { Topics: [{ Ref: topicId }] });
    const allow = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, Record<string, Record<string, unknown>>>> }).Statement.find(
      (statement) => (statement.Effect as unknown) === "Allow",
    );
    expect(allow).toMatchObject({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: { Ref: topicId } });
    expect(flatten(allow?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(`arn:\${AWS::Partition}:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`);
    expect(allow?.Condition?.StringEquals).toEqual({ "aws:SourceAccount": ACCOUNT });
    // Not the budget-alert topic: that one lives in the Alerts stack.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/ImportValue[^}]*AlertTopic/);
  });

  it("sends every alarm and its recovery to the ops topic, with missing data explicitly not breaching", () => {
    const [topicId] = only(template, "AWS::SNS::Topic");
    expect(alarms().length).toBeGreaterThanOrEqual(14);
    for (const alarm of alarms()) {
      expect(alarm, String(alarm.AlarmName)).toMatchObject({
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
        TreatMissingData: "notBreaching",
        AlarmDescription: expect.any(String),
      });
    }
  });

  it("alarms as soon as either dead-letter queue holds a message", () => {
    const queues = [imported(Processing, "AWS::SQS::Queue", undefined, "QueueName"), imported(Alerts, "AWS::SQS::Queue", undefined, "QueueName")];
    for (const queueName of queues) {
      expect(alarmOn("AWS/SQS", "ApproximateNumberOfMessagesVisible", [{ Name: "QueueName", Value: queueName }])).toMatchObject({
        Statistic: "Maximum",
        Period: 300,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        EvaluationPeriods: 1,
      });
    }
  });

  it("alarms when the aggregate function's iterator age stays above 5 minutes (and the budget-alert function's)", () => {
    const aggregate = imported(Processing, "AWS::Lambda::Function", { Handler: "functions/src/aggregate.handler" });
    expect(alarmOn("AWS/Lambda", "IteratorAge", [{ Name: "FunctionName", Value: aggregate }])).toMatchObject({
      Statistic: "Maximum",
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Threshold: 300000,
      ComparisonOperator: "GreaterThanThreshold",
    });
    const budgetAlert = imported(Alerts, "AWS::Lambda::Function", { Handler: "functions/src/budget-alert.handler" });
    expect(alarmOn("AWS/Lambda", "IteratorAge", [{ Name: "FunctionName", Value: budgetAlert }])).toMatchObject({ Threshold: 300000 });
  });

  it("alarms on any unpriced invocation within an hour (invariant 3)", () => {
    expect(alarmOn("BedrockSpend", "Unpriced", [{ Name: "service", Value: "bedrock-spend" }])).toMatchObject({
      Statistic: "Sum",
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
  });

  it("alarms on aggregate write failures", () => {
    expect(alarmOn("BedrockSpend", "WriteFailures", [{ Name: "service", Value: "bedrock-spend" }])).toMatchObject({
      Statistic: "Sum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
  });

  it("alarms on Lambda errors of every function of the app, whichever stack holds it", () => {
    let checked = 0;
    for (const { name, template: producer } of synthesized.stacks) {
      if (name === "Monitoring") continue;
      for (const [id, fn] of Object.entries(resources(producer, "AWS::Lambda::Function"))) {
        if (!String(fn.Properties.Handler).startsWith("functions/src/")) continue;
        const alarm = alarmOn("AWS/Lambda", "Errors", [{ Name: "FunctionName", Value: { "Fn::ImportValue": exportOfRef(producer, id) } }]);
        expect(alarm, `${name}/${id}`).toMatchObject({ Statistic: "Sum", Period: 300, Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
        checked += 1;
      }
    }
    // aggregate, redrive, transform, budget-alert, spend-api (IAM), spend-api (JWT) and the reprice step.
    expect(checked).toBeGreaterThanOrEqual(7);
    expect(alarms().filter((alarm) => alarm.MetricName === "Errors")).toHaveLength(checked);
  });

  it("alarms on Firehose delivery: data freshness and S3 delivery success", () => {
    const stream = [
      { Name: "DeliveryStreamName", Value: imported(Lake, "AWS::KinesisFirehose::DeliveryStream", { DeliveryStreamType: "KinesisStreamAsSource" }) },
    ];
    expect(alarmOn("AWS/Firehose", "DeliveryToS3.DataFreshness", stream)).toMatchObject({
      Statistic: "Maximum",
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 900,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(alarmOn("AWS/Firehose", "DeliveryToS3.Success", stream)).toMatchObject({
      Statistic: "Average",
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
    });
  });

  it("alarms on the transform's ProcessingFailed and OversizeFailed records, and on failures the raw failure bucket did not take", () => {
    const dimensions = [
      { Name: "consumer", Value: "transform" },
      { Name: "service", Value: "bedrock-spend" },
    ];
    for (const metric of ["ProcessingFailed", "OversizeFailed", "RawFailuresUnkept"]) {
      expect(alarmOn("BedrockSpend", metric, dimensions)).toMatchObject({ Statistic: "Sum", Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    }
  });

  it("draws a dashboard of the pipeline: records in/counted/quarantined/unpriced, iterator age, write units, errors, Firehose freshness", () => {
    const [, dashboard] = only(template, "AWS::CloudWatch::Dashboard", { DashboardName: "bedrock-spend-test" });
    const body = JSON.parse(flatten(dashboard.Properties.DashboardBody)) as { widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }> };
    const titles = body.widgets.map((widget) => widget.properties.title).filter(Boolean);
    expect(titles).toEqual(
      expect.arrayContaining([
        "Aggregate path: records",
        "Lake path: records",
        "Iterator age (ms)",
        "Write units",
        "Lambda errors",
        "Firehose freshness (s)",
        "Dead-letter queues",
        "Alarms",
      ]),
    );
    const metricNames = new Set(body.widgets.flatMap((widget) => (widget.properties.metrics ?? []).map((metric) => metric[1])));
    for (const name of [
      "RecordsIn",
      "Counted",
      "Quarantined",
      "Unpriced",
      "IteratorAge",
      "WriteUnits",
      "Errors",
      "DeliveryToS3.DataFreshness",
      "ApproximateNumberOfMessagesVisible",
    ]) {
      expect(metricNames, name).toContain(name);
    }
  });

  it("outputs the ops topic and the dashboard", () => {
    template.hasOutput("OpsTopic", {});
    const [dashboardId] = only(template, "AWS::CloudWatch::Dashboard");
    template.hasOutput("Dashboard", { Value: { Ref: dashboardId } });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmName: Match.stringLikeRegexp("^bedrock-spend-test-") });
  });
});

describe("Stack: Monitoring (ops e-mail)", () => {
  it("subscribes BEDROCK_SPEND_OPS_EMAIL to the alarm topic", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "oncall@example.com" });
  });
});
