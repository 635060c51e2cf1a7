/**
 * The pricer: decoded item -> validated invocation -> attribution, model resolution, price lookup
 * and exact cost -> usage record. Both stream consumers (the lake transform and the aggregator)
 * and the CLI go through this one function, so a cost can never differ between them.
 */
import { type AliasMap, Attributor, completeFromTags, DEFAULT_TAG_KEYS } from "./attribution";
import { formatCatalogDate, type PriceCatalog, type PriceEntry, type RateClass } from "./catalog";
import { computeCost } from "./cost";
import type { DecodedItem, SkipReason, SourceRef } from "./decode/items";
import { formatTimestamp, type InvocationLog, type InvocationParseResult, parseInvocationLog } from "./invocation";
import { type ApplicationProfileLookup, applicationProfileIds, resolveModel } from "./model";
import { formatUsd } from "./money";
import type { UsageRecord } from "./usage";

/** A priced (or unpriced) invocation: the usage record plus its exact cost as a bigint. */
export interface PricedInvocation {
  record: UsageRecord;
  /** Exact cost in pico-dollars; null when unpriced. */
  costPico: bigint | null;
  /** The catalog entry used, when priced. */
  entry: PriceEntry | null;
  longContext: boolean;
}

/** What pricing one decoded item yields. */
export type PriceOutcome =
  | { kind: "usage"; usage: PricedInvocation; raw: string; source: SourceRef }
  | { kind: "skipped"; skip: SkipReason; raw: string; source: SourceRef }
  | (Extract<DecodedItem, { kind: "invalid" }> & {
      /** What could be read of the record (its request id, for the quarantine). */
      partial: Extract<InvocationParseResult, { ok: false }>["partial"];
    });

/**
 * A catalog that prices the invocations of a period instead of the pricer's own: what a reprice
 * registers for the months it corrects, so that live traffic of those months is priced as the
 * reprice priced history (epoch ms, `from` inclusive, `to` exclusive).
 */
export interface CatalogPeriod {
  from: number;
  to: number;
  catalog: PriceCatalog;
}

/**
 * Where a consumer gets its pricer for each batch: a fixed pricer, or a source that can change it
 * (the deployment's pricer with the reprices registered in the table, `store/RegistryPricing`).
 */
export type PricerSource = Pricer | { current(): Promise<Pricer> };

/** The pricer a source gives now. */
export async function currentPricer(source: PricerSource): Promise<Pricer> {
  return source instanceof Pricer ? source : source.current();
}

/** Configuration of a pricer. */
export interface PricerOptions {
  catalog: PriceCatalog;
  /** Catalogs that take over for periods (later entries win where periods overlap). */
  periods?: readonly CatalogPeriod[];
  aliases?: AliasMap;
  profiles?: ApplicationProfileLookup;
  /** Tag keys of application inference profiles per attribution dimension (default `DEFAULT_TAG_KEYS`). */
  tagKeys?: AliasMap;
}

/** `profile_tags` of a call through no application inference profile (shared: records are never mutated in place there). */
const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** Prices invocation log records. Build once (per process or per cold start), reuse per record. */
export class Pricer {
  readonly catalog: PriceCatalog;
  readonly periods: readonly CatalogPeriod[];
  private readonly attributor: Attributor;
  private readonly tagAttributor: Attributor;
  private readonly aliases: AliasMap | undefined;
  private readonly tagKeys: AliasMap | undefined;
  private readonly profiles: ApplicationProfileLookup | undefined;

  /** The application inference profiles this pricer resolves (undefined: none). */
  get profileLookup(): ApplicationProfileLookup | undefined {
    return this.profiles;
  }

  constructor(options: PricerOptions) {
    this.catalog = options.catalog;
    this.periods = options.periods ?? [];
    this.aliases = options.aliases;
    this.attributor = new Attributor(options.aliases);
    this.tagKeys = options.tagKeys;
    this.tagAttributor = new Attributor(options.tagKeys ?? DEFAULT_TAG_KEYS);
    this.profiles = options.profiles;
  }

  /** Whether `prepare` does anything: the profile lookup fetches (and a batch should be decoded whole before pricing). */
  get resolvesAhead(): boolean {
    return this.profiles?.warm !== undefined;
  }

  /**
   * Resolves ahead what pricing `items` will look up synchronously: the application inference
   * profiles they name (fetched and cached by the profile lookup, when it fetches). Called once
   * per batch, before `priceItem`; a failure to resolve leaves those records unpriced with the reason.
   */
  async prepare(items: Iterable<DecodedItem>): Promise<void> {
    if (this.profiles?.warm === undefined) return;
    const modelIds: unknown[] = [];
    for (const item of items) {
      if (item.kind === "record" && typeof item.value === "object" && item.value !== null) modelIds.push((item.value as { modelId?: unknown }).modelId);
    }
    await this.prepareModelIds(modelIds);
  }

  /** `prepare` for records already read (a reprice's rows): resolves ahead the profiles among their logged model ids. */
  async prepareModelIds(modelIds: Iterable<unknown>): Promise<void> {
    if (this.profiles?.warm === undefined) return;
    const arns = applicationProfileIds(modelIds);
    if (arns.length > 0) await this.profiles.warm(arns);
  }

  /** Validates and prices one decoded item. Never throws on bad input. */
  priceItem(item: DecodedItem): PriceOutcome {
    switch (item.kind) {
      case "skipped":
        return item;
      case "invalid":
        // Decode-level problems read like record-level ones: "field: problem".
        return { ...item, reason: `${item.field}: ${item.reason}`, partial: {} };
      case "record": {
        const parsed = parseInvocationLog(item.value);
        if (!parsed.ok) {
          return {
            kind: "invalid",
            field: parsed.field,
            reason: parsed.reason,
            raw: item.raw,
            source: item.source,
            partial: parsed.partial,
          };
        }
        return {
          kind: "usage",
          usage: this.price(parsed.log),
          raw: item.raw,
          source: item.source,
        };
      }
    }
  }

  /** The catalog that prices an invocation at `timestamp` (epoch ms): a period's, else the pricer's own. */
  catalogAt(timestamp: number): PriceCatalog {
    for (let index = this.periods.length - 1; index >= 0; index--) {
      const period = this.periods[index] as CatalogPeriod;
      if (timestamp >= period.from && timestamp < period.to) return period.catalog;
    }
    return this.catalog;
  }

  /** A pricer like this one with another profile lookup (local mode's resolver over its Bedrock stand-in, with this one's map as override). */
  withProfiles(profiles: ApplicationProfileLookup): Pricer {
    return new Pricer({
      catalog: this.catalog,
      periods: this.periods,
      profiles,
      ...(this.aliases ? { aliases: this.aliases } : {}),
      ...(this.tagKeys ? { tagKeys: this.tagKeys } : {}),
    });
  }

  /** A pricer like this one (same aliases and profiles) with other catalogs. */
  withCatalogs(catalog: PriceCatalog, periods: readonly CatalogPeriod[] = []): Pricer {
    return new Pricer({
      catalog,
      periods,
      ...(this.aliases ? { aliases: this.aliases } : {}),
      ...(this.profiles ? { profiles: this.profiles } : {}),
      ...(this.tagKeys ? { tagKeys: this.tagKeys } : {}),
    });
  }

  /** Prices one validated invocation. */
  price(log: InvocationLog): PricedInvocation {
    const catalog = this.periods.length === 0 ? this.catalog : this.catalogAt(log.timestamp);
    const resolution = resolveModel(log.modelId, this.profiles);
    const tags = resolution.ok ? resolution.applicationProfile?.tags : undefined;
    const fromMetadata = this.attributor.attribute(log.metadata);
    const attribution = tags ? completeFromTags(fromMetadata, this.tagAttributor.attribute(tags)) : fromMetadata;
    const eventTime = formatTimestamp(log.timestamp);
    const record: UsageRecord = {
      request_id: log.requestId,
      event_time: eventTime,
      account_id: log.accountId,
      region: log.region,
      inference_region: log.inferenceRegion,
      operation: log.operation,
      model_id: log.modelId,
      model: resolution.model,
      profile: resolution.profile === "unknown" ? "none" : resolution.profile,
      tenant_id: attribution.tenantId,
      tenant_group: attribution.tenantGroup,
      department_id: attribution.departmentId,
      user_id: attribution.userId,
      application_id: attribution.applicationId,
      principal_arn: log.principalArn,
      metadata: log.metadata,
      input_tokens: log.inputTokens,
      output_tokens: log.outputTokens,
      cache_read_tokens: log.cacheReadTokens,
      cache_write_tokens: log.cacheWriteTokens,
      cost_usd: null,
      price_version: catalog.version,
      status: "unpriced",
      reason: null,
      error_code: log.errorCode,
      cache_write_1h_tokens: log.cacheWrite1hTokens,
      latency: log.latency,
      service_tier: log.serviceTier,
      latency_ms: log.latencyMs,
      performance_tier: log.latency,
      stop_reason: log.stopReason,
      profile_tags: (resolution.ok ? resolution.applicationProfile?.tags : undefined) ?? NO_TAGS,
      input_cost_usd: null,
      output_cost_usd: null,
      cache_read_cost_usd: null,
      cache_write_cost_usd: null,
      year: eventTime.slice(0, 4),
      month: eventTime.slice(5, 7),
      day: eventTime.slice(8, 10),
    };
    if (!resolution.ok) {
      record.reason = resolution.reason;
      return { record, costPico: null, entry: null, longContext: false };
    }
    const query = {
      model: resolution.model,
      pricingProfile: resolution.pricingProfile,
      region: log.region,
      timestamp: log.timestamp,
    };
    const entry = catalog.lookup(query);
    if (!entry) {
      record.reason = catalog.knowsModel(resolution.model)
        ? `no price for ${resolution.model} (profile ${resolution.pricingProfile}, region ${log.region ?? "unknown"}) effective on ${formatCatalogDate(log.timestamp)} in catalog ${catalog.version}`
        : `model ${resolution.model} is not in price catalog ${catalog.version}`;
      return { record, costPico: null, entry: null, longContext: false };
    }
    const cost = computeCost(
      entry,
      {
        input: log.inputTokens,
        output: log.outputTokens,
        cacheRead: log.cacheReadTokens,
        cacheWrite: log.cacheWriteTokens,
        cacheWrite1h: log.cacheWrite1hTokens ?? 0,
      },
      // The log is its own BillingDimensions (latency, serviceTier): no object per record.
      log,
    );
    if (!cost.priced) {
      const what = `${entry.model} (profile ${entry.profile}, from ${formatCatalogDate(entry.effectiveFrom)}${cost.block ? `, ${cost.block}` : ""})`;
      if (cost.noBlock) record.reason = `${what} has no rates for a call ${noBlockText(log, cost.longContext ? entry : null)}`;
      else record.reason = `${what} has no price for ${cost.missing.map((rateClass) => `${rateClass} (${tokenCount(log, rateClass)} tokens)`).join(", ")}`;
      return { record, costPico: null, entry, longContext: cost.longContext };
    }
    record.status = "priced";
    record.cost_usd = formatUsd(cost.costPico);
    // Each class by the same computation: the four sum to cost_usd exactly.
    record.input_cost_usd = formatUsd(cost.byClass.input);
    record.output_cost_usd = formatUsd(cost.byClass.output);
    record.cache_read_cost_usd = formatUsd(cost.byClass.cacheRead);
    record.cache_write_cost_usd = formatUsd(cost.byClass.cacheWrite);
    return {
      record,
      costPico: cost.costPico,
      entry,
      longContext: cost.longContext,
    };
  }
}

function tokenCount(log: InvocationLog, rateClass: RateClass): number {
  const oneHour = log.cacheWrite1hTokens ?? 0;
  switch (rateClass) {
    case "input":
      return log.inputTokens;
    case "output":
      return log.outputTokens;
    case "cacheRead":
      return log.cacheReadTokens;
    case "cacheWrite":
      return log.cacheWriteTokens - oneHour;
    case "cacheWrite1h":
      return oneHour;
  }
}

/** What the log says of a call that no rate block prices: `latency-optimized`, `at the flex tier`, and its long context. */
function noBlockText(log: InvocationLog, longContextOf: PriceEntry | null): string {
  const parts: string[] = [];
  if (log.latency === "optimized") parts.push("with optimized latency");
  if (log.serviceTier !== null && log.serviceTier !== "default") parts.push(`at the ${log.serviceTier} tier`);
  if (longContextOf?.longContext) {
    const tokens = log.inputTokens + log.cacheReadTokens + log.cacheWriteTokens;
    parts.push(`with ${tokens} input tokens (long context above ${longContextOf.longContext.aboveInputTokens})`);
  }
  return parts.join(" ");
}
