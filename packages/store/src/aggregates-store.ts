/**
 * Reads of the aggregates table (spend by month, day and model), budgets and alert markers.
 * Keys come from `keys.ts` (escaped components), so no input can address another tenant's items.
 *
 * This class is the one owner of the alert-marker items (`A#<month>#<threshold>`): firing
 * (`markAlertFired`), reading (`firedAlerts`, `alerts`) and their delivery state
 * (`takeUndeliveredAlerts`, `undeliveredAlerts`, `takeUndeliveredAlert`, `confirmAlertDelivery`,
 * `releaseAlertClaim`).
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Budget, BudgetAlert, DayModelRow, UsageCounters } from "@bedrock-spend/core";
import { budgetFromItem, countersFromItem, type StoredAlert, storedAlertOf } from "./items";
import {
  ALERT_SK_PREFIX,
  alertMonthPrefix,
  alertSk,
  BUDGET_SK,
  breakdownSk,
  dayModelDayPrefix,
  dayModelMonthPrefix,
  monthSk,
  parseDayModelSk,
  tenantFromPk,
  tenantPk,
  unescapeKeyComponent,
} from "./keys";
import { ALERT_ATTRIBUTES, BUDGET_ATTRIBUTES, KIND_ATTRIBUTE, PERIOD_INDEX, PK, SK, UNDELIVERED_ALERTS_INDEX } from "./layout";
import { allPages } from "./pages";
import { type RankChange, type RankedTotal, TenantRanking } from "./rank";

/** How long a claim on an alert's delivery holds by default: the longest a Lambda invocation can run. */
export const DEFAULT_DELIVERY_LEASE_MS = 15 * 60 * 1000;

/** An undelivered alert taken over by an evaluation, with the lease it now holds (epoch ms). */
export interface TakenAlert {
  alert: BudgetAlert;
  leaseUntil: number;
}

/**
 * An alert marker the undelivered-alerts index lists (`AggregatesStore.undeliveredAlerts`), as the
 * index last saw it: eventually consistent, so possibly published or taken over since.
 */
export interface UndeliveredAlertRef {
  tenantId: string;
  /** The marker's sort key (`A#<month>#<threshold>`). */
  sk: string;
  /** When it fired, ISO 8601 UTC. */
  firedAt: string;
  /** The lease the index saw (epoch ms, as stored); undefined while the firer's own claim stands. */
  leaseUntil: string | undefined;
}

/** Counters of one aggregate item with when they last changed (epoch seconds; undefined when the item does not say). */
export interface TimedCounters {
  counters: UsageCounters;
  updatedAt: number | undefined;
}

/** One row of a tenant's monthly breakdown (`B#<month>#<dimension>#<value>` items). */
export interface BreakdownRow extends TimedCounters {
  value: string;
}

/** Which aggregate items of a period the by-period index is asked for. */
export type PeriodSelector = { kind: "month" } | { kind: "day-model" } | { kind: "breakdown"; dimension: string };

/** One aggregate item of a period, from the by-period index, with the attributes a report groups by. */
export interface PeriodItem extends TimedCounters {
  tenantId: string;
  /** The model of a day x model item, the value of a breakdown item; undefined for a month total. */
  key: string | undefined;
}

/** Options of an `AggregatesStore`. */
export interface AggregatesStoreOptions {
  /** How long a claim on an alert's delivery holds, ms (default `DEFAULT_DELIVERY_LEASE_MS`). */
  alertLeaseMs?: number;
}

/** Reads and small writes of the aggregates table. */
export class AggregatesStore {
  private readonly alertLeaseMs: number;
  private readonly ranking: TenantRanking;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: AggregatesStoreOptions = {},
  ) {
    this.alertLeaseMs = options.alertLeaseMs ?? DEFAULT_DELIVERY_LEASE_MS;
    this.ranking = new TenantRanking(client, tableName);
  }

  /** Moves a month total's rank entry (`TenantRanking.move`); false when a newer move came first. */
  moveRank(change: RankChange): Promise<boolean> {
    return this.ranking.move(change);
  }

  /** Puts a month total's rank entry where its cost calls for, reading the total (`TenantRanking.sync`). */
  syncRank(tenantId: string, month: string): Promise<boolean> {
    return this.ranking.sync(tenantId, month);
  }

  /** The tenants of a month's top rank buckets (`TenantRanking.candidates`). */
  rankCandidates(month: string, enough: number, startBucket?: number): Promise<{ tenantIds: string[]; buckets: number }> {
    return this.ranking.candidates(month, enough, startBucket);
  }

  /** These tenants' month totals (`TenantRanking.totals`). */
  rankedTotals(month: string, tenantIds: readonly string[]): Promise<RankedTotal[]> {
    return this.ranking.totals(month, tenantIds);
  }

  /** Whether a month's rank entries list all its totals (`TenantRanking.complete`). */
  rankComplete(month: string): Promise<boolean> {
    return this.ranking.complete(month);
  }

  /** Puts every total of a month in its rank entry and records the month complete (`TenantRanking.syncMonth`). */
  syncRankMonth(month: string, nowSeconds: number, segments?: number): Promise<{ totals: number; moved: number }> {
    return this.ranking.syncMonth(month, nowSeconds, segments);
  }

  /** Since when the rank entries follow every change, epoch seconds (`TenantRanking.since`). */
  rankSince(): Promise<number | undefined> {
    return this.ranking.since();
  }

  /** Writes the rank marker unless it exists; returns its value (`TenantRanking.markSince`). */
  markRankSince(seconds: number): Promise<number> {
    return this.ranking.markSince(seconds);
  }

  /** The table's item count, refreshed by AWS about every six hours (`TenantRanking.approximateItemCount`). */
  approximateItemCount(): Promise<number | undefined> {
    return this.ranking.approximateItemCount();
  }

  /** A tenant's month total, or undefined when nothing was counted that month. */
  async monthTotal(tenantId: string, month: string): Promise<UsageCounters | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), monthSk(month)), ConsistentRead: true }),
    );
    return result.Item ? countersFromItem(result.Item) : undefined;
  }

  /** A tenant's month total with when it last changed, or undefined when nothing was counted that month. */
  async monthTotalTimed(tenantId: string, month: string): Promise<TimedCounters | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), monthSk(month)), ConsistentRead: true }),
    );
    return result.Item ? { counters: countersFromItem(result.Item), updatedAt: updatedAtOf(result.Item) } : undefined;
  }

  /** A tenant's breakdown rows of one month by one dimension (written when the aggregator is configured with it). */
  async breakdownRows(tenantId: string, month: string, dimension: string): Promise<BreakdownRow[]> {
    const prefix = breakdownSk(month, dimension, "");
    return (await this.queryPrefix(tenantPk(tenantId), prefix)).map((item) => ({
      value: unescapeKeyComponent((item[SK]?.S ?? "").slice(prefix.length)),
      counters: countersFromItem(item),
      updatedAt: updatedAtOf(item),
    }));
  }

  /**
   * Every tenant's aggregate items of one period (`YYYY-MM` for month totals and breakdowns,
   * `YYYY-MM-DD` for day x model items), from the by-period index: one Query of the period's
   * index partition, paged, eventually consistent (an index cannot be read otherwise), filtered to
   * the selected kind (and dimension). Costs half a read unit per 4 KB of the period's items.
   */
  async periodItems(period: string, selector: PeriodSelector): Promise<PeriodItem[]> {
    const names: Record<string, string> = { "#period": PERIOD_INDEX.partitionKey, "#kind": KIND_ATTRIBUTE };
    const values: Record<string, AttributeValue> = { ":period": { S: period }, ":kind": { S: selector.kind } };
    let filter = "#kind = :kind";
    if (selector.kind === "breakdown") {
      names["#dimension"] = "dimension";
      values[":dimension"] = { S: selector.dimension };
      filter += " AND #dimension = :dimension";
    }
    const items = await allPages((start) =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PERIOD_INDEX.name,
          KeyConditionExpression: "#period = :period",
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const rows: PeriodItem[] = [];
    for (const item of items) {
      const tenantId = tenantFromPk(item[PK]?.S ?? "");
      if (tenantId === undefined) continue;
      const key = selector.kind === "day-model" ? item.model?.S : selector.kind === "breakdown" ? item.value?.S : undefined;
      if (selector.kind !== "month" && key === undefined) continue;
      rows.push({ tenantId, key, counters: countersFromItem(item), updatedAt: updatedAtOf(item) });
    }
    return rows;
  }

  /** A tenant's day x model rows of one month (or of one day). */
  async dayModelRows(tenantId: string, period: { month: string } | { day: string }): Promise<DayModelRow[]> {
    const prefix = "month" in period ? dayModelMonthPrefix(period.month) : dayModelDayPrefix(period.day);
    const rows: DayModelRow[] = [];
    for (const item of await this.queryPrefix(tenantPk(tenantId), prefix)) {
      const parsed = parseDayModelSk(item[SK]?.S ?? "");
      if (parsed) rows.push({ ...parsed, counters: countersFromItem(item) });
    }
    return rows;
  }

  /** The latest month in which the tenant has usage counted, or undefined when it has none. */
  async latestMonthWithUsage(tenantId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
        ExpressionAttributeValues: { ":pk": { S: tenantPk(tenantId) }, ":prefix": { S: monthSk("") } },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const sk = result.Items?.[0]?.[SK]?.S;
    return sk === undefined ? undefined : sk.slice(monthSk("").length);
  }

  /** Whether the tenant has any item at all (usage, budget or alerts). */
  async tenantExists(tenantId: string): Promise<boolean> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": PK },
        ExpressionAttributeValues: { ":pk": { S: tenantPk(tenantId) } },
        Limit: 1,
        ProjectionExpression: "#pk",
        ConsistentRead: true,
      }),
    );
    return (result.Items?.length ?? 0) > 0;
  }

  /**
   * The tenant's own budget, if set, as stored (thresholds in ascending order). The values are not
   * validated: a caller that acts on them checks them with `validateBudget`. Throws a
   * `MalformedBudgetError` when the item does not have the shape of a budget (a missing or
   * wrongly typed attribute), rather than inventing a value for it.
   */
  async getBudget(tenantId: string): Promise<Budget | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), BUDGET_SK), ConsistentRead: true }),
    );
    return result.Item ? budgetFromItem(tenantId, result.Item) : undefined;
  }

  /** Sets the tenant's budget (replacing any previous one). */
  async putBudget(tenantId: string, budget: Budget, now = new Date()): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(tenantPk(tenantId), BUDGET_SK),
          [BUDGET_ATTRIBUTES.tenantId]: { S: tenantId },
          [KIND_ATTRIBUTE]: { S: "budget" },
          [BUDGET_ATTRIBUTES.monthlyUsd]: { S: budget.monthlyUsd },
          [BUDGET_ATTRIBUTES.thresholds]: { L: budget.thresholds.map((value) => ({ N: String(value) })) },
          [BUDGET_ATTRIBUTES.updatedAt]: { S: now.toISOString() },
        },
      }),
    );
  }

  /** Removes the tenant's budget; returns whether there was one. */
  async deleteBudget(tenantId: string): Promise<boolean> {
    const result = await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), BUDGET_SK), ReturnValues: "ALL_OLD" }),
    );
    return result.Attributes !== undefined;
  }

  /** Thresholds (and `FORECAST`) already fired for the tenant and month. */
  async firedAlerts(tenantId: string, month: string): Promise<Set<number | "FORECAST">> {
    const fired = new Set<number | "FORECAST">();
    for (const item of await this.queryPrefix(tenantPk(tenantId), alertMonthPrefix(month))) {
      const suffix = (item[SK]?.S ?? "").slice(alertMonthPrefix(month).length);
      fired.add(suffix === "FORECAST" ? "FORECAST" : Number(suffix));
    }
    return fired;
  }

  /**
   * Records an alert as fired, once: a conditional put on its (tenant, month, threshold) marker.
   * Returns true when this call fired it, false when it had fired already (a concurrent or
   * earlier evaluation won).
   */
  async markAlertFired(alert: BudgetAlert, now = new Date()): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...this.alertKey(alert),
            [KIND_ATTRIBUTE]: { S: "alert" },
            [ALERT_ATTRIBUTES.alert]: { S: JSON.stringify(alert) },
            [ALERT_ATTRIBUTES.firedAt]: { S: now.toISOString() },
            [ALERT_ATTRIBUTES.undelivered]: { S: UNDELIVERED_ALERTS_INDEX.partition },
          },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PK },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  // Delivery state of fired alerts, on their markers: `publishedAt` once published, `leaseUntil`
  // (epoch ms) while an evaluation that took the marker over delivers it. A marker has neither
  // between its firing and its first publish; its firer's claim then lasts `firedAt` + the lease.
  // `undelivered` lists the marker in the undelivered-alerts index until `publishedAt` is set.

  /** Records that the alert was published (`now`: epoch ms), which takes it out of the undelivered-alerts index. */
  async confirmAlertDelivery(alert: BudgetAlert, now: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.alertKey(alert),
        UpdateExpression: "SET publishedAt = :at REMOVE leaseUntil, #undelivered",
        ConditionExpression: "attribute_exists(#pk)",
        ExpressionAttributeNames: { "#pk": PK, "#undelivered": ALERT_ATTRIBUTES.undelivered },
        ExpressionAttributeValues: { ":at": { S: new Date(now).toISOString() } },
      }),
    );
  }

  /**
   * Gives back a claim whose publish failed, so that the next evaluation delivers the alert at
   * once rather than after the lease. `leaseUntil` is the lease taken with `takeUndeliveredAlerts`,
   * or undefined for the firer's own claim. Does nothing if another evaluation took the alert over.
   */
  async releaseAlertClaim(alert: BudgetAlert, leaseUntil: number | undefined, now: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.alertKey(alert),
          UpdateExpression: "SET leaseUntil = :now",
          ConditionExpression:
            leaseUntil === undefined
              ? "attribute_not_exists(publishedAt) AND attribute_not_exists(leaseUntil)"
              : "attribute_not_exists(publishedAt) AND leaseUntil = :mine",
          ExpressionAttributeValues: { ":now": { N: String(now) }, ...(leaseUntil === undefined ? {} : { ":mine": { N: String(leaseUntil) } }) },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }

  /**
   * The fired but undelivered alerts of a tenant's month whose claim has lapsed, each now leased
   * to the caller until `now` + the lease (a conditional update, so that concurrent evaluations
   * never take the same one).
   */
  async takeUndeliveredAlerts(tenantId: string, month: string, now: number): Promise<TakenAlert[]> {
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
      const alert = await this.takeOver({ [PK]: item[PK] ?? { S: "" }, [SK]: item[SK] ?? { S: "" } }, item.leaseUntil?.N, item.firedAt?.S, now);
      if (alert) taken.push(alert);
    }
    return taken;
  }

  /**
   * Fired alerts not yet published, fired from `firedFrom` to `firedUntil` (epoch ms, both
   * included), oldest first, at most `limit`: a Query of the sparse undelivered-alerts index, which
   * holds nothing else, so that its cost follows the undelivered alerts, not the table (half a read
   * unit when there are none). Eventually consistent: an alert published a moment ago may still be
   * listed; `takeUndeliveredAlert` then refuses it.
   */
  async undeliveredAlerts(range: { firedFrom: number; firedUntil: number; limit: number }): Promise<UndeliveredAlertRef[]> {
    const refs: UndeliveredAlertRef[] = [];
    if (range.limit < 1) return refs;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: UNDELIVERED_ALERTS_INDEX.name,
          KeyConditionExpression: "#partition = :partition AND #firedAt BETWEEN :from AND :until",
          ExpressionAttributeNames: { "#partition": UNDELIVERED_ALERTS_INDEX.partitionKey, "#firedAt": UNDELIVERED_ALERTS_INDEX.sortKey },
          ExpressionAttributeValues: {
            ":partition": { S: UNDELIVERED_ALERTS_INDEX.partition },
            ":from": { S: new Date(range.firedFrom).toISOString() },
            ":until": { S: new Date(range.firedUntil).toISOString() },
          },
          Limit: range.limit - refs.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const tenantId = tenantFromPk(item[PK]?.S ?? "");
        if (tenantId === undefined) continue;
        refs.push({ tenantId, sk: item[SK]?.S ?? "", firedAt: item.firedAt?.S ?? "", leaseUntil: item.leaseUntil?.N });
      }
      start = page.LastEvaluatedKey;
    } while (start && refs.length < range.limit);
    return refs;
  }

  /**
   * Takes over one alert `undeliveredAlerts` listed, as `takeUndeliveredAlerts` does (the same
   * conditional update): when its claim has lapsed at `now`, it is leased to the caller until `now`
   * + the lease. Undefined when it is still claimed, or was published or taken over since the
   * index saw it.
   */
  async takeUndeliveredAlert(ref: UndeliveredAlertRef, now: number): Promise<TakenAlert | undefined> {
    return this.takeOver(this.key(tenantPk(ref.tenantId), ref.sk), ref.leaseUntil, ref.firedAt, now);
  }

  /** Alerts fired for a tenant (all months, newest first). */
  async alerts(tenantId: string): Promise<StoredAlert[]> {
    const items = await this.queryPrefix(tenantPk(tenantId), ALERT_SK_PREFIX);
    return items.map(storedAlertOf).sort((a, b) => b.firedAt.localeCompare(a.firedAt));
  }

  /** The tenant a partition key belongs to (for stream readers). */
  static tenantOf(pk: string): string | undefined {
    return tenantFromPk(pk);
  }

  /**
   * Leases an undelivered marker to the caller when its claim has lapsed at `now`: `seen` is the
   * lease read (undefined: the firer's claim, until `firedAt` + the lease). The update is
   * conditional on that lease being unchanged, so that of concurrent takers (stream evaluations,
   * sweeps) exactly one wins. It lists the marker in the undelivered-alerts index too, for markers
   * fired before the index existed.
   */
  private async takeOver(
    key: Record<string, AttributeValue>,
    seen: string | undefined,
    firedAt: string | undefined,
    now: number,
  ): Promise<TakenAlert | undefined> {
    const claimedUntil = seen === undefined ? Date.parse(firedAt ?? "") + this.alertLeaseMs : Number(seen);
    // An unreadable firedAt (NaN) counts as lapsed: delivering twice beats never.
    if (claimedUntil > now) return undefined;
    const leaseUntil = now + this.alertLeaseMs;
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "SET leaseUntil = :until, #undelivered = :undelivered ADD deliveryAttempts :one",
          ConditionExpression: `attribute_exists(#pk) AND attribute_not_exists(publishedAt) AND ${seen === undefined ? "attribute_not_exists(leaseUntil)" : "leaseUntil = :seen"}`,
          ExpressionAttributeNames: { "#pk": PK, "#undelivered": ALERT_ATTRIBUTES.undelivered },
          ExpressionAttributeValues: {
            ":until": { N: String(leaseUntil) },
            ":undelivered": { S: UNDELIVERED_ALERTS_INDEX.partition },
            ":one": { N: "1" },
            ...(seen === undefined ? {} : { ":seen": { N: seen } }),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return { alert: JSON.parse(result.Attributes?.[ALERT_ATTRIBUTES.alert]?.S ?? "{}") as BudgetAlert, leaseUntil };
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  private key(pk: string, sk: string): Record<string, AttributeValue> {
    return { [PK]: { S: pk }, [SK]: { S: sk } };
  }

  private alertKey(alert: BudgetAlert): Record<string, AttributeValue> {
    return this.key(tenantPk(alert.tenantId), alertSk(alert.month, alert.threshold ?? "FORECAST"));
  }

  private queryPrefix(pk: string, prefix: string): Promise<Record<string, AttributeValue>[]> {
    return allPages((start) =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": { S: pk }, ":prefix": { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
  }
}

/** `updatedAt` of an aggregate item (epoch seconds), or undefined. */
function updatedAtOf(item: Record<string, AttributeValue>): number | undefined {
  const value = Number(item.updatedAt?.N);
  return Number.isFinite(value) ? value : undefined;
}

function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error).name === "ConditionalCheckFailedException";
}
