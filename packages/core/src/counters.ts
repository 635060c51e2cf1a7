/**
 * Usage counters: what every aggregate, spend answer, report and dashboard figure counts, one
 * type for all of them. Token counts are safe integers; cost is exact pico-dollars.
 */
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

/** Tokens of all four classes: input + output + cache read + cache write. */
export function totalTokensOf(counters: UsageCounters): number {
  return counters.inputTokens + counters.outputTokens + counters.cacheReadTokens + counters.cacheWriteTokens;
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
