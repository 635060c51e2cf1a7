/**
 * The bill against the logs: CUR 2.0 line items (summed by day and usage type by the reader) and
 * the logs' tokens and costs, both by day, source Region, model, token class and tier, with the
 * drift between them and the usual reason for it. Pure: the reader (DuckDB) and the log side
 * (the lake, or logs priced on the fly) hand their sums in.
 */
import { TOKEN_CLASSES, type TokenClass } from "../catalog";
import { computeCost } from "../cost";
import { resolveModel } from "../model";
import { formatUsd } from "../money";
import type { DayKey } from "../periods";
import type { Pricer } from "../pricer";
import { invocationLogOfRecord } from "../reprice";
import type { UsageRecord } from "../usage";
import { mapUsageType, type UsageTier, type UsageTypeMap } from "./usage-types";

/** Product codes of Bedrock usage in CUR (AgentCore included: it is Bedrock's bill, though not model inference). */
export const BEDROCK_PRODUCT_CODES = ["AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels", "AmazonBedrockAgentCore"] as const;
/** What the product name of a model sold through AWS Marketplace ends with (`Claude 3 Haiku (Amazon Bedrock Edition)`). */
export const MARKETPLACE_EDITION = "(Amazon Bedrock Edition)";

/** The CUR 2.0 columns a reconciliation cannot do without. */
export const REQUIRED_CUR_COLUMNS = [
  "line_item_usage_start_date",
  "line_item_product_code",
  "line_item_usage_type",
  "line_item_line_item_type",
  "line_item_usage_amount",
  "line_item_unblended_cost",
] as const;

/** Line item types that are usage at its rate: they make the bill's side of the drift. */
export const USAGE_LINE_ITEM_TYPES = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"] as const;
/** Line item types left out of every figure. */
export const TAX_LINE_ITEM_TYPES = ["Tax"] as const;

/** CUR line items of one day, usage type, product and line item type, summed by the reader. */
export interface BillGroup {
  /** UTC day of `line_item_usage_start_date`. */
  day: DayKey;
  usageType: string;
  productCode: string;
  /** `product['product_name']`. */
  productName: string | null;
  billingEntity: string | null;
  lineItemType: string;
  pricingUnit: string | null;
  /** Sum of `line_item_usage_amount`, an exact decimal (in `pricingUnit`s). */
  usageAmount: string;
  /** Sum of `line_item_unblended_cost`, pico-dollars (negative for credits). */
  unblendedCostPico: bigint;
  /** Sum of `line_item_net_unblended_cost` (the unblended cost where the export has none), pico-dollars. */
  netCostPico: bigint;
  /** Distinct `line_item_unblended_rate` values, exact decimals (USD per `pricingUnit`). */
  rates: readonly string[];
  /** The latest hour of the day (0-23, UTC) with a line item of this group. */
  lastHour: number;
}

/** The logs' tokens and cost of one day, source Region (the bill prices by it), base model, token class and tier. */
export interface LogUsage extends UsageCellKey {
  tokens: number;
  costPico: bigint;
}

/** What a line of the reconciliation is about: a day, a source Region, a model, a token class, a tier. */
export interface UsageCellKey {
  day: DayKey;
  region: string;
  model: string;
  tokenClass: TokenClass;
  tier: UsageTier;
}

/** One line of the reconciliation. */
export interface ReconcileRow extends UsageCellKey {
  logTokens: number;
  billTokens: number;
  logCostUsd: string;
  billCostUsd: string;
  /** `billCostUsd - logCostUsd`: positive when the bill is higher. */
  driftUsd: string;
  /** The drift in percent of the bill, two decimals; null when the bill is 0. */
  driftPct: string | null;
  likelyCause: string | null;
}

/** A Bedrock usage line item the map cannot place, summed over its days. */
export interface UnmappedBillLine {
  usageType: string;
  productCode: string;
  productName: string | null;
  billCostUsd: string;
  /** Sum of `line_item_usage_amount` in `pricingUnit`s. */
  usageAmount: string;
  pricingUnit: string | null;
  reason: string;
}

/** The reconciliation (`reconcile --json`). */
export interface ReconcileReport {
  rows: ReconcileRow[];
  unmapped: UnmappedBillLine[];
  totals: {
    /** The logs' cost over every row. */
    logCostUsd: string;
    /** Usage line items of Bedrock, placed or not. */
    billCostUsd: string;
    /** Of `billCostUsd`, the usage the map could not place. */
    unmappedCostUsd: string;
    /** Every Bedrock line item but tax, net of credits, refunds and discounts (EDP, private rates). */
    netBillCostUsd: string;
    /** `billCostUsd - unmappedCostUsd - logCostUsd`: the drift of the rows. */
    driftUsd: string;
    driftPct: string | null;
  };
}

/** Options of `reconcile`. */
export interface ReconcileOptions {
  map: UsageTypeMap;
}

/** An exact signed decimal as an integer scaled by 10^scale (rounded half away from zero beyond it). */
export function parseSignedDecimal(text: string, scale: number): bigint {
  const match = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const exponent = Number(match[4] ?? "0");
  const digits = `${match[2] ?? ""}${match[3] ?? ""}`;
  const shift = scale - (match[3] ?? "").length + exponent;
  let value: bigint;
  if (shift >= 0) value = BigInt(digits || "0") * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    const whole = BigInt(digits || "0");
    value = whole / divisor + ((whole % divisor) * 2n >= divisor ? 1n : 0n);
  }
  return match[1] === "-" ? -value : value;
}

/** Pico-dollars as a signed exact decimal string. */
function usd(pico: bigint): string {
  return pico < 0n ? `-${formatUsd(-pico)}` : formatUsd(pico);
}

/** `part / whole` in percent with two decimals (rounded half away from zero); null when `whole` is 0. */
export function percentOf(part: bigint, whole: bigint): string | null {
  if (whole === 0n) return null;
  const scaled = (part * 10_000n * 2n) / whole;
  const rounded = scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n;
  const negative = rounded < 0n;
  const abs = negative ? -rounded : rounded;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
  return negative ? `-${text}` : text;
}

interface Cell extends UsageCellKey {
  logTokens: number;
  billTokens: number;
  logCostPico: bigint;
  billCostPico: bigint;
  billRates: Set<string>;
  pricingUnit: string | null;
}

const keyOf = (day: string, region: string, model: string, tokenClass: string, tier: string) =>
  `${day}\u0000${region}\u0000${model}\u0000${tokenClass}\u0000${tier}`;

/**
 * Reconciles the bill with the logs. Usage line items (`USAGE_LINE_ITEM_TYPES`) of placed usage
 * types make the bill's side of each row; those the map cannot place are listed with the reason;
 * every other line item but tax counts only in `netBillCostUsd`. Rows are sorted by absolute
 * drift, largest first, then by day, Region, model, class and tier.
 */
export function reconcile(bill: readonly BillGroup[], logs: readonly LogUsage[], options: ReconcileOptions): ReconcileReport {
  const cells = new Map<string, Cell>();
  const cellOf = (day: string, region: string, model: string, tokenClass: TokenClass, tier: string): Cell => {
    const key = keyOf(day, region, model, tokenClass, tier);
    let cell = cells.get(key);
    if (!cell) {
      cell = { day, region, model, tokenClass, tier, logTokens: 0, billTokens: 0, logCostPico: 0n, billCostPico: 0n, billRates: new Set(), pricingUnit: null };
      cells.set(key, cell);
    }
    return cell;
  };
  const unmapped = new Map<string, UnmappedBillLine & { costPico: bigint; amountNano: bigint }>();
  const lastHourOfDay = new Map<DayKey, number>();
  let billPico = 0n;
  let unmappedPico = 0n;
  let netPico = 0n;
  for (const group of bill) {
    if ((TAX_LINE_ITEM_TYPES as readonly string[]).includes(group.lineItemType)) continue;
    netPico += group.netCostPico;
    if (!(USAGE_LINE_ITEM_TYPES as readonly string[]).includes(group.lineItemType)) continue;
    lastHourOfDay.set(group.day, Math.max(lastHourOfDay.get(group.day) ?? 0, group.lastHour));
    billPico += group.unblendedCostPico;
    const mapped = mapUsageType({ usageType: group.usageType, productName: group.productName, pricingUnit: group.pricingUnit }, options.map);
    if (!mapped.ok) {
      unmappedPico += group.unblendedCostPico;
      const key = `${group.usageType}\u0000${group.productCode}\u0000${group.productName}\u0000${group.pricingUnit}`;
      const entry = unmapped.get(key) ?? {
        usageType: group.usageType,
        productCode: group.productCode,
        productName: group.productName,
        billCostUsd: "",
        usageAmount: "",
        pricingUnit: group.pricingUnit,
        reason: mapped.reason,
        costPico: 0n,
        amountNano: 0n,
      };
      entry.costPico += group.unblendedCostPico;
      entry.amountNano += parseSignedDecimal(group.usageAmount, 9);
      unmapped.set(key, entry);
      continue;
    }
    const cell = cellOf(group.day, mapped.region, mapped.model, mapped.tokenClass, mapped.tier);
    // Tokens are whole: an amount in 1K tokens carries at most three decimals that matter.
    cell.billTokens += Number((parseSignedDecimal(group.usageAmount, 9) * BigInt(mapped.tokensPerUnit) + 500_000_000n) / 1_000_000_000n);
    cell.billCostPico += group.unblendedCostPico;
    for (const rate of group.rates) cell.billRates.add(rate);
    cell.pricingUnit = group.pricingUnit;
  }
  let logPico = 0n;
  for (const usage of logs) {
    const cell = cellOf(usage.day, usage.region, usage.model, usage.tokenClass, usage.tier);
    cell.logTokens += usage.tokens;
    cell.logCostPico += usage.costPico;
    logPico += usage.costPico;
  }
  const lastBillDay = [...lastHourOfDay.keys()].sort().at(-1);
  const unfinished = (day: DayKey) => lastBillDay === undefined || day > lastBillDay || (lastHourOfDay.get(day) ?? 0) < 23;
  // The cells of each day, Region, model and class across tiers: where a tier mismatch shows.
  const tiersOf = new Map<string, Cell[]>();
  for (const cell of cells.values()) {
    const key = keyOf(cell.day, cell.region, cell.model, cell.tokenClass, "");
    const group = tiersOf.get(key);
    if (group) group.push(cell);
    else tiersOf.set(key, [cell]);
  }
  const rows = [...cells.values()].map((cell): ReconcileRow & { drift: bigint } => {
    const drift = cell.billCostPico - cell.logCostPico;
    return {
      day: cell.day,
      region: cell.region,
      model: cell.model,
      tokenClass: cell.tokenClass,
      tier: cell.tier,
      logTokens: cell.logTokens,
      billTokens: cell.billTokens,
      logCostUsd: usd(cell.logCostPico),
      billCostUsd: usd(cell.billCostPico),
      driftUsd: usd(drift),
      driftPct: percentOf(drift, cell.billCostPico),
      likelyCause: likelyCause(
        cell,
        (tiersOf.get(keyOf(cell.day, cell.region, cell.model, cell.tokenClass, "")) ?? []).filter((other) => other !== cell),
        unfinished(cell.day),
      ),
      drift,
    };
  });
  rows.sort((a, b) => {
    const byDrift = (b.drift < 0n ? -b.drift : b.drift) - (a.drift < 0n ? -a.drift : a.drift);
    if (byDrift !== 0n) return byDrift > 0n ? 1 : -1;
    return keyOf(a.day, a.region, a.model, a.tokenClass, a.tier) < keyOf(b.day, b.region, b.model, b.tokenClass, b.tier) ? -1 : 1;
  });
  const mappedBill = billPico - unmappedPico;
  return {
    rows: rows.map(({ drift: _drift, ...row }) => row),
    unmapped: [...unmapped.values()]
      .sort((a, b) => (b.costPico > a.costPico ? 1 : b.costPico < a.costPico ? -1 : a.usageType < b.usageType ? -1 : 1))
      .map(({ costPico, amountNano, ...line }) => ({ ...line, billCostUsd: usd(costPico), usageAmount: formatAmount(amountNano) })),
    totals: {
      logCostUsd: usd(logPico),
      billCostUsd: usd(billPico),
      unmappedCostUsd: usd(unmappedPico),
      netBillCostUsd: usd(netPico),
      driftUsd: usd(mappedBill - logPico),
      driftPct: percentOf(mappedBill - logPico, mappedBill),
    },
  };
}

/** A usage amount in billionths as a decimal without trailing zeros. */
function formatAmount(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const text = fraction ? `${abs / 1_000_000_000n}.${fraction}` : `${abs / 1_000_000_000n}`;
  return negative ? `-${text}` : text;
}

/**
 * The usual reason for a row's drift, when the numbers fit one (AWS's list: missing logs, another
 * rate, a tier or cross-Region mismatch, cache tokens, a day the bill has not finished).
 * `siblings`: the cells of the same day, Region, model and class under the other tiers.
 */
function likelyCause(cell: Cell, siblings: readonly Cell[], dayUnfinished: boolean): string | null {
  if (cell.billCostPico === cell.logCostPico && cell.billTokens === cell.logTokens) return null;
  if (cell.billTokens > cell.logTokens) {
    const other = siblings.find((sibling) => sibling.logTokens > sibling.billTokens);
    if (other) return `tier or cross-Region mismatch: the logs count tokens of this day as ${other.tier} that the bill has as ${cell.tier}`;
    if (cell.logTokens === 0 && (cell.tokenClass === "cacheRead" || cell.tokenClass === "cacheWrite"))
      return `cache tokens: the bill has ${cell.billTokens} ${cell.tokenClass} tokens the logs do not show`;
    return `missing log records: the bill has ${cell.billTokens - cell.logTokens} tokens more than the logs`;
  }
  if (cell.billTokens < cell.logTokens) {
    if (dayUnfinished) return "a day the bill has not finished: CUR lags up to a day (and restates the previous month for two weeks)";
    const other = siblings.find((sibling) => sibling.billTokens > sibling.logTokens);
    if (other) return `tier or cross-Region mismatch: the bill has tokens of this day as ${other.tier} that the logs count as ${cell.tier}`;
    return `the logs have ${cell.logTokens - cell.billTokens} tokens more than the bill (another account's bill, or usage the map places elsewhere)`;
  }
  const rates = [...cell.billRates];
  const rate =
    rates.length === 1 ? `${rates[0]} USD per ${cell.pricingUnit ?? "unit"}` : `${rates.length} rates (${rates.join(", ")}) per ${cell.pricingUnit ?? "unit"}`;
  return `a rate different from the catalog: the bill's rate is ${rate}`;
}

/**
 * What one invocation adds to the logs' side: its tokens and cost by token class, under the
 * tier the bill would show it in (global cross-Region, service tier, optimized latency, long
 * context). Priced again with `pricer` (the catalog the user reconciles against), so that the
 * cost of each class is exact; an invocation the catalog does not price counts its tokens at 0.
 */
export function logUsageOf(record: UsageRecord, pricer: Pricer): LogUsage[] {
  return logUsageWith(record, record, pricer);
}

/**
 * Invocations of one day summed by everything that decides their price: the model and Region,
 * the service tier and latency, which token classes they used, and how many of the catalog's
 * long-context thresholds (`longContextThresholds`) their context passed. Athena sums the lake
 * into these on AWS (a day is millions of rows; its groups are a few hundred).
 */
export interface LogUsageGroup {
  day: DayKey;
  modelId: string;
  /** The lake's `model` column (the base model an application inference profile resolved to), if any. */
  model: string | null;
  region: string | null;
  serviceTier: string | null;
  latency: string | null;
  /** Bits of the classes with tokens in every invocation of the group: 1 input, 2 output, 4 cache read, 8 cache write, 16 one-hour cache write. */
  classMask: number;
  /** How many of the sorted thresholds the context (input + cache read + cache write) of each invocation is above. */
  contextBucket: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
}

/** The class bits of `LogUsageGroup.classMask`. */
export const CLASS_BITS = { input: 1, output: 2, cacheRead: 4, cacheWrite: 8, cacheWrite1h: 16 } as const;

/**
 * The distinct long-context thresholds (`aboveInputTokens`) of every catalog the pricer uses,
 * ascending: what a group's `contextBucket` counts against.
 */
export function longContextThresholds(pricer: Pricer): number[] {
  const thresholds = new Set<number>();
  for (const catalog of [pricer.catalog, ...pricer.periods.map((period) => period.catalog)])
    for (const entry of catalog.entries) if (entry.longContext) thresholds.add(entry.longContext.aboveInputTokens);
  return [...thresholds].sort((a, b) => a - b);
}

/**
 * What a group of invocations adds to the logs' side: exactly the sum of `logUsageOf` over its
 * invocations. A probe invocation with the group's classes and a context in the group's bucket
 * decides the entry, the tier and whether it is priced, as each invocation of the group did;
 * the group's summed tokens are then priced with that decision (the cost is linear in tokens).
 */
export function logUsageOfGroup(group: LogUsageGroup, thresholds: readonly number[], pricer: Pricer): LogUsage[] {
  const has = (bit: number) => (group.classMask & bit) !== 0;
  // The smallest context in the bucket: just above its threshold, or 0..3 tokens below the first.
  const context = group.contextBucket === 0 ? 0 : (thresholds[group.contextBucket - 1] ?? 0) + 1;
  const contextClass = has(CLASS_BITS.input) ? "input" : has(CLASS_BITS.cacheRead) ? "cacheRead" : "cacheWrite";
  const probeTokens = (tokenClass: "input" | "cacheRead" | "cacheWrite", bit: number) =>
    !has(bit) ? 0 : context > 0 && tokenClass === contextClass ? context : 1;
  const base: UsageRecord = {
    request_id: "",
    event_time: `${group.day}T00:00:00.000Z`,
    account_id: null,
    region: group.region,
    inference_region: null,
    operation: null,
    model_id: group.modelId,
    model: group.model,
    profile: "",
    tenant_id: "",
    tenant_group: "",
    department_id: null,
    user_id: null,
    application_id: null,
    principal_arn: null,
    metadata: {},
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: null,
    price_version: null,
    status: "unpriced",
    reason: null,
    error_code: null,
    cache_write_1h_tokens: null,
    latency: group.latency,
    service_tier: group.serviceTier,
    latency_ms: null,
    performance_tier: group.latency,
    stop_reason: null,
    profile_tags: {},
    input_cost_usd: null,
    output_cost_usd: null,
    cache_read_cost_usd: null,
    cache_write_cost_usd: null,
    year: group.day.slice(0, 4),
    month: group.day.slice(5, 7),
    day: group.day.slice(8, 10),
  };
  const probe: UsageRecord = {
    ...base,
    input_tokens: probeTokens("input", CLASS_BITS.input),
    output_tokens: has(CLASS_BITS.output) ? 1 : 0,
    cache_read_tokens: probeTokens("cacheRead", CLASS_BITS.cacheRead),
    cache_write_tokens: probeTokens("cacheWrite", CLASS_BITS.cacheWrite),
    cache_write_1h_tokens: has(CLASS_BITS.cacheWrite1h) ? 1 : null,
  };
  const summed: UsageRecord = {
    ...base,
    input_tokens: group.inputTokens,
    output_tokens: group.outputTokens,
    cache_read_tokens: group.cacheReadTokens,
    cache_write_tokens: group.cacheWriteTokens,
    cache_write_1h_tokens: group.cacheWrite1hTokens,
  };
  return logUsageWith(probe, summed, pricer);
}

/**
 * Sums invocations into `LogUsageGroup`s as the Athena query of the deployed reconciliation does
 * (`pipeline/reconcile-job.ts`): by day, model id, model, Region, service tier, latency, classes
 * used and context bucket. The reference the query is tested against.
 */
export class LogUsageGroups {
  private readonly groups = new Map<string, LogUsageGroup>();

  constructor(private readonly thresholds: readonly number[]) {}

  add(record: UsageRecord): void {
    const oneHour = record.cache_write_1h_tokens ?? 0;
    const classMask =
      (record.input_tokens > 0 ? CLASS_BITS.input : 0) |
      (record.output_tokens > 0 ? CLASS_BITS.output : 0) |
      (record.cache_read_tokens > 0 ? CLASS_BITS.cacheRead : 0) |
      (record.cache_write_tokens > 0 ? CLASS_BITS.cacheWrite : 0) |
      (oneHour > 0 ? CLASS_BITS.cacheWrite1h : 0);
    const context = record.input_tokens + record.cache_read_tokens + record.cache_write_tokens;
    const contextBucket = this.thresholds.filter((threshold) => context > threshold).length;
    const day = record.event_time.slice(0, 10);
    const key = JSON.stringify([day, record.model_id, record.model, record.region, record.service_tier, record.latency, classMask, contextBucket]);
    const group = this.groups.get(key);
    if (group) {
      group.inputTokens += record.input_tokens;
      group.outputTokens += record.output_tokens;
      group.cacheReadTokens += record.cache_read_tokens;
      group.cacheWriteTokens += record.cache_write_tokens;
      group.cacheWrite1hTokens += oneHour;
      return;
    }
    this.groups.set(key, {
      day,
      modelId: record.model_id,
      model: record.model,
      region: record.region,
      serviceTier: record.service_tier,
      latency: record.latency,
      classMask,
      contextBucket,
      inputTokens: record.input_tokens,
      outputTokens: record.output_tokens,
      cacheReadTokens: record.cache_read_tokens,
      cacheWriteTokens: record.cache_write_tokens,
      cacheWrite1hTokens: oneHour,
    });
  }

  values(): LogUsageGroup[] {
    return [...this.groups.values()];
  }
}

/** Prices `probe` to decide entry, tier and long context, and counts `tokens`' tokens with that decision. */
function logUsageWith(probe: UsageRecord, tokensOf: UsageRecord, pricer: Pricer): LogUsage[] {
  const log = invocationLogOfRecord(probe);
  const priced = pricer.price(log);
  const resolution = resolveModel(probe.model_id, pricer.profileLookup);
  const parts: string[] = [];
  if (resolution.ok && resolution.pricingProfile === "global") parts.push("global");
  if (probe.service_tier === "flex" || probe.service_tier === "priority" || probe.service_tier === "reserved") parts.push(probe.service_tier);
  if (probe.latency === "optimized") parts.push("latency-optimized");
  if (priced.longContext) parts.push("long-context");
  const tier = parts.length === 0 ? "standard" : parts.join("+");
  const tokens: Record<TokenClass, number> = {
    input: tokensOf.input_tokens,
    output: tokensOf.output_tokens,
    cacheRead: tokensOf.cache_read_tokens,
    cacheWrite: tokensOf.cache_write_tokens,
  };
  let byClass: Readonly<Record<TokenClass, bigint>> | null = null;
  if (priced.entry !== null && priced.costPico !== null) {
    const cost = computeCost(priced.entry, { ...tokens, cacheWrite1h: tokensOf.cache_write_1h_tokens ?? 0 }, log, priced.longContext);
    if (cost.priced) byClass = cost.byClass;
  }
  const day = probe.event_time.slice(0, 10);
  const model = probe.model ?? resolution.model ?? probe.model_id;
  const usages: LogUsage[] = [];
  for (const tokenClass of TOKEN_CLASSES) {
    if (tokens[tokenClass] === 0) continue;
    usages.push({ day, region: probe.region ?? "unknown", model, tokenClass, tier, tokens: tokens[tokenClass], costPico: byClass?.[tokenClass] ?? 0n });
  }
  return usages;
}

/** Sums log usages by day, Region, model, class and tier. */
export class LogUsageTally {
  private readonly cells = new Map<string, LogUsage>();

  add(usages: readonly LogUsage[]): void {
    for (const usage of usages) {
      const key = keyOf(usage.day, usage.region, usage.model, usage.tokenClass, usage.tier);
      const cell = this.cells.get(key);
      if (cell) {
        cell.tokens += usage.tokens;
        cell.costPico += usage.costPico;
      } else this.cells.set(key, { ...usage });
    }
  }

  usages(): LogUsage[] {
    return [...this.cells.values()];
  }
}
