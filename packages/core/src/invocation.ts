/**
 * The Bedrock model invocation log record (`schemaType: "ModelInvocationLog"`), validated.
 *
 * Lenient on fields bedrock-spend does not use (bodies, unknown keys, key order), strict on the
 * ones it does: a record whose token counts, ids, timestamp or metadata are wrong is `invalid`
 * with a reason that names the field, never silently repaired into a cost. The bodies are read
 * only for the billing dimensions (latency, service tier, 1-hour cache writes) and, best effort,
 * the call's measured latency and stop reason (see "Performance" below); a body that cannot be
 * read only means the log does not say them (see "Billing dimensions" below). No body is kept.
 */
import { MAX_METADATA_ENTRIES, MAX_METADATA_LENGTH, METADATA_CHARS, metadataKeyProblem, metadataValueProblem } from "./request-metadata";

/** Largest token count accepted for one class of one invocation. No model has a context near it. */
export const MAX_TOKENS_PER_CLASS = 100_000_000;

// requestMetadata rules (1-16 entries, keys 1-256 and values 0-256 characters of Bedrock's
// alphabet) live in ./request-metadata, shared with the spend API and the SDK. Bedrock refuses
// requests that break them, so a log that breaks them did not come from Bedrock as-is.

const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

const LAST_EPOCH_MILLIS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

// Records of one batch share few distinct seconds: a one-entry memo skips most of the parsing.
let lastParsedText = "";
let lastParsedValue: number | undefined;

/** Parses an ISO 8601 timestamp with a zone into epoch milliseconds, checking every component. */
export function parseIsoTimestamp(text: string): number | undefined {
  if (text === lastParsedText) return lastParsedValue;
  const value = parseIsoTimestampUncached(text);
  lastParsedText = text;
  lastParsedValue = value;
  return value;
}

function parseIsoTimestampUncached(text: string): number | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  // Before 1970 nothing was logged, and Date.UTC reads years 0-99 as 1900-1999.
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = Number(digits.slice(2, 4));
    if (zoneHours > 14 || zoneMinutes > 59) return undefined;
    offsetMinutes = sign * (zoneHours * 60 + zoneMinutes);
  }
  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  // The UTC instant must stay a four-digit year: partitions and keys are YYYY-MM-DD.
  return epoch <= LAST_EPOCH_MILLIS ? epoch : undefined;
}

let lastFormattedMillis = Number.NaN;
let lastFormattedText = "";

/** Formats epoch milliseconds as `2026-11-27T10:00:00Z`, with `.sss` only when non-zero. */
export function formatTimestamp(epochMillis: number): string {
  if (epochMillis === lastFormattedMillis) return lastFormattedText;
  lastFormattedMillis = epochMillis;
  lastFormattedText = formatTimestampUncached(epochMillis);
  return lastFormattedText;
}

function formatTimestampUncached(epochMillis: number): string {
  const iso = new Date(epochMillis).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, 19)}Z` : iso;
}

/** One problem with a record: the path of the field, and what is wrong with it. */
interface Issue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/*
 * The validation below is written out by hand rather than with a schema library: it runs in every
 * Lambda, and a schema library (zod: ~470 KB minified, and building the schema at import) was most
 * of each function's bundle and cold start. It reports what the zod schema it replaces reported,
 * problem for problem and in the same order (every field, each of a field's checks): a test keeps
 * that schema as the reference and compares the two on generated records.
 */

/** A token count (absent: 0). Integral numeric strings are accepted; anything else is an issue at `path` (the count is then 0). */
function tokenCount(value: unknown, required: boolean, path: ReadonlyArray<PropertyKey>, issues: Issue[]): number {
  if (value === undefined) {
    if (required) issues.push({ path, message: "is missing" });
    return 0;
  }
  let count: number;
  if (typeof value === "number") {
    count = value;
  } else if (typeof value === "string" && /^\d+$/.test(value.trim())) {
    // Some pipelines (the AWS sample's Glue DDL among them) carry counts as strings.
    count = Number(value.trim());
  } else {
    issues.push({ path, message: `must be a non-negative integer, got ${describe(value)}` });
    return 0;
  }
  if (!Number.isInteger(count) || count < 0) {
    issues.push({ path, message: `must be a non-negative integer, got ${count}` });
    return 0;
  }
  if (count > MAX_TOKENS_PER_CLASS) {
    issues.push({ path, message: `is ${JSON.stringify(value)}, more than the ${MAX_TOKENS_PER_CLASS} plausible for one invocation` });
    return 0;
  }
  return count;
}

/** Length of a string in Unicode code points (a surrogate pair counts once), as the length limits count it. */
function codePointLength(text: string): number {
  let count = text.length;
  for (let index = 0; index < text.length - 1; index++) {
    if ((text.charCodeAt(index) & 0xfc00) === 0xd800 && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      count--;
      index++;
    }
  }
  return count;
}

/**
 * The length limits of a string field (1 to `max` code points). As in the schema this replaces,
 * they also apply to a value of the wrong type that has a `length` (an array, say), after the
 * type problem: such a value is reported with up to three problems, and the count is part of the reason.
 */
function lengthIssues(value: { length: unknown }, max: number, path: ReadonlyArray<PropertyKey>, issues: Issue[]): void {
  const units = value.length as number;
  const length = typeof value === "string" && units > max ? codePointLength(value) : units;
  if (!(units >= 1)) issues.push({ path, message: "must not be empty" });
  if (!(length <= max)) issues.push({ path, message: `must be at most ${max} characters` });
}

/** A required string of 1 to `max` characters matching `pattern`; every check that fails is an issue. */
function boundedString(
  value: unknown,
  max: number,
  pattern: RegExp | undefined,
  patternMessage: string | undefined,
  path: ReadonlyArray<PropertyKey>,
  issues: Issue[],
): void {
  if (typeof value !== "string") {
    issues.push({ path, message: value === undefined ? "is missing" : `must be a string, got ${describe(value)}` });
    if (value !== null && value !== undefined && (value as { length?: unknown }).length !== undefined)
      lengthIssues(value as { length: unknown }, max, path, issues);
    return;
  }
  lengthIssues(value, max, path, issues);
  if (pattern && !pattern.test(value)) issues.push({ path, message: patternMessage ?? "has a bad format" });
}

/** `boundedString`, or absent. */
function optionalString(
  value: unknown,
  max: number,
  pattern: RegExp | undefined,
  patternMessage: string | undefined,
  path: ReadonlyArray<PropertyKey>,
  issues: Issue[],
): void {
  if (value !== undefined) boundedString(value, max, pattern, patternMessage, path, issues);
}

/** One short word (or none): an enum value or an id, quoted in messages because it is what a reader needs ("got \"batch\""). */
const QUOTABLE_WORD = /^[A-Za-z0-9_.:-]{0,24}$/;

/**
 * A value's kind for an issue message. Messages reach logs, and a field may hold what a caller
 * typed: a string is quoted only when it is one short word, and otherwise described by its length
 * (the record, in the quarantine, keeps the content). Numbers and booleans carry no text.
 */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return QUOTABLE_WORD.test(value) ? JSON.stringify(value) : `a string of ${value.length} characters`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** The name of a value's type in the message for a record that is not an object. */
function receivedType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return typeof value;
}

// Control characters never appear in Bedrock's ids; refusing them keeps logs and keys printable.
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;
const NO_CONTROL_CHARS_MESSAGE = "must not contain control characters";

/** requestMetadata as a string map (absent: empty); every entry Bedrock would refuse is an issue. */
function requestMetadata(value: unknown, issues: Issue[]): Record<string, string> {
  const path = ["requestMetadata"];
  if (value === undefined || value === null) return {};
  let map = value;
  if (typeof map === "string") {
    // InvokeModel passes metadata as a JSON string header; accept it if a pipeline kept it so.
    try {
      map = JSON.parse(map);
    } catch {
      issues.push({ path, message: "is a string that is not a JSON object" });
      return {};
    }
  }
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    issues.push({ path, message: `must be an object of string values, got ${describe(map)}` });
    return {};
  }
  const entries = Object.entries(map);
  if (entries.length > MAX_METADATA_ENTRIES) {
    issues.push({ path, message: `has ${entries.length} entries, more than the ${MAX_METADATA_ENTRIES} Bedrock allows` });
    return {};
  }
  const result: Record<string, string> = {};
  for (const [key, entry] of entries) {
    if (metadataKeyProblem(key)) {
      issues.push({ path, message: `a key (${key.length} characters) is not 1-${MAX_METADATA_LENGTH} characters of [a-zA-Z0-9 :_@$#=/+,-.]` });
      continue;
    }
    if (typeof entry !== "string") {
      issues.push({ path: [...path, key], message: `must be a string, got ${describe(entry)}` });
      continue;
    }
    const problem = metadataValueProblem(entry);
    if (problem?.reason === "too-long") {
      issues.push({ path: [...path, key], message: `is ${entry.length} characters long, more than the ${MAX_METADATA_LENGTH} Bedrock allows` });
      continue;
    }
    if (problem) {
      issues.push({
        path: [...path, key],
        message: `has characters outside [a-zA-Z0-9 :_@$#=/+,-.], the first at position ${problem.reason === "disallowed-character" ? problem.index : 0}`,
      });
      continue;
    }
    // defineProperty, not assignment: a key named "__proto__" (allowed by Bedrock) must be kept.
    Object.defineProperty(result, key, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** An optional object field: absent, or an object (anything else is an issue at `path`). */
function optionalObject(value: unknown, path: ReadonlyArray<PropertyKey>, issues: Issue[]): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (isPlainObject(value)) return value;
  issues.push({ path, message: `must be an object, got ${describe(value)}` });
  return undefined;
}

/**
 * Every problem with the fields bedrock-spend reads from a record, field by field in record order,
 * and the values read (meaningful only when there is no problem).
 */
function validateInvocation(value: unknown): { issues: Issue[]; log: InvocationLog } {
  const issues: Issue[] = [];
  const log: InvocationLog = {
    requestId: "",
    timestamp: 0,
    modelId: "",
    operation: null,
    accountId: null,
    region: null,
    inferenceRegion: null,
    errorCode: null,
    principalArn: null,
    metadata: {},
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    latency: null,
    serviceTier: null,
    cacheWrite1hTokens: null,
    latencyMs: null,
    stopReason: null,
  };
  if (!isPlainObject(value)) {
    issues.push({ path: [], message: `Invalid input: expected object, received ${receivedType(value)}` });
    return { issues, log };
  }
  const record = value;
  if (record.schemaType !== undefined && record.schemaType !== "ModelInvocationLog") {
    issues.push({ path: ["schemaType"], message: `must be "ModelInvocationLog", got ${describe(record.schemaType)}` });
  }
  boundedString(record.requestId, 256, NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE, ["requestId"], issues);
  const timestamp = record.timestamp;
  if (typeof timestamp !== "string") {
    issues.push({ path: ["timestamp"], message: timestamp === undefined ? "is missing" : `must be an ISO 8601 string, got ${describe(timestamp)}` });
  } else if (parseIsoTimestamp(timestamp) === undefined) {
    issues.push({ path: ["timestamp"], message: `is not a valid ISO 8601 timestamp with a zone: ${describe(timestamp)}` });
  } else {
    log.timestamp = parseIsoTimestamp(timestamp) as number;
  }
  boundedString(record.modelId, 2048, NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE, ["modelId"], issues);
  optionalString(record.operation, 64, OPERATION, "must be an API operation name", ["operation"], issues);
  optionalString(record.accountId, 12, ACCOUNT_ID, "must be a 12-digit AWS account id", ["accountId"], issues);
  optionalString(record.region, 32, REGION, "must be an AWS Region name", ["region"], issues);
  optionalString(record.inferenceRegion, 32, REGION, "must be an AWS Region name", ["inferenceRegion"], issues);
  optionalString(record.errorCode, 256, undefined, undefined, ["errorCode"], issues);
  const identity = optionalObject(record.identity, ["identity"], issues);
  if (identity) optionalString(identity.arn, 2048, NO_CONTROL_CHARS, NO_CONTROL_CHARS_MESSAGE, ["identity", "arn"], issues);
  log.metadata = requestMetadata(record.requestMetadata, issues);
  const input = optionalObject(record.input, ["input"], issues);
  // The total that the 1-hour share of cache writes is checked against, unless it is itself wrong.
  let cacheWriteTotal: number | undefined;
  if (input) {
    log.inputTokens = tokenCount(input.inputTokenCount, false, ["input", "inputTokenCount"], issues);
    log.cacheReadTokens = tokenCount(input.cacheReadInputTokenCount, false, ["input", "cacheReadInputTokenCount"], issues);
    const before = issues.length;
    log.cacheWriteTokens = tokenCount(input.cacheWriteInputTokenCount, false, ["input", "cacheWriteInputTokenCount"], issues);
    if (issues.length === before) cacheWriteTotal = log.cacheWriteTokens;
  } else if (record.input === undefined) {
    cacheWriteTotal = 0;
  }
  const output = optionalObject(record.output, ["output"], issues);
  if (output) log.outputTokens = tokenCount(output.outputTokenCount, false, ["output", "outputTokenCount"], issues);
  readDimensions(record, input, output, cacheWriteTotal, log, issues);
  if (issues.length === 0) {
    log.requestId = record.requestId as string;
    log.modelId = record.modelId as string;
    log.operation = (record.operation as string | undefined) ?? null;
    log.accountId = (record.accountId as string | undefined) ?? null;
    log.region = (record.region as string | undefined) ?? null;
    log.inferenceRegion = (record.inferenceRegion as string | undefined) ?? null;
    log.errorCode = (record.errorCode as string | undefined) ?? null;
    log.principalArn = (identity?.arn as string | undefined) ?? null;
  }
  return { issues, log };
}

/** A validated invocation log record, reduced to what bedrock-spend uses. Bodies are not kept. */
export interface InvocationLog {
  requestId: string;
  /** Epoch milliseconds (UTC). */
  timestamp: number;
  modelId: string;
  operation: string | null;
  accountId: string | null;
  region: string | null;
  inferenceRegion: string | null;
  errorCode: string | null;
  principalArn: string | null;
  metadata: Record<string, string>;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** `performanceConfig.latency` of the request: "optimized" is billed at its own rate; null when the log does not say. */
  latency: "standard" | "optimized" | null;
  /** The service tier that served the request (priority | default | flex | reserved); null when the log does not say. */
  serviceTier: "default" | "priority" | "flex" | "reserved" | null;
  /** Of cacheWriteTokens, those written with a 1-hour TTL; null when the log does not split writes by TTL. */
  cacheWrite1hTokens: number | null;
  /** Latency Bedrock measured, in milliseconds (a non-negative safe integer); null when the log has none. Best effort, never a problem. */
  latencyMs: number | null;
  /** Why the model stopped (`end_turn`, `max_tokens`, ...), as the response says it; null when it does not. Best effort, never a problem. */
  stopReason: string | null;
}

/** Result of validating one record. */
export type InvocationParseResult =
  | { ok: true; log: InvocationLog }
  | {
      ok: false;
      /** Path of the first bad field, e.g. `input.inputTokenCount` or `requestMetadata.tenantId`. */
      field: string;
      /** `field: problem`, plus how many other problems there were. */
      reason: string;
      /** Whatever identifying fields could be read, for the output line. */
      partial: Partial<Pick<InvocationLog, "requestId" | "modelId" | "operation" | "region">> & { timestamp?: string };
    };

/**
 * Validates one decoded record value. Token counts must be non-negative integers (integral numeric
 * strings accepted); `input.inputTokenCount` is required unless the invocation failed (`errorCode`),
 * `outputTokenCount` defaults to 0 (embeddings have no output), cache counts default to 0.
 * The billing dimensions are null unless the log says them; one it says wrongly (a value outside
 * its enumeration, a bad count, 1-hour writes above cacheWriteInputTokenCount) is a problem.
 */
export function parseInvocationLog(value: unknown): InvocationParseResult {
  // Every record goes through here: the common, valid shape is checked first, with no issue list.
  // The fast path accepts only what validation accepts and builds the same result; anything it is
  // unsure of (a problem to report, counts as strings, metadata as a JSON string) is validated in full.
  const fast = parseValidFast(value);
  if (fast !== undefined) return { ok: true, log: fast };
  return validateInvocationLog(value);
}

/**
 * `parseInvocationLog` without its fast path: the same result, always reached by full validation.
 * For tests and tools that hold the fast path to the validation it stands in for.
 */
export function validateInvocationLog(value: unknown): InvocationParseResult {
  const { issues, log } = validateInvocation(value);
  if (issues.length > 0) return failure(value, issues);
  const rawInput = (value as { input?: { inputTokenCount?: unknown } }).input;
  if (log.errorCode === null && rawInput?.inputTokenCount === undefined) {
    return failure(value, [
      {
        path: ["input", "inputTokenCount"],
        message: "is missing (required unless the record has an errorCode)",
      },
    ]);
  }
  return { ok: true, log };
}

const OPERATION = /^[A-Za-z]+$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z0-9-]+$/;

/** `value` is absent, or a string of 1 to `max` characters matching `pattern`. */
function optionalText(value: unknown, max: number, pattern?: RegExp): boolean {
  return value === undefined || (typeof value === "string" && value.length >= 1 && value.length <= max && (pattern === undefined || pattern.test(value)));
}

/** A token count the schema accepts as a JSON number (absent: 0); undefined for anything else. */
function fastTokenCount(value: unknown): number | undefined {
  if (value === undefined) return 0;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS_PER_CLASS) return value;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Metadata keys already found valid: records repeat the same few keys. Bounded. */
const validMetadataKeys = new Set<string>();
const MAX_VALID_METADATA_KEYS = 4096;

function isValidMetadataKey(key: string): boolean {
  if (validMetadataKeys.has(key)) return true;
  if (key.length < 1 || key.length > MAX_METADATA_LENGTH || !METADATA_CHARS.test(key)) return false;
  if (validMetadataKeys.size >= MAX_VALID_METADATA_KEYS) validMetadataKeys.clear();
  validMetadataKeys.add(key);
  return true;
}

/** requestMetadata as `metadataSchema` returns it when it raises no issue; undefined otherwise (or when given as a string). */
function fastMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) return undefined;
  const result: Record<string, string> = {};
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (++count > MAX_METADATA_ENTRIES) return undefined;
    const entry = value[key];
    if (!isValidMetadataKey(key)) return undefined;
    if (typeof entry !== "string" || entry.length > MAX_METADATA_LENGTH || !METADATA_CHARS.test(entry)) return undefined;
    // defineProperty, not assignment, as in the schema: a key named "__proto__" must be kept.
    if (key === "__proto__") Object.defineProperty(result, key, { value: entry, enumerable: true, writable: true, configurable: true });
    else result[key] = entry;
  }
  return result;
}

/**
 * The result of `validateInvocation` plus the inputTokenCount rule for a valid record of the
 * usual shape; undefined when the record may not pass (full validation then decides, and words
 * the problem). Keep in step with `validateInvocation`: a test compares both on generated records.
 */
function parseValidFast(value: unknown): InvocationLog | undefined {
  if (!isPlainObject(value)) return undefined;
  const { schemaType, requestId, timestamp, modelId, operation, accountId, region, inferenceRegion, errorCode, identity, requestMetadata, input, output } =
    value;
  if (schemaType !== undefined && schemaType !== "ModelInvocationLog") return undefined;
  if (typeof requestId !== "string" || requestId.length < 1 || requestId.length > 256 || !NO_CONTROL_CHARS.test(requestId)) return undefined;
  if (typeof timestamp !== "string") return undefined;
  const epoch = parseIsoTimestamp(timestamp);
  if (epoch === undefined) return undefined;
  if (typeof modelId !== "string" || modelId.length < 1 || modelId.length > 2048 || !NO_CONTROL_CHARS.test(modelId)) return undefined;
  if (!optionalText(operation, 64, OPERATION) || !optionalText(accountId, 12, ACCOUNT_ID)) return undefined;
  if (!optionalText(region, 32, REGION) || !optionalText(inferenceRegion, 32, REGION) || !optionalText(errorCode, 256)) return undefined;
  let principalArn: string | null = null;
  if (identity !== undefined) {
    if (!isPlainObject(identity) || !optionalText(identity.arn, 2048, NO_CONTROL_CHARS)) return undefined;
    principalArn = (identity.arn as string | undefined) ?? null;
  }
  const metadata = fastMetadata(requestMetadata);
  if (metadata === undefined) return undefined;
  let inputTokens = 0;
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  if (input !== undefined) {
    if (!isPlainObject(input)) return undefined;
    const counts = [fastTokenCount(input.inputTokenCount), fastTokenCount(input.cacheReadInputTokenCount), fastTokenCount(input.cacheWriteInputTokenCount)];
    if (counts[0] === undefined || counts[1] === undefined || counts[2] === undefined) return undefined;
    [inputTokens, cacheReadTokens, cacheWriteTokens] = counts as [number, number, number];
  }
  let outputTokens = 0;
  if (output !== undefined) {
    if (!isPlainObject(output)) return undefined;
    const count = fastTokenCount(output.outputTokenCount);
    if (count === undefined) return undefined;
    outputTokens = count;
  }
  // inputTokenCount is required unless the invocation failed: the schema path words that problem.
  if (errorCode === undefined && (input as { inputTokenCount?: unknown } | undefined)?.inputTokenCount === undefined) return undefined;
  const log: InvocationLog = {
    requestId,
    timestamp: epoch,
    modelId,
    operation: (operation as string | undefined) ?? null,
    accountId: (accountId as string | undefined) ?? null,
    region: (region as string | undefined) ?? null,
    inferenceRegion: (inferenceRegion as string | undefined) ?? null,
    errorCode: (errorCode as string | undefined) ?? null,
    principalArn,
    metadata,
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    latency: null,
    serviceTier: null,
    cacheWrite1hTokens: null,
    latencyMs: null,
    stopReason: null,
  };
  return readDimensions(value, input as Record<string, unknown> | undefined, output as Record<string, unknown> | undefined, cacheWriteTokens, log, undefined)
    ? log
    : undefined;
}

/*
 * Billing dimensions: the latency setting, the service tier and the 1-hour share of cache writes.
 * Bedrock logs them inside the request and response bodies (and, for latency, sometimes as a
 * top-level `performanceConfig`), so they are read from wherever the log says them, what served
 * the request (the response) before the log's own field before what was asked (the request):
 *
 *   latency      output.outputBodyJson.performanceConfig.latency (Converse response; in a stream's
 *                `metadata` event), then top-level performanceConfig.latency, then
 *                input.inputBodyJson.performanceConfig.latency (the request). The response first:
 *                an "optimized" request that ran out of latency-optimized quota is served, and
 *                billed, at standard latency, and the response is where Bedrock says so.
 *   serviceTier  output.outputBodyJson.serviceTier.type (the tier that served it; also in a stream's
 *                `metadata` event), then a top-level serviceTier.type (read as performanceConfig is,
 *                should the log carry InvokeModel's X-Amzn-Bedrock-Service-Tier header there), then
 *                input.inputBodyJson.serviceTier.type (the tier asked for).
 *   1h writes    output.outputBodyJson.usage.cacheDetails[] (Converse: the sum of the `1h` entries),
 *                or usage.cache_creation.ephemeral_1h_input_tokens (Anthropic Messages body via
 *                InvokeModel); in a logged stream, the `metadata` event's usage or the Anthropic
 *                `message_delta` usage near the end, else the `message_start` message's usage.
 *
 * Bodies are optional and often cut or offloaded to S3, so a body, or any object on the way to a
 * value, that is missing, null or of the wrong shape means "the log does not say": null, never a
 * problem. A value that is there and wrong is a problem: a latency, tier or TTL outside its
 * enumeration, a count that is not a non-negative integer, and 1-hour writes above the record's
 * cacheWriteInputTokenCount (absent: 0), which contradicts the count that prices the writes.
 * Every value read is checked, also one that a source of higher precedence overrides.
 */

const INVALID: unique symbol = Symbol("invalid");
/** A dimension as one source gives it: a value, null when it says nothing, or INVALID (reported). */
type Read<T> = T | null | typeof INVALID;

type Latency = InvocationLog["latency"] & string;
type ServiceTier = InvocationLog["serviceTier"] & string;

/**
 * Bodies logged as JSON text (some pipelines stringify them) are parsed only when short and when
 * they name a dimension: parsing a body costs as much as parsing the record, and dimensions are
 * rare. A longer string body says nothing here.
 */
const MAX_PARSED_BODY_CHARS = 8192;
const DIMENSION_KEYS = /performanceConfig|serviceTier|cacheDetails|cache_creation/;
/** Stream events searched for the usage: the last few (metadata, message_delta) and the first (message_start). */
const STREAM_TAIL_EVENTS = 6;

const INPUT_BODY: ReadonlyArray<PropertyKey> = ["input", "inputBodyJson"];
const OUTPUT_BODY: ReadonlyArray<PropertyKey> = ["output", "outputBodyJson"];
const NO_PATH: ReadonlyArray<PropertyKey> = [];

/**
 * Reads the billing dimensions of `record` into `log`. With `issues`, every problem is added to it;
 * without (the fast path), false at the first problem and the full validation words it.
 * `cacheWriteTotal` is the record's cache-write count, undefined when that count is itself wrong.
 */
function readDimensions(
  record: Record<string, unknown>,
  input: Record<string, unknown> | undefined,
  output: Record<string, unknown> | undefined,
  cacheWriteTotal: number | undefined,
  log: InvocationLog,
  issues: Issue[] | undefined,
): boolean {
  const topLatency = latencyOf(record, NO_PATH, issues);
  const topTier = tierOf(record, NO_PATH, issues);
  if ((topLatency === INVALID || topTier === INVALID) && !issues) return false;
  let requestLatency: Read<Latency> = null;
  let requestTier: Read<ServiceTier> = null;
  const request = input === undefined ? undefined : bodyOf(input.inputBodyJson);
  if (request !== undefined && !Array.isArray(request)) {
    requestLatency = latencyOf(request, INPUT_BODY, issues);
    requestTier = tierOf(request, INPUT_BODY, issues);
    if ((requestLatency === INVALID || requestTier === INVALID) && !issues) return false;
  }
  const response = output === undefined ? undefined : bodyOf(output.outputBodyJson);
  let served: ResponseDimensions = NOTHING_SERVED;
  if (response !== undefined) {
    served = Array.isArray(response) ? streamDimensions(response, issues) : responseDimensions(response, OUTPUT_BODY, issues);
    if (served === INVALID_SERVED) return false;
  }
  const latency = served.latency ?? (topLatency === null ? requestLatency : topLatency);
  const tier = served.tier ?? (topTier === null ? requestTier : topTier);
  let hour = served.hour;
  if (typeof hour === "number" && cacheWriteTotal !== undefined && hour > cacheWriteTotal) {
    if (!issues) return false;
    issues.push({
      path: served.hourPath,
      message: `has ${hour} 1-hour cache-write tokens, more than input.cacheWriteInputTokenCount (${cacheWriteTotal})`,
    });
    hour = INVALID;
  }
  if (latency === INVALID || tier === INVALID || hour === INVALID) return false;
  log.latency = latency;
  log.serviceTier = tier;
  log.cacheWrite1hTokens = hour;
  if (response !== undefined) {
    if (Array.isArray(response)) streamPerformance(response, log);
    else bodyPerformance(response, log);
  }
  return true;
}

/*
 * Performance: what the log says of how the call went, best effort. Never a problem: a value
 * missing or of the wrong shape is null, and the record is priced as ever.
 *
 *   latencyMs   output.outputBodyJson.metrics.latencyMs (Converse), or metrics.latencyMs of the last
 *               `metadata` event among a logged stream's last events (ConverseStream). InvokeModel
 *               bodies carry none. A non-negative safe integer number; anything else (a string, a
 *               fraction, a negative or unsafe number) is null.
 *   stopReason  output.outputBodyJson.stopReason (Converse, and Amazon Nova's native body), the
 *               `messageStop` event of a logged ConverseStream, or a native InvokeModel body's own:
 *               `stop_reason` (Anthropic, Meta Llama; an Anthropic stream's `message_delta`),
 *               `completionReason` (Amazon Titan, also in `results[0]`), `finish_reason` (Cohere,
 *               also in `choices[0]` for Mistral and OpenAI-style bodies). A short word (STOP_REASON),
 *               else null: the value goes to the lake, and a body's text must not.
 *
 * Only the response objects the billing dimensions already read are looked at: a body logged as a
 * JSON string is not parsed for these (see `bodyOf`).
 */

/** A stop reason as the lake keeps it: a word of up to 64 characters, no text. */
const STOP_REASON = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function latencyValue(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function stopReasonValue(value: unknown): string | null {
  return typeof value === "string" && STOP_REASON.test(value) ? value : null;
}

/** Latency and stop reason of a response body: Converse's, or a model's native body (InvokeModel). */
function bodyPerformance(body: Record<string, unknown>, log: InvocationLog): void {
  const metrics = body.metrics;
  if (isPlainObject(metrics)) log.latencyMs = latencyValue(metrics.latencyMs);
  const direct = body.stopReason ?? body.stop_reason ?? body.completionReason ?? body.finish_reason;
  if (direct !== undefined && direct !== null) {
    log.stopReason = stopReasonValue(direct);
    return;
  }
  const list = Array.isArray(body.choices) ? body.choices : Array.isArray(body.results) ? body.results : undefined;
  const first = list?.[0];
  if (isPlainObject(first)) log.stopReason = stopReasonValue(first.finish_reason ?? first.completionReason ?? first.stop_reason);
}

/** Latency and stop reason of a response logged as stream events: the last `metadata` and `messageStop` (or Anthropic `message_delta`) events. */
function streamPerformance(events: unknown[], log: InvocationLog): void {
  const stop = Math.max(0, events.length - STREAM_TAIL_EVENTS);
  let metadataSeen = false;
  let stopSeen = false;
  for (let index = events.length - 1; index >= stop && !(metadataSeen && stopSeen); index--) {
    const event = events[index];
    if (!isPlainObject(event)) continue;
    if (!metadataSeen && isPlainObject(event.metadata)) {
      metadataSeen = true;
      const metrics = event.metadata.metrics;
      if (isPlainObject(metrics)) log.latencyMs = latencyValue(metrics.latencyMs);
    }
    if (stopSeen) continue;
    if (isPlainObject(event.messageStop)) {
      stopSeen = true;
      log.stopReason = stopReasonValue(event.messageStop.stopReason);
    } else if (event.type === "message_delta" && isPlainObject(event.delta)) {
      stopSeen = true;
      log.stopReason = stopReasonValue(event.delta.stop_reason);
    }
  }
}

/** What a response body says (`null`: nothing), and where the 1-hour count was read, for its problem. */
interface ResponseDimensions {
  latency: Read<Latency>;
  tier: Read<ServiceTier>;
  hour: Read<number>;
  hourPath: ReadonlyArray<PropertyKey>;
}
const NOTHING_SERVED: ResponseDimensions = { latency: null, tier: null, hour: null, hourPath: NO_PATH };
/** Returned on the fast path at the first problem of a response body. */
const INVALID_SERVED: ResponseDimensions = { latency: INVALID, tier: INVALID, hour: INVALID, hourPath: NO_PATH };

/** A body as an object or array: as logged, or parsed from a short JSON string that names a dimension; undefined otherwise. */
function bodyOf(value: unknown): Record<string, unknown> | unknown[] | undefined {
  if (typeof value === "object" && value !== null) return value as Record<string, unknown> | unknown[];
  if (typeof value !== "string" || value.length > MAX_PARSED_BODY_CHARS || !DIMENSION_KEYS.test(value)) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown> | unknown[]) : undefined;
  } catch {
    // A cut or otherwise unparsable body says nothing.
    return undefined;
  }
}

/** The dimensions of a Converse response body, or of a stream's `metadata` event, at `base`. */
function responseDimensions(body: Record<string, unknown>, base: ReadonlyArray<PropertyKey>, issues: Issue[] | undefined): ResponseDimensions {
  const latency = latencyOf(body, base, issues);
  const tier = tierOf(body, base, issues);
  const usage = body.usage;
  const hour = isPlainObject(usage) ? cacheHourOf(usage, base, issues) : null;
  if (!issues && (latency === INVALID || tier === INVALID || hour === INVALID)) return INVALID_SERVED;
  if (latency === null && tier === null && hour === null) return NOTHING_SERVED;
  return { latency, tier, hour, hourPath: hour === null ? NO_PATH : hourPathOf(usage as Record<string, unknown>, base) };
}

/**
 * The dimensions of a response logged as stream events: a ConverseStream `metadata` event (or the
 * `metadata` chunk some InvokeModel streams end with) or an Anthropic `message_delta` among the
 * last events, else the Anthropic `message_start` event's usage.
 */
function streamDimensions(events: unknown[], issues: Issue[] | undefined): ResponseDimensions {
  const stop = Math.max(0, events.length - STREAM_TAIL_EVENTS);
  for (let index = events.length - 1; index >= stop; index--) {
    const event = events[index];
    if (!isPlainObject(event)) continue;
    const metadata = event.metadata;
    if (isPlainObject(metadata)) return responseDimensions(metadata, [...OUTPUT_BODY, index, "metadata"], issues);
    if (event.type === "message_delta") {
      const usage = event.usage;
      if (isPlainObject(usage)) {
        const served = usageDimensions(usage, [...OUTPUT_BODY, index], issues);
        if (served !== NOTHING_SERVED) return served;
      }
      break;
    }
  }
  const first = events[0];
  if (isPlainObject(first) && first.type === "message_start" && isPlainObject(first.message) && isPlainObject(first.message.usage)) {
    return usageDimensions(first.message.usage, [...OUTPUT_BODY, 0, "message"], issues);
  }
  return NOTHING_SERVED;
}

/** The 1-hour cache writes of an Anthropic `usage` object at `base`.usage, as a response. */
function usageDimensions(usage: Record<string, unknown>, base: ReadonlyArray<PropertyKey>, issues: Issue[] | undefined): ResponseDimensions {
  const hour = cacheHourOf(usage, base, issues);
  if (hour === null) return NOTHING_SERVED;
  if (hour === INVALID && !issues) return INVALID_SERVED;
  return { latency: null, tier: null, hour, hourPath: hourPathOf(usage, base) };
}

/** Where the 1-hour count of `usage` (at `base`.usage) comes from: its cacheDetails, else its cache_creation count. */
function hourPathOf(usage: Record<string, unknown>, base: ReadonlyArray<PropertyKey>): ReadonlyArray<PropertyKey> {
  return Array.isArray(usage.cacheDetails) ? [...base, "usage", "cacheDetails"] : [...base, "usage", "cache_creation", "ephemeral_1h_input_tokens"];
}

/** `performanceConfig.latency` of `holder` (at `base`). */
function latencyOf(holder: Record<string, unknown>, base: ReadonlyArray<PropertyKey>, issues: Issue[] | undefined): Read<Latency> {
  const config = holder.performanceConfig;
  if (!isPlainObject(config)) return null;
  const value = config.latency;
  if (value === undefined || value === null) return null;
  if (value === "standard" || value === "optimized") return value;
  issues?.push({ path: [...base, "performanceConfig", "latency"], message: `must be "standard" or "optimized", got ${describe(value)}` });
  return INVALID;
}

/** `serviceTier.type` of `holder` (at `base`). */
function tierOf(holder: Record<string, unknown>, base: ReadonlyArray<PropertyKey>, issues: Issue[] | undefined): Read<ServiceTier> {
  const config = holder.serviceTier;
  if (!isPlainObject(config)) return null;
  const value = config.type;
  if (value === undefined || value === null) return null;
  if (value === "default" || value === "priority" || value === "flex" || value === "reserved") return value;
  issues?.push({ path: [...base, "serviceTier", "type"], message: `must be "default", "priority", "flex" or "reserved", got ${describe(value)}` });
  return INVALID;
}

/**
 * Tokens written to the cache with a 1-hour TTL, from `usage` (at `base`.usage): the `1h` entries of
 * cacheDetails (null when an entry lacks its TTL or count), else cache_creation's 1-hour count.
 */
function cacheHourOf(usage: Record<string, unknown>, base: ReadonlyArray<PropertyKey>, issues: Issue[] | undefined): Read<number> {
  const details = usage.cacheDetails;
  if (Array.isArray(details)) {
    let hour = 0;
    let readable = true;
    let invalid = false;
    for (let index = 0; index < details.length; index++) {
      const detail = details[index];
      if (!isPlainObject(detail)) {
        readable = false;
        continue;
      }
      const { ttl, inputTokens } = detail;
      if (ttl === undefined || ttl === null) readable = false;
      else if (ttl !== "1h" && ttl !== "5m") {
        if (!issues) return INVALID;
        issues.push({ path: [...base, "usage", "cacheDetails", index, "ttl"], message: `must be "5m" or "1h", got ${describe(ttl)}` });
        invalid = true;
      }
      const count = inputTokens === undefined || inputTokens === null ? null : countOf(inputTokens);
      if (count === null) readable = false;
      else if (count === undefined) {
        if (!issues) return INVALID;
        tokenCount(inputTokens, false, [...base, "usage", "cacheDetails", index, "inputTokens"], issues);
        invalid = true;
      } else if (ttl === "1h") hour += count;
    }
    if (invalid) return INVALID;
    return readable ? hour : null;
  }
  const creation = usage.cache_creation;
  if (!isPlainObject(creation)) return null;
  const value = creation.ephemeral_1h_input_tokens;
  if (value === undefined || value === null) return null;
  const count = countOf(value);
  if (count !== undefined) return count;
  if (issues) tokenCount(value, false, [...base, "usage", "cache_creation", "ephemeral_1h_input_tokens"], issues);
  return INVALID;
}

/** A count as `tokenCount` accepts it (a non-negative integer up to the maximum, or one written in digits); undefined otherwise. */
function countOf(value: unknown): number | undefined {
  const count = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  return Number.isInteger(count) && count >= 0 && count <= MAX_TOKENS_PER_CLASS ? count : undefined;
}

function failure(value: unknown, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): InvocationParseResult {
  const first = issues[0];
  const field = first && first.path.length > 0 ? first.path.map(String).join(".") : "record";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  const message = first?.message ?? "is not a valid invocation log record";
  return {
    ok: false,
    field,
    reason: `${field}: ${message}${more}`,
    partial: readPartial(value),
  };
}

function readPartial(value: unknown): Extract<InvocationParseResult, { ok: false }>["partial"] {
  const partial: Extract<InvocationParseResult, { ok: false }>["partial"] = {};
  if (typeof value !== "object" || value === null) return partial;
  const record = value as Record<string, unknown>;
  const pick = (key: string): string | undefined => {
    const field = record[key];
    return typeof field === "string" && field.length <= 2048 ? field : undefined;
  };
  const requestId = pick("requestId");
  if (requestId !== undefined) partial.requestId = requestId;
  const modelId = pick("modelId");
  if (modelId !== undefined) partial.modelId = modelId;
  const operation = pick("operation");
  if (operation !== undefined) partial.operation = operation;
  const region = pick("region");
  if (region !== undefined) partial.region = region;
  const timestamp = pick("timestamp");
  if (timestamp !== undefined) partial.timestamp = timestamp;
  return partial;
}
