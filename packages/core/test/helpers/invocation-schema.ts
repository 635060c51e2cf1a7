/**
 * The zod schema `parseInvocationLog` validated records with until the Lambdas dropped zod (see
 * packages/core/src/invocation.ts), kept verbatim as the reference the hand-written validation
 * must match problem for problem. Test-only.
 */
import { z } from "zod";
import { MAX_TOKENS_PER_CLASS, parseIsoTimestamp } from "../../src/invocation";
import { MAX_METADATA_ENTRIES, MAX_METADATA_LENGTH, metadataKeyProblem, metadataValueProblem } from "../../src/request-metadata";

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
          message: `must be a non-negative integer, got ${describe(value)}`,
        });
        return 0;
      }
      if (!Number.isInteger(count) || count < 0) {
        context.addIssue({
          code: "custom",
          message: `must be a non-negative integer, got ${count}`,
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
  // Quoted only when one short word: anything longer may be what a caller typed.
  if (typeof value === "string") return /^[A-Za-z0-9_.:-]{0,24}$/.test(value) ? JSON.stringify(value) : `a string of ${value.length} characters`;
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
          message: `a key (${key.length} characters) is not 1-${MAX_METADATA_LENGTH} characters of [a-zA-Z0-9 :_@$#=/+,-.]`,
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
          message: `has characters outside [a-zA-Z0-9 :_@$#=/+,-.], the first at position ${problem.reason === "disallowed-character" ? problem.index : 0}`,
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
