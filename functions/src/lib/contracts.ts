/**
 * What the stacks and the handlers must agree on: the metrics namespace and dimensions, the name
 * and unit of every metric each handler emits, and the environment variables the handlers read.
 * Both sides import these constants (the stacks for function environments, alarms and the
 * dashboard), so that renaming one is a compile error instead of an alarm watching nothing.
 *
 * Deliberately without imports: the CDK app bundles this file (stacks import it by path, see
 * stacks/README.md) and so does every Lambda bundle; it must carry neither runtime code into the
 * one nor CDK into the other.
 */

/** Powertools' service name: on every log line, and the `service` dimension of every metric. */
export const SERVICE_NAME = "bedrock-spend";

/** The CloudWatch namespace of every handler's EMF metrics. */
export const METRICS_NAMESPACE = "BedrockSpend";

/** The dimension Powertools puts on every metric, valued `SERVICE_NAME`. */
export const SERVICE_DIMENSION = "service";

/**
 * The transform's extra dimension: it emits `RecordsIn`, `Dropped` and `CostMicroUSD` as the
 * aggregate function does, and this keeps the lake path's series apart from the aggregate path's.
 */
export const TRANSFORM_DIMENSIONS = { consumer: "transform" } as const;

/** The CloudWatch units the handlers use (values of Powertools' `MetricUnit`). */
export type MetricUnitName = "Count" | "Milliseconds" | "Bytes" | "Percent";

/** One metric a handler emits. */
export interface MetricContract {
  /** The CloudWatch metric name. */
  readonly name: string;
  /** Default `Count`. */
  readonly unit?: MetricUnitName;
}

/** A handler's metrics, keyed by the count each one reports (a field of the handler's stats). */
export type MetricContracts = Readonly<Record<string, MetricContract>>;

/** The aggregate function's metrics, one of each per batch (dimension `service` only), by `processBatch` stats field. */
export const AGGREGATE_METRICS = {
  /** Log events in the batch. */
  logEvents: { name: "RecordsIn" },
  /** Invocations counted for the first time. */
  counted: { name: "Counted" },
  /** Invocations already counted (replays, redeliveries). */
  duplicates: { name: "Duplicates" },
  /** Control messages and permission lines, skipped on purpose. */
  dropped: { name: "Dropped" },
  /** Unreadable lines sent to the dead-letter queue. */
  quarantined: { name: "Quarantined" },
  /** Invocations counted without a price (alarmed: an invocation is never silently free). */
  unpriced: { name: "Unpriced" },
  /** Invocations whose write failed (their records are retried). */
  failed: { name: "WriteFailures" },
  /** DynamoDB write units the batch consumed. */
  writeUnits: { name: "WriteUnits" },
  /** Cost counted, in micro-dollars (truncated: a dashboard signal, not a ledger). */
  costMicroUsd: { name: "CostMicroUSD" },
  /** Largest arrival-to-processing lag in the batch. */
  maxLagMs: { name: "IteratorLagMs", unit: "Milliseconds" },
} as const satisfies MetricContracts;

/** The transform's metrics, one of each per Firehose invocation (dimensions `service` and `TRANSFORM_DIMENSIONS`), by transform stats field. */
export const TRANSFORM_METRICS = {
  /** Firehose records in the invocation. */
  recordsIn: { name: "RecordsIn" },
  /** Lake rows written (priced and unpriced). */
  usageRows: { name: "UsageRows" },
  /** Lake rows without a price. */
  unpricedRows: { name: "UnpricedRows" },
  /** Log events that are not valid invocation records. */
  invalidRecords: { name: "InvalidRecords" },
  /** Firehose records dropped on purpose (control messages). */
  dropped: { name: "Dropped" },
  /** Records that failed for their content (kept in the raw failure bucket). */
  processingFailed: { name: "ProcessingFailed" },
  /** Records returned `ProcessingFailed` because the response would exceed Firehose's limit. */
  oversizeFailed: { name: "OversizeFailed" },
  /** Failed records kept with their raw content in the raw failure bucket (answered `Dropped`), for `lake-redrive`. */
  rawFailuresKept: { name: "RawFailuresKept" },
  /** Failed records the raw failure bucket did not take: Firehose wrote them, prompts included, under the lake's error prefix (alarmed). */
  rawFailuresUnkept: { name: "RawFailuresUnkept" },
  /** Rows written under another day's partition than their own (a payload across midnight UTC). */
  crossPartitionRows: { name: "CrossPartitionRows" },
  /** Size of the response to Firehose. */
  responseBytes: { name: "ResponseBytes", unit: "Bytes" },
  /** Cost of the rows written, in micro-dollars (truncated, as the aggregate function sends it). */
  costMicroUsd: { name: "CostMicroUSD" },
} as const satisfies MetricContracts;

/** The redrive function's metrics, one of each per run, by redrive result field. */
export const REDRIVE_METRICS = {
  /** Dead-letter messages read. */
  messages: { name: "RedriveMessages" },
  /** Invocations the redrive counted. */
  counted: { name: "RedriveCounted" },
  /** Messages removed from the queue, fully handled. */
  resolved: { name: "RedriveResolved" },
  /** Messages left in the queue. */
  kept: { name: "RedriveKept" },
} as const satisfies MetricContracts;

/**
 * Where Firehose writes, in the lake bucket, the records the transform never answered (a timeout,
 * a crash): its error prefix (stacks/Lake.ts) for the `processing-failed` error type. The
 * lake-redrive function reads them; the bucket expires them with the raw failures' retention.
 */
export const LAKE_PROCESSING_FAILED_PREFIX = "errors/processing-failed/";

/** The lake-redrive function's metrics, one of each per run, by lake redrive result field. */
export const LAKE_REDRIVE_METRICS = {
  /** Stored batches of raw failures read (the raw failure bucket's objects and Firehose's error output). */
  batches: { name: "LakeRedriveBatches" },
  /** Records sent back through the transform. */
  redriven: { name: "LakeRedriveRecords" },
  /** Batches left where they were (unreadable, or not accepted by the delivery stream). */
  kept: { name: "LakeRedriveKept" },
} as const satisfies MetricContracts;

/** The budget-alert function's metrics, each sent only when its count is not zero, by budget stream stats field. */
export const BUDGET_ALERT_METRICS = {
  /** Alerts fired (their marker won). */
  fired: { name: "AlertsFired" },
  /** Thresholds reached again after they fired: not fired again. */
  suppressed: { name: "AlertsSuppressed" },
  /** Of the alerts fired, forecast alerts. */
  forecasts: { name: "ForecastAlerts" },
  /** Alerts fired earlier and undelivered, taken over for delivery. */
  redelivered: { name: "AlertsRedelivered" },
  /** Publishes that failed. */
  publishFailures: { name: "AlertPublishFailures" },
  /** Stored budgets that do not validate. */
  invalidBudgets: { name: "InvalidBudgets" },
  /** Month totals' rank entries moved to another cost bucket. */
  rankMoves: { name: "RankEntriesMoved" },
  /** Rank entries that could not be moved (their records are retried). */
  rankFailures: { name: "RankEntryFailures" },
  /** The rank marker was absent and could not be written (the next batch writes it). */
  rankMarkerFailures: { name: "RankMarkerFailures" },
} as const satisfies MetricContracts;

/** The alert sweep's metrics, one of each per run (a zero too: a data point says the sweep ran), by alert sweep stats field. */
export const ALERT_SWEEP_METRICS = {
  /** Alerts fired, not published, and past the grace period, found in the undelivered-alerts index. */
  found: { name: "AlertsSwept" },
  /** Of those, published by the sweep. */
  published: { name: "AlertsSweepPublished" },
  /** Alerts the sweep could not deliver (the function's invocation fails too, for its errors alarm). */
  failures: { name: "AlertSweepFailures" },
} as const satisfies MetricContracts;

/** The reprice job's metrics, one of each per step, by step result field (`pipeline/reprice-job.ts`). */
export const REPRICE_METRICS = {
  /** Settled months' aggregate items corrected by the step. */
  itemsCorrected: { name: "RepriceItemsCorrected" },
  /** Open months' invocations corrected by the step. */
  invocationsCorrected: { name: "RepriceInvocationsCorrected" },
  /** Lake day partitions rewritten by the step. */
  lakeDaysRewritten: { name: "RepriceLakeDaysRewritten" },
  /** Lake rows whose price changed, rewritten by the step. */
  lakeRowsRewritten: { name: "RepriceLakeRowsRewritten" },
} as const satisfies MetricContracts;

/**
 * The reconcile function's metrics, one of each per run (`pipeline/reconcile-job.ts`). Drifts are
 * the bill minus the logs (negative when the logs cost more), in whole micro-dollars; percentages
 * are of the bill. "Last day" is the latest day the bill has finished (no data point when none).
 */
export const RECONCILE_METRICS = {
  /** The last complete day's drift. */
  lastDayDriftMicroUsd: { name: "ReconcileDriftMicroUSD" },
  /** The last complete day's absolute drift in percent. */
  lastDayAbsDriftPercent: { name: "ReconcileAbsDriftPercent", unit: "Percent" },
  /** The largest absolute daily drift in percent over the complete days of the window (alarmed: CUR restates days). */
  worstAbsDriftPercent: { name: "ReconcileWorstAbsDriftPercent", unit: "Percent" },
  /** Bedrock usage of the window the usage-type map cannot place. */
  unmappedMicroUsd: { name: "ReconcileUnmappedMicroUSD" },
  /** Days of the window the bill has finished. */
  completeDays: { name: "ReconcileCompleteDays" },
} as const satisfies MetricContracts;

/** The reconcile function's per-model metric, one per model of the window's complete days, dimensions `service` and `RECONCILE_MODEL_DIMENSION`. */
export const RECONCILE_MODEL_METRICS = {
  /** The model's drift over the complete days of the window. */
  driftMicroUsd: { name: "ReconcileModelDriftMicroUSD" },
} as const satisfies MetricContracts;

/** The dimension of the per-model drift: the base model id. */
export const RECONCILE_MODEL_DIMENSION = "model";

/** The spend API's metrics, per request: every request, and its client (4xx) or server (5xx) error when it is one. */
export const SPEND_API_METRICS = {
  requests: { name: "SpendRequests" },
  clientErrors: { name: "ClientErrors" },
  serverErrors: { name: "ServerErrors" },
} as const satisfies MetricContracts;

/**
 * The environment variables of the functions, by what they hold. The handlers read them and the
 * stacks set them under these names. An enum rather than an `as const` object for the bundles'
 * sake: esbuild inlines enum members where they are used, so each Lambda bundle (measured against
 * a size budget) carries the names it reads and not the whole list.
 */
export enum ENV {
  /** The aggregates table's name (aggregate, redrive, budget-alert, alert-sweep, spend API). */
  tableName = "TABLE_NAME",
  /** URL of the aggregate path's dead-letter queue (aggregate, redrive). */
  deadLetterQueueUrl = "DEAD_LETTER_QUEUE_URL",
  /** ARN of the invocation stream, for on-failure records that do not name it (redrive). */
  streamArn = "STREAM_ARN",
  /** Extra per-month breakdowns, comma-separated attribution dimensions (aggregate, redrive; the spend API refuses the others). */
  aggregateBreakdowns = "AGGREGATE_BREAKDOWNS",
  /** Days a dedup marker lives, optional (aggregate, redrive). */
  dedupRetentionDays = "DEDUP_RETENTION_DAYS",
  /** Price catalog overlay as JSON, laid over the shipped catalog, optional (every function that prices). */
  priceOverlay = "PRICE_OVERLAY",
  /** Price catalog as JSON used as the whole catalog instead of the shipped one, optional (every function that prices). */
  priceCatalog = "PRICE_CATALOG",
  /** Application-inference-profile map as JSON, optional (every function that prices). */
  profileMap = "PROFILE_MAP",
  /** Metadata alias map as JSON, optional (every function that prices). */
  metadataAliases = "METADATA_ALIASES",
  /** Tag keys of application inference profiles per attribution dimension as JSON, optional (every function that prices). */
  profileTagKeys = "PROFILE_TAG_KEYS",
  /** `bedrock` to resolve application inference profiles with GetInferenceProfile and ListTagsForResource; unset: the profile map alone (every function that prices). */
  profileResolution = "PROFILE_RESOLUTION",
  /** Seconds a resolved profile is cached per instance, optional, default 3600 (every function that prices). */
  profileCacheSeconds = "PROFILE_CACHE_SECONDS",
  /** Endpoint of the Bedrock control plane, optional: the local stand-in in local mode and tests. */
  bedrockEndpoint = "BEDROCK_ENDPOINT",
  /** Budget of tenants without one, in USD, optional (budget-alert, spend API). */
  defaultBudgetUsd = "DEFAULT_BUDGET_USD",
  /** Alert thresholds of that default budget, comma-separated percentages (budget-alert, spend API). */
  defaultBudgetThresholds = "DEFAULT_BUDGET_THRESHOLDS",
  /** SNS topic budget alerts are published to (budget-alert, alert-sweep; this and/or `eventBusName`). */
  alertTopicArn = "ALERT_TOPIC_ARN",
  /** EventBridge bus budget alerts are put on (budget-alert, alert-sweep; this and/or `alertTopicArn`). */
  eventBusName = "EVENT_BUS_NAME",
  /** How callers are authenticated, `iam` or `jwt`, required (spend API). */
  apiAuthMode = "API_AUTH_MODE",
  /** The JWT claim holding the caller's tenant id, default `tenant_id` (spend API). */
  jwtTenantClaim = "JWT_TENANT_CLAIM",
  /** The JWT scope that lets a token write budgets (of any tenant), optional: without it tokens only read (spend API). */
  jwtAdminScope = "JWT_ADMIN_SCOPE",
  /**
   * Powertools' own namespace variable. The handlers give `Metrics` the namespace in code, which
   * wins; the stacks set this to the same `METRICS_NAMESPACE` for anything reading the configuration.
   */
  metricsNamespace = "POWERTOOLS_METRICS_NAMESPACE",
  /** The lake bucket (reprice). */
  lakeBucket = "LAKE_BUCKET",
  /** The Glue database and the usage table in it (reprice). */
  glueDatabase = "GLUE_DATABASE",
  glueTable = "GLUE_TABLE",
  /** The Athena workgroup and the bucket of its results, where a reprice stages rows (reprice). */
  athenaWorkGroup = "ATHENA_WORKGROUP",
  athenaResultsBucket = "ATHENA_RESULTS_BUCKET",
  /** Seconds a reprice step starts new lake days for, optional, default 600 (reprice; the function's timeout is longer). */
  repriceSliceSeconds = "REPRICE_SLICE_SECONDS",
  /** Seconds from a reprice's registration until every live consumer prices with it, required (reprice). */
  repriceSwitchOverSeconds = "REPRICE_SWITCH_OVER_SECONDS",
  /** The Glue table over the account's CUR 2.0 export, required (reconcile; in `GLUE_DATABASE`). */
  curTable = "CUR_TABLE",
  /** The export's format, `parquet` or `csv`, required (reconcile). */
  curFormat = "CUR_FORMAT",
  /** A CSV export's columns in file order, comma-separated, required with `csv` (reconcile). */
  curCsvColumns = "CUR_CSV_COLUMNS",
  /** Usage-type map laid over the shipped one, as JSON, optional (reconcile). */
  usageTypes = "USAGE_TYPES",
  /** Days the scheduled reconciliation covers, ending yesterday, optional, default 3 (reconcile). */
  reconcileWindowDays = "RECONCILE_WINDOW_DAYS",
  /** The bucket (under a customer-managed key) of the lake's raw failures, required (transform, lake-redrive). */
  rawFailureBucket = "RAW_FAILURE_BUCKET",
  /** The Direct PUT delivery stream a lake redrive sends raw failures to, required (lake-redrive). */
  lakeRedriveStream = "LAKE_REDRIVE_STREAM",
}

/** The name of an environment variable in the contract: an `ENV` member, or its string. */
export type EnvironmentVariable = `${ENV}`;
