/**
 * The aggregate Lambda: Kinesis event source mapping consumer. Decodes, prices and counts a batch
 * exactly once in DynamoDB, quarantines what cannot be read in the dead-letter queue, and answers
 * with a partial batch response (the lowest sequence number to retry from).
 */

import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SqsDeadLetterQueue } from "@bedrock-spend/adapters";
import { kinesisSource } from "@bedrock-spend/core";
import { type AggregateDependencies, processBatch } from "@bedrock-spend/pipeline";
import { UsageWriter } from "@bedrock-spend/store";
import middy from "@middy/core";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, pricerFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** Builds the handler around its dependencies (AWS adapters in Lambda, local ones in local mode). */
export function createAggregateHandler(deps: AggregateDependencies) {
  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    const records = event.Records.map((record) => ({
      sequenceNumber: record.kinesis.sequenceNumber,
      source: kinesisSource(record.eventID.split(":")[0] as string, record.kinesis.sequenceNumber),
      data: Buffer.from(record.kinesis.data, "base64"),
      // Kinesis gives epoch seconds with a fraction here (Firehose gives milliseconds).
      arrivedAt: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
    }));
    const { retryFrom, stats } = await processBatch(records, deps);
    metrics.addMetric("RecordsIn", MetricUnit.Count, stats.logEvents);
    metrics.addMetric("Counted", MetricUnit.Count, stats.counted);
    metrics.addMetric("Duplicates", MetricUnit.Count, stats.duplicates);
    metrics.addMetric("Dropped", MetricUnit.Count, stats.dropped);
    metrics.addMetric("Quarantined", MetricUnit.Count, stats.quarantined);
    metrics.addMetric("Unpriced", MetricUnit.Count, stats.unpriced);
    metrics.addMetric("WriteFailures", MetricUnit.Count, stats.failed);
    metrics.addMetric("WriteUnits", MetricUnit.Count, stats.writeUnits);
    // Micro-dollars: CloudWatch metric values are doubles, so the exact pico count is not sent.
    metrics.addMetric("CostMicroUSD", MetricUnit.Count, Number(stats.costPico / 1_000_000n));
    metrics.addMetric("IteratorLagMs", MetricUnit.Milliseconds, stats.maxLagMs);
    logger.info("batch processed", { ...stats, costPico: stats.costPico.toString(), retryFrom });
    return { batchItemFailures: retryFrom === undefined ? [] : [{ itemIdentifier: retryFrom }] };
  };
}

let configured: ReturnType<typeof createAggregateHandler> | undefined;

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = middy(async (event: KinesisStreamEvent) => {
  configured ??= createAggregateHandler({
    pricer: pricerFromEnv(),
    writer: new UsageWriter({
      client: new DynamoDBClient({}),
      tableName: requireEnv("TABLE_NAME"),
      breakdowns: breakdownsFromEnv(),
      dedupRetentionDays: dedupRetentionDaysFromEnv(),
    }),
    deadLetters: new SqsDeadLetterQueue(new SQSClient({}), requireEnv("DEAD_LETTER_QUEUE_URL")),
  });
  return configured(event);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
