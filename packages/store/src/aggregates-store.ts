/**
 * Reads of the aggregates table (spend by month, day and model), budgets and alert markers.
 * Keys come from `@bedrock-spend/core` (escaped components), so no input can address another
 * tenant's items.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from "@aws-sdk/client-dynamodb";
import {
  alertMonthPrefix,
  alertSk,
  BUDGET_SK,
  type Budget,
  type BudgetAlert,
  type DayModelRow,
  dayModelDayPrefix,
  dayModelMonthPrefix,
  monthSk,
  parseDayModelSk,
  tenantFromPk,
  tenantPk,
  type UsageCounters,
} from "@bedrock-spend/core";
import { countersFromItem, PK, SK } from "./table";

/** A fired alert, as stored. */
export interface StoredAlert extends BudgetAlert {
  firedAt: string;
}

/** Reads and small writes of the aggregates table. */
export class AggregatesStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** A tenant's month total, or undefined when nothing was counted that month. */
  async monthTotal(tenantId: string, month: string): Promise<UsageCounters | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), monthSk(month)), ConsistentRead: true }),
    );
    return result.Item ? countersFromItem(result.Item) : undefined;
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

  /** The tenant's own budget, if set. */
  async getBudget(tenantId: string): Promise<Budget | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(tenantPk(tenantId), BUDGET_SK), ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    return {
      monthlyUsd: result.Item.monthlyUsd?.S ?? "0",
      thresholds: (result.Item.thresholds?.L ?? []).map((value) => Number(value.N)).sort((a, b) => a - b),
    };
  }

  /** Sets the tenant's budget (replacing any previous one). */
  async putBudget(tenantId: string, budget: Budget, now = new Date()): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(tenantPk(tenantId), BUDGET_SK),
          tenantId: { S: tenantId },
          kind: { S: "budget" },
          monthlyUsd: { S: budget.monthlyUsd },
          thresholds: { L: budget.thresholds.map((value) => ({ N: String(value) })) },
          updatedAt: { S: now.toISOString() },
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
            ...this.key(tenantPk(alert.tenantId), alertSk(alert.month, alert.threshold ?? "FORECAST")),
            kind: { S: "alert" },
            alert: { S: JSON.stringify(alert) },
            firedAt: { S: now.toISOString() },
          },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PK },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /** Alerts fired for a tenant (all months, newest first). */
  async alerts(tenantId: string): Promise<StoredAlert[]> {
    const items = await this.queryPrefix(tenantPk(tenantId), "A#");
    return items
      .map((item) => ({ ...(JSON.parse(item.alert?.S ?? "{}") as BudgetAlert), firedAt: item.firedAt?.S ?? "" }))
      .sort((a, b) => b.firedAt.localeCompare(a.firedAt));
  }

  /** The tenant a partition key belongs to (for stream readers). */
  static tenantOf(pk: string): string | undefined {
    return tenantFromPk(pk);
  }

  private key(pk: string, sk: string): Record<string, AttributeValue> {
    return { [PK]: { S: pk }, [SK]: { S: sk } };
  }

  private async queryPrefix(pk: string, prefix: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: QueryCommandOutput["LastEvaluatedKey"];
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": { S: pk }, ":prefix": { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
