/**
 * `bedrock-spend prices list|check`: shows, explains or validates the price catalog (the shipped
 * one, laid under `--prices` or replaced by `--prices-only`).
 */
import {
  CONFIDENCE_LEVELS,
  type Confidence,
  type ConsideredEntry,
  formatCatalogDate,
  PROFILE_PREFIXES,
  type PriceCatalog,
  type PriceEntry,
  type PriceEntryJson,
  type PriceExplanation,
  type PricingProfile,
  parseInstant,
  picoPerTokenToPricePerMillion,
  RATE_CLASSES,
  type Rates,
  suggestPrices,
} from "@bedrock-spend/core";
import { parseCommandArgs, priceFileOf } from "../args";
import { expandListOptions, readBill, usageTypeMapOf } from "../bill";
import { loadCatalog } from "../config";
import { UsageError } from "../errors";

export const PRICES_HELP = `Usage: bedrock-spend prices list [--model TEXT] [--confidence primary|secondary|bill] [--prices FILE | --prices-only FILE] [--json]
       bedrock-spend prices list --explain --model MODEL [--profile P] [--region R] --at DATE [--prices FILE | --prices-only FILE] [--json]
       bedrock-spend prices check [FILE] [--prices FILE | --prices-only FILE] [--json]
       bedrock-spend prices suggest --cur PATH... [--usage-types FILE] [--prices FILE | --prices-only FILE]

list       Prints the effective catalog: the shipped one with --prices laid over it (the file's
           entries win at the dates they cover, the shipped ones apply at the other dates), or the
           --prices-only file alone. --model keeps entries whose model id contains TEXT;
           --confidence keeps entries whose price was read from AWS (primary), elsewhere
           (secondary) or learned from the bill (bill). --json prints a catalog file.
--explain  Says which entry prices a call of MODEL (a base model id) at DATE (YYYY-MM-DD or an ISO
           instant) through profile P (none, the default, for an in-Region call, or ${PROFILE_PREFIXES.join(", ")})
           from Region R, and why: its file and position, its selector, its range, and what rules out
           every other entry of the model.
check      Validates the catalog with FILE (or --prices) laid over the shipped one, or alone with
           --prices-only, and reports every problem by file and entry: wrong unit, non-decimal or
           negative price, bad dates, overlapping ranges inside one file. Entries without a source,
           a checked date or a confidence are listed (they do not make the file invalid).

suggest    Learns each usage type's unit rate from the AWS bill (CUR 2.0 exports, as reconcile reads
           them: line_item_unblended_rate, checked against cost / usage) and prints a price file to
           lay over the catalog (--prices) that differs from the effective catalog only where the bill
           disagrees: one entry per model, Region and profile, from the first day the bill shows the
           rate, with source "CUR <billing period>" and confidence "bill". In-Region and global
           usage are learned; other tiers and unusable rates are listed on stderr.

Precedence: the most specific selector in effect wins (profile and region exact before *); for one
selector, a laid-over file wins at every date it covers. Prices are USD per million tokens.
Exit status: 0 when valid, 2 when a file is unreadable or invalid; --explain exits 1 when no entry applies.`;

export async function pricesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    expandListOptions(argv, ["--cur"]),
    {
      cur: { type: "string", multiple: true },
      "usage-types": { type: "string" },
      model: { type: "string" },
      confidence: { type: "string" },
      explain: { type: "boolean" },
      profile: { type: "string" },
      region: { type: "string" },
      at: { type: "string" },
    },
    PRICES_HELP,
  );
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    if (!values.help) throw new UsageError("prices: expected list, check or suggest", { help: PRICES_HELP });
    process.stdout.write(`${PRICES_HELP}\n`);
    return 0;
  }
  const file = priceFileOf(values);
  switch (action) {
    case "list": {
      if (rest.length > 0) throw new UsageError(`prices list: unexpected argument "${rest[0]}"`, { help: PRICES_HELP });
      if (values.explain) return explainCommand(values, await loadCatalog(file.prices, file.pricesOnly));
      for (const option of ["profile", "region", "at"] as const) {
        if (values[option] !== undefined) throw new UsageError(`prices list: --${option} goes with --explain`, { help: PRICES_HELP });
      }
      const confidence = confidenceOf(values.confidence);
      const catalog = await loadCatalog(file.prices, file.pricesOnly);
      const entries = catalog.entries.filter(
        (entry) =>
          (values.model === undefined || entry.model.includes(values.model)) && (confidence === undefined || entry.provenance.confidence === confidence),
      );
      process.stdout.write(values.json ? `${JSON.stringify(catalogJson(catalog, entries), null, 2)}\n` : formatTable(catalog, entries));
      return 0;
    }
    case "check": {
      if (rest.length > 1) throw new UsageError(`prices check: expected at most one file, got ${rest.length}`, { help: PRICES_HELP });
      if (rest.length === 1 && file.prices !== undefined)
        throw new UsageError("prices check: give the file either as an argument or with --prices/--prices-only, not both");
      const catalog = await loadCatalog(rest[0] ?? file.prices, file.pricesOnly);
      const models = new Set(catalog.entries.map((entry) => entry.model)).size;
      const gaps = provenanceGaps(catalog);
      if (values.json) {
        const withoutProvenance = gaps.map(({ entry, missing }) => ({ origin: entry.origin, path: entry.path, entry: entryLabel(entry), missing }));
        process.stdout.write(
          `${JSON.stringify({ valid: true, version: catalog.version, entries: catalog.entries.length, models, withoutSource: gaps.filter((gap) => gap.missing.includes("source")).length, withoutProvenance })}\n`,
        );
      } else {
        process.stdout.write(`ok: price catalog ${catalog.version}: ${catalog.entries.length} entries for ${models} models, unit per_million_tokens, USD\n`);
        if (gaps.length > 0) {
          process.stderr.write(`note: ${gaps.length} entr${gaps.length === 1 ? "y lacks" : "ies lack"} a source, a checked date or a confidence:\n`);
          for (const { entry, missing } of gaps.slice(0, 50))
            process.stderr.write(`  ${entry.origin}: ${entry.path} (${entryLabel(entry)}): no ${missing.join(", no ")}\n`);
          if (gaps.length > 50) process.stderr.write(`  ... and ${gaps.length - 50} more (--json lists them all)\n`);
        }
      }
      return 0;
    }
    case "suggest": {
      if (rest.length > 0) throw new UsageError(`prices suggest: unexpected argument "${rest[0]}"`, { help: PRICES_HELP });
      const cur = values.cur ?? [];
      if (cur.length === 0) throw new UsageError("prices suggest: give the bill with --cur PATH...", { help: PRICES_HELP });
      const map = await usageTypeMapOf(values["usage-types"]);
      const catalog = await loadCatalog(file.prices, file.pricesOnly);
      const bill = await readBill(cur);
      const months = [...new Set(bill.groups.map((group) => group.day.slice(0, 7)))].sort();
      const period = months.length <= 1 ? (months[0] ?? "") : `${months[0]}..${months.at(-1)}`;
      const { overlay, skipped } = suggestPrices(bill.groups, catalog, map, period);
      process.stdout.write(`${JSON.stringify(overlay, null, 2)}\n`);
      process.stderr.write(
        `${overlay.models.length} entr${overlay.models.length === 1 ? "y" : "ies"} where the bill (${period}) disagrees with the catalog ${catalog.version}; ${skipped.length} rate${skipped.length === 1 ? "" : "s"} not learned\n`,
      );
      for (const rate of skipped.slice(0, 20)) process.stderr.write(`  ${rate.day} ${rate.usageType}: ${rate.reason}\n`);
      if (skipped.length > 20) process.stderr.write(`  ... and ${skipped.length - 20} more\n`);
      return 0;
    }
    default:
      throw new UsageError(`prices: unknown action "${action}"; expected list, check or suggest`, { help: PRICES_HELP });
  }
}

/** Entries of the catalog that lack a source, a checked date or a confidence, each once (an entry cut by an overlay counts once). */
export function provenanceGaps(catalog: PriceCatalog): Array<{ entry: PriceEntry; missing: Array<"source" | "checked" | "confidence"> }> {
  const seen = new Set<PriceEntryJson>();
  const gaps: Array<{ entry: PriceEntry; missing: Array<"source" | "checked" | "confidence"> }> = [];
  for (const entry of catalog.entries) {
    if (seen.has(entry.json)) continue;
    seen.add(entry.json);
    const missing = (["source", "checked", "confidence"] as const).filter((field) => entry.provenance[field] === null);
    if (missing.length > 0) gaps.push({ entry, missing });
  }
  return gaps;
}

function confidenceOf(value: string | undefined): Confidence | undefined {
  if (value === undefined) return undefined;
  if (!(CONFIDENCE_LEVELS as readonly string[]).includes(value)) throw new UsageError(`--confidence must be ${CONFIDENCE_LEVELS.join(" or ")}, got "${value}"`);
  return value as Confidence;
}

function explainCommand(
  values: { model?: string | undefined; profile?: string | undefined; region?: string | undefined; at?: string | undefined; json?: boolean | undefined },
  catalog: PriceCatalog,
): number {
  if (values.model === undefined) throw new UsageError("prices list --explain: --model MODEL is required (a base model id)", { help: PRICES_HELP });
  if (values.at === undefined) throw new UsageError("prices list --explain: --at DATE is required (YYYY-MM-DD or an ISO instant)", { help: PRICES_HELP });
  const profile = values.profile ?? "none";
  if (profile !== "none" && !(PROFILE_PREFIXES as readonly string[]).includes(profile))
    throw new UsageError(`--profile must be none or one of ${PROFILE_PREFIXES.join(", ")}, got "${profile}"`);
  const region = values.region ?? null;
  if (region !== null && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region must be an AWS Region such as us-east-1, got "${region}"`);
  const timestamp = /^\d{4}-\d{2}-\d{2}$/.test(values.at) ? parseInstant(`${values.at}T00:00:00Z`) : parseInstant(values.at);
  if (timestamp === undefined) throw new UsageError(`--at must be a date (YYYY-MM-DD) or an ISO instant with a zone, got "${values.at}"`);
  const explanation = catalog.explain({ model: values.model, pricingProfile: profile as PricingProfile, region, timestamp });
  if (values.json) process.stdout.write(`${JSON.stringify(explanationJson(catalog, explanation), null, 2)}\n`);
  else process.stdout.write(formatExplanation(catalog, explanation));
  return explanation.entry ? 0 : 1;
}

function entryLabel(entry: PriceEntry): string {
  return `${entry.model}, profile ${entry.profile}, region ${entry.region}, from ${formatCatalogDate(entry.declared.effectiveFrom)}`;
}

function rangeOf(from: number, to: number | null): string {
  return `${formatCatalogDate(from)} to ${to === null ? "open" : formatCatalogDate(to)}`;
}

function isCut(entry: PriceEntry): boolean {
  return entry.effectiveFrom !== entry.declared.effectiveFrom || entry.effectiveTo !== entry.declared.effectiveTo;
}

function ratesText(rates: Rates): string {
  return RATE_CLASSES.filter((rateClass) => rates[rateClass] !== undefined)
    .map((rateClass) => `${rateClass} ${picoPerTokenToPricePerMillion(rates[rateClass] as bigint)}`)
    .join(", ");
}

function describe(entry: PriceEntry): string {
  const cut = isCut(entry)
    ? ` (declared ${rangeOf(entry.declared.effectiveFrom, entry.declared.effectiveTo)}; the rest is covered by a file laid over it)`
    : "";
  return `${entry.origin} ${entry.path}: profile ${entry.profile}, region ${entry.region}, ${rangeOf(entry.effectiveFrom, entry.effectiveTo)}${cut}`;
}

function whyItApplies(explanation: PriceExplanation): string {
  const entry = explanation.entry as PriceEntry;
  const profile =
    entry.profile === "*" ? `any profile (no entry in effect for profile ${explanation.query.pricingProfile})` : `profile ${entry.profile} exactly`;
  const region =
    entry.region === "*"
      ? `any region${explanation.query.region === null ? "" : ` (no entry in effect for ${explanation.query.region})`}`
      : `region ${entry.region} exactly`;
  return `the most specific selector in effect on ${formatCatalogDate(explanation.query.timestamp)}: ${profile}, ${region}`;
}

function formatExplanation(catalog: PriceCatalog, explanation: PriceExplanation): string {
  const { query } = explanation;
  const lines = [
    `price of ${query.model}, profile ${query.pricingProfile}, region ${query.region ?? "unknown"}, at ${new Date(query.timestamp).toISOString()} (catalog ${catalog.version})`,
  ];
  if (explanation.considered.length === 0) {
    lines.push(`no price: ${query.model} is not in the catalog (prices list --model lists what is)`);
    return `${lines.join("\n")}\n`;
  }
  const entry = explanation.entry;
  if (entry) {
    lines.push(`applies: ${describe(entry)}`);
    lines.push(`  rates: ${ratesText(entry.rates)}`);
    if (entry.longContext) lines.push(`  above ${entry.longContext.aboveInputTokens} input tokens: ${ratesText(entry.longContext.rates)}`);
    if (entry.latencyOptimized) lines.push(`  latency-optimized: ${ratesText(entry.latencyOptimized)}`);
    for (const [tier, rates] of Object.entries(entry.tiers)) lines.push(`  ${tier} tier: ${ratesText(rates)}`);
    lines.push(`  why: ${whyItApplies(explanation)}`);
    const { source, checked, confidence, note } = entry.provenance;
    lines.push(`  source: ${source ?? "none given"}${checked ? `, checked ${checked}` : ""}${confidence ? `, ${confidence}` : ""}${note ? ` (${note})` : ""}`);
  } else lines.push(`no price: no entry of ${query.model} is in effect for this profile, region and date`);
  const others = explanation.considered.filter((considered) => !considered.applies);
  if (others.length > 0) {
    lines.push("other entries of the model:");
    for (const other of others) lines.push(`  ${describe(other.entry)}: ${other.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

function explanationJson(catalog: PriceCatalog, explanation: PriceExplanation) {
  const entryJson = (entry: PriceEntry) => ({
    origin: entry.origin,
    path: entry.path,
    model: entry.model,
    profile: entry.profile,
    region: entry.region,
    effectiveFrom: formatCatalogDate(entry.effectiveFrom),
    effectiveTo: entry.effectiveTo === null ? null : formatCatalogDate(entry.effectiveTo),
    declared: {
      effectiveFrom: formatCatalogDate(entry.declared.effectiveFrom),
      effectiveTo: entry.declared.effectiveTo === null ? null : formatCatalogDate(entry.declared.effectiveTo),
    },
    json: entry.json,
  });
  return {
    catalog: catalog.version,
    query: {
      model: explanation.query.model,
      profile: explanation.query.pricingProfile,
      region: explanation.query.region,
      at: new Date(explanation.query.timestamp).toISOString(),
    },
    applies: explanation.entry ? { ...entryJson(explanation.entry), why: whyItApplies(explanation) } : null,
    considered: explanation.considered
      .filter((considered: ConsideredEntry) => !considered.applies)
      .map((considered) => ({ ...entryJson(considered.entry), reason: considered.reason })),
  };
}

/** The entries as a catalog file: an entry cut by an overlay is written with the range it keeps, so that the file prices as the catalog does. */
function catalogJson(catalog: PriceCatalog, entries: readonly PriceEntry[]) {
  return {
    version: catalog.version,
    currency: "USD",
    unit: "per_million_tokens",
    models: entries.map((entry) =>
      isCut(entry)
        ? {
            ...entry.json,
            effectiveFrom: formatCatalogDate(entry.effectiveFrom),
            effectiveTo: entry.effectiveTo === null ? null : formatCatalogDate(entry.effectiveTo),
          }
        : entry.json,
    ),
  };
}

function formatTable(catalog: PriceCatalog, entries: readonly PriceEntry[]): string {
  const header = [
    "model",
    "profile",
    "region",
    "from",
    "to",
    "input",
    "output",
    "cacheRead",
    "cacheWrite",
    "cacheWrite1h",
    "longContext",
    "more",
    "confidence",
    "origin",
  ];
  const rows = entries
    .slice()
    .sort(
      (a, b) => a.model.localeCompare(b.model) || a.profile.localeCompare(b.profile) || a.region.localeCompare(b.region) || a.effectiveFrom - b.effectiveFrom,
    )
    .map((entry) => [
      entry.model,
      entry.profile,
      entry.region,
      formatCatalogDate(entry.effectiveFrom),
      entry.effectiveTo === null ? "-" : formatCatalogDate(entry.effectiveTo),
      entry.json.input,
      entry.json.output,
      entry.json.cacheRead ?? "-",
      entry.json.cacheWrite ?? "-",
      entry.json.cacheWrite1h ?? "-",
      entry.json.longContext ? `>${entry.json.longContext.aboveInputTokens}: ${entry.json.longContext.input}/${entry.json.longContext.output}` : "-",
      [entry.latencyOptimized ? "latency-optimized" : "", ...Object.keys(entry.tiers)].filter(Boolean).join(",") || "-",
      entry.provenance.confidence ?? "-",
      `${entry.origin} ${entry.path}`,
    ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n\nprice catalog ${catalog.version}: ${entries.length} entries, USD per million tokens\n`;
}
