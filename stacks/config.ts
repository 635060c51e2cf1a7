/**
 * The deployment's configuration, in one typed place. Values come from `BEDROCK_SPEND_*`
 * environment variables at `sst deploy` time (or the defaults below), validated once; a bad value
 * stops the deploy with a message naming it.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
// By path, not by package name: see Lake.ts.
import type { DeployedPricing } from "../functions/src/lib/deployed-pricing";
import { isScopeToken } from "../packages/api/src/scopes";
import { aliasMapFrom, tagKeyMapFrom } from "../packages/core/src/attribution";
import { REQUIRED_CUR_COLUMNS } from "../packages/core/src/bill/reconcile";
import { parseUsageTypeMap } from "../packages/core/src/bill/usage-types";
import { catalogFrom } from "../packages/core/src/defaults";
import { StaticProfileMap } from "../packages/core/src/model";

const csv = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);

const boolean = z.enum(["true", "false"]).transform((value) => value === "true");

/**
 * A JSON setting given inline (it starts with `{` or `[`) or as the path of a JSON file, read at
 * synth (relative to the directory `sst deploy` runs in): the JSON text.
 */
const jsonOrFile = z.string().transform((value, context) => {
  const text = value.trim();
  if (text.startsWith("{") || text.startsWith("[")) return text;
  const path = resolve(text);
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    context.addIssue({
      code: "custom",
      message: `is neither inline JSON nor a readable file: ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    });
    return z.NEVER;
  }
});

/** The configuration schema; each field documents its environment variable. */
export const ConfigSchema = z
  .object({
    /** BEDROCK_SPEND_EXISTING_LOG_GROUP: use this log group instead of creating one (Bedrock already logs there). */
    existingLogGroupName: z.string().min(1).optional(),
    /** BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING: point Bedrock model invocation logging at the log group (default true; false when the account already logs). */
    configureBedrockLogging: boolean.default(true),
    /** BEDROCK_SPEND_LOG_RETENTION_DAYS: retention of the invocation log group (default 30). */
    logRetentionDays: z.coerce.number().int().positive().default(30),
    /** BEDROCK_SPEND_LAKE_RETENTION_DAYS: days the Parquet lake keeps data; 0 keeps it forever (default 0). */
    lakeRetentionDays: z.coerce.number().int().nonnegative().default(0),
    /** BEDROCK_SPEND_RAW_FAILURE_RETENTION_DAYS: days the records the lake could not take are kept, with their prompts, under a customer-managed key, for a redrive (default 14). */
    rawFailureRetentionDays: z.coerce.number().int().min(1).max(365).default(14),
    /** BEDROCK_SPEND_METADATA_ALIASES: alias map, inline JSON (e.g. {"tenantId":["acct"]}) or the path of a JSON file. */
    metadataAliases: jsonOrFile.optional(),
    /** BEDROCK_SPEND_PRICE_OVERLAY: price catalog overlay (negotiated prices) laid over the shipped catalog, inline JSON or the path of a price file. */
    priceOverlay: jsonOrFile.optional(),
    /** BEDROCK_SPEND_PRICES_ONLY: true makes BEDROCK_SPEND_PRICE_OVERLAY the whole catalog instead of an overlay (default false). */
    pricesOnly: boolean.default(false),
    /** BEDROCK_SPEND_PROFILE_MAP: application-inference-profile map, inline JSON or the path of a JSON file. */
    profileMap: jsonOrFile.optional(),
    /** BEDROCK_SPEND_PROFILE_TAG_KEYS: tag keys of application inference profiles per attribution dimension, inline JSON (e.g. {"tenantId":["tenant","customer"]}) or the path of a JSON file. */
    profileTagKeys: jsonOrFile.optional(),
    /** BEDROCK_SPEND_RESOLVE_PROFILES: resolve application inference profiles with bedrock:GetInferenceProfile and their tags (default true; false uses BEDROCK_SPEND_PROFILE_MAP alone). */
    resolveProfiles: boolean.default(true),
    /** BEDROCK_SPEND_PROFILE_CACHE_SECONDS: how long a resolved profile (and its tags) is cached per function instance (default 3600). */
    profileCacheSeconds: z.coerce.number().int().min(60).max(86_400).default(3600),
    /** BEDROCK_SPEND_BREAKDOWNS: extra per-month aggregate breakdowns, e.g. departmentId. */
    breakdowns: csv.default([]),
    /** BEDROCK_SPEND_DEFAULT_BUDGET_USD: budget for tenants without one (unset: none). */
    defaultBudgetUsd: z
      .string()
      .regex(/^\d+(\.\d+)?$/, "must be a decimal amount")
      .optional(),
    /** BEDROCK_SPEND_DEFAULT_BUDGET_THRESHOLDS: alert thresholds in percent (default 50,80,100). */
    defaultBudgetThresholds: z
      .string()
      .regex(/^\d+(,\d+)*$/, "must be comma-separated percentages")
      .default("50,80,100"),
    /** BEDROCK_SPEND_ALERT_EMAIL: e-mail subscribed to the alert topic (optional). */
    alertEmail: z.string().email().optional(),
    /** BEDROCK_SPEND_OPS_EMAIL: e-mail subscribed to the pipeline's alarm topic (optional). */
    opsEmail: z.string().email().optional(),
    /** BEDROCK_SPEND_JWT_ISSUER / _AUDIENCE / _TENANT_CLAIM: also serve the API through an HTTP API with a JWT authorizer. */
    jwtIssuer: z.string().url().optional(),
    jwtAudience: csv.optional(),
    jwtTenantClaim: z.string().min(1).default("tenant_id"),
    /** BEDROCK_SPEND_JWT_ADMIN_SCOPE: the scope (in a token's `scope` or `scp` claim) that lets a token write budgets, of any tenant; unset, tokens only read. */
    jwtAdminScope: z.string().refine(isScopeToken, "must be one OAuth 2.0 scope (no spaces, quotes, backslashes or brackets)").optional(),
    /** BEDROCK_SPEND_QUICKSIGHT_PRINCIPAL_ARN: build the QuickSight data source, dataset, analysis and dashboard for this principal (needs a QuickSight subscription). */
    quickSightPrincipalArn: z.string().startsWith("arn:").optional(),
    /** BEDROCK_SPEND_ATHENA_BYTES_SCANNED_CUTOFF: per-query scan limit of the Athena workgroup (default 10 GB). */
    athenaBytesScannedCutoff: z.coerce.number().int().min(10_000_000).default(10_000_000_000),
    /** BEDROCK_SPEND_CUR_BUCKET: the bucket of an existing CUR 2.0 export (AWS Data Exports); set, the daily reconciliation with the bill is deployed. */
    curBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
      .optional(),
    /** BEDROCK_SPEND_CUR_PREFIX: the key prefix that holds the export's BILLING_PERIOD=YYYY-MM/ folders, e.g. cur/bedrock/data (default: the bucket's root). */
    curPrefix: z
      .string()
      .transform((value) => value.replace(/^\/+|\/+$/g, ""))
      .refine((value) => !/BILLING_PERIOD=/.test(value), "must end before the BILLING_PERIOD=YYYY-MM/ folders")
      .default(""),
    /** BEDROCK_SPEND_CUR_FORMAT: the export's format, parquet or csv (gzip CSV) (default parquet). */
    curFormat: z.enum(["parquet", "csv"]).default("parquet"),
    /** BEDROCK_SPEND_CUR_CSV_COLUMNS: a CSV export's header, comma-separated (Athena maps CSV columns by position). */
    curCsvColumns: csv.optional(),
    /** BEDROCK_SPEND_CUR_KMS_KEY_ARN: the KMS key the export is encrypted with, when not SSE-S3. */
    curKmsKeyArn: z.string().startsWith("arn:").optional(),
    /** BEDROCK_SPEND_RECONCILE_DRIFT_PERCENT: alarm when a complete day's absolute drift from the bill exceeds this percentage (default 1). */
    reconcileDriftPercent: z.coerce.number().positive().max(1000).default(1),
    /** BEDROCK_SPEND_RECONCILE_DAYS: days the daily reconciliation covers, ending yesterday (default 3: CUR restates recent days). */
    reconcileDays: z.coerce.number().int().min(1).max(31).default(3),
    /** BEDROCK_SPEND_USAGE_TYPES: JSON usage-type map laid over the shipped one ({"models": {...}, "products": {...}, "regions": {...}, "units": {...}}). */
    usageTypes: z.string().optional(),
  })
  .superRefine((settings, context) => {
    // A price file that cannot be used stops the deploy here, not every cold start after it.
    if (settings.pricesOnly && !settings.priceOverlay) {
      context.addIssue({ code: "custom", path: ["pricesOnly"], message: "needs BEDROCK_SPEND_PRICE_OVERLAY, the catalog to use alone" });
    }
    if (settings.priceOverlay) {
      const origin = "BEDROCK_SPEND_PRICE_OVERLAY";
      const problem = jsonProblem(settings.priceOverlay, (json) =>
        catalogFrom(settings.pricesOnly ? { kind: "only", json, origin } : { kind: "overlay", json, origin }),
      );
      if (problem) context.addIssue({ code: "custom", path: ["priceOverlay"], message: problem });
    }
    // The validators the CLI uses: a bad map fails the synth naming the entry, not every cold start.
    for (const [key, check] of [
      ["profileMap", (json: unknown) => StaticProfileMap.fromJson(json, "BEDROCK_SPEND_PROFILE_MAP")],
      ["metadataAliases", (json: unknown) => aliasMapFrom(json, "BEDROCK_SPEND_METADATA_ALIASES")],
      ["profileTagKeys", (json: unknown) => tagKeyMapFrom(json, "BEDROCK_SPEND_PROFILE_TAG_KEYS")],
    ] as const) {
      const text = settings[key];
      if (text === undefined) continue;
      const problem = jsonProblem(text, check);
      if (problem) context.addIssue({ code: "custom", path: [key], message: problem });
    }
    // A scope without the JWT API would guard nothing, and could be taken for a guard.
    if (settings.jwtAdminScope !== undefined && !settings.jwtIssuer)
      context.addIssue({ code: "custom", path: ["jwtAdminScope"], message: "needs BEDROCK_SPEND_JWT_ISSUER, the JWT API whose budget writes it allows" });
    // The bill's settings mean nothing without the bill.
    if (!settings.curBucket)
      for (const key of ["curCsvColumns", "curKmsKeyArn", "usageTypes"] as const)
        if (settings[key] !== undefined)
          context.addIssue({ code: "custom", path: [key], message: "needs BEDROCK_SPEND_CUR_BUCKET, the CUR 2.0 export to reconcile with" });
    if (settings.curBucket && settings.curFormat === "csv") {
      const missing = REQUIRED_CUR_COLUMNS.filter((column) => !(settings.curCsvColumns ?? []).includes(column));
      if (missing.length > 0)
        context.addIssue({
          code: "custom",
          path: ["curCsvColumns"],
          message: `must be the CSV export's header (Athena reads CSV columns by position); it names no ${missing.join(", ")}`,
        });
    }
    if (settings.usageTypes) {
      const problem = jsonProblem(settings.usageTypes, (json) => parseUsageTypeMap(json, "BEDROCK_SPEND_USAGE_TYPES"));
      if (problem) context.addIssue({ code: "custom", path: ["usageTypes"], message: problem });
    }
  });

/** What is wrong with a JSON setting for `check` (its message without the variable's name), if anything. */
function jsonProblem(text: string, check: (json: unknown) => unknown): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `is not valid JSON: ${(error as Error).message}`;
  }
  try {
    check(json);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^BEDROCK_SPEND_[A-Z_]+: /, "");
  }
}

/** The resolved configuration. */
export type Config = z.infer<typeof ConfigSchema>;

const ENVIRONMENT: Record<keyof Config, string> = {
  existingLogGroupName: "BEDROCK_SPEND_EXISTING_LOG_GROUP",
  configureBedrockLogging: "BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING",
  logRetentionDays: "BEDROCK_SPEND_LOG_RETENTION_DAYS",
  lakeRetentionDays: "BEDROCK_SPEND_LAKE_RETENTION_DAYS",
  rawFailureRetentionDays: "BEDROCK_SPEND_RAW_FAILURE_RETENTION_DAYS",
  metadataAliases: "BEDROCK_SPEND_METADATA_ALIASES",
  priceOverlay: "BEDROCK_SPEND_PRICE_OVERLAY",
  pricesOnly: "BEDROCK_SPEND_PRICES_ONLY",
  profileMap: "BEDROCK_SPEND_PROFILE_MAP",
  profileTagKeys: "BEDROCK_SPEND_PROFILE_TAG_KEYS",
  resolveProfiles: "BEDROCK_SPEND_RESOLVE_PROFILES",
  profileCacheSeconds: "BEDROCK_SPEND_PROFILE_CACHE_SECONDS",
  breakdowns: "BEDROCK_SPEND_BREAKDOWNS",
  defaultBudgetUsd: "BEDROCK_SPEND_DEFAULT_BUDGET_USD",
  defaultBudgetThresholds: "BEDROCK_SPEND_DEFAULT_BUDGET_THRESHOLDS",
  alertEmail: "BEDROCK_SPEND_ALERT_EMAIL",
  opsEmail: "BEDROCK_SPEND_OPS_EMAIL",
  jwtIssuer: "BEDROCK_SPEND_JWT_ISSUER",
  jwtAudience: "BEDROCK_SPEND_JWT_AUDIENCE",
  jwtTenantClaim: "BEDROCK_SPEND_JWT_TENANT_CLAIM",
  jwtAdminScope: "BEDROCK_SPEND_JWT_ADMIN_SCOPE",
  quickSightPrincipalArn: "BEDROCK_SPEND_QUICKSIGHT_PRINCIPAL_ARN",
  athenaBytesScannedCutoff: "BEDROCK_SPEND_ATHENA_BYTES_SCANNED_CUTOFF",
  curBucket: "BEDROCK_SPEND_CUR_BUCKET",
  curPrefix: "BEDROCK_SPEND_CUR_PREFIX",
  curFormat: "BEDROCK_SPEND_CUR_FORMAT",
  curCsvColumns: "BEDROCK_SPEND_CUR_CSV_COLUMNS",
  curKmsKeyArn: "BEDROCK_SPEND_CUR_KMS_KEY_ARN",
  reconcileDriftPercent: "BEDROCK_SPEND_RECONCILE_DRIFT_PERCENT",
  reconcileDays: "BEDROCK_SPEND_RECONCILE_DAYS",
  usageTypes: "BEDROCK_SPEND_USAGE_TYPES",
};

/** Reads and validates the configuration from environment variables; throws naming the variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") raw[key] = value.trim();
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new Error(`${ENVIRONMENT[key as keyof Config] ?? key}: ${issue?.message ?? "invalid"}`);
  }
  return { ...parsed.data, ...overrides };
}

/**
 * The pricing configuration every function that prices is bundled with (stacks/bundling.ts
 * `deployedPricing`; read by functions/src/lib/env.ts `pricerFromEnv`): the same overlay, profile
 * map and aliases everywhere, so that the lake and the aggregates never disagree. Bundled, not in
 * environment variables: a function's environment is 4 KB in all, and a real overlay is larger.
 * Null when nothing is configured.
 */
export function deployedPricingOf(settings: Config): DeployedPricing | null {
  const pricing: DeployedPricing = {};
  if (settings.priceOverlay) pricing[settings.pricesOnly ? "catalog" : "overlay"] = JSON.parse(settings.priceOverlay);
  if (settings.profileMap) pricing.profiles = JSON.parse(settings.profileMap);
  if (settings.metadataAliases) pricing.aliases = JSON.parse(settings.metadataAliases);
  if (settings.profileTagKeys) pricing.tagKeys = JSON.parse(settings.profileTagKeys);
  return Object.keys(pricing).length === 0 ? null : pricing;
}

let current: Config | undefined;

/** The configuration of the app being built (set by sst.config.ts or a test). */
export function config(): Config {
  current ??= loadConfig();
  return current;
}

/** Replaces the configuration (tests, synth). */
export function setConfig(value: Config): void {
  current = value;
}
