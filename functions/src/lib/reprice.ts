/**
 * What the reprice function is built from (functions/src/reprice.ts): the lake through Athena and
 * S3, the dry-run report sink and the step's dependencies, from the environment. Apart from
 * lib/adapters.ts so that no other function's bundle carries the Athena and S3 clients.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AthenaRepriceLake } from "@bedrock-spend/adapters";
import { type RepriceReport, systemClock } from "@bedrock-spend/core";
import type { RepriceJobDeps } from "@bedrock-spend/pipeline";
import { pricingPricerFromEnv } from "./adapters";
import { ENV } from "./contracts";
import { breakdownsFromEnv, dedupRetentionDaysFromEnv, type Environment, requireEnv, secondsFromEnv } from "./env";

/** The lake as a reprice reads and rewrites it (reprice): `LAKE_BUCKET`, `GLUE_DATABASE`, `GLUE_TABLE`, `ATHENA_WORKGROUP`, `ATHENA_RESULTS_BUCKET`. */
export function repriceLakeFromEnv(env: Environment, s3: S3Client = new S3Client({})): AthenaRepriceLake {
  return new AthenaRepriceLake({
    athena: new AthenaClient({}),
    s3,
    bucket: requireEnv(ENV.lakeBucket, env),
    database: requireEnv(ENV.glueDatabase, env),
    table: requireEnv(ENV.glueTable, env),
    workGroup: requireEnv(ENV.athenaWorkGroup, env),
    resultsBucket: requireEnv(ENV.athenaResultsBucket, env),
  });
}

/** Default of `REPRICE_SLICE_SECONDS`: new lake days are started for 10 minutes of the reprice function's 15. */
export const DEFAULT_SLICE_SECONDS = 600;

/**
 * A reprice step's dependencies (reprice): the table (`TABLE_NAME`, breakdowns, dedup retention),
 * the pricing, the lake, and the job's timing (`REPRICE_SLICE_SECONDS`, `REPRICE_SWITCH_OVER_SECONDS`).
 */
export function repriceStepDepsFromEnv(env: Environment): Omit<RepriceJobDeps, "shouldStop" | "onProgress"> & { sliceMs: number } {
  const s3 = new S3Client({});
  return {
    pricer: pricingPricerFromEnv(env),
    lake: repriceLakeFromEnv(env, s3),
    client: new DynamoDBClient({}),
    tableName: requireEnv(ENV.tableName, env),
    breakdowns: breakdownsFromEnv(env),
    dedupRetentionDays: dedupRetentionDaysFromEnv(env),
    now: systemClock,
    sliceMs: secondsFromEnv(ENV.repriceSliceSeconds, env, DEFAULT_SLICE_SECONDS) * 1000,
    switchOverSeconds: secondsFromEnv(ENV.repriceSwitchOverSeconds, env),
    saveReport: reportSinkFromEnv(env, s3),
  };
}

/** Where a reprice dry run's report goes (reprice): next to the query results, `ATHENA_RESULTS_BUCKET`, under `reprice/reports/`. */
export function reportSinkFromEnv(env: Environment, s3: S3Client = new S3Client({})): (name: string, report: RepriceReport) => Promise<string> {
  const bucket = requireEnv(ENV.athenaResultsBucket, env);
  return async (name, report) => {
    const key = `reprice/reports/${name}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(report), ContentType: "application/json" }));
    return `s3://${bucket}/${key}`;
  };
}
