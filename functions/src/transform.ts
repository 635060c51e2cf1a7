/**
 * The transform Lambda: Firehose data transformation. Turns CloudWatch Logs subscription records
 * into priced lake documents (no bodies) with year/month/day partition keys, for Firehose to
 * convert to Parquet through the Glue schema. Unreadable records go back `ProcessingFailed`, so
 * that Firehose keeps them under the error prefix.
 */

import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Pricer } from "@bedrock-spend/core";
import { type TransformOptions, transformFirehoseRecords } from "@bedrock-spend/pipeline/transform";
import middy from "@middy/core";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { pricerFromEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** Dependencies of the transform handler. */
export interface TransformDependencies extends TransformOptions {
  pricer: Pricer;
}

/** Failures listed in the log line, at most; the counts cover all of them. */
const LOGGED_FAILURES = 20;

/** Builds the handler around its pricer (the same one the aggregate path uses). */
export function createTransformHandler({ pricer, ...options }: TransformDependencies) {
  return async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const { records, stats } = transformFirehoseRecords(event.records, pricer, options);
    // The aggregate Lambda sends RecordsIn, Dropped and CostMicroUSD too: a dimension keeps them apart.
    metrics.addDimension("consumer", "transform");
    metrics.addMetric("RecordsIn", MetricUnit.Count, stats.recordsIn);
    metrics.addMetric("UsageRows", MetricUnit.Count, stats.usageRows);
    metrics.addMetric("UnpricedRows", MetricUnit.Count, stats.unpricedRows);
    metrics.addMetric("InvalidRecords", MetricUnit.Count, stats.invalidRecords);
    metrics.addMetric("Dropped", MetricUnit.Count, stats.dropped);
    metrics.addMetric("ProcessingFailed", MetricUnit.Count, stats.processingFailed);
    metrics.addMetric("OversizeFailed", MetricUnit.Count, stats.oversizeFailed);
    metrics.addMetric("CrossPartitionRows", MetricUnit.Count, stats.crossPartitionRows);
    metrics.addMetric("ResponseBytes", MetricUnit.Bytes, stats.responseBytes);
    // Micro-dollars, truncated, as the aggregate Lambda sends it: metric values are doubles, so the
    // exact pico count is not sent. A dashboard signal, not a ledger (the lake and the table are).
    metrics.addMetric("CostMicroUSD", MetricUnit.Count, Number(stats.costPico / 1_000_000n));
    const { failures, ...counts } = stats;
    const summary = {
      invocationId: event.invocationId,
      deliveryStreamArn: event.deliveryStreamArn,
      ...counts,
      costPico: stats.costPico.toString(),
      // Reasons name fields only: raw content may hold prompt text and stays out of the logs.
      failures: failures.slice(0, LOGGED_FAILURES),
    };
    if (stats.processingFailed + stats.oversizeFailed > 0) logger.warn("records transformed, some failed", summary);
    else logger.info("records transformed", summary);
    return { records };
  };
}

let configured: ReturnType<typeof createTransformHandler> | undefined;

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = middy(async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  configured ??= createTransformHandler({ pricer: pricerFromEnv() });
  return configured(event);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
