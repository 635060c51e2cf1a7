/**
 * The redrive Lambda: replays the dead-letter queue through the aggregate path (invoke it by hand
 * or on a schedule). Quarantined records are re-decoded and re-priced; Kinesis on-failure records
 * are re-read from the stream. Invocations already counted stay counted once.
 */

import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { SQSClient } from "@aws-sdk/client-sqs";
import { readShardRange, SqsDeadLetterQueue } from "@bedrock-spend/adapters";
import { kinesisSource } from "@bedrock-spend/core";
import { type RedriveDependencies, type RedriveResult, redrive } from "@bedrock-spend/pipeline";
import { UsageWriter } from "@bedrock-spend/store";
import middy from "@middy/core";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, pricerFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** Builds the handler around its dependencies. */
export function createRedriveHandler(deps: RedriveDependencies) {
  return async (): Promise<RedriveResult> => {
    const result = await redrive(deps);
    metrics.addMetric("RedriveMessages", MetricUnit.Count, result.messages);
    metrics.addMetric("RedriveCounted", MetricUnit.Count, result.counted);
    metrics.addMetric("RedriveResolved", MetricUnit.Count, result.resolved);
    metrics.addMetric("RedriveKept", MetricUnit.Count, result.kept.length);
    logger.info("redrive finished", { ...result, kept: result.kept.slice(0, 20) });
    return result;
  };
}

let configured: ReturnType<typeof createRedriveHandler> | undefined;

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = middy(async () => {
  if (!configured) {
    const kinesis = new KinesisClient({});
    const writer = new UsageWriter({
      client: new DynamoDBClient({}),
      tableName: requireEnv("TABLE_NAME"),
      breakdowns: breakdownsFromEnv(),
      dedupRetentionDays: dedupRetentionDaysFromEnv(),
    });
    const queue = new SqsDeadLetterQueue(new SQSClient({}), requireEnv("DEAD_LETTER_QUEUE_URL"));
    configured = createRedriveHandler({
      pricer: pricerFromEnv(),
      writer,
      deadLetters: queue,
      queue,
      readBatch: async (info) => {
        const streamArn = info.streamArn ?? requireEnv("STREAM_ARN");
        const records = await readShardRange(kinesis, { streamArn }, info.shardId, info.startSequenceNumber, info.endSequenceNumber);
        return records.map((record) => ({ ...record, source: kinesisSource(info.shardId, record.sequenceNumber) }));
      },
    });
  }
  return configured();
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
