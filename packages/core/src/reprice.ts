/**
 * Repricing history: a usage record already counted, priced again with another catalog. Only the
 * price changes (cost, status, reason, price version); the attribution, the model and the
 * partition stay the record's, so that a reprice never moves usage between tenants or items.
 * Pure: the orchestration is `pipeline/reprice.ts`, the table side `store/reprice-store.ts`.
 */
import type { InvocationLog } from "./invocation";
import { formatUsd, parseUsd } from "./money";
import { isMonthKey, type MonthKey, monthBounds } from "./periods";
import type { Pricer } from "./pricer";
import type { UsageRecord } from "./usage";

/**
 * Days after the end of a month before it is settled: no copy of one of its invocations can still
 * arrive through a retry path (Kinesis keeps records 7 days, the dead-letter queue 14, CloudWatch
 * Logs retries a subscription for a day). A settled month is repriced per aggregate item; an open
 * one per invocation, against its dedup marker (docs/reprice.md).
 */
export const DEFAULT_SETTLE_DAYS = 22;

/** A record's exact cost in pico-dollars; null when it is unpriced (or its cost is not a decimal). */
export function recordCostPico(record: Pick<UsageRecord, "status" | "cost_usd">): bigint | null {
  if (record.status !== "priced" || record.cost_usd === null) return null;
  return parseUsd(String(record.cost_usd)) ?? null;
}

const SERVICE_TIERS: ReadonlySet<string> = new Set(["default", "priority", "flex", "reserved"]);

/** The invocation log a usage record was made from, as far as pricing reads it. */
export function invocationLogOfRecord(record: UsageRecord): InvocationLog {
  return {
    requestId: record.request_id,
    timestamp: Date.parse(record.event_time),
    modelId: record.model_id,
    operation: record.operation,
    accountId: record.account_id,
    region: record.region,
    inferenceRegion: record.inference_region,
    errorCode: record.error_code,
    principalArn: record.principal_arn,
    metadata: record.metadata,
    inputTokens: record.input_tokens,
    outputTokens: record.output_tokens,
    cacheReadTokens: record.cache_read_tokens,
    cacheWriteTokens: record.cache_write_tokens,
    latency: record.latency === "standard" || record.latency === "optimized" ? record.latency : null,
    serviceTier: SERVICE_TIERS.has(record.service_tier ?? "") ? (record.service_tier as InvocationLog["serviceTier"]) : null,
    cacheWrite1hTokens: record.cache_write_1h_tokens,
    latencyMs: record.latency_ms ?? null,
    stopReason: record.stop_reason ?? null,
  };
}

/** The usage columns a reprice changes; every other column of a row stays as delivered. */
export const REPRICED_COLUMNS = [
  "cost_usd",
  "status",
  "reason",
  "price_version",
  "input_cost_usd",
  "output_cost_usd",
  "cache_read_cost_usd",
  "cache_write_cost_usd",
] as const;

/** What a reprice writes of a row: its request id and the repriced columns. */
export type RepricedColumns = Pick<UsageRecord, "request_id" | (typeof REPRICED_COLUMNS)[number]>;

/** A record priced again. */
export interface RepricedRecord {
  /** The record with the new cost, status, reason and price version (everything else as it was). */
  record: UsageRecord;
  /** The new exact cost; null when the new catalog does not price it. */
  costPico: bigint | null;
  /** Whether cost, status, reason or price version differ from the record's. */
  changed: boolean;
}

/** Prices a usage record again with `pricer`, keeping everything but its price. */
export function repriceRecord(record: UsageRecord, pricer: Pricer): RepricedRecord {
  const priced = pricer.price(invocationLogOfRecord(record));
  const next: UsageRecord = {
    ...record,
    cost_usd: priced.record.cost_usd,
    status: priced.record.status,
    reason: priced.record.reason,
    price_version: priced.record.price_version,
    input_cost_usd: priced.record.input_cost_usd,
    output_cost_usd: priced.record.output_cost_usd,
    cache_read_cost_usd: priced.record.cache_read_cost_usd,
    cache_write_cost_usd: priced.record.cache_write_cost_usd,
  };
  const before = recordCostPico(record);
  const changed = before !== priced.costPico || record.status !== next.status || record.reason !== next.reason || record.price_version !== next.price_version;
  return { record: next, costPico: priced.costPico, changed };
}

/** Calendar months `from` to `to`, both included, in order. */
export function monthsBetween(from: MonthKey, to: MonthKey): MonthKey[] {
  if (!isMonthKey(from) || !isMonthKey(to)) throw new RangeError(`months must be YYYY-MM, got ${from} and ${to}`);
  const months: MonthKey[] = [];
  let [year, month] = from.split("-").map(Number) as [number, number];
  for (;;) {
    const key = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}`;
    if (key > to) break;
    months.push(key);
    month++;
    if (month === 13) {
      month = 1;
      year++;
    }
  }
  return months;
}

/** Whether no invocation of `month` can still arrive at `now` (epoch ms): see `DEFAULT_SETTLE_DAYS`. */
export function isSettledMonth(month: MonthKey, now: number, settleDays = DEFAULT_SETTLE_DAYS): boolean {
  return now >= monthBounds(month).end + settleDays * 86_400_000;
}

/** What a reprice changes for one tenant and month. */
export interface TenantMonthChange {
  tenantId: string;
  month: MonthKey;
  /** Counted cost before the reprice, USD, exact decimal. */
  oldCostUsd: string;
  /** Cost under the new catalog, USD, exact decimal. */
  newCostUsd: string;
  /** `newCostUsd - oldCostUsd`, signed. */
  deltaUsd: string;
}

/** The report of a reprice (`bedrock-spend reprice --json`). */
export interface RepriceReport {
  from: MonthKey;
  to: MonthKey;
  /** Version of the catalog the months are repriced with. */
  priceVersion: string;
  /** Distinct invocations of the months read from the lake. */
  invocations: number;
  /** Of those, invocations whose counted cost or price version changes. */
  changed: number;
  /** One entry per tenant-month whose cost changes (or every one, with `--all`), by tenant then month. */
  tenants: TenantMonthChange[];
}

/** An exact, signed USD decimal of pico-dollars: `-0.000120`, `0.000000`. */
export function formatSignedUsd(pico: bigint): string {
  return pico < 0n ? `-${formatUsd(-pico)}` : formatUsd(pico);
}

/** Running totals of one tenant-month during a reprice. */
export interface TenantMonthTally {
  tenantId: string;
  month: MonthKey;
  invocations: number;
  changed: number;
  oldPico: bigint;
  newPico: bigint;
}

/** The report's entry of a tally. */
export function changeOfTally(tally: TenantMonthTally): TenantMonthChange {
  return {
    tenantId: tally.tenantId,
    month: tally.month,
    oldCostUsd: formatUsd(tally.oldPico),
    newCostUsd: formatUsd(tally.newPico),
    deltaUsd: formatSignedUsd(tally.newPico - tally.oldPico),
  };
}
