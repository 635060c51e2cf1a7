/**
 * Attribute names of the aggregates table: its keys, the TTL, and the attributes of each kind of
 * item. Nothing imported at run time, so that the CDK stacks and the SDK's table source use these
 * names, not copies of them.
 */

import type { UsageCounters } from "@bedrock-spend/core";

/** Partition key attribute. */
export const PK = "pk";
/** Sort key attribute. */
export const SK = "sk";
/** TTL attribute (epoch seconds) of dedup items. */
export const TTL_ATTRIBUTE = "expiresAt";
/** Attribute saying what an item is (`month`, `day-model`, `breakdown`, `budget`, `alert`). */
export const KIND_ATTRIBUTE = "kind";

/** Counter attribute names, in `UsageCounters` order. */
export const COUNTER_ATTRIBUTES = {
  invocations: "invocations",
  unpricedInvocations: "unpriced",
  inputTokens: "inputTokens",
  outputTokens: "outputTokens",
  cacheReadTokens: "cacheReadTokens",
  cacheWriteTokens: "cacheWriteTokens",
  costPico: "costPico",
} as const satisfies Record<keyof UsageCounters, string>;

/** Attributes of a budget item. */
export const BUDGET_ATTRIBUTES = { tenantId: "tenantId", monthlyUsd: "monthlyUsd", thresholds: "thresholds", updatedAt: "updatedAt" } as const;

/**
 * Attributes of an alert marker. `undelivered` is there from the alert's firing until its
 * publish is recorded: the key of `UNDELIVERED_ALERTS_INDEX`.
 */
export const ALERT_ATTRIBUTES = {
  alert: "alert",
  firedAt: "firedAt",
  publishedAt: "publishedAt",
  leaseUntil: "leaseUntil",
  undelivered: "undelivered",
} as const;

/**
 * The sparse global secondary index of the alerts fired and not yet published, which the alert
 * sweep reads instead of scanning the table. Only alert markers ever carry its partition key
 * (`undelivered`, always `partition`), and only while undelivered, so the index holds those
 * markers and nothing else, sorted by `firedAt` (ISO 8601 UTC, which sorts as time). It projects
 * `leaseUntil` besides the keys: the sweep takes a marker over with the same conditional update as
 * the stream path, which compares the lease it saw. One partition: its writes are bounded by alert
 * firings (a few per tenant and month), far below a partition's 1,000 writes a second.
 */
export const UNDELIVERED_ALERTS_INDEX = {
  name: "undelivered-alerts",
  partitionKey: ALERT_ATTRIBUTES.undelivered,
  sortKey: ALERT_ATTRIBUTES.firedAt,
  partition: "ALERT",
  projected: [ALERT_ATTRIBUTES.leaseUntil],
} as const;

/**
 * Attributes of a dedup marker beyond its keys: what the invocation was counted at (pico-dollars,
 * `priced` or `unpriced`, the catalog version). Markers written before reprices existed lack them.
 */
export const MARKER_ATTRIBUTES = {
  costPico: "costPico",
  status: "pricing",
  priceVersion: "priceVersion",
  tenantId: "tenantId",
  eventTime: "eventTime",
} as const;

/** Attribute of an aggregate item listing the reprices applied to it (a string set of reprice ids). */
export const REPRICES_ATTRIBUTE = "reprices";

/**
 * The sparse global secondary index of the aggregate items by period, which the cross-tenant
 * report (`GET /v1/spend`) reads instead of scanning the table. Its partition key is the `period`
 * attribute the writer already sets on every aggregate item (`YYYY-MM` on month totals and
 * breakdowns, `YYYY-MM-DD` on day x model items) and on nothing else (no dedup marker, budget or
 * alert carries it), so a Query of one period reads that period's aggregates of every tenant and
 * nothing more. The sort key is the tenant partition (`pk`): high cardinality, so that DynamoDB can
 * split a busy period's index partition by key range. It projects what a report sums.
 */
export const PERIOD_INDEX = {
  name: "by-period",
  partitionKey: "period",
  sortKey: PK,
  projected: [
    "tenantId",
    KIND_ATTRIBUTE,
    "dimension",
    "value",
    "model",
    "updatedAt",
    COUNTER_ATTRIBUTES.invocations,
    COUNTER_ATTRIBUTES.unpricedInvocations,
    COUNTER_ATTRIBUTES.inputTokens,
    COUNTER_ATTRIBUTES.outputTokens,
    COUNTER_ATTRIBUTES.cacheReadTokens,
    COUNTER_ATTRIBUTES.cacheWriteTokens,
    COUNTER_ATTRIBUTES.costPico,
  ],
} as const;
