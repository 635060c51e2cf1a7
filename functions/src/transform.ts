/**
 * The transform Lambda (Firehose data transformation): subscription records become priced lake
 * documents (no bodies) with year/month/day partition keys, which Firehose converts to Parquet
 * through the Glue schema. Records it cannot turn into rows are kept, prompts included, in the raw
 * failure bucket (a customer-managed key, a short expiry) and answered `Dropped`, so that Firehose
 * writes none of them to the lake bucket; `lake-redrive` sends them through again.
 */

import type { RawFailureStore } from "@bedrock-spend/adapters";
import { currentPricer, type PricerSource } from "@bedrock-spend/core";
import { transformKeepingFailures } from "@bedrock-spend/pipeline/lake-failures";
import type { TransformOptions } from "@bedrock-spend/pipeline/transform";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { livePricingFromEnv, rawFailureStoreFromEnv } from "./lib/adapters";
import { TRANSFORM_DIMENSIONS, TRANSFORM_METRICS } from "./lib/contracts";
import { type Environment, pricerFromEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, microDollars } from "./lib/metrics";
import { logger } from "./lib/powertools";

/** Dependencies of the transform handler: the pricer, or a source of it read per invocation (reprices switch it), and the raw failure store. */
export interface TransformDependencies extends TransformOptions {
  pricer: PricerSource;
  failures: RawFailureStore;
  now?: () => Date;
}

const LOGGED_FAILURES = 20; // listed in the log line at most; the counts cover all of them

/** Builds the handler around its pricer (the same one the aggregate path uses). */
export function createTransformHandler({ pricer, failures: store, now = () => new Date(), ...options }: TransformDependencies) {
  return async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const { invocationId, deliveryStreamArn } = event;
    const keeping = { ...options, batchId: invocationId, now };
    const { records, stats, failures: kept } = await transformKeepingFailures(event.records, await currentPricer(pricer), store, keeping);
    const counts = { ...stats, costMicroUsd: microDollars(stats.costPico), rawFailuresKept: kept.kept, rawFailuresUnkept: kept.unkept };
    emitMetrics(TRANSFORM_METRICS, counts, { dimensions: TRANSFORM_DIMENSIONS });
    const { failures, ...rest } = stats;
    // Reasons name fields only: raw content may hold prompt text and stays out of the logs.
    const summary = { invocationId, deliveryStreamArn, ...rest, costPico: stats.costPico.toString(), failures: failures.slice(0, LOGGED_FAILURES) };
    const errors = {
      storeError: kept.storeError?.message,
      transformError: kept.transformError && `${kept.transformError.name}: ${kept.transformError.message}`,
    };
    if (kept.unkept > 0 || kept.transformError)
      logger.error("records transformed, failures not all kept", { ...summary, ...errors, kept: kept.kept, unkept: kept.unkept });
    else if (stats.processingFailed + stats.oversizeFailed > 0) logger.warn("records transformed, some failed and were kept", { ...summary, kept: kept.kept });
    else logger.info("records transformed", summary);
    return { records };
  };
}

/** The handler on AWS: the pricing of the environment. */
export function fromEnvironment(env: Environment) {
  return createTransformHandler({ pricer: livePricingFromEnv(env, pricerFromEnv(env)), failures: rawFailureStoreFromEnv(env) });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
