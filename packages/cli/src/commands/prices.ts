/**
 * `bedrock-spend prices list|check`: shows or validates the price catalog (defaults merged with
 * `--prices`).
 */
import { formatCatalogDate, type PriceCatalog, type PriceEntry } from "@bedrock-spend/core";
import { parseCommandArgs } from "../args";
import { loadCatalog } from "../config";
import { UsageError } from "../errors";

export const PRICES_HELP = `Usage: bedrock-spend prices list [--model TEXT] [--prices FILE] [--json]
       bedrock-spend prices check [FILE] [--prices FILE] [--json]

list    Prints the effective catalog: the shipped defaults overlaid with --prices. --model
        keeps entries whose model id contains TEXT. --json prints a catalog file.
check   Validates the defaults merged with FILE (or --prices) and reports every problem by entry:
        wrong unit, non-decimal or negative price, bad dates, overlapping effective ranges.

Prices are USD per million tokens. Exit status: 0 when valid, 2 when a file is unreadable or invalid.`;

export async function pricesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { model: { type: "string" } }, PRICES_HELP);
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    if (!values.help)
      throw new UsageError("prices: expected list or check", {
        help: PRICES_HELP,
      });
    process.stdout.write(`${PRICES_HELP}\n`);
    return 0;
  }
  switch (action) {
    case "list": {
      if (rest.length > 0)
        throw new UsageError(`prices list: unexpected argument "${rest[0]}"`, {
          help: PRICES_HELP,
        });
      const catalog = await loadCatalog(values.prices);
      const entries = catalog.entries.filter((entry) => values.model === undefined || entry.model.includes(values.model));
      process.stdout.write(values.json ? `${JSON.stringify(catalogJson(catalog, entries), null, 2)}\n` : formatTable(catalog, entries));
      return 0;
    }
    case "check": {
      if (rest.length > 1) throw new UsageError(`prices check: expected at most one file, got ${rest.length}`, { help: PRICES_HELP });
      if (rest.length === 1 && values.prices !== undefined)
        throw new UsageError("prices check: give the file either as an argument or with --prices, not both");
      const catalog = await loadCatalog(rest[0] ?? values.prices);
      const models = new Set(catalog.entries.map((entry) => entry.model)).size;
      const withoutSource = catalog.entries.filter((entry) => entry.source === null).length;
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ valid: true, version: catalog.version, entries: catalog.entries.length, models, withoutSource })}\n`);
      } else {
        process.stdout.write(`ok: price catalog ${catalog.version}: ${catalog.entries.length} entries for ${models} models, unit per_million_tokens, USD\n`);
        if (withoutSource > 0) process.stderr.write(`note: ${withoutSource} entries have no source note\n`);
      }
      return 0;
    }
    default:
      throw new UsageError(`prices: unknown action "${action}"; expected list or check`, { help: PRICES_HELP });
  }
}

function catalogJson(catalog: PriceCatalog, entries: readonly PriceEntry[]) {
  return {
    version: catalog.version,
    currency: "USD",
    unit: "per_million_tokens",
    models: entries.map((entry) => entry.json),
  };
}

function formatTable(catalog: PriceCatalog, entries: readonly PriceEntry[]): string {
  const header = ["model", "profile", "region", "from", "to", "input", "output", "cacheRead", "cacheWrite", "longContext"];
  const rows = entries
    .slice()
    .sort((a, b) => a.model.localeCompare(b.model) || a.profile.localeCompare(b.profile) || a.effectiveFrom - b.effectiveFrom)
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
      entry.json.longContext ? `>${entry.json.longContext.aboveInputTokens}: ${entry.json.longContext.input}/${entry.json.longContext.output}` : "-",
    ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n\nprice catalog ${catalog.version}: ${entries.length} entries, USD per million tokens\n`;
}
