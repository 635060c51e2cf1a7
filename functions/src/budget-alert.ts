/**
 * Budget alerts: the Lambda on the aggregates table's DynamoDB stream.
 *
 * A month total that changed (a tenant spent), or a budget that changed, makes the tenant's month
 * be evaluated against its budget (or the default budget): each threshold reached fires once per
 * (tenant, month, threshold), and a projected month-end overspend fires one forecast alert per
 * month (invariant 6). Periods are calendar months in UTC and part of every key, so a new month
 * starts with no alert fired (invariant 5).
 *
 * Firing and delivery are two steps:
 * 1. Firing: the conditional put of the alert's marker (`AggregatesStore.markAlertFired`). Exactly
 *    one evaluation wins it, however many run at once (retried batches, parallel shards, a budget
 *    change and a spend change together); only the winner publishes.
 * 2. Delivery: the winner publishes, then records `publishedAt` on the marker. A marker without
 *    `publishedAt` is an alert fired but not yet delivered. If the publish fails, the winner gives
 *    its claim back (`leaseUntil` set to now) and reports its stream records as failed; the
 *    retried batch, or any later evaluation of that tenant's month, takes the undelivered marker
 *    over (a conditional update of its lease, so only one evaluation does) and publishes the alert
 *    stored in it. If the winner dies between firing and publishing (timeout, crash), its claim
 *    lapses after the lease (15 minutes, the longest a Lambda runs) and the next evaluation of that
 *    month delivers it.
 *
 * So an alert fires once and is never lost; its notification is delivered at least once (twice
 * only when a publish succeeded but recording it did not, or a fan-out publish failed on one
 * channel). Every notification carries `alertId`, the same for each delivery, to drop repeats.
 */

import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { type AlertPublisher, alertIdOf, awsAlertPublisher } from "@bedrock-spend/adapters";
import {
  alertMonthPrefix,
  alertSk,
  alertsDue,
  BedrockSpendError,
  BUDGET_SK,
  type Budget,
  type BudgetAlert,
  ConfigurationError,
  isMonthKey,
  tenantFromPk,
  tenantPk,
  thresholdPico,
  validateBudget,
} from "@bedrock-spend/core";
import { AggregatesStore, PK, SK } from "@bedrock-spend/store";
import middy from "@middy/core";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { defaultBudgetFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** How long a claim on an alert's delivery holds: the longest a Lambda invocation can run. */
export const DEFAULT_DELIVERY_LEASE_MS = 15 * 60 * 1000;

/** An undelivered alert taken over by this evaluation, with the lease it now holds. */
export interface TakenAlert {
  alert: BudgetAlert;
  leaseUntil: number;
}

/**
 * Delivery state of fired alerts, on their markers in the aggregates table: `publishedAt` once
 * published, `leaseUntil` (epoch ms) while an evaluation that took the marker over delivers it.
 * A marker has neither between its firing and its first publish; its firer's claim then lasts
 * `firedAt` + the lease.
 */
export class AlertDeliveryLedger {
  private readonly leaseMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: { leaseMs?: number } = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_DELIVERY_LEASE_MS;
  }

  /** Records that the alert was published. */
  async confirm(alert: BudgetAlert, now: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(alert),
        UpdateExpression: "SET publishedAt = :at REMOVE leaseUntil",
        ConditionExpression: "attribute_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PK },
        ExpressionAttributeValues: { ":at": { S: new Date(now).toISOString() } },
      }),
    );
  }

  /**
   * Gives back a claim whose publish failed, so that the next evaluation delivers the alert at
   * once rather than after the lease. `leaseUntil` is the lease taken with `takeUndelivered`, or
   * undefined for the firer's own claim. Does nothing if another evaluation took the alert over.
   */
  async release(alert: BudgetAlert, leaseUntil: number | undefined, now: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(alert),
          UpdateExpression: "SET leaseUntil = :now",
          ConditionExpression:
            leaseUntil === undefined
              ? "attribute_not_exists(publishedAt) AND attribute_not_exists(leaseUntil)"
              : "attribute_not_exists(publishedAt) AND leaseUntil = :mine",
          ExpressionAttributeValues: { ":now": { N: String(now) }, ...(leaseUntil === undefined ? {} : { ":mine": { N: String(leaseUntil) } }) },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }

  /**
   * The fired but undelivered alerts of a tenant's month whose claim has lapsed, each now leased
   * to the caller (a conditional update, so that concurrent evaluations never take the same one).
   */
  async takeUndelivered(tenantId: string, month: string, now: number): Promise<TakenAlert[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        FilterExpression: "attribute_not_exists(publishedAt)",
        ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
        ExpressionAttributeValues: { ":pk": { S: tenantPk(tenantId) }, ":prefix": { S: alertMonthPrefix(month) } },
        ConsistentRead: true,
      }),
    );
    const taken: TakenAlert[] = [];
    // At most 11 markers per tenant and month (10 thresholds and the forecast): one page.
    for (const item of result.Items ?? []) {
      const seen = item.leaseUntil?.N;
      const claimedUntil = seen === undefined ? Date.parse(item.firedAt?.S ?? "") + this.leaseMs : Number(seen);
      // An unreadable firedAt (NaN) counts as lapsed: delivering twice beats never.
      if (claimedUntil > now) continue;
      const leaseUntil = now + this.leaseMs;
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [PK]: item[PK] ?? { S: "" }, [SK]: item[SK] ?? { S: "" } },
            UpdateExpression: "SET leaseUntil = :until ADD deliveryAttempts :one",
            ConditionExpression: `attribute_not_exists(publishedAt) AND ${seen === undefined ? "attribute_not_exists(leaseUntil)" : "leaseUntil = :seen"}`,
            ExpressionAttributeValues: { ":until": { N: String(leaseUntil) }, ":one": { N: "1" }, ...(seen === undefined ? {} : { ":seen": { N: seen } }) },
          }),
        );
      } catch (error) {
        if ((error as Error).name === "ConditionalCheckFailedException") continue;
        throw error;
      }
      taken.push({ alert: JSON.parse(item.alert?.S ?? "{}") as BudgetAlert, leaseUntil });
    }
    return taken;
  }

  private key(alert: BudgetAlert) {
    return { [PK]: { S: tenantPk(alert.tenantId) }, [SK]: { S: alertSk(alert.month, alert.threshold ?? "FORECAST") } };
  }
}

/** What the handler needs. */
export interface BudgetAlertDependencies {
  store: AggregatesStore;
  /** Delivery state of fired alerts; on the same table as `store`. */
  ledger: AlertDeliveryLedger;
  publisher: AlertPublisher;
  /** The budget of tenants without their own; null for none. */
  defaultBudget: Budget | null;
  /**
   * Clock, epoch ms. When given, it is also the evaluation time of every record (tests, replays at
   * a chosen time); otherwise a record is evaluated at its `ApproximateCreationDateTime`.
   */
  now?: () => number;
}

/** One (tenant, month) to evaluate, from the records of a batch. */
interface Evaluation {
  tenantId: string;
  month: string;
  /** Newest spend seen in the batch (the largest: totals only grow); undefined when only the budget changed. */
  spendPico: bigint | undefined;
  /** Evaluation time, epoch ms: the newest record's. */
  now: number;
  sequenceNumbers: string[];
}

/** A tenant's month could not be fully evaluated or its alerts not all delivered. */
export class BudgetAlertError extends BedrockSpendError {
  readonly tenantId: string;
  readonly month: string;
  readonly errors: readonly Error[];

  constructor(tenantId: string, month: string, errors: readonly Error[]) {
    super(`${tenantId} ${month}: ${errors.map((error) => error.message).join("; ")}`, { cause: errors[0] });
    this.name = "BudgetAlertError";
    this.tenantId = tenantId;
    this.month = month;
    this.errors = errors;
  }
}

/** The handler's logic, with its dependencies injected. */
export function createBudgetAlertHandler(deps: BudgetAlertDependencies): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const clock = deps.now ?? Date.now;

  /** Publishes a fired alert and records it; on failure gives the claim back and throws. */
  async function deliver(alert: BudgetAlert, leaseUntil: number | undefined): Promise<void> {
    try {
      await deps.publisher.publish(alert);
    } catch (error) {
      metrics.addMetric("AlertPublishFailures", MetricUnit.Count, 1);
      await deps.ledger.release(alert, leaseUntil, clock()).catch((releaseError: unknown) => {
        // The claim then lapses by itself after the lease.
        logger.error("could not release the alert's delivery claim", { alertId: alertIdOf(alert), error: releaseError as Error });
      });
      throw error;
    }
    logger.info("budget alert published", { alertId: alertIdOf(alert), kind: alert.kind, threshold: alert.threshold, spendUsd: alert.spendUsd });
    await deps.ledger.confirm(alert, clock()).catch((error: unknown) => {
      // Published: not a failure of the record. The marker stays undelivered and is published
      // again once its claim lapses (at least once, deduplicated by alertId downstream).
      logger.warn("alert published but not recorded as published", { alertId: alertIdOf(alert), error: error as Error });
    });
  }

  async function evaluate(evaluation: Evaluation): Promise<void> {
    const { tenantId, month } = evaluation;
    const errors: Error[] = [];
    const fired = await deps.store.firedAlerts(tenantId, month);
    if (fired.size > 0) {
      for (const { alert, leaseUntil } of await deps.ledger.takeUndelivered(tenantId, month, clock())) {
        logger.info("delivering an alert fired earlier", { alertId: alertIdOf(alert) });
        metrics.addMetric("AlertsRedelivered", MetricUnit.Count, 1);
        await deliver(alert, leaseUntil).catch((error: unknown) => errors.push(error as Error));
      }
    }
    const budget = await budgetOf(tenantId);
    if (budget) {
      const spendPico = evaluation.spendPico ?? (await deps.store.monthTotal(tenantId, month))?.costPico ?? 0n;
      const repeats = budget.thresholds.filter((threshold) => fired.has(threshold) && spendPico >= thresholdPico(budget, threshold)).length;
      if (repeats > 0) metrics.addMetric("AlertsSuppressed", MetricUnit.Count, repeats);
      for (const alert of alertsDue({ tenantId, month, spendPico, budget, fired, now: evaluation.now })) {
        if (!(await deps.store.markAlertFired(alert, new Date(clock())))) {
          // A concurrent evaluation fired it first: it publishes.
          metrics.addMetric("AlertsSuppressed", MetricUnit.Count, 1);
          continue;
        }
        metrics.addMetric("AlertsFired", MetricUnit.Count, 1);
        if (alert.kind === "forecast") metrics.addMetric("ForecastAlerts", MetricUnit.Count, 1);
        await deliver(alert, undefined).catch((error: unknown) => errors.push(error as Error));
      }
    }
    if (errors.length > 0) throw new BudgetAlertError(tenantId, month, errors);
  }

  /** The tenant's budget, else the default. A stored budget that does not validate is not used: a budget of 0 would fire every threshold. */
  async function budgetOf(tenantId: string): Promise<Budget | null> {
    const stored = await deps.store.getBudget(tenantId);
    if (!stored) return deps.defaultBudget;
    const checked = validateBudget(stored);
    if (checked.ok) return checked.budget;
    logger.error("stored budget is invalid; no alerts evaluated", { field: checked.field, reason: checked.reason });
    metrics.addMetric("InvalidBudgets", MetricUnit.Count, 1);
    return null;
  }

  return async (event) => {
    const failed: string[] = [];
    for (const evaluation of evaluationsOf(event.Records ?? [], deps.now)) {
      logger.appendKeys({ tenantId: evaluation.tenantId, month: evaluation.month });
      try {
        await evaluate(evaluation);
      } catch (error) {
        logger.error("budget evaluation failed; its records will be retried", { error: error as Error });
        failed.push(...evaluation.sequenceNumbers);
      } finally {
        logger.removeKeys(["tenantId", "month"]);
      }
    }
    // The event source retries from the lowest failed record on: reporting that one is enough.
    const lowest = failed.sort(compareSequenceNumbers)[0];
    return { batchItemFailures: lowest === undefined ? [] : [{ itemIdentifier: lowest }] };
  };
}

/** A record that can call for alerts: a tenant's month total, or its budget. */
type Relevant = { tenantId: string; kind: "month"; month: string; spendPico: bigint | undefined } | { tenantId: string; kind: "budget" };

function relevantChange(record: DynamoDBRecord): Relevant | undefined {
  // Only writes: a removed budget leaves the default to apply from the next spend on, and REMOVE
  // is also how TTL deletes (by the DynamoDB service principal) arrive.
  if (record.eventName !== "INSERT" && record.eventName !== "MODIFY") return undefined;
  const identity = record.userIdentity as { type?: string; principalId?: string } | undefined;
  if (identity?.type === "Service" && identity.principalId === "dynamodb.amazonaws.com") return undefined;
  const tenantId = tenantFromPk(record.dynamodb?.Keys?.[PK]?.S ?? "");
  const sk = record.dynamodb?.Keys?.[SK]?.S ?? "";
  // Dedup items (R#), day and breakdown items (D#, B#) and alert markers (A#) are not looked at.
  if (tenantId === undefined) return undefined;
  if (sk === BUDGET_SK) return { tenantId, kind: "budget" };
  if (!sk.startsWith("M#") || !isMonthKey(sk.slice(2))) return undefined;
  const cost = record.dynamodb?.NewImage?.costPico?.N;
  // Without a new image (a KEYS_ONLY stream) the total is read from the table.
  return { tenantId, kind: "month", month: sk.slice(2), spendPico: cost !== undefined && /^\d+$/.test(cost) ? BigInt(cost) : undefined };
}

/** Groups a batch's relevant records by (tenant, month), keeping the newest spend of each. */
function evaluationsOf(records: readonly DynamoDBRecord[], now: (() => number) | undefined): Evaluation[] {
  const evaluations = new Map<string, Evaluation>();
  for (const record of records) {
    const change = relevantChange(record);
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (!change || !sequenceNumber) continue;
    const seconds = record.dynamodb?.ApproximateCreationDateTime;
    const time = now ? now() : seconds !== undefined ? seconds * 1000 : Date.now();
    // A budget change re-evaluates the month it was made in.
    const month = change.kind === "month" ? change.month : new Date(time).toISOString().slice(0, 7);
    const key = `${change.tenantId}\u0000${month}`;
    const spendPico = change.kind === "month" ? change.spendPico : undefined;
    const current = evaluations.get(key);
    if (!current) {
      evaluations.set(key, { tenantId: change.tenantId, month, spendPico, now: time, sequenceNumbers: [sequenceNumber] });
      continue;
    }
    current.sequenceNumbers.push(sequenceNumber);
    current.now = Math.max(current.now, time);
    if (spendPico !== undefined && (current.spendPico === undefined || spendPico > current.spendPico)) current.spendPico = spendPico;
  }
  return [...evaluations.values()];
}

/** Stream sequence numbers are decimal strings of any length: compared as numbers. */
function compareSequenceNumbers(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const difference = BigInt(a) - BigInt(b);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Built from the environment on first use, so that importing this module needs none:
 * TABLE_NAME; ALERT_TOPIC_ARN and/or EVENT_BUS_NAME; DEFAULT_BUDGET_USD, DEFAULT_BUDGET_THRESHOLDS.
 */
let configured: ((event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>) | undefined;

function fromEnvironment(env: NodeJS.ProcessEnv = process.env): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const tableName = requireEnv("TABLE_NAME", env);
  const topicArn = env.ALERT_TOPIC_ARN?.trim() || undefined;
  const eventBusName = env.EVENT_BUS_NAME?.trim() || undefined;
  if (!topicArn && !eventBusName) throw new ConfigurationError("ALERT_TOPIC_ARN", "or EVENT_BUS_NAME is required: alerts need somewhere to go");
  const client = new DynamoDBClient({});
  return createBudgetAlertHandler({
    store: new AggregatesStore(client, tableName),
    ledger: new AlertDeliveryLedger(client, tableName),
    publisher: awsAlertPublisher({ topicArn, eventBusName }),
    defaultBudget: defaultBudgetFromEnv(env),
  });
}

/** The Lambda entry point (event source mapping with `ReportBatchItemFailures`). */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>(async (event: DynamoDBStreamEvent) => {
  configured ??= fromEnvironment();
  return configured(event);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
