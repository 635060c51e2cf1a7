/**
 * The transform Lambda (Firehose data transformation): subscription records become priced lake
 * documents (no bodies) with year/month/day partition keys, which Firehose converts to Parquet
 * through the Glue schema. Records it cannot turn into rows are kept (prompts included) in the raw
 * failure bucket and answered `Dropped`, so Firehose writes none to the lake; `lake-redrive` retries them.
 */

import type { RawFailureStore } from "@bedrock-spend/adapters";
import { currentPricer, type PricerSource } from "@bedrock-spend/core";
import { transformKeepingFailures } from "@bedrock-spend/pipeline/lake-failures";
import type { TransformOptions } from "@bedrock-spend/pipeline/transform";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { livePricingFromEnv, pricingPricerFromEnv, rawFailureStoreFromEnv } from "./lib/adapters";
import { TRANSFORM_DIMENSIONS, TRANSFORM_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, microDollars } from "./lib/metrics";
import { logTransformation } from "./lib/transform-log";

/** Dependencies of the transform handler: the pricer, or a source of it read per invocation (reprices switch it), and the raw failure store. */
export interface TransformDependencies extends TransformOptions {
  pricer: PricerSource;
  failures: RawFailureStore;
  now?: () => Date;
}

/** Builds the handler around its pricer (the same one the aggregate path uses) and its raw failure store. */
export function createTransformHandler({ pricer, failures: store, now = () => new Date(), ...options }: TransformDependencies) {
  return async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const keeping = { ...options, batchId: event.invocationId, now };
    const { records, stats, failures: kept } = await transformKeepingFailures(event.records, await currentPricer(pricer), store, keeping);
    const counts = { ...stats, costMicroUsd: microDollars(stats.costPico), rawFailuresKept: kept.kept, rawFailuresUnkept: kept.unkept };
    emitMetrics(TRANSFORM_METRICS, counts, { dimensions: TRANSFORM_DIMENSIONS });
    logTransformation(event, stats, kept);
    return { records };
  };
}

/** The handler on AWS: the pricing of the environment. */
export function fromEnvironment(env: Environment) {
  return createTransformHandler({ pricer: livePricingFromEnv(env, pricingPricerFromEnv(env)), failures: rawFailureStoreFromEnv(env) });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
