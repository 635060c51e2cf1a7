/**
 * Budget alerts from the aggregates table's change stream: shared by the budget-alert Lambda (on
 * the table's DynamoDB stream) and local mode (a poller on DynamoDB Local's stream).
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
 * 2. Delivery: the winner publishes, then records `publishedAt` on the marker
 *    (`confirmAlertDelivery`). A marker without `publishedAt` is an alert fired but not yet
 *    delivered. If the publish fails, the winner gives its claim back (`releaseAlertClaim`) and its
 *    stream records are reported as failed; the retried batch, or any later evaluation of that
 *    tenant's month, takes the undelivered marker over (`takeUndeliveredAlerts`, a conditional
 *    update of its lease, so only one evaluation does) and publishes the alert stored in it. If the
 *    winner dies between firing and publishing (timeout, crash), its claim lapses after the lease
 *    (15 minutes, the longest a Lambda runs) and the next evaluation of that month delivers it.
 *    When no evaluation comes (the stream's retries ran out and the tenant's month does not change
 *    again), the scheduled sweep (`alert-sweep.ts`) finds the marker in the undelivered-alerts
 *    index and delivers it the same way. Both deliver through `deliverAlert`.
 *
 * So an alert fires once and is never lost; its notification is delivered at least once (twice
 * only when a publish succeeded but recording it did not, or a fan-out publish failed on one
 * channel). Every notification carries `alertId`, the same for each delivery, to drop repeats.
 *
 * Nothing here logs or measures: `processBudgetStream` returns counts and reports what a log
 * would say through `onEvent`, for the caller to log and measure its own way.
 */

import type { AlertPublisher } from "@bedrock-spend/adapters";
import {
  alertsDue,
  BedrockSpendError,
  type Budget,
  type BudgetAlert,
  type Clock,
  compareSequenceNumbers,
  thresholdPico,
  utcMonthOf,
  validateBudget,
} from "@bedrock-spend/core";
import { type AggregatesStore, COUNTER_ATTRIBUTES, type Item, MalformedBudgetError, type TableChange, tableChangeOf } from "@bedrock-spend/store";
import { type AlertDeliveryEvent, deliverAlert } from "./alert-delivery";

/**
 * One record of the aggregates table's change stream, as far as it is read here. Lambda's
 * `DynamoDBRecord` (and what `@bedrock-spend/emulators`'s `DynamoDbStreamReader` returns) is one.
 */
export interface TableStreamRecord {
  eventName?: string | undefined;
  /** `{ type: "Service", principalId: "dynamodb.amazonaws.com" }` on TTL deletes. */
  userIdentity?: unknown;
  dynamodb?:
    | {
        Keys?: Item | undefined;
        NewImage?: Item | undefined;
        OldImage?: Item | undefined;
        SequenceNumber?: string | undefined;
        /** Epoch seconds. */
        ApproximateCreationDateTime?: number | undefined;
      }
    | undefined;
}

/**
 * The part of the aggregates store the alert path uses; `AggregatesStore` is one. `getBudget` may
 * throw a `MalformedBudgetError`, taken as an invalid budget.
 */
export type BudgetAlertStore = Pick<
  AggregatesStore,
  "getBudget" | "monthTotal" | "firedAlerts" | "markAlertFired" | "takeUndeliveredAlerts" | "confirmAlertDelivery" | "releaseAlertClaim"
>;

/** What the alert path reports for the caller to log, each about one tenant's month. */
export type BudgetStreamEvent = { tenantId: string; month: string } & (
  | { type: "alert-redelivering"; alert: BudgetAlert }
  /** Published, failed (its claim given back, or not), or published but not recorded: `deliverAlert`'s events. */
  | AlertDeliveryEvent
  /** The tenant's stored budget does not validate (or cannot be read as a budget): no alerts evaluated. */
  | { type: "invalid-budget"; field: string; reason: string }
  /** The month's records are reported failed, to be retried: a `BudgetAlertError` when alerts were not delivered, else what the store threw. */
  | { type: "evaluation-failed"; error: Error; sequenceNumbers: readonly string[] }
);

/** What the alert path needs. */
export interface BudgetStreamDependencies {
  /** The aggregates table: budgets, month totals, alert markers. */
  store: BudgetAlertStore;
  publisher: AlertPublisher;
  /** The budget of tenants without their own; null for none. */
  defaultBudget: Budget | null;
  /**
   * Clock, epoch ms. When given, it is also the evaluation time of every record (tests, replays at
   * a chosen time); otherwise a record is evaluated at its `ApproximateCreationDateTime`.
   */
  now?: Clock;
  /** Told what happened, for logs; must not throw. */
  onEvent?: (event: BudgetStreamEvent) => void;
}

/** Counts of one batch. */
export interface BudgetStreamStats {
  /** Records in the batch. */
  records: number;
  /** (tenant, month) pairs evaluated. */
  evaluations: number;
  /** Evaluations that failed: their records are to be retried. */
  failedEvaluations: number;
  /** Alerts fired (their marker won) by this batch. */
  fired: number;
  /** Of `fired`, forecast alerts. */
  forecasts: number;
  /** Thresholds reached again after they fired, or fired first by a concurrent evaluation: not fired again. */
  suppressed: number;
  /** Alerts fired earlier and undelivered, taken over for delivery. */
  redelivered: number;
  /** Alerts published. */
  published: number;
  /** Publishes that failed. */
  publishFailures: number;
  /** Stored budgets that do not validate (no alerts evaluated for the tenant). */
  invalidBudgets: number;
}

/** What the batch asks of its event source. */
export interface BudgetStreamResult {
  /** Sequence number of the lowest failed record, to retry from (Lambda's `itemIdentifier`); undefined when all succeeded. */
  retryFrom: string | undefined;
  stats: BudgetStreamStats;
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

/**
 * Evaluates the tenants' months that a batch of stream records changed, fires and delivers their
 * alerts, and says which record to retry from. Never throws: a month whose evaluation or delivery
 * failed has its records reported.
 */
export async function processBudgetStream(records: readonly TableStreamRecord[], deps: BudgetStreamDependencies): Promise<BudgetStreamResult> {
  const stats: BudgetStreamStats = {
    records: records.length,
    evaluations: 0,
    failedEvaluations: 0,
    fired: 0,
    forecasts: 0,
    suppressed: 0,
    redelivered: 0,
    published: 0,
    publishFailures: 0,
    invalidBudgets: 0,
  };
  const failed: string[] = [];
  for (const evaluation of evaluationsOf(records, deps.now)) {
    stats.evaluations++;
    try {
      await evaluate(evaluation, deps, stats);
    } catch (error) {
      stats.failedEvaluations++;
      const { tenantId, month, sequenceNumbers } = evaluation;
      deps.onEvent?.({ type: "evaluation-failed", tenantId, month, error: error as Error, sequenceNumbers });
      failed.push(...evaluation.sequenceNumbers);
    }
  }
  // The event source retries from the lowest failed record on: reporting that one is enough.
  return { retryFrom: failed.sort(compareSequenceNumbers)[0], stats };
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

async function evaluate(evaluation: Evaluation, deps: BudgetStreamDependencies, stats: BudgetStreamStats): Promise<void> {
  const { tenantId, month } = evaluation;
  const clock = deps.now ?? Date.now;
  const emit = (event: DistributiveOmit<BudgetStreamEvent, "tenantId" | "month">) => deps.onEvent?.({ tenantId, month, ...event } as BudgetStreamEvent);
  const errors: Error[] = [];

  /** Publishes a fired alert and records it; on failure gives the claim back and throws. */
  async function deliver(alert: BudgetAlert, leaseUntil: number | undefined): Promise<void> {
    try {
      await deliverAlert(alert, leaseUntil, { store: deps.store, publisher: deps.publisher, clock, emit });
    } catch (error) {
      stats.publishFailures++;
      throw error;
    }
    stats.published++;
  }

  const fired = await deps.store.firedAlerts(tenantId, month);
  if (fired.size > 0) {
    for (const { alert, leaseUntil } of await deps.store.takeUndeliveredAlerts(tenantId, month, clock())) {
      stats.redelivered++;
      emit({ type: "alert-redelivering", alert });
      await deliver(alert, leaseUntil).catch((error: unknown) => errors.push(error as Error));
    }
  }
  const budget = await budgetOf(tenantId, deps, (field, reason) => {
    stats.invalidBudgets++;
    emit({ type: "invalid-budget", field, reason });
  });
  if (budget) {
    const spendPico = evaluation.spendPico ?? (await deps.store.monthTotal(tenantId, month))?.costPico ?? 0n;
    stats.suppressed += budget.thresholds.filter((threshold) => fired.has(threshold) && spendPico >= thresholdPico(budget, threshold)).length;
    for (const alert of alertsDue({ tenantId, month, spendPico, budget, fired, now: evaluation.now })) {
      if (!(await deps.store.markAlertFired(alert, new Date(clock())))) {
        // A concurrent evaluation fired it first: it publishes.
        stats.suppressed++;
        continue;
      }
      stats.fired++;
      if (alert.kind === "forecast") stats.forecasts++;
      await deliver(alert, undefined).catch((error: unknown) => errors.push(error as Error));
    }
  }
  if (errors.length > 0) throw new BudgetAlertError(tenantId, month, errors);
}

/**
 * The tenant's budget, else the default. A stored budget that does not validate, or cannot be read
 * as a budget, is not used (a budget of 0 would fire every threshold): `invalid` is told, and no
 * budget applies.
 */
async function budgetOf(tenantId: string, deps: BudgetStreamDependencies, invalid: (field: string, reason: string) => void): Promise<Budget | null> {
  let stored: Budget | undefined;
  try {
    stored = await deps.store.getBudget(tenantId);
  } catch (error) {
    if (!(error instanceof MalformedBudgetError)) throw error;
    invalid(error.field, error.reason);
    return null;
  }
  if (!stored) return deps.defaultBudget;
  const checked = validateBudget(stored);
  if (checked.ok) return checked.budget;
  invalid(checked.field, checked.reason);
  return null;
}

/** A write that can call for alerts: a tenant's month total, or its budget (the store says which). */
function relevantChange(record: TableStreamRecord): TableChange | undefined {
  // Only writes: a removed budget leaves the default to apply from the next spend on, and REMOVE
  // is also how TTL deletes (by the DynamoDB service principal) arrive.
  if (record.eventName !== "INSERT" && record.eventName !== "MODIFY") return undefined;
  const identity = record.userIdentity as { type?: string; principalId?: string } | undefined;
  if (identity?.type === "Service" && identity.principalId === "dynamodb.amazonaws.com") return undefined;
  // Without a new image (a KEYS_ONLY stream) a month total is read from the table.
  const change = tableChangeOf(record.dynamodb?.Keys, record.dynamodb?.NewImage);
  // A month total whose counters did not change (its rank entry was moved) calls for nothing.
  const { OldImage: before, NewImage: after } = record.dynamodb ?? {};
  if (change?.kind === "month" && before && after && sameCounters(before, after)) return undefined;
  return change;
}

/** Whether two images of an aggregate item hold the same counters. */
function sameCounters(a: Item, b: Item): boolean {
  return Object.values(COUNTER_ATTRIBUTES).every((name) => a[name]?.N === b[name]?.N);
}

/** Groups a batch's relevant records by (tenant, month), keeping the newest spend of each. */
function evaluationsOf(records: readonly TableStreamRecord[], now: Clock | undefined): Evaluation[] {
  const evaluations = new Map<string, Evaluation>();
  for (const record of records) {
    const change = relevantChange(record);
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (!change || !sequenceNumber) continue;
    const seconds = record.dynamodb?.ApproximateCreationDateTime;
    const time = now ? now() : seconds !== undefined ? seconds * 1000 : Date.now();
    // A budget change re-evaluates the month it was made in.
    const month = change.kind === "month" ? change.month : utcMonthOf(time);
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

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
