/**
 * Synthetic CUR 2.0 bills: the line items AWS would bill for some priced traffic, with the quirks
 * of real exports (hourly line items per usage type; Marketplace rows for some Claude models;
 * cross-Region global rows; cache token rows; credits, tax and an EDP discount; a usage type no
 * map knows; a last day still open), and drifts a test can inject (a rate above the catalog's, a
 * tier the logs do not show). The line items are plain objects; `@bedrock-spend/bill` writes
 * them as Parquet or gzip CSV.
 */
import { formatUsd, type LogUsage, logUsageOf, type Pricer, type TokenClass, type UsageRecord, type UsageTypeMap, usageTypeMap } from "@bedrock-spend/core";

/** One CUR 2.0 line item, with the columns the reconciliation reads (values as AWS writes them in CSV). */
export interface CurLineItem {
  bill_billing_period_start_date: string;
  bill_billing_entity: string;
  line_item_usage_start_date: string;
  line_item_usage_end_date: string;
  line_item_product_code: string;
  line_item_usage_type: string;
  line_item_operation: string;
  line_item_line_item_type: string;
  /** In `pricing_unit`s, exact decimal text. */
  line_item_usage_amount: string;
  line_item_unblended_rate: string;
  line_item_unblended_cost: string;
  line_item_net_unblended_cost: string;
  pricing_unit: string;
  /** The `product` map: `product_name`, `region`, `servicecode`. */
  product: Record<string, string>;
}

/** Drifts and quirks of a synthetic bill. */
export interface BillOptions {
  /** Base model ids billed through AWS Marketplace (`MP:` usage types, rates per 1M tokens, `Units`). */
  marketplaceModels?: readonly string[];
  /** The bill charges this model's usage (optionally one class) at a rate this many percent above the catalog's. */
  rateDrifts?: readonly { model: string; tokenClass?: TokenClass; percent: number }[];
  /** The bill shows this model's usage of tier `from` as tier `to` (a tier or cross-Region mismatch). */
  tierDrifts?: readonly { model: string; from: string; to: string }[];
  /** A Credit line item (negative USD) on the first day. */
  creditUsd?: string;
  /** Tax per day, USD. */
  taxUsd?: string;
  /** An EDP discount line per day, this many percent of the day's usage. */
  edpPercent?: number;
  /** A usage line per day of a usage type no map knows (image tokens), USD. */
  unknownUsageUsd?: string;
  /** The last day of the traffic is billed only up to this hour (UTC, exclusive): CUR lags. */
  openDayUntilHour?: number;
  /** The usage-type map whose names the bill uses (default: the shipped one). */
  map?: UsageTypeMap;
}

const TOKEN_WORDS: Readonly<Record<TokenClass, string>> = {
  input: "input-tokens",
  output: "output-tokens",
  cacheRead: "cache-read-input-token-count",
  cacheWrite: "cache-write-input-token-count",
};
const MARKETPLACE_WORDS: Readonly<Record<TokenClass, string>> = {
  input: "InputTokenCount",
  output: "OutputTokenCount",
  cacheRead: "CacheReadInputTokenCount",
  cacheWrite: "CacheWriteInputTokenCount",
};
const MARKETPLACE_TIERS: Readonly<Record<string, string>> = { global: "Global", batch: "Batch", flex: "Flex", priority: "Priority", "long-context": "LongCtx" };
const TIER_SUFFIXES: Readonly<Record<string, string>> = {
  global: "cross-region-global",
  flex: "flex",
  priority: "priority",
  reserved: "reserved",
  batch: "batch",
  "latency-optimized": "latency-optimized",
  "long-context": "long-context",
};

/**
 * The usage type AWS bills one model's class and tier under, in the map's names; a model the map
 * has no billing name for keeps its id (a usage type no map places). Undefined for a Region
 * without a prefix, or a Marketplace model without a product name.
 */
export function usageTypeOf(
  usage: Pick<LogUsage, "region" | "model" | "tokenClass" | "tier">,
  map: UsageTypeMap,
  marketplace: boolean,
): { usageType: string; productName: string } | undefined {
  const prefix = Object.keys(map.regions).find((key) => map.regions[key] === usage.region && key.length === 4);
  if (!prefix) return undefined;
  const parts = usage.tier === "standard" ? [] : usage.tier.split("+");
  if (marketplace) {
    const productName = Object.keys(map.products).find((name) => map.products[name] === usage.model);
    if (!productName) return undefined;
    const suffix = parts.map((part) => `_${MARKETPLACE_TIERS[part] ?? part}`).join("");
    return { usageType: `${prefix}-MP:${prefix}_${MARKETPLACE_WORDS[usage.tokenClass]}${suffix}-Units`, productName };
  }
  // A model the map has no billing name for is billed under a name no map knows: its id.
  const billingName = Object.keys(map.models).find((name) => map.models[name] === usage.model) ?? usage.model;
  // AWS writes long context before the global marker: `-input-tokens-long-context-cross-region-global`.
  const ordered = [...parts.filter((part) => part === "long-context"), ...parts.filter((part) => part !== "long-context")];
  const suffix = ordered.map((part) => `-${TIER_SUFFIXES[part] ?? part}`).join("");
  return { usageType: `${prefix}-${billingName}-${TOKEN_WORDS[usage.tokenClass]}${suffix}`, productName: "Amazon Bedrock" };
}

interface HourCell {
  hour: string;
  usage: Omit<LogUsage, "day" | "tokens" | "costPico">;
  tokens: number;
  costPico: bigint;
}

/** Exact decimal text of `numerator / 10^digits`. */
function decimal(numerator: bigint, digits: number): string {
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const scale = 10n ** BigInt(digits);
  const fraction = (abs % scale).toString().padStart(digits, "0").replace(/0+$/, "");
  const text = fraction ? `${abs / scale}.${fraction}` : `${abs / scale}`;
  return negative ? `-${text}` : text;
}

/**
 * The bill of some priced usage records, hour by hour: one usage line item per hour, usage type
 * and product, priced at the catalog's rate unless a drift says otherwise, then the quirks.
 */
export function generateBill(records: Iterable<UsageRecord>, pricer: Pricer, options: BillOptions = {}): CurLineItem[] {
  const map = options.map ?? usageTypeMap();
  const marketplace = new Set(options.marketplaceModels ?? []);
  const cells = new Map<string, HourCell>();
  let lastHour = "";
  for (const record of records) {
    const hour = `${record.event_time.slice(0, 13)}:00:00Z`;
    if (hour > lastHour) lastHour = hour;
    for (const usage of logUsageOf(record, pricer)) {
      const tierDrift = options.tierDrifts?.find((drift) => drift.model === usage.model && drift.from === usage.tier);
      const tier = tierDrift ? tierDrift.to : usage.tier;
      const key = `${hour}\u0000${usage.region}\u0000${usage.model}\u0000${usage.tokenClass}\u0000${tier}`;
      const cell = cells.get(key) ?? { hour, usage: { region: usage.region, model: usage.model, tokenClass: usage.tokenClass, tier }, tokens: 0, costPico: 0n };
      cell.tokens += usage.tokens;
      cell.costPico += usage.costPico;
      cells.set(key, cell);
    }
  }
  const openDay = lastHour.slice(0, 10);
  const items: CurLineItem[] = [];
  const usageByDay = new Map<string, bigint>();
  for (const cell of [...cells.values()].sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0))) {
    if (options.openDayUntilHour !== undefined && cell.hour.startsWith(openDay) && Number(cell.hour.slice(11, 13)) >= options.openDayUntilHour) continue;
    const viaMarketplace = marketplace.has(cell.usage.model);
    const named = usageTypeOf(cell.usage, map, viaMarketplace);
    if (!named) continue;
    const drift = options.rateDrifts?.find(
      (entry) => entry.model === cell.usage.model && (entry.tokenClass === undefined || entry.tokenClass === cell.usage.tokenClass),
    );
    const costPico = drift ? (cell.costPico * BigInt(100 + drift.percent)) / 100n : cell.costPico;
    // Native rows count 1K tokens; Marketplace rows 1M tokens (as `Units`).
    const perUnit = viaMarketplace ? 1_000_000 : 1000;
    const digits = viaMarketplace ? 6 : 3;
    const rate = cell.tokens === 0 ? 0n : (costPico * BigInt(perUnit)) / BigInt(cell.tokens);
    items.push(
      lineItem(cell.hour, {
        bill_billing_entity: viaMarketplace ? "AWS Marketplace" : "AWS",
        line_item_product_code: viaMarketplace ? "3p2ojk3oh7ndkbhkd1zasjlo3" : "AmazonBedrock",
        line_item_usage_type: named.usageType,
        line_item_operation: "InvokeModelInference",
        line_item_line_item_type: "Usage",
        line_item_usage_amount: decimal(BigInt(cell.tokens), digits),
        line_item_unblended_rate: formatUsd(rate),
        line_item_unblended_cost: formatUsd(costPico),
        line_item_net_unblended_cost: formatUsd(costPico),
        pricing_unit: viaMarketplace ? "Units" : "1K tokens",
        product: { product_name: named.productName, region: cell.usage.region, servicecode: viaMarketplace ? named.productName : "AmazonBedrock" },
      }),
    );
    const day = cell.hour.slice(0, 10);
    usageByDay.set(day, (usageByDay.get(day) ?? 0n) + costPico);
  }
  const days = [...usageByDay.keys()].sort();
  for (const day of days) {
    const at = `${day}T00:00:00Z`;
    const bedrock = { product_name: "Amazon Bedrock", region: "us-east-1", servicecode: "AmazonBedrock" };
    if (options.taxUsd) items.push(lineItem(at, adjustment("Tax", "Tax", options.taxUsd, bedrock)));
    if (options.edpPercent) {
      const discount = -((usageByDay.get(day) ?? 0n) * BigInt(Math.round(options.edpPercent * 100))) / 10_000n;
      items.push(lineItem(at, adjustment("EdpDiscount", "EdpDiscount", formatSigned(discount), bedrock)));
    }
    if (options.unknownUsageUsd)
      items.push(
        lineItem(at, {
          ...adjustment("Usage", "USE1-Nova2.0Pro-input-image-token-count-cross-region-global", options.unknownUsageUsd, bedrock),
          line_item_usage_amount: "1",
          pricing_unit: "1K tokens",
          line_item_unblended_rate: options.unknownUsageUsd,
        }),
      );
  }
  if (options.creditUsd && days[0])
    items.push(
      lineItem(
        `${days[0]}T00:00:00Z`,
        adjustment("Credit", "Credit", `-${options.creditUsd}`, { product_name: "Amazon Bedrock", region: "us-east-1", servicecode: "AmazonBedrock" }),
      ),
    );
  return items;
}

function formatSigned(pico: bigint): string {
  return pico < 0n ? `-${formatUsd(-pico)}` : formatUsd(pico);
}

function adjustment(
  type: string,
  usageType: string,
  usd: string,
  product: Record<string, string>,
): Omit<CurLineItem, "bill_billing_period_start_date" | "line_item_usage_start_date" | "line_item_usage_end_date"> {
  return {
    bill_billing_entity: "AWS",
    line_item_product_code: "AmazonBedrock",
    line_item_usage_type: usageType,
    line_item_operation: "",
    line_item_line_item_type: type,
    line_item_usage_amount: "0",
    line_item_unblended_rate: "",
    line_item_unblended_cost: usd,
    line_item_net_unblended_cost: usd,
    pricing_unit: "",
    product,
  };
}

function lineItem(
  hour: string,
  fields: Omit<CurLineItem, "bill_billing_period_start_date" | "line_item_usage_start_date" | "line_item_usage_end_date">,
): CurLineItem {
  const start = Date.parse(hour);
  return {
    bill_billing_period_start_date: `${hour.slice(0, 7)}-01T00:00:00Z`,
    line_item_usage_start_date: new Date(start).toISOString().replace(".000Z", "Z"),
    line_item_usage_end_date: new Date(start + 3_600_000).toISOString().replace(".000Z", "Z"),
    ...fields,
  };
}
