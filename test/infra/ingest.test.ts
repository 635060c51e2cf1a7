import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { BEDROCK_LOG_STREAM, Ingest } from "../../stacks/Ingest";
import { flatten, only, resources, roleStatements } from "./helpers";
import { ACCOUNT, REGION, synthesize } from "./synth";

const LOG_GROUP = "/bedrock-spend/test/model-invocations";
const EXISTING = "/aws/bedrock/shared-invocations";
const ARN = (service: string, rest: string) => `arn:\${AWS::Partition}:${service}:${REGION}:${ACCOUNT}:${rest}`;

/** The custom resource's SDK call for an event, parsed (tokens in Fn::Sub notation). */
function sdkCall(template: Template, event: "Create" | "Update" | "Delete"): Record<string, unknown> {
  const [, resource] = only(template, "Custom::BedrockModelInvocationLogging");
  return JSON.parse(flatten(resource.Properties[event])) as Record<string, unknown>;
}

function subscriptionRoleId(template: Template): string {
  const [, filter] = only(template, "AWS::Logs::SubscriptionFilter");
  return (filter.Properties.RoleArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

function bedrockRoleId(template: Template): string {
  const [id] = only(template, "AWS::IAM::Role", {
    AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: "bedrock.amazonaws.com" } })] }),
  });
  return id;
}

describe("Stack: Ingest (own log group, Bedrock logging on: the defaults)", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize()).template(Ingest);
  }, 300_000);

  it("keeps the on-demand Kinesis stream, encrypted with KMS", () => {
    template.hasResourceProperties("AWS::Kinesis::Stream", {
      StreamModeDetails: { StreamMode: "ON_DEMAND" },
      StreamEncryption: { EncryptionType: "KMS", KeyId: "alias/aws/kinesis" },
    });
  });

  it("creates the invocation log group with the configured retention, encrypted with its own key", () => {
    const [keyId] = only(template, "AWS::KMS::Key");
    template.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: LOG_GROUP, RetentionInDays: 30, KmsKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
  });

  it("rotates the key and lets only CloudWatch Logs of this Region use it, only for this log group", () => {
    const [, key] = only(template, "AWS::KMS::Key", { EnableKeyRotation: true });
    const statements = (key.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    const logs = statements.filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify({ Service: `logs.${REGION}.amazonaws.com` }));
    expect(logs).toHaveLength(1);
    const [statement] = logs as [Record<string, unknown>];
    expect(statement.Action).toEqual(expect.arrayContaining(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]));
    const condition = (statement.Condition as Record<string, Record<string, unknown>>).ArnEquals ?? {};
    expect(flatten(condition["kms:EncryptionContext:aws:logs:arn"])).toBe(ARN("logs", `log-group:${LOG_GROUP}`));
  });

  it("points Bedrock model invocation logging at the log group on create and update, text only, explicitly", () => {
    const [logGroupId] = only(template, "AWS::Logs::LogGroup");
    const create = sdkCall(template, "Create");
    expect(create).toMatchObject({
      service: "bedrock",
      action: "PutModelInvocationLoggingConfiguration",
      parameters: {
        loggingConfig: {
          cloudWatchConfig: { logGroupName: `\${${logGroupId}}`, roleArn: `\${${bedrockRoleId(template)}.Arn}` },
          textDataDeliveryEnabled: true,
          imageDataDeliveryEnabled: false,
          embeddingDataDeliveryEnabled: false,
          videoDataDeliveryEnabled: false,
        },
      },
    });
    // A fixed physical id: an update never replaces the resource (whose delete would switch logging off).
    expect(create.physicalResourceId).toEqual({ id: `bedrock-model-invocation-logging-${REGION}` });
    expect(sdkCall(template, "Update")).toEqual(create);
  });

  it("deletes the logging configuration when the stack is deleted, without installing an SDK at deploy time", () => {
    expect(sdkCall(template, "Delete")).toMatchObject({ service: "bedrock", action: "DeleteModelInvocationLoggingConfiguration" });
    template.hasResourceProperties("Custom::BedrockModelInvocationLogging", { InstallLatestAwsSdk: false });
  });

  it("lets the custom resource put and delete the configuration and pass only the logging role to Bedrock", () => {
    const roleId = bedrockRoleId(template);
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          {
            Effect: "Allow",
            Action: ["bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"],
            Resource: "*",
          },
          {
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: { "Fn::GetAtt": [roleId, "Arn"] },
            Condition: { StringEquals: { "iam:PassedToService": "bedrock.amazonaws.com" } },
          },
        ],
      },
    });
  });

  it("has Bedrock assume its logging role only from this account and Region (confused deputy)", () => {
    const [, role] = only(template, "AWS::IAM::Role", {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: "bedrock.amazonaws.com" } })] }),
    });
    const [trust] = (role.Properties.AssumeRolePolicyDocument as { Statement: Array<{ Condition: Record<string, Record<string, unknown>> }> }).Statement as [
      { Condition: Record<string, Record<string, unknown>> },
    ];
    expect(trust.Condition.StringEquals).toEqual({ "aws:SourceAccount": ACCOUNT });
    expect(flatten(trust.Condition.ArnLike?.["aws:SourceArn"])).toBe(ARN("bedrock", "*"));
  });

  it("lets Bedrock create and write only the modelinvocations log stream of the log group", () => {
    const statements = roleStatements(template, bedrockRoleId(template));
    expect(statements).toHaveLength(1);
    const [statement] = statements as [(typeof statements)[number]];
    expect(statement.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(flatten(statement.Resource)).toBe(ARN("logs", `log-group:${LOG_GROUP}:log-stream:${BEDROCK_LOG_STREAM}`));
  });

  it("subscribes the log group to the stream: every event (empty pattern), distribution Random", () => {
    const [logGroupId] = only(template, "AWS::Logs::LogGroup");
    const [streamId] = only(template, "AWS::Kinesis::Stream");
    template.hasResourceProperties("AWS::Logs::SubscriptionFilter", {
      LogGroupName: { Ref: logGroupId },
      FilterPattern: "",
      Distribution: "Random",
      DestinationArn: { "Fn::GetAtt": [streamId, "Arn"] },
      RoleArn: { "Fn::GetAtt": [subscriptionRoleId(template), "Arn"] },
    });
  });

  it("has CloudWatch Logs assume the subscription role only for this account's log groups (confused deputy)", () => {
    const role = template.toJSON().Resources[subscriptionRoleId(template)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toMatchObject({ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "logs.amazonaws.com" } });
    expect(Object.keys(trust.Condition)).toEqual(["StringLike"]);
    expect(flatten(trust.Condition.StringLike["aws:SourceArn"])).toBe(ARN("logs", "*"));
  });

  it("lets the subscription role put records into the stream and nothing else", () => {
    const [streamId] = only(template, "AWS::Kinesis::Stream");
    expect(roleStatements(template, subscriptionRoleId(template))).toEqual([
      { Effect: "Allow", Action: ["kinesis:PutRecord", "kinesis:PutRecords"], Resource: { "Fn::GetAtt": [streamId, "Arn"] } },
    ]);
  });

  it("outputs the log group and the stream", () => {
    template.hasOutput("InvocationLogGroup", {});
    template.hasOutput("InvocationStream", {});
  });
});

describe("Stack: Ingest with an existing log group", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize({ existingLogGroupName: EXISTING })).template(Ingest);
  }, 300_000);

  it("creates no log group and no key", () => {
    template.resourceCountIs("AWS::Logs::LogGroup", 0);
    template.resourceCountIs("AWS::KMS::Key", 0);
  });

  it("subscribes the existing log group to the stream", () => {
    template.hasResourceProperties("AWS::Logs::SubscriptionFilter", { LogGroupName: EXISTING, Distribution: "Random", FilterPattern: "" });
  });

  it("points Bedrock logging at the existing log group, the role writing only its modelinvocations stream", () => {
    expect(sdkCall(template, "Create")).toMatchObject({ parameters: { loggingConfig: { cloudWatchConfig: { logGroupName: EXISTING } } } });
    const [statement] = roleStatements(template, bedrockRoleId(template));
    expect(flatten(statement?.Resource)).toBe(ARN("logs", `log-group:${EXISTING}:log-stream:${BEDROCK_LOG_STREAM}`));
  });
});

describe("Stack: Ingest with Bedrock logging switched off (the account already logs)", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize({ configureBedrockLogging: false })).template(Ingest);
  }, 300_000);

  it("leaves Bedrock's logging configuration alone: no custom resource, no logging role, no provider function", () => {
    template.resourceCountIs("Custom::BedrockModelInvocationLogging", 0);
    const bedrockRoles = Object.values(resources(template, "AWS::IAM::Role")).filter((role) =>
      JSON.stringify(role.Properties).includes("bedrock.amazonaws.com"),
    );
    expect(bedrockRoles).toHaveLength(0);
    expect(JSON.stringify(template.toJSON())).not.toContain("ModelInvocationLoggingConfiguration");
  });

  it("still creates the encrypted log group and its subscription", () => {
    template.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: LOG_GROUP, KmsKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::Logs::SubscriptionFilter", { Distribution: "Random", FilterPattern: "" });
  });
});

describe("Stack: Ingest configuration errors", () => {
  it("refuses a retention CloudWatch Logs does not accept, naming the variable", async () => {
    await expect(synthesize({ logRetentionDays: 45 })).rejects.toThrow(/BEDROCK_SPEND_LOG_RETENTION_DAYS: CloudWatch Logs does not accept 45 days/);
  }, 300_000);
});
