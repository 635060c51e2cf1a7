/**
 * The versioned price catalog: validation (every problem located by entry), overlay of a user's
 * file on the shipped defaults, and lookup of the entry that prices one invocation.
 *
 * Prices are decimal strings in USD per million tokens. The `unit` field is required and checked,
 * so a per-1K file is refused instead of being read 1000x too cheap (a bug the AWS AIP sample has).
 *
 * Precedence: the most specific selector (profile, then region) that has an entry in effect wins;
 * for one selector, an overlay's entries win at every date they cover and the entries beneath apply
 * at the other dates (`overlay` cuts their ranges around the overlay's), so a negotiated price
 * needs one dated entry and never an edit of the defaults.
 */
import { type CatalogIssue, CatalogValidationError } from "./errors";
import { PROFILE_PREFIXES, type PricingProfile } from "./model";
import { MAX_PRICE_FRACTION_DIGITS, pricePerMillionToPicoPerToken } from "./money";

/** The only unit accepted. */
export const CATALOG_UNIT = "per_million_tokens";
/** The only currency accepted. */
export const CATALOG_CURRENCY = "USD";

/** The token classes, each priced at its own rate. */
export const TOKEN_CLASSES = ["input", "output", "cacheRead", "cacheWrite"] as const;
/** One token class. */
export type TokenClass = (typeof TOKEN_CLASSES)[number];

/**
 * The rates an entry can carry: one per token class, plus `cacheWrite1h`, the rate of cache writes
 * with a one-hour lifetime (Claude bills them at 2x input where the 5-minute write is 1.25x). The
 * log counts all writes in one class; the 1-hour share is read from the response body.
 */
export const RATE_CLASSES = [...TOKEN_CLASSES, "cacheWrite1h"] as const;
/** One rate of an entry. */
export type RateClass = (typeof RATE_CLASSES)[number];

/** Rates of one tier, in pico-dollars per token; a missing class has no price. */
export type Rates = Readonly<Partial<Record<RateClass, bigint>>>;

/**
 * Service tiers with rates of their own (`X-Amzn-Bedrock-Service-Tier`, Converse `serviceTier`).
 * `default` (Standard) is the entry's own rates; `reserved` is capacity bought ahead, priced per
 * token only when a file says what its tokens cost.
 */
export const PRICED_SERVICE_TIERS = ["flex", "priority", "reserved"] as const;
/** A service tier with its own rate block. */
export type PricedServiceTier = (typeof PRICED_SERVICE_TIERS)[number];

/**
 * How the price of an entry is known: read from AWS (pricing page, an AWS doc or AWS's own
 * repository), from anyone else, or learned from the account's own bill (`prices suggest`).
 */
export const CONFIDENCE_LEVELS = ["primary", "secondary", "bill"] as const;
/** How the price of an entry is known. */
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

/** Where an entry's price comes from; every field is optional in a user's file, required of the shipped catalog. */
export interface Provenance {
  /** The page the price was read from (a URL). */
  source: string | null;
  /** The date the source was read, YYYY-MM-DD. */
  checked: string | null;
  confidence: Confidence | null;
  /** Derivations, conflicts, anything a reader of the price should know. */
  note: string | null;
}

/** Profile selector of an entry: a pricing profile or `*`. */
export type ProfileSelector = PricingProfile | "*";

/** A validated catalog entry. */
export interface PriceEntry {
  model: string;
  profile: ProfileSelector;
  /** Source AWS Region of the record, or `*`. */
  region: string;
  /** Inclusive start, epoch ms of 00:00 UTC. */
  effectiveFrom: number;
  /** Exclusive end, epoch ms of 00:00 UTC, or null for open-ended. */
  effectiveTo: number | null;
  rates: Rates;
  longContext: { aboveInputTokens: number; rates: Rates } | null;
  /** Rates when the request ran with `performanceConfig.latency = "optimized"`; null when not offered. */
  latencyOptimized: Rates | null;
  /** Rates of the service tiers the entry prices. */
  tiers: Readonly<Partial<Record<PricedServiceTier, Rates>>>;
  provenance: Provenance;
  /** Where the entry came from: `defaults` or the overlay file path. */
  origin: string;
  /** Where in that file: `models[3]`. */
  path: string;
  /** The range the file declares; `effectiveFrom`/`effectiveTo` are narrower where an overlay covers the rest. */
  declared: { effectiveFrom: number; effectiveTo: number | null };
  /** The entry as written, for `prices list`. */
  json: PriceEntryJson;
}

/** A block of rates as written: input and output required. */
export interface RatesJson {
  input: string;
  output: string;
  cacheRead?: string;
  cacheWrite?: string;
  cacheWrite1h?: string;
}

/** An entry as written in a catalog file. */
export interface PriceEntryJson {
  model: string;
  profile: string;
  region: string;
  effectiveFrom: string;
  effectiveTo: string | null;
  input: string;
  output: string;
  cacheRead?: string;
  cacheWrite?: string;
  cacheWrite1h?: string;
  longContext?: RatesJson & { aboveInputTokens: number };
  latencyOptimized?: RatesJson;
  tiers?: Partial<Record<PricedServiceTier, RatesJson>>;
  source?: string;
  checked?: string;
  confidence?: Confidence;
  note?: string;
}

/** A catalog file as written. */
export interface CatalogJson {
  version: string;
  currency: string;
  unit: string;
  models: PriceEntryJson[];
}

const PROFILE_SELECTORS: ReadonlySet<string> = new Set([...PROFILE_PREFIXES, "none", "*"]);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ENTRY_KEYS = new Set([
  "model",
  "profile",
  "region",
  "effectiveFrom",
  "effectiveTo",
  "input",
  "output",
  "cacheRead",
  "cacheWrite",
  "cacheWrite1h",
  "longContext",
  "latencyOptimized",
  "tiers",
  "source",
  "checked",
  "confidence",
  "note",
]);
const RATE_KEYS: ReadonlySet<string> = new Set(RATE_CLASSES);
const LONG_CONTEXT_KEYS: ReadonlySet<string> = new Set(["aboveInputTokens", ...RATE_CLASSES]);
const TIER_NAMES: ReadonlySet<string> = new Set(PRICED_SERVICE_TIERS);
const CONFIDENCES: ReadonlySet<string> = new Set(CONFIDENCE_LEVELS);

function parseDate(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const [, y, m, d] = match;
  const time = Date.UTC(Number(y), Number(m) - 1, Number(d));
  return new Date(time).toISOString().startsWith(text) ? time : undefined;
}

function dateText(epoch: number | null): string {
  return epoch === null ? "open" : new Date(epoch).toISOString().slice(0, 10);
}

function label(raw: Record<string, unknown>): string | undefined {
  if (typeof raw.model !== "string") return undefined;
  return `${raw.model}, profile ${String(raw.profile ?? "?")}, region ${String(raw.region ?? "?")}, from ${String(raw.effectiveFrom ?? "?")}`;
}

/**
 * Validates a parsed catalog file. Returns the entries, or throws `CatalogValidationError`
 * listing every problem with its entry (wrong unit, non-decimal or negative price, bad dates,
 * unknown profile, long-context tier missing a class, overlapping ranges for one selector).
 */
export function validateCatalog(json: unknown, origin: string): { version: string; entries: PriceEntry[] } {
  const issues: CatalogIssue[] = [];
  const problem = (path: string, message: string, entry?: string): void => {
    const issue: CatalogIssue = { origin, path, message };
    if (entry !== undefined) issue.entry = entry;
    issues.push(issue);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new CatalogValidationError([
      {
        origin,
        path: "$",
        message: "must be a JSON object with version, currency, unit and models",
      },
    ]);
  }
  const file = json as Record<string, unknown>;
  if (typeof file.version !== "string" || file.version.trim().length === 0) problem("version", "must be a non-empty string");
  if (file.currency !== CATALOG_CURRENCY) problem("currency", `must be "${CATALOG_CURRENCY}", got ${JSON.stringify(file.currency)}`);
  if (file.unit !== CATALOG_UNIT) {
    problem("unit", `must be "${CATALOG_UNIT}" (USD per 1,000,000 tokens), got ${JSON.stringify(file.unit)}; convert the file rather than risk a 1000x error`);
  }
  if (!Array.isArray(file.models)) {
    problem("models", "must be an array of price entries");
    throw new CatalogValidationError(issues);
  }
  const entries: PriceEntry[] = [];
  file.models.forEach((value: unknown, index: number) => {
    const path = `models[${index}]`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problem(path, "must be an object");
      return;
    }
    const raw = value as Record<string, unknown>;
    const entryLabel = label(raw);
    const before = issues.length;
    const at = (field: string, message: string) => problem(`${path}.${field}`, message, entryLabel);
    for (const key of Object.keys(raw)) if (!ENTRY_KEYS.has(key)) at(key, "is not a known field (typo?)");
    if (typeof raw.model !== "string" || raw.model.length === 0) at("model", "must be a non-empty model id");
    else if (raw.model.startsWith("arn:")) at("model", "must be a base model id, not an ARN");
    else if (/^(global|us|eu|apac|jp|au|us-gov)\./.test(raw.model)) at("model", "must be a base model id without a profile prefix; put the prefix in profile");
    if (typeof raw.profile !== "string" || !PROFILE_SELECTORS.has(raw.profile)) {
      at("profile", `must be one of ${[...PROFILE_SELECTORS].join(", ")}, got ${JSON.stringify(raw.profile)}`);
    }
    if (typeof raw.region !== "string" || !(raw.region === "*" || /^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw.region))) {
      at("region", `must be an AWS Region or "*", got ${JSON.stringify(raw.region)}`);
    }
    const from = typeof raw.effectiveFrom === "string" ? parseDate(raw.effectiveFrom) : undefined;
    if (from === undefined) at("effectiveFrom", `must be a YYYY-MM-DD date, got ${JSON.stringify(raw.effectiveFrom)}`);
    let to: number | null | undefined = null;
    if (raw.effectiveTo !== null && raw.effectiveTo !== undefined) {
      to = typeof raw.effectiveTo === "string" ? parseDate(raw.effectiveTo) : undefined;
      if (to === undefined) at("effectiveTo", `must be a YYYY-MM-DD date or null, got ${JSON.stringify(raw.effectiveTo)}`);
      else if (from !== undefined && to <= from) at("effectiveTo", `must be after effectiveFrom (${String(raw.effectiveFrom)})`);
    }
    const rates = parseRates(raw, at, "");
    let longContext: PriceEntry["longContext"] = null;
    const tierRaw = rateBlock(raw.longContext, "longContext", LONG_CONTEXT_KEYS, at);
    if (tierRaw) {
      const above = tierRaw.aboveInputTokens;
      if (typeof above !== "number" || !Number.isInteger(above) || above <= 0) at("longContext.aboveInputTokens", "must be a positive integer");
      const tierRates = parseRates(tierRaw, at, "longContext.");
      for (const rateClass of RATE_CLASSES) {
        if (rates[rateClass] !== undefined && tierRates[rateClass] === undefined) {
          at(`longContext.${rateClass}`, `is missing: the entry prices ${rateClass}, so its long-context tier must too`);
        }
      }
      if (typeof above === "number") longContext = { aboveInputTokens: above, rates: tierRates };
    }
    const latencyRaw = rateBlock(raw.latencyOptimized, "latencyOptimized", RATE_KEYS, at);
    const latencyOptimized = latencyRaw ? parseRates(latencyRaw, at, "latencyOptimized.") : null;
    const tiers: Partial<Record<PricedServiceTier, Rates>> = {};
    if (raw.tiers !== undefined && raw.tiers !== null) {
      if (typeof raw.tiers !== "object" || Array.isArray(raw.tiers))
        at("tiers", `must be an object keyed by service tier (${PRICED_SERVICE_TIERS.join(", ")})`);
      else {
        for (const [tier, block] of Object.entries(raw.tiers)) {
          if (!TIER_NAMES.has(tier)) {
            at(`tiers.${tier}`, `is not a service tier with its own rates (${PRICED_SERVICE_TIERS.join(", ")}; the default tier is the entry's own rates)`);
            continue;
          }
          const blockRaw = rateBlock(block, `tiers.${tier}`, RATE_KEYS, at);
          if (blockRaw) tiers[tier as PricedServiceTier] = parseRates(blockRaw, at, `tiers.${tier}.`);
        }
      }
    }
    const provenance = parseProvenance(raw, at);
    if (issues.length > before || from === undefined || to === undefined) return;
    entries.push({
      model: raw.model as string,
      profile: raw.profile as ProfileSelector,
      region: raw.region as string,
      effectiveFrom: from,
      effectiveTo: to,
      rates,
      longContext,
      latencyOptimized,
      tiers,
      provenance,
      origin,
      path,
      declared: { effectiveFrom: from, effectiveTo: to },
      json: raw as unknown as PriceEntryJson,
    });
  });
  issues.push(...findOverlaps(entries));
  if (issues.length > 0) throw new CatalogValidationError(issues);
  return { version: (file.version as string).trim(), entries };
}

/** An object of rates (or of a long-context tier), with its unknown keys reported; undefined when absent or not an object. */
function rateBlock(
  value: unknown,
  field: string,
  keys: ReadonlySet<string>,
  at: (field: string, message: string) => void,
): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    at(field, "must be an object of rates (input, output, cacheRead, cacheWrite, cacheWrite1h)");
    return undefined;
  }
  const block = value as Record<string, unknown>;
  for (const key of Object.keys(block)) if (!keys.has(key)) at(`${field}.${key}`, "is not a known field (typo?)");
  return block;
}

function parseProvenance(raw: Record<string, unknown>, at: (field: string, message: string) => void): Provenance {
  const text = (field: "source" | "note"): string | null => {
    const value = raw[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string" || value.trim().length === 0) {
      at(field, "must be a non-empty string");
      return null;
    }
    return value;
  };
  const source = text("source");
  let checked: string | null = null;
  if (raw.checked !== undefined && raw.checked !== null) {
    if (typeof raw.checked === "string" && parseDate(raw.checked) !== undefined) checked = raw.checked;
    else at("checked", `must be the YYYY-MM-DD date the source was read, got ${JSON.stringify(raw.checked)}`);
  }
  let confidence: Confidence | null = null;
  if (raw.confidence !== undefined && raw.confidence !== null) {
    if (typeof raw.confidence === "string" && CONFIDENCES.has(raw.confidence)) confidence = raw.confidence as Confidence;
    else at("confidence", `must be ${CONFIDENCE_LEVELS.map((level) => `"${level}"`).join(" or ")}, got ${JSON.stringify(raw.confidence)}`);
  }
  return { source, checked, confidence, note: text("note") };
}

function parseRates(raw: Record<string, unknown>, at: (field: string, message: string) => void, prefix: string): Rates {
  const rates: Partial<Record<RateClass, bigint>> = {};
  for (const tokenClass of RATE_CLASSES) {
    const value = raw[tokenClass];
    const required = tokenClass === "input" || tokenClass === "output";
    if (value === undefined || value === null) {
      if (required) at(`${prefix}${tokenClass}`, "is missing (a decimal string, USD per million tokens)");
      continue;
    }
    if (typeof value !== "string") {
      at(`${prefix}${tokenClass}`, `must be a decimal string such as "3.00", got ${JSON.stringify(value)} (numbers are refused to keep prices exact)`);
      continue;
    }
    if (value.trim().startsWith("-")) {
      at(`${prefix}${tokenClass}`, `must not be negative, got "${value}"`);
      continue;
    }
    const rate = pricePerMillionToPicoPerToken(value);
    if (rate === undefined) {
      at(`${prefix}${tokenClass}`, `must be a decimal string with at most ${MAX_PRICE_FRACTION_DIGITS} fractional digits, got "${value}"`);
      continue;
    }
    rates[tokenClass] = rate;
  }
  return rates;
}

function selectorKey(entry: Pick<PriceEntry, "model" | "profile" | "region">): string {
  return `${entry.model}\u0000${entry.profile}\u0000${entry.region}`;
}

function describeEntry(entry: PriceEntry): string {
  return `${entry.model}, profile ${entry.profile}, region ${entry.region}, ${dateText(entry.effectiveFrom)} to ${dateText(entry.effectiveTo)} (${entry.origin})`;
}

function findOverlaps(entries: readonly PriceEntry[]): CatalogIssue[] {
  const bySelector = new Map<string, PriceEntry[]>();
  for (const entry of entries) {
    const key = selectorKey(entry);
    const list = bySelector.get(key);
    if (list) list.push(entry);
    else bySelector.set(key, [entry]);
  }
  const issues: CatalogIssue[] = [];
  for (const list of bySelector.values()) {
    list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1] as PriceEntry;
      const current = list[i] as PriceEntry;
      if (previous.effectiveTo === null || previous.effectiveTo > current.effectiveFrom) {
        issues.push({
          origin: current.origin,
          path: "models",
          entry: describeEntry(current),
          message: `effective range overlaps ${describeEntry(previous)}; close the earlier one with effectiveTo (the entries of one file may not overlap; a file laid over another wins at the dates it covers)`,
        });
      }
    }
  }
  return issues;
}

/** What identifies the price of one invocation. */
export interface PriceQuery {
  model: string;
  pricingProfile: PricingProfile;
  /** Source AWS Region of the record, if logged. */
  region: string | null;
  /** Epoch ms of the invocation. */
  timestamp: number;
}

/**
 * A validated, immutable catalog indexed by model. `version` is stamped on every priced record,
 * so that history keeps the prices it was computed with.
 */
export class PriceCatalog {
  readonly version: string;
  readonly entries: readonly PriceEntry[];
  private readonly byModel: ReadonlyMap<string, readonly PriceEntry[]>;

  private constructor(version: string, entries: readonly PriceEntry[]) {
    this.version = version;
    this.entries = entries;
    const byModel = new Map<string, PriceEntry[]>();
    for (const entry of entries) {
      const list = byModel.get(entry.model);
      if (list) list.push(entry);
      else byModel.set(entry.model, [entry]);
    }
    this.byModel = byModel;
  }

  /** Validates one catalog file. */
  static fromJson(json: unknown, origin: string): PriceCatalog {
    const { version, entries } = validateCatalog(json, origin);
    return new PriceCatalog(version, entries);
  }

  /**
   * Lays `other` over this catalog. For each selector (model, profile, region) the overlay has
   * entries for, its entries win at every date they cover: the entries beneath keep only the dates
   * no overlay entry covers (a range may be cut in two). Selectors the overlay does not name keep
   * their entries whole. The version becomes `base+overlay`.
   */
  overlay(other: PriceCatalog): PriceCatalog {
    const covering = new Map<string, PriceEntry[]>();
    for (const entry of other.entries) {
      const key = selectorKey(entry);
      const list = covering.get(key);
      if (list) list.push(entry);
      else covering.set(key, [entry]);
    }
    for (const list of covering.values()) list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    const merged: PriceEntry[] = [];
    for (const entry of this.entries) {
      const over = covering.get(selectorKey(entry));
      if (over) merged.push(...uncoveredPieces(entry, over));
      else merged.push(entry);
    }
    merged.push(...other.entries);
    return new PriceCatalog(`${this.version}+${other.version}`, merged);
  }

  /** Whether any entry prices this base model id (at any date or tier). */
  knowsModel(model: string): boolean {
    return this.byModel.has(model);
  }

  /**
   * Finds the entry that prices `query`: among entries for the model whose effective range holds
   * the timestamp (UTC dates, from inclusive, to exclusive), the most specific wins, profile
   * before region: exact profile and exact region, then exact profile, then exact region, then
   * `*` for both.
   */
  lookup(query: PriceQuery): PriceEntry | undefined {
    const candidates = this.byModel.get(query.model);
    if (!candidates) return undefined;
    let best: PriceEntry | undefined;
    let bestScore = -1;
    for (const entry of candidates) {
      const score = matchScore(entry, query);
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Says which entry prices `query` and why: every entry of the model, whether it applies, and
   * when not, what rules it out (another profile or region, out of its range, a more specific
   * selector, the dates an overlay covers).
   */
  explain(query: PriceQuery): PriceExplanation {
    const chosen = this.lookup(query);
    const considered = (this.byModel.get(query.model) ?? []).map((entry): ConsideredEntry => {
      const reason = entry === chosen ? "applies" : whyNot(entry, query, chosen);
      return { entry, applies: entry === chosen, reason };
    });
    return { query, entry: chosen, considered };
  }
}

/** An entry considered by `explain`, and why it applies or not. */
export interface ConsideredEntry {
  entry: PriceEntry;
  applies: boolean;
  reason: string;
}

/** What `PriceCatalog.explain` answers. */
export interface PriceExplanation {
  query: PriceQuery;
  /** The entry that prices the query, if any. */
  entry: PriceEntry | undefined;
  /** Every entry of the model, in catalog order. */
  considered: ConsideredEntry[];
}

/** -1 when the entry cannot price the query; else its specificity (exact profile 2, exact region 1). */
function matchScore(entry: PriceEntry, query: PriceQuery): number {
  if (query.timestamp < entry.effectiveFrom) return -1;
  if (entry.effectiveTo !== null && query.timestamp >= entry.effectiveTo) return -1;
  const profileExact = entry.profile === query.pricingProfile;
  if (!profileExact && entry.profile !== "*") return -1;
  const regionExact = query.region !== null && entry.region === query.region;
  if (!regionExact && entry.region !== "*") return -1;
  return (profileExact ? 2 : 0) + (regionExact ? 1 : 0);
}

function whyNot(entry: PriceEntry, query: PriceQuery, chosen: PriceEntry | undefined): string {
  if (entry.profile !== "*" && entry.profile !== query.pricingProfile) return `profile ${entry.profile} is not ${query.pricingProfile}`;
  if (entry.region !== "*" && entry.region !== query.region) return `region ${entry.region} is not ${query.region ?? "unknown (not logged)"}`;
  const inDeclared = query.timestamp >= entry.declared.effectiveFrom && (entry.declared.effectiveTo === null || query.timestamp < entry.declared.effectiveTo);
  const outside = query.timestamp < entry.effectiveFrom || (entry.effectiveTo !== null && query.timestamp >= entry.effectiveTo);
  if (outside && inDeclared) return `an overlay covers ${formatCatalogDate(query.timestamp)} for this selector (this entry applies ${rangeText(entry)})`;
  if (outside) return `not in effect on ${formatCatalogDate(query.timestamp)} (${rangeText(entry)})`;
  return chosen ? `less specific than ${selectorText(chosen)}` : "not chosen";
}

function rangeText(entry: Pick<PriceEntry, "effectiveFrom" | "effectiveTo">): string {
  return `${dateText(entry.effectiveFrom)} to ${entry.effectiveTo === null ? "open" : dateText(entry.effectiveTo)}`;
}

function selectorText(entry: PriceEntry): string {
  return `profile ${entry.profile}, region ${entry.region}`;
}

/**
 * The parts of `entry`'s range that no entry of `over` covers (`over` sorted by start and not
 * overlapping, as one validated file is), each a copy of the entry with that range.
 */
function uncoveredPieces(entry: PriceEntry, over: readonly PriceEntry[]): PriceEntry[] {
  const pieces: PriceEntry[] = [];
  const end = entry.effectiveTo ?? Number.POSITIVE_INFINITY;
  let cursor = entry.effectiveFrom;
  for (const cover of over) {
    const coverEnd = cover.effectiveTo ?? Number.POSITIVE_INFINITY;
    if (coverEnd <= cursor) continue;
    if (cover.effectiveFrom >= end) break;
    if (cover.effectiveFrom > cursor) pieces.push({ ...entry, effectiveFrom: cursor, effectiveTo: cover.effectiveFrom });
    cursor = coverEnd;
    if (cursor >= end) break;
  }
  if (cursor < end) pieces.push({ ...entry, effectiveFrom: cursor, effectiveTo: entry.effectiveTo });
  return pieces;
}

/** Formats an epoch as a catalog date (YYYY-MM-DD, UTC). */
export function formatCatalogDate(epoch: number): string {
  return dateText(epoch);
}
