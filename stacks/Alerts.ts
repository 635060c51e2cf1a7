/**
 * Alerts: the budget-alert function on the aggregates table's stream, and where its alerts go: an
 * SNS topic (KMS-encrypted, optional e-mail subscription) and a custom EventBridge bus.
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import { ENV } from "../functions/src/lib/contracts";
import { BUDGET_SK, monthSk } from "../packages/store/src/keys";
import { SK } from "../packages/store/src/layout";
import { config } from "./config";
import { Processing } from "./Processing";
import { removalPolicyOf } from "./storage";

/**
 * The table changes that can call for an alert: a write (not a REMOVE, which is also how TTL
 * deletes arrive) of a tenant's month total (`M#<month>`) or of its budget (`BUDGET`). Everything
 * else (dedup markers, day and breakdown counters, the alert markers this function writes itself)
 * never invokes it.
 */
export const BUDGET_ALERT_FILTER = {
  eventName: ["INSERT", "MODIFY"],
  // monthSk("") is the prefix every month total's sort key shares.
  dynamodb: { Keys: { [SK]: { S: [{ prefix: monthSk("") }, BUDGET_SK] } } },
};

export function Alerts({ stack, app }: StackContext) {
  const { table } = use(Processing);
  const settings = config();

  // A customer-managed key rather than alias/aws/sns: its policy is ours to extend (an EventBridge
  // rule or another account's publisher cannot be granted the AWS-managed key), it rotates, and
  // the publisher's KMS permission is an explicit, auditable statement on one key ARN.
  const topicKey = new kms.Key(stack, "AlertTopicKey", {
    description: "Encrypts the bedrock-spend budget alert topic",
    enableKeyRotation: true,
    removalPolicy: removalPolicyOf(app.stage),
  });
  const topic = new sns.Topic(stack, "AlertTopic", { displayName: "bedrock-spend budget alerts", masterKey: topicKey, enforceSSL: true });
  if (settings.alertEmail) topic.addSubscription(new subscriptions.EmailSubscription(settings.alertEmail));

  const bus = new events.EventBus(stack, "AlertBus", { eventBusName: `${app.name}-${app.stage}` });

  // Stream records whose alert evaluation failed after the retries: metadata of the batch (shard,
  // sequence numbers), to re-evaluate by hand; a later change of the tenant's total re-evaluates anyway.
  const failures = new sqs.Queue(stack, "AlertFailures", {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });

  const budgetAlert = new SstFunction(stack, "BudgetAlert", {
    handler: "functions/src/budget-alert.handler",
    timeout: 60,
    memorySize: 512,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.alertTopicArn]: topic.topicArn,
      [ENV.eventBusName]: bus.eventBusName,
      ...(settings.defaultBudgetUsd ? { [ENV.defaultBudgetUsd]: settings.defaultBudgetUsd } : {}),
      [ENV.defaultBudgetThresholds]: settings.defaultBudgetThresholds,
    },
  });
  // Reads (budget, month total, alert markers) and the conditional writes of alert markers.
  table.grant(budgetAlert, "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem");
  budgetAlert.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }));
  // What SNS needs of a publisher to an encrypted topic, on this key only (topic.grantPublish would grant kms:GenerateDataKey*).
  budgetAlert.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [topicKey.keyArn] }));
  bus.grantPutEventsTo(budgetAlert);
  budgetAlert.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(2),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration.hours(6),
      onFailure: new SqsDlq(failures),
      filters: [lambda.FilterCriteria.filter(BUDGET_ALERT_FILTER)],
    }),
  );

  stack.addOutputs({ AlertTopic: topic.topicArn, AlertBus: bus.eventBusName, AlertFailureQueue: failures.queueUrl });
  return { topic, bus, budgetAlert, failures };
}
