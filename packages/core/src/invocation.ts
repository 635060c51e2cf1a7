/**
 * The Bedrock model invocation log record (`schemaType: "ModelInvocationLog"`), validated.
 *
 * Lenient on fields bedrock-spend does not use (bodies, unknown keys, key order), strict on the
 * ones it does: a record whose token counts, ids, timestamp or metadata are wrong is `invalid`
 * with a reason that names the field, never silently repaired into a cost.
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
    issues.push({ path, message: `must be a non-negative integer, got ${JSON.stringify(value)?.slice(0, 40) ?? String(value)}` });
    return 0;
  }
  if (!Number.isInteger(count) || count < 0) {
    issues.push({ path, message: `must be a non-negative integer, got ${JSON.stringify(value)}` });
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
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
      issues.push({ path, message: `key ${JSON.stringify(key.slice(0, 60))} must be 1-${MAX_METADATA_LENGTH} characters of [a-zA-Z0-9 :_@$#=/+,-.]` });
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
      issues.push({ path: [...path, key], message: `has characters outside [a-zA-Z0-9 :_@$#=/+,-.]: ${JSON.stringify(entry.slice(0, 60))}` });
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
  if (input) {
    log.inputTokens = tokenCount(input.inputTokenCount, false, ["input", "inputTokenCount"], issues);
    log.cacheReadTokens = tokenCount(input.cacheReadInputTokenCount, false, ["input", "cacheReadInputTokenCount"], issues);
    log.cacheWriteTokens = tokenCount(input.cacheWriteInputTokenCount, false, ["input", "cacheWriteInputTokenCount"], issues);
  }
  const output = optionalObject(record.output, ["output"], issues);
  if (output) log.outputTokens = tokenCount(output.outputTokenCount, false, ["output", "outputTokenCount"], issues);
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
 */
export function parseInvocationLog(value: unknown): InvocationParseResult {
  // Every record goes through here: the common, valid shape is checked first, with no issue list.
  // The fast path accepts only what validation accepts and builds the same result; anything it is
  // unsure of (a problem to report, counts as strings, metadata as a JSON string) is validated in full.
  const fast = parseValidFast(value);
  if (fast !== undefined) return { ok: true, log: fast };
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
  return {
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
  };
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
