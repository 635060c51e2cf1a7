/**
 * The reconcile Lambda: the AWS bill (the account's CUR 2.0 export) against the lake, by day,
 * model, Region, token class and tier (`runReconciliation`, pipeline/reconcile-job.ts). Run daily
 * by a schedule (stacks/Reconcile.ts) over the days ending yesterday, and by
 * `bedrock-spend reconcile --stage` with a range. Publishes the drift metrics (the alarm watches
 * the worst complete day), keeps the report in the results bucket, and returns it.
 */
import { parseSignedDecimal } from "@bedrock-spend/core";
import { type ReconcileJobEvent, type ReconcileRun, runReconciliation } from "@bedrock-spend/pipeline";
import { RECONCILE_METRICS, RECONCILE_MODEL_DIMENSION, RECONCILE_MODEL_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, emitMetricsBy, microDollars } from "./lib/metrics";
import { logger } from "./lib/powertools";
import { type ReconcileHandlerDeps, reconcileDepsFromEnv } from "./lib/reconcile";

/**
 * Largest report returned inline (bytes of JSON): Lambda's synchronous response is at most 6 MB.
 * A larger one is only at `reportLocation`.
 */
export const INLINE_REPORT_BYTES = 5_000_000;

/** What a run returns: the daily figures, where the report is, and the report when it fits. */
export type ReconcileResult = Omit<ReconcileRun, "report"> & {
  totals: ReconcileRun["report"]["totals"];
  rows: number;
  unmapped: number;
  reportLocation: string;
  report: ReconcileRun["report"] | null;
};

/** A scheduled event (EventBridge) or the CLI's `{from, to}`: only the range is read. */
export type ReconcileEvent = ReconcileJobEvent & Record<string, unknown>;

const absPercent = (pct: string | null) => (pct === null ? 0 : Math.abs(Number(pct)));

/** Builds the handler around its dependencies. */
export function createReconcileHandler(deps: ReconcileHandlerDeps) {
  return async (event: ReconcileEvent): Promise<ReconcileResult> => {
    const range: ReconcileJobEvent = {};
    if (typeof event?.from === "string") range.from = event.from;
    if (typeof event?.to === "string") range.to = event.to;
    const run = await runReconciliation(range, deps);
    const body = JSON.stringify({ from: run.from, to: run.to, ...run.report });
    const reportLocation = await deps.saveReport(`reports/${run.from}_${run.to}.json`, body);
    const lastDay = run.days.find((day) => day.day === run.lastCompleteDay);
    emitMetrics(RECONCILE_METRICS, {
      lastDayDriftMicroUsd: lastDay ? microDollars(parseSignedDecimal(lastDay.driftUsd, 12)) : 0,
      lastDayAbsDriftPercent: lastDay ? absPercent(lastDay.driftPct) : 0,
      worstAbsDriftPercent: absPercent(run.worstDay?.driftPct ?? null),
      unmappedMicroUsd: microDollars(parseSignedDecimal(run.report.totals.unmappedCostUsd, 12)),
      completeDays: run.days.filter((day) => day.complete).length,
    });
    emitMetricsBy(
      RECONCILE_MODEL_METRICS,
      RECONCILE_MODEL_DIMENSION,
      new Map(run.models.map((model) => [model.model, { driftMicroUsd: microDollars(parseSignedDecimal(model.driftUsd, 12)) }])),
    );
    const { report, ...figures } = run;
    logger.info("reconciliation", {
      from: run.from,
      to: run.to,
      totals: report.totals,
      worstDay: run.worstDay,
      lastCompleteDay: run.lastCompleteDay,
      reportLocation,
    });
    return {
      ...figures,
      totals: report.totals,
      rows: report.rows.length,
      unmapped: report.unmapped.length,
      reportLocation,
      report: Buffer.byteLength(body) <= INLINE_REPORT_BYTES ? report : null,
    };
  };
}

/** The handler on AWS (lib/reconcile.ts). */
export const fromEnvironment = (env: Environment) => createReconcileHandler(reconcileDepsFromEnv(env));

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
