/**
 * The transform Lambda (Firehose data transformation): subscription records become priced lake
 * documents (no bodies) with year/month/day partition keys, which Firehose converts to Parquet
 * through the Glue schema; unreadable records go back `ProcessingFailed` (kept under the error prefix).
 */

import { currentPricer, type PricerSource } from "@bedrock-spend/core";
import { type TransformOptions, transformFirehoseRecords } from "@bedrock-spend/pipeline/transform";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { livePricingFromEnv } from "./lib/adapters";
import { TRANSFORM_DIMENSIONS, TRANSFORM_METRICS } from "./lib/contracts";
import { type Environment, pricerFromEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, microDollars } from "./lib/metrics";
import { logger } from "./lib/powertools";

/** Dependencies of the transform handler: the pricer, or a source of it read per invocation (reprices switch it). */
export interface TransformDependencies extends TransformOptions {
  pricer: PricerSource;
}

const LOGGED_FAILURES = 20; // listed in the log line at most; the counts cover all of them

/** Builds the handler around its pricer (the same one the aggregate path uses). */
export function createTransformHandler({ pricer, ...options }: TransformDependencies) {
  return async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const { records, stats } = transformFirehoseRecords(event.records, await currentPricer(pricer), options);
    emitMetrics(TRANSFORM_METRICS, { ...stats, costMicroUsd: microDollars(stats.costPico) }, { dimensions: TRANSFORM_DIMENSIONS });
    const { failures, ...counts } = stats;
    const { invocationId, deliveryStreamArn } = event;
    // Reasons name fields only: raw content may hold prompt text and stays out of the logs.
    const summary = { invocationId, deliveryStreamArn, ...counts, costPico: stats.costPico.toString(), failures: failures.slice(0, LOGGED_FAILURES) };
    if (stats.processingFailed + stats.oversizeFailed > 0) logger.warn("records transformed, some failed", summary);
    else logger.info("records transformed", summary);
    return { records };
  };
}

/** The handler on AWS: the pricing of the environment. */
export function fromEnvironment(env: Environment) {
  return createTransformHandler({ pricer: livePricingFromEnv(env, pricerFromEnv(env)) });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
