/**
 * The Bedrock model invocation log record (`schemaType: "ModelInvocationLog"`), validated.
 *
 * Lenient on fields bedrock-spend does not use (bodies, unknown keys, key order), strict on the
 * ones it does: a record whose token counts, ids, timestamp or metadata are wrong is `invalid`
 * with a reason that names the field, never silently repaired into a cost.
 */
import { z } from "zod";
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

function tokenCount(required: boolean) {
  return z
    .unknown()
    .optional()
    .transform((value, context): number => {
      if (value === undefined) {
        if (required) context.addIssue({ code: "custom", message: "is missing" });
        return 0;
      }
      let count: number;
      if (typeof value === "number") {
        count = value;
      } else if (typeof value === "string" && /^\d+$/.test(value.trim())) {
        // Some pipelines (the AWS sample's Glue DDL among them) carry counts as strings.
        count = Number(value.trim());
      } else {
        context.addIssue({
          code: "custom",
          message: `must be a non-negative integer, got ${JSON.stringify(value)?.slice(0, 40) ?? String(value)}`,
        });
        return 0;
      }
      if (!Number.isInteger(count) || count < 0) {
        context.addIssue({
          code: "custom",
          message: `must be a non-negative integer, got ${JSON.stringify(value)}`,
        });
        return 0;
      }
      if (count > MAX_TOKENS_PER_CLASS) {
        context.addIssue({
          code: "custom",
          message: `is ${JSON.stringify(value)}, more than the ${MAX_TOKENS_PER_CLASS} plausible for one invocation`,
        });
        return 0;
      }
      return count;
    });
}

function boundedString(max: number, pattern?: RegExp, patternMessage?: string) {
  let schema = z
    .string({
      error: (issue) => (issue.input === undefined ? "is missing" : `must be a string, got ${describe(issue.input)}`),
    })
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` });
  if (pattern)
    schema = schema.regex(pattern, {
      error: patternMessage ?? "has a bad format",
    });
  return schema;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

// Control characters never appear in Bedrock's ids; refusing them keeps logs and keys printable.
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;

const metadataSchema = z
  .unknown()
  .optional()
  .transform((value, context): Record<string, string> => {
    if (value === undefined || value === null) return {};
    let map = value;
    if (typeof map === "string") {
      // InvokeModel passes metadata as a JSON string header; accept it if a pipeline kept it so.
      try {
        map = JSON.parse(map);
      } catch {
        context.addIssue({
          code: "custom",
          message: "is a string that is not a JSON object",
        });
        return {};
      }
    }
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      context.addIssue({
        code: "custom",
        message: `must be an object of string values, got ${describe(map)}`,
      });
      return {};
    }
    const entries = Object.entries(map);
    if (entries.length > MAX_METADATA_ENTRIES) {
      context.addIssue({
        code: "custom",
        message: `has ${entries.length} entries, more than the ${MAX_METADATA_ENTRIES} Bedrock allows`,
      });
      return {};
    }
    const result: Record<string, string> = {};
    for (const [key, entry] of entries) {
      if (metadataKeyProblem(key)) {
        context.addIssue({
          code: "custom",
          message: `key ${JSON.stringify(key.slice(0, 60))} must be 1-${MAX_METADATA_LENGTH} characters of [a-zA-Z0-9 :_@$#=/+,-.]`,
        });
        continue;
      }
      if (typeof entry !== "string") {
        context.addIssue({
          code: "custom",
          path: [key],
          message: `must be a string, got ${describe(entry)}`,
        });
        continue;
      }
      const problem = metadataValueProblem(entry);
      if (problem?.reason === "too-long") {
        context.addIssue({
          code: "custom",
          path: [key],
          message: `is ${entry.length} characters long, more than the ${MAX_METADATA_LENGTH} Bedrock allows`,
        });
        continue;
      }
      if (problem) {
        context.addIssue({
          code: "custom",
          path: [key],
          message: `has characters outside [a-zA-Z0-9 :_@$#=/+,-.]: ${JSON.stringify(entry.slice(0, 60))}`,
        });
        continue;
      }
      // defineProperty, not assignment: a key named "__proto__" (allowed by Bedrock) must be kept.
      Object.defineProperty(result, key, { value: entry, enumerable: true, writable: true, configurable: true });
    }
    return result;
  });

const optionalString = (max: number, pattern?: RegExp, message?: string) => boundedString(max, pattern, message).optional();

/** zod schema of the fields bedrock-spend reads from an invocation log record. */
export const InvocationLogSchema = z.object({
  schemaType: z
    .literal("ModelInvocationLog", {
      error: (issue) => `must be "ModelInvocationLog", got ${describe(issue.input)}`,
    })
    .optional(),
  requestId: boundedString(256, NO_CONTROL_CHARS, "must not contain control characters"),
  timestamp: z
    .string({
      error: (issue) => (issue.input === undefined ? "is missing" : `must be an ISO 8601 string, got ${describe(issue.input)}`),
    })
    .refine((text) => parseIsoTimestamp(text) !== undefined, {
      error: (issue) => `is not a valid ISO 8601 timestamp with a zone: ${describe(issue.input)}`,
    }),
  modelId: boundedString(2048, NO_CONTROL_CHARS, "must not contain control characters"),
  operation: optionalString(64, /^[A-Za-z]+$/, "must be an API operation name"),
  accountId: optionalString(12, /^\d{12}$/, "must be a 12-digit AWS account id"),
  region: optionalString(32, /^[a-z0-9-]+$/, "must be an AWS Region name"),
  inferenceRegion: optionalString(32, /^[a-z0-9-]+$/, "must be an AWS Region name"),
  errorCode: optionalString(256),
  identity: z
    .looseObject(
      {
        arn: optionalString(2048, NO_CONTROL_CHARS, "must not contain control characters"),
      },
      { error: (issue) => `must be an object, got ${describe(issue.input)}` },
    )
    .optional(),
  requestMetadata: metadataSchema,
  input: z
    .looseObject(
      {
        inputTokenCount: tokenCount(false),
        cacheReadInputTokenCount: tokenCount(false),
        cacheWriteInputTokenCount: tokenCount(false),
      },
      { error: (issue) => `must be an object, got ${describe(issue.input)}` },
    )
    .optional(),
  output: z.object({ outputTokenCount: tokenCount(false) }, { error: (issue) => `must be an object, got ${describe(issue.input)}` }).optional(),
});

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
  // Every record goes through here: the common, valid shape is checked by hand first. The fast
  // path accepts only what the schema accepts and builds the same result; anything it is unsure
  // of (a problem to report, counts as strings, metadata as a JSON string) takes the schema path.
  const fast = parseValidFast(value);
  if (fast !== undefined) return { ok: true, log: fast };
  const parsed = InvocationLogSchema.safeParse(value);
  if (!parsed.success) return failure(value, parsed.error.issues);
  const record = parsed.data;
  const rawInput = (value as { input?: { inputTokenCount?: unknown } }).input;
  if (record.errorCode === undefined && rawInput?.inputTokenCount === undefined) {
    return failure(value, [
      {
        path: ["input", "inputTokenCount"],
        message: "is missing (required unless the record has an errorCode)",
      },
    ]);
  }
  return {
    ok: true,
    log: {
      requestId: record.requestId,
      timestamp: parseIsoTimestamp(record.timestamp) as number,
      modelId: record.modelId,
      operation: record.operation ?? null,
      accountId: record.accountId ?? null,
      region: record.region ?? null,
      inferenceRegion: record.inferenceRegion ?? null,
      errorCode: record.errorCode ?? null,
      principalArn: record.identity?.arn ?? null,
      metadata: record.requestMetadata,
      inputTokens: record.input?.inputTokenCount ?? 0,
      outputTokens: record.output?.outputTokenCount ?? 0,
      cacheReadTokens: record.input?.cacheReadInputTokenCount ?? 0,
      cacheWriteTokens: record.input?.cacheWriteInputTokenCount ?? 0,
    },
  };
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
 * The result of `InvocationLogSchema` plus the inputTokenCount rule for a record that passes
 * them, checked by hand; undefined when the record may not pass (the schema then decides, and
 * words the problem). Keep in step with the schema: a test compares both on generated records.
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
