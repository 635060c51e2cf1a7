/**
 * The data contract of the local dashboard: what its JSON routes answer and what the data sources
 * behind them provide. The page (public/app.js) reads exactly these shapes.
 *
 * Money is always an exact decimal USD string (`"0.001950"`), never a JSON number: the page may
 * convert it to a number only to draw it. Token and invocation counts are exact JSON integers.
 */
import type { ApiRequest, ApiResponse } from "@bedrock-spend/api";
import type { Budget, BudgetAlert, ReconcileReport, Spend, SpendTotals, TokenClass, UnmappedBillLine } from "@bedrock-spend/core";

/**
 * What the dashboard shows: every field null means "all". Periods are UTC calendar periods;
 * `month` without `year` means that month of every year (as the QuickSight sample's controls do).
 */
export interface DashboardFilters {
  /** Four-digit year, e.g. 2026. */
  year: number | null;
  /** Month of the year, 1-12. */
  month: number | null;
  /** A tenant id (`tenant_id`), exact match. */
  tenant: string | null;
  /** A model key, exact match: the base model id (`model`, no profile prefix), or `unresolved:<model_id>` when it is null. */
  model: string | null;
}

/**
 * Usage totals of a selection or of one breakdown row: the spend API's totals (unpriced
 * invocations count in tokens and invocations, never in `costUsd`) and the tokens of all classes.
 */
export interface UsageTotals extends SpendTotals {
  /** input + output + cache read + cache write. */
  totalTokens: number;
}

/**
 * One row of a breakdown (tenant group, tenant, department, model). Rows are sorted by
 * `totalTokens` descending, then key; a breakdown holds at most `DASHBOARD_TOP_N` rows, plus one
 * last row with `other: true` (key `OTHER_KEY`) summing all the others when there are more.
 */
export interface BreakdownRow extends UsageTotals {
  /** The dimension's value; `NONE_KEY` when the records carried none (no tenant group, no department). */
  key: string;
  /** Present and true only on the row that sums the keys beyond the top N. */
  other?: true;
  /** How many keys the `other` row sums. */
  otherCount?: number;
}

/** Cost and usage of one UTC day. */
export interface DayPoint {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  costUsd: string;
  invocations: number;
  unpricedInvocations: number;
  totalTokens: number;
}

/** Tokens and cost of one token class. */
export interface TokenClassRow {
  tokenClass: TokenClass;
  tokens: number;
  /** Exact cost of that class; null when the source cannot split cost by class. */
  costUsd: string | null;
}

/** The headline numbers of the selection. */
export interface DashboardKpis extends UsageTotals {
  /** Distinct tenants in the selection. */
  tenants: number;
  /** Distinct base models in the selection. */
  models: number;
}

/** `GET /api/dashboard`: everything the page draws for one selection. */
export interface DashboardResponse {
  /** The filters applied (echoed back, normalized). */
  filters: DashboardFilters;
  /** When this answer was computed, ISO 8601 UTC. */
  generatedAt: string;
  /** Newest `event_time` the source holds, regardless of filters (pipeline freshness); null when empty. */
  latestEventTime: string | null;
  kpis: DashboardKpis;
  /** "Bedrock Usage Summary": tokens by tenant group (vertical bar). */
  byTenantGroup: BreakdownRow[];
  /** "Token Usage by Company": tokens by tenant (pie). */
  byTenant: BreakdownRow[];
  /** "Token Usage by Department" (horizontal bar). */
  byDepartment: BreakdownRow[];
  /** "Model Distribution": requests (`invocations`) and tokens per base model (donut). */
  byModel: BreakdownRow[];
  /** Cost over time: one point per UTC day that has usage, chronological (days without usage may be absent). */
  costOverTime: DayPoint[];
  /** Always four rows, in the order input, output, cacheRead, cacheWrite. */
  byTokenClass: TokenClassRow[];
}

/**
 * How one model's calls went in a selection (the "Model performance" panel): the measures of the
 * core's `model_performance_daily` view over the selection instead of per day. Rates and
 * throughput are doubles for display (never money); latencies are whole milliseconds.
 */
export interface ModelPerformanceRow {
  /** Model key: the base model id, or `unresolved:<model_id>`. */
  model: string;
  invocations: number;
  /** Invocations logged with an errorCode. */
  errors: number;
  /** Invocations throttled (errorCode `ThrottlingException`). */
  throttles: number;
  /** errors / invocations. */
  errorRate: number;
  /** throttles / invocations. */
  throttleRate: number;
  /** Invocations whose log says their latency (Converse, ConverseStream); the percentiles and throughput are over these. */
  timedInvocations: number;
  /** Latency percentiles, ms: observed latencies by nearest rank; null without timed invocations. */
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
  /** sum(output tokens) x 1000 / sum(latency ms) of the timed invocations; null without any (or when they add up to 0 ms). */
  outputTokensPerSecond: number | null;
  /** Share of invocations at optimized latency (`performance_tier`). */
  optimizedShare: number;
}

/** `GET /api/performance`: one row per model of the selection, most invocations first, then by model key. */
export interface PerformanceResponse {
  /** The filters applied (echoed back, normalized). */
  filters: DashboardFilters;
  models: ModelPerformanceRow[];
}

/** The values the filter controls offer (what `DashboardData.filters` answers). */
export interface FilterOptions {
  /** Years with usage, newest first. */
  years: number[];
  /** `YYYY-MM` months with usage, newest first. */
  months: string[];
  /** Tenant ids with usage, sorted (code-unit order). */
  tenants: string[];
  /** Base model ids with usage, sorted. */
  models: string[];
}

/**
 * `GET /api/filters`: the options, and the server's clock, ISO 8601 UTC. The page takes "today"
 * and "this month" from the server (whose clock is the data's), never from the browser's.
 */
export interface FilterResponse extends FilterOptions {
  asOf: string;
}

/** One fired budget alert, as the alerts feed shows it. */
export interface AlertItem extends BudgetAlert {
  /** Stable id of the alert (the same for every delivery): `tenant#YYYY-MM#080` or `...#FORECAST`. */
  alertId: string;
  /** When it fired, ISO 8601 UTC. */
  firedAt: string;
}

/** One threshold of a tenant's budget. */
export interface ThresholdState {
  /** Percent of the budget. */
  percent: number;
  /** That percentage of the budget, decimal USD (rounded up to the pico-dollar, as the alerting does). */
  amountUsd: string;
  /** The month spend is at or above it. */
  reached: boolean;
}

/** `GET /api/tenants/{tenantId}`: a tenant's month spend against its budget. */
export interface TenantLookup {
  tenantId: string;
  /** `YYYY-MM`. */
  month: string;
  /** When this answer was computed, ISO 8601 UTC. */
  asOf: string;
  /** The spend API's answer (`GET /v1/tenants/{tenantId}/spend?month=...&by=day`), unchanged. */
  spend: Spend;
  budget: Budget | null;
  /** Spend as a percentage of the budget, two decimals, for display; null without a budget. */
  percentUsed: number | null;
  /** Budget minus spend (negative when over), decimal USD; null without a budget. */
  remainingUsd: string | null;
  /**
   * Linear projection of the month-end spend (the spend itself once the month is over), decimal
   * USD; null in the month's first tenth, when it is too early to project.
   */
  forecastUsd: string | null;
  /** Forecast as a percentage of the budget, two decimals; null without a budget or a forecast. */
  forecastPercent: number | null;
  thresholds: ThresholdState[];
  /** `over`: spend at or above the budget; `warning`: a threshold reached or the forecast (when there is one) above the budget. */
  status: "no-budget" | "ok" | "warning" | "over";
}

/**
 * The dashboard's data sources (in local mode: DuckDB views over the Parquet lake and the alert
 * store). Implementations answer from whatever they hold now; the page polls them every second.
 */
export interface DashboardData {
  dashboard(filters: DashboardFilters): Promise<DashboardResponse>;
  /** Latency, errors and throughput per model of the selection (`PerformanceResponse.models`). */
  performance(filters: DashboardFilters): Promise<ModelPerformanceRow[]>;
  filters(): Promise<FilterOptions>;
  /** Alerts fired at or after `since` (ISO 8601), newest first; the most recent ones when `since` is absent. */
  alerts(since?: string): Promise<AlertItem[]>;
}

/**
 * The spend API, transport-independent: `(request) => handleSpendApi(request, deps)` from
 * `@bedrock-spend/api` with `allowUnauthenticated: true` (the server listens on 127.0.0.1 only).
 */
export type SpendApiHandler = (request: ApiRequest) => Promise<ApiResponse>;

/** Error body of the dashboard's own routes (the same shape as the spend API's errors). */
export interface DashboardErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Maximum rows of a breakdown before the rest is summed into the `other` row. */
export const DASHBOARD_TOP_N = 10;

/** Key of the row that sums the keys beyond the top N. */
export const OTHER_KEY = "(other)";

/** Key of the records that carry no value for the dimension. */
export const NONE_KEY = "(none)";

/**
 * The last reconciliation of the bill with the logs, as `bedrock-spend reconcile --data-dir DIR`
 * keeps it in `<data-dir>/reconcile/last.json`: the report of `reconcile` (core), with the days it
 * covers and the CUR files it read.
 */
export interface ReconcileSnapshot extends ReconcileReport {
  /** First UTC day, `YYYY-MM-DD`; null when the bill was empty. */
  from: string | null;
  /** Last UTC day, `YYYY-MM-DD`; null when the bill was empty. */
  to: string | null;
  /** The CUR paths given to `--cur`. */
  cur: string[];
  /** Which days the bill had finished; absent in files of an older CLI. */
  days?: { day: string; complete: boolean }[];
}

/** Where the dashboard gets the last reconciliation (in local mode: `reconcileFileSource`). */
export interface ReconciliationSource {
  /** What it reads, for the user (the file's path). */
  location: string;
  /**
   * The last reconciliation, read now (the CLI may rewrite it at any time); undefined when there
   * is none. Rejects with `ReconcileFileError` when it is malformed.
   */
  read(): Promise<ReconcileSnapshot | undefined>;
}

/** Sums of the reconciliation rows of one day or one model. Money is exact decimal USD. */
export interface DriftSums {
  /** The logs' cost. */
  logCostUsd: string;
  /** The bill's cost of the usage placed on these rows (unmapped usage is in no row). */
  billCostUsd: string;
  /** `billCostUsd - logCostUsd`: positive when the bill is higher. */
  driftUsd: string;
  /** The drift in percent of `billCostUsd`, two decimals (half away from zero); null when that bill is 0. */
  driftPct: string | null;
  logTokens: number;
  billTokens: number;
  /** Reconciliation rows summed (day, Region, model, token class, tier). */
  rows: number;
}

/** The drift of one UTC day. */
export interface DayDriftRow extends DriftSums {
  /** `YYYY-MM-DD`. */
  day: string;
  /** Whether the bill had finished the day (CUR lags up to a day); null when the file does not say. */
  complete: boolean | null;
}

/** The drift of one base model. */
export interface ModelDriftRow extends DriftSums {
  model: string;
}

/** `GET /api/reconcile` when a reconciliation is loaded: the file's totals and its rows summed by day and by model. */
export interface ReconcileSummary {
  loaded: true;
  /** Where it was read. */
  location: string;
  from: string | null;
  to: string | null;
  cur: string[];
  /** Reconciliation rows in the file. */
  rows: number;
  /**
   * The file's totals, and the bill of the placed usage (`billCostUsd - unmappedCostUsd`), which
   * the rows sum to: `byDay` and `byModel` each sum exactly to `logCostUsd`, `mappedBillCostUsd`
   * and `driftUsd`.
   */
  totals: ReconcileReport["totals"] & { mappedBillCostUsd: string };
  /** Chronological. */
  byDay: DayDriftRow[];
  /** Largest absolute drift first, then by model id. */
  byModel: ModelDriftRow[];
  /** The Bedrock usage the usage-type map could not place: its total and its lines (as in the file). */
  unmapped: { costUsd: string; lines: UnmappedBillLine[] };
}

/** `GET /api/reconcile` when there is no reconciliation to show. */
export interface ReconcileNotLoaded {
  loaded: false;
  /** Where the server looked; null when it has no source. */
  location: string | null;
  /** What to run to load one. */
  hint: string;
}

/** `GET /api/reconcile`. */
export type ReconcileResponse = ReconcileSummary | ReconcileNotLoaded;

/** Local mode's marker of generated sample data (its first start's history). */
export interface SampleDataInfo {
  sample: true;
  /** False while (or if interrupted while) the history is being put through the pipeline. */
  complete: boolean;
  from: string;
  to: string;
  days: number;
  records: number;
  budgets: { tenantId: string; monthlyUsd: string; thresholds: number[] }[];
  /** How to start without sample data. */
  hint: string;
}

/** `GET /api/sample`: whether the data shown is generated sample data. */
export type SampleDataResponse = { sample: false } | SampleDataInfo;
