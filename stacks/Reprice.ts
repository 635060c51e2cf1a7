/**
 * Reprice: the job behind `bedrock-spend reprice` on a deployment. A Step Functions standard
 * state machine runs the reprice Lambda (functions/src/reprice.ts, logic in
 * pipeline/reprice-job.ts) in a loop until the audit record says the reprice is applied, so the
 * job outlives the machine that started it:
 *
 *   Prepare -> Step -> Done? --yes--> Applied
 *               ^         |no
 *               +- Wait <-+   (waitSeconds: the switch-over after the registration, else 0)
 *
 * Each step does a bounded slice (new lake days are started for REPRICE_SLICE_SECONDS of the
 * function's 15 minutes) and the table holds the progress (audit record, registry, per-item and
 * per-marker idempotence), so a step that dies is retried and resumes. Start an execution with a
 * `RepriceJobInput` (`{"from":"2026-09","to":"2026-10","source":{...},"actor":"<arn>"}`, or
 * `{"resume":"<id>","actor":"<arn>"}`); its output's `step` is the last `RepriceStepResult`.
 *
 * Decisions:
 * - The lake side goes through Athena (`AthenaRepriceLake`): reads by `"$path"` over the Glue
 *   table, writes by CTAS into the workgroup's result location, then S3 copies into the
 *   partition; replaced objects move under `history/<id>/`. The temporary tables it creates and
 *   drops are named `reprice_*`, which is all the Glue write access it has.
 * - The state machine has no CloudWatch Logs destination and no X-Ray: both need `"*"`-resource
 *   permissions (log delivery, sampling rules) the least-privilege test refuses; the execution
 *   history (90 days) and the function's logs and metrics say what each step did.
 */
import { Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import { ENV, METRICS_NAMESPACE } from "../functions/src/lib/contracts";
import { dedupKey, tenantPk } from "../packages/store/src/keys";
import { Analytics, resultsAccess, workGroupAccess } from "./Analytics";
import { config } from "./config";
import { Lake, USAGE_PREFIX } from "./Lake";
import { repriceSuppressions } from "./nag-suppressions";
import { Processing } from "./Processing";
import { PRICING_PARTITION, REPRICE_PARTITION } from "./pricing-registry";
import { grantProfileResolution } from "./profile-resolution";
import { removalPolicyOf } from "./storage";

/** Where replaced lake objects are kept, by reprice id (`history/<id>/year=/month=/day=/`). */
export const HISTORY_PREFIX = "history/";

/**
 * Every partition a reprice touches: tenants' aggregate items, dedup markers, the registry and the
 * audit records (`dynamodb:LeadingKeys`). Budgets and alert markers live in tenant partitions too:
 * IAM cannot constrain a sort key, so the code holds that line (it updates counters only).
 */
export const REPRICE_LEADING_KEYS = [`${tenantPk("")}*`, `${dedupKey("").pk}*`, PRICING_PARTITION, REPRICE_PARTITION];

/** How long the live consumers' registry reads are kept (`RegistryPricing`'s default TTL). */
const REGISTRY_TTL_SECONDS = 60;
/** The transform's processor buffer interval and Firehose's S3 buffer interval (stacks/Lake.ts), dynamic partitioning adding up to half of it. */
const TRANSFORM_BUFFER_SECONDS = 60;
const FIREHOSE_BUFFER_SECONDS = 300 * 1.5;

/**
 * From a reprice's registration until every live consumer prices its months with the new catalog
 * and the lake holds what they delivered before: the registry TTL, the transform's and Firehose's
 * buffers, and a minute of margin.
 */
export const SWITCH_OVER_SECONDS = REGISTRY_TTL_SECONDS + TRANSFORM_BUFFER_SECONDS + FIREHOSE_BUFFER_SECONDS + 60;

/** Seconds a step starts new lake days for; the function's timeout (900 s) leaves the last day 5 minutes. */
export const SLICE_SECONDS = 600;

export function Reprice({ stack, app }: StackContext) {
  const { table } = use(Processing);
  const { bucket, databaseName, tableName } = use(Lake);
  const { workGroup, results } = use(Analytics);
  const settings = config();
  const workGroupName = workGroup.name;

  const fn = new SstFunction(stack, "RepriceStep", {
    handler: "functions/src/reprice.handler",
    timeout: 900,
    memorySize: 2048,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.aggregateBreakdowns]: settings.breakdowns.join(","),
      [ENV.lakeBucket]: bucket.bucketName,
      [ENV.glueDatabase]: databaseName,
      [ENV.glueTable]: tableName,
      [ENV.athenaWorkGroup]: workGroupName,
      [ENV.athenaResultsBucket]: results.bucketName,
      [ENV.repriceSliceSeconds]: String(SLICE_SECONDS),
      [ENV.repriceSwitchOverSeconds]: String(SWITCH_OVER_SECONDS),
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    },
  });

  const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: "glue", resource, ...(resourceName ? { resourceName } : {}) });
  for (const statement of [
    new iam.PolicyStatement({
      sid: "AggregatesTable",
      actions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
      resources: [table.tableArn],
      conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": REPRICE_LEADING_KEYS } },
    }),
    workGroupAccess(stack, workGroupName),
    new iam.PolicyStatement({
      sid: "GlueUsageTable",
      actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
      resources: [glue("catalog"), glue("database", databaseName), glue("table", `${databaseName}/${tableName}`)],
    }),
    new iam.PolicyStatement({
      sid: "GlueStagingTables",
      actions: ["glue:CreateTable", "glue:DeleteTable", "glue:GetTable"],
      resources: [glue("catalog"), glue("database", databaseName), glue("table", `${databaseName}/reprice_*`)],
    }),
    new iam.PolicyStatement({ sid: "LakeBucket", actions: ["s3:GetBucketLocation"], resources: [bucket.bucketArn] }),
    new iam.PolicyStatement({
      sid: "LakeList",
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${USAGE_PREFIX}*`, `${HISTORY_PREFIX}*`] } },
    }),
    new iam.PolicyStatement({
      sid: "LakeObjects",
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`), bucket.arnForObjects(`${HISTORY_PREFIX}*`)],
    }),
    ...resultsAccess(results),
  ])
    fn.addToRolePolicy(statement);
  // A reprice prices again the rows of calls made through application profiles.
  grantProfileResolution(fn, settings);

  // The job's input under `input`, and an empty previous step (a step field must exist to be passed on).
  const prepare = new sfn.Pass(stack, "Prepare", { parameters: { "input.$": "$", step: {} } });
  const step = new tasks.LambdaInvoke(stack, "Step", {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.objectAt("$.input"),
      execution: { name: sfn.JsonPath.executionName, startTime: sfn.JsonPath.stringAt("$$.Execution.StartTime") },
      step: sfn.JsonPath.objectAt("$.step"),
    }),
    payloadResponseOnly: true,
    resultPath: "$.step",
  });
  // A step that dies (timeout, throttling) is retried: every step resumes from the table.
  step.addRetry({
    errors: ["Sandbox.Timedout", "States.Timeout", "Lambda.TooManyRequestsException"],
    interval: Duration.seconds(30),
    maxAttempts: 4,
    backoffRate: 2,
  });
  const failed = new sfn.Fail(stack, "Failed", { errorPath: "$.error.Error", causePath: "$.error.Cause" });
  step.addCatch(failed, { errors: ["States.ALL"], resultPath: "$.error" });
  const wait = new sfn.Wait(stack, "Wait", { time: sfn.WaitTime.secondsPath("$.step.waitSeconds") });
  const applied = new sfn.Succeed(stack, "Applied");
  const definition = prepare
    .next(step)
    .next(new sfn.Choice(stack, "Done?").when(sfn.Condition.booleanEquals("$.step.done", true), applied).otherwise(wait.next(step)));

  // Step Functions assumes the role on behalf of this account only (confused deputy).
  const role = new iam.Role(stack, "RepriceJobRole", {
    assumedBy: new iam.ServicePrincipal("states.amazonaws.com", { conditions: { StringEquals: { "aws:SourceAccount": stack.account } } }),
    description: "bedrock-spend reprice job: invoke the reprice step",
  });
  const stateMachine = new sfn.StateMachine(stack, "RepriceJob", {
    role,
    stateMachineName: `${app.name}-${app.stage}-reprice`,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: Duration.days(7),
    comment: "bedrock-spend reprice: runs the reprice step until the audit record says applied",
    // Every state transition in CloudWatch Logs (cdk-nag AwsSolutions-SF1), without the states'
    // input and output, which the execution history keeps; traced with X-Ray, like the step (SF2).
    logs: {
      destination: new logs.LogGroup(stack, "RepriceJobLogs", {
        // Under /aws/vendedlogs/: Step Functions then needs no resource policy of CloudWatch Logs per log group.
        logGroupName: `/aws/vendedlogs/states/${app.name}-${app.stage}-reprice`,
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: removalPolicyOf(app.stage),
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: false,
    },
    tracingEnabled: true,
  });

  // Its failures are alarmed with every function's errors (stacks/Monitoring.ts): a failed execution is a failed step.
  stack.addOutputs({ RepriceStateMachine: stateMachine.stateMachineArn, RepriceFunction: fn.functionName });
  repriceSuppressions(stack, { fn, role });
  return { stateMachine, fn };
}
