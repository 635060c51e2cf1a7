/**
 * Budget alerts: the Lambda on the aggregates table's DynamoDB stream. The logic (which records
 * count, evaluation, firing once, delivery at least once) is `processBudgetStream` in
 * `@bedrock-spend/pipeline`, which local mode runs too; this handler builds its dependencies from
 * the environment, logs and measures what it reports, and answers with the record to retry from.
 */

import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { awsAlertPublisher } from "@bedrock-spend/adapters";
import { ConfigurationError } from "@bedrock-spend/core";
import { type BudgetStreamDependencies, type BudgetStreamEvent, type BudgetStreamStats, processBudgetStream } from "@bedrock-spend/pipeline";
import { AggregatesStore, alertIdOf } from "@bedrock-spend/store";
import middy from "@middy/core";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { defaultBudgetFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** What the handler needs: the store (alert markers and their delivery state), a publisher, the default budget, a clock. */
export type BudgetAlertDependencies = Omit<BudgetStreamDependencies, "onEvent">;

/** Metric of each count, sent when not zero. */
const METRICS = {
  fired: "AlertsFired",
  suppressed: "AlertsSuppressed",
  forecasts: "ForecastAlerts",
  redelivered: "AlertsRedelivered",
  publishFailures: "AlertPublishFailures",
  invalidBudgets: "InvalidBudgets",
} as const satisfies Partial<Record<keyof BudgetStreamStats, string>>;

function log(event: BudgetStreamEvent): void {
  const keys = { tenantId: event.tenantId, month: event.month, ...("alert" in event ? { alertId: alertIdOf(event.alert) } : {}) };
  if (event.type === "alert-redelivering") logger.info("delivering an alert fired earlier", keys);
  if (event.type === "alert-published")
    logger.info("budget alert published", { ...keys, kind: event.alert.kind, threshold: event.alert.threshold, spendUsd: event.alert.spendUsd });
  if (event.type === "claim-release-failed") logger.error("could not release the alert's delivery claim", { ...keys, error: event.error });
  if (event.type === "delivery-confirm-failed") logger.warn("alert published but not recorded as published", { ...keys, error: event.error });
  if (event.type === "invalid-budget") logger.error("stored budget is invalid; no alerts evaluated", { ...keys, field: event.field, reason: event.reason });
  if (event.type === "evaluation-failed") logger.error("budget evaluation failed; its records will be retried", { ...keys, error: event.error });
}

/** The handler's logic, with its dependencies injected. */
export function createBudgetAlertHandler(deps: BudgetAlertDependencies): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    const { retryFrom, stats } = await processBudgetStream(event.Records ?? [], { ...deps, onEvent: log });
    for (const [count, name] of Object.entries(METRICS)) {
      const value = stats[count as keyof typeof METRICS];
      if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
    }
    return { batchItemFailures: retryFrom === undefined ? [] : [{ itemIdentifier: retryFrom }] };
  };
}

/** From the environment: TABLE_NAME; ALERT_TOPIC_ARN and/or EVENT_BUS_NAME; DEFAULT_BUDGET_USD, DEFAULT_BUDGET_THRESHOLDS. */
function fromEnvironment(env: NodeJS.ProcessEnv = process.env): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const tableName = requireEnv("TABLE_NAME", env);
  const topicArn = env.ALERT_TOPIC_ARN?.trim() || undefined;
  const eventBusName = env.EVENT_BUS_NAME?.trim() || undefined;
  if (!topicArn && !eventBusName) throw new ConfigurationError("ALERT_TOPIC_ARN", "or EVENT_BUS_NAME is required: alerts need somewhere to go");
  return createBudgetAlertHandler({
    store: new AggregatesStore(new DynamoDBClient({}), tableName),
    publisher: awsAlertPublisher({ topicArn, eventBusName }),
    defaultBudget: defaultBudgetFromEnv(env),
  });
}

/** Built on first use, so that importing this module needs no environment. */
let configured: ((event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>) | undefined;

/** The Lambda entry point (event source mapping with `ReportBatchItemFailures`). */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>(async (event: DynamoDBStreamEvent) => {
  configured ??= fromEnvironment();
  return configured(event);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
