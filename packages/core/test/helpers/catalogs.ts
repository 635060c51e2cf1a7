/**
 * Catalog builders for tests.
 */
import type { CatalogJson, PriceEntryJson } from "../../src/catalog";

/** A catalog file with the given entries. */
export function catalogJson(models: Partial<PriceEntryJson>[], version = "test-1"): CatalogJson {
  return { version, currency: "USD", unit: "per_million_tokens", models: models.map(priceEntry) };
}

/** A price entry with defaults for the fields not given. */
export function priceEntry(overrides: Partial<PriceEntryJson> = {}): PriceEntryJson {
  return {
    model: "anthropic.claude-haiku-4-5-20251001-v1:0",
    profile: "*",
    region: "*",
    effectiveFrom: "2025-10-01",
    effectiveTo: null,
    input: "1.10",
    output: "5.50",
    cacheRead: "0.11",
    cacheWrite: "1.375",
    ...overrides,
  };
}
