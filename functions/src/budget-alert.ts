/**
 * Budget alerts and rank entries: the Lambda on the aggregates table's DynamoDB stream. The logic
 * (which records count, evaluation, firing once, delivery at least once) is `processBudgetStream`
 * in `@bedrock-spend/pipeline`, and the month totals' rank entries are `maintainRankEntries`, both
 * of which local mode runs through this handler; it builds their dependencies from the
 * environment, logs and measures what they report, and answers with the record to retry from.
 */

import { compareSequenceNumbers } from "@bedrock-spend/core";
import { type BudgetStreamDependencies, maintainRankEntries, processBudgetStream, type RankStore } from "@bedrock-spend/pipeline";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { aggregatesStoreFromEnv, alertPublisherFromEnv } from "./lib/adapters";
import { partialBatchResponse } from "./lib/batch";
import { BUDGET_ALERT_METRICS } from "./lib/contracts";
import { defaultBudgetFromEnv, type Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logBudgetStreamEvent, logRankFailures } from "./observers/budget-alert";

/** What the handler needs: the store (alert markers and their delivery state, rank entries), a publisher, the default budget, a clock. */
export type BudgetAlertDependencies = Omit<BudgetStreamDependencies, "onEvent" | "store"> & {
  store: BudgetStreamDependencies["store"] & RankStore;
};

/** The handler's logic, with its dependencies injected. */
export function createBudgetAlertHandler(deps: BudgetAlertDependencies): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const records = event.Records ?? [];
    const { retryFrom, stats } = await processBudgetStream(records, { ...deps, onEvent: logBudgetStreamEvent });
    const ranks = logRankFailures(await maintainRankEntries(records, deps.store, (deps.now ?? Date.now)()));
    const rankCounts = { rankMoves: ranks.stats.moved, rankFailures: ranks.stats.failed, rankMarkerFailures: ranks.markerFailures };
    emitMetrics(BUDGET_ALERT_METRICS, { ...stats, ...rankCounts }, { skipZeros: true });
    // Both paths are idempotent: retrying from the lowest record either failed redoes nothing twice.
    return partialBatchResponse([retryFrom, ranks.retryFrom].filter((sequence) => sequence !== undefined).sort(compareSequenceNumbers)[0]);
  };
}

/** From the environment: TABLE_NAME; ALERT_TOPIC_ARN and/or EVENT_BUS_NAME; DEFAULT_BUDGET_USD, DEFAULT_BUDGET_THRESHOLDS. */
export function fromEnvironment(env: Environment): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const store = aggregatesStoreFromEnv(env);
  return createBudgetAlertHandler({ store, publisher: alertPublisherFromEnv(env), defaultBudget: defaultBudgetFromEnv(env) });
}

/** The Lambda entry point (event source mapping with `ReportBatchItemFailures`). */
export const handler = lambdaHandler(fromEnvironment);
