/**
 * Usage aggregation: the counters kept per aggregate key, and the pre-aggregation of a batch of
 * priced invocations into one delta per key, so that a batch of 500 records for one tenant costs
 * one counter update per key instead of 500.
 */
import type { AttributionDimension } from "./attribution";
import { breakdownSk, dayModelSk, monthSk, tenantPk } from "./keys";
import type { UsageRecord } from "./usage";

/** Counters of one aggregate item. Token counts are safe integers; cost is exact pico-dollars. */
export interface UsageCounters {
  invocations: number;
  /** Invocations that could not be priced: counted in tokens and `invocations`, not in cost. */
  unpricedInvocations: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Exact cost of the priced invocations, pico-dollars. */
  costPico: bigint;
}

/** Counters that are all zero. */
export function emptyCounters(): UsageCounters {
  return { invocations: 0, unpricedInvocations: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costPico: 0n };
}

/** Adds `delta` into `into` (mutates `into`) and returns it. */
export function addCounters(into: UsageCounters, delta: UsageCounters): UsageCounters {
  into.invocations += delta.invocations;
  into.unpricedInvocations += delta.unpricedInvocations;
  into.inputTokens += delta.inputTokens;
  into.outputTokens += delta.outputTokens;
  into.cacheReadTokens += delta.cacheReadTokens;
  into.cacheWriteTokens += delta.cacheWriteTokens;
  into.costPico += delta.costPico;
  return into;
}

/** The counters one invocation contributes. */
export function countersOf(record: UsageRecord, costPico: bigint | null): UsageCounters {
  return {
    invocations: 1,
    unpricedInvocations: costPico === null ? 1 : 0,
    inputTokens: record.input_tokens,
    outputTokens: record.output_tokens,
    cacheReadTokens: record.cache_read_tokens,
    cacheWriteTokens: record.cache_write_tokens,
    costPico: costPico ?? 0n,
  };
}

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
  const model = record.model ?? `unresolved:${record.model_id}`;
  const keys: AggregateKey[] = [
    { pk, sk: monthSk(month), attributes: { tenantId: record.tenant_id, period: month, kind: "month" } },
    { pk, sk: dayModelSk(day, model), attributes: { tenantId: record.tenant_id, period: day, model, kind: "day-model" } },
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
