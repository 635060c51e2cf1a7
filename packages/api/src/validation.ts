/**
 * Validation of everything a caller sends: the tenant id in the path, the query of the spend
 * route and the budget body. Each failure is a 400 that names the offending input.
 */
import { type Budget, isDayKey, isMetadataText, isMonthKey, normalizeId, type SpendBreakdownBy, utcMonthOf, validateBudget } from "@bedrock-spend/core";
import { badRequest, quote } from "./http";

/** Longest tenant id: a Bedrock `requestMetadata` value holds at most 256 characters. */
export const MAX_TENANT_ID_LENGTH = 256;

/** A reprice id (`20261202T100000123Z-abc123`): 1-128 of `A-Z a-z 0-9 . _ -`. */
export function parseRepriceId(rawSegment: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(rawSegment)) throw badRequest("repriceId", `the reprice id ${quote(rawSegment)} is not one: 1-128 of A-Z a-z 0-9 . _ -`);
  return rawSegment;
}

/**
 * Decodes and checks the `{tenantId}` path segment: it must percent-decode (UTF-8) to 1-256
 * characters of the metadata alphabet. Decoding happens exactly once, so `acme%2523` names
 * `acme%23` (refused: `%` is not a metadata character), never `acme#`. The id is normalized as
 * the pipeline normalizes it (`normalizeId`: `acme%20` names `acme`); one that is only whitespace
 * is refused.
 */
export function parseTenantId(rawSegment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawSegment);
  } catch (error) {
    if (error instanceof URIError) throw badRequest("tenantId", `the tenant id ${quote(rawSegment)} is not valid percent-encoding`);
    throw error;
  }
  const tenantId = normalizeId(decoded);
  if (tenantId.length === 0) {
    throw badRequest("tenantId", decoded.length === 0 ? "the tenant id is empty" : "the tenant id is empty once its surrounding whitespace is removed");
  }
  if (tenantId.length > MAX_TENANT_ID_LENGTH) {
    throw badRequest("tenantId", `the tenant id is ${tenantId.length} characters long; Bedrock metadata values hold at most ${MAX_TENANT_ID_LENGTH}`);
  }
  // Tenant ids come from requestMetadata values only: the same alphabet (no `%`, `?`, non-ASCII).
  if (!isMetadataText(tenantId)) {
    throw badRequest(
      "tenantId",
      `the tenant id ${quote(tenantId)} has characters a Bedrock metadata value cannot hold (allowed: a-z A-Z 0-9 whitespace : _ @ $ # = / + , - .)`,
    );
  }
  return tenantId;
}

/** Refuses query parameters the route does not define. */
export function rejectUnknownParameters(query: Record<string, string | undefined>, allowed: readonly string[]): void {
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || allowed.includes(name)) continue;
    const expected = allowed.length === 0 ? "this route takes no query parameters" : `expected ${allowed.join(", ")}`;
    throw badRequest(name, `unknown query parameter ${quote(name, 40)}: ${expected}`);
  }
}

/** What the spend route was asked for. */
export interface SpendQuery {
  period: { month: string } | { day: string };
  by?: SpendBreakdownBy;
}

/**
 * Reads `month=YYYY-MM` or `day=YYYY-MM-DD` (not both; the current UTC month when neither) and
 * `by=model|day`.
 */
export function parseSpendQuery(query: Record<string, string | undefined>, now: Date): SpendQuery {
  const { month, day, by } = query;
  if (month !== undefined && day !== undefined) throw badRequest("day", "give either month or day, not both");
  let period: SpendQuery["period"];
  if (day !== undefined) {
    if (!isDayKey(day)) throw badRequest("day", `day must be a calendar day YYYY-MM-DD (UTC), got ${quote(day)}`);
    period = { day };
  } else if (month !== undefined) {
    if (!isMonthKey(month)) throw badRequest("month", `month must be YYYY-MM (UTC), got ${quote(month)}`);
    period = { month };
  } else {
    period = { month: utcMonthOf(now.getTime()) };
  }
  if (by === undefined) return { period };
  if (by !== "model" && by !== "day") throw badRequest("by", `by must be model or day, got ${quote(by)}`);
  return { period, by };
}

/** Parses and validates the body of `PUT .../budget`. */
export function parseBudgetBody(body: string | null): Budget {
  if (body === null || body.trim() === "") throw badRequest("body", 'a JSON budget is required, e.g. {"monthlyUsd":"100.00","thresholds":[50,80,100]}');
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    throw badRequest("body", "the body is not valid JSON");
  }
  const result = validateBudget(input);
  if (!result.ok) throw badRequest(result.field, `${result.field} ${result.reason}`);
  return result.budget;
}
