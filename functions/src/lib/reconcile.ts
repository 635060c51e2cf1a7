/**
 * What the reconcile function is built from (functions/src/reconcile.ts): both sides through
 * Athena (the CUR table and the lake's usage table), the deployment's pricing with its registered
 * reprices, the usage-type map, the window, and where the report is kept. Apart from
 * lib/adapters.ts so that no other function's bundle carries the Athena client.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AthenaReconcileSource, type CurTableFormat } from "@bedrock-spend/adapters";
import {
  ConfigurationError,
  parseSignedDecimal,
  parseUsageTypeMap,
  REQUIRED_CUR_COLUMNS,
  systemClock,
  UsageTypeMapError,
  usageTypeMap,
} from "@bedrock-spend/core";
import type { ReconcileJobDeps, ReconcileJobEvent, ReconcileRun } from "@bedrock-spend/pipeline";
import { pricerWithRegistry, readRegistry } from "@bedrock-spend/store";
import { ENV, type RECONCILE_METRICS, type RECONCILE_MODEL_METRICS } from "./contracts";
import { type Environment, optionalEnv, pricerFromEnv, requireEnv } from "./env";
import { microDollars } from "./metrics";

/** Default of `RECONCILE_WINDOW_DAYS`: the three days ending yesterday (CUR restates recent days). */
export const DEFAULT_WINDOW_DAYS = 3;

/** The CUR table's format (`CUR_FORMAT`, and `CUR_CSV_COLUMNS` for CSV). */
export function curFormatFromEnv(env: Environment): CurTableFormat {
  const format = requireEnv(ENV.curFormat, env);
  if (format === "parquet") return { kind: "parquet" };
  if (format !== "csv") throw new ConfigurationError(ENV.curFormat, `must be parquet or csv, got ${JSON.stringify(format)}`);
  const columns = requireEnv(ENV.curCsvColumns, env)
    .split(",")
    .map((column) => column.trim())
    .filter(Boolean);
  const missing = REQUIRED_CUR_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length > 0) throw new ConfigurationError(ENV.curCsvColumns, `names no ${missing.join(", ")}: it must be the export's CSV header`);
  return { kind: "csv", columns };
}

/** The usage-type map: the shipped one with `USAGE_TYPES` laid over it. */
export function usageTypeMapFromEnv(env: Environment) {
  const text = optionalEnv(ENV.usageTypes, env);
  if (text === undefined) return usageTypeMap();
  try {
    return usageTypeMap(parseUsageTypeMap(JSON.parse(text), ENV.usageTypes));
  } catch (error) {
    const message = error instanceof UsageTypeMapError ? error.message.replace(`${ENV.usageTypes}: `, "") : `is not valid JSON: ${(error as Error).message}`;
    throw new ConfigurationError(ENV.usageTypes, message, { cause: error });
  }
}

/** Days of the scheduled window (`RECONCILE_WINDOW_DAYS`, 1 to 31). */
export function windowDaysFromEnv(env: Environment): number {
  const text = optionalEnv(ENV.reconcileWindowDays, env);
  if (text === undefined) return DEFAULT_WINDOW_DAYS;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 31)
    throw new ConfigurationError(ENV.reconcileWindowDays, `must be a whole number of days from 1 to 31, got ${JSON.stringify(text)}`);
  return days;
}

/** The run's dependencies and its report sink. */
export interface ReconcileHandlerDeps extends ReconcileJobDeps {
  /** Keeps a report; returns where. */
  saveReport: (name: string, body: string) => Promise<string>;
}

/**
 * The reconciliation's dependencies (reconcile): `ATHENA_WORKGROUP`, `GLUE_DATABASE`, `CUR_TABLE`,
 * `CUR_FORMAT` (and `CUR_CSV_COLUMNS`), `GLUE_TABLE`, `TABLE_NAME` (the reprice registry),
 * `USAGE_TYPES`, `RECONCILE_WINDOW_DAYS`, `ATHENA_RESULTS_BUCKET` (reports under `reconcile/`).
 */
export function reconcileDepsFromEnv(env: Environment): ReconcileHandlerDeps {
  const base = pricerFromEnv(env);
  const tableName = requireEnv(ENV.tableName, env);
  const bucket = requireEnv(ENV.athenaResultsBucket, env);
  const dynamodb = new DynamoDBClient({});
  const s3 = new S3Client({});
  return {
    source: new AthenaReconcileSource({
      athena: new AthenaClient({}),
      workGroup: requireEnv(ENV.athenaWorkGroup, env),
      database: requireEnv(ENV.glueDatabase, env),
      curTable: requireEnv(ENV.curTable, env),
      curFormat: curFormatFromEnv(env),
      usageTable: requireEnv(ENV.glueTable, env),
    }),
    // Read once per run: the months a reprice registered are priced with its catalog, as the lake is.
    pricer: async () => pricerWithRegistry(base, await readRegistry(dynamodb, tableName)),
    map: usageTypeMapFromEnv(env),
    now: systemClock,
    windowDays: windowDaysFromEnv(env),
    saveReport: async (name, body) => {
      const key = `reconcile/${name}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
      return `s3://${bucket}/${key}`;
    },
  };
}

/** A scheduled event (EventBridge) or the CLI's `{from, to}`: only the range is read. */
export type ReconcileEvent = ReconcileJobEvent & Record<string, unknown>;

/** The range an event asks for (none: the default window). */
export function rangeOf(event: ReconcileEvent | null | undefined): ReconcileJobEvent {
  const range: ReconcileJobEvent = {};
  if (typeof event?.from === "string") range.from = event.from;
  if (typeof event?.to === "string") range.to = event.to;
  return range;
}

const absPercent = (pct: string | null | undefined) => (pct === null || pct === undefined ? 0 : Math.abs(Number(pct)));
const micro = (usd: string) => microDollars(parseSignedDecimal(usd, 12));

/** A run's metrics: the last complete day's, the worst complete day's, the window's; and each model's. */
export function reconcileMetricsOf(run: ReconcileRun): {
  overall: Record<keyof typeof RECONCILE_METRICS, number>;
  byModel: Map<string, Record<keyof typeof RECONCILE_MODEL_METRICS, number>>;
} {
  const lastDay = run.days.find((day) => day.day === run.lastCompleteDay);
  return {
    overall: {
      lastDayDriftMicroUsd: lastDay ? micro(lastDay.driftUsd) : 0,
      lastDayAbsDriftPercent: absPercent(lastDay?.driftPct),
      worstAbsDriftPercent: absPercent(run.worstDay?.driftPct),
      unmappedMicroUsd: micro(run.report.totals.unmappedCostUsd),
      completeDays: run.days.filter((day) => day.complete).length,
    },
    byModel: new Map(run.models.map((model) => [model.model, { driftMicroUsd: micro(model.driftUsd) }])),
  };
}
