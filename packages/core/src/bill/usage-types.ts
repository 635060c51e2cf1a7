/**
 * Amazon Bedrock's usage types in the Cost and Usage Report (CUR 2.0), read as what they bill:
 * source Region, model, token class and tier. Native usage types name the model by its billing
 * name (`USE1-Claude4.5Sonnet-output-tokens-cross-region-global`); Marketplace ones name only the
 * Region and the token count (`USW2-MP:USW2_InputTokenCount-Units`), the model coming from the
 * line item's product name. Which names mean which model, Region and unit is data
 * (`usage-types.json`, extended by the user's file): nothing is guessed, and a usage type that does
 * not map says why.
 */
import type { TokenClass } from "../catalog";
import shippedJson from "./usage-types.json";

/** The mapping data: billing names, Marketplace product names, Region prefixes, pricing units. */
export interface UsageTypeMap {
  /** Billing model name (`Claude4.5Sonnet`) -> model id. */
  models: Readonly<Record<string, string>>;
  /** Marketplace `product_name` -> model id. */
  products: Readonly<Record<string, string>>;
  /** Usage-type Region prefix (`USE1`, `APS3`) -> Region. */
  regions: Readonly<Record<string, string>>;
  /** CUR `pricing_unit` -> tokens per unit. */
  units: Readonly<Record<string, number>>;
}

/** An invalid mapping file. */
export class UsageTypeMapError extends Error {
  readonly origin: string;
  constructor(origin: string, message: string) {
    super(`${origin}: ${message}`);
    this.name = "UsageTypeMapError";
    this.origin = origin;
  }
}

const SECTIONS = ["models", "products", "regions", "units"] as const;

/**
 * Checks a mapping file (`{"models": {...}, "products": {...}, "regions": {...}, "units": {...}}`,
 * every section optional): names to non-empty strings, units to positive safe integers.
 * @throws UsageTypeMapError naming the file, the section and the key
 */
export function parseUsageTypeMap(json: unknown, origin: string): Partial<UsageTypeMap> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new UsageTypeMapError(origin, "must be a JSON object");
  const result: Partial<Record<(typeof SECTIONS)[number], Record<string, string | number>>> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === "$comment") continue;
    if (!(SECTIONS as readonly string[]).includes(key)) throw new UsageTypeMapError(origin, `unknown section "${key}" (expected ${SECTIONS.join(", ")})`);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new UsageTypeMapError(origin, `"${key}" must be an object`);
    const section: Record<string, string | number> = {};
    for (const [name, target] of Object.entries(value as Record<string, unknown>)) {
      if (key === "units") {
        if (typeof target !== "number" || !Number.isSafeInteger(target) || target <= 0)
          throw new UsageTypeMapError(origin, `units["${name}"] must be a positive whole number of tokens per unit, got ${JSON.stringify(target)}`);
      } else if (typeof target !== "string" || target.length === 0)
        throw new UsageTypeMapError(origin, `${key}["${name}"] must be a non-empty string, got ${JSON.stringify(target)}`);
      section[name] = target;
    }
    result[key as (typeof SECTIONS)[number]] = section;
  }
  return result as Partial<UsageTypeMap>;
}

/** The shipped mapping, with `overrides` laid over it entry by entry (an override wins). */
export function usageTypeMap(...overrides: readonly Partial<UsageTypeMap>[]): UsageTypeMap {
  const shipped = parseUsageTypeMap(shippedJson, "packages/core/src/bill/usage-types.json") as UsageTypeMap;
  const merged: { -readonly [K in keyof UsageTypeMap]: Record<string, UsageTypeMap[K][string]> } = {
    models: { ...shipped.models },
    products: { ...shipped.products },
    regions: { ...shipped.regions },
    units: { ...shipped.units },
  };
  for (const override of overrides) for (const section of SECTIONS) Object.assign(merged[section] as Record<string, unknown>, override[section] ?? {});
  return merged;
}

/**
 * How a usage was served, as the bill and the logs can both say it, in a fixed order joined by
 * `+`: `global` (cross-Region global inference), then one of `flex`, `priority`, `reserved`,
 * `batch`, `latency-optimized`, then `long-context`. `standard` when none applies. Cache writes
 * of either lifetime (5 minutes, 1 hour) are one token class: the logs and the bill both count
 * them as cache writes, at the rate of their lifetime.
 */
export type UsageTier = string;

const TIER_ORDER = ["global", "flex", "priority", "reserved", "batch", "latency-optimized", "long-context"] as const;
type TierPart = (typeof TIER_ORDER)[number];

/** The canonical tier label of a set of parts. */
export function tierLabel(parts: Iterable<TierPart>): UsageTier {
  const set = new Set(parts);
  const label = TIER_ORDER.filter((part) => set.has(part)).join("+");
  return label === "" ? "standard" : label;
}

/** A usage type placed: what it bills. */
export interface MappedUsageType {
  ok: true;
  region: string;
  model: string;
  tokenClass: TokenClass;
  tier: UsageTier;
  /** Tokens per unit of the line item's `pricing_unit`. */
  tokensPerUnit: number;
  /** Whether the usage type is a Marketplace one (model from the product name). */
  marketplace: boolean;
}

/** A usage type that could not be placed, and why (in words a user can act on). */
export interface UnmappedUsageType {
  ok: false;
  reason: string;
}

/** What a CUR line item says about its usage. */
export interface UsageLine {
  usageType: string;
  /** `product['product_name']` (Marketplace rows name the model here). */
  productName: string | null;
  pricingUnit: string | null;
}

const NATIVE_TOKEN = /^(.+?)-(?:mantle-)?(input-tokens|output-tokens|cache-read-input-token-count|cache-write-input-token-count)(?:-(.+))?$/;
const NATIVE_CLASSES: Readonly<Record<string, TokenClass>> = {
  "input-tokens": "input",
  "output-tokens": "output",
  "cache-read-input-token-count": "cacheRead",
  "cache-write-input-token-count": "cacheWrite",
};
/** Suffix words of native usage types, longest first (they are matched greedily, dash-separated). */
const NATIVE_SUFFIXES: readonly [string, TierPart | null][] = [
  ["cross-region-global", "global"],
  ["latency-optimized", "latency-optimized"],
  ["long-context", "long-context"],
  ["1-hour", null],
  ["flex", "flex"],
  ["priority", "priority"],
  ["reserved", "reserved"],
  ["batch", "batch"],
  // The mantle endpoint's standard tier.
  ["standard", null],
];

const MARKETPLACE = /^([A-Z]{2,4}\d?)-MP:([A-Z]{2,4}\d?)_(.+)-Units$/;
/** Marketplace token names, CamelCase (`CacheWrite1hInputTokenCount`) or snake_case (`input_tokens`). */
const MARKETPLACE_CLASSES: readonly [RegExp, TokenClass, TierPart | null][] = [
  [/^CacheWrite1hInputTokenCount$/, "cacheWrite", null],
  [/^CacheWriteInputTokenCount$/, "cacheWrite", null],
  [/^CacheReadInputTokenCount$/, "cacheRead", null],
  [/^InputTokenCount$/, "input", null],
  [/^OutputTokenCount$/, "output", null],
  [/^cache_write_1h_input_tokens$/, "cacheWrite", null],
  [/^cache_write_input_tokens$/, "cacheWrite", null],
  [/^cache_read_input_tokens$/, "cacheRead", null],
  [/^input_tokens$/, "input", null],
  [/^output_tokens$/, "output", null],
];
const MARKETPLACE_SUFFIXES: Readonly<Record<string, TierPart | null>> = {
  global: "global",
  batch: "batch",
  flex: "flex",
  priority: "priority",
  long_ctx: "long-context",
  longctx: "long-context",
  standard: null,
};

/**
 * Places one line item's usage type: Region, model, token class, tier and tokens per unit.
 * Unmapped (with the reason) when a part is not in the map, the unit is unknown, or the usage type
 * is not a text token count (images, guardrails, provisioned throughput).
 */
export function mapUsageType(line: UsageLine, map: UsageTypeMap): MappedUsageType | UnmappedUsageType {
  const placed = placeUsageType(line, map);
  if (!placed.ok) return placed;
  if (line.pricingUnit === null || line.pricingUnit === "") return { ok: false, reason: "the line item has no pricing_unit" };
  const tokensPerUnit = map.units[line.pricingUnit];
  if (tokensPerUnit === undefined) return { ok: false, reason: `unknown pricing_unit "${line.pricingUnit}": add it to the units of --usage-types` };
  return { ...placed, tokensPerUnit };
}

function placeUsageType(line: UsageLine, map: UsageTypeMap): Omit<MappedUsageType, "tokensPerUnit"> | UnmappedUsageType {
  const marketplace = MARKETPLACE.exec(line.usageType);
  if (marketplace) {
    const [, prefix, , rest] = marketplace as unknown as [string, string, string, string];
    const region = map.regions[prefix];
    if (region === undefined) return { ok: false, reason: `unknown Region prefix "${prefix}": add it to the regions of --usage-types` };
    const [name, ...suffixes] = splitMarketplace(rest);
    const known = MARKETPLACE_CLASSES.find(([pattern]) => pattern.test(name));
    if (!known) return { ok: false, reason: `"${rest}" is not a token count this map knows` };
    const parts: TierPart[] = known[2] ? [known[2]] : [];
    for (const suffix of suffixes) {
      const part = MARKETPLACE_SUFFIXES[suffix];
      if (part === undefined) return { ok: false, reason: `unknown usage-type suffix "${suffix}"` };
      if (part) parts.push(part);
    }
    if (line.productName === null || line.productName === "")
      return { ok: false, reason: "a Marketplace usage type without a product name: the model is unknown" };
    const model = map.products[line.productName];
    if (model === undefined) return { ok: false, reason: `unknown Marketplace product "${line.productName}": add it to the products of --usage-types` };
    return { ok: true, region, model, tokenClass: known[1], tier: tierLabel(parts), marketplace: true };
  }
  const native = NATIVE_TOKEN.exec(line.usageType);
  if (!native) return { ok: false, reason: "not a text token usage type (input, output, cache read or cache write tokens)" };
  const [, head, token, suffix] = native as unknown as [string, string, string, string | undefined];
  const dash = head.indexOf("-");
  if (dash <= 0) return { ok: false, reason: `no Region prefix before the model name in "${head}"` };
  const prefix = head.slice(0, dash);
  const billingName = head.slice(dash + 1);
  const region = map.regions[prefix];
  if (region === undefined) return { ok: false, reason: `unknown Region prefix "${prefix}": add it to the regions of --usage-types` };
  const model = map.models[billingName];
  if (model === undefined) return { ok: false, reason: `unknown billing model name "${billingName}": add it to the models of --usage-types` };
  const parts: TierPart[] = [];
  let rest = suffix ?? "";
  while (rest !== "") {
    const match = NATIVE_SUFFIXES.find(([word]) => rest === word || rest.startsWith(`${word}-`));
    if (!match) return { ok: false, reason: `unknown usage-type suffix "${rest}"` };
    if (match[1]) parts.push(match[1]);
    rest = rest.slice(match[0].length + 1);
  }
  return { ok: true, region, model, tokenClass: NATIVE_CLASSES[token] as TokenClass, tier: tierLabel(parts), marketplace: false };
}

/** `InputTokenCount_Global` -> [`InputTokenCount`, `global`]; `input_tokens_long_ctx_standard` -> [`input_tokens`, `long_ctx`, `standard`]. */
function splitMarketplace(rest: string): [string, ...string[]] {
  const camel = /^([A-Za-z0-9]+?)((?:_[A-Z][A-Za-z]*)*)$/.exec(rest);
  if (camel && /^[A-Z]/.test(rest)) {
    const suffixes = (camel[2] ?? "")
      .split("_")
      .filter(Boolean)
      .map((part) => part.toLowerCase());
    return [camel[1] as string, ...suffixes];
  }
  const known = MARKETPLACE_CLASSES.map(([pattern]) => pattern.source.slice(1, -1)).find(
    (name) => /^[a-z]/.test(name) && (rest === name || rest.startsWith(`${name}_`)),
  );
  if (!known) return [rest];
  const tail = rest.slice(known.length + 1);
  const suffixes: string[] = [];
  let remaining = tail;
  while (remaining !== "") {
    const word =
      Object.keys(MARKETPLACE_SUFFIXES).find((candidate) => remaining === candidate || remaining.startsWith(`${candidate}_`)) ??
      remaining.split("_")[0] ??
      remaining;
    suffixes.push(word);
    remaining = remaining.slice(word.length + 1);
  }
  return [known, ...suffixes];
}
