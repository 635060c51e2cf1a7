/**
 * Alerts: the budget-alert function on the aggregates table's stream, the alert-sweep function on
 * a schedule (it delivers the alerts fired and never published), and where their alerts go: an
 * SNS topic (KMS-encrypted, optional e-mail subscription) and a custom EventBridge bus.
 */
import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
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
import { BUDGET_SK, monthSk, tenantPk } from "../packages/store/src/keys";
import { SK, UNDELIVERED_ALERTS_INDEX } from "../packages/store/src/layout";
import { config } from "./config";
import { alertsSuppressions } from "./nag-suppressions";
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

/**
 * How often the alert sweep runs: an alert the stream path could not deliver goes out at most this
 * long after the sweep's grace period (15 minutes after firing), so within about half an hour.
 */
export const ALERT_SWEEP_SCHEDULE = "rate(15 minutes)";

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
  // Reads (budget, month total, alert markers) and the conditional writes of alert markers; the
  // rank entries' moves (a TransactWriteItems of Put, Delete and Update, each authorized as its own
  // action) and the rank marker's first write, which reads the table's item count (DescribeTable).
  // On the table alone (`table.grant` would add its indexes).
  budgetAlert.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
      resources: [table.tableArn],
    }),
  );
  const grantPublishing = (fn: SstFunction) => {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }));
    // What SNS needs of a publisher to an encrypted topic, on this key only (topic.grantPublish would grant kms:GenerateDataKey*).
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [topicKey.keyArn] }));
    bus.grantPutEventsTo(fn);
  };
  grantPublishing(budgetAlert);
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

  // The alerts fired and never published (their publish kept failing until the stream's retries ran
  // out, and the tenant's month did not change again): found in the table's undelivered-alerts
  // index, delivered through the same publisher (packages/pipeline/src/alert-sweep.ts).
  const alertSweep = new SstFunction(stack, "AlertSweep", {
    handler: "functions/src/alert-sweep.handler",
    // Well under the 15-minute lease a swept alert is taken for, so that no one takes it over while this run delivers it.
    timeout: 300,
    memorySize: 256,
    // A failed run (an alert not delivered) is retried by the next scheduled one; its errors are alarmed with every function's (stacks/Monitoring.ts).
    retryAttempts: 0,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.alertTopicArn]: topic.topicArn,
      [ENV.eventBusName]: bus.eventBusName,
    },
  });
  // The index's entries, and the conditional updates of alert markers (take over, record, give back) in tenant partitions only.
  alertSweep.addToRolePolicy(new iam.PolicyStatement({ actions: ["dynamodb:Query"], resources: [`${table.tableArn}/index/${UNDELIVERED_ALERTS_INDEX.name}`] }));
  alertSweep.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["dynamodb:UpdateItem"],
      resources: [table.tableArn],
      conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${tenantPk("")}*`] } },
    }),
  );
  grantPublishing(alertSweep);
  const sweepSchedule = new events.Rule(stack, "AlertSweepSchedule", {
    description: "bedrock-spend: deliver the budget alerts fired and never published",
    schedule: events.Schedule.expression(ALERT_SWEEP_SCHEDULE),
  });
  sweepSchedule.addTarget(new targets.LambdaFunction(alertSweep, { retryAttempts: 2 }));

  stack.addOutputs({ AlertTopic: topic.topicArn, AlertBus: bus.eventBusName, AlertFailureQueue: failures.queueUrl });
  alertsSuppressions(stack, {
    failures,
    budgetAlert,
    alertSweep,
    sweepSchedule,
    emailSubscription: settings.alertEmail ? topic.node.findChild(settings.alertEmail) : undefined,
  });
  return { topic, bus, budgetAlert, failures, alertSweep, sweepSchedule };
}
