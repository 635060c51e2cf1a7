/**
 * The AWS adapters handlers share, built from the environment (names in `ENV`), failing closed
 * on a missing setting like every other reader of lib/env.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  type AlertPublisher,
  awsAlertPublisher,
  BedrockProfileSource,
  type ObjectWriter,
  RawFailureObjectStore,
  SignedS3Put,
  SqsDeadLetterQueue,
} from "@bedrock-spend/adapters";
import { type ApplicationProfileSource, ConfigurationError, type Pricer } from "@bedrock-spend/core";
import { AggregatesStore, listRepriceAudits, RegistryPricing, type RepriceAudit, UsageWriter } from "@bedrock-spend/store";
import { ENV } from "./contracts";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, type Environment, optionalEnv, pricerFromEnv, requireEnv } from "./env";

/**
 * Bedrock's control plane as the source of application inference profiles, when
 * `PROFILE_RESOLUTION` is `bedrock` (`BEDROCK_ENDPOINT` points it at the local stand-in).
 */
export function profileSourceFromEnv(env: Environment): ApplicationProfileSource | undefined {
  if (optionalEnv(ENV.profileResolution, env) !== "bedrock") return undefined;
  const endpoint = optionalEnv(ENV.bedrockEndpoint, env);
  // The Region (AWS_REGION) and the credentials are the Lambda environment's.
  return new BedrockProfileSource(endpoint ? { endpoint } : {});
}

/** The pricer of a function that prices (aggregate, transform, redrive, reprice): `pricerFromEnv` with Bedrock as its profile source. */
export function pricingPricerFromEnv(env: Environment): Pricer {
  return pricerFromEnv(env, undefined, profileSourceFromEnv(env));
}

/** The aggregates table's writer (aggregate, redrive): `TABLE_NAME`, `AGGREGATE_BREAKDOWNS`, `DEDUP_RETENTION_DAYS`. */
export function usageWriterFromEnv(env: Environment): UsageWriter {
  return new UsageWriter({
    client: new DynamoDBClient({}),
    tableName: requireEnv(ENV.tableName, env),
    breakdowns: breakdownsFromEnv(env),
    dedupRetentionDays: dedupRetentionDaysFromEnv(env),
  });
}

/** The aggregate path's dead-letter queue (aggregate, redrive): `DEAD_LETTER_QUEUE_URL`. */
export function deadLetterQueueFromEnv(env: Environment): SqsDeadLetterQueue {
  return new SqsDeadLetterQueue(new SQSClient({}), requireEnv(ENV.deadLetterQueueUrl, env));
}

/** The aggregates table's reader and alert state (budget-alert, spend API): `TABLE_NAME`. */
export function aggregatesStoreFromEnv(env: Environment, client: DynamoDBClient = new DynamoDBClient({})): AggregatesStore {
  return new AggregatesStore(client, requireEnv(ENV.tableName, env));
}

/** Where budget alerts go (budget-alert, alert-sweep): `ALERT_TOPIC_ARN` and/or `EVENT_BUS_NAME`, one at least. */
export function alertPublisherFromEnv(env: Environment): AlertPublisher {
  const topicArn = optionalEnv(ENV.alertTopicArn, env);
  const eventBusName = optionalEnv(ENV.eventBusName, env);
  if (!topicArn && !eventBusName) throw new ConfigurationError(ENV.alertTopicArn, `or ${ENV.eventBusName} is required: alerts need somewhere to go`);
  return awsAlertPublisher({ topicArn, eventBusName });
}

/** The reprice audit trail (spend API, administrators' routes): `TABLE_NAME`. */
export function repriceAuditsFromEnv(env: Environment, client: DynamoDBClient = new DynamoDBClient({})): { list(): Promise<RepriceAudit[]> } {
  const tableName = requireEnv(ENV.tableName, env);
  return { list: () => listRepriceAudits(client, tableName) };
}

/**
 * The live pricing of a consumer (aggregate, redrive, transform): the environment's pricer, with
 * the catalogs reprices registered in the table (`TABLE_NAME`) over their months, re-read every
 * minute. Without `TABLE_NAME` (a transform deployed without it) the environment's pricer alone.
 */
export function livePricingFromEnv(env: Environment, base: Pricer, client: DynamoDBClient = new DynamoDBClient({})): Pricer | RegistryPricing {
  const tableName = env[ENV.tableName];
  if (tableName === undefined || tableName === "") return base;
  return new RegistryPricing({ client, tableName, base });
}

/**
 * Where the transform keeps the records it cannot turn into lake rows: `RAW_FAILURE_BUCKET`, written
 * by a signed PUT rather than the S3 client, which would add ~145 KB to the transform's bundle.
 */
export function rawFailureStoreFromEnv(env: Environment, writer: ObjectWriter = new SignedS3Put()): RawFailureObjectStore {
  return new RawFailureObjectStore({ writer, bucket: requireEnv(ENV.rawFailureBucket, env), prefix: "" });
}
