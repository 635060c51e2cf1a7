/**
 * Inflating gzip within limits. One input (a Kinesis record, a line of a file, an `awslogs` event)
 * can hold gzip inside base64 inside gzip, up to the classifier's nesting limit, and each level is
 * inflated in memory: a few KB of such input can inflate to gigabytes. Every in-memory inflation
 * of the decoder goes through `inflateWithin`, which asks zlib to stop at the limit
 * (`maxOutputLength`: it gives up as soon as its output passes it) instead of measuring after.
 */
import { constants as bufferConstants } from "node:buffer";
import { gunzipSync } from "node:zlib";

/** Limits on what the decoder inflates in memory. */
export interface InflationLimits {
  /**
   * Most bytes one gzip payload may inflate to. Default `DEFAULT_MAX_INFLATED_BYTES` (64 MiB).
   * A payload that would inflate past it is one `invalid` item (field `gzip`).
   */
  maxInflatedBytes?: number;
  /**
   * Most bytes all the gzip payloads of one input may inflate to together: one call of
   * `decodeBytes` or `decodeText`, one top-level value or line of `decodeStream`. Default
   * `DEFAULT_MAX_TOTAL_INFLATED_BYTES` (256 MiB). A payload refused for a limit still counts what
   * zlib inflated before it stopped, so this also bounds the time one input can take.
   */
  maxTotalInflatedBytes?: number;
}

/**
 * Default `maxInflatedBytes`: 64 MiB. What AWS sends is far smaller: a Kinesis record carries at
 * most 1 MiB, a CloudWatch Logs subscription payload is at most 1 MB compressed, and JSON logs
 * inflate 5 to 10 times (the reference workload: about 8), so a real payload inflates to 10 MB at
 * most; 64 MiB leaves a wide margin and still lets a 1 GB Lambda hold a payload, its text and its
 * parsed records.
 */
export const DEFAULT_MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/**
 * Default `maxTotalInflatedBytes`: 256 MiB, four payloads at their limit. AWS never nests gzip in
 * gzip (one payload per Kinesis record), so only a crafted input comes near it; it bounds what the
 * nesting levels together hold in memory at once, well inside a 1 GB Lambda.
 */
export const DEFAULT_MAX_TOTAL_INFLATED_BYTES = 256 * 1024 * 1024;

/** One input's allowance of inflated bytes, shared by every payload inflated for it. */
export interface InflationBudget {
  /** `maxInflatedBytes`. */
  readonly perPayload: number;
  /** `maxTotalInflatedBytes`. */
  readonly total: number;
  /** Bytes inflated so far for this input (refused payloads included, up to where zlib stopped). */
  used: number;
}

/** What `inflateWithin` gives: the bytes, a refusal for a limit (its reason names the limit), or zlib's error on data that is not gzip. */
export type Inflation = { ok: true; bytes: Buffer } | { ok: false; limit: true; reason: string } | { ok: false; limit: false; message: string };

function positive(value: number | undefined, fallback: number): number {
  if (value === undefined || Number.isNaN(value)) return fallback;
  return Math.max(1, Math.floor(value));
}

/** A fresh budget for one input. */
export function inflationBudget(limits: InflationLimits = {}): InflationBudget {
  return {
    perPayload: positive(limits.maxInflatedBytes, DEFAULT_MAX_INFLATED_BYTES),
    total: positive(limits.maxTotalInflatedBytes, DEFAULT_MAX_TOTAL_INFLATED_BYTES),
    used: 0,
  };
}

function totalReason(what: string, budget: InflationBudget, before: number): string {
  return `${what} would take the input past ${budget.total} inflated bytes, the limit on one input (maxTotalInflatedBytes; ${before} bytes inflated before it)`;
}

/**
 * Inflates gzip `bytes` within what is left of `budget`, and counts what it inflated. Never
 * throws. `what` names the data in a refusal's reason (`gzip data`, `kinesis data`); reasons name
 * limits and sizes, never content.
 */
export function inflateWithin(bytes: Uint8Array, budget: InflationBudget, what: string): Inflation {
  const before = budget.used;
  const left = budget.total - before;
  if (left <= 0) return { ok: false, limit: true, reason: totalReason(what, budget, before) };
  const cap = Math.min(budget.perPayload, left, bufferConstants.MAX_LENGTH);
  try {
    const inflated = gunzipSync(bytes, { maxOutputLength: cap });
    budget.used += inflated.length;
    return { ok: true, bytes: inflated };
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ERR_BUFFER_TOO_LARGE") return { ok: false, limit: false, message: (error as Error).message };
    budget.used += cap;
    if (cap < budget.perPayload) return { ok: false, limit: true, reason: totalReason(what, budget, before) };
    return { ok: false, limit: true, reason: `${what} inflates to more than ${cap} bytes, the limit on one payload (maxInflatedBytes)` };
  }
}
