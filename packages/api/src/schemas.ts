/**
 * The zod schemas of the spend API's requests: the query parameters each route accepts
 * (validation.ts parses requests with them); the bodies it answers with are in
 * response-schemas.ts, which only the document generator imports. docs/openapi.yaml is generated
 * from these same schemas (openapi.ts, `pnpm exec tsx scripts/generate-openapi.ts`), and a test checks that
 * the committed document equals the generated one, so that the document and the validation never
 * drift apart.
 *
 * Written with zod's tree-shakable mini API (`zod/mini`): the spend API Lambda bundles only the
 * parts of zod these schemas use, not the whole of the classic API (443 KiB of an 848 KiB bundle).
 * Each schema is built as the classic chain would build it (one `.check()` per classic method, one
 * `meta()` copy per `.meta()`), so the generated document is the same.
 */
import { isDayKey } from "@bedrock-spend/core";
import * as z from "zod/mini";

/**
 * `schema` with `metadata`, as classic zod's `.meta()` makes it: a copy (whose parent is `schema`,
 * so it inherits the metadata of `schema` but its id) registered in `z.globalRegistry`, which
 * openapi.ts reads the descriptions, ids and examples from. `schema` itself is left as it was.
 */
// @__NO_SIDE_EFFECTS__
export function meta<T extends z.ZodMiniType>(schema: T, metadata: z.core.GlobalMeta): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy, metadata);
  return copy;
}

/** A calendar month in UTC. */
export const MonthSchema = meta(z.string().check(z.regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)), {
  description: "A calendar month in UTC, `YYYY-MM`.",
  example: "2026-11",
});

/** A calendar day in UTC (the pattern, then a real date: no February 30). */
export const DaySchema = meta(
  z
    .string()
    .check(z.regex(/^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/))
    .check(z.refine(isDayKey)),
  { description: "A calendar day in UTC, `YYYY-MM-DD`.", example: "2026-11-27" },
);

/** What `by` breaks a tenant's spend down by: model and day from the day x model items, the rest from the breakdown items. */
export const SPEND_BY = ["model", "day", "tenantGroup", "department", "application", "user"] as const;
export type SpendBy = (typeof SPEND_BY)[number];

/** What the cross-tenant report groups by. */
export const REPORT_GROUP_BY = ["tenant", "tenantGroup", "department", "application", "user", "model"] as const;
export type ReportGroupBy = (typeof REPORT_GROUP_BY)[number];

/** Largest page of the cross-tenant report. */
export const MAX_REPORT_LIMIT = 1000;
/** Default page of the cross-tenant report. */
export const DEFAULT_REPORT_LIMIT = 100;

/** Query of `GET /v1/tenants/{tenantId}/spend`. */
export const SpendQuerySchema = z.strictObject({
  month: meta(z.optional(MonthSchema), { description: "The month (UTC); the current month when neither month nor day is given." }),
  day: meta(z.optional(DaySchema), { description: "One day (UTC) instead of a month." }),
  by: meta(z.optional(z.enum(SPEND_BY)), {
    description:
      "Adds `breakdown`: by model or day (from the day x model aggregates), or by tenantGroup, department, application or user (from the monthly breakdowns the aggregator writes for the dimensions in `AGGREGATE_BREAKDOWNS`; months only).",
  }),
});

/** Query of `GET /v1/tenants/{tenantId}/alerts`. */
export const AlertsQuerySchema = z.strictObject({
  month: meta(z.optional(MonthSchema), { description: "Only the alerts of this month (UTC); every month when absent." }),
});

/** Query of `GET /v1/spend`. */
export const ReportQuerySchema = z.strictObject({
  month: meta(z.optional(MonthSchema), { description: "The month (UTC); the current month when neither month nor from/to is given." }),
  from: meta(z.optional(z.union([DaySchema, MonthSchema])), {
    description: "First day (`YYYY-MM-DD`) or month (`YYYY-MM`, its first day) of the period, inclusive; with `to`.",
  }),
  to: meta(z.optional(z.union([DaySchema, MonthSchema])), {
    description: "Last day (`YYYY-MM-DD`) or month (`YYYY-MM`, its last day) of the period, inclusive; at most 366 days after `from`.",
  }),
  groupBy: meta(z.optional(z.enum(REPORT_GROUP_BY)), {
    description:
      "What a group is: a tenant (default), a model, or a tenantGroup, department, application or user (from the monthly breakdowns written for the dimensions in `AGGREGATE_BREAKDOWNS`: whole months only).",
  }),
  limit: meta(z.optional(z.int().check(z.minimum(1)).check(z.maximum(MAX_REPORT_LIMIT))), {
    description: `Groups per page, default ${DEFAULT_REPORT_LIMIT}.`,
  }),
  cursor: meta(z.optional(z.string().check(z.minLength(1)).check(z.maxLength(1024))), {
    description: "The `nextCursor` of the previous page, as it was; only valid with the same period and groupBy.",
  }),
});
