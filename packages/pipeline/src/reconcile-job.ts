/**
 * The daily reconciliation of a deployment (the reconcile function, stacks/Reconcile.ts, and
 * `bedrock-spend reconcile --stage`): the bill of the last days from the account's CUR 2.0
 * export and the logs of the same days from the lake, both summed by Athena
 * (`ReconcileSource`), reconciled by core's `reconcile`, and summed by day and model
 * (`summarizeDrift`) for the drift metrics and the alarm.
 *
 * The window ends yesterday (UTC): CUR lags up to a day, so the last day is usually unfinished
 * and only the days before the bill's last one count as complete (`DayDrift.complete`).
 */
import {
  BedrockSpendError,
  type BillGroup,
  type Clock,
  type DayKey,
  type DriftSummary,
  isDayKey,
  type LogUsageGroup,
  LogUsageTally,
  logUsageOfGroup,
  longContextThresholds,
  nextUtcDay,
  type Pricer,
  type ReconcileReport,
  reconcile,
  summarizeDrift,
  type UsageTypeMap,
  utcDayOf,
} from "@bedrock-spend/core";

/** Both sides of the reconciliation, summed where they are stored. */
export interface ReconcileSource {
  /** Bedrock's CUR line items of the days `from`..`to`, summed by day and usage type. */
  billGroups(from: DayKey, to: DayKey): Promise<BillGroup[]>;
  /** The lake's invocations of the days `from`..`to`, summed by what prices them. */
  logGroups(from: DayKey, to: DayKey, thresholds: readonly number[]): Promise<LogUsageGroup[]>;
}

/** What a reconciliation needs. */
export interface ReconcileJobDeps {
  source: ReconcileSource;
  /** The pricing the logs are reconciled with: the deployment's catalog with its registered reprices. */
  pricer: () => Promise<Pricer>;
  map: UsageTypeMap;
  now: Clock;
  /** Days of the default window, ending yesterday. */
  windowDays: number;
}

/** The event: the scheduled run has no range (the default window); the CLI may give one. */
export interface ReconcileJobEvent {
  from?: DayKey;
  to?: DayKey;
}

/** A reconciliation and its daily figures. */
export interface ReconcileRun extends DriftSummary {
  from: DayKey;
  to: DayKey;
  report: ReconcileReport;
  /** Bedrock line item groups and log groups Athena returned. */
  billGroups: number;
  logGroups: number;
}

/** A reconciliation asked for days it cannot cover. */
export class ReconcileRangeError extends BedrockSpendError {
  constructor(message: string) {
    super(message);
    this.name = "ReconcileRangeError";
  }
}

/** Longest range one run reconciles: a month and a day (a billing period restated, plus its neighbour). */
export const MAX_RECONCILE_DAYS = 62;

/** The `days` UTC days ending yesterday. */
export function reconcileWindow(now: number, days: number): { from: DayKey; to: DayKey } {
  const to = utcDayOf(now - 86_400_000);
  return { from: utcDayOf(Date.parse(`${to}T00:00:00Z`) - (days - 1) * 86_400_000), to };
}

/** The range of an event: as given (checked), or the default window. */
export function reconcileRange(event: ReconcileJobEvent, deps: Pick<ReconcileJobDeps, "now" | "windowDays">): { from: DayKey; to: DayKey } {
  if (event.from === undefined && event.to === undefined) return reconcileWindow(deps.now(), deps.windowDays);
  const from = event.from ?? event.to;
  const to = event.to ?? event.from;
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const)
    if (value === undefined || !isDayKey(value)) throw new ReconcileRangeError(`${name} must be a UTC day YYYY-MM-DD, got ${JSON.stringify(value)}`);
  if ((from as DayKey) > (to as DayKey)) throw new ReconcileRangeError(`from ${from} is after to ${to}`);
  let days = 0;
  for (let day = from as DayKey; day <= (to as DayKey); day = nextUtcDay(day)) days++;
  if (days > MAX_RECONCILE_DAYS) throw new ReconcileRangeError(`${from}..${to} is ${days} days; one run reconciles at most ${MAX_RECONCILE_DAYS}`);
  return { from: from as DayKey, to: to as DayKey };
}

/** Reconciles the bill with the logs over the event's range. */
export async function runReconciliation(event: ReconcileJobEvent, deps: ReconcileJobDeps): Promise<ReconcileRun> {
  const { from, to } = reconcileRange(event, deps);
  const pricer = await deps.pricer();
  const thresholds = longContextThresholds(pricer);
  const [bill, logGroups] = await Promise.all([deps.source.billGroups(from, to), deps.source.logGroups(from, to, thresholds)]);
  const tally = new LogUsageTally();
  for (const group of logGroups) tally.add(logUsageOfGroup(group, thresholds, pricer));
  const report = reconcile(bill, tally.usages(), { map: deps.map });
  return { from, to, report, ...summarizeDrift(report, bill), billGroups: bill.length, logGroups: logGroups.length };
}

/**
 * Largest report a run returns inline (bytes of JSON): a Lambda's synchronous response is at most
 * 6 MB. A larger one is only at `reportLocation`.
 */
export const INLINE_REPORT_BYTES = 5_000_000;

/** What a deployed run returns (the reconcile function; `reconcile --stage` reads it): the daily figures, where the report is kept, and the report when it fits. */
export type ReconcileResult = Omit<ReconcileRun, "report"> & {
  totals: ReconcileReport["totals"];
  rows: number;
  unmapped: number;
  /** `s3://<bucket>/<key>` of the whole report (`{from, to, rows, unmapped, totals}`). */
  reportLocation: string;
  /** Null when larger than `INLINE_REPORT_BYTES`: read it at `reportLocation`. */
  report: ReconcileReport | null;
};

/** What a run whose report (`reportBytes` of JSON) is kept at `reportLocation` returns. */
export function reconcileResultOf(run: ReconcileRun, reportBytes: number, reportLocation: string): ReconcileResult {
  const { report, ...figures } = run;
  return {
    ...figures,
    totals: report.totals,
    rows: report.rows.length,
    unmapped: report.unmapped.length,
    reportLocation,
    report: reportBytes <= INLINE_REPORT_BYTES ? report : null,
  };
}
