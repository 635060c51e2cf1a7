/**
 * The lake-redrive Lambda: sends the lake's raw failures back through the transform (invoke it by
 * hand once what made them fail is fixed: a catalog, a schema, a deploy). It reads the raw failure
 * bucket (what the transform kept) and Firehose's error output in the lake bucket (what the
 * transform never answered), puts the records on the redrive delivery stream (Direct PUT, the same
 * transform and destination, no aggregate path), and forgets each batch once it is accepted. A
 * record that fails again is kept again; a run cut short by the timeout is taken up by the next.
 */

import { FirehoseClient } from "@aws-sdk/client-firehose";
import { S3Client } from "@aws-sdk/client-s3";
import { FirehoseRedriveTarget, type LakeRedriveTarget, type RawFailureBatches, S3FirehoseErrorBatches, S3RawFailureBatches } from "@bedrock-spend/adapters";
import { type LakeRedriveResult, redriveLakeFailures } from "@bedrock-spend/pipeline/lake-failures";
import { ENV, LAKE_PROCESSING_FAILED_PREFIX, LAKE_REDRIVE_METRICS } from "./lib/contracts";
import { type Environment, requireEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logger } from "./lib/powertools";

/** Builds the handler around where the failures are and where they go. */
export function createLakeRedriveHandler(deps: { sources: RawFailureBatches[]; target: LakeRedriveTarget }) {
  return async (): Promise<LakeRedriveResult> => {
    const result = await redriveLakeFailures(deps.sources, deps.target);
    emitMetrics(LAKE_REDRIVE_METRICS, { ...result, kept: result.kept.length });
    if (result.kept.length > 0) logger.warn("lake redrive finished, some batches kept", { ...result, kept: result.kept.slice(0, 20) });
    else logger.info("lake redrive finished", { ...result });
    return result;
  };
}

/** The handler on AWS: `RAW_FAILURE_BUCKET`, `LAKE_BUCKET` and `LAKE_REDRIVE_STREAM`. */
export function fromEnvironment(env: Environment) {
  const s3 = new S3Client({});
  const sources = [
    new S3RawFailureBatches({ s3, bucket: requireEnv(ENV.rawFailureBucket, env), prefix: "" }),
    new S3FirehoseErrorBatches({ s3, bucket: requireEnv(ENV.lakeBucket, env), prefix: LAKE_PROCESSING_FAILED_PREFIX }),
  ];
  const target = new FirehoseRedriveTarget({ firehose: new FirehoseClient({}), deliveryStreamName: requireEnv(ENV.lakeRedriveStream, env) });
  return createLakeRedriveHandler({ sources, target });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
