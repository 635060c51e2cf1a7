/**
 * Table-wide reads the per-tenant store does not offer, for the local CLI and dashboard: every
 * budget, every fired alert, every month total, and which request ids are counted. Scans: fine for a local table,
 * not an access pattern for AWS.
 */
import { type AttributeValue, DescribeTableCommand, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { Budget, UsageCounters } from "@bedrock-spend/core";
import { byCodeUnit } from "@bedrock-spend/core";
import { alertIdOf, budgetFromItem, countersFromItem, MalformedBudgetError, type StoredAlert, storedAlertOf } from "./items";
import { dedupKey } from "./keys";
import { BUDGET_ATTRIBUTES, KIND_ATTRIBUTE, PK, SK } from "./layout";
import { allPages, batchGetAll } from "./pages";
import { TenantRanking } from "./rank";
import { createAggregatesTable, ensurePeriodIndex, ensureUndeliveredAlertsIndex } from "./table";

/** A fired alert with its id and firing time (the dashboard's `AlertItem`). */
export interface FiredAlert extends StoredAlert {
  alertId: string;
}

/** A tenant's own budget. */
export interface TenantBudget {
  tenantId: string;
  budget: Budget;
  updatedAt: string | null;
}

function scanKind(client: DynamoDBClient, tableName: string, kind: string): Promise<Record<string, AttributeValue>[]> {
  return allPages((start) =>
    client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "#kind = :kind",
        ExpressionAttributeNames: { "#kind": KIND_ATTRIBUTE },
        ExpressionAttributeValues: { ":kind": { S: kind } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
}

/** Every fired alert of the table, newest first (then by id). */
export async function scanAlerts(client: DynamoDBClient, tableName: string): Promise<FiredAlert[]> {
  const alerts: FiredAlert[] = [];
  for (const item of await scanKind(client, tableName, "alert")) {
    const alert = storedAlertOf(item);
    alerts.push({ ...alert, alertId: alertIdOf(alert) });
  }
  return alerts.sort((a, b) => byCodeUnit(b.firedAt, a.firedAt) || byCodeUnit(a.alertId, b.alertId));
}

/** Every tenant's own budget, by tenant id. Items that do not read as a budget are skipped. */
export async function scanBudgets(client: DynamoDBClient, tableName: string): Promise<TenantBudget[]> {
  const budgets: TenantBudget[] = [];
  for (const item of await scanKind(client, tableName, "budget")) {
    const tenantId = item[BUDGET_ATTRIBUTES.tenantId]?.S;
    if (tenantId === undefined) continue;
    try {
      budgets.push({ tenantId, budget: budgetFromItem(tenantId, item), updatedAt: item[BUDGET_ATTRIBUTES.updatedAt]?.S ?? null });
    } catch (error) {
      if (!(error instanceof MalformedBudgetError)) throw error;
    }
  }
  return budgets.sort((a, b) => byCodeUnit(a.tenantId, b.tenantId));
}

/** Every tenant's month totals, keyed `<tenant>|<YYYY-MM>`: what a backfill or a reprice is checked against. */
export async function scanMonthTotals(client: DynamoDBClient, tableName: string): Promise<Map<string, UsageCounters>> {
  const totals = new Map<string, UsageCounters>();
  for (const item of await scanKind(client, tableName, "month")) totals.set(`${item.tenantId?.S}|${item.month?.S ?? item.period?.S}`, countersFromItem(item));
  return totals;
}

/** Whether the table exists. */
export async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") return false;
    throw error;
  }
}

/**
 * Creates the aggregates table unless it exists; a table of an earlier version gets the
 * undelivered-alerts and by-period indexes it lacks (`ensureUndeliveredAlertsIndex`, `ensurePeriodIndex`). A table it creates
 * gets its rank marker at 0 (`TenantRanking.markSince`). Returns whether it was created.
 */
export async function ensureAggregatesTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  if (await tableExists(client, tableName)) {
    await ensureUndeliveredAlertsIndex(client, tableName);
    await ensurePeriodIndex(client, tableName);
    return false;
  }
  try {
    await createAggregatesTable(client, tableName);
    // A table created here is consumed from its first change on (local mode's stream mapping
    // starts at the trim horizon): its rank entries are complete from the start.
    await new TenantRanking(client, tableName).markSince(0);
    return true;
  } catch (error) {
    if ((error as Error).name === "ResourceInUseException") return false;
    throw error;
  }
}

/**
 * The request ids among `requestIds` that the table has counted (their dedup marker exists): how
 * `ingest` tells what it counted from what was counted before, whichever process ran the pipeline.
 */
export async function countedRequestIds(client: DynamoDBClient, tableName: string, requestIds: Iterable<string>): Promise<Set<string>> {
  const counted = new Set<string>();
  const byPk = new Map<string, string>();
  for (const requestId of requestIds) byPk.set(dedupKey(requestId).pk, requestId);
  const keys = [...byPk.keys()].map((pk) => ({ [PK]: { S: pk }, [SK]: { S: dedupKey(byPk.get(pk) as string).sk } }));
  for (const item of await batchGetAll(client, tableName, keys, { expression: "#pk", names: { "#pk": PK } })) {
    const requestId = byPk.get(item[PK]?.S ?? "");
    if (requestId !== undefined) counted.add(requestId);
  }
  return counted;
}
