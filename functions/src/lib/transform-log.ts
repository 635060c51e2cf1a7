/**
 * The transform's log line per invocation: its counts, the failures by field (never content: raw
 * records hold prompt text), at the level of what happened to the failures.
 */
import type { KeptFailures } from "@bedrock-spend/pipeline/lake-failures";
import type { TransformStats } from "@bedrock-spend/pipeline/transform";
import { logger } from "./powertools";

/** Failures listed in the log line at most; the counts cover all of them. */
const LOGGED_FAILURES = 20;

/** Logs one transformation: error when a failure reached Firehose's error prefix or the transform threw, warn when failures were kept, else info. */
export function logTransformation(event: { invocationId: string; deliveryStreamArn: string }, stats: TransformStats, kept: KeptFailures): void {
  const { failures, ...counts } = stats;
  const summary = {
    invocationId: event.invocationId,
    deliveryStreamArn: event.deliveryStreamArn,
    ...counts,
    costPico: stats.costPico.toString(),
    failures: failures.slice(0, LOGGED_FAILURES),
    kept: kept.kept,
  };
  if (kept.unkept > 0) logger.error("records transformed, failures not all kept", { ...summary, unkept: kept.unkept, storeError: kept.storeError?.message });
  else if (kept.transformError)
    logger.error("transform failed on the batch, every record kept", {
      ...summary,
      transformError: `${kept.transformError.name}: ${kept.transformError.message}`,
    });
  else if (stats.processingFailed + stats.oversizeFailed > 0) logger.warn("records transformed, some failed and were kept", summary);
  else logger.info("records transformed", summary);
}
