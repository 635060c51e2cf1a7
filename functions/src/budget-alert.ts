/**
 * Budget alerts: the Lambda on the aggregates table's DynamoDB stream. The logic (which records
 * count, evaluation, firing once, delivery at least once) is `processBudgetStream` in
 * `@bedrock-spend/pipeline`, which local mode runs too; this handler builds its dependencies from
 * the environment, logs and measures what it reports, and answers with the record to retry from.
 */

import { type BudgetStreamDependencies, processBudgetStream } from "@bedrock-spend/pipeline";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { aggregatesStoreFromEnv, alertPublisherFromEnv } from "./lib/adapters";
import { partialBatchResponse } from "./lib/batch";
import { BUDGET_ALERT_METRICS } from "./lib/contracts";
import { defaultBudgetFromEnv, type Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { emitMetrics } from "./lib/metrics";
import { logBudgetStreamEvent } from "./observers/budget-alert";

/** What the handler needs: the store (alert markers and their delivery state), a publisher, the default budget, a clock. */
export type BudgetAlertDependencies = Omit<BudgetStreamDependencies, "onEvent">;

/** The handler's logic, with its dependencies injected. */
export function createBudgetAlertHandler(deps: BudgetAlertDependencies): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const { retryFrom, stats } = await processBudgetStream(event.Records ?? [], { ...deps, onEvent: logBudgetStreamEvent });
    emitMetrics(BUDGET_ALERT_METRICS, stats, { skipZeros: true });
    return partialBatchResponse(retryFrom);
  };
}

/** From the environment: TABLE_NAME; ALERT_TOPIC_ARN and/or EVENT_BUS_NAME; DEFAULT_BUDGET_USD, DEFAULT_BUDGET_THRESHOLDS. */
export function fromEnvironment(env: Environment): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const store = aggregatesStoreFromEnv(env);
  return createBudgetAlertHandler({ store, publisher: alertPublisherFromEnv(env), defaultBudget: defaultBudgetFromEnv(env) });
}

/** The Lambda entry point (event source mapping with `ReportBatchItemFailures`). */
export const handler = lambdaHandler(fromEnvironment);
