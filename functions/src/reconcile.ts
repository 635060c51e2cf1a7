/**
 * The reconcile Lambda: the AWS bill (the account's CUR 2.0 export) against the lake, by day,
 * model, Region, token class and tier (`runReconciliation`, pipeline/reconcile-job.ts). Run daily
 * by a schedule (stacks/Reconcile.ts) over the days ending yesterday, and by
 * `bedrock-spend reconcile --stage` with a range. Publishes the drift metrics (the alarm watches
 * the worst complete day), keeps the report in the results bucket, and returns it.
 */
import { type ReconcileResult, reconcileResultOf, runReconciliation } from "@bedrock-spend/pipeline";
import { RECONCILE_METRICS, RECONCILE_MODEL_DIMENSION, RECONCILE_MODEL_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics, emitMetricsBy } from "./lib/metrics";
import { logger } from "./lib/powertools";
import { type ReconcileEvent, type ReconcileHandlerDeps, rangeOf, reconcileDepsFromEnv, reconcileMetricsOf } from "./lib/reconcile";

/** Builds the handler around its dependencies. */
export function createReconcileHandler(deps: ReconcileHandlerDeps) {
  return async (event: ReconcileEvent): Promise<ReconcileResult> => {
    const run = await runReconciliation(rangeOf(event), deps);
    const body = JSON.stringify({ from: run.from, to: run.to, ...run.report });
    const reportLocation = await deps.saveReport(`reports/${run.from}_${run.to}.json`, body);
    const { overall, byModel } = reconcileMetricsOf(run);
    emitMetrics(RECONCILE_METRICS, overall);
    emitMetricsBy(RECONCILE_MODEL_METRICS, RECONCILE_MODEL_DIMENSION, byModel);
    logger.info("reconciliation", { from: run.from, to: run.to, totals: run.report.totals, worstDay: run.worstDay, reportLocation });
    return reconcileResultOf(run, Buffer.byteLength(body), reportLocation);
  };
}

/** The handler on AWS (lib/reconcile.ts). */
export const fromEnvironment = (env: Environment) => createReconcileHandler(reconcileDepsFromEnv(env));

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
