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

/** Attributes of an alert marker. */
export const ALERT_ATTRIBUTES = { alert: "alert", firedAt: "firedAt", publishedAt: "publishedAt", leaseUntil: "leaseUntil" } as const;

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
