/**
 * Alert sweep: the Lambda an EventBridge schedule runs every 15 minutes (stacks/Alerts.ts) to
 * deliver budget alerts fired but never published. The logic is `sweepUndeliveredAlerts` in
 * `@bedrock-spend/pipeline`, which local mode runs too; this handler builds its dependencies from
 * the environment, logs and measures what it reports, and fails the invocation when an alert could
 * not be delivered, so that the function's errors alarm (stacks/Monitoring.ts) tells the operators.
 */

import { systemClock } from "@bedrock-spend/core";
import { type AlertSweepDependencies, type AlertSweepStats, sweepUndeliveredAlerts } from "@bedrock-spend/pipeline";
import { aggregatesStoreFromEnv, alertPublisherFromEnv } from "./lib/adapters";
import { ALERT_SWEEP_METRICS } from "./lib/contracts";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logAlertSweepEvent } from "./observers/alert-sweep";

/** What the handler needs: the store (the undelivered-alerts index, alert markers), a publisher, a clock, the sweep's limits. */
export type AlertSweepHandlerDependencies = Omit<AlertSweepDependencies, "onEvent">;

/** The handler's logic, with its dependencies injected; the scheduled event carries nothing it reads. @throws AlertSweepError when an alert was not delivered */
export function createAlertSweepHandler(deps: AlertSweepHandlerDependencies): (event?: unknown) => Promise<AlertSweepStats> {
  return async () => {
    const { stats, error } = await sweepUndeliveredAlerts({ ...deps, onEvent: logAlertSweepEvent });
    emitMetrics(ALERT_SWEEP_METRICS, stats);
    if (error) throw error;
    return stats;
  };
}

/** From the environment: TABLE_NAME; ALERT_TOPIC_ARN and/or EVENT_BUS_NAME. */
export function fromEnvironment(env: Environment): (event?: unknown) => Promise<AlertSweepStats> {
  return createAlertSweepHandler({ store: aggregatesStoreFromEnv(env), publisher: alertPublisherFromEnv(env), now: systemClock });
}

/** The Lambda entry point (an EventBridge schedule's target). */
export const handler = lambdaHandler(fromEnvironment);
