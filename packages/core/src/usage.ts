/**
 * The usage record: one priced, normalized row per invocation, defined once.
 *
 * `USAGE_COLUMNS` is the single definition. The TypeScript type, the zod schema, the Parquet
 * columns written locally, the Glue table columns and the DuckDB/Athena views are all derived
 * from it, so the lake, the catalog and the code cannot drift apart. Prompt and response bodies
 * have no column: they are never stored.
 */
import { z } from "zod";

/** Logical column types, mapped to each engine's types below. */
export type ColumnType = "string" | "timestamp" | "bigint" | "decimal" | "map";

/** One column of the usage record. */
export interface UsageColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Partition columns are path components in the lake (`year=2026/month=11/day=27`), not stored in files. */
  readonly partition?: boolean;
  readonly doc: string;
}

/** Precision and scale of `cost_usd` (and the per-class costs): pico-dollar exact, up to 10^26 USD. */
export const COST_DECIMAL = { precision: 38, scale: 12 } as const;

/** The usage record columns, in lake order. */
export const USAGE_COLUMNS = [
  {
    name: "request_id",
    type: "string",
    nullable: false,
    doc: "Bedrock requestId; the identity of an invocation (dedup key)",
  },
  {
    name: "event_time",
    type: "timestamp",
    nullable: false,
    doc: "Invocation time from the log record, UTC",
  },
  {
    name: "account_id",
    type: "string",
    nullable: true,
    doc: "AWS account that called Bedrock",
  },
  {
    name: "region",
    type: "string",
    nullable: true,
    doc: "Source AWS Region of the call (prices are by source Region)",
  },
  {
    name: "inference_region",
    type: "string",
    nullable: true,
    doc: "Region that served a cross-Region call, when logged",
  },
  {
    name: "operation",
    type: "string",
    nullable: true,
    doc: "Converse, ConverseStream, InvokeModel or InvokeModelWithResponseStream",
  },
  {
    name: "model_id",
    type: "string",
    nullable: false,
    doc: "modelId as logged (id, profile id or ARN)",
  },
  {
    name: "model",
    type: "string",
    nullable: true,
    doc: "Base model id the price is keyed by; null when unresolved",
  },
  {
    name: "profile",
    type: "string",
    nullable: false,
    doc: "global, us, eu, apac, jp, au, us-gov, none (in-Region) or application",
  },
  {
    name: "tenant_id",
    type: "string",
    nullable: false,
    doc: "Tenant from requestMetadata; 'unattributed' when absent",
  },
  {
    name: "tenant_group",
    type: "string",
    nullable: true,
    doc: "Tenant group (tier, plan, segment) from requestMetadata",
  },
  {
    name: "department_id",
    type: "string",
    nullable: true,
    doc: "Department from requestMetadata",
  },
  {
    name: "user_id",
    type: "string",
    nullable: true,
    doc: "End user from requestMetadata",
  },
  {
    name: "application_id",
    type: "string",
    nullable: true,
    doc: "Application from requestMetadata",
  },
  {
    name: "principal_arn",
    type: "string",
    nullable: true,
    doc: "IAM principal that called Bedrock (identity.arn)",
  },
  {
    name: "metadata",
    type: "map",
    nullable: false,
    doc: "All requestMetadata keys and values",
  },
  {
    name: "input_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.inputTokenCount (excludes cache tokens)",
  },
  {
    name: "output_tokens",
    type: "bigint",
    nullable: false,
    doc: "output.outputTokenCount",
  },
  {
    name: "cache_read_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.cacheReadInputTokenCount",
  },
  {
    name: "cache_write_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.cacheWriteInputTokenCount",
  },
  {
    name: "cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Exact cost in USD; null when unpriced",
  },
  {
    name: "price_version",
    type: "string",
    nullable: true,
    doc: "Version of the price catalog that priced the record",
  },
  {
    name: "status",
    type: "string",
    nullable: false,
    doc: "priced or unpriced",
  },
  {
    name: "reason",
    type: "string",
    nullable: true,
    doc: "Why the record is unpriced",
  },
  {
    name: "error_code",
    type: "string",
    nullable: true,
    doc: "errorCode of a failed invocation",
  },
  {
    name: "cache_write_1h_tokens",
    type: "bigint",
    nullable: true,
    doc: "Of cache_write_tokens, those written with a 1-hour lifetime (billed apart); null when the log does not split writes",
  },
  {
    name: "latency",
    type: "string",
    nullable: true,
    doc: "performanceConfig.latency (standard or optimized, billed apart); null when the log does not say",
  },
  {
    name: "service_tier",
    type: "string",
    nullable: true,
    doc: "Service tier that served the call (default, priority, flex, reserved); null when the log does not say",
  },
  {
    name: "latency_ms",
    type: "bigint",
    nullable: true,
    doc: "Latency Bedrock measured, ms (Converse metrics.latencyMs, a stream's metadata event); null when the log has none (InvokeModel)",
  },
  {
    name: "performance_tier",
    type: "string",
    nullable: true,
    doc: "performanceConfig.latency (standard or optimized): the value of latency, under the name the performance views use",
  },
  {
    name: "stop_reason",
    type: "string",
    nullable: true,
    doc: "Why the model stopped (stopReason, messageStop, a native body's stop_reason); null when the log does not say",
  },
  {
    name: "profile_tags",
    type: "map",
    nullable: false,
    doc: "Tags of the application inference profile the call went through; empty otherwise (null in files written before the column)",
  },
  {
    name: "input_cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Cost in USD of the input tokens, exact; with the other class costs it sums to cost_usd; null when unpriced (and in files written before the column)",
  },
  {
    name: "output_cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Cost in USD of the output tokens, exact; null when unpriced",
  },
  {
    name: "cache_read_cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Cost in USD of the cache-read tokens, exact; null when unpriced",
  },
  {
    name: "cache_write_cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Cost in USD of the cache-write tokens (5-minute and 1-hour writes), exact; null when unpriced",
  },
  {
    name: "year",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: YYYY of event_time (UTC)",
  },
  {
    name: "month",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: MM of event_time (UTC)",
  },
  {
    name: "day",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: DD of event_time (UTC)",
  },
] as const satisfies readonly UsageColumn[];

type Column = (typeof USAGE_COLUMNS)[number];
type ColumnValue<C extends Column> = C["name"] extends "status"
  ? UsageStatus
  : C["type"] extends "bigint"
    ? number
    : C["type"] extends "map"
      ? Record<string, string>
      : string;

/**
 * A usage record. `event_time` is an ISO 8601 UTC string, `cost_usd` an exact decimal string,
 * token counts are safe integers.
 */
export type UsageRecord = {
  [C in Column as C["name"]]: C["nullable"] extends true ? ColumnValue<C> | null : ColumnValue<C>;
};

/** The status of a usage record. */
export type UsageStatus = "priced" | "unpriced";

/** Prefix of the model key of an invocation whose model did not resolve: `unresolved:<model id as logged>`. */
export const UNRESOLVED_MODEL_PREFIX = "unresolved:";

/** The per-class cost columns, by token class: exact decimals that sum to `cost_usd` (null when unpriced). */
export const CLASS_COST_COLUMNS = {
  input: "input_cost_usd",
  output: "output_cost_usd",
  cacheRead: "cache_read_cost_usd",
  cacheWrite: "cache_write_cost_usd",
} as const;

/**
 * The key an invocation's model is counted under, in the aggregates, reports and the dashboard:
 * the base model id, or `unresolved:<model id as logged>` when it did not resolve.
 */
export function modelKeyOf(record: Pick<UsageRecord, "model" | "model_id">): string {
  return record.model ?? `${UNRESOLVED_MODEL_PREFIX}${record.model_id}`;
}

const DECIMAL_STRING = /^\d+(\.\d+)?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function zodFor(column: UsageColumn): z.ZodType {
  let schema: z.ZodType;
  switch (column.type) {
    case "string":
      schema = column.name === "status" ? z.enum(["priced", "unpriced"]) : z.string();
      break;
    case "timestamp":
      schema = z.string().regex(ISO_UTC, "must be an ISO 8601 UTC timestamp");
      break;
    case "bigint":
      schema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
      break;
    case "decimal":
      schema = z.string().regex(DECIMAL_STRING, "must be a decimal string");
      break;
    case "map":
      schema = z.record(z.string(), z.string());
      break;
  }
  return column.nullable ? schema.nullable() : schema;
}

/**
 * zod schema of a usage record, derived from `USAGE_COLUMNS`. Strict: no other fields (no bodies).
 * Built in a pure-annotated function so that a bundle that does not use it (the Lambda functions)
 * drops it, and zod with it: zod was most of each function's bundle.
 */
export const UsageRecordSchema = /* @__PURE__ */ (() =>
  z.strictObject(Object.fromEntries(USAGE_COLUMNS.map((column) => [column.name, zodFor(column)]))) as unknown as z.ZodType<UsageRecord>)();

/** Columns stored in the files (partition columns excluded). */
export function dataColumns(): readonly UsageColumn[] {
  return USAGE_COLUMNS.filter((column: UsageColumn) => !column.partition);
}

/** Partition columns, in path order. */
export function partitionColumns(): readonly UsageColumn[] {
  return USAGE_COLUMNS.filter((column: UsageColumn) => column.partition === true);
}

/** Glue / Hive (Athena) type of a column. */
export function glueType(column: UsageColumn): string {
  switch (column.type) {
    case "string":
      return "string";
    case "timestamp":
      return "timestamp";
    case "bigint":
      return "bigint";
    case "decimal":
      return `decimal(${COST_DECIMAL.precision},${COST_DECIMAL.scale})`;
    case "map":
      return "map<string,string>";
  }
}

/** DuckDB type of a column (local Parquet and the local "Athena"). */
export function duckDbType(column: UsageColumn): string {
  switch (column.type) {
    case "string":
      return "VARCHAR";
    case "timestamp":
      return "TIMESTAMP";
    case "bigint":
      return "BIGINT";
    case "decimal":
      return `DECIMAL(${COST_DECIMAL.precision},${COST_DECIMAL.scale})`;
    case "map":
      return "MAP(VARCHAR, VARCHAR)";
  }
}
