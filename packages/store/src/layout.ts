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
