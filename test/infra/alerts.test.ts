import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { ALERT_SWEEP_SCHEDULE, Alerts, BUDGET_ALERT_FILTER } from "../../stacks/Alerts";
import { environmentOf, flatten, functionWithHandler, list, only, resources, roleOfFunction, roleStatements } from "./helpers";
import { synthesize } from "./synth";

const HANDLER = "functions/src/budget-alert.handler";
const SWEEP_HANDLER = "functions/src/alert-sweep.handler";

/**
 * Lambda event filtering, as far as this filter uses it: a field's array matches when any of its
 * entries does (a string exactly, `{prefix}` as a prefix); nested objects must all match.
 */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((entry) =>
      typeof entry === "object" && entry !== null && "prefix" in entry ? typeof event === "string" && event.startsWith(String(entry.prefix)) : entry === event,
    );
  }
  if (typeof pattern === "object" && pattern !== null) {
    return Object.entries(pattern).every(
      ([key, value]) => typeof event === "object" && event !== null && matches(value, (event as Record<string, unknown>)[key]),
    );
  }
  return false;
}

const record = (eventName: string, sk: string) => ({ eventName, dynamodb: { Keys: { pk: { S: "T#acme" }, sk: { S: sk } } } });

describe("Stack: Alerts (defaults: no e-mail, no default budget)", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize()).template(Alerts);
  }, 300_000);

  it("encrypts the alert topic with a rotating customer-managed key, publishing over TLS only", () => {
    const [keyId] = only(template, "AWS::KMS::Key", { EnableKeyRotation: true });
    const [topicId] = only(template, "AWS::SNS::Topic", { KmsMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topicId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  it("subscribes no e-mail address when none is configured", () => {
    template.resourceCountIs("AWS::SNS::Subscription", 0);
  });

  it("creates the custom EventBridge bus bedrock-spend-<stage>", () => {
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "bedrock-spend-test" });
  });

  it("runs the budget-alert function on the table stream with batching, bisection, partial responses, finite retries and a dead-letter queue of its own", () => {
    const functionId = functionWithHandler(template, HANDLER);
    const [queueId] = only(template, "AWS::SQS::Queue", { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: functionId },
      EventSourceArn: { "Fn::ImportValue": Match.stringLikeRegexp("Processing:.*StreamArn") },
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 2,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queueId, "Arn"] } } },
    });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  it("filters the stream: only INSERT or MODIFY of a month total (sk M#...) or a budget (sk BUDGET)", () => {
    const [, mapping] = only(template, "AWS::Lambda::EventSourceMapping");
    const filters = (mapping.Properties.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters;
    expect(filters).toHaveLength(1);
    const pattern = JSON.parse((filters[0] as { Pattern: string }).Pattern) as unknown;
    expect(pattern).toEqual({ eventName: ["INSERT", "MODIFY"], dynamodb: { Keys: { sk: { S: [{ prefix: "M#" }, "BUDGET"] } } } });
    expect(pattern).toEqual(BUDGET_ALERT_FILTER);

    expect(matches(pattern, record("INSERT", "M#2026-11"))).toBe(true);
    expect(matches(pattern, record("MODIFY", "M#2026-11"))).toBe(true);
    expect(matches(pattern, record("MODIFY", "BUDGET"))).toBe(true);
    // TTL deletes and budget removals are REMOVEs; day/breakdown counters, dedup markers and the alert markers the function writes never invoke it.
    expect(matches(pattern, record("REMOVE", "M#2026-11"))).toBe(false);
    expect(matches(pattern, record("REMOVE", "BUDGET"))).toBe(false);
    for (const sk of ["D#2026-11-27#anthropic.claude", "B#2026-11#departmentId#sales", "A#2026-11#080", "R", "BUDGETX"]) {
      expect(matches(pattern, record("MODIFY", sk)), sk).toBe(false);
    }
  });

  it("configures the function with the table, the topic, the bus and the default thresholds", () => {
    const functionId = functionWithHandler(template, HANDLER);
    const [topicId] = only(template, "AWS::SNS::Topic");
    const [busId] = only(template, "AWS::Events::EventBus");
    const environment = environmentOf(template, functionId);
    expect(environment).toMatchObject({
      TABLE_NAME: { "Fn::ImportValue": expect.stringMatching(/Processing:.*Aggregates/) },
      ALERT_TOPIC_ARN: { Ref: topicId },
      EVENT_BUS_NAME: { Ref: busId },
      DEFAULT_BUDGET_THRESHOLDS: "50,80,100",
    });
    expect(environment).not.toHaveProperty("DEFAULT_BUDGET_USD");
  });

  it("grants table reads, alert-marker writes and rank moves, publish on the topic (with its key) and PutEvents on the bus: nothing more", () => {
    const functionId = functionWithHandler(template, HANDLER);
    const [topicId] = only(template, "AWS::SNS::Topic");
    const [keyId] = only(template, "AWS::KMS::Key");
    const [busId] = only(template, "AWS::Events::EventBus");
    const [queueId] = only(template, "AWS::SQS::Queue");
    const statements = roleStatements(template, roleOfFunction(template, functionId));
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: "Allow",
          // A rank move's transaction needs Put, Delete and Update; the rank marker reads the item count.
          Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
          // The table alone, not its index.
          Resource: { "Fn::ImportValue": expect.stringMatching(/Processing:.*AggregatesDCEBC1D6Arn/) },
        },
        { Effect: "Allow", Action: "sns:Publish", Resource: { Ref: topicId } },
        { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: { "Fn::GetAtt": [keyId, "Arn"] } },
        { Effect: "Allow", Action: "events:PutEvents", Resource: { "Fn::GetAtt": [busId, "Arn"] } },
        { Effect: "Allow", Action: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource: { "Fn::GetAtt": [queueId, "Arn"] } },
      ]),
    );
    const actions = statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
    expect(actions.filter((action) => String(action).startsWith("dynamodb:")).sort()).toEqual(
      [
        "dynamodb:DeleteItem",
        "dynamodb:DescribeStream",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ].sort(),
    );
    expect(actions.filter((action) => String(action).startsWith("sns:") || String(action).startsWith("events:") || String(action).startsWith("kms:"))).toEqual([
      "sns:Publish",
      "kms:GenerateDataKey",
      "kms:Decrypt",
      "events:PutEvents",
    ]);
  });
});

describe("Stack: Alerts, the alert sweep", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize()).template(Alerts);
  }, 300_000);

  it("runs the alert-sweep function every 15 minutes, within the 15-minute lease, with the next run as its only retry", () => {
    const functionId = functionWithHandler(template, SWEEP_HANDLER);
    expect(ALERT_SWEEP_SCHEDULE).toBe("rate(15 minutes)");
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(15 minutes)",
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId, "Arn"] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      FunctionName: { "Fn::GetAtt": [functionId, "Arn"] },
      Principal: "events.amazonaws.com",
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { FunctionName: { Ref: functionId }, MaximumRetryAttempts: 0 });
    const fn = resources(template, "AWS::Lambda::Function")[functionId];
    expect(fn?.Properties.Timeout).toBe(300);
    // Only the budget-alert function reads the stream.
    const [, mapping] = only(template, "AWS::Lambda::EventSourceMapping");
    expect(mapping.Properties.FunctionName).toEqual({ Ref: functionWithHandler(template, HANDLER) });
  });

  it("configures it with the table, the topic and the bus, and no budget", () => {
    const functionId = functionWithHandler(template, SWEEP_HANDLER);
    const [topicId] = only(template, "AWS::SNS::Topic");
    const [busId] = only(template, "AWS::Events::EventBus");
    const environment = environmentOf(template, functionId);
    expect(environment).toMatchObject({
      TABLE_NAME: { "Fn::ImportValue": expect.stringMatching(/Processing:.*Aggregates/) },
      ALERT_TOPIC_ARN: { Ref: topicId },
      EVENT_BUS_NAME: { Ref: busId },
    });
    expect(Object.keys(environment).filter((name) => name.startsWith("DEFAULT_BUDGET"))).toEqual([]);
  });

  it("grants Query on the undelivered-alerts index, UpdateItem in tenant partitions, publish on the topic (with its key) and PutEvents on the bus: nothing more", () => {
    const functionId = functionWithHandler(template, SWEEP_HANDLER);
    const [topicId] = only(template, "AWS::SNS::Topic");
    const [keyId] = only(template, "AWS::KMS::Key");
    const [busId] = only(template, "AWS::Events::EventBus");
    const statements = roleStatements(template, roleOfFunction(template, functionId));
    const table = /^\$\{ImportValue:.*Processing:.*AggregatesDCEBC1D6Arn.*\}$/;
    const dynamodb = statements.filter((statement) => list(statement.Action).some((action) => String(action).startsWith("dynamodb:")));
    expect(dynamodb.map((statement) => [statement.Action, flatten(statement.Resource), statement.Condition])).toEqual([
      ["dynamodb:Query", expect.stringMatching(/^\$\{ImportValue:.*AggregatesDCEBC1D6Arn.*\}\/index\/undelivered-alerts$/), undefined],
      ["dynamodb:UpdateItem", expect.stringMatching(table), { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["T#*"] } }],
    ]);
    expect(statements).toEqual(
      expect.arrayContaining([
        { Effect: "Allow", Action: "sns:Publish", Resource: { Ref: topicId } },
        { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: { "Fn::GetAtt": [keyId, "Arn"] } },
        { Effect: "Allow", Action: "events:PutEvents", Resource: { "Fn::GetAtt": [busId, "Arn"] } },
      ]),
    );
    const actions = statements.flatMap((statement) => list(statement.Action).map(String));
    expect(actions.filter((action) => !action.startsWith("xray:")).sort()).toEqual(
      ["dynamodb:Query", "dynamodb:UpdateItem", "events:PutEvents", "kms:Decrypt", "kms:GenerateDataKey", "sns:Publish"].sort(),
    );
  });
});

describe("Stack: Alerts with an alert e-mail and a default budget", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize({ alertEmail: "finance@example.com", defaultBudgetUsd: "250", defaultBudgetThresholds: "80,100" })).template(Alerts);
  }, 300_000);

  it("subscribes the e-mail address to the alert topic", () => {
    const [topicId] = only(template, "AWS::SNS::Topic");
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "finance@example.com", TopicArn: { Ref: topicId } });
  });

  it("passes the default budget to the function", () => {
    expect(environmentOf(template, functionWithHandler(template, HANDLER))).toMatchObject({ DEFAULT_BUDGET_USD: "250", DEFAULT_BUDGET_THRESHOLDS: "80,100" });
  });
});
