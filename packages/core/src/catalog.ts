/**
 * The versioned price catalog: validation (every problem located by entry), overlay of a user's
 * file on the shipped defaults, and lookup of the entry that prices one invocation.
 *
 * Prices are decimal strings in USD per million tokens. The `unit` field is required and checked,
 * so a per-1K file is refused instead of being read 1000x too cheap (a bug the AWS AIP sample has).
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

/** Rates of one tier, in pico-dollars per token; a missing class has no price. */
export type Rates = Readonly<Partial<Record<TokenClass, bigint>>>;

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
  source: string | null;
  /** Where the entry came from: `defaults` or the overlay file path. */
  origin: string;
  /** The entry as written, for `prices list`. */
  json: PriceEntryJson;
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
  longContext?: {
    aboveInputTokens: number;
    input: string;
    output: string;
    cacheRead?: string;
    cacheWrite?: string;
  };
  source?: string;
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
  "longContext",
  "source",
]);
const LONG_CONTEXT_KEYS = new Set(["aboveInputTokens", "input", "output", "cacheRead", "cacheWrite"]);

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
    const rates = parseRates(raw, (field, message) => at(field, message), "");
    let longContext: PriceEntry["longContext"] = null;
    if (raw.longContext !== undefined && raw.longContext !== null) {
      const tier = raw.longContext;
      if (typeof tier !== "object" || Array.isArray(tier)) {
        at("longContext", "must be an object");
      } else {
        const tierRaw = tier as Record<string, unknown>;
        for (const key of Object.keys(tierRaw)) if (!LONG_CONTEXT_KEYS.has(key)) at(`longContext.${key}`, "is not a known field (typo?)");
        const above = tierRaw.aboveInputTokens;
        if (typeof above !== "number" || !Number.isInteger(above) || above <= 0) at("longContext.aboveInputTokens", "must be a positive integer");
        const tierRates = parseRates(tierRaw, (field, message) => at(field, message), "longContext.");
        for (const tokenClass of TOKEN_CLASSES) {
          if (rates[tokenClass] !== undefined && tierRates[tokenClass] === undefined) {
            at(`longContext.${tokenClass}`, `is missing: the entry prices ${tokenClass}, so its long-context tier must too`);
          }
        }
        if (typeof above === "number") longContext = { aboveInputTokens: above, rates: tierRates };
      }
    }
    if (raw.source !== undefined && typeof raw.source !== "string") at("source", "must be a string");
    if (issues.length > before || from === undefined || to === undefined) return;
    entries.push({
      model: raw.model as string,
      profile: raw.profile as ProfileSelector,
      region: raw.region as string,
      effectiveFrom: from,
      effectiveTo: to,
      rates,
      longContext,
      source: typeof raw.source === "string" ? raw.source : null,
      origin,
      json: raw as unknown as PriceEntryJson,
    });
  });
  issues.push(...findOverlaps(entries));
  if (issues.length > 0) throw new CatalogValidationError(issues);
  return { version: (file.version as string).trim(), entries };
}

function parseRates(raw: Record<string, unknown>, at: (field: string, message: string) => void, prefix: string): Rates {
  const rates: Partial<Record<TokenClass, bigint>> = {};
  for (const tokenClass of TOKEN_CLASSES) {
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
          message: `effective range overlaps ${describeEntry(previous)}; close the earlier one with effectiveTo, or use the same effectiveFrom to replace it`,
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
   * Overlays `overlay` on this catalog: an overlay entry with the same (model, profile, region,
   * effectiveFrom) replaces the base entry; the others are added. Overlaps in the result are
   * errors that name both entries and both files. The version becomes `base+overlay`.
   */
  overlay(other: PriceCatalog): PriceCatalog {
    const replaced = new Set(other.entries.map((entry) => `${selectorKey(entry)}\u0000${entry.effectiveFrom}`));
    const merged = [...this.entries.filter((entry) => !replaced.has(`${selectorKey(entry)}\u0000${entry.effectiveFrom}`)), ...other.entries];
    const issues = findOverlaps(merged);
    if (issues.length > 0) throw new CatalogValidationError(issues);
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
      if (query.timestamp < entry.effectiveFrom) continue;
      if (entry.effectiveTo !== null && query.timestamp >= entry.effectiveTo) continue;
      const profileExact = entry.profile === query.pricingProfile;
      if (!profileExact && entry.profile !== "*") continue;
      const regionExact = query.region !== null && entry.region === query.region;
      if (!regionExact && entry.region !== "*") continue;
      const score = (profileExact ? 2 : 0) + (regionExact ? 1 : 0);
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    return best;
  }
}

/** Formats an epoch as a catalog date (YYYY-MM-DD, UTC). */
export function formatCatalogDate(epoch: number): string {
  return dateText(epoch);
}
