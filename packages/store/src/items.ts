/**
 * The aggregates table's items as data: the counters of an aggregate item, a budget item, an
 * alert's id and marker, and what a change on the table's stream is about (attribute names in
 * `layout.ts`). Pure (no AWS SDK at run time), so that the budget-alert path, the alert
 * publishers and the dashboard read items from here instead of retyping their layout.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { BedrockSpendError, type Budget, type BudgetAlert, emptyCounters, isMonthKey, type MonthKey, type UsageCounters } from "@bedrock-spend/core";
import { BUDGET_SK, escapeKeyComponent, monthSk, tenantFromPk } from "./keys";
import { ALERT_ATTRIBUTES, BUDGET_ATTRIBUTES, COUNTER_ATTRIBUTES, PK, SK } from "./layout";

/** A DynamoDB attribute value, as far as items are read here (an SDK `AttributeValue` is one). */
export type ItemValue = Pick<AttributeValue, "S" | "N"> & { L?: ItemValue[] | undefined };
/** An item, or a stream image, as far as it is read here. */
export type Item = Record<string, ItemValue>;

/** Reads counters from an aggregate item (absent attributes are zero). */
export function countersFromItem(item: Item | undefined): UsageCounters {
  const counters = emptyCounters();
  if (!item) return counters;
  const number = (name: string): number => Number(item[name]?.N ?? "0");
  counters.invocations = number(COUNTER_ATTRIBUTES.invocations);
  counters.unpricedInvocations = number(COUNTER_ATTRIBUTES.unpricedInvocations);
  counters.inputTokens = number(COUNTER_ATTRIBUTES.inputTokens);
  counters.outputTokens = number(COUNTER_ATTRIBUTES.outputTokens);
  counters.cacheReadTokens = number(COUNTER_ATTRIBUTES.cacheReadTokens);
  counters.cacheWriteTokens = number(COUNTER_ATTRIBUTES.cacheWriteTokens);
  // Cost is an integer count of pico-dollars: parsed as bigint, never as a float.
  counters.costPico = BigInt(item[COUNTER_ATTRIBUTES.costPico]?.N ?? "0");
  return counters;
}

/** The exact cost on a month-total item, pico-dollars; undefined when the item holds no integer cost. */
export function costPicoOfItem(item: Item | undefined): bigint | undefined {
  const cost = item?.[COUNTER_ATTRIBUTES.costPico]?.N;
  return cost !== undefined && /^\d+$/.test(cost) ? BigInt(cost) : undefined;
}

/**
 * A stored budget item that cannot be read as a budget: `monthlyUsd` not a string, or `thresholds`
 * not a list of numbers. The store does not invent values for it (a made-up amount of 0 would
 * fire every threshold); callers decide (the budget-alert path skips the tenant as having an
 * invalid budget, the spend API answers 500, the local budget list leaves it out).
 */
export class MalformedBudgetError extends BedrockSpendError {
  readonly tenantId: string;
  /** The budget attribute that is missing or of the wrong type. */
  readonly field: "monthlyUsd" | "thresholds";
  readonly reason: string;

  constructor(tenantId: string, field: "monthlyUsd" | "thresholds", reason: string) {
    super(`budget of ${JSON.stringify(tenantId)}: ${field} ${reason}`);
    this.name = "MalformedBudgetError";
    this.tenantId = tenantId;
    this.field = field;
    this.reason = reason;
  }
}

/**
 * The budget a budget item holds, as stored (thresholds in ascending order, values not validated:
 * a caller that acts on them checks them with `validateBudget`).
 * @throws MalformedBudgetError when the item does not have the shape of a budget
 */
export function budgetFromItem(tenantId: string, item: Item): Budget {
  const monthlyUsd = item[BUDGET_ATTRIBUTES.monthlyUsd]?.S;
  if (monthlyUsd === undefined) throw new MalformedBudgetError(tenantId, "monthlyUsd", "is missing or not a string");
  const stored = item[BUDGET_ATTRIBUTES.thresholds]?.L;
  if (stored === undefined) throw new MalformedBudgetError(tenantId, "thresholds", "is missing or not a list");
  const thresholds: number[] = [];
  for (const value of stored) {
    if (value.N === undefined) throw new MalformedBudgetError(tenantId, "thresholds", "holds a value that is not a number");
    thresholds.push(Number(value.N));
  }
  return { monthlyUsd, thresholds: thresholds.sort((a, b) => a - b) };
}

/**
 * Identifier of one alert, the same for every delivery of it: the escaped tenant id (so that it
 * never contains `#`), the month and the zero-padded threshold or `FORECAST`, e.g.
 * `acme#2026-11#080`. Subscribers deduplicate on it; it names the alert's fire-once marker too.
 */
export function alertIdOf(alert: Pick<BudgetAlert, "tenantId" | "month" | "threshold">): string {
  const which = alert.threshold === null ? "FORECAST" : String(alert.threshold).padStart(3, "0");
  return `${escapeKeyComponent(alert.tenantId)}#${alert.month}#${which}`;
}

/** A fired alert, as its marker stores it. */
export interface StoredAlert extends BudgetAlert {
  /** When it fired, ISO 8601 UTC ("" when the marker does not say). */
  firedAt: string;
}

/** The alert an alert marker holds, with its firing time. */
export function storedAlertOf(item: Item): StoredAlert {
  return { ...(JSON.parse(item[ALERT_ATTRIBUTES.alert]?.S ?? "{}") as BudgetAlert), firedAt: item[ALERT_ATTRIBUTES.firedAt]?.S ?? "" };
}

/** What a write on the table's stream is about, for the budget-alert path. */
export type TableChange =
  /** A tenant's month total changed: `spendPico` is the new total (undefined without a new image). */
  | { kind: "month"; tenantId: string; month: MonthKey; spendPico: bigint | undefined }
  /** A tenant's budget was set. */
  | { kind: "budget"; tenantId: string };

/**
 * What a stream record's keys and new image say changed, when it is a month total or a budget;
 * undefined for every other item (dedup markers, day and breakdown items, alert markers).
 */
export function tableChangeOf(keys: Item | undefined, newImage: Item | undefined): TableChange | undefined {
  const tenantId = tenantFromPk(keys?.[PK]?.S ?? "");
  if (tenantId === undefined) return undefined;
  const sk = keys?.[SK]?.S ?? "";
  if (sk === BUDGET_SK) return { kind: "budget", tenantId };
  const prefix = monthSk("");
  const month = sk.slice(prefix.length);
  if (!sk.startsWith(prefix) || !isMonthKey(month)) return undefined;
  return { kind: "month", tenantId, month, spendPico: costPicoOfItem(newImage) };
}
