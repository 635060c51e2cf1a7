/**
 * The shipped default price catalog (`catalog/defaults.json`): on-demand Bedrock prices with a
 * source note per entry. A user's `--prices` file overlays it.
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
