/**
 * What the budget-alert handler logs of what `processBudgetStream` reports (its metrics are the
 * batch's counts, emitted by the handler).
 */

import { type BudgetStreamEvent, RankMarkerError } from "@bedrock-spend/pipeline";
import { alertIdOf } from "@bedrock-spend/store";
import { logger } from "../lib/powertools";

/** Logs one event of the alert path, with the tenant, the month and the alert it is about. */
export function logBudgetStreamEvent(event: BudgetStreamEvent): void {
  const keys = { tenantId: event.tenantId, month: event.month, ...("alert" in event ? { alertId: alertIdOf(event.alert) } : {}) };
  if (event.type === "alert-redelivering") logger.info("delivering an alert fired earlier", keys);
  if (event.type === "alert-published")
    logger.info("budget alert published", { ...keys, kind: event.alert.kind, threshold: event.alert.threshold, spendUsd: event.alert.spendUsd });
  if (event.type === "claim-release-failed") logger.error("could not release the alert's delivery claim", { ...keys, error: event.error });
  if (event.type === "delivery-confirm-failed") logger.warn("alert published but not recorded as published", { ...keys, error: event.error });
  if (event.type === "invalid-budget") logger.error("stored budget is invalid; no alerts evaluated", { ...keys, field: event.field, reason: event.reason });
  if (event.type === "evaluation-failed") logger.error("budget evaluation failed; its records will be retried", { ...keys, error: event.error });
}

/** Logs the rank entries that could not be moved (their records are retried), and the rank marker's writing. */
export function logRankFailures<Result extends { errors: readonly Error[]; markedSince?: number | undefined }>(result: Result): Result {
  for (const error of result.errors)
    if (error instanceof RankMarkerError) logger.warn("rank marker not written; the next batch writes it", { error });
    else logger.error("rank entry not moved; its record will be retried", { error });
  if (result.markedSince !== undefined)
    logger.info("rank marker written: months from then on are ranked from their entries", { since: new Date(result.markedSince * 1000).toISOString() });
  return result;
}
