/**
 * The aggregate Lambda: Kinesis event source mapping consumer. Decodes, prices and counts a batch
 * exactly once in DynamoDB, quarantines what cannot be read in the dead-letter queue, and answers
 * with a partial batch response (the lowest sequence number to retry from).
 */

import { kinesisSource } from "@bedrock-spend/core";
import { type AggregateDependencies, processBatch } from "@bedrock-spend/pipeline";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { deadLetterQueueFromEnv, livePricingFromEnv, pricingPricerFromEnv, usageWriterFromEnv } from "./lib/adapters";
import { partialBatchResponse } from "./lib/batch";
import { AGGREGATE_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, microDollars } from "./lib/metrics";
import { logger } from "./lib/powertools";

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
    emitMetrics(AGGREGATE_METRICS, { ...stats, costMicroUsd: microDollars(stats.costPico) });
    logger.info("batch processed", { ...stats, costPico: stats.costPico.toString(), retryFrom });
    return partialBatchResponse(retryFrom);
  };
}

/** The handler on AWS: the table, the dead-letter queue and the pricing of the environment. */
export function fromEnvironment(env: Environment) {
  const writer = usageWriterFromEnv(env);
  return createAggregateHandler({ pricer: livePricingFromEnv(env, pricingPricerFromEnv(env)), writer, deadLetters: deadLetterQueueFromEnv(env) });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
