/**
 * Processing: the aggregates table, the dead-letter queue, and the aggregate and redrive functions
 * that consume the stream exactly once.
 */
import { Duration } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { KinesisEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import { ENV, METRICS_NAMESPACE } from "../functions/src/lib/contracts";
import { PERIOD_INDEX, PK, SK, TTL_ATTRIBUTE, UNDELIVERED_ALERTS_INDEX } from "../packages/store/src/layout";
import { config } from "./config";
import { Ingest, STREAM_RETENTION } from "./Ingest";
import { processingSuppressions } from "./nag-suppressions";
import { registryRead } from "./pricing-registry";
import { grantProfileResolution } from "./profile-resolution";
import { removalPolicyOf } from "./storage";

/** The dead-letter queue's largest message, the size `SqsDeadLetterQueue` clips and batches for. */
export const DEAD_LETTER_MESSAGE_BYTES = 262_144;

export function Processing({ stack, app }: StackContext) {
  const { stream } = use(Ingest);
  const settings = config();

  const table = new dynamodb.Table(stack, "Aggregates", {
    partitionKey: { name: PK, type: dynamodb.AttributeType.STRING },
    sortKey: { name: SK, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    removalPolicy: removalPolicyOf(app.stage),
  });
  // Sparse: only alert markers fired and not yet published carry its partition key (the alert sweep's).
  table.addGlobalSecondaryIndex({
    indexName: UNDELIVERED_ALERTS_INDEX.name,
    partitionKey: { name: UNDELIVERED_ALERTS_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: UNDELIVERED_ALERTS_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...UNDELIVERED_ALERTS_INDEX.projected],
  });
  // Sparse: only aggregate items carry `period`; the cross-tenant report (GET /v1/spend) queries a
  // period here instead of scanning the table. CloudFormation adds one index per update to an
  // existing table: this is the one this release adds, filled by DynamoDB from the items.
  table.addGlobalSecondaryIndex({
    indexName: PERIOD_INDEX.name,
    partitionKey: { name: PERIOD_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: PERIOD_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [...PERIOD_INDEX.projected],
  });
  // The writers' actions on the table alone: `table.grant` would add its indexes (`index/*`) now that it has one.
  const tableWrites = () =>
    new iam.PolicyStatement({
      actions: ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
      resources: [table.tableArn],
    });

  const deadLetters = new sqs.Queue(stack, "DeadLetters", {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // As long as the stream keeps the records its on-failure messages point at.
    retentionPeriod: STREAM_RETENTION,
    // Stated, not left to the default (1 MiB for new queues, 256 KiB for older ones): the size the
    // adapter clips and batches for (SQS_DEFAULT_MESSAGE_BYTES of adapters/sqs-dead-letter.ts).
    maxMessageSizeBytes: DEAD_LETTER_MESSAGE_BYTES,
    visibilityTimeout: Duration.minutes(6),
  });

  const aggregate = new SstFunction(stack, "Aggregate", {
    handler: "functions/src/aggregate.handler",
    timeout: 60,
    memorySize: 1024,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.deadLetterQueueUrl]: deadLetters.queueUrl,
      [ENV.aggregateBreakdowns]: settings.breakdowns.join(","),
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    },
  });
  aggregate.addToRolePolicy(tableWrites());
  // The live pricing reads the reprice registry (functions/src/lib/adapters.ts, livePricingFromEnv).
  aggregate.addToRolePolicy(registryRead(table.tableArn));
  grantProfileResolution(aggregate, settings);
  deadLetters.grantSendMessages(aggregate);
  aggregate.addEventSource(
    new KinesisEventSource(stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration.days(1),
      parallelizationFactor: 2,
      onFailure: new SqsDlq(deadLetters),
    }),
  );

  const redrive = new SstFunction(stack, "Redrive", {
    handler: "functions/src/redrive.handler",
    timeout: 300,
    memorySize: 1024,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.deadLetterQueueUrl]: deadLetters.queueUrl,
      [ENV.streamArn]: stream.streamArn,
      [ENV.aggregateBreakdowns]: settings.breakdowns.join(","),
    },
  });
  redrive.addToRolePolicy(tableWrites());
  redrive.addToRolePolicy(registryRead(table.tableArn));
  grantProfileResolution(redrive, settings);
  deadLetters.grantConsumeMessages(redrive);
  stream.grantRead(redrive);

  stack.addOutputs({ AggregatesTable: table.tableName, DeadLetterQueue: deadLetters.queueUrl });
  processingSuppressions(stack, { deadLetters, aggregate, redrive });
  return { table, deadLetters, aggregate, redrive };
}
