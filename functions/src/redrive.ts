/**
 * The redrive Lambda: replays the dead-letter queue through the aggregate path (invoke it by hand
 * or on a schedule). Quarantined records are re-decoded and re-priced; Kinesis on-failure records
 * are re-read from the stream. Invocations already counted stay counted once.
 */

import { KinesisClient } from "@aws-sdk/client-kinesis";
import { readShardRange } from "@bedrock-spend/adapters";
import { kinesisSource } from "@bedrock-spend/core";
import { type RedriveDependencies, type RedriveResult, redrive } from "@bedrock-spend/pipeline";
import { deadLetterQueueFromEnv, livePricingFromEnv, pricingPricerFromEnv, usageWriterFromEnv } from "./lib/adapters";
import { ENV, REDRIVE_METRICS } from "./lib/contracts";
import { type Environment, requireEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logger } from "./lib/powertools";

/** Builds the handler around its dependencies. */
export function createRedriveHandler(deps: RedriveDependencies) {
  return async (): Promise<RedriveResult> => {
    const result = await redrive(deps);
    emitMetrics(REDRIVE_METRICS, { ...result, kept: result.kept.length });
    logger.info("redrive finished", { ...result, kept: result.kept.slice(0, 20) });
    return result;
  };
}

/** The handler on AWS: the table, the dead-letter queue, the pricing and the stream (`STREAM_ARN`, read when a record does not name it). */
export function fromEnvironment(env: Environment) {
  const kinesis = new KinesisClient({});
  const writer = usageWriterFromEnv(env);
  const queue = deadLetterQueueFromEnv(env);
  const readBatch: RedriveDependencies["readBatch"] = async (info) => {
    const streamArn = info.streamArn ?? requireEnv(ENV.streamArn, env);
    const records = await readShardRange(kinesis, { streamArn }, info.shardId, info.startSequenceNumber, info.endSequenceNumber);
    return records.map((record) => ({ ...record, source: kinesisSource(info.shardId, record.sequenceNumber) }));
  };
  return createRedriveHandler({ pricer: livePricingFromEnv(env, pricingPricerFromEnv(env)), writer, deadLetters: queue, queue, readBatch });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
