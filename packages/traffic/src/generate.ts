/**
 * The traffic generator: a deterministic stream of Bedrock model invocation log records from a
 * multi-tenant workload (Zipf tenant sizes, eight departments per tenant, a 20-model mix with
 * inference profiles, prompt-cache tokens), with a few unpriced, malformed and non-record lines
 * mixed in, as a real log group has. Same options, same output, byte for byte.
 */
import { type BodyDimensions, type BodyRequest, type BodyUsage, buildBodies, fillSlot, measureOverhead, type Operation, type TextSlot } from "./bodies";
import { DEFAULT_ACCOUNT_ID, DEFAULT_REGION, type ModelSpec, modelMix, UNPRICED_MODEL_IDS, unmappedApplicationProfileArn } from "./models";
import { Prng, type Seed, WeightedTable } from "./prng";
import { APPLICATIONS, type Application, drawApplication, drawDepartment, drawUser, type Tenant, tenantAt } from "./tenants";
import { fillerText } from "./text";
import { ZipfSampler } from "./zipf";

/** The plain-text event Bedrock writes to the log group when logging is enabled. */
export const PERMISSIONS_LINE = "Permissions are correctly set for Amazon Bedrock logs.";

/** A Bedrock model invocation log record, in the official field order. */
export interface InvocationLogRecord {
  schemaType: "ModelInvocationLog";
  schemaVersion: "1.0";
  timestamp: string;
  accountId: string;
  region: string;
  requestId: string;
  operation: Operation;
  modelId: string;
  identity: { arn: string };
  /** Absent when the caller sent none (untagged traffic). */
  requestMetadata?: Record<string, string>;
  input: {
    inputContentType: string;
    inputBodyJson: unknown;
    inputTokenCount: number;
    /** Present for models that support prompt caching. Not included in `inputTokenCount`. */
    cacheReadInputTokenCount?: number;
    /** Present for models that support prompt caching. Not included in `inputTokenCount`. */
    cacheWriteInputTokenCount?: number;
  };
  output: {
    outputContentType: string;
    outputBodyJson: unknown;
    outputTokenCount: number;
  };
  /** The Region a cross-Region inference profile routed the call to. */
  inferenceRegion?: string;
  /** InvokeModel's X-Amzn-Bedrock-PerformanceConfig-Latency header, as the log carries it (with `billingDimensions`). */
  performanceConfig?: { latency: "optimized" };
}

/** The ways a malformed line is broken, used in turn. */
export const MALFORMED_DEFECTS = ["negative-token-count", "missing-request-id", "fractional-token-count", "truncated-line"] as const;
/** One way a malformed line is broken. */
export type MalformedDefect = (typeof MALFORMED_DEFECTS)[number];

/** One generated item, with what a correct pipeline should make of it. */
export type TrafficItem =
  | {
      kind: "record";
      record: InvocationLogRecord;
      /** Epoch ms the log event was written (the record's `timestamp` is this, to the second). */
      timestampMs: number;
      /** False for records whose model the shipped catalog (with the application-profile map) does not price. */
      priced: boolean;
    }
  | { kind: "malformed"; line: string; timestampMs: number; defect: MalformedDefect }
  | { kind: "permissions-line"; line: string; timestampMs: number };

/** Options of the generator. Every default is the reference workload's. */
export interface TrafficOptions {
  /** PRNG seed. Default 1. */
  seed?: Seed;
  /** Items to generate, the permissions line not included; `Infinity` for an endless stream. Default 1,000. */
  count?: number;
  /** Number of tenants. Default 10,000. */
  tenants?: number;
  /** Zipf exponent of tenant sizes. Default 1.1. */
  zipfS?: number;
  /** Time of the first record: ISO string, epoch ms or Date. Default 2026-11-27T10:00:00Z. */
  start?: string | number | Date;
  /** Records per second; timestamps advance by exactly 1/rate. Default 50. */
  ratePerSecond?: number;
  /** Average size in bytes of `inputBodyJson` + `outputBodyJson` (as JSON) per record. Default 2,048. */
  bodyBytes?: number;
  /** Fraction of records with cache-read or cache-write tokens. Default 0.15. */
  cacheFraction?: number;
  /** Fraction of items that are malformed lines. Default 0.002. */
  malformedFraction?: number;
  /** Fraction of records whose model is not in the price catalog. Default 0.003. */
  unpricedFraction?: number;
  /** Fraction of records without requestMetadata (attributed to no tenant). Default 0.001. */
  untaggedFraction?: number;
  /** Emit the "Permissions are correctly set" line before the first record. Default true. */
  permissionsLine?: boolean;
  /** AWS account of the records. Default 123456789012. */
  accountId?: string;
  /** Source Region of the records. Default us-east-1. */
  region?: string;
  /**
   * Give a realistic share of records the billing dimensions Bedrock logs, where the shipped
   * catalog prices them (so that records marked priced stay priced): latency-optimized calls (3% of
   * the uncached calls to Nova Pro), 1-hour cache writes (10% of cached calls to Claude 4.5 and
   * later), and the flex (2%) and priority (1%) tiers on uncached Converse calls to Nova 2 Lite
   * (InvokeModel sets the tier by a header the log does not carry; the catalog's latency and tier
   * rates have no cache rates); Claude responses then split their cache writes by
   * TTL. Default false: the reference workload stays byte for byte what it was, so benchmarks and
   * tests keep comparing.
   */
  billingDimensions?: boolean;
  /**
   * Tenants that call through their own application inference profile: tenant id to profile ARN
   * (`tenantProfileSpecs` describes a few; local mode creates them on its Bedrock stand-in). Their
   * priced calls name the profile as `modelId`, and every other one carries no request metadata,
   * so that only the profile's tags attribute it. Default none.
   */
  tenantProfiles?: Readonly<Record<string, string>>;
}

/** Options with every default applied. */
export type ResolvedTrafficOptions = Required<Omit<TrafficOptions, "start">> & { startMs: number };

/** Applies defaults and checks ranges; throws RangeError naming the bad option. */
export function resolveTrafficOptions(options: TrafficOptions = {}): ResolvedTrafficOptions {
  const startValue = options.start ?? "2026-11-27T10:00:00Z";
  const startMs = startValue instanceof Date ? startValue.getTime() : typeof startValue === "number" ? startValue : Date.parse(startValue);
  const resolved: ResolvedTrafficOptions = {
    seed: options.seed ?? 1,
    count: options.count ?? 1000,
    tenants: options.tenants ?? 10_000,
    zipfS: options.zipfS ?? 1.1,
    startMs,
    ratePerSecond: options.ratePerSecond ?? 50,
    bodyBytes: options.bodyBytes ?? 2048,
    cacheFraction: options.cacheFraction ?? 0.15,
    malformedFraction: options.malformedFraction ?? 0.002,
    unpricedFraction: options.unpricedFraction ?? 0.003,
    untaggedFraction: options.untaggedFraction ?? 0.001,
    permissionsLine: options.permissionsLine ?? true,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    region: options.region ?? DEFAULT_REGION,
    billingDimensions: options.billingDimensions ?? false,
    tenantProfiles: options.tenantProfiles ?? {},
  };
  if (!Number.isFinite(startMs)) throw new RangeError(`start must be an ISO 8601 time, epoch ms or Date, got ${String(options.start)}`);
  if (!(resolved.count >= 0) || (Number.isFinite(resolved.count) && !Number.isInteger(resolved.count))) {
    throw new RangeError(`count must be a non-negative integer or Infinity, got ${resolved.count}`);
  }
  if (!Number.isInteger(resolved.tenants) || resolved.tenants < 1) throw new RangeError(`tenants must be a positive integer, got ${resolved.tenants}`);
  if (!(resolved.ratePerSecond > 0) || !Number.isFinite(resolved.ratePerSecond)) {
    throw new RangeError(`ratePerSecond must be a positive number, got ${resolved.ratePerSecond}`);
  }
  if (!Number.isInteger(resolved.bodyBytes) || resolved.bodyBytes < 0)
    throw new RangeError(`bodyBytes must be a non-negative integer, got ${resolved.bodyBytes}`);
  for (const key of ["cacheFraction", "malformedFraction", "unpricedFraction", "untaggedFraction"] as const) {
    const value = resolved[key];
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${key} must be between 0 and 1, got ${value}`);
  }
  if (resolved.malformedFraction + resolved.unpricedFraction > 1) throw new RangeError("malformedFraction + unpricedFraction must not exceed 1");
  if (!/^\d{12}$/.test(resolved.accountId)) throw new RangeError(`accountId must be 12 digits, got ${resolved.accountId}`);
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(resolved.region)) throw new RangeError(`region must be an AWS Region name, got ${resolved.region}`);
  return resolved;
}

const OPERATIONS = new WeightedTable<Operation>([
  ["Converse", 45],
  ["ConverseStream", 30],
  ["InvokeModel", 15],
  ["InvokeModelWithResponseStream", 10],
]);

const MAX_TOKENS = [512, 1024, 1024, 2048, 2048, 4096, 8192] as const;
const TEMPERATURES = [0, 0.2, 0.3, 0.5, 0.7, 1] as const;
/** JSON lengths of the MAX_TOKENS then TEMPERATURES values: all a body's size depends on. */
const DIGITS: readonly number[] = [...MAX_TOKENS, ...TEMPERATURES].map((value) => String(value).length);
const OPERATION_INDEX: Readonly<Record<Operation, number>> = { Converse: 0, ConverseStream: 1, InvokeModel: 2, InvokeModelWithResponseStream: 3 };

/** Shares of the billing dimensions among the calls that can carry them (`billingDimensions`). */
const LATENCY_OPTIMIZED_SHARE = 0.03;
const HOUR_CACHE_SHARE = 0.1;
const FLEX_SHARE = 0.02;
const PRIORITY_SHARE = 0.01;
/** Claude models that take a 1-hour cache TTL (4.5 and later; the shipped catalog prices their 1-hour writes). */
const HOUR_CACHE_MODEL = /^claude-(?:haiku|sonnet|opus)-(?:4-[5-9]|[5-9])/;

/** The billing dimensions of one call: three draws, whatever the model, so that the stream of draws does not depend on the mix. */
function drawDimensions(rng: Prng, model: ModelSpec, operation: Operation, cached: boolean): BodyDimensions {
  const latencyRoll = rng.next();
  const tierRoll = rng.next();
  const hourRoll = rng.next();
  const converse = operation === "Converse" || operation === "ConverseStream";
  // The catalog's latency and tier rate blocks have no cache rates: such calls carry no cache tokens.
  return {
    latencyOptimized: !cached && model.latencyOptimized === true && latencyRoll < LATENCY_OPTIMIZED_SHARE,
    serviceTier:
      cached || !converse || model.serviceTiers !== true
        ? undefined
        : tierRoll < FLEX_SHARE
          ? "flex"
          : tierRoll < FLEX_SHARE + PRIORITY_SHARE
            ? "priority"
            : undefined,
    hourCache: cached && model.family === "anthropic" && HOUR_CACHE_MODEL.test(model.responseModel) && hourRoll < HOUR_CACHE_SHARE,
  };
}

/**
 * An integer naming everything that sets the JSON size of a request's bodies before text is
 * filled in, for `measureOverhead`'s memo. Converse bodies have the same shape for every model
 * (but for whether Claude splits cache writes); native bodies differ by model; only response
 * streams differ by chunk count; billing dimensions add fields.
 */
function shapeKeyOf(request: BodyRequest, modelKey: number, appKey: number, maxTokensIndex: number, temperatureIndex: number): number {
  const operation = OPERATION_INDEX[request.operation];
  const dimensions = request.dimensions;
  const splitsWrites = dimensions !== undefined && request.family === "anthropic" ? 1 : 0;
  let key = operation * 64 + (operation < 2 ? splitsWrites : modelKey);
  key = key * 16 + appKey;
  key = key * 8 + (DIGITS[maxTokensIndex] as number);
  key = key * 8 + (DIGITS[temperatureIndex + MAX_TOKENS.length] as number);
  key = key * 2 + (request.multiTurn ? 1 : 0);
  key = key * 2 + (request.cached ? 1 : 0);
  key = key * 16 + (request.operation === "InvokeModelWithResponseStream" ? request.chunks : 0);
  if (dimensions === undefined) return key;
  const tier = dimensions.serviceTier === "flex" ? 1 : dimensions.serviceTier === "priority" ? 2 : 0;
  // Keys of records with dimensions lie above every key of records without (those stay below 2^25).
  return 2 ** 25 + key * 16 + (dimensions.latencyOptimized ? 8 : 0) + (dimensions.hourCache ? 4 : 0) + tier;
}

/** A model table for one tier, with the probability of cache tokens that yields the target fraction. */
interface MixTable {
  table: WeightedTable<ModelSpec>;
  /** P(cache tokens | cache-capable model), so that P(cache tokens) overall is the target. */
  cacheGivenCapable: number;
}

function mixTable(models: readonly ModelSpec[], cacheFraction: number): MixTable {
  const total = models.reduce((sum, model) => sum + model.weight, 0);
  const capable = models.filter((model) => model.cache !== "none").reduce((sum, model) => sum + model.weight, 0);
  return {
    table: new WeightedTable(models.map((model) => [model, model.weight] as const)),
    cacheGivenCapable: capable > 0 ? Math.min(1, (cacheFraction * total) / capable) : 0,
  };
}

/** Formats epoch ms as ISO 8601 to the second; remembers the last second, as records come in time order. */
function secondsFormatter(): (epochMs: number) => string {
  let lastSecond = Number.NaN;
  let lastText = "";
  return (epochMs) => {
    const second = Math.floor(epochMs / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      lastText = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    }
    return lastText;
  };
}

/** Size of a record's request and response bodies as JSON, in bytes (what `bodyBytes` targets). */
export function bodySize(record: InvocationLogRecord): number {
  return Buffer.byteLength(JSON.stringify(record.input.inputBodyJson)) + Buffer.byteLength(JSON.stringify(record.output.outputBodyJson));
}

/** The line a pipeline reads for an item: the record's JSON, or the raw line. */
export function itemLine(item: TrafficItem): string {
  return item.kind === "record" ? JSON.stringify(item.record) : item.line;
}

/**
 * Generates traffic items, lazily. Deterministic: the same options give the same items.
 * Valid records (kind `record`) always pass the core's `parseInvocationLog`; malformed items are
 * raw lines that a correct pipeline quarantines as invalid.
 */
export function* generateTraffic(options: TrafficOptions = {}): Generator<TrafficItem> {
  const config = resolveTrafficOptions(options);
  const rng = new Prng(config.seed);
  const zipf = new ZipfSampler(config.tenants, config.zipfS);
  const mix = modelMix(config.accountId, config.region);
  const allModels = mixTable(mix, config.cacheFraction);
  const freeModels = mixTable(
    mix.filter((model) => !model.premium),
    config.cacheFraction,
  );
  const unpricedModels = [
    ...UNPRICED_MODEL_IDS.map((modelId) => unpricedSpec(modelId, "openai")),
    unpricedSpec(unmappedApplicationProfileArn(config.accountId, config.region), "anthropic"),
  ];
  const modelKeys = new Map<ModelSpec, number>([...mix, ...unpricedModels].map((model, index) => [model, index + 1]));
  const appIndex = new Map<Application, number>(APPLICATIONS.map((app, index) => [app, index]));
  const tenants = new Map<number, Tenant>();
  const formatSeconds = secondsFormatter();
  // Each application runs as a few sessions (ECS tasks) of its role.
  const sessionsOf = new Map<Application, string[]>(APPLICATIONS.map((app) => [app, [0, 1, 2].map((task) => new Prng(`${app.role}/${task}`).hex(16))]));

  if (config.permissionsLine) {
    yield { kind: "permissions-line", line: PERMISSIONS_LINE, timestampMs: config.startMs - 1000 };
  }
  let carry = 0;
  // Start the defect rotation at a seeded place, so that short runs of different seeds differ.
  let malformedCount = rng.int(MALFORMED_DEFECTS.length);
  const malformedEdge = config.malformedFraction;
  const unpricedEdge = config.malformedFraction + config.unpricedFraction;
  for (let index = 0; index < config.count; index++) {
    const timestampMs = config.startMs + Math.floor((index * 1000) / config.ratePerSecond);
    const roll = rng.next();
    const malformed = roll < malformedEdge;
    const unpriced = !malformed && roll < unpricedEdge;

    const rank = zipf.sample(rng);
    let tenant = tenants.get(rank);
    if (!tenant) {
      tenant = tenantAt(rank, config.tenants);
      tenants.set(rank, tenant);
    }
    const tier = tenant.tenantGroup === "free" ? freeModels : allModels;
    const model = unpriced ? rng.pick(unpricedModels) : tier.table.draw(rng);
    const department = drawDepartment(rng);
    const app = drawApplication(rng, department);
    const operation: Operation = model.family === "titan-embed" ? "InvokeModel" : OPERATIONS.draw(rng);
    const cached = model.cache !== "none" && rng.chance(tier.cacheGivenCapable);
    // Drawn only when asked for, so that the reference workload's draws stay what they were.
    const dimensions = config.billingDimensions ? drawDimensions(rng, model, operation, cached) : undefined;

    let metadata: Record<string, string> | undefined;
    if (!rng.chance(config.untaggedFraction)) {
      metadata = { tenantId: tenant.tenantId, tenantGroup: tenant.tenantGroup, departmentId: department };
      // Batch jobs run without an end user.
      if (!app.role.endsWith("-batch") && !rng.chance(0.08)) metadata.userId = drawUser(rng, tenant);
      metadata.applicationId = app.applicationId;
      metadata.environment = rng.chance(0.97) ? "production" : "staging";
    }

    const epochSeconds = Math.floor(timestampMs / 1000);
    const maxTokensIndex = rng.int(MAX_TOKENS.length);
    const temperatureIndex = rng.int(TEMPERATURES.length);
    const multiTurn = rng.chance(0.3);
    const chunks = rng.range(3, 8);
    const request: BodyRequest = {
      operation,
      family: model.family,
      responseModel: model.responseModel,
      system: app.system,
      promptPrefix: app.promptPrefix,
      answerPrefix: app.answerPrefix,
      maxTokens: MAX_TOKENS[maxTokensIndex] as number,
      temperature: TEMPERATURES[temperatureIndex] as number,
      multiTurn,
      cached,
      chunks,
      epochSeconds,
    };
    if (dimensions) request.dimensions = dimensions;
    const shapeKey = shapeKeyOf(request, modelKeys.get(model) as number, appIndex.get(app) as number, maxTokensIndex, temperatureIndex);
    const bodies = buildBodies(rng, request);

    // Plan the text so that the bodies come to the target size: measure the fixed part, fill the rest.
    const base = config.bodyBytes * (0.35 + 1.3 * rng.next());
    const target = Math.max(0, base + carry);
    const overhead = measureOverhead(bodies, shapeKey);
    const textBudget = Math.max(0, Math.round(target - overhead));
    const promptShare = bodies.answerSlots.length === 0 ? 1 : 0.35 + 0.4 * rng.next();
    const promptChars = fillSlots(rng, bodies.promptSlots, Math.round(textBudget * promptShare));
    const answerChars = fillSlots(rng, bodies.answerSlots, textBudget - Math.round(textBudget * promptShare));
    const actual = overhead + promptChars + answerChars;
    // Carrying the miss into the next record keeps the average on target even when one body
    // cannot shrink to its target (an embedding vector has a fixed size).
    carry = Math.max(-2 * config.bodyBytes, Math.min(2 * config.bodyBytes, carry + base - actual));

    const usage = tokenUsage(rng, model, app, bodies.promptSlots, promptChars, answerChars, cached);
    if (dimensions?.hourCache) usage.cacheWrite1hTokens = usage.cacheWriteTokens;
    bodies.finish(usage);

    const record: InvocationLogRecord = {
      schemaType: "ModelInvocationLog",
      schemaVersion: "1.0",
      timestamp: formatSeconds(timestampMs),
      accountId: config.accountId,
      region: config.region,
      requestId: rng.uuid(),
      operation,
      modelId: model.modelId,
      identity: { arn: `arn:aws:sts::${config.accountId}:assumed-role/${app.role}/${rng.pick(sessionsOf.get(app) as string[])}` },
      ...(metadata ? { requestMetadata: metadata } : {}),
      input: {
        inputContentType: "application/json",
        inputBodyJson: bodies.input,
        inputTokenCount: usage.inputTokens,
      },
      output: {
        outputContentType: "application/json",
        outputBodyJson: bodies.output,
        outputTokenCount: usage.outputTokens,
      },
    };
    if (model.cache !== "none") {
      record.input.cacheReadInputTokenCount = usage.cacheReadTokens;
      record.input.cacheWriteInputTokenCount = usage.cacheWriteTokens;
    }
    if (model.inferenceRegions.length > 0) record.inferenceRegion = rng.pick(model.inferenceRegions);
    if (dimensions?.latencyOptimized && (operation === "InvokeModel" || operation === "InvokeModelWithResponseStream")) {
      record.performanceConfig = { latency: "optimized" };
    }

    const profileArn = unpriced ? undefined : config.tenantProfiles[tenant.tenantId];
    if (profileArn !== undefined) {
      record.modelId = profileArn;
      // Decided by position, not drawn: the other records stay what they are without profiles.
      if (index % 2 === 0) delete record.requestMetadata;
    }

    if (malformed) {
      const defect = MALFORMED_DEFECTS[malformedCount++ % MALFORMED_DEFECTS.length] as MalformedDefect;
      yield { kind: "malformed", line: corrupt(rng, record, defect), timestampMs, defect };
    } else {
      yield { kind: "record", record, timestampMs, priced: !unpriced };
    }
  }
}

/**
 * The generator as plain lines' values: valid records as objects, everything else (the
 * permissions line, malformed lines) as raw strings.
 */
export function* generateInvocations(options: TrafficOptions = {}): Generator<InvocationLogRecord | string> {
  for (const item of generateTraffic(options)) yield item.kind === "record" ? item.record : item.line;
}

function unpricedSpec(modelId: string, family: ModelSpec["family"]): ModelSpec {
  const prefix = modelId.slice(0, modelId.indexOf("."));
  return {
    modelId,
    model: modelId,
    family,
    weight: 1,
    cache: "none",
    inferenceRegions: prefix === "us" || modelId.includes("application-inference-profile") ? ["us-east-1", "us-east-2", "us-west-2"] : [],
    premium: false,
    msPerOutputToken: 10,
    responseModel: modelId.replace(/^.*\//, ""),
  };
}

function fillSlots(rng: Prng, slots: readonly TextSlot[], budget: number): number {
  if (slots.length === 0) return 0;
  const totalWeight = slots.reduce((sum, textSlot) => sum + textSlot.weight, 0);
  let remaining = budget;
  for (let index = 0; index < slots.length; index++) {
    const textSlot = slots[index] as TextSlot;
    const share = index === slots.length - 1 ? remaining : Math.round((budget * textSlot.weight) / totalWeight);
    const length = Math.min(share, remaining);
    fillSlot(textSlot, fillerText(rng, length));
    remaining -= length;
  }
  return budget - remaining;
}

/** Token counts follow the text at about 4 characters per token, as English does. */
function tokenUsage(
  rng: Prng,
  model: ModelSpec,
  app: Application,
  promptSlots: readonly TextSlot[],
  promptChars: number,
  answerChars: number,
  cached: boolean,
): BodyUsage {
  const fixedChars = promptSlots.reduce((sum, textSlot) => sum + textSlot.before.length + textSlot.after.length, 0);
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  if (cached) {
    // A cached prefix (a long system prompt or a document) is at least 1,024 tokens for Claude and Nova.
    const kind = model.cache === "read" ? 0 : rng.next();
    const size = Math.round(rng.logUniform(1024, 32_000));
    if (kind < 0.6) cacheReadTokens = size;
    else if (kind < 0.85) cacheWriteTokens = size;
    else {
      cacheReadTokens = size;
      cacheWriteTokens = Math.round(rng.logUniform(256, 8_000));
    }
  }
  // The system prompt is part of the cached prefix when a cache point is set.
  const systemChars = cached ? 0 : app.system.length;
  const inputTokens = Math.max(1, Math.ceil(((promptChars + fixedChars + systemChars) / 4) * (0.85 + 0.3 * rng.next())) + 8);
  const outputTokens = model.family === "titan-embed" ? 0 : Math.max(1, Math.ceil((answerChars / 4) * (0.85 + 0.3 * rng.next())));
  const firstByteMs =
    model.family === "titan-embed" ? 20 + rng.int(60) : Math.round(180 + 500 * rng.next() + (inputTokens + cacheWriteTokens) * 0.04 + cacheReadTokens * 0.005);
  const latencyMs = firstByteMs + Math.round(outputTokens * model.msPerOutputToken * (0.85 + 0.3 * rng.next()));
  return { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, latencyMs, firstByteMs };
}

function corrupt(rng: Prng, record: InvocationLogRecord, defect: MalformedDefect): string {
  switch (defect) {
    case "negative-token-count":
      record.input.inputTokenCount = -record.input.inputTokenCount;
      return JSON.stringify(record);
    case "missing-request-id": {
      const { requestId: _dropped, ...rest } = record;
      return JSON.stringify(rest);
    }
    case "fractional-token-count":
      record.output.outputTokenCount += 0.5;
      return JSON.stringify(record);
    case "truncated-line": {
      const line = JSON.stringify(record);
      return line.slice(0, Math.floor(line.length * (0.3 + 0.6 * rng.next())));
    }
  }
}
