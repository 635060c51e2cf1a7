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
