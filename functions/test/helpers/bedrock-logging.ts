/**
 * Bedrock's model invocation logging API as the custom resource meets it: the response shapes of
 * GetModelInvocationLoggingConfiguration (rest-json, `GET /logging/modelinvocations`, as in the API
 * reference), the ValidationException Bedrock answers a put with while a new role's permissions
 * are not visible to it yet (the message as Bedrock words it), CloudFormation's custom resource
 * events, and a fake account whose one setting the mocked client reads and writes.
 */
import {
  BedrockClient,
  DeleteModelInvocationLoggingConfigurationCommand,
  GetModelInvocationLoggingConfigurationCommand,
  type LoggingConfig,
  PutModelInvocationLoggingConfigurationCommand,
  ValidationException,
} from "@aws-sdk/client-bedrock";
import type { CloudFormationCustomResourceCreateEvent, CloudFormationCustomResourceDeleteEvent, CloudFormationCustomResourceUpdateEvent } from "aws-lambda";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";

export const ACCOUNT = "123456789012";
export const OUR_LOG_GROUP = "/bedrock-spend/prod/model-invocations";
export const OUR_ROLE = `arn:aws:iam::${ACCOUNT}:role/prod-bedrock-spend-Ingest-BedrockLoggingRole3D7F1A2B-Q1W2E3R4T5Y6`;
export const THEIR_LOG_GROUP = "/aws/bedrock/platform-team-invocations";
export const THEIR_ROLE = `arn:aws:iam::${ACCOUNT}:role/platform-bedrock-logging`;

/** The body of a Get when the account has never configured logging. */
export const GET_NOTHING_BODY = "{}";

/** A Get body of a console-made setting: S3 and CloudWatch with large-data delivery, every type but video. */
export const GET_THEIRS_BODY = JSON.stringify({
  loggingConfig: {
    cloudWatchConfig: {
      logGroupName: THEIR_LOG_GROUP,
      roleArn: THEIR_ROLE,
      largeDataDeliveryS3Config: { bucketName: "platform-bedrock-large-data", keyPrefix: "large" },
    },
    s3Config: { bucketName: "platform-bedrock-logs", keyPrefix: "invocations" },
    textDataDeliveryEnabled: true,
    imageDataDeliveryEnabled: true,
    embeddingDataDeliveryEnabled: true,
    videoDataDeliveryEnabled: false,
  },
});

/** The message of the put's ValidationException while the role's permissions propagate. */
export const PERMISSIONS_NOT_YET_VISIBLE = `Failed to validate permissions for log group: ${OUR_LOG_GROUP}, with role: ${OUR_ROLE}. Verify the IAM role permissions are correct.`;

/** The error the SDK throws for that answer. */
export function permissionsNotYetVisible(): ValidationException {
  return new ValidationException({ message: PERMISSIONS_NOT_YET_VISIBLE, $metadata: { httpStatusCode: 400 } });
}

/** The resource's properties as the stack sets them. */
export const PROPERTIES = { ServiceToken: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:provider`, LogGroupName: OUR_LOG_GROUP, RoleArn: OUR_ROLE };

const COMMON = {
  ServiceToken: PROPERTIES.ServiceToken,
  ResponseURL: "...",
  StackId: `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/prod-bedrock-spend-Ingest/1`,
  RequestId: "request-1",
  LogicalResourceId: "BedrockModelInvocationLogging",
  ResourceType: "Custom::BedrockInvocationLogging",
};

export function createEvent(properties = PROPERTIES): CloudFormationCustomResourceCreateEvent {
  return { ...COMMON, RequestType: "Create", ResourceProperties: properties };
}

export function updateEvent(physicalResourceId: string, properties = PROPERTIES, old = PROPERTIES): CloudFormationCustomResourceUpdateEvent {
  return { ...COMMON, RequestType: "Update", PhysicalResourceId: physicalResourceId, ResourceProperties: properties, OldResourceProperties: old };
}

export function deleteEvent(physicalResourceId: string, properties = PROPERTIES): CloudFormationCustomResourceDeleteEvent {
  return { ...COMMON, RequestType: "Delete", PhysicalResourceId: physicalResourceId, ResourceProperties: properties };
}

/** An account's one logging setting behind a mocked Bedrock client: Get reads it, Put replaces it, Delete removes it. */
export interface FakeAccount {
  bedrock: BedrockClient;
  mock: AwsClientStub<BedrockClient>;
  setting(): LoggingConfig | undefined;
  set(config: LoggingConfig | undefined): void;
  /** The configurations put, in order. */
  puts(): LoggingConfig[];
  deletes(): number;
}

export function fakeAccount(initial?: LoggingConfig): FakeAccount {
  let setting = initial === undefined ? undefined : structuredClone(initial);
  const bedrock = new BedrockClient({ region: "us-east-1" });
  const mock = mockClient(bedrock);
  mock.on(GetModelInvocationLoggingConfigurationCommand).callsFake(async () => ({
    $metadata: { httpStatusCode: 200 },
    ...(setting === undefined ? {} : { loggingConfig: structuredClone(setting) }),
  }));
  mock.on(PutModelInvocationLoggingConfigurationCommand).callsFake(async (input: { loggingConfig: LoggingConfig }) => {
    setting = structuredClone(input.loggingConfig);
    return { $metadata: { httpStatusCode: 200 } };
  });
  mock.on(DeleteModelInvocationLoggingConfigurationCommand).callsFake(async () => {
    setting = undefined;
    return { $metadata: { httpStatusCode: 200 } };
  });
  return {
    bedrock,
    mock,
    setting: () => setting,
    set: (config) => {
      setting = config;
    },
    puts: () => mock.commandCalls(PutModelInvocationLoggingConfigurationCommand).map((call) => call.args[0].input.loggingConfig as LoggingConfig),
    deletes: () => mock.commandCalls(DeleteModelInvocationLoggingConfigurationCommand).length,
  };
}
