/**
 * The zod schemas of the bodies the spend API answers with, and of the budget body it accepts: the
 * components of docs/openapi.yaml (openapi.ts). The handler does not parse with them, so they live
 * apart from the query schemas (schemas.ts): the spend API Lambda neither bundles nor builds them at
 * cold start. Built as schemas.ts builds its schemas (`zod/mini`, one `.check()` per classic method,
 * `meta()` for `.meta()`), so the generated document is the one classic zod gave.
 */
import * as z from "zod/mini";
import { MonthSchema, meta, REPORT_GROUP_BY } from "./schemas";

const count = z.int().check(z.nonnegative());

/** An exact decimal USD amount. */
export const UsdAmountSchema = meta(z.string().check(z.regex(/^[0-9]+\.[0-9]{6,12}$/)), {
  id: "UsdAmount",
  description: "Exact decimal USD, never rounded (pico-dollar precision).",
});

const totals = {
  invocations: count,
  unpricedInvocations: meta(count, { description: "Invocations no price matched; counted in tokens and invocations, not in costUsd." }),
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  costUsd: UsdAmountSchema,
};

/** Totals of one breakdown key. */
export const SpendBreakdownRowSchema = meta(z.strictObject({ key: z.string(), ...totals }), {
  id: "SpendBreakdownRow",
  description: "Totals of one breakdown key (a base model id, a `YYYY-MM-DD` day, or a breakdown value).",
});

/** A budget as stored. */
export const BudgetSchema = meta(
  z.strictObject({
    monthlyUsd: meta(z.string().check(z.regex(/^[0-9]+\.[0-9]{2,12}$/)), { description: "Monthly amount in USD, at least two fractional digits." }),
    thresholds: meta(
      z
        .array(z.int().check(z.minimum(1)).check(z.maximum(1000)))
        .check(z.minLength(1))
        .check(z.maxLength(10)),
      { description: "Alert thresholds in percent of the budget, ascending and distinct." },
    ),
  }),
  { id: "Budget" },
);

/** The body of `PUT .../budget` (checked further by `validateBudget` of the core). */
export const BudgetInputSchema = meta(
  z.strictObject({
    monthlyUsd: meta(
      z.union([
        z
          .string()
          .check(z.maxLength(40))
          .check(z.regex(/^\s*[0-9]+(\.[0-9]{1,12})?\s*$/)),
        z.number().check(z.gt(0)).check(z.maximum(1e12)),
      ]),
      {
        description:
          "A positive amount in USD of at most 1000000000000 (1e12), at most 12 fractional digits; a decimal string is exact and at most 40 characters long.",
      },
    ),
    thresholds: meta(
      z.optional(
        z
          .array(z.int().check(z.minimum(1)).check(z.maximum(1000)))
          .check(z.minLength(1))
          .check(z.maxLength(10)),
      ),
      { description: "Default [50, 80, 100]. Duplicates are dropped and the list is sorted." },
    ),
  }),
  { id: "BudgetInput" },
);

/** The month-end projection of a tenant's spend. */
export const ForecastSchema = meta(
  z.strictObject({
    month: MonthSchema,
    costUsd: meta(UsdAmountSchema, {
      description: "Projected month-end spend: the spend so far scaled linearly by the elapsed time of the month, as the forecast alert computes it.",
    }),
  }),
  { id: "Forecast", description: "Null before a tenth of the month has passed (too early to say) and for a day's spend." },
);

/** A tenant's spend for a period. */
export const SpendSchema = meta(
  z.strictObject({
    tenantId: z.string(),
    period: meta(z.string().check(z.regex(/^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$/)), { description: "The month `YYYY-MM` or the day `YYYY-MM-DD` asked for." }),
    ...totals,
    budget: z.nullable(BudgetSchema),
    asOf: meta(z.nullable(z.iso.datetime()), {
      description:
        "When the aggregates of this tenant's month (the day's month for a day) last changed (UTC, whole seconds); null when nothing is counted for it. A tenant with no usage is answered with zeros, not 404.",
    }),
    forecast: z.nullable(ForecastSchema),
    breakdown: meta(z.optional(z.array(SpendBreakdownRowSchema)), {
      description: "Present when `by` is given; by cost, highest first (by day: in day order).",
    }),
  }),
  { id: "Spend", description: "A tenant's spend for a period; the object `bedrock-spend spend --json` prints, plus asOf and forecast." },
);

/** One fired alert. */
export const AlertSchema = meta(
  z.strictObject({
    alertId: meta(z.string(), { description: "`<tenant>#<month>#<threshold or FORECAST>`, the id notifications carry." }),
    kind: z.enum(["threshold", "forecast"]),
    threshold: meta(z.nullable(z.int()), { description: "Percent of the budget; null for the forecast alert." }),
    month: MonthSchema,
    spendUsd: UsdAmountSchema,
    budgetUsd: z.string(),
    forecastUsd: UsdAmountSchema,
    firedAt: meta(z.string(), { description: "When it fired, ISO 8601 UTC." }),
  }),
  { id: "Alert" },
);

/** A tenant's fired alerts. */
export const AlertListSchema = meta(z.strictObject({ tenantId: z.string(), alerts: meta(z.array(AlertSchema), { description: "Newest first." }) }), {
  id: "AlertList",
});

/** One group of the cross-tenant report. */
export const ReportGroupSchema = meta(z.strictObject({ key: meta(z.string(), { description: "The tenant id, model, or breakdown value." }), ...totals }), {
  id: "ReportGroup",
});

/** A page of the cross-tenant report. */
export const ReportSchema = meta(
  z.strictObject({
    period: meta(z.string(), { description: "`YYYY-MM`, or `YYYY-MM-DD/YYYY-MM-DD` for a from/to range (inclusive)." }),
    groupBy: z.enum(REPORT_GROUP_BY),
    groups: meta(z.array(ReportGroupSchema), { description: "By cost, highest first; ties by key (code-unit order)." }),
    nextCursor: meta(z.nullable(z.string()), { description: "Pass as `cursor` for the next page; null on the last page." }),
    asOf: meta(z.nullable(z.iso.datetime()), { description: "When the newest aggregate item read last changed (UTC, whole seconds); null when none." }),
  }),
  { id: "Report" },
);

/** A tenant's budget as the API shows it. */
export const BudgetResourceSchema = meta(
  z.strictObject({
    tenantId: z.string(),
    budget: z.nullable(BudgetSchema),
    source: meta(z.enum(["tenant", "default", "none"]), {
      description: "tenant (its own budget), default (the deployment's DEFAULT_BUDGET_USD) or none.",
    }),
  }),
  { id: "BudgetResource" },
);

const yearMonth = z.string().check(z.regex(/^[0-9]{4}-[0-9]{2}$/));

/** One reprice's audit record. */
export const RepriceAuditSchema = meta(
  z.strictObject({
    id: z.string(),
    status: meta(z.enum(["running", "applied", "failed"]), {
      description: "running (or stopped between two steps of the job), applied, failed (resume it).",
    }),
    stage: meta(z.enum(["registered", "aggregates", "lake", "done"]), { description: "What was done last." }),
    from: yearMonth,
    to: yearMonth,
    priceVersion: meta(z.string(), { description: "Version of the catalog applied." }),
    catalog: z.strictObject({
      kind: z.enum(["defaults", "overlay", "only"]),
      origin: meta(z.string(), { description: "The price file's name (not its content), or defaults." }),
    }),
    versionsBefore: meta(z.array(z.string()), { description: "Price versions the invocations were counted at before." }),
    actor: meta(z.string(), { description: "Who ran it (the caller's ARN on AWS, user@host locally)." }),
    startedAt: z.string(),
    finishedAt: z.nullable(z.string()),
    totalsBefore: meta(z.nullable(UsdAmountSchema), { description: "Counted cost of the months before, USD (null until planned)." }),
    totalsAfter: z.nullable(UsdAmountSchema),
    invocations: count,
    changed: count,
    tenantMonths: count,
    unreconciled: meta(z.array(z.strictObject({ tenantId: z.string(), month: z.string(), lakeInvocations: z.int(), countedInvocations: z.int() })), {
      description: "Tenant-months left as counted because the lake and the aggregates disagree on what was counted.",
    }),
    error: z.nullable(z.string()),
  }),
  { id: "RepriceAudit", description: "One reprice, as its audit record holds it." },
);

/** The reprice audit trail. */
export const RepriceListSchema = meta(z.strictObject({ reprices: meta(z.array(RepriceAuditSchema), { description: "Newest first." }) }), { id: "RepriceList" });

/** RFC 9457 problem details, as every error of the API is answered. */
export const ProblemSchema = meta(
  z.strictObject({
    type: meta(z.string(), { description: "The problem type, a tag URI (`tag:bedrock-spend.dev,2026:problems/<kind>`), one per `code`." }),
    title: meta(z.string(), { description: "A short summary of the problem type." }),
    status: z.int().check(z.minimum(400)).check(z.maximum(599)),
    detail: meta(z.string(), { description: "What was wrong with this request, in words." }),
    instance: meta(z.string(), { description: "The occurrence: the request's URN, `urn:uuid:<requestId>` (the path is not echoed)." }),
    code: z.enum(["BadRequest", "Forbidden", "NotFound", "MethodNotAllowed", "PayloadTooLarge", "InternalError", "ServiceUnavailable"]),
    requestId: meta(z.string(), { description: "The request's id, as in the `x-request-id` header." }),
    field: meta(z.optional(z.string()), { description: "The input that was wrong (400, and `body` on 413)." }),
    allowed: meta(z.optional(z.array(z.string())), { description: "The values the input may take (an unknown `groupBy` or `by`)." }),
  }),
  { id: "Problem", description: "RFC 9457 problem details (`application/problem+json`)." },
);

/** Every schema the document names in `components.schemas`. */
export const COMPONENT_SCHEMAS: readonly z.ZodMiniType[] = [
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
