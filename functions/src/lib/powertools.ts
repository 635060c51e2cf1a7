/**
 * Powertools singletons, built once per cold start: structured logger and EMF metrics.
 * One entry point so that every handler logs and measures the same way.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { METRICS_NAMESPACE, SERVICE_NAME } from "./contracts";

/** Structured JSON logger; handlers append request and tenant keys. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** EMF metrics, flushed by the handler kit (lib/handler.ts) at the end of each invocation. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
