/**
 * What the spend API handler logs and counts of each request `@bedrock-spend/api` reports: one
 * log line per request (and the cause of a 500), and the `SPEND_API_METRICS` counts.
 */
import type { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SpendApiObserver } from "@bedrock-spend/api";
import { SPEND_API_METRICS } from "../lib/contracts";
import { emitMetrics } from "../lib/metrics";

/** The logger the handler writes one line per request to (Powertools' Logger fits). */
export interface ApiLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The metrics the handler counts (Powertools' Metrics fits). */
export interface ApiMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
}

/** Counts nothing: the handler's metrics when its dependencies name none. */
export const NO_METRICS: ApiMetrics = { addMetric: () => undefined };

/** Logs each request (and the cause of a 500) and counts it, its client errors and server errors. */
export function spendApiObserver(log: ApiLogger, count: ApiMetrics): SpendApiObserver {
  return {
    onRequest(info) {
      const { statusCode, error, ...keys } = info;
      if ("error" in info) log.error("spend api request failed", { ...keys, error });
      const counts = { requests: 1, clientErrors: statusCode >= 400 && statusCode < 500 ? 1 : 0, serverErrors: statusCode >= 500 ? 1 : 0 };
      emitMetrics(SPEND_API_METRICS, counts, { sink: count, skipZeros: true });
      log.info("spend api request", { ...keys, statusCode });
    },
  };
}
