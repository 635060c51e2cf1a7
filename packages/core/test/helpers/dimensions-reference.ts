/**
 * The billing dimensions of an invocation log record (latency, service tier, 1-hour cache writes) by
 * their definition, written as paths into the record rather than as the hand-written walk of
 * packages/core/src/invocation.ts: the reference both of its paths (validation and fast path) must
 * match, problems and wording included. Test-only.
 */
import { MAX_TOKENS_PER_CLASS } from "../../src/invocation";

/** One problem, as invocation.ts words it. */
export interface DimensionIssue {
  path: PropertyKey[];
  message: string;
}

/** What a record says of its dimensions, and the problems with what it says. */
export interface DimensionsByDefinition {
  issues: DimensionIssue[];
  latency: "standard" | "optimized" | null;
  serviceTier: "default" | "priority" | "flex" | "reserved" | null;
  cacheWrite1hTokens: number | null;
}

const LATENCIES = ["standard", "optimized"];
const TIERS = ["default", "priority", "flex", "reserved"];
const TAIL = 6;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const absent = (value: unknown) => value === undefined || value === null;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  // Quoted only when one short word: anything longer may be what a caller typed.
  if (typeof value === "string") return /^[A-Za-z0-9_.:-]{0,24}$/.test(value) ? JSON.stringify(value) : `a string of ${value.length} characters`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** The value at `path` below `root` when every step on the way is an object; undefined otherwise. */
function at(root: unknown, path: PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (!isObject(value)) return undefined;
    value = value[key as string];
  }
  return value;
}

/** A logged body: an object or array, or a short JSON string that names a dimension, parsed. */
export function body(value: unknown): unknown {
  if (typeof value === "object" && value !== null) return value;
  if (typeof value !== "string" || value.length > 8192 || !/performanceConfig|serviceTier|cacheDetails|cache_creation/.test(value)) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The message tokenCount gives for a count it refuses; undefined for one it accepts. */
function countProblem(value: unknown): string | undefined {
  let count: number;
  if (typeof value === "number") count = value;
  else if (typeof value === "string" && /^\d+$/.test(value.trim())) count = Number(value.trim());
  else return `must be a non-negative integer, got ${describe(value)}`;
  if (!Number.isInteger(count) || count < 0) return `must be a non-negative integer, got ${count}`;
  if (count > MAX_TOKENS_PER_CLASS) return `is ${JSON.stringify(value)}, more than the ${MAX_TOKENS_PER_CLASS} plausible for one invocation`;
  return undefined;
}

const INVALID = "invalid" as const;
type Said<T> = T | null | typeof INVALID;

/**
 * The dimensions of `record`. `cacheWriteTotal` is its cacheWriteInputTokenCount as read (absent: 0),
 * undefined when that count is itself wrong (the 1-hour share is then not compared with it).
 */
export function dimensionsByDefinition(record: Record<string, unknown>, cacheWriteTotal: number | undefined): DimensionsByDefinition {
  const issues: DimensionIssue[] = [];

  const enumAt = (root: unknown, base: PropertyKey[], container: string, key: string, allowed: string[], message: string): Said<string> => {
    const holder = at(root, [container]);
    if (!isObject(holder) || absent(holder[key])) return null;
    if (allowed.includes(holder[key] as string)) return holder[key] as string;
    issues.push({ path: [...base, container, key], message: `${message}, got ${describe(holder[key])}` });
    return INVALID;
  };
  const latencyAt = (root: unknown, base: PropertyKey[]) => enumAt(root, base, "performanceConfig", "latency", LATENCIES, 'must be "standard" or "optimized"');
  const tierAt = (root: unknown, base: PropertyKey[]) =>
    enumAt(root, base, "serviceTier", "type", TIERS, 'must be "default", "priority", "flex" or "reserved"');

  /** 1-hour writes of the usage object at `base`.usage, and the path its problem is reported at. */
  const hourAt = (root: unknown, base: PropertyKey[]): { hour: Said<number>; path: PropertyKey[] } => {
    const usage = at(root, ["usage"]);
    if (!isObject(usage)) return { hour: null, path: [] };
    if (Array.isArray(usage.cacheDetails)) {
      let sum = 0;
      let unknown = false;
      let bad = false;
      usage.cacheDetails.forEach((detail, index) => {
        if (!isObject(detail)) {
          unknown = true;
          return;
        }
        if (absent(detail.ttl)) unknown = true;
        else if (detail.ttl !== "5m" && detail.ttl !== "1h") {
          issues.push({ path: [...base, "usage", "cacheDetails", index, "ttl"], message: `must be "5m" or "1h", got ${describe(detail.ttl)}` });
          bad = true;
        }
        if (absent(detail.inputTokens)) unknown = true;
        else if (countProblem(detail.inputTokens) !== undefined) {
          issues.push({ path: [...base, "usage", "cacheDetails", index, "inputTokens"], message: countProblem(detail.inputTokens) as string });
          bad = true;
        } else if (detail.ttl === "1h") sum += Number(String(detail.inputTokens).trim());
      });
      return { hour: bad ? INVALID : unknown ? null : sum, path: [...base, "usage", "cacheDetails"] };
    }
    const path = [...base, "usage", "cache_creation", "ephemeral_1h_input_tokens"];
    const value = at(usage, ["cache_creation", "ephemeral_1h_input_tokens"]);
    if (absent(value) || !isObject(usage.cache_creation)) return { hour: null, path };
    const problem = countProblem(value);
    if (problem === undefined) return { hour: Number(String(value).trim()), path };
    issues.push({ path, message: problem });
    return { hour: INVALID, path };
  };

  // Record order: the top level, the request, the response.
  const top = latencyAt(record, []);
  const topTier = tierAt(record, []);
  const request = body(at(record, ["input", "inputBodyJson"]));
  const requestLatency = isObject(request) ? latencyAt(request, ["input", "inputBodyJson"]) : null;
  const requestTier = isObject(request) ? tierAt(request, ["input", "inputBodyJson"]) : null;

  let servedLatency: Said<string> = null;
  let servedTier: Said<string> = null;
  let hour: { hour: Said<number>; path: PropertyKey[] } = { hour: null, path: [] };
  const response = body(at(record, ["output", "outputBodyJson"]));
  const whole = (root: unknown, base: PropertyKey[]) => {
    servedLatency = latencyAt(root, base);
    servedTier = tierAt(root, base);
    hour = hourAt(root, base);
  };
  if (isObject(response)) whole(response, ["output", "outputBodyJson"]);
  else if (Array.isArray(response)) {
    const tail = response
      .map((event, index) => ({ event, index }))
      .slice(-TAIL)
      .reverse()
      .find(({ event }) => isObject(event) && (isObject(event.metadata) || event.type === "message_delta"));
    let found = false;
    if (tail && isObject(at(tail.event, ["metadata"]))) {
      whole(at(tail.event, ["metadata"]), ["output", "outputBodyJson", tail.index, "metadata"]);
      found = true;
    } else if (tail) {
      hour = hourAt(tail.event, ["output", "outputBodyJson", tail.index]);
      found = hour.hour !== null;
    }
    const first = response[0];
    if (!found && isObject(first) && first.type === "message_start" && isObject(at(first, ["message", "usage"]))) {
      hour = hourAt(first.message, ["output", "outputBodyJson", 0, "message"]);
    }
  }

  let cacheWrite1hTokens: Said<number> = hour.hour;
  if (typeof cacheWrite1hTokens === "number" && cacheWriteTotal !== undefined && cacheWrite1hTokens > cacheWriteTotal) {
    issues.push({
      path: hour.path,
      message: `has ${cacheWrite1hTokens} 1-hour cache-write tokens, more than input.cacheWriteInputTokenCount (${cacheWriteTotal})`,
    });
    cacheWrite1hTokens = INVALID;
  }
  const pick = <T>(...sources: Said<T>[]): T | null => (sources.find((source) => source !== null) ?? null) as T | null;
  return {
    issues,
    // The response says what served the request; then the log's own field; then the request.
    latency: pick(servedLatency, top, requestLatency) as DimensionsByDefinition["latency"],
    serviceTier: pick(servedTier, topTier, requestTier) as DimensionsByDefinition["serviceTier"],
    cacheWrite1hTokens: cacheWrite1hTokens === INVALID ? null : cacheWrite1hTokens,
  };
}
