/**
 * Usage records for the dashboard tests: a builder of one record, exact per-class pricing of a
 * small model table, and a deterministic multi-tenant workload (skewed tenant sizes, groups,
 * departments, a model mix with cache tokens, a few unpriced calls) over the current and the
 * previous month.
 */
import { handleSpendApi } from "@bedrock-spend/api";
import { type Clock, formatUsd, TOKEN_CLASSES, type TokenClass, type UsageRecord } from "@bedrock-spend/core";
import type { SpendApiHandler } from "../../src/index";
import { createMemoryDashboardData, type MemoryDashboardData } from "../reference/memory-data";

/** Pico-dollars per token (USD per million tokens x 1e6) of each class. */
type Rates = Record<TokenClass, bigint>;

const usdPerMillion = (text: string): bigint => {
  const [whole = "0", fraction = ""] = text.split(".");
  return BigInt(whole + fraction.padEnd(6, "0"));
};

const rates = (input: string, output: string, cacheRead: string, cacheWrite: string): Rates => ({
  input: usdPerMillion(input),
  output: usdPerMillion(output),
  cacheRead: usdPerMillion(cacheRead),
  cacheWrite: usdPerMillion(cacheWrite),
});

/** Model mix of the workload: base id, logged id, prices (USD per million tokens), share of calls. */
export const MODELS = [
  {
    model: "anthropic.claude-haiku-4-5-20251001-v1:0",
    modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    rates: rates("1", "5", "0.1", "1.25"),
    weight: 40,
  },
  {
    model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
    modelId: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    rates: rates("3", "15", "0.3", "3.75"),
    weight: 18,
  },
  { model: "amazon.nova-lite-v1:0", modelId: "us.amazon.nova-lite-v1:0", rates: rates("0.06", "0.24", "0.015", "0"), weight: 22 },
  { model: "amazon.nova-pro-v1:0", modelId: "us.amazon.nova-pro-v1:0", rates: rates("0.8", "3.2", "0.2", "0"), weight: 10 },
  { model: "meta.llama3-3-70b-instruct-v1:0", modelId: "us.meta.llama3-3-70b-instruct-v1:0", rates: rates("0.72", "0.72", "0", "0"), weight: 8 },
  { model: "acme.unknown-model-v1:0", modelId: "acme.unknown-model-v1:0", rates: null, weight: 2 },
] as const;

const RATES = new Map<string, Rates | null>(MODELS.map((entry) => [entry.model, entry.rates]));

export const TENANTS = [
  { id: "acme", company: "Acme Corp", group: "enterprise", weight: 30 },
  { id: "globex", company: "Globex", group: "enterprise", weight: 18 },
  { id: "initech", company: "Initech", group: "growth", weight: 12 },
  { id: "umbrella", company: "Umbrella", group: "enterprise", weight: 9 },
  { id: "hooli", company: "Hooli", group: "growth", weight: 7 },
  { id: "stark", company: "Stark Industries", group: "growth", weight: 5 },
  { id: "wayne", company: "Wayne Enterprises", group: "growth", weight: 4 },
  { id: "wonka", company: "Wonka", group: "startup", weight: 3 },
  { id: "tyrell", company: "Tyrell", group: "startup", weight: 3 },
  { id: "cyberdyne", company: "Cyberdyne", group: "startup", weight: 2 },
  { id: "soylent", company: "Soylent", group: "startup", weight: 2 },
  { id: "aperture", company: "Aperture", group: "free", weight: 2 },
  { id: "vandelay", company: "Vandelay Industries", group: "free", weight: 1 },
  { id: "bluth", company: "Bluth Company", group: "free", weight: 1 },
] as const;

export const DEPARTMENTS = ["customer-support", "sales", "engineering", "marketing", "finance", "legal", "research", "hr"] as const;

/** Exact cost of each class of a record, pico-dollars; null when the model has no price. */
export function classCostsPico(
  record: Pick<UsageRecord, "model" | "input_tokens" | "output_tokens" | "cache_read_tokens" | "cache_write_tokens">,
): Rates | null {
  const modelRates = record.model === null ? null : RATES.get(record.model);
  if (!modelRates) return null;
  return {
    input: BigInt(record.input_tokens) * modelRates.input,
    output: BigInt(record.output_tokens) * modelRates.output,
    cacheRead: BigInt(record.cache_read_tokens) * modelRates.cacheRead,
    cacheWrite: BigInt(record.cache_write_tokens) * modelRates.cacheWrite,
  };
}

/** The per-class split the memory source is given. */
export function classCosts(record: UsageRecord): Record<TokenClass, string> | null {
  const pico = classCostsPico(record);
  if (!pico) return null;
  return Object.fromEntries(TOKEN_CLASSES.map((tokenClass) => [tokenClass, formatUsd(pico[tokenClass])])) as Record<TokenClass, string>;
}

/** Fields of a test record. */
export interface UsageFields {
  tenant: string;
  time: string;
  model?: string;
  group?: string | null;
  department?: string | null;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** Latency Bedrock measured, ms (default: none logged). */
  latencyMs?: number | null;
  /** errorCode of a failed call (default: none). */
  errorCode?: string | null;
  /** Called at optimized latency. */
  optimized?: boolean;
}

/** One usage record, priced exactly from the model table (unpriced for an unknown model). */
export function usage(requestId: string, fields: UsageFields): UsageRecord {
  const model = fields.model ?? MODELS[0].model;
  const entry = MODELS.find((candidate) => candidate.model === model);
  const base = {
    model,
    input_tokens: fields.input ?? 1000,
    output_tokens: fields.output ?? 100,
    cache_read_tokens: fields.cacheRead ?? 0,
    cache_write_tokens: fields.cacheWrite ?? 0,
  };
  const split = classCostsPico(base);
  const cost = split === null ? null : TOKEN_CLASSES.reduce((sum, tokenClass) => sum + split[tokenClass], 0n);
  return {
    request_id: requestId,
    event_time: fields.time,
    account_id: "111122223333",
    region: "us-east-1",
    inference_region: "us-east-1",
    operation: "Converse",
    model_id: entry?.modelId ?? model,
    profile: "us",
    tenant_id: fields.tenant,
    tenant_group: fields.group === undefined ? "enterprise" : fields.group,
    department_id: fields.department === undefined ? "sales" : fields.department,
    user_id: null,
    application_id: null,
    principal_arn: null,
    metadata: { tenantId: fields.tenant },
    ...base,
    cost_usd: cost === null ? null : formatUsd(cost),
    price_version: cost === null ? null : "2026-11-27",
    status: cost === null ? "unpriced" : "priced",
    reason: cost === null ? "no price for model" : null,
    error_code: fields.errorCode ?? null,
    cache_write_1h_tokens: null,
    latency: fields.optimized ? "optimized" : null,
    service_tier: null,
    latency_ms: fields.latencyMs ?? null,
    performance_tier: fields.optimized ? "optimized" : null,
    stop_reason: null,
    profile_tags: {},
    input_cost_usd: split === null ? null : formatUsd(split.input),
    output_cost_usd: split === null ? null : formatUsd(split.output),
    cache_read_cost_usd: split === null ? null : formatUsd(split.cacheRead),
    cache_write_cost_usd: split === null ? null : formatUsd(split.cacheWrite),
    year: fields.time.slice(0, 4),
    month: fields.time.slice(5, 7),
    day: fields.time.slice(8, 10),
  };
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T extends { weight: number }>(items: readonly T[], next: () => number): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let at = next() * total;
  for (const item of items) {
    at -= item.weight;
    if (at < 0) return item;
  }
  return items[items.length - 1] as T;
}

/**
 * `count` invocations spread over the previous month and the current month up to `now`, more
 * recent days busier. Request ids are `<prefix>-<n>`.
 */
export function workload(options: { now: Date; count: number; seed?: number; prefix?: string; from?: Date }): UsageRecord[] {
  const next = random(options.seed ?? 7);
  const end = options.now.getTime();
  const start = options.from?.getTime() ?? Date.UTC(options.now.getUTCFullYear(), options.now.getUTCMonth() - 1, 1);
  const records: UsageRecord[] = [];
  for (let n = 0; n < options.count; n++) {
    const tenant = pick(TENANTS, next);
    const model = pick(MODELS, next);
    const department = DEPARTMENTS[Math.min(DEPARTMENTS.length - 1, Math.floor(next() ** 1.6 * DEPARTMENTS.length))] as string;
    // Square root: later times more likely (traffic grows through the period).
    const time = new Date(start + Math.sqrt(next()) * (end - start - 1000));
    const cached = next() < 0.15;
    records.push(
      usage(`${options.prefix ?? "w"}-${n}`, {
        tenant: tenant.id,
        group: tenant.id === "bluth" ? null : tenant.group,
        department: next() < 0.03 ? null : department,
        model: model.model,
        time: time.toISOString().replace(/\.\d{3}Z$/, ".000Z"),
        input: 200 + Math.floor(next() ** 2 * 6000),
        output: 50 + Math.floor(next() ** 2 * 1500),
        cacheRead: cached ? 500 + Math.floor(next() * 8000) : 0,
        cacheWrite: cached && next() < 0.4 && model.rates && model.rates.cacheWrite > 0n ? 200 + Math.floor(next() * 2000) : 0,
        // Performance from what was drawn, no draw of its own (the workload's other figures stay as they were):
        // every 50th call throttled, every 7th untimed (InvokeModel), otherwise a first byte and ~12-20 ms per output token.
        ...performanceOf(n, model.model),
      }),
    );
  }
  return records;
}

/** Latency, error and latency setting of the workload's `n`th call to `model`: deterministic, no random draw. */
function performanceOf(n: number, model: string): Pick<UsageFields, "latencyMs" | "errorCode" | "optimized"> {
  if (n % 50 === 49) return { errorCode: "ThrottlingException", latencyMs: null };
  if (n % 7 === 3) return { latencyMs: null };
  const perToken = 12 + (model.length % 9);
  return { latencyMs: 300 + ((n * 37) % 400) + perToken * (50 + (n % 40) * 20), optimized: model.includes("nova-pro") && n % 5 === 0 };
}

/** The in-memory data source with a workload, and the real spend API handler over its store. */
export function memoryStack(options: { now?: Clock; records?: UsageRecord[] } = {}): { data: MemoryDashboardData; spendApi: SpendApiHandler } {
  const data = createMemoryDashboardData({ classCosts, ...(options.now ? { now: options.now } : {}) });
  if (options.records) data.add(...options.records);
  const spendApi: SpendApiHandler = (request) =>
    handleSpendApi(request, {
      store: data.spendStore,
      lake: data.reportLake,
      defaultBudget: null,
      allowUnauthenticated: true,
      ...(options.now ? { now: options.now } : {}),
    });
  return { data, spendApi };
}
