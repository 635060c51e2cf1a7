/**
 * Monitoring: the pipeline's own health. CloudWatch alarms (dead-letter queues, iterator age,
 * unpriced records, write failures, Lambda errors, Firehose delivery and transform failures) that
 * notify an ops SNS topic, and a dashboard of the pipeline.
 *
 * The ops topic is not the budget-alert topic: that one carries tenant budget events to finance
 * and to whatever parses them, and an alarm's message there would be noise to those readers and
 * malformed to those programs. Operators subscribe to the ops topic.
 */
import { CfnResource, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import {
  AGGREGATE_METRICS,
  METRICS_NAMESPACE,
  type MetricContract,
  RECONCILE_METRICS,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  TRANSFORM_DIMENSIONS,
  TRANSFORM_METRICS,
} from "../functions/src/lib/contracts";
import { Alerts } from "./Alerts";
import { Api } from "./Api";
import { config } from "./config";
import { Ingest } from "./Ingest";
import { Lake } from "./Lake";
import { monitoringSuppressions } from "./nag-suppressions";
import { Processing } from "./Processing";
import { Reconcile } from "./Reconcile";
import { Reprice } from "./Reprice";
import { removalPolicyOf } from "./storage";

/** The aggregate path's metrics carry only `service`; the transform adds `consumer: transform`. */
const AGGREGATE_DIMENSIONS = { [SERVICE_DIMENSION]: SERVICE_NAME };
const TRANSFORM_METRIC_DIMENSIONS = { ...AGGREGATE_DIMENSIONS, ...TRANSFORM_DIMENSIONS };

/** Thresholds of the alarms (see each alarm's description for the reasoning). */
export const THRESHOLDS = {
  /** Stream consumers more than 5 minutes behind. */
  iteratorAgeMs: 5 * 60 * 1000,
  /**
   * The lake buffers 300 s (up to 1.5x that with dynamic partitioning), so a healthy stream's oldest
   * undelivered record is under ~8 minutes old: 15 minutes means delivery is stuck.
   */
  firehoseFreshnessSeconds: 15 * 60,
} as const;

/** The delivery stream's name, whichever construct the Lake stack exports (L1 `CfnDeliveryStream`: its Ref; L2: `deliveryStreamName`). */
function deliveryStreamNameOf(value: unknown): string {
  if (value instanceof CfnResource) return value.ref;
  if (typeof value === "object" && value !== null && "deliveryStreamName" in value && typeof value.deliveryStreamName === "string") {
    return value.deliveryStreamName;
  }
  throw new Error("Monitoring: the Lake stack must export its Firehose delivery stream as `deliveryStream`");
}

export function Monitoring({ stack, app }: StackContext) {
  const { stream, logGroup } = use(Ingest);
  const { table, deadLetters, aggregate } = use(Processing);
  const { budgetAlert, failures: alertFailures } = use(Alerts);
  // The Api stack's functions get their errors alarms below, with every other function's; use()
  // makes the order explicit (the stacks are built before this one).
  use(Api);
  use(Reprice);
  // The Reconcile stack exists when a CUR export is configured (sst.config.ts).
  const reconciling = config().curBucket !== undefined;
  if (reconciling) use(Reconcile);
  const { deliveryStream, transform } = use(Lake);
  const deliveryStreamName = deliveryStreamNameOf(deliveryStream);

  // Ops topic, encrypted with a key CloudWatch may use (the AWS-managed SNS key does not allow it).
  const key = new kms.Key(stack, "OpsTopicKey", {
    description: "Encrypts the bedrock-spend ops alarm topic",
    enableKeyRotation: true,
    removalPolicy: removalPolicyOf(app.stage),
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "AllowCloudWatchAlarmsToPublishToTheEncryptedTopic",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: ["*"],
    }),
  );
  const topic = new sns.Topic(stack, "OpsTopic", { displayName: "bedrock-spend pipeline alarms", masterKey: key, enforceSSL: true });
  // The topic policy (created for enforceSSL) replaces SNS's default one: allow this account's alarms explicitly.
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "AllowThisAccountsAlarms",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        ArnLike: { "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        StringEquals: { "aws:SourceAccount": stack.account },
      },
    }),
  );
  const opsEmail = config().opsEmail;
  if (opsEmail) topic.addSubscription(new EmailSubscription(opsEmail));
  const action = new SnsAction(topic);

  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (
    id: string,
    metric: cloudwatch.IMetric,
    props: { threshold: number; description: string; evaluationPeriods?: number; comparison?: cloudwatch.ComparisonOperator },
  ): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(stack, id, {
      alarmName: `${app.name}-${app.stage}-${id}`,
      alarmDescription: props.description,
      metric,
      threshold: props.threshold,
      comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.evaluationPeriods ?? 1,
      // No data means no traffic (or, for SQS, an empty queue nobody touched for 6 hours): healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(action);
    created.addOkAction(action);
    alarms.push(created);
    return created;
  };
  // A handler's metric, named by its contract (functions/src/lib/contracts.ts), never by a string of its own.
  const emf = (metric: MetricContract, dimensionsMap: Record<string, string>, period: Duration, label?: string, statistic = "Sum") =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: metric.name, dimensionsMap, statistic, period, ...(label ? { label } : {}) });

  // Dead-letter queues: anything in them is a record (or an alert evaluation) waiting for a redrive.
  const queueDepth = (queue: sqs.IQueue, label?: string) =>
    queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration.minutes(5), ...(label ? { label } : {}) });
  alarm("DeadLettersNotEmpty", queueDepth(deadLetters), {
    threshold: 0,
    description: "Records the aggregate function could not count are in its dead-letter queue: find the cause, then run the redrive function.",
  });
  alarm("AlertFailuresNotEmpty", queueDepth(alertFailures), {
    threshold: 0,
    description: "Budget-alert evaluations failed after their retries (metadata of the stream batch is in the queue).",
  });

  // Iterator age: the consumers fall behind the stream (counts and alerts arrive late).
  const iteratorAge = (fn: lambda.IFunction, label?: string) =>
    fn.metric("IteratorAge", { statistic: "Maximum", period: Duration.minutes(1), ...(label ? { label } : {}) });
  alarm("AggregateIteratorAge", iteratorAge(aggregate), {
    threshold: THRESHOLDS.iteratorAgeMs,
    evaluationPeriods: 5,
    description: "The aggregate function is more than 5 minutes behind the Kinesis stream for 5 minutes: aggregates are late.",
  });
  alarm("BudgetAlertIteratorAge", iteratorAge(budgetAlert), {
    threshold: THRESHOLDS.iteratorAgeMs,
    evaluationPeriods: 5,
    description: "The budget-alert function is more than 5 minutes behind the table stream for 5 minutes: alerts are late.",
  });

  // Invariant 3: an unpriced invocation is never silently free.
  alarm("UnpricedRecords", emf(AGGREGATE_METRICS.unpriced, AGGREGATE_DIMENSIONS, Duration.hours(1)), {
    threshold: 0,
    description: "Invocations without a price in the last hour (unknown model or unpriced token class): add the price to the catalog overlay and reprice.",
  });
  alarm("WriteFailures", emf(AGGREGATE_METRICS.failed, AGGREGATE_DIMENSIONS, Duration.minutes(5)), {
    threshold: 0,
    description: "The aggregate function failed to write to the aggregates table (retried, then dead-lettered).",
  });

  // Lambda errors of every function of the app (the project's handlers, whichever stack holds them).
  const functions = new Map<string, lambda.IFunction>();
  for (const child of app.node.children) {
    if (!Stack.isStack(child) || child === stack) continue;
    for (const construct of child.node.findAll()) {
      if (construct instanceof SstFunction) functions.set(construct.node.path, construct);
    }
  }
  functions.set(transform.node.path, transform);
  const errorMetrics: cloudwatch.IMetric[] = [];
  const prefix = app.logicalPrefixedName("");
  for (const fn of functions.values()) {
    // e.g. ProcessingAggregateErrors: the stack's short name and the function's id.
    const stackName = Stack.of(fn).stackName.replace(prefix, "");
    errorMetrics.push(fn.metricErrors({ statistic: "Sum", period: Duration.minutes(5), label: fn.node.id }));
    alarm(`${stackName}${fn.node.id}Errors`.replace(/[^A-Za-z0-9]/g, ""), fn.metricErrors({ statistic: "Sum", period: Duration.minutes(5) }), {
      threshold: 0,
      description: `The ${fn.node.id} function (${stackName} stack) reported errors: see its logs.`,
    });
  }

  // Firehose: delivery to S3 stalls, or the transform sends records to the error prefix.
  const firehose = (metricName: string, statistic: string, label?: string) =>
    new cloudwatch.Metric({
      namespace: "AWS/Firehose",
      metricName,
      dimensionsMap: { DeliveryStreamName: deliveryStreamName },
      statistic,
      period: Duration.minutes(5),
      ...(label ? { label } : {}),
    });
  alarm("FirehoseFreshness", firehose("DeliveryToS3.DataFreshness", "Maximum"), {
    threshold: THRESHOLDS.firehoseFreshnessSeconds,
    evaluationPeriods: 3,
    description: "Firehose has held a record for more than 15 minutes, for 15 minutes: delivery to the lake is stuck (S3, Glue schema or transform).",
  });
  alarm("FirehoseDeliveryFailing", firehose("DeliveryToS3.Success", "Average"), {
    threshold: 1,
    comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 3,
    description: "Firehose deliveries to S3 have been failing for 15 minutes (Firehose retries them from the stream).",
  });
  alarm("TransformProcessingFailed", emf(TRANSFORM_METRICS.processingFailed, TRANSFORM_METRIC_DIMENSIONS, Duration.minutes(15)), {
    threshold: 0,
    description:
      "The transform could not turn some records into lake rows: they are kept, with their raw content, in the raw failure bucket (invoke the lake-redrive function once the cause is fixed).",
  });
  alarm("TransformOversizeFailed", emf(TRANSFORM_METRICS.oversizeFailed, TRANSFORM_METRIC_DIMENSIONS, Duration.minutes(15)), {
    threshold: 0,
    description:
      "The transform's output for some records exceeded Firehose's limits: they are kept in the raw failure bucket (invoke the lake-redrive function).",
  });
  alarm("RawFailuresUnkept", emf(TRANSFORM_METRICS.rawFailuresUnkept, TRANSFORM_METRIC_DIMENSIONS, Duration.minutes(5)), {
    threshold: 0,
    description:
      "The raw failure bucket refused some failed records (S3 or its KMS key): Firehose wrote them, prompts included, under the lake bucket's errors/processing-failed/ (SSE-S3). Fix the bucket or key, then invoke the lake-redrive function, which moves them out.",
  });

  // The bill: a complete day whose logs and bill differ by more than the configured percentage.
  // One data point a day (the daily run); Maximum over a day so that a run's worst day decides.
  if (reconciling)
    alarm("ReconcileDrift", emf(RECONCILE_METRICS.worstAbsDriftPercent, AGGREGATE_DIMENSIONS, Duration.days(1), undefined, "Maximum"), {
      threshold: config().reconcileDriftPercent,
      description: `A day the bill has finished differs from the logs by more than ${config().reconcileDriftPercent}% (the reconcile function's report, under reconcile/reports/ of the Athena results bucket, or bedrock-spend reconcile --stage, says per model, Region, token class and tier where and why).`,
    });

  // The dashboard of the pipeline itself.
  const fiveMinutes = Duration.minutes(5);
  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: `${app.name}-${app.stage}`,
    defaultInterval: Duration.hours(6),
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# bedrock-spend (${app.stage})\nInvocation log group \`${logGroup.logGroupName}\` → Kinesis → aggregates (DynamoDB) and lake (Firehose). Records in = counted + duplicates + dropped + quarantined.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Aggregate path: records",
      width: 12,
      left: (["logEvents", "counted", "duplicates", "dropped", "quarantined", "unpriced"] as const).map((count) =>
        emf(AGGREGATE_METRICS[count], AGGREGATE_DIMENSIONS, fiveMinutes, AGGREGATE_METRICS[count].name),
      ),
    }),
    new cloudwatch.GraphWidget({
      title: "Lake path: records",
      width: 12,
      left: (["recordsIn", "usageRows", "unpricedRows", "invalidRecords", "dropped", "processingFailed", "oversizeFailed"] as const).map((count) =>
        emf(TRANSFORM_METRICS[count], TRANSFORM_METRIC_DIMENSIONS, fiveMinutes, TRANSFORM_METRICS[count].name),
      ),
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Stream",
      width: 8,
      left: [
        new cloudwatch.Metric({
          namespace: "AWS/Kinesis",
          metricName: "IncomingRecords",
          dimensionsMap: { StreamName: stream.streamName },
          statistic: "Sum",
          period: fiveMinutes,
          label: "Kinesis records in",
        }),
        new cloudwatch.MathExpression({
          expression: `SEARCH('{AWS/Logs,DestinationType,FilterName,LogGroupName} LogGroupName="${logGroup.logGroupName}" MetricName="DeliveryErrors"', 'Sum', 300)`,
          label: "subscription delivery errors",
          usingMetrics: {},
          period: fiveMinutes,
        }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: "Iterator age (ms)",
      width: 8,
      left: [iteratorAge(aggregate, "aggregate"), iteratorAge(budgetAlert, "budget-alert")],
      right: [emf(AGGREGATE_METRICS.maxLagMs, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate lag (EMF)", "Maximum")],
      leftAnnotations: [{ value: THRESHOLDS.iteratorAgeMs, label: "alarm" }],
    }),
    new cloudwatch.GraphWidget({
      title: "Write units",
      width: 8,
      left: [
        emf(AGGREGATE_METRICS.writeUnits, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate write units"),
        table.metricConsumedWriteCapacityUnits({ statistic: "Sum", period: fiveMinutes, label: "table consumed WCU" }),
      ],
      right: [emf(AGGREGATE_METRICS.failed, AGGREGATE_DIMENSIONS, fiveMinutes, "write failures")],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: "Lambda errors", width: 8, left: errorMetrics }),
    new cloudwatch.GraphWidget({
      title: "Firehose freshness (s)",
      width: 8,
      left: [firehose("DeliveryToS3.DataFreshness", "Maximum", "oldest record not yet in S3 (s)")],
      right: [firehose("DeliveryToS3.Records", "Sum", "records delivered"), firehose("DeliveryToS3.Success", "Average", "S3 delivery success ratio")],
      leftAnnotations: [{ value: THRESHOLDS.firehoseFreshnessSeconds, label: "alarm" }],
    }),
    new cloudwatch.GraphWidget({
      title: "Dead-letter queues",
      width: 8,
      left: [queueDepth(deadLetters, "aggregate DLQ"), queueDepth(alertFailures, "budget-alert DLQ")],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Cost seen (micro-USD per 5 min, a signal, not a ledger)",
      width: 12,
      left: [
        emf(AGGREGATE_METRICS.costMicroUsd, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate"),
        emf(TRANSFORM_METRICS.costMicroUsd, TRANSFORM_METRIC_DIMENSIONS, fiveMinutes, "lake"),
      ],
    }),
    new cloudwatch.AlarmStatusWidget({ title: "Alarms", width: 12, alarms }),
  );
  if (reconciling)
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Bill vs logs: drift of the finished days (%)",
        width: 12,
        left: (["lastDayAbsDriftPercent", "worstAbsDriftPercent"] as const).map((name) =>
          emf(RECONCILE_METRICS[name], AGGREGATE_DIMENSIONS, Duration.days(1), RECONCILE_METRICS[name].name, "Maximum"),
        ),
        leftAnnotations: [{ value: config().reconcileDriftPercent, label: "alarm", color: "#d62728" }],
      }),
      new cloudwatch.GraphWidget({
        title: "Bill vs logs: last finished day's drift and unmapped usage (micro-USD)",
        width: 12,
        left: (["lastDayDriftMicroUsd", "unmappedMicroUsd"] as const).map((name) =>
          emf(RECONCILE_METRICS[name], AGGREGATE_DIMENSIONS, Duration.days(1), RECONCILE_METRICS[name].name, "Maximum"),
        ),
      }),
    );

  stack.addOutputs({ OpsTopic: topic.topicArn, Dashboard: dashboard.dashboardName });
  monitoringSuppressions(stack, { emailSubscription: opsEmail ? topic.node.findChild(opsEmail) : undefined });
  return { topic, alarms, dashboard };
}
