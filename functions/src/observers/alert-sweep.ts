/**
 * What the alert-sweep handler logs of what `sweepUndeliveredAlerts` reports (its metrics are the
 * run's counts, emitted by the handler): the budget-alert handler's lines, and a failed publish,
 * which the stream path logs with its failed evaluation instead.
 */

import type { AlertSweepEvent } from "@bedrock-spend/pipeline";
import { alertIdOf } from "@bedrock-spend/store";
import { logger } from "../lib/powertools";
import { logBudgetStreamEvent } from "./budget-alert";

/** Logs one event of the sweep, with the tenant, the month and the alert it is about. */
export function logAlertSweepEvent(event: AlertSweepEvent): void {
  if (event.type !== "alert-publish-failed") {
    logBudgetStreamEvent(event);
    return;
  }
  logger.error("could not deliver an undelivered alert; the next sweep tries again", {
    tenantId: event.tenantId,
    month: event.month,
    alertId: alertIdOf(event.alert),
    error: event.error,
  });
}
