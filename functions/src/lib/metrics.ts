/**
 * The one way handlers emit metrics: a stats object in, each count out under the name and unit
 * its contract (lib/contracts.ts) gives it. A count without a contract cannot be emitted, and a
 * contract whose count the stats no longer have does not compile.
 */
import type { MetricContract, MetricUnitName } from "./contracts";
import { metrics } from "./powertools";

/** Where metrics go when not to Powertools' `Metrics`: the spend API's injected recorder, a test's. */
export interface MetricSink {
  addMetric(name: string, unit: MetricUnitName, value: number): unknown;
}

/** Options of `emitMetrics`: dimensions only for Powertools' `Metrics`, which flushes them with this invocation's metrics. */
export type EmitMetricsOptions = {
  /** Leave out counts that are zero (a batch that fired no alert sends no alert metrics). Default: a zero is sent, as a data point. */
  skipZeros?: boolean;
} & ({ dimensions?: Readonly<Record<string, string>>; sink?: undefined } | { sink: MetricSink; dimensions?: undefined });

/** Emits `values[key]` as the metric `contracts[key]` names, for every key of `contracts`, in their order. */
export function emitMetrics<K extends string>(
  contracts: Readonly<Record<K, MetricContract>>,
  values: NoInfer<Readonly<Record<K, number>>>,
  options: EmitMetricsOptions = {},
): void {
  for (const [name, value] of Object.entries(options.dimensions ?? {})) metrics.addDimension(name, value);
  const sink = options.sink ?? metrics;
  for (const key of Object.keys(contracts) as K[]) {
    const value = values[key];
    if (options.skipZeros && !(value > 0)) continue;
    sink.addMetric(contracts[key].name, contracts[key].unit ?? "Count", value);
  }
}

/** Pico-dollars as whole micro-dollars, truncated: CloudWatch values are doubles, so the exact pico count is not sent. */
export function microDollars(pico: bigint): number {
  return Number(pico / 1_000_000n);
}

/**
 * Emits `values` under one dimension value each (`dimension` = `key` of `values`): Powertools'
 * single metrics, each published as its own EMF document with the `service` dimension and that
 * one (the per-model drift of the reconciliation).
 */
export function emitMetricsBy<K extends string>(
  contracts: Readonly<Record<K, MetricContract>>,
  dimension: string,
  values: ReadonlyMap<string, Readonly<Record<K, number>>>,
): void {
  for (const [value, counts] of values)
    for (const key of Object.keys(contracts) as K[]) {
      // A single metric publishes on addMetric: its dimension goes first.
      const single = metrics.singleMetric();
      single.addDimension(dimension, value);
      single.addMetric(contracts[key].name, contracts[key].unit ?? "Count", counts[key]);
    }
}
