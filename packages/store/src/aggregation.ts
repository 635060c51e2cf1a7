/**
 * Usage aggregation onto the table's items: the items one invocation updates, and the
 * pre-aggregation of a batch of priced invocations into one delta per item, so that a batch of
 * 500 records for one tenant costs one counter update per item instead of 500.
 */
import { type AttributionDimension, addCounters, countersOf, modelKeyOf, type UsageCounters, type UsageRecord } from "@bedrock-spend/core";
import { breakdownSk, dayModelSk, monthSk, tenantPk } from "./keys";

/** What an invocation contributes to the aggregates: its id (the dedup key), record and cost. */
export interface CountableInvocation {
  record: UsageRecord;
  costPico: bigint | null;
}

/** One aggregate item an invocation touches. */
export interface AggregateKey {
  pk: string;
  sk: string;
  /** Descriptive attributes stored with the counters (tenant, period, model), for readers and streams. */
  attributes: Readonly<Record<string, string>>;
}

/** Options of the key layout. */
export interface AggregationOptions {
  /** Extra per-month breakdowns by attribution dimension (each adds one item per invocation group). */
  breakdowns?: readonly AttributionDimension[];
}

const RECORD_FIELD: Record<AttributionDimension, keyof UsageRecord> = {
  tenantId: "tenant_id",
  tenantGroup: "tenant_group",
  departmentId: "department_id",
  userId: "user_id",
  applicationId: "application_id",
};

/**
 * The aggregate items one invocation updates: the tenant's month total (budgets read it), the
 * tenant's day x model counters (spend by day and by model), and configured breakdowns.
 */
export function aggregateKeysOf(record: UsageRecord, options: AggregationOptions = {}): AggregateKey[] {
  const pk = tenantPk(record.tenant_id);
  const month = `${record.year}-${record.month}`;
  const day = `${month}-${record.day}`;
  const model = modelKeyOf(record);
  const keys: AggregateKey[] = [
    // No `period` on these two: it is the by-period index's key, and an indexed item costs an index
    // write at every counter update. Month totals are ranked by rank entries instead (rank.ts).
    { pk, sk: monthSk(month), attributes: { tenantId: record.tenant_id, month, kind: "month" } },
    { pk, sk: dayModelSk(day, model), attributes: { tenantId: record.tenant_id, day, model, kind: "day-model" } },
  ];
  for (const dimension of options.breakdowns ?? []) {
    const value = record[RECORD_FIELD[dimension]];
    if (typeof value !== "string") continue;
    keys.push({ pk, sk: breakdownSk(month, dimension, value), attributes: { tenantId: record.tenant_id, period: month, dimension, value, kind: "breakdown" } });
  }
  return keys;
}

/** A pre-aggregated delta for one aggregate item. */
export interface AggregateDelta extends AggregateKey {
  counters: UsageCounters;
}

/** Sums invocations into one delta per aggregate item, in first-seen order. */
export function preAggregate(invocations: Iterable<CountableInvocation>, options: AggregationOptions = {}): AggregateDelta[] {
  const deltas = new Map<string, AggregateDelta>();
  for (const invocation of invocations) {
    const counters = countersOf(invocation.record, invocation.costPico);
    for (const key of aggregateKeysOf(invocation.record, options)) {
      const id = `${key.pk}\u0000${key.sk}`;
      const existing = deltas.get(id);
      if (existing) addCounters(existing.counters, counters);
      else deltas.set(id, { ...key, counters: { ...counters } });
    }
  }
  return [...deltas.values()];
}
