/**
 * Turns segments into decoded items by looking at their content: a bare invocation log record,
 * a CloudWatch Logs subscription payload, `filter-log-events` / `get-log-events` output, a
 * Lambda `awslogs` event, a Kinesis event, base64 (of gzip) of any of these, or a text line.
 */
import { decodeCanonicalBase64, hasOnlyBase64Characters } from "../base64";
import { CONTROL_MESSAGE_PREFIX, isSubscriptionPayload, readSubscriptionPayload } from "../subscription";
import { jsonErrorPosition } from "../text";
import { clipUtf8 } from "./clip";
import { type InflationBudget, type InflationLimits, inflateWithin, inflationBudget } from "./inflate";
import type { DecodedItem, RawClipping, SourceRef } from "./items";
import { DEFAULT_MAX_DEPTH, type Segment, type SegmenterOptions, segmentText } from "./segmenter";

export { type ClippedText, clipUtf8 } from "./clip";
export { DEFAULT_MAX_INFLATED_BYTES, DEFAULT_MAX_TOTAL_INFLATED_BYTES, type InflationBudget, type InflationLimits } from "./inflate";

/** The one plain-text event Bedrock writes when logging is enabled. Not JSON; skipped. */
export const PERMISSIONS_LINE_PREFIX = "Permissions are correctly set for Amazon Bedrock logs";

/**
 * Limits applied while classifying. `maxDepth` and `maxSegmentChars` also bound the JSON found
 * inside payloads and log event messages; the inflation limits bound every gzip payload inflated.
 */
export interface ClassifyOptions extends InflationLimits, Pick<SegmenterOptions, "maxDepth" | "maxSegmentChars"> {
  /** Largest invocation log record accepted, in characters. Default 4 MiB (Bedrock inlines bodies up to 100 KB). */
  maxRecordChars?: number;
  /**
   * Most elements of a log event message that is a JSON array. Default 10,000. Bedrock writes one
   * record per log event; a longer array, or one holding anything but objects, is one `invalid`
   * item for the whole message rather than one per element (one dead-letter message, not 100,000).
   */
  maxMessageArrayElements?: number;
  /**
   * Most `invalid` items one input yields (a Kinesis or Firehose record, one top-level JSON value
   * of a file). Default 100. Past it, the rest are one item that counts them and keeps their raw
   * text, one per line: an envelope holding 100,000 non-records costs one dead-letter message.
   */
  maxInvalidItems?: number;
}

const DEFAULT_MAX_RECORD_CHARS = 4 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE_ARRAY_ELEMENTS = 10_000;
const DEFAULT_MAX_INVALID_ITEMS = 100;
/** Envelopes inside base64 inside envelopes: deeper than this is not something AWS produces. */
const MAX_NESTING = 3;
/**
 * How much raw text an invalid item keeps when its input was enormous, in UTF-8 bytes: the
 * quarantine's messages are limited in bytes (SQS: 256 KiB per message by default), and JSON
 * escaping in the message can still grow what is kept.
 */
export const RAW_KEEP_BYTES = 64 * 1024;

interface Context {
  file: string | undefined;
  maxRecordChars: number;
  maxDepth: number;
  maxSegmentChars: number | undefined;
  maxMessageArrayElements: number;
  nesting: number;
  /** Shared by every payload of the input, through every nesting level. */
  budget: InflationBudget;
}

/** Raw text within `RAW_KEEP_BYTES`, with a marker of what was cut when it was clipped. */
function clip(raw: string): { raw: string; rawClipped?: RawClipping } {
  const kept = clipUtf8(raw, RAW_KEEP_BYTES);
  if (!kept.clipped) return { raw };
  return {
    // The marker stays in the text: it is what reaches the quarantine, which keeps only the text.
    raw: `${kept.text}...[clipped: ${kept.originalBytes - kept.bytes} more bytes, ${kept.originalBytes} in all]`,
    rawClipped: { keptBytes: kept.bytes, originalBytes: kept.originalBytes },
  };
}

function invalid(field: string, reason: string, raw: string, source: SourceRef): DecodedItem {
  return { kind: "invalid", field, reason, ...clip(raw), source };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Classifies one segment into items. Never throws. `budget` is the input's allowance of inflated
 * bytes when the segment is part of a larger input; by default the segment has one of its own.
 */
export function classifySegment(
  segment: Segment,
  file: string | undefined,
  options: ClassifyOptions = {},
  budget: InflationBudget = inflationBudget(options),
): DecodedItem[] {
  const { context, source } = startOf(segment, file, options, budget);
  const out: DecodedItem[] = [];
  switch (segment.kind) {
    case "error":
      out.push(invalid(segment.field, segment.reason, segment.text, source));
      break;
    case "json":
      classifyJsonText(segment.text, source, context, out);
      break;
    case "text":
      classifyTextLine(segment.text, source, context, out);
      break;
  }
  return collapseInvalidItems(out, options);
}

/**
 * Classifies a `json` segment that the caller has already parsed (`value` is `JSON.parse(segment.text)`),
 * sparing a second parse. The same items as `classifySegment` gives for it. Never throws.
 */
export function classifyParsedSegment(
  segment: Extract<Segment, { kind: "json" }>,
  value: unknown,
  file: string | undefined,
  options: ClassifyOptions = {},
  budget: InflationBudget = inflationBudget(options),
): DecodedItem[] {
  const { context, source } = startOf(segment, file, options, budget);
  const out: DecodedItem[] = [];
  classifyValue(value, segment.text, source, context, out);
  return collapseInvalidItems(out, options);
}

/**
 * The items of one input with at most `maxInvalidItems` invalid ones: the invalid items past the
 * limit are replaced, where the first of them stood, by one that counts them, names their fields
 * and keeps their raw text one per line (clipped as any raw is). Records and skipped items stay.
 */
export function collapseInvalidItems(items: DecodedItem[], options: Pick<ClassifyOptions, "maxInvalidItems"> = {}): DecodedItem[] {
  const limit = Math.max(1, Math.floor(options.maxInvalidItems ?? DEFAULT_MAX_INVALID_ITEMS));
  let invalidCount = 0;
  for (const item of items) if (item.kind === "invalid") invalidCount++;
  if (invalidCount <= limit) return items;
  const kept: DecodedItem[] = [];
  const collapsed: Extract<DecodedItem, { kind: "invalid" }>[] = [];
  let seen = 0;
  let at = -1;
  for (const item of items) {
    if (item.kind === "invalid" && ++seen >= limit) {
      if (at < 0) at = kept.length;
      collapsed.push(item);
    } else {
      kept.push(item);
    }
  }
  const first = collapsed[0] as Extract<DecodedItem, { kind: "invalid" }>;
  const fields = [...new Set(collapsed.map((item) => item.field))];
  const named = fields.length <= 5 ? fields.join(", ") : `${fields.slice(0, 5).join(", ")} and ${fields.length - 5} more`;
  const reason =
    `${collapsed.length} invalid items of one input kept as one (fields ${named}; the first: ${first.reason}): ` +
    `more than the ${limit} allowed per input (maxInvalidItems); their raw texts follow one per line`;
  kept.splice(at, 0, invalid(fields.length === 1 ? first.field : "input", reason, collapsed.map((item) => item.raw).join("\n"), first.source));
  return kept;
}

/** The context and the location of a segment's top level. */
function startOf(segment: Segment, file: string | undefined, options: ClassifyOptions, budget: InflationBudget): { context: Context; source: SourceRef } {
  const source: SourceRef = { line: segment.line };
  if (file !== undefined) source.file = file;
  const context: Context = {
    file,
    maxRecordChars: options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxSegmentChars: options.maxSegmentChars,
    maxMessageArrayElements: options.maxMessageArrayElements ?? DEFAULT_MAX_MESSAGE_ARRAY_ELEMENTS,
    nesting: 0,
    budget,
  };
  return { context, source };
}

function classifyJsonText(text: string, source: SourceRef, context: Context, out: DecodedItem[]): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    out.push(invalid("json", notValidJson(error), text, source));
    return;
  }
  classifyValue(value, text, source, context, out);
}

/** Why a text is not JSON, by position: V8's message quotes the text around the error, which may be a prompt. */
function notValidJson(error: unknown): string {
  const position = jsonErrorPosition(error);
  return position === undefined ? "not valid JSON" : `not valid JSON at position ${position}`;
}

function classifyTextLine(line: string, source: SourceRef, context: Context, out: DecodedItem[]): void {
  const text = line.trim();
  if (text.length === 0) return;
  if (text.startsWith(PERMISSIONS_LINE_PREFIX)) {
    out.push({ kind: "skipped", skip: "permissions-line", raw: text, source });
    return;
  }
  if (text.startsWith(CONTROL_MESSAGE_PREFIX)) {
    out.push({ kind: "skipped", skip: "control-message", raw: text, source });
    return;
  }
  const first = text.charCodeAt(0);
  // Scalars (`null`, `42`, `"x"`, `true`) arrive as text lines; JSON.parse judges them.
  if (first === 0x22 || first === 0x2d || (first >= 0x30 && first <= 0x39) || text === "null" || text === "true" || text === "false") {
    classifyJsonText(text, source, context, out);
    return;
  }
  if (text.length >= 8 && hasOnlyBase64Characters(text)) {
    const bytes = decodeCanonicalBase64(text);
    if (!bytes) {
      out.push(invalid("base64", `line looks like base64 but is malformed (length ${text.length}, misplaced padding or not a multiple of 4)`, text, source));
      return;
    }
    classifyBytes(bytes, text, source, context, out, "base64");
    return;
  }
  if (looksLikeBrokenBase64(text)) {
    out.push(invalid("base64", `line looks like base64 but has characters outside the base64 alphabet`, text, source));
    return;
  }
  out.push(invalid("json", `line of ${text.length} characters is not JSON, base64 or a known log message`, text, source));
}

/** Starts with a long run of base64 alphabet: a damaged Kinesis payload rather than a log line. */
function looksLikeBrokenBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]{32}/.test(text);
}

/**
 * Classifies decoded bytes: gzip (by magic number) is inflated first, then the text is segmented
 * and classified again, one nesting level deeper.
 */
function classifyBytes(bytes: Uint8Array, raw: string, source: SourceRef, context: Context, out: DecodedItem[], layer: "base64" | "awslogs" | "kinesis"): void {
  if (context.nesting >= MAX_NESTING) {
    out.push(invalid(layer, `encoded payloads nested more than ${MAX_NESTING} levels deep`, raw, source));
    return;
  }
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const inflation = inflateWithin(bytes, context.budget, `${layer} data`);
    if (!inflation.ok) {
      out.push(invalid("gzip", inflation.limit ? inflation.reason : `${layer} data is gzip but does not inflate: ${inflation.message}`, raw, source));
      return;
    }
    text = inflation.bytes.toString("utf8");
  } else {
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    const first = text.trimStart().charCodeAt(0);
    if (first !== 0x7b && first !== 0x5b) {
      out.push(invalid("base64", `${layer} data decodes to neither gzip nor JSON`, raw, source));
      return;
    }
  }
  const inner: Context = { ...context, nesting: context.nesting + 1 };
  for (const segment of segmentText(text, { maxDepth: context.maxDepth, maxSegmentChars: context.maxSegmentChars })) {
    // Inner segments keep the outer location: that is what the user can find in the file.
    switch (segment.kind) {
      case "error":
        out.push(invalid(segment.field, `inside ${layer} data: ${segment.reason}`, segment.text, source));
        break;
      case "json":
        classifyJsonText(segment.text, source, inner, out);
        break;
      case "text":
        classifyTextLine(segment.text, source, inner, out);
        break;
    }
  }
}

function classifyValue(value: unknown, raw: string, source: SourceRef, context: Context, out: DecodedItem[]): void {
  if (Array.isArray(value)) {
    value.forEach((element, index) => {
      classifyValue(element, JSON.stringify(element) ?? String(element), { ...source, index }, context, out);
    });
    return;
  }
  if (!isObject(value)) {
    out.push(invalid("record", `expected a JSON object, got ${describe(value)}`, raw, source));
    return;
  }
  if (isSubscriptionPayload(value)) {
    classifySubscriptionPayload(value, raw, source, context, out);
    return;
  }
  if (Array.isArray(value.events) && !("requestId" in value)) {
    classifyLogEvents(value.events, "events", source, context, out);
    return;
  }
  if (isObject(value.awslogs) && typeof value.awslogs.data === "string") {
    classifyBase64Field(value.awslogs.data, raw, source, context, out, "awslogs");
    return;
  }
  if (Array.isArray(value.Records) && value.Records.some((record) => isObject(record) && isObject(record.kinesis))) {
    value.Records.forEach((record, index) => {
      const data = isObject(record) && isObject(record.kinesis) ? record.kinesis.data : undefined;
      if (typeof data !== "string") {
        out.push(invalid("Records", `Records[${index}].kinesis.data is missing or not a string`, raw, { ...source, index }));
        return;
      }
      classifyBase64Field(data, data, { ...source, index }, context, out, "kinesis");
    });
    return;
  }
  if (raw.length > context.maxRecordChars) {
    out.push(invalid("record", `record is ${raw.length} characters long, over the ${context.maxRecordChars} limit`, raw, source));
    return;
  }
  out.push({ kind: "record", value, raw, source });
}

function classifyBase64Field(data: string, raw: string, source: SourceRef, context: Context, out: DecodedItem[], layer: "awslogs" | "kinesis"): void {
  const text = data.trim();
  const bytes = text.length > 0 ? decodeCanonicalBase64(text) : undefined;
  if (!bytes) {
    out.push(invalid("base64", `${layer} data is not valid base64`, raw, source));
    return;
  }
  classifyBytes(bytes, raw, source, context, out, layer);
}

function classifySubscriptionPayload(payload: Record<string, unknown>, raw: string, source: SourceRef, context: Context, out: DecodedItem[]): void {
  const reading = readSubscriptionPayload(payload);
  if (reading.kind === "control") out.push({ kind: "skipped", skip: "control-message", raw: clip(raw).raw, source });
  else if (reading.kind === "invalid") out.push(invalid(reading.field, reading.reason, raw, source));
  else classifyLogEvents(reading.logEvents, "logEvents", source, context, out);
}

function classifyLogEvents(events: unknown[], field: "logEvents" | "events", source: SourceRef, context: Context, out: DecodedItem[]): void {
  events.forEach((event, index) => {
    if (!isObject(event)) {
      out.push(invalid(field, `${field}[${index}] is ${describe(event)}, expected a log event object`, JSON.stringify(event) ?? "", { ...source, index }));
      return;
    }
    const id = event.id ?? event.eventId;
    // Object.assign, not an object spread with added keys: on Node 20 that spread took over a
    // microsecond per log event (measured), as long as the rest of the event's classification.
    const eventSource: SourceRef = Object.assign({}, source);
    eventSource.index = index;
    if (typeof id === "string") eventSource.eventId = id;
    const message = event.message;
    if (typeof message !== "string") {
      out.push(invalid(`${field}[${index}].message`, `log event message is ${describe(message)}, expected a string`, JSON.stringify(event), eventSource));
      return;
    }
    const before = out.length;
    const text = message.trim();
    try {
      if (text.startsWith("{") || text.startsWith("[")) {
        classifyMessageJson(text, field, index, eventSource, context, out);
      } else {
        classifyTextLine(text, eventSource, context, out);
      }
    } catch (error) {
      // The checks above keep recursion and allocation bounded; should one still give way, the event is one invalid item, not a failed batch.
      out.length = before;
      out.push(invalid(`${field}[${index}].message`, `log event message could not be decoded (${(error as Error).name})`, message, eventSource));
    }
    if (out.length === before) {
      out.push(invalid(`${field}[${index}].message`, "log event message is empty", message, eventSource));
    }
    const timestamp = event.timestamp;
    if (typeof timestamp === "number") {
      for (let i = before; i < out.length; i++) {
        const item = out[i];
        if (item?.kind === "record") item.eventTimestamp = timestamp;
      }
    }
  });
}

/**
 * Whether the JSON text `text` opens containers more than `maxDepth` levels deep, counting outside
 * strings as the segmenter does. Only texts with more than `maxDepth` brackets in all are scanned
 * (counted natively, no per-character loop): a real record has a few dozen.
 */
function textNestsDeeperThan(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return false;
  let brackets = 0;
  for (let at = text.indexOf("{"); at >= 0 && brackets <= maxDepth; at = text.indexOf("{", at + 1)) brackets++;
  for (let at = text.indexOf("["); at >= 0 && brackets <= maxDepth; at = text.indexOf("[", at + 1)) brackets++;
  if (brackets <= maxDepth) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      let quote = i;
      for (;;) {
        quote = text.indexOf('"', quote + 1);
        if (quote < 0) return false;
        let backslashes = 0;
        for (let j = quote - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = quote;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** The field of a log event's message, built when an item needs it only: messages are the hot path. */
function messageField(events: string, index: number): string {
  return `${events}[${index}].message`;
}

/**
 * A log event message that looks like JSON. Top-level input reaches here through the segmenter,
 * which bounds depth and splits arrays; a message does not, so its depth is checked before
 * JSON.parse, and an array message is one item unless it is a short array of objects.
 */
function classifyMessageJson(text: string, events: string, index: number, source: SourceRef, context: Context, out: DecodedItem[]): void {
  if (textNestsDeeperThan(text, context.maxDepth)) {
    out.push(
      invalid(messageField(events, index), `log event message nests JSON more than ${context.maxDepth} levels deep, the limit (maxDepth)`, text, source),
    );
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    out.push(invalid("json", notValidJson(error), text, source));
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > context.maxMessageArrayElements) {
      out.push(
        invalid(
          messageField(events, index),
          `log event message is a JSON array of ${value.length} elements, more than the ${context.maxMessageArrayElements} allowed (maxMessageArrayElements)`,
          text,
          source,
        ),
      );
      return;
    }
    const other = value.findIndex((element) => !isObject(element));
    if (other >= 0) {
      out.push(
        invalid(
          messageField(events, index),
          `log event message is a JSON array whose element ${other} is ${describe(value[other])}, expected log records (objects)`,
          text,
          source,
        ),
      );
      return;
    }
  }
  classifyValue(value, text, source, context, out);
}
