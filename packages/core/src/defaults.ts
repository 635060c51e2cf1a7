/**
 * The shipped default price catalog (`catalog/defaults.json`): on-demand Bedrock prices, each
 * entry with its source, the date it was read and how sure it is. A user's file overlays it
 * (`--prices`, `PRICE_OVERLAY`) or replaces it (`--prices-only`, `PRICE_CATALOG`).
 */
import { PriceCatalog } from "./catalog";
// No import attribute: the Lambda bundler (esbuild 0.18, pinned by SST v2) does not parse them.
import defaultsJson from "./catalog/defaults.json";

/** Origin label of the shipped catalog in messages. */
export const DEFAULTS_ORIGIN = "defaults";

let cached: PriceCatalog | undefined;

/** The shipped catalog, validated once per process. */
export function defaultCatalog(): PriceCatalog {
  cached ??= PriceCatalog.fromJson(defaultsJson, DEFAULTS_ORIGIN);
  return cached;
}

/** The shipped catalog, raw, for tooling. */
export const DEFAULT_CATALOG_JSON: unknown = defaultsJson;

/**
 * Where the prices of a deployment or a command come from: the shipped catalog alone, a user's
 * file laid over it (the file wins at the dates it covers), or a user's file as the whole catalog.
 */
export type CatalogSource = { kind: "defaults" } | { kind: "overlay"; json: unknown; origin: string } | { kind: "only"; json: unknown; origin: string };

/**
 * The catalog of a source, validated. The one implementation behind the CLI's `--prices` and
 * `--prices-only`, local mode, and the Lambda functions' `PRICE_OVERLAY` and `PRICE_CATALOG`.
 */
export function catalogFrom(source: CatalogSource): PriceCatalog {
  switch (source.kind) {
    case "defaults":
      return defaultCatalog();
    case "overlay":
      return defaultCatalog().overlay(PriceCatalog.fromJson(source.json, source.origin));
    case "only":
      return PriceCatalog.fromJson(source.json, source.origin);
  }
}
