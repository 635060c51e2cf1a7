/**
 * Ingest: the invocation log group Bedrock writes to (or an existing one), the log group added to
 * the account's Bedrock model invocation logging (keeping what the setting already has, and giving
 * it back on removal), and the CloudWatch Logs subscription that feeds every log event into the
 * Kinesis stream both consumers (Firehose and the aggregate function) read.
 */
import { ArnFormat, CustomResource, Duration, type RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kinesis from "aws-cdk-lib/aws-kinesis";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import { Function as SstFunction, type StackContext } from "sst/constructs";
import { config } from "./config";
import { ingestSuppressions } from "./nag-suppressions";
import { removalPolicyOf } from "./storage";

/** The log stream Bedrock writes every invocation record to (one stream for the whole log group). */
export const BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations";

/**
 * How long the stream keeps records, and the aggregate path's dead-letter queue its messages
 * (stacks/Processing.ts): an on-failure message holds only the shard and sequence range of a
 * batch, so a redrive needs the records still in the stream for as long as the message lives.
 * 14 days also leaves a replay window (`bedrock-spend replay`); beyond 7 days Kinesis bills the
 * records at its long-term retention rate.
 */
export const STREAM_RETENTION = Duration.days(14);

/** Retention periods CloudWatch Logs accepts (any other number fails the deploy). */
const RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((value): value is number => typeof value === "number"));

/** `arn:<partition>:logs:<region>:<account>:log-group:<rest>` of this stack's account and Region. */
function logGroupArn(stack: Stack, rest: string): string {
  return stack.formatArn({ service: "logs", resource: "log-group", resourceName: rest, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

export function Ingest({ stack, app }: StackContext) {
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);

  // On-demand, encrypted with a key of the stage's own (not alias/aws/kinesis, which every
  // principal of the account with kinesis:GetRecords can decrypt): the records hold whole prompts.
  const streamKey = streamEncryptionKey(stack, app.stage, removalPolicy);
  const stream = new kinesis.Stream(stack, "Invocations", {
    streamMode: kinesis.StreamMode.ON_DEMAND,
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: streamKey,
    retentionPeriod: STREAM_RETENTION,
  });

  // The log group: an existing one (Bedrock already logs there), or our own, KMS-encrypted with a
  // key only CloudWatch Logs can use, and only for this log group.
  let logGroup: logs.ILogGroup;
  let logGroupName: string;
  let bedrockLogging: Parameters<typeof ingestSuppressions>[1]["bedrockLogging"];
  if (settings.existingLogGroupName) {
    logGroupName = settings.existingLogGroupName;
    logGroup = logs.LogGroup.fromLogGroupName(stack, "InvocationLogs", logGroupName);
  } else {
    if (!RETENTION_DAYS.has(settings.logRetentionDays)) {
      throw new Error(
        `BEDROCK_SPEND_LOG_RETENTION_DAYS: CloudWatch Logs does not accept ${settings.logRetentionDays} days; use one of ${[...RETENTION_DAYS].filter((days) => days > 0).join(", ")}`,
      );
    }
    // A fixed name, so that the key policy can name the log group without a dependency cycle.
    logGroupName = `/bedrock-spend/${app.stage}/model-invocations`;
    const key = new kms.Key(stack, "InvocationLogsKey", {
      description: `Encrypts the Bedrock invocation log group ${logGroupName} (prompts and responses)`,
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchLogsForTheInvocationLogGroupOnly",
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:DescribeKey",
        ],
        resources: ["*"],
        conditions: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn(stack, logGroupName) } },
      }),
    );
    // The log group references the key, so the key (and its policy) exists first.
    logGroup = new logs.LogGroup(stack, "InvocationLogs", {
      logGroupName,
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: key,
      removalPolicy,
    });
  }

  if (settings.configureBedrockLogging) {
    // The role Bedrock assumes to write the invocation records, only from this account and Region.
    const bedrockRole = new iam.Role(stack, "BedrockLoggingRole", {
      description: "Assumed by Amazon Bedrock to write model invocation logs to the invocation log group",
      assumedBy: new iam.ServicePrincipal("bedrock.amazonaws.com", {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: { "aws:SourceArn": stack.formatArn({ service: "bedrock", resource: "*", arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
      // Inline, so that the permissions exist as soon as the role does: Bedrock checks them (and
      // writes a line to the log group) when the configuration is put, which references the role.
      inlinePolicies: {
        WriteInvocationLogs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [logGroupArn(stack, `${logGroupName}:log-stream:${BEDROCK_LOG_STREAM}`)],
            }),
          ],
        }),
      },
    });

    // Our own handler (functions/src/custom-resources/bedrock-logging.ts) behind CDK's provider
    // framework, not an AwsCustomResource: the setting is one per account and Region, so it must be
    // read and merged rather than put blind, and what was found given back at removal, which no
    // single SDK call per event can do. The framework answers CloudFormation on every path (a
    // thrown error fails the deploy at once, with the handler's message, instead of after an hour)
    // and ignores the delete CloudFormation sends after a failed create.
    const loggingFunction = new SstFunction(stack, "BedrockLogging", {
      handler: "functions/src/custom-resources/bedrock-logging.handler",
      description: "Adds the invocation log group to the account's Bedrock model invocation logging, and gives back what it found on removal",
      // The put waits out IAM propagation for up to a minute (PutRetry).
      timeout: 120,
    });
    loggingFunction.addToRolePolicy(
      new iam.PolicyStatement({
        // These actions have no resource type: IAM only accepts "*" for them.
        actions: [
          "bedrock:GetModelInvocationLoggingConfiguration",
          "bedrock:PutModelInvocationLoggingConfiguration",
          "bedrock:DeleteModelInvocationLoggingConfiguration",
        ],
        resources: ["*"],
      }),
    );
    loggingFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["iam:PassRole"],
        resources: [bedrockRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "bedrock.amazonaws.com" } },
      }),
    );
    const loggingProvider = new cr.Provider(stack, "BedrockLoggingProvider", { onEventHandler: loggingFunction });
    new CustomResource(stack, "BedrockModelInvocationLogging", {
      serviceToken: loggingProvider.serviceToken,
      resourceType: "Custom::BedrockInvocationLogging",
      properties: { LogGroupName: logGroup.logGroupName, RoleArn: bedrockRole.roleArn },
    });

    // The AwsCustomResource the resource above replaces, kept with calls that change nothing. A
    // custom resource cannot change provider under the same id, and removing it would run the
    // delete call stacks deployed before recorded with it (DeleteModelInvocationLoggingConfiguration),
    // after the new resource has set logging up. Same id, type and physical id: an update in place,
    // whose call (and create's, on a new stack) only reads the setting, and no call on delete.
    const keptCustomResource = new cr.AwsCustomResource(stack, "BedrockInvocationLogging", {
      resourceType: "Custom::BedrockModelInvocationLogging",
      onUpdate: {
        service: "bedrock",
        action: "GetModelInvocationLoggingConfiguration",
        physicalResourceId: cr.PhysicalResourceId.of(`bedrock-model-invocation-logging-${stack.region}`),
      },
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ["bedrock:GetModelInvocationLoggingConfiguration"], resources: ["*"] }),
      ]),
    });
    bedrockLogging = {
      fn: loggingFunction,
      provider: loggingProvider,
      awsCustomResource: keptCustomResource,
    };
  }

  // The subscription: every event (empty pattern) to the stream, spread at random over the shards
  // because Bedrock writes everything to one log stream.
  const subscriptionRole = new iam.Role(stack, "SubscriptionRole", {
    description: "Assumed by CloudWatch Logs to put the invocation log events into the Kinesis stream",
    assumedBy: new iam.ServicePrincipal("logs.amazonaws.com", {
      conditions: { StringLike: { "aws:SourceArn": stack.formatArn({ service: "logs", resource: "*", arnFormat: ArnFormat.NO_RESOURCE_NAME }) } },
    }),
    // Inline: CloudWatch Logs tests the destination when the filter (which references the role) is created.
    inlinePolicies: {
      PutRecords: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ actions: ["kinesis:PutRecord", "kinesis:PutRecords"], resources: [stream.streamArn] }),
          // A producer of an encrypted stream: Kinesis asks KMS for a data key on its behalf.
          new iam.PolicyStatement({ actions: ["kms:GenerateDataKey"], resources: [streamKey.keyArn] }),
        ],
      }),
    },
  });
  new logs.CfnSubscriptionFilter(stack, "InvocationSubscription", {
    logGroupName: logGroup.logGroupName,
    filterPattern: "",
    destinationArn: stream.streamArn,
    roleArn: subscriptionRole.roleArn,
    distribution: "Random",
  });

  stack.addOutputs({ InvocationLogGroup: logGroup.logGroupName, InvocationStream: stream.streamName, InvocationStreamKey: streamKey.keyArn });
  ingestSuppressions(stack, { stream, bedrockLogging });
  return { stream, streamKey, logGroup };
}

/**
 * What the account may do with a key without being granted its use: administer it, which is what
 * CloudFormation and the account's administrators need, and nothing that decrypts. Listed, not
 * `kms:*`: the key's use is granted apart, narrower.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:ListResourceTags",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ListGrants",
  "kms:RevokeGrant",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
] as const;

/**
 * A customer-managed key whose use is delegated to IAM through one AWS service only: the account
 * administers it, and a principal of the account encrypts or decrypts with it only through
 * `service` (kms:ViaService) and only with an IAM policy that grants it this key's actions. No
 * principal can call KMS with it directly, so a record's body can be read only by reading the
 * stream (or bucket) with a role granted the key.
 */
export function serviceOnlyKey(
  stack: Stack,
  id: string,
  props: { description: string; service: string; actions: string[]; removalPolicy: RemovalPolicy },
): kms.Key {
  const account = new iam.AccountRootPrincipal();
  return new kms.Key(stack, id, {
    description: props.description,
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
    // Given whole: CDK's default policy grants the account root kms:*, which would let any principal
    // with kms:Decrypt on "*" read the bodies outside the service.
    policy: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({ sid: "AdministerByTheAccount", principals: [account], actions: [...KEY_ADMINISTRATION_ACTIONS], resources: ["*"] }),
        new iam.PolicyStatement({
          sid: `UseThrough${props.service.replace(/^./, (first) => first.toUpperCase())}Only`,
          principals: [account],
          actions: props.actions,
          resources: ["*"],
          conditions: { StringEquals: { "kms:ViaService": `${props.service}.${stack.region}.amazonaws.com`, "kms:CallerAccount": stack.account } },
        }),
      ],
    }),
  });
}

/**
 * The stream's key. Producers need kms:GenerateDataKey (the subscription's role, and whoever runs
 * `bedrock-spend replay`), consumers kms:Decrypt (the aggregate and redrive functions, Firehose),
 * each granted on this key alone in its own policy.
 */
function streamEncryptionKey(stack: Stack, stage: string, removalPolicy: RemovalPolicy): kms.Key {
  return serviceOnlyKey(stack, "InvocationStreamKey", {
    description: `Encrypts the records of the bedrock-spend ${stage} invocation stream (prompts and responses)`,
    service: "kinesis",
    actions: ["kms:GenerateDataKey", "kms:Decrypt"],
    removalPolicy,
  });
}
