/**
 * The zod schemas of the spend API: the query parameters each route accepts (validation.ts parses
 * requests with them) and the bodies it answers with. docs/openapi.yaml is generated from these
 * same schemas (openapi.ts, `pnpm exec tsx scripts/generate-openapi.ts`), and a test checks that
 * the committed document equals the generated one, so that the document and the validation never
 * drift apart.
 */
import { isDayKey } from "@bedrock-spend/core";
import { z } from "zod";

/** A calendar month in UTC. */
export const MonthSchema = z
  .string()
  .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)
  .meta({ description: "A calendar month in UTC, `YYYY-MM`.", example: "2026-11" });

/** A calendar day in UTC (the pattern, then a real date: no February 30). */
export const DaySchema = z
  .string()
  .regex(/^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/)
  .refine(isDayKey)
  .meta({ description: "A calendar day in UTC, `YYYY-MM-DD`.", example: "2026-11-27" });

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
  month: MonthSchema.optional().meta({ description: "The month (UTC); the current month when neither month nor day is given." }),
  day: DaySchema.optional().meta({ description: "One day (UTC) instead of a month." }),
  by: z.enum(SPEND_BY).optional().meta({
    description:
      "Adds `breakdown`: by model or day (from the day x model aggregates), or by tenantGroup, department, application or user (from the monthly breakdowns the aggregator writes for the dimensions in `AGGREGATE_BREAKDOWNS`; months only).",
  }),
});

/** Query of `GET /v1/tenants/{tenantId}/alerts`. */
export const AlertsQuerySchema = z.strictObject({
  month: MonthSchema.optional().meta({ description: "Only the alerts of this month (UTC); every month when absent." }),
});

/** Query of `GET /v1/spend`. */
export const ReportQuerySchema = z.strictObject({
  month: MonthSchema.optional().meta({ description: "The month (UTC); the current month when neither month nor from/to is given." }),
  from: z
    .union([DaySchema, MonthSchema])
    .optional()
    .meta({ description: "First day (`YYYY-MM-DD`) or month (`YYYY-MM`, its first day) of the period, inclusive; with `to`." }),
  to: z
    .union([DaySchema, MonthSchema])
    .optional()
    .meta({ description: "Last day (`YYYY-MM-DD`) or month (`YYYY-MM`, its last day) of the period, inclusive; at most 366 days after `from`." }),
  groupBy: z.enum(REPORT_GROUP_BY).optional().meta({
    description:
      "What a group is: a tenant (default), a model, or a tenantGroup, department, application or user (from the monthly breakdowns written for the dimensions in `AGGREGATE_BREAKDOWNS`: whole months only).",
  }),
  limit: z
    .int()
    .min(1)
    .max(MAX_REPORT_LIMIT)
    .optional()
    .meta({ description: `Groups per page, default ${DEFAULT_REPORT_LIMIT}.` }),
  cursor: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .meta({ description: "The `nextCursor` of the previous page, as it was; only valid with the same period and groupBy." }),
});

const count = z.int().nonnegative();

/** An exact decimal USD amount. */
export const UsdAmountSchema = z
  .string()
  .regex(/^[0-9]+\.[0-9]{6,12}$/)
  .meta({ id: "UsdAmount", description: "Exact decimal USD, never rounded (pico-dollar precision)." });

const totals = {
  invocations: count,
  unpricedInvocations: count.meta({ description: "Invocations no price matched; counted in tokens and invocations, not in costUsd." }),
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  costUsd: UsdAmountSchema,
};

/** Totals of one breakdown key. */
export const SpendBreakdownRowSchema = z
  .strictObject({ key: z.string(), ...totals })
  .meta({ id: "SpendBreakdownRow", description: "Totals of one breakdown key (a base model id, a `YYYY-MM-DD` day, or a breakdown value)." });

/** A budget as stored. */
export const BudgetSchema = z
  .strictObject({
    monthlyUsd: z
      .string()
      .regex(/^[0-9]+\.[0-9]{2,12}$/)
      .meta({ description: "Monthly amount in USD, at least two fractional digits." }),
    thresholds: z.array(z.int().min(1).max(1000)).min(1).max(10).meta({ description: "Alert thresholds in percent of the budget, ascending and distinct." }),
  })
  .meta({ id: "Budget" });

/** The body of `PUT .../budget` (checked further by `validateBudget` of the core). */
export const BudgetInputSchema = z
  .strictObject({
    monthlyUsd: z
      .union([
        z
          .string()
          .max(40)
          .regex(/^\s*[0-9]+(\.[0-9]{1,12})?\s*$/),
        z.number().gt(0).max(1e12),
      ])
      .meta({
        description:
          "A positive amount in USD of at most 1000000000000 (1e12), at most 12 fractional digits; a decimal string is exact and at most 40 characters long.",
      }),
    thresholds: z
      .array(z.int().min(1).max(1000))
      .min(1)
      .max(10)
      .optional()
      .meta({ description: "Default [50, 80, 100]. Duplicates are dropped and the list is sorted." }),
  })
  .meta({ id: "BudgetInput" });

/** The month-end projection of a tenant's spend. */
export const ForecastSchema = z
  .strictObject({
    month: MonthSchema,
    costUsd: UsdAmountSchema.meta({
      description: "Projected month-end spend: the spend so far scaled linearly by the elapsed time of the month, as the forecast alert computes it.",
    }),
  })
  .meta({ id: "Forecast", description: "Null before a tenth of the month has passed (too early to say) and for a day's spend." });

/** A tenant's spend for a period. */
export const SpendSchema = z
  .strictObject({
    tenantId: z.string(),
    period: z
      .string()
      .regex(/^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$/)
      .meta({ description: "The month `YYYY-MM` or the day `YYYY-MM-DD` asked for." }),
    ...totals,
    budget: BudgetSchema.nullable(),
    asOf: z.iso.datetime().nullable().meta({
      description:
        "When the aggregates of this tenant's month (the day's month for a day) last changed (UTC, whole seconds); null when nothing is counted for it. A tenant with no usage is answered with zeros, not 404.",
    }),
    forecast: ForecastSchema.nullable(),
    breakdown: z.array(SpendBreakdownRowSchema).optional().meta({ description: "Present when `by` is given; by cost, highest first (by day: in day order)." }),
  })
  .meta({ id: "Spend", description: "A tenant's spend for a period; the object `bedrock-spend spend --json` prints, plus asOf and forecast." });

/** One fired alert. */
export const AlertSchema = z
  .strictObject({
    alertId: z.string().meta({ description: "`<tenant>#<month>#<threshold or FORECAST>`, the id notifications carry." }),
    kind: z.enum(["threshold", "forecast"]),
    threshold: z.int().nullable().meta({ description: "Percent of the budget; null for the forecast alert." }),
    month: MonthSchema,
    spendUsd: UsdAmountSchema,
    budgetUsd: z.string(),
    forecastUsd: UsdAmountSchema,
    firedAt: z.string().meta({ description: "When it fired, ISO 8601 UTC." }),
  })
  .meta({ id: "Alert" });

/** A tenant's fired alerts. */
export const AlertListSchema = z
  .strictObject({ tenantId: z.string(), alerts: z.array(AlertSchema).meta({ description: "Newest first." }) })
  .meta({ id: "AlertList" });

/** One group of the cross-tenant report. */
export const ReportGroupSchema = z
  .strictObject({ key: z.string().meta({ description: "The tenant id, model, or breakdown value." }), ...totals })
  .meta({ id: "ReportGroup" });

/** A page of the cross-tenant report. */
export const ReportSchema = z
  .strictObject({
    period: z.string().meta({ description: "`YYYY-MM`, or `YYYY-MM-DD/YYYY-MM-DD` for a from/to range (inclusive)." }),
    groupBy: z.enum(REPORT_GROUP_BY),
    groups: z.array(ReportGroupSchema).meta({ description: "By cost, highest first; ties by key (code-unit order)." }),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last page." }),
    asOf: z.iso.datetime().nullable().meta({ description: "When the newest aggregate item read last changed (UTC, whole seconds); null when none." }),
  })
  .meta({ id: "Report" });

/** A tenant's budget as the API shows it. */
export const BudgetResourceSchema = z
  .strictObject({
    tenantId: z.string(),
    budget: BudgetSchema.nullable(),
    source: z.enum(["tenant", "default", "none"]).meta({ description: "tenant (its own budget), default (the deployment's DEFAULT_BUDGET_USD) or none." }),
  })
  .meta({ id: "BudgetResource" });

const yearMonth = z.string().regex(/^[0-9]{4}-[0-9]{2}$/);

/** One reprice's audit record. */
export const RepriceAuditSchema = z
  .strictObject({
    id: z.string(),
    status: z.enum(["running", "applied", "failed"]).meta({ description: "running (or stopped between two steps of the job), applied, failed (resume it)." }),
    stage: z.enum(["registered", "aggregates", "lake", "done"]).meta({ description: "What was done last." }),
    from: yearMonth,
    to: yearMonth,
    priceVersion: z.string().meta({ description: "Version of the catalog applied." }),
    catalog: z.strictObject({
      kind: z.enum(["defaults", "overlay", "only"]),
      origin: z.string().meta({ description: "The price file's name (not its content), or defaults." }),
    }),
    versionsBefore: z.array(z.string()).meta({ description: "Price versions the invocations were counted at before." }),
    actor: z.string().meta({ description: "Who ran it (the caller's ARN on AWS, user@host locally)." }),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    totalsBefore: UsdAmountSchema.nullable().meta({ description: "Counted cost of the months before, USD (null until planned)." }),
    totalsAfter: UsdAmountSchema.nullable(),
    invocations: count,
    changed: count,
    tenantMonths: count,
    unreconciled: z
      .array(z.strictObject({ tenantId: z.string(), month: z.string(), lakeInvocations: z.int(), countedInvocations: z.int() }))
      .meta({ description: "Tenant-months left as counted because the lake and the aggregates disagree on what was counted." }),
    error: z.string().nullable(),
  })
  .meta({ id: "RepriceAudit", description: "One reprice, as its audit record holds it." });

/** The reprice audit trail. */
export const RepriceListSchema = z.strictObject({ reprices: z.array(RepriceAuditSchema).meta({ description: "Newest first." }) }).meta({ id: "RepriceList" });

/** RFC 9457 problem details, as every error of the API is answered. */
export const ProblemSchema = z
  .strictObject({
    type: z.string().meta({ description: "The problem type, a tag URI (`tag:bedrock-spend.dev,2026:problems/<kind>`), one per `code`." }),
    title: z.string().meta({ description: "A short summary of the problem type." }),
    status: z.int().min(400).max(599),
    detail: z.string().meta({ description: "What was wrong with this request, in words." }),
    instance: z.string().meta({ description: "The occurrence: the request's URN, `urn:uuid:<requestId>` (the path is not echoed)." }),
    code: z.enum(["BadRequest", "Forbidden", "NotFound", "MethodNotAllowed", "PayloadTooLarge", "InternalError", "ServiceUnavailable"]),
    requestId: z.string().meta({ description: "The request's id, as in the `x-request-id` header." }),
    field: z.string().optional().meta({ description: "The input that was wrong (400, and `body` on 413)." }),
    allowed: z.array(z.string()).optional().meta({ description: "The values the input may take (an unknown `groupBy` or `by`)." }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details (`application/problem+json`)." });

/** Every schema the document names in `components.schemas`. */
export const COMPONENT_SCHEMAS: readonly z.ZodType[] = [
  UsdAmountSchema,
  SpendBreakdownRowSchema,
  BudgetSchema,
  BudgetInputSchema,
  ForecastSchema,
  SpendSchema,
  AlertSchema,
  AlertListSchema,
  ReportGroupSchema,
  ReportSchema,
  BudgetResourceSchema,
  RepriceAuditSchema,
  RepriceListSchema,
  ProblemSchema,
];
