/**
 * Handler configuration from environment variables, read once per cold start and validated,
 * failing closed: a missing or malformed setting stops the cold start with a message naming it,
 * rather than running with a guess.
 */
import {
  type AliasMap,
  ATTRIBUTION_DIMENSIONS,
  type AttributionDimension,
  aliasMapFrom,
  type Budget,
  ConfigurationError,
  defaultCatalog,
  PriceCatalog,
  Pricer,
  StaticProfileMap,
  validateBudget,
} from "@bedrock-spend/core";

type Environment = Readonly<Record<string, string | undefined>>;

/** A required variable. */
export function requireEnv(name: string, env: Environment = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new ConfigurationError(name, "environment variable is required");
  return value;
}

function parseJsonEnv(name: string, env: Environment): unknown | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new ConfigurationError(name, `is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The pricer of a handler: shipped catalog overlaid with `PRICE_OVERLAY` (a catalog file as JSON),
 * application-profile map `PROFILE_MAP`, metadata aliases `METADATA_ALIASES`.
 */
export function pricerFromEnv(env: Environment = process.env): Pricer {
  const overlay = parseJsonEnv("PRICE_OVERLAY", env);
  const catalog = overlay === undefined ? defaultCatalog() : defaultCatalog().overlay(PriceCatalog.fromJson(overlay, "PRICE_OVERLAY"));
  const profiles = parseJsonEnv("PROFILE_MAP", env);
  const aliases = parseJsonEnv("METADATA_ALIASES", env);
  const aliasMap: AliasMap | undefined = aliases === undefined ? undefined : aliasMapFrom(aliases, "METADATA_ALIASES");
  return new Pricer({
    catalog,
    ...(profiles === undefined ? {} : { profiles: StaticProfileMap.fromJson(profiles, "PROFILE_MAP") }),
    ...(aliasMap ? { aliases: aliasMap } : {}),
  });
}

/** Extra per-month breakdowns, `AGGREGATE_BREAKDOWNS=departmentId,applicationId`. */
export function breakdownsFromEnv(env: Environment = process.env): AttributionDimension[] {
  const value = env.AGGREGATE_BREAKDOWNS?.trim();
  if (!value) return [];
  return value.split(",").map((name) => {
    const dimension = name.trim();
    if (!(ATTRIBUTION_DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new ConfigurationError("AGGREGATE_BREAKDOWNS", `unknown dimension "${dimension}"; expected ${ATTRIBUTION_DIMENSIONS.join(", ")}`);
    }
    return dimension as AttributionDimension;
  });
}

/** The budget that applies to tenants without one: `DEFAULT_BUDGET_USD` and `DEFAULT_BUDGET_THRESHOLDS` (e.g. "50,80,100"). */
export function defaultBudgetFromEnv(env: Environment = process.env): Budget | null {
  const amount = env.DEFAULT_BUDGET_USD?.trim();
  if (!amount) return null;
  const thresholds = env.DEFAULT_BUDGET_THRESHOLDS?.trim();
  const result = validateBudget({ monthlyUsd: amount, ...(thresholds ? { thresholds: thresholds.split(",").map((value) => Number(value.trim())) } : {}) });
  if (!result.ok) throw new ConfigurationError(result.field === "monthlyUsd" ? "DEFAULT_BUDGET_USD" : "DEFAULT_BUDGET_THRESHOLDS", result.reason);
  return result.budget;
}

/** Days a dedup marker lives, `DEDUP_RETENTION_DAYS` (default 35; at least 15, beyond the DLQ's 14 days). */
export function dedupRetentionDaysFromEnv(env: Environment = process.env): number {
  const value = env.DEDUP_RETENTION_DAYS?.trim();
  if (!value) return 35;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 15 || days > 3650) {
    throw new ConfigurationError(
      "DEDUP_RETENTION_DAYS",
      `must be an integer from 15 to 3650 (longer than the dead-letter queue keeps messages), got "${value}"`,
    );
  }
  return days;
}
