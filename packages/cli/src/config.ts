/**
 * Builds the pricing configuration from command-line options: the default catalog overlaid with
 * `--prices` (or replaced by `--prices-only`), the application-profile map of `--profiles`, and
 * the alias map of `--aliases`. Every problem becomes a `UsageError` that names the file and the entry.
 */
import { type AliasMap, aliasMapFrom, BedrockSpendError, catalogFrom, type PriceCatalog, Pricer, StaticProfileMap, tagKeyMapFrom } from "@bedrock-spend/core";
import { UsageError } from "./errors";
import { readJsonFile } from "./io";

/** Loads the catalog: the shipped defaults, overlaid with `pricesPath` when given, or that file alone with `pricesOnly`. */
export async function loadCatalog(pricesPath: string | undefined, pricesOnly = false): Promise<PriceCatalog> {
  try {
    if (pricesPath === undefined) return catalogFrom({ kind: "defaults" });
    const json = await readJsonFile(pricesPath, "price file");
    return catalogFrom({ kind: pricesOnly ? "only" : "overlay", json, origin: pricesPath });
  } catch (error) {
    throw asUsageError(error);
  }
}

/** Options that shape pricing, shared by `price`, `ingest` and `start`. */
export interface PricingOptions {
  prices?: string | undefined;
  /** `prices` is the whole catalog (`--prices-only`), not an overlay. */
  pricesOnly?: boolean | undefined;
  profiles?: string | undefined;
  aliases?: string | undefined;
  /** Tag keys of application inference profiles per attribution dimension (`--profile-tags`). */
  profileTags?: string | undefined;
}

/**
 * Builds a pricer from the pricing options. `baseProfiles` is an application-profile map the
 * `--profiles` file is laid over (local mode's generated traffic brings its own).
 */
export async function loadPricer(options: PricingOptions, baseProfiles?: Readonly<Record<string, unknown>>): Promise<Pricer> {
  const catalog = await loadCatalog(options.prices, options.pricesOnly);
  try {
    let profiles: StaticProfileMap | undefined;
    if (options.profiles) {
      const file = await readJsonFile(options.profiles, "profile map");
      const merged = baseProfiles && typeof file === "object" && file !== null && !Array.isArray(file) ? { ...baseProfiles, ...file } : file;
      profiles = StaticProfileMap.fromJson(merged, options.profiles);
    } else if (baseProfiles) profiles = StaticProfileMap.fromJson(baseProfiles, "the generated traffic's profile map");
    let aliases: AliasMap | undefined;
    if (options.aliases) aliases = aliasMapFrom(await readJsonFile(options.aliases, "alias map"), options.aliases);
    let tagKeys: AliasMap | undefined;
    if (options.profileTags) tagKeys = tagKeyMapFrom(await readJsonFile(options.profileTags, "profile tag keys"), options.profileTags);
    return new Pricer({
      catalog,
      ...(aliases ? { aliases } : {}),
      ...(tagKeys ? { tagKeys } : {}),
      ...(profiles ? { profiles } : {}),
    });
  } catch (error) {
    throw asUsageError(error);
  }
}

function asUsageError(error: unknown): unknown {
  if (error instanceof UsageError || !(error instanceof BedrockSpendError)) return error;
  return new UsageError(error.message, { cause: error });
}
