/**
 * Validation of everything a caller sends: the tenant id in the path, the queries (with the zod
 * schemas of schemas.ts, the ones docs/openapi.yaml is generated from) and the budget body. Each
 * failure is a 400 that names the offending input.
 */
import { type Budget, isMetadataText, normalizeId, utcMonthOf, validateBudget } from "@bedrock-spend/core";
import * as z from "zod/mini";
import { badRequest, quote } from "./http";
import {
  AlertsQuerySchema,
  DEFAULT_REPORT_LIMIT,
  MAX_REPORT_LIMIT,
  REPORT_GROUP_BY,
  type ReportGroupBy,
  ReportQuerySchema,
  SPEND_BY,
  type SpendBy,
  SpendQuerySchema,
} from "./schemas";

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

/** Checks one query value with its zod schema (schemas.ts); a failure is a 400 naming the parameter. */
function checked<T>(schema: z.core.$ZodType<T>, name: string, value: unknown, message: string, allowed?: readonly string[]): T {
  const result = z.safeParse(schema, value);
  if (!result.success) throw badRequest(name, message, allowed);
  return result.data;
}

/** The schema of one parameter of a query schema, without its `optional` wrapper. */
function parameter(schema: z.ZodMiniObject, name: string): z.core.$ZodType {
  const field = schema.shape[name] as z.core.$ZodType;
  return field instanceof z.ZodMiniOptional ? field._zod.def.innerType : field;
}

const monthMessage = (name: string, value: string) => `${name} must be YYYY-MM (UTC), got ${quote(value)}`;
const dayMessage = (name: string, value: string) => `${name} must be a calendar day YYYY-MM-DD (UTC), got ${quote(value)}`;

/** What the spend route was asked for. */
export interface SpendQuery {
  period: { month: string } | { day: string };
  by?: SpendBy;
}

/**
 * Reads `month=YYYY-MM` or `day=YYYY-MM-DD` (not both; the current UTC month when neither) and
 * `by` (`SPEND_BY`; the breakdown dimensions only with a month).
 */
export function parseSpendQuery(query: Record<string, string | undefined>, now: Date): SpendQuery {
  const { month, day, by } = query;
  if (month !== undefined && day !== undefined) throw badRequest("day", "give either month or day, not both");
  let period: SpendQuery["period"];
  if (day !== undefined) period = { day: checked(parameter(SpendQuerySchema, "day"), "day", day, dayMessage("day", day)) as string };
  else if (month !== undefined) period = { month: checked(parameter(SpendQuerySchema, "month"), "month", month, monthMessage("month", month)) as string };
  else period = { month: utcMonthOf(now.getTime()) };
  if (by === undefined) return { period };
  const parsed = checked(parameter(SpendQuerySchema, "by"), "by", by, `by must be one of ${SPEND_BY.join(", ")}; got ${quote(by, 40)}`, SPEND_BY) as SpendBy;
  if (parsed !== "model" && parsed !== "day" && "day" in period) {
    throw badRequest("by", `by=${parsed} needs a month: breakdowns by ${parsed} are kept per month`);
  }
  return { period, by: parsed };
}

/** Reads the optional `month` of the alerts route. */
export function parseAlertsQuery(query: Record<string, string | undefined>): { month?: string } {
  const { month } = query;
  if (month === undefined) return {};
  return { month: checked(parameter(AlertsQuerySchema, "month"), "month", month, monthMessage("month", month)) as string };
}

/** What the cross-tenant report was asked for. */
export interface ReportQuery {
  groupBy: ReportGroupBy;
  /** First and last day of the period, inclusive. */
  from: string;
  to: string;
  /** `YYYY-MM`, or `YYYY-MM-DD/YYYY-MM-DD`. */
  period: string;
  limit: number;
  /** The raw cursor, checked against the period and groupBy by the report. */
  cursor?: string;
}

/** Longest from/to range of the report, days. */
export const MAX_REPORT_DAYS = 366;

function lastDayOf(month: string): string {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(year, monthNumber, 0)).getUTCDate()).padStart(2, "0")}`;
}

function rangeEnd(name: "from" | "to", value: string): string {
  const schema = parameter(ReportQuerySchema, name);
  checked(schema, name, value, `${name} must be a day YYYY-MM-DD or a month YYYY-MM (UTC), got ${quote(value)}`);
  if (value.length === 10) return value;
  return name === "from" ? `${value}-01` : lastDayOf(value);
}

/**
 * Reads the report's period (`month`, or `from` and `to`, days or months, inclusive; the current
 * month when none), `groupBy` (default tenant), `limit` (default 100) and `cursor`.
 */
export function parseReportQuery(query: Record<string, string | undefined>, now: Date): ReportQuery {
  const { month, from, to, groupBy, limit, cursor } = query;
  if (month !== undefined && (from !== undefined || to !== undefined))
    throw badRequest(from !== undefined ? "from" : "to", "give either month or from and to, not both");
  if ((from === undefined) !== (to === undefined)) throw badRequest(from === undefined ? "from" : "to", "from and to go together");
  let range: { from: string; to: string; period: string };
  if (from !== undefined && to !== undefined) {
    const first = rangeEnd("from", from);
    const last = rangeEnd("to", to);
    if (last < first) throw badRequest("to", `to (${last}) is before from (${first})`);
    const days = (Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000 + 1;
    if (days > MAX_REPORT_DAYS) throw badRequest("to", `the period is ${days} days long; at most ${MAX_REPORT_DAYS}`);
    const wholeMonth = first.endsWith("-01") && last === lastDayOf(first.slice(0, 7));
    range = { from: first, to: last, period: wholeMonth ? first.slice(0, 7) : `${first}/${last}` };
  } else {
    const chosen =
      month === undefined
        ? utcMonthOf(now.getTime())
        : (checked(parameter(ReportQuerySchema, "month"), "month", month, monthMessage("month", month)) as string);
    range = { from: `${chosen}-01`, to: lastDayOf(chosen), period: chosen };
  }
  const group = (
    groupBy === undefined
      ? "tenant"
      : checked(
          parameter(ReportQuerySchema, "groupBy"),
          "groupBy",
          groupBy,
          `groupBy must be one of ${REPORT_GROUP_BY.join(", ")}; got ${quote(groupBy, 40)}`,
          REPORT_GROUP_BY,
        )
  ) as ReportGroupBy;
  let size = DEFAULT_REPORT_LIMIT;
  if (limit !== undefined) {
    const message = `limit must be an integer from 1 to ${MAX_REPORT_LIMIT}, got ${quote(limit, 20)}`;
    if (!/^[0-9]{1,7}$/.test(limit)) throw badRequest("limit", message);
    size = checked(parameter(ReportQuerySchema, "limit"), "limit", Number(limit), message) as number;
  }
  if (cursor !== undefined) checked(parameter(ReportQuerySchema, "cursor"), "cursor", cursor, "the cursor is not one this API issued");
  return { groupBy: group, ...range, limit: size, ...(cursor === undefined ? {} : { cursor }) };
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
