/**
 * The one way handlers emit metrics: a stats object in, each count out under the name and unit
 * its contract (lib/contracts.ts) gives it. A count without a contract cannot be emitted, and a
 * contract whose count the stats no longer have does not compile.
 */
import type { MetricContract, MetricUnitName } from "./contracts";
import { metrics } from "./powertools";

/** Where metrics go: Powertools' `Metrics` by default, or another recorder (the spend API's injected one, a test's). */
export interface MetricSink {
  addMetric(name: string, unit: MetricUnitName, value: number): unknown;
  addDimension?(name: string, value: string): unknown;
}

/** Options of `emitMetrics`. */
export interface EmitMetricsOptions {
  /** Leave out counts that are zero (a batch that fired no alert sends no alert metrics). Default: a zero is sent, as a data point. */
  skipZeros?: boolean;
  /** Dimensions added for this invocation's metrics; the sink must take dimensions. */
  dimensions?: Readonly<Record<string, string>>;
  /** Default: the handlers' Powertools `metrics`, flushed by the handler kit. */
  sink?: MetricSink;
}

/** Emits `values[key]` as the metric `contracts[key]` names, for every key of `contracts`, in their order. */
export function emitMetrics<K extends string>(
  contracts: Readonly<Record<K, MetricContract>>,
  values: NoInfer<Readonly<Record<K, number>>>,
  options: EmitMetricsOptions = {},
): void {
  const sink = options.sink ?? metrics;
  for (const [name, value] of Object.entries(options.dimensions ?? {})) {
    if (!sink.addDimension) throw new TypeError(`emitMetrics: dimension ${name} given for a sink without addDimension`);
    sink.addDimension(name, value);
  }
  for (const key of Object.keys(contracts) as K[]) {
    const value = values[key];
    if (options.skipZeros && !(value > 0)) continue;
    sink.addMetric(contracts[key].name, contracts[key].unit, value);
  }
}

/** Pico-dollars as whole micro-dollars, truncated: CloudWatch values are doubles, so the exact pico count is not sent. */
export function microDollars(pico: bigint): number {
  return Number(pico / 1_000_000n);
}
