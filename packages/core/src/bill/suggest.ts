/**
 * Prices learned from the bill: each placed usage type's unit rate, read from
 * `line_item_unblended_rate` and checked against cost / usage, compared with the effective
 * catalog, and written as a catalog overlay where the bill disagrees. Private pricing and
 * negotiated rates then come from the bill itself.
 */
import { CATALOG_CURRENCY, CATALOG_UNIT, type CatalogJson, type PriceCatalog, type PriceEntryJson, type TokenClass } from "../catalog";
import { PROFILE_PREFIXES, type PricingProfile } from "../model";
import { picoPerTokenToPricePerMillion } from "../money";
import { type BillGroup, parseSignedDecimal, USAGE_LINE_ITEM_TYPES } from "./reconcile";
import { mapUsageType, type UsageTypeMap } from "./usage-types";

/** A rate of the bill the suggestion could not use, and why. */
export interface SkippedRate {
  usageType: string;
  day: string;
  reason: string;
}

/** The overlay and what was left out. */
export interface PriceSuggestion {
  overlay: CatalogJson;
  skipped: SkippedRate[];
}

const PROFILES: Readonly<Record<string, PricingProfile>> = { standard: "none", global: "global" };

/** pico-dollars per token of a rate in USD per `tokensPerUnit` tokens, when it is exact at 10^-6 USD per million tokens. */
function picoPerToken(rate: string, tokensPerUnit: number): bigint | undefined {
  // USD per unit -> pico-dollars per unit (12 digits), then per token.
  const perUnit = parseSignedDecimal(rate, 18);
  const perToken = perUnit / BigInt(tokensPerUnit);
  if (perToken * BigInt(tokensPerUnit) !== perUnit || perToken % 1_000_000n !== 0n) return undefined;
  return perToken / 1_000_000n;
}

/**
 * The overlay that makes `catalog` price what the bill charged: one entry per model, Region and
 * profile whose rate of some class differs from the catalog's on a day the bill shows, from the
 * first such day, with the bill's rates where it shows them and the catalog's elsewhere.
 * Standard usage (in-Region, or through a geographic profile: the bill does not tell them apart)
 * and global cross-Region usage are learned; other tiers (flex, priority, batch,
 * latency-optimized, long context) are reported as skipped.
 */
export function suggestPrices(bill: readonly BillGroup[], catalog: PriceCatalog, map: UsageTypeMap, billingPeriod: string): PriceSuggestion {
  const skipped: SkippedRate[] = [];
  // model, region, profile -> first day with a disagreement, and the bill's rate per class.
  const learned = new Map<string, { model: string; region: string; profile: PricingProfile; from: string; rates: Partial<Record<TokenClass, bigint>> }>();
  const sorted = [...bill].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (const group of sorted) {
    if (!(USAGE_LINE_ITEM_TYPES as readonly string[]).includes(group.lineItemType)) continue;
    const mapped = mapUsageType({ usageType: group.usageType, productName: group.productName, pricingUnit: group.pricingUnit }, map);
    if (!mapped.ok) continue;
    const profile = PROFILES[mapped.tier];
    if (profile === undefined) {
      skipped.push({ usageType: group.usageType, day: group.day, reason: `tier ${mapped.tier} is not learned (only in-Region and global usage)` });
      continue;
    }
    if (group.rates.length !== 1) {
      skipped.push({
        usageType: group.usageType,
        day: group.day,
        reason: group.rates.length === 0 ? "no unit rate" : `${group.rates.length} unit rates in one day`,
      });
      continue;
    }
    const rate = group.rates[0] as string;
    const perToken = picoPerToken(rate, mapped.tokensPerUnit);
    if (perToken === undefined) {
      skipped.push({
        usageType: group.usageType,
        day: group.day,
        reason: `rate ${rate} per ${group.pricingUnit} is finer than 0.000001 USD per million tokens`,
      });
      continue;
    }
    // The rate must explain the cost: cost = amount x rate, to the rounding of one line item per hour.
    const amountNano = parseSignedDecimal(group.usageAmount, 9);
    const expectedPico = (amountNano * parseSignedDecimal(rate, 12)) / 1_000_000_000n;
    const tolerance = 24n * 10n ** 6n;
    if (expectedPico - group.unblendedCostPico > tolerance || group.unblendedCostPico - expectedPico > tolerance) {
      skipped.push({
        usageType: group.usageType,
        day: group.day,
        reason: `cost ${group.unblendedCostPico} pico-dollars does not match ${group.usageAmount} x ${rate}`,
      });
      continue;
    }
    const at = Date.parse(`${group.day}T00:00:00Z`);
    // The bill marks global cross-Region usage only: usage without a marker is in-Region or
    // through a geographic profile (us., eu., ...), whichever the catalog prices the model by.
    const candidates: readonly PricingProfile[] = profile === "global" ? ["global"] : ["none", ...PROFILE_PREFIXES.filter((prefix) => prefix !== "global")];
    const entries = candidates.flatMap((candidate) => {
      const entry = catalog.lookup({ model: mapped.model, pricingProfile: candidate, region: mapped.region, timestamp: at });
      return entry ? [{ profile: candidate, entry }] : [];
    });
    const target = entries[0]?.profile ?? profile;
    const key = `${mapped.model}\u0000${mapped.region}\u0000${target}`;
    const known = learned.get(key);
    if (known === undefined && entries.some(({ entry }) => entry.rates[mapped.tokenClass] === perToken)) continue;
    if (known) {
      known.rates[mapped.tokenClass] ??= perToken;
      continue;
    }
    learned.set(key, { model: mapped.model, region: mapped.region, profile: target, from: group.day, rates: { [mapped.tokenClass]: perToken } });
  }
  const models: PriceEntryJson[] = [];
  for (const suggestion of [...learned.values()].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.region < b.region ? -1 : 1))) {
    const entry = catalog.lookup({
      model: suggestion.model,
      pricingProfile: suggestion.profile,
      region: suggestion.region,
      timestamp: Date.parse(`${suggestion.from}T00:00:00Z`),
    });
    const rate = (tokenClass: TokenClass) => suggestion.rates[tokenClass] ?? entry?.rates[tokenClass];
    const input = rate("input");
    const output = rate("output");
    if (input === undefined || output === undefined) {
      skipped.push({
        usageType: `${suggestion.model} (${suggestion.profile}, ${suggestion.region})`,
        day: suggestion.from,
        reason: "the bill and the catalog together have no input and output rate for it",
      });
      continue;
    }
    const json: PriceEntryJson = {
      model: suggestion.model,
      profile: suggestion.profile,
      region: suggestion.region,
      effectiveFrom: suggestion.from,
      effectiveTo: null,
      input: picoPerTokenToPricePerMillion(input),
      output: picoPerTokenToPricePerMillion(output),
      source: `CUR ${billingPeriod}`,
      confidence: "bill",
    };
    const cacheRead = rate("cacheRead");
    const cacheWrite = rate("cacheWrite");
    if (cacheRead !== undefined) json.cacheRead = picoPerTokenToPricePerMillion(cacheRead);
    if (cacheWrite !== undefined) json.cacheWrite = picoPerTokenToPricePerMillion(cacheWrite);
    models.push(json);
  }
  return { overlay: { version: `bill-${billingPeriod}`, currency: CATALOG_CURRENCY, unit: CATALOG_UNIT, models }, skipped };
}
