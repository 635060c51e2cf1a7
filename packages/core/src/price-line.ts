/**
 * The `bedrock-spend price` output line, one per invocation (the CLI contract the README documents).
 */
import { formatSource } from "./decode/items";
import type { PriceOutcome } from "./pricer";

/** Status of a price line: a usage status, or `invalid` for a record that could not be read. */
export type PriceLineStatus = "priced" | "unpriced" | "invalid";

/** One output line of `bedrock-spend price`. Token counts are exact integers, money an exact decimal string. */
export interface PriceLine {
  requestId: string | null;
  timestamp: string | null;
  tenantId: string | null;
  departmentId: string | null;
  userId: string | null;
  model: string | null;
  modelId: string | null;
  profile: string | null;
  region: string | null;
  operation: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  costUsd: string | null;
  priceVersion: string | null;
  status: PriceLineStatus;
  /** Why a record is unpriced or invalid; for invalid records it starts with the field and ends with the location. */
  reason?: string;
}

/** Maps a priced or invalid outcome to its output line. */
export function toPriceLine(outcome: Exclude<PriceOutcome, { kind: "skipped" }>): PriceLine {
  if (outcome.kind === "usage") {
    const record = outcome.usage.record;
    const line: PriceLine = {
      requestId: record.request_id,
      timestamp: record.event_time,
      tenantId: record.tenant_id,
      departmentId: record.department_id,
      userId: record.user_id,
      model: record.model,
      modelId: record.model_id,
      profile: record.profile,
      region: record.region,
      operation: record.operation,
      inputTokens: record.input_tokens,
      outputTokens: record.output_tokens,
      cacheReadTokens: record.cache_read_tokens,
      cacheWriteTokens: record.cache_write_tokens,
      costUsd: record.cost_usd,
      priceVersion: record.price_version,
      status: record.status,
    };
    if (record.reason !== null) line.reason = record.reason;
    return line;
  }
  const partial = outcome.partial;
  return {
    requestId: partial.requestId ?? null,
    timestamp: partial.timestamp ?? null,
    tenantId: null,
    departmentId: null,
    userId: null,
    model: null,
    modelId: partial.modelId ?? null,
    profile: null,
    region: partial.region ?? null,
    operation: partial.operation ?? null,
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheWriteTokens: null,
    costUsd: null,
    priceVersion: null,
    status: "invalid",
    reason: `${outcome.reason} (at ${formatSource(outcome.source)})`,
  };
}
