import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { BEDROCK_LOG_STREAM, Ingest, KEY_ADMINISTRATION_ACTIONS, STREAM_RETENTION } from "../../stacks/Ingest";
import { flatten, functionWithHandler, list, only, resources, roleOfFunction, roleStatements } from "./helpers";
import { ACCOUNT, REGION, synthesize } from "./synth";

const LOG_GROUP = "/bedrock-spend/test/model-invocations";
const EXISTING = "/aws/bedrock/shared-invocations";
const ARN = (service: string, rest: string) => `arn:\${AWS::Partition}:${service}:${REGION}:${ACCOUNT}:${rest}`;

/** The custom resource over Bedrock's logging setting, and its handler. */
const LOGGING_TYPE = "Custom::BedrockInvocationLogging";
const LOGGING_HANDLER = "functions/src/custom-resources/bedrock-logging.handler";

/** The logical id of the provider framework's function, the custom resource's service token. */
function frameworkFunctionId(template: Template): string {
  const [, resource] = only(template, LOGGING_TYPE);
  return (resource.Properties.ServiceToken as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

function subscriptionRoleId(template: Template): string {
  const [, filter] = only(template, "AWS::Logs::SubscriptionFilter");
  return (filter.Properties.RoleArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

/** The stream's key: the one the stream is encrypted with. */
function streamKey(template: Template): [string, { Properties: Record<string, unknown> }] {
  const [, stream] = only(template, "AWS::Kinesis::Stream");
  const keyId = ((stream.Properties.StreamEncryption as { KeyId: { "Fn::GetAtt": [string, string] } }).KeyId["Fn::GetAtt"] ?? [])[0] as string;
  return [keyId, template.toJSON().Resources[keyId]];
}

/** The log group's key (own log group only). */
function logGroupKeyId(template: Template): string {
  const [, logGroup] = only(template, "AWS::Logs::LogGroup");
  return (logGroup.Properties.KmsKeyId as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
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

  it("keeps the on-demand Kinesis stream, encrypted with a customer-managed key of its own, not alias/aws/kinesis", () => {
    const [keyId, key] = streamKey(template);
    template.hasResourceProperties("AWS::Kinesis::Stream", {
      StreamModeDetails: { StreamMode: "ON_DEMAND" },
      StreamEncryption: { EncryptionType: "KMS", KeyId: { "Fn::GetAtt": [keyId, "Arn"] } },
    });
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(keyId).not.toBe(logGroupKeyId(template));
    template.hasOutput("InvocationStreamKey", { Value: { "Fn::GetAtt": [keyId, "Arn"] } });
  });

  it("lets the account administer the stream key, and use it only through Kinesis of this Region: no kms:* and no direct decrypt", () => {
    const [, key] = streamKey(template);
    const statements = (key.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    const root = { AWS: `arn:\${AWS::Partition}:iam::${ACCOUNT}:root` };
    expect(statements.map((statement) => ({ ...statement, Principal: flatten((statement.Principal as { AWS: unknown }).AWS) }))).toEqual([
      { Sid: "AdministerByTheAccount", Effect: "Allow", Principal: root.AWS, Action: [...KEY_ADMINISTRATION_ACTIONS], Resource: "*" },
      {
        Sid: "UseThroughKinesisOnly",
        Effect: "Allow",
        Principal: root.AWS,
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `kinesis.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT } },
      },
    ]);
    // Administration never includes the actions that read or write data.
    for (const action of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"])
      expect(KEY_ADMINISTRATION_ACTIONS as readonly string[]).not.toContain(action);
  });

  it("keeps records 14 days: as long as the dead-letter queue keeps the on-failure messages that point at them", () => {
    template.hasResourceProperties("AWS::Kinesis::Stream", { RetentionPeriodHours: 14 * 24 });
    expect(STREAM_RETENTION.toSeconds()).toBe(1_209_600);
  });

  it("creates the invocation log group with the configured retention, encrypted with its own key", () => {
    const keyId = logGroupKeyId(template);
    template.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: LOG_GROUP, RetentionInDays: 30, KmsKeyId: { "Fn::GetAtt": [keyId, "Arn"] } });
  });

  it("rotates the key and lets only CloudWatch Logs of this Region use it, only for this log group", () => {
    const key = template.toJSON().Resources[logGroupKeyId(template)];
    const statements = (key.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> }).Statement;
    const logs = statements.filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify({ Service: `logs.${REGION}.amazonaws.com` }));
    expect(logs).toHaveLength(1);
    const [statement] = logs as [Record<string, unknown>];
    expect(statement.Action).toEqual(expect.arrayContaining(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]));
    const condition = (statement.Condition as Record<string, Record<string, unknown>>).ArnEquals ?? {};
    expect(flatten(condition["kms:EncryptionContext:aws:logs:arn"])).toBe(ARN("logs", `log-group:${LOG_GROUP}`));
  });

  it("adds the log group and the logging role to Bedrock's logging through its own custom resource, not an SDK call that replaces the setting", () => {
    const [logGroupId] = only(template, "AWS::Logs::LogGroup");
    const [, resource] = only(template, LOGGING_TYPE);
    expect(resource.Properties).toStrictEqual({
      ServiceToken: { "Fn::GetAtt": [frameworkFunctionId(template), "Arn"] },
      LogGroupName: { Ref: logGroupId },
      RoleArn: { "Fn::GetAtt": [bedrockRoleId(template), "Arn"] },
    });
    // The replaced resource calls nothing that writes: neither a put nor a delete anywhere in the stack.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"action\\?":\\?"(Put|Delete)ModelInvocationLoggingConfiguration/);
  });

  it("runs the custom resource's handler on nodejs24.x, behind the provider framework's function, also on nodejs24.x", () => {
    const functions = resources(template, "AWS::Lambda::Function");
    const handlerId = functionWithHandler(template, LOGGING_HANDLER);
    expect(functions[handlerId]?.Properties).toMatchObject({ Runtime: "nodejs24.x", Timeout: 120 });
    expect(functions[frameworkFunctionId(template)]?.Properties).toMatchObject({
      Runtime: "nodejs24.x",
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { "Fn::GetAtt": [handlerId, "Arn"] } } },
    });
  });

  it("lets the handler read, put and delete the logging setting and pass only the logging role, to Bedrock only", () => {
    const statements = roleStatements(template, roleOfFunction(template, functionWithHandler(template, LOGGING_HANDLER)));
    expect(statements.filter((statement) => !list(statement.Action).every((action) => String(action).startsWith("xray:")))).toStrictEqual([
      {
        Effect: "Allow",
        Action: [
          "bedrock:GetModelInvocationLoggingConfiguration",
          "bedrock:PutModelInvocationLoggingConfiguration",
          "bedrock:DeleteModelInvocationLoggingConfiguration",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: { "Fn::GetAtt": [bedrockRoleId(template), "Arn"] },
        Condition: { StringEquals: { "iam:PassedToService": "bedrock.amazonaws.com" } },
      },
    ]);
  });

  it("keeps the replaced AwsCustomResource under its id and physical id, only reading the setting, with no call on delete", () => {
    const [id, legacy] = only(template, "Custom::BedrockModelInvocationLogging");
    // Its removal would run the delete call that stacks deployed before recorded (DeleteModelInvocationLoggingConfiguration).
    expect(id).toMatch(/^BedrockInvocationLogging[0-9A-F]{8}$/);
    const update = JSON.parse(flatten(legacy.Properties.Update)) as Record<string, unknown>;
    expect(update).toMatchObject({
      service: "bedrock",
      action: "GetModelInvocationLoggingConfiguration",
      physicalResourceId: { id: `bedrock-model-invocation-logging-${REGION}` },
    });
    expect(JSON.parse(flatten(legacy.Properties.Create))).toStrictEqual(update);
    expect(legacy.Properties).not.toHaveProperty("Delete");
    // Its provider's policy: reading the setting, nothing else.
    const readOnly = Object.values(resources(template, "AWS::IAM::Policy")).filter(
      (policy) =>
        JSON.stringify(policy.Properties.PolicyDocument) ===
        JSON.stringify({ Statement: [{ Action: "bedrock:GetModelInvocationLoggingConfiguration", Effect: "Allow", Resource: "*" }], Version: "2012-10-17" }),
    );
    expect(readOnly).toHaveLength(1);
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

  it("lets the subscription role put records into the stream, with the data key a producer of an encrypted stream needs, and nothing else", () => {
    const [streamId] = only(template, "AWS::Kinesis::Stream");
    const [keyId] = streamKey(template);
    expect(roleStatements(template, subscriptionRoleId(template))).toEqual([
      { Effect: "Allow", Action: ["kinesis:PutRecord", "kinesis:PutRecords"], Resource: { "Fn::GetAtt": [streamId, "Arn"] } },
      { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: { "Fn::GetAtt": [keyId, "Arn"] } },
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

  it("creates no log group and no key but the stream's", () => {
    template.resourceCountIs("AWS::Logs::LogGroup", 0);
    const [keyId] = streamKey(template);
    expect(Object.keys(template.findResources("AWS::KMS::Key"))).toEqual([keyId]);
  });

  it("subscribes the existing log group to the stream", () => {
    template.hasResourceProperties("AWS::Logs::SubscriptionFilter", { LogGroupName: EXISTING, Distribution: "Random", FilterPattern: "" });
  });

  it("points Bedrock logging at the existing log group, the role writing only its modelinvocations stream", () => {
    template.hasResourceProperties(LOGGING_TYPE, { LogGroupName: EXISTING });
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
    template.resourceCountIs(LOGGING_TYPE, 0);
    template.resourceCountIs("Custom::BedrockModelInvocationLogging", 0);
    expect(Object.values(resources(template, "AWS::Lambda::Function")).filter((fn) => fn.Properties.Handler === LOGGING_HANDLER)).toHaveLength(0);
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
