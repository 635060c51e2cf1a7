/**
 * Handler configuration from environment variables, read once per cold start and validated,
 * failing closed: a missing or malformed setting stops the cold start with a message naming it,
 * rather than running with a guess. Every name read is one of `ENV` (lib/contracts.ts).
 */
import {
  type AliasMap,
  type ApplicationProfileLookup,
  type ApplicationProfileSource,
  ATTRIBUTION_DIMENSIONS,
  type AttributionDimension,
  aliasMapFrom,
  type Budget,
  CachingProfileResolver,
  ConfigurationError,
  catalogFrom,
  Pricer,
  StaticProfileMap,
  tagKeyMapFrom,
  validateBudget,
} from "@bedrock-spend/core";
import { ENV, type EnvironmentVariable } from "./contracts";
import { DEPLOYED_PRICING, type DeployedPricing } from "./deployed-pricing";

/** The environment a handler is configured from (`process.env` in Lambda). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A required variable. */
export function requireEnv(name: EnvironmentVariable, env: Environment = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new ConfigurationError(name, "environment variable is required");
  return value;
}

/** An optional variable, trimmed; undefined when unset or blank. */
export function optionalEnv(name: EnvironmentVariable, env: Environment = process.env): string | undefined {
  return env[name]?.trim() || undefined;
}

function parseJsonEnv(name: EnvironmentVariable, env: Environment): unknown | undefined {
  const value = optionalEnv(name, env);
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new ConfigurationError(name, `is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The pricer of a handler. Deployed, from the pricing bundled into the function
 * (lib/deployed-pricing.ts, validated at synth); otherwise from the environment: the shipped
 * catalog overlaid with `PRICE_OVERLAY`, or `PRICE_CATALOG` alone (each a catalog file as JSON;
 * both at once is a configuration error), application-profile map `PROFILE_MAP`, metadata aliases
 * `METADATA_ALIASES`.
 */
export function pricerFromEnv(
  env: Environment = process.env,
  deployed: DeployedPricing | null = DEPLOYED_PRICING,
  /** Where application inference profiles are fetched from when `PROFILE_RESOLUTION` is `bedrock` (lib/adapters.ts gives Bedrock's control plane). */
  profileSource?: ApplicationProfileSource,
): Pricer {
  const setting = (key: keyof DeployedPricing, name: EnvironmentVariable) =>
    deployed ? { value: deployed[key], origin: `bundled ${name}` } : { value: parseJsonEnv(name, env), origin: name };
  const overlay = setting("overlay", ENV.priceOverlay);
  const only = setting("catalog", ENV.priceCatalog);
  if (overlay.value !== undefined && only.value !== undefined)
    throw new ConfigurationError(ENV.priceCatalog, `and ${ENV.priceOverlay} are exclusive: one replaces the shipped catalog, the other is laid over it`);
  const catalog = catalogFrom(
    only.value !== undefined
      ? { kind: "only", json: only.value, origin: only.origin }
      : overlay.value !== undefined
        ? { kind: "overlay", json: overlay.value, origin: overlay.origin }
        : { kind: "defaults" },
  );
  const profiles = setting("profiles", ENV.profileMap);
  const aliases = setting("aliases", ENV.metadataAliases);
  const tagKeys = setting("tagKeys", ENV.profileTagKeys);
  const aliasMap: AliasMap | undefined = aliases.value === undefined ? undefined : aliasMapFrom(aliases.value, aliases.origin);
  const staticMap = profiles.value === undefined ? undefined : StaticProfileMap.fromJson(profiles.value, profiles.origin);
  const lookup = profileLookupFromEnv(env, staticMap, profileSource);
  return new Pricer({
    catalog,
    ...(lookup ? { profiles: lookup } : {}),
    ...(aliasMap ? { aliases: aliasMap } : {}),
    ...(tagKeys.value === undefined ? {} : { tagKeys: tagKeyMapFrom(tagKeys.value, tagKeys.origin) }),
  });
}

/**
 * The application profiles a pricer resolves: with `PROFILE_RESOLUTION=bedrock`, fetched from
 * `source` and cached for `PROFILE_CACHE_SECONDS` (default 3600) per function instance, the map
 * file overriding; otherwise the map file alone.
 */
function profileLookupFromEnv(
  env: Environment,
  staticMap: StaticProfileMap | undefined,
  source: ApplicationProfileSource | undefined,
): ApplicationProfileLookup | undefined {
  const mode = optionalEnv(ENV.profileResolution, env);
  if (mode === undefined || mode === "off") return staticMap;
  if (mode !== "bedrock") throw new ConfigurationError(ENV.profileResolution, `must be "bedrock" or "off", got "${mode}"`);
  if (source === undefined) throw new ConfigurationError(ENV.profileResolution, "is bedrock, but this function has no Bedrock profile source");
  const seconds = secondsFromEnv(ENV.profileCacheSeconds, env, 3600);
  if (seconds === 0) throw new ConfigurationError(ENV.profileCacheSeconds, "must be at least 1 second");
  return new CachingProfileResolver(source, { ttlMillis: seconds * 1000, ...(staticMap ? { fallback: staticMap } : {}) });
}

/** Extra per-month breakdowns, `AGGREGATE_BREAKDOWNS=departmentId,applicationId`. */
export function breakdownsFromEnv(env: Environment = process.env): AttributionDimension[] {
  const value = optionalEnv(ENV.aggregateBreakdowns, env);
  if (!value) return [];
  return value.split(",").map((name) => {
    const dimension = name.trim();
    if (!(ATTRIBUTION_DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new ConfigurationError(ENV.aggregateBreakdowns, `unknown dimension "${dimension}"; expected ${ATTRIBUTION_DIMENSIONS.join(", ")}`);
    }
    return dimension as AttributionDimension;
  });
}

/** The budget that applies to tenants without one: `DEFAULT_BUDGET_USD` and `DEFAULT_BUDGET_THRESHOLDS` (e.g. "50,80,100"). */
export function defaultBudgetFromEnv(env: Environment = process.env): Budget | null {
  const amount = optionalEnv(ENV.defaultBudgetUsd, env);
  if (!amount) return null;
  const thresholds = optionalEnv(ENV.defaultBudgetThresholds, env);
  const result = validateBudget({ monthlyUsd: amount, ...(thresholds ? { thresholds: thresholds.split(",").map((value) => Number(value.trim())) } : {}) });
  if (!result.ok) throw new ConfigurationError(result.field === "monthlyUsd" ? ENV.defaultBudgetUsd : ENV.defaultBudgetThresholds, result.reason);
  return result.budget;
}

/** Whole seconds from 0 to a day; `fallback` when unset (none: required). */
export function secondsFromEnv(name: EnvironmentVariable, env: Environment = process.env, fallback?: number): number {
  const value = optionalEnv(name, env);
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigurationError(name, "environment variable is required");
    return fallback;
  }
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86_400)
    throw new ConfigurationError(name, `must be whole seconds from 0 to 86400, got "${value}"`);
  return seconds;
}

/** Days a dedup marker lives, `DEDUP_RETENTION_DAYS` (default 35; at least 15, beyond the DLQ's 14 days). */
export function dedupRetentionDaysFromEnv(env: Environment = process.env): number {
  const value = optionalEnv(ENV.dedupRetentionDays, env);
  if (!value) return 35;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 15 || days > 3650) {
    throw new ConfigurationError(
      ENV.dedupRetentionDays,
      `must be an integer from 15 to 3650 (longer than the dead-letter queue keeps messages), got "${value}"`,
    );
  }
  return days;
}
