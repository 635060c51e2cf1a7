/**
 * The reprice Lambda: one step of the reprice job (stacks/Reprice.ts runs it in a Step Functions
 * loop). The logic is `runRepriceStep` (pipeline/reprice-job.ts); this handler builds the lake
 * adapter (Athena and S3), the table client and the deployment's pricer from the environment,
 * gives the step a slice of time, and reports what it did.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AthenaRepriceLake } from "@bedrock-spend/adapters";
import { ConfigurationError, systemClock } from "@bedrock-spend/core";
import { type RepriceJobDeps, type RepriceJobEvent, type RepriceStepResult, runRepriceStep } from "@bedrock-spend/pipeline";
import { ENV, type EnvironmentVariable, REPRICE_METRICS } from "./lib/contracts";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, type Environment, optionalEnv, pricerFromEnv, requireEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logger } from "./lib/powertools";

/** Default of `REPRICE_SLICE_SECONDS`: new lake days are started for 10 minutes of the function's 15. */
export const DEFAULT_SLICE_SECONDS = 600;

/** Dependencies of the handler: the step's, and how long a step starts new lake days for. */
export type RepriceHandlerDeps = Omit<RepriceJobDeps, "shouldStop" | "onProgress"> & { sliceMs: number; clock?: () => number };

/** Builds the handler around its dependencies. */
export function createRepriceHandler({ sliceMs, clock = Date.now, ...deps }: RepriceHandlerDeps) {
  return async (event: RepriceJobEvent): Promise<RepriceStepResult> => {
    const started = clock();
    const step = await runRepriceStep(event, {
      ...deps,
      shouldStop: () => clock() - started >= sliceMs,
      onProgress: (message) => logger.info(message),
    });
    emitMetrics(REPRICE_METRICS, step);
    logger.info("reprice step", { ...step, execution: event.execution.name, elapsedMs: clock() - started });
    return step;
  };
}

function seconds(name: EnvironmentVariable, env: Environment, fallback?: number): number {
  const value = optionalEnv(name, env);
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigurationError(name, "environment variable is required");
    return fallback;
  }
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 86_400) throw new ConfigurationError(name, `must be whole seconds from 0 to 86400, got "${value}"`);
  return parsed;
}

/**
 * The handler on AWS: the table (`TABLE_NAME`, breakdowns, dedup retention), the pricing, the lake
 * (`LAKE_BUCKET`, `GLUE_DATABASE`, `GLUE_TABLE`, `ATHENA_WORKGROUP`, `ATHENA_RESULTS_BUCKET`) and
 * the job's timing (`REPRICE_SLICE_SECONDS`, `REPRICE_SWITCH_OVER_SECONDS`).
 */
export function fromEnvironment(env: Environment) {
  const s3 = new S3Client({});
  const resultsBucket = requireEnv(ENV.athenaResultsBucket, env);
  const lake = new AthenaRepriceLake({
    athena: new AthenaClient({}),
    s3,
    bucket: requireEnv(ENV.lakeBucket, env),
    database: requireEnv(ENV.glueDatabase, env),
    table: requireEnv(ENV.glueTable, env),
    workGroup: requireEnv(ENV.athenaWorkGroup, env),
    resultsBucket,
  });
  return createRepriceHandler({
    pricer: pricerFromEnv(env),
    lake,
    client: new DynamoDBClient({}),
    tableName: requireEnv(ENV.tableName, env),
    breakdowns: breakdownsFromEnv(env),
    dedupRetentionDays: dedupRetentionDaysFromEnv(env),
    now: systemClock,
    sliceMs: seconds(ENV.repriceSliceSeconds, env, DEFAULT_SLICE_SECONDS) * 1000,
    switchOverSeconds: seconds(ENV.repriceSwitchOverSeconds, env),
    // A dry run's report can be far larger than the job's state: it goes next to the query results.
    saveReport: async (name, report) => {
      const key = `reprice/reports/${name}`;
      await s3.send(new PutObjectCommand({ Bucket: resultsBucket, Key: key, Body: JSON.stringify(report), ContentType: "application/json" }));
      return `s3://${resultsBucket}/${key}`;
    },
  });
}

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
