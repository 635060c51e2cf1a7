/**
 * The cdk-nag findings (`AwsSolutions` and `Serverless` packs, test/infra/nag.test.ts) this app
 * does not fix, each with its reason: one function per stack, called at the end of the stack, each
 * suppression on the one resource it concerns (IAM5 with `appliesTo` naming the exact wildcard).
 * What the packs found and the stacks fix instead (the reprice state machine's logs and tracing,
 * the redrive delivery stream's encryption) is in the stacks themselves.
 */
import { type Stack, Stack as StackClass } from "aws-cdk-lib";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { type NagPackSuppression, NagSuppressions } from "cdk-nag";
import type { IConstruct } from "constructs";

/** A suppression's `appliesTo` entry: an exact finding or a pattern (`{ regex: "/.../" }`). */
type Finding = string | { regex: string };

const BASIC_EXECUTION_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

const REASONS = {
  basicExecution:
    "AWSLambdaBasicExecutionRole allows only logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, what a function needs to write its own logs; it is the policy AWS documents for this (docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html), and SST and CDK attach it to every function role they create.",
  xray: "xray:PutTraceSegments and xray:PutTelemetryRecords (the functions' active tracing) have no resource type, so IAM accepts only '*' for them (Service Authorization Reference, AWS X-Ray; docs.aws.amazon.com/xray/latest/devguide/security_iam_id-based-policy-examples.html).",
  profiles:
    "Application inference profiles are created by the account's teams at any time, after this deploys: the ARN pattern is this account's and Region's application profiles and nothing else, for two read actions (GetInferenceProfile, ListTagsForResource); stacks/profile-resolution.ts.",
  qualifiedArns:
    "'<function ARN>:*' is the qualified ARNs (versions, aliases) of this one function, which CDK grants with the unqualified ARN so that an invocation through a version or alias is allowed too; no other function matches.",
  syncInvocation:
    "A Lambda dead-letter queue receives failed asynchronous invocations only (docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html); this function is never invoked asynchronously:",
  deployTimeHandler:
    "a deploy-time handler of the framework, invoked by CloudFormation only while a stack deploys (CloudFormation fails the deploy if it gets no response, so a DLQ would hold nothing anyone acts on), whose role and settings the framework creates; it touches no pipeline data, so tracing it shows nothing.",
  deadLetterQueue:
    "This queue is itself the on-failure destination of an event source mapping (a dead-letter queue); a dead-letter queue of a dead-letter queue would only move the same messages once more (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).",
} as const;

function suppress(construct: IConstruct | undefined, id: string, reason: string, appliesTo?: Finding[]): void {
  if (!construct) throw new Error(`cdk-nag suppression ${id}: no construct to put it on`);
  const suppression: NagPackSuppression = appliesTo ? { id, reason, appliesTo } : { id, reason };
  NagSuppressions.addResourceSuppressions(construct, [suppression]);
}

/** The role's default policy (what `addToRolePolicy` and CDK's grants write to). */
function defaultPolicy(role: iam.IRole | undefined): IConstruct | undefined {
  return role?.node.tryFindChild("DefaultPolicy");
}

/**
 * What every function of the app carries: the basic execution role, and X-Ray's `*` (plus the
 * other actions that have no resource type, named by the caller) in its default policy.
 */
function appFunction(fn: lambda.IFunction, invokedBy: string, extraStar?: string): void {
  suppress(fn.role, "AwsSolutions-IAM4", REASONS.basicExecution, [BASIC_EXECUTION_ROLE]);
  suppress(defaultPolicy(fn.role), "AwsSolutions-IAM5", extraStar ? `${REASONS.xray} ${extraStar}` : REASONS.xray, ["Resource::*"]);
  suppress(fn, "Serverless-LambdaDLQ", `${REASONS.syncInvocation} ${invokedBy}`);
}

/** Profile resolution's ARN pattern on a function's default policy (none when resolution is off). */
function profileResolution(fn: lambda.IFunction): void {
  suppress(defaultPolicy(fn.role), "AwsSolutions-IAM5", REASONS.profiles, [
    { regex: "/^Resource::arn:<AWS::Partition>:bedrock:[^:]+:[^:]+:application-inference-profile\\/\\*$/" },
  ]);
}

/**
 * The function SST 2.49.8 adds to every stack (`CustomResourceHandler`, for its stack metadata and
 * its constructs' custom resources): runtime, role and tracing are SST's, not the app's.
 */
function sstCustomResourceHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild("CustomResourceHandler") as lambda.IFunction | undefined;
  suppress(handler?.role, "AwsSolutions-IAM4", REASONS.basicExecution, [BASIC_EXECUTION_ROLE]);
  suppress(handler, "Serverless-LambdaDLQ", `SST's stack custom resource handler: ${REASONS.deployTimeHandler}`);
  suppress(handler, "Serverless-LambdaTracing", `SST's stack custom resource handler: ${REASONS.deployTimeHandler}`);
}

/** A deploy-time function of CDK's (provider framework, AwsCustomResource): CDK's role, memory and tracing. */
function cdkDeployTimeFunction(fn: lambda.IFunction, what: string, qualifiedArnOf?: string): void {
  suppress(fn.role, "AwsSolutions-IAM4", REASONS.basicExecution, [BASIC_EXECUTION_ROLE]);
  suppress(fn, "Serverless-LambdaDLQ", `${what}: ${REASONS.deployTimeHandler}`);
  suppress(fn, "Serverless-LambdaTracing", `${what}: ${REASONS.deployTimeHandler}`);
  if (qualifiedArnOf) suppress(defaultPolicy(fn.role), "AwsSolutions-IAM5", REASONS.qualifiedArns, [`Resource::<${qualifiedArnOf}.Arn>:*`]);
}

/** The logical id CDK gives a function's CfnFunction (what cdk-nag writes as `<Id.Arn>`). */
function logicalIdOf(fn: lambda.IFunction): string {
  return StackClass.of(fn).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
}

export function ingestSuppressions(
  stack: Stack,
  {
    stream,
    bedrockLogging,
  }: {
    stream: IConstruct;
    /** Present when the stack configures Bedrock's invocation logging itself. */
    bedrockLogging?: { fn: lambda.IFunction; provider: IConstruct; awsCustomResource: IConstruct };
  },
): void {
  sstCustomResourceHandler(stack);
  suppress(
    stream,
    "AwsSolutions-KDS3",
    "Design decision (stacks/Ingest.ts): the stream holds whole prompts and responses, so it is encrypted with a key of the stage's own; alias/aws/kinesis would let every principal of the account with kinesis:GetRecords read them (docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html). The KMS cost the rule warns of is accepted.",
  );
  if (!bedrockLogging) return;
  const providerOnEvent = bedrockLogging.provider.node.findChild("framework-onEvent") as lambda.IFunction;
  // CDK's singleton function of every AwsCustomResource in the stack (its id is fixed by CDK).
  const awsCustomResourceFunction = stack.node.findChild("AWS679f53fac002430cb0da5b7982bd2287") as lambda.IFunction;
  appFunction(
    bedrockLogging.fn,
    "it is the provider framework's onEvent handler, which the framework invokes synchronously.",
    "The same holds for bedrock:Get/Put/DeleteModelInvocationLoggingConfiguration: the model invocation logging configuration is one per account and Region and has no resource type (Service Authorization Reference, Amazon Bedrock).",
  );
  cdkDeployTimeFunction(providerOnEvent, "CDK's custom resource provider framework (onEvent)", logicalIdOf(bedrockLogging.fn));
  suppress(
    providerOnEvent,
    "Serverless-LambdaDefaultMemorySize",
    "CDK's provider framework function, sized by CDK: it only relays the event to the app's handler and back.",
  );
  suppress(
    bedrockLogging.awsCustomResource.node.tryFindChild("CustomResourcePolicy"),
    "AwsSolutions-IAM5",
    "bedrock:GetModelInvocationLoggingConfiguration has no resource type, so IAM accepts only '*' (Service Authorization Reference, Amazon Bedrock); the kept AwsCustomResource only reads the setting (stacks/Ingest.ts).",
    ["Resource::*"],
  );
  cdkDeployTimeFunction(awsCustomResourceFunction, "CDK's AwsCustomResource provider function");
  suppress(
    awsCustomResourceFunction,
    "Serverless-LambdaDefaultMemorySize",
    "CDK's AwsCustomResource singleton function, sized by CDK: one SDK call per deploy.",
  );
}

export function processingSuppressions(
  stack: Stack,
  { deadLetters, aggregate, redrive }: { deadLetters: IConstruct; aggregate: lambda.IFunction; redrive: lambda.IFunction },
): void {
  sstCustomResourceHandler(stack);
  suppress(deadLetters, "AwsSolutions-SQS3", REASONS.deadLetterQueue);
  suppress(deadLetters, "Serverless-SQSRedrivePolicy", REASONS.deadLetterQueue);
  appFunction(
    aggregate,
    "its Kinesis event source mapping invokes it synchronously and sends what fails after the retries to the DeadLetters queue (on-failure destination).",
  );
  appFunction(redrive, "it is run by hand after an incident (`bedrock-spend redrive`, a synchronous Invoke).");
  profileResolution(aggregate);
  profileResolution(redrive);
}

export function lakeSuppressions(
  stack: Stack,
  {
    bucket,
    rawFailures,
    deliveryStream,
    deliveryRole,
    transform,
    lakeRedrive,
  }: {
    bucket: IConstruct;
    rawFailures: IConstruct;
    deliveryStream: IConstruct;
    deliveryRole: IConstruct;
    transform: lambda.IFunction;
    lakeRedrive: lambda.IFunction;
  },
): void {
  sstCustomResourceHandler(stack);
  const accessLogs =
    "Object-level access is left to the account's CloudTrail data events (an organization or account trail, as the README's deploy section says), which the S3 documentation recommends over server access logs (best effort, delivered hours late: docs.aws.amazon.com/AmazonS3/latest/userguide/logging-with-S3.html); a log bucket per stage would duplicate them. The bucket is private, TLS-only and written and read by this app's roles only.";
  suppress(bucket, "AwsSolutions-S1", accessLogs);
  suppress(rawFailures, "AwsSolutions-S1", accessLogs);
  suppress(
    deliveryStream,
    "AwsSolutions-KDF1",
    "A delivery stream with a Kinesis data stream as its source takes no server-side encryption of its own: Firehose does not store the data at rest, it stays in the source stream, which is encrypted with the stage's KMS key (docs.aws.amazon.com/firehose/latest/dev/encryption.html). The Direct PUT redrive stream is encrypted.",
  );
  suppress(
    deliveryRole,
    "AwsSolutions-IAM5",
    "Firehose writes objects under keys it generates (partition path, timestamp, random suffix) within the lake's usage/ and errors/ prefixes: the object ARNs are those two prefixes of the one lake bucket (docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3).",
    [{ regex: "/^Resource::<LakeBucket[0-9A-F]{8}\\.Arn>\\/(usage|errors)\\/\\*$/" }],
  );
  suppress(deliveryRole, "AwsSolutions-IAM5", REASONS.qualifiedArns, [`Resource::<${logicalIdOf(transform)}.Arn>:*`]);

  appFunction(
    transform,
    "Firehose invokes the transform synchronously; records it fails are delivered under errors/ (processing-failed) and redriven by LakeRedrive.",
  );
  profileResolution(transform);
  suppress(
    defaultPolicy(transform.role),
    "AwsSolutions-IAM5",
    "The transform writes one object per failed batch under a generated key in the raw failure bucket (s3:PutObject only, no reads; the bucket's key is usable only through S3). Object ARNs can only be narrowed by key prefix (docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html#security_iam_service-with-iam-id-based-policies-resources).",
    [{ regex: "/^Resource::<RawFailures[0-9A-F]{8}\\.Arn>\\/\\*$/" }],
  );

  appFunction(lakeRedrive, "it is run by hand after an incident (`bedrock-spend redrive --lake-errors`, a synchronous Invoke).");
  suppress(
    defaultPolicy(lakeRedrive.role),
    "AwsSolutions-IAM5",
    "The lake redrive reads and deletes the objects it sends back through the transform: every object of the raw failure bucket, and the processing-failed objects under the lake's errors/processing-failed/ prefix only. Object ARNs can only be narrowed by key prefix (docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html#security_iam_service-with-iam-id-based-policies-resources).",
    [
      { regex: "/^Resource::<RawFailures[0-9A-F]{8}\\.Arn>\\/\\*$/" },
      { regex: "/^Resource::<LakeBucket[0-9A-F]{8}\\.Arn>\\/errors\\/processing-failed\\/\\*$/" },
    ],
  );
}

export function analyticsSuppressions(stack: Stack, { results, quickSightRole }: { results: IConstruct; quickSightRole?: IConstruct }): void {
  sstCustomResourceHandler(stack);
  suppress(
    results,
    "AwsSolutions-S1",
    "Athena query results and the reprice job's staging and reports, expired by lifecycle; object-level access is left to the account's CloudTrail data events (as the README's deploy section says), which the S3 documentation recommends over server access logs (docs.aws.amazon.com/AmazonS3/latest/userguide/logging-with-S3.html).",
  );
  if (!quickSightRole) return;
  suppress(
    quickSightRole,
    "AwsSolutions-IAM5",
    "athena:ListWorkGroups and athena:ListDataCatalogs have no resource type, so IAM accepts only '*' (Service Authorization Reference, Amazon Athena); QuickSight lists them when it connects to Athena.",
    ["Resource::*"],
  );
  suppress(
    quickSightRole,
    "AwsSolutions-IAM5",
    "QuickSight queries through Athena the lake's usage table and the views, which Glue holds as tables of the project's database: the tables of that one database (docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html), the lake's usage/ objects and the workgroup's results. Object ARNs can only be narrowed by key prefix (docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html#security_iam_service-with-iam-id-based-policies-resources).",
    [
      { regex: "/^Resource::arn:<AWS::Partition>:glue:[^:]+:[^:]+:table\\/[a-z0-9_]+\\/\\*$/" },
      { regex: "/^Resource::.*LakeBucket[0-9A-F]{8}Arn[0-9A-F]{8}\\/usage\\/\\*$/" },
      { regex: "/^Resource::<AthenaResults[0-9A-F]{8}\\.Arn>\\/\\*$/" },
    ],
  );
}

export function alertsSuppressions(
  stack: Stack,
  {
    failures,
    budgetAlert,
    alertSweep,
    sweepSchedule,
    emailSubscription,
  }: { failures: IConstruct; budgetAlert: lambda.IFunction; alertSweep: lambda.IFunction; sweepSchedule: IConstruct; emailSubscription?: IConstruct },
): void {
  sstCustomResourceHandler(stack);
  suppress(failures, "AwsSolutions-SQS3", REASONS.deadLetterQueue);
  suppress(failures, "Serverless-SQSRedrivePolicy", REASONS.deadLetterQueue);
  appFunction(
    budgetAlert,
    "its DynamoDB stream event source mapping invokes it synchronously and sends what fails after the retries to the AlertFailures queue (on-failure destination).",
    "The same holds for dynamodb:ListStreams, which CDK's DynamoDB event source grants: it has no resource type (Service Authorization Reference, Amazon DynamoDB Streams).",
  );
  const sweepRetries =
    "Design decision (stacks/Alerts.ts): the alert sweep runs every 15 minutes and each run sweeps every alert not yet delivered, so a failed or undelivered run is retried by the next one; its errors are alarmed (stacks/Monitoring.ts).";
  suppress(alertSweep.role, "AwsSolutions-IAM4", REASONS.basicExecution, [BASIC_EXECUTION_ROLE]);
  suppress(defaultPolicy(alertSweep.role), "AwsSolutions-IAM5", REASONS.xray, ["Resource::*"]);
  suppress(alertSweep, "Serverless-LambdaDLQ", sweepRetries);
  suppress(alertSweep.node.tryFindChild("EventInvokeConfig"), "Serverless-LambdaAsyncFailureDestination", sweepRetries);
  suppress(sweepSchedule, "Serverless-EventBusDLQ", sweepRetries);
  if (emailSubscription) suppress(emailSubscription, "Serverless-SNSRedrivePolicy", emailRedrive);
}

const emailRedrive =
  "An e-mail subscription takes no redrive policy: SNS retries e-mail deliveries itself, and a dead-letter queue can be attached to SQS, Lambda, HTTP(S) and other application endpoints (docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html); the alerts also go to the EventBridge bus.";

export function apiSuppressions(
  stack: Stack,
  { spendApi, spendApiJwt, httpApiStage }: { spendApi: lambda.IFunction; spendApiJwt?: lambda.IFunction; httpApiStage?: IConstruct },
): void {
  sstCustomResourceHandler(stack);
  appFunction(spendApi, "its IAM Function URL invokes it synchronously (the caller gets the error).");
  if (spendApiJwt) appFunction(spendApiJwt, "the HTTP API's Lambda integration invokes it synchronously (the caller gets the error).");
  for (const fn of [spendApi, spendApiJwt]) {
    if (!fn) continue;
    suppress(
      defaultPolicy(fn.role),
      "AwsSolutions-IAM5",
      "The reports by model and over days read the lake's usage/ prefix (s3:GetObject only) through Athena and write its results in the Athena results bucket: object keys are generated by Firehose and Athena. Object ARNs can only be narrowed by key prefix (docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html#security_iam_service-with-iam-id-based-policies-resources).",
      [
        { regex: "/^Resource::.*LakeBucket[0-9A-F]{8}Arn[0-9A-F]{8}\\/usage\\/\\*$/" },
        { regex: "/^Resource::.*AthenaResults[0-9A-F]{8}Arn[0-9A-F]{8}\\/\\*$/" },
      ],
    );
  }
  if (httpApiStage) {
    suppress(
      httpApiStage,
      "Serverless-APIGWStructuredLogging",
      "SST's HttpApi writes its default access log format, which is JSON (requestId, ip, requestTime, httpMethod, routeKey, status, protocol, responseLatency...); the rule does not read a format set through SST's accessLog option.",
    );
  }
}

export function repriceSuppressions(stack: Stack, { fn, role }: { fn: lambda.IFunction; role: iam.IRole }): void {
  sstCustomResourceHandler(stack);
  appFunction(fn, "the reprice state machine invokes it synchronously (LambdaInvoke) and retries or fails the execution on its errors.");
  profileResolution(fn);
  suppress(
    defaultPolicy(fn.role),
    "AwsSolutions-IAM5",
    "The reprice step works on objects and staging tables it names at run time: the lake's usage/ and history/ prefixes, the Athena results bucket (CTAS output, reports), and Glue tables named reprice_* in the project's database only (stacks/README.md, Reprice).",
    [
      { regex: "/^Resource::arn:<AWS::Partition>:glue:[^:]+:[^:]+:table\\/[a-z0-9_]+\\/reprice_\\*$/" },
      { regex: "/^Resource::.*LakeBucket[0-9A-F]{8}Arn[0-9A-F]{8}\\/(usage|history)\\/\\*$/" },
      { regex: "/^Resource::.*AthenaResults[0-9A-F]{8}Arn[0-9A-F]{8}\\/\\*$/" },
    ],
  );
  suppress(defaultPolicy(role), "AwsSolutions-IAM5", REASONS.qualifiedArns, [`Resource::<${logicalIdOf(fn)}.Arn>:*`]);
  suppress(
    defaultPolicy(role),
    "AwsSolutions-IAM5",
    "The state machine's logging and tracing: the CloudWatch Logs vended log delivery actions (logs:CreateLogDelivery and the like) and X-Ray's have no resource type, so IAM accepts only '*' (docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).",
    ["Resource::*"],
  );
}

export function reconcileSuppressions(stack: Stack, { fn, schedule, curBucket }: { fn: lambda.IFunction; schedule: IConstruct; curBucket: string }): void {
  sstCustomResourceHandler(stack);
  const daily =
    "Design decision (stacks/Reconcile.ts): the reconciliation runs daily over the last days of the bill, so a failed run is covered by the next one; its errors are alarmed (stacks/Monitoring.ts).";
  suppress(fn.role, "AwsSolutions-IAM4", REASONS.basicExecution, [BASIC_EXECUTION_ROLE]);
  suppress(defaultPolicy(fn.role), "AwsSolutions-IAM5", REASONS.xray, ["Resource::*"]);
  suppress(
    defaultPolicy(fn.role),
    "AwsSolutions-IAM5",
    "The reconciliation reads the objects of the CUR 2.0 export under its configured prefix (s3:GetObject only) and the lake's usage/ prefix, and writes Athena results in the results bucket: object keys are generated by the export, Firehose and Athena. Object ARNs can only be narrowed by key prefix (docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html#security_iam_service-with-iam-id-based-policies-resources).",
    [
      { regex: `/^Resource::arn:<AWS::Partition>:s3:::${curBucket.replace(/[.]/g, "\\.")}\\/(.*\\/)?\\*$/` },
      { regex: "/^Resource::.*LakeBucket[0-9A-F]{8}Arn[0-9A-F]{8}\\/usage\\/\\*$/" },
      { regex: "/^Resource::.*AthenaResults[0-9A-F]{8}Arn[0-9A-F]{8}\\/\\*$/" },
    ],
  );
  suppress(fn, "Serverless-LambdaDLQ", daily);
  suppress(schedule, "Serverless-EventBusDLQ", daily);
}

export function monitoringSuppressions(stack: Stack, { emailSubscription }: { emailSubscription?: IConstruct }): void {
  sstCustomResourceHandler(stack);
  if (emailSubscription) suppress(emailSubscription, "Serverless-SNSRedrivePolicy", emailRedrive);
}
