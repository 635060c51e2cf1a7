/**
 * Which handler emits which metrics, and under which dimensions besides `service`. The handlers'
 * contract test (functions/test/contracts.test.ts) checks each handler against its line here; the
 * stacks' contract test (test/infra/contracts.test.ts) checks every alarm and dashboard metric
 * against these lines. Together: no alarm watches a metric that no handler emits.
 */
import {
  AGGREGATE_METRICS,
  ALERT_SWEEP_METRICS,
  BUDGET_ALERT_METRICS,
  LAKE_REDRIVE_METRICS,
  type MetricContracts,
  RECONCILE_METRICS,
  REDRIVE_METRICS,
  REPRICE_METRICS,
  SPEND_API_METRICS,
  TRANSFORM_DIMENSIONS,
  TRANSFORM_METRICS,
} from "../../src/lib/contracts";

/** One handler's metrics. */
export interface MetricEmitter {
  /** The handler module, `functions/src/<handler>.ts`. */
  handler: "aggregate" | "transform" | "redrive" | "lake-redrive" | "reprice" | "reconcile" | "budget-alert" | "alert-sweep" | "spend-api";
  metrics: MetricContracts;
  /** Dimensions the handler adds to Powertools' `service`. */
  dimensions: Readonly<Record<string, string>>;
}

export const METRIC_EMITTERS: readonly MetricEmitter[] = [
  { handler: "aggregate", metrics: AGGREGATE_METRICS, dimensions: {} },
  { handler: "transform", metrics: TRANSFORM_METRICS, dimensions: TRANSFORM_DIMENSIONS },
  { handler: "redrive", metrics: REDRIVE_METRICS, dimensions: {} },
  { handler: "lake-redrive", metrics: LAKE_REDRIVE_METRICS, dimensions: {} },
  { handler: "reprice", metrics: REPRICE_METRICS, dimensions: {} },
  // Besides its per-model single metrics (RECONCILE_MODEL_METRICS under RECONCILE_MODEL_DIMENSION), tested in reconcile.test.ts.
  { handler: "reconcile", metrics: RECONCILE_METRICS, dimensions: {} },
  { handler: "budget-alert", metrics: BUDGET_ALERT_METRICS, dimensions: {} },
  { handler: "alert-sweep", metrics: ALERT_SWEEP_METRICS, dimensions: {} },
  { handler: "spend-api", metrics: SPEND_API_METRICS, dimensions: {} },
];
