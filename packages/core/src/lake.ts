/**
 * The lake path: usage records as the JSON documents Firehose converts to Parquet, and the
 * Firehose data-transformation contract around them (one answer per input record, in order,
 * `Ok` / `Dropped` / `ProcessingFailed`, partition keys, a response under Lambda's 6 MB).
 *
 * Documents carry the data columns of `USAGE_COLUMNS` only. The partition columns (year, month,
 * day) travel in `metadata.partitionKeys` and become S3 path components
 * (`year=!{partitionKeyFromLambda:year}/...`): Glue and Hive refuse a table whose partition
 * column is also a data column, so the Glue schema Firehose converts with has no such column,
 * and Firehose drops JSON keys that are not in that schema. Writing them would only spend the
 * response budget. The values are derivable from `event_time` in any case.
 *
 * Pure: no I/O, no AWS SDK. The same `Pricer` as the aggregate path prices every row, so the lake
 * and the aggregates never disagree on a cost.
 */

import { decodeBytes } from "./decode/decode";
import type { DecodedItem } from "./decode/items";
import { BedrockSpendError } from "./errors";
import type { Pricer } from "./pricer";
import { dataColumns, partitionColumns, type UsageColumn, type UsageRecord } from "./usage";

/** Lambda's cap on a synchronous invocation's response (and request): 6 MiB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/** Default response budget of the transform: the Lambda cap less a 256 KiB margin. */
export const DEFAULT_MAX_RESPONSE_BYTES = LAMBDA_RESPONSE_LIMIT_BYTES - 256 * 1024;

/** OpenX JSON SerDe timestamp format `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'` (up to 9 fractional digits). */
const OPENX_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** A JSON number literal that fits decimal(38,12): up to 26 integer and 12 fractional digits. */
const DECIMAL_38_12 = /^(0|[1-9]\d{0,25})(\.\d{1,12})?$/;
/** A character outside the base64 alphabet (padding included). */
const NOT_BASE64_ALPHABET = /[^A-Za-z0-9+/]/;
const NOT_BASE64_CHAR = /[^A-Za-z0-9+/=]/;
const PADDING = 0x3d;

/**
 * Canonical base64, as Firehose sends it: groups of four alphabet characters, the last group
 * possibly `xx==` or `xxx=` (the language of `^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`).
 * `Buffer.from(x, "base64")` would skip bad characters silently.
 */
export function isCanonicalBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  const bad = NOT_BASE64_ALPHABET.exec(text);
  if (bad === null) return true;
  // Only padding may follow the alphabet, in the last one or two positions.
  const at = bad.index;
  if (at === length - 1) return text.charCodeAt(at) === PADDING;
  return at === length - 2 && text.charCodeAt(at) === PADDING && text.charCodeAt(at + 1) === PADDING;
}

/**
 * The bytes of `text` when it is canonical base64 (`isCanonicalBase64`), else undefined, without
 * scanning the text in JavaScript or with a regular expression (on a 40 KB record either took ten
 * times as long as the decoding). Node's decoder skips any character outside the alphabet and
 * stops at padding, so each such character, or padding out of place, makes the output shorter
 * than the length canonical text of this length and padding decodes to. The one thing the decoder
 * accepts beyond the alphabet is base64url's `-` and `_`, ruled out by a native search.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  const length = text.length;
  if (length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, "base64");
  const padding = length > 0 && text.charCodeAt(length - 1) === PADDING ? (text.charCodeAt(length - 2) === PADDING ? 2 : 1) : 0;
  if (bytes.length !== (length / 4) * 3 - padding || text.includes("-") || text.includes("_")) return undefined;
  return bytes;
}

/** A usage record that cannot be written as a lake document (a value outside its column's format). */
export class LakeEncodingError extends BedrockSpendError {
  readonly column: string;
  readonly requestId: string;

  constructor(requestId: string, column: string, message: string, options?: ErrorOptions) {
    super(`usage record ${requestId}: column ${column} ${message}`, options);
    this.name = "LakeEncodingError";
    this.column = column;
    this.requestId = requestId;
  }
}

/**
 * `JSON.stringify(text)`, skipping the call for the usual text with nothing to escape (no quote,
 * backslash, control character or surrogate): ids, names and Regions, two dozen per lake row.
 */
function jsonString(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * Checks one value against its column: false for a null (nullable) value, true for a value the
 * column holds. @throws LakeEncodingError naming the column when it does not fit.
 */
function checkValue(column: UsageColumn, value: unknown, requestId: string): boolean {
  if (value === null || value === undefined) {
    if (!column.nullable) throw new LakeEncodingError(requestId, column.name, "is not nullable but has no value");
    return false;
  }
  switch (column.type) {
    case "string":
      if (typeof value !== "string") throw new LakeEncodingError(requestId, column.name, `must be a string, got ${typeof value}`);
      return true;
    case "timestamp":
      if (typeof value !== "string" || !OPENX_TIMESTAMP.test(value)) {
        throw new LakeEncodingError(requestId, column.name, `must be an OpenX timestamp yyyy-MM-dd'T'HH:mm:ss[.S]'Z', got ${JSON.stringify(value)}`);
      }
      return true;
    case "bigint":
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw new LakeEncodingError(requestId, column.name, `must be a non-negative safe integer, got ${String(value)}`);
      }
      return true;
    case "decimal":
      // Copied as text, never through a JS number: the SerDe reads the literal into decimal(38,12) exactly.
      if (typeof value !== "string" || !DECIMAL_38_12.test(value)) {
        throw new LakeEncodingError(requestId, column.name, `must be a decimal string that fits decimal(38,12), got ${JSON.stringify(value)}`);
      }
      return true;
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) throw new LakeEncodingError(requestId, column.name, "must be an object of strings");
      for (const key of Object.keys(value)) {
        if (typeof (value as Record<string, unknown>)[key] !== "string") {
          throw new LakeEncodingError(requestId, column.name, `value of key ${JSON.stringify(key)} must be a string`);
        }
      }
      return true;
  }
}

function encodeValue(column: UsageColumn, value: unknown, requestId: string): string {
  if (!checkValue(column, value, requestId)) return "null";
  switch (column.type) {
    case "string":
      return jsonString(value as string);
    case "timestamp":
      return `"${value as string}"`;
    case "bigint":
      return String(value);
    case "decimal":
      return value as string;
    case "map": {
      const map = value as Record<string, string>;
      let text = "";
      for (const key of Object.keys(map)) text += `${text.length === 0 ? "" : ","}${jsonString(key)}:${jsonString(map[key] as string)}`;
      return `{${text}}`;
    }
  }
}

/**
 * The bytes of an output record's lake documents, written in place: the same bytes as the UTF-8
 * of the `toLakeLine` strings joined (a test holds them equal), without building a string per
 * value and line, flattening them and encoding the result, which cost the transform as much as
 * building the documents themselves. One buffer, reused from record to record (the transform is
 * synchronous). Text is copied byte by byte while it is ASCII with nothing to escape; anything
 * else goes through `JSON.stringify` and Node's UTF-8 encoder, exactly as `toLakeLine` does.
 */
class DocumentBuffer {
  private static readonly INITIAL_BYTES = 256 * 1024;
  private bytes = new Uint8Array(DocumentBuffer.INITIAL_BYTES);
  /** `bytes` as a Buffer, for Node's native string copy. */
  private view = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  length = 0;

  /** Starts an output record (and gives back memory a huge one took). */
  reset(): void {
    this.length = 0;
    if (this.bytes.length > 16 * DocumentBuffer.INITIAL_BYTES) {
      this.bytes = new Uint8Array(DocumentBuffer.INITIAL_BYTES);
      this.view = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    }
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = Buffer.from(grown.buffer, grown.byteOffset, grown.length);
  }

  /** Bytes known in advance (the prefixes of the columns). */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Text made only of ASCII characters that need no escaping (digits, a checked timestamp or decimal). */
  ascii(text: string, quoted: boolean): void {
    this.reserve(text.length + 2);
    const bytes = this.bytes;
    let at = this.length;
    if (quoted) bytes[at++] = 0x22;
    for (let index = 0; index < text.length; index++) bytes[at++] = text.charCodeAt(index);
    if (quoted) bytes[at++] = 0x22;
    this.length = at;
  }

  /** A non-negative safe integer in decimal, the bytes of `String(value)`. */
  digits(value: number): void {
    this.reserve(16);
    const bytes = this.bytes;
    let at = this.length;
    let divisor = 1;
    while (divisor * 10 <= value) divisor *= 10;
    for (; divisor >= 1; divisor /= 10) {
      const digit = Math.floor(value / divisor) % 10;
      bytes[at++] = 0x30 + digit;
    }
    this.length = at;
  }

  /** A JSON string literal of `text`, the bytes of `jsonString(text)` in UTF-8. */
  string(text: string): void {
    this.reserve(text.length + 2);
    if (text.length >= NATIVE_COPY_CHARS && !NEEDS_ESCAPE_OR_UTF8.test(text)) {
      // Long plain text (request ids, ARNs, model ids): a native copy beats the loop below.
      const at = this.length;
      this.bytes[at] = 0x22;
      this.view.write(text, at + 1, text.length, "latin1");
      this.bytes[at + 1 + text.length] = 0x22;
      this.length = at + 2 + text.length;
      return;
    }
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = 0x22;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20 || code === 0x22 || code === 0x5c || code >= 0x80) {
        // Something to escape, or not ASCII: write what JSON.stringify writes, in UTF-8.
        const encoded = Buffer.from(JSON.stringify(text), "utf8");
        this.reserve(encoded.length);
        this.bytes.set(encoded, this.length);
        this.length += encoded.length;
        return;
      }
      bytes[at++] = code;
    }
    bytes[at++] = 0x22;
    this.length = at;
  }

  /** Base64 of the bytes written since `reset`. */
  base64(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length).toString("base64");
  }
}

const NULL_BYTES = Buffer.from("null");
/** A character JSON escapes, or one that is not ASCII (more than one byte in UTF-8). */
const NEEDS_ESCAPE_OR_UTF8 = /["\\\u0000-\u001f\u0080-\uffff]/;
/** Text at least this long is checked by a regular expression and copied natively; shorter text, in a loop. */
const NATIVE_COPY_CHARS = 24;
const COMMA_BYTES = Buffer.from(",");
const COLON_BYTES = Buffer.from(":");
const OPEN_BYTES = Buffer.from("{");
const CLOSE_BYTES = Buffer.from("}");
const LINE_END_BYTES = Buffer.from("}\n");

function writeValue(out: DocumentBuffer, column: UsageColumn, value: unknown, requestId: string): void {
  if (!checkValue(column, value, requestId)) {
    out.raw(NULL_BYTES);
    return;
  }
  switch (column.type) {
    case "string":
      out.string(value as string);
      return;
    case "timestamp":
      out.ascii(value as string, true);
      return;
    case "bigint":
      out.digits(value as number);
      return;
    case "decimal":
      out.ascii(value as string, false);
      return;
    case "map": {
      const map = value as Record<string, string>;
      out.raw(OPEN_BYTES);
      let first = true;
      for (const key of Object.keys(map)) {
        if (!first) out.raw(COMMA_BYTES);
        first = false;
        out.string(key);
        out.raw(COLON_BYTES);
        out.string(map[key] as string);
      }
      out.raw(CLOSE_BYTES);
      return;
    }
  }
}

/** `toLakeLine(record)` written into `out` as UTF-8. @throws LakeEncodingError as `toLakeLine` does. */
function writeLakeLine(out: DocumentBuffer, record: UsageRecord): void {
  const values = record as unknown as Record<string, unknown>;
  const requestId = typeof record.request_id === "string" ? record.request_id : "<no request_id>";
  for (const { column, prefixBytes } of LAKE_FIELDS) {
    out.raw(prefixBytes);
    writeValue(out, column, values[column.name], requestId);
  }
  out.raw(LINE_END_BYTES);
}

/** The transform's document buffer (see `DocumentBuffer`). */
const documents = new DocumentBuffer();

/**
 * One usage record as a newline-terminated JSON document for Firehose's OpenX JSON SerDe: the
 * data columns of `USAGE_COLUMNS` in lake order (partition columns excluded), `cost_usd` as a bare
 * number literal copied from the exact decimal string, `event_time` in the OpenX timestamp format,
 * `metadata` as an object (map<string,string>), nulls as null.
 * @throws LakeEncodingError when a value does not fit its column (never for records the `Pricer` builds).
 */
export function toLakeLine(record: UsageRecord): string {
  const values = record as unknown as Record<string, unknown>;
  const requestId = typeof record.request_id === "string" ? record.request_id : "<no request_id>";
  // Built by concatenation from prefixes computed once: this runs for every row of the lake.
  let line = "";
  for (const { column, prefix } of LAKE_FIELDS) line += prefix + encodeValue(column, values[column.name], requestId);
  return `${line}}\n`;
}

/** The data columns in lake order, each with its `{"name":` or `,"name":` prefix (as text and as UTF-8). */
const LAKE_FIELDS: ReadonlyArray<{ column: UsageColumn; prefix: string; prefixBytes: Uint8Array }> = dataColumns().map((column, index) => {
  const prefix = `${index === 0 ? "{" : ","}${JSON.stringify(column.name)}:`;
  return { column, prefix, prefixBytes: Buffer.from(prefix, "utf8") };
});

/** Names of the partition columns, in path order. */
const PARTITION_NAMES: readonly string[] = partitionColumns().map((column) => column.name);

/** The partition values of a usage record joined by "/", e.g. "2026/11/27" (to compare rows' partitions). */
function partitionPath(record: UsageRecord): string {
  const values = record as unknown as Record<string, unknown>;
  let path = "";
  for (let index = 0; index < PARTITION_NAMES.length; index++) path += `${index === 0 ? "" : "/"}${String(values[PARTITION_NAMES[index] as string])}`;
  return path;
}

/** The partition keys of a usage record: the partition columns of `USAGE_COLUMNS`, by name. */
export function lakePartitionKeys(record: UsageRecord): Record<string, string> {
  const values = record as unknown as Record<string, unknown>;
  const keys: Record<string, string> = {};
  for (const name of PARTITION_NAMES) keys[name] = String(values[name]);
  return keys;
}

/** One record of a Firehose transformation event (only the fields the transform reads). */
export interface FirehoseInputRecord {
  recordId: string;
  /** Base64 of the record's data (for a CloudWatch Logs subscription: gzip of the payload). */
  data: string;
}

/** Result of one record, shaped as Firehose's `FirehoseTransformationResultRecord`. */
export type FirehoseOutputRecord =
  | { recordId: string; result: "Ok"; data: string; metadata: { partitionKeys: Record<string, string> } }
  | { recordId: string; result: "Dropped"; data: string }
  | { recordId: string; result: "ProcessingFailed"; data: string };

/**
 * Why a record came back `ProcessingFailed`:
 * - `base64`: its data is not base64;
 * - `invalid`: it decodes to no usage record but to at least one invalid item (bad gzip, not
 *   JSON, not a subscription payload, or only malformed log events);
 * - `unencodable`: a usage record in it does not fit the lake columns;
 * - `oversize`: not processed, because the response would have exceeded its size budget.
 */
export type TransformFailureReason = "base64" | "invalid" | "unencodable" | "oversize";

/** A record returned as `ProcessingFailed`. `fields` names what was wrong; never raw content. */
export interface TransformFailure {
  recordId: string;
  reason: TransformFailureReason;
  fields: string[];
}

/**
 * Counts of one transformation. `recordsIn = ok + dropped + processingFailed + oversizeFailed`.
 * Item counts (rows, invalid, skipped) cover the records that were processed, not the oversize ones.
 */
export interface TransformStats {
  recordsIn: number;
  ok: number;
  dropped: number;
  /** Failed for their content (reasons `base64`, `invalid`, `unencodable`). */
  processingFailed: number;
  /** Failed unprocessed by the response-size guard (reason `oversize`); a redrive of the error prefix processes them. */
  oversizeFailed: number;
  /** Lake documents written (priced and unpriced). */
  usageRows: number;
  /** Of `usageRows`, those with status `unpriced`. */
  unpricedRows: number;
  /** Invalid items (not rows in the lake; the aggregate path quarantines them in the dead-letter queue). */
  invalidRecords: number;
  /** Control messages and permissions lines, skipped on purpose. */
  skipped: number;
  /** Rows written under another day's partition than their own `event_time` (a payload across midnight UTC). */
  crossPartitionRows: number;
  /** Exact cost of the rows written, pico-dollars. */
  costPico: bigint;
  /** Size of the response as JSON, bytes. */
  responseBytes: number;
  failures: TransformFailure[];
}

/** Options of `transformFirehoseRecords`. */
export interface TransformOptions {
  /** Budget of the whole response as JSON, bytes. Default `DEFAULT_MAX_RESPONSE_BYTES`. */
  maxResponseBytes?: number;
}

/** Result of one record before the size check, with the counts it adds when kept. */
interface Candidate {
  output: FirehoseOutputRecord;
  bytes: number;
  usageRows: number;
  unpricedRows: number;
  invalidRecords: number;
  skipped: number;
  crossPartitionRows: number;
  costPico: bigint;
  failure?: TransformFailure;
}

const RESPONSE_FRAME_BYTES = Buffer.byteLength(JSON.stringify({ records: [] }));

/**
 * Bytes of one output record in the response JSON, without serializing its (large) data twice.
 * `dataIsBase64`: the caller knows the data is base64 (nothing to escape), which spares a scan.
 */
function outputBytes(output: FirehoseOutputRecord, dataIsBase64 = !NOT_BASE64_CHAR.test(output.data)): number {
  const frame = Buffer.byteLength(JSON.stringify({ ...output, data: "" }));
  const data = dataIsBase64 ? output.data.length : Buffer.byteLength(JSON.stringify(output.data)) - 2;
  return frame + data;
}

function failedAsReceived(record: FirehoseInputRecord): FirehoseOutputRecord {
  return { recordId: record.recordId, result: "ProcessingFailed", data: record.data };
}

function emptyCandidate(output: FirehoseOutputRecord): Candidate {
  return { output, bytes: outputBytes(output), usageRows: 0, unpricedRows: 0, invalidRecords: 0, skipped: 0, crossPartitionRows: 0, costPico: 0n };
}

function failedCandidate(record: FirehoseInputRecord, reason: TransformFailureReason, fields: string[]): Candidate {
  const candidate = emptyCandidate(failedAsReceived(record));
  candidate.failure = { recordId: record.recordId, reason, fields };
  return candidate;
}

/** `bytes`: the record's data decoded, undefined when it is not canonical base64 (checked once by the caller). */
function transformOne(record: FirehoseInputRecord, pricer: Pricer, bytes: Buffer | undefined): Candidate {
  if (bytes === undefined) return failedCandidate(record, "base64", ["data"]);
  const items: DecodedItem[] = decodeBytes(bytes);
  documents.reset();
  let rows = 0;
  const invalidFields = new Set<string>();
  let partitionKeys: Record<string, string> | undefined;
  let partitionDay = "";
  let unpricedRows = 0;
  let invalidRecords = 0;
  let skipped = 0;
  let crossPartitionRows = 0;
  let costPico = 0n;
  let unencodable: LakeEncodingError | undefined;
  for (const item of items) {
    const outcome = pricer.priceItem(item);
    switch (outcome.kind) {
      case "skipped":
        skipped++;
        break;
      case "invalid":
        invalidRecords++;
        invalidFields.add(outcome.field);
        break;
      case "usage": {
        const usage = outcome.usage.record;
        const mark = documents.length;
        try {
          writeLakeLine(documents, usage);
        } catch (error) {
          if (!(error instanceof LakeEncodingError)) throw error;
          documents.length = mark;
          unencodable ??= error;
          break;
        }
        rows++;
        const day = partitionPath(usage);
        // One output record has one set of partition keys: the first row's day. A payload spans
        // seconds, so only one that straddles midnight UTC puts rows under the neighbouring day.
        if (partitionKeys === undefined) {
          partitionKeys = lakePartitionKeys(usage);
          partitionDay = day;
        } else if (day !== partitionDay) {
          crossPartitionRows++;
        }
        if (usage.status === "unpriced") unpricedRows++;
        if (outcome.usage.costPico !== null) costPico += outcome.usage.costPico;
        break;
      }
    }
  }
  if (unencodable) {
    const candidate = failedCandidate(record, "unencodable", [unencodable.column]);
    candidate.invalidRecords = invalidRecords;
    candidate.skipped = skipped;
    return candidate;
  }
  if (partitionKeys === undefined) {
    const candidate =
      invalidRecords > 0 ? failedCandidate(record, "invalid", [...invalidFields]) : emptyCandidate({ recordId: record.recordId, result: "Dropped", data: "" });
    candidate.invalidRecords = invalidRecords;
    candidate.skipped = skipped;
    return candidate;
  }
  const output: FirehoseOutputRecord = {
    recordId: record.recordId,
    result: "Ok",
    data: documents.base64(),
    metadata: { partitionKeys },
  };
  return {
    output,
    bytes: outputBytes(output, true),
    usageRows: rows,
    unpricedRows,
    invalidRecords,
    skipped,
    crossPartitionRows,
    costPico,
  };
}

/**
 * Firehose data transformation of CloudWatch Logs subscription records into lake documents.
 *
 * Every input `recordId` comes back exactly once, in input order:
 * - `Ok`: base64 of the newline-terminated lake documents of the payload's usage records (priced
 *   and unpriced), with `metadata.partitionKeys` {year, month, day} of the first usage record.
 *   Invalid items beside them are counted, not written: the aggregate path quarantines them.
 *   Firehose takes one set of partition keys per output record, and one record cannot be split:
 *   a payload spans seconds, so only one that straddles midnight UTC (rare) files its rows of the
 *   other day under the first row's day. They are counted in `crossPartitionRows`; a query exact
 *   at a day boundary filters on `event_time` and reads the neighbouring day's partition too.
 * - `Dropped`: the payload has no usage record and no invalid item (a control message, the
 *   permissions line, an empty payload).
 * - `ProcessingFailed`, data as received: the payload yields no usage record but some invalid
 *   item (bad base64, gzip or JSON, or malformed events only), or a row that does not fit the
 *   lake columns. Firehose writes it under the error prefix with its raw content.
 *
 * The response stays within `maxResponseBytes` as serialized JSON: a record whose `Ok` result
 * would break the budget, and every record after it, comes back `ProcessingFailed` with its
 * original data (reason `oversize`), for a redrive of the error prefix to process. The budget
 * reserves room to return every later record as received, so the guard itself always fits,
 * unless the records as received exceed the budget on their own. That cannot happen with the
 * default: Firehose buffers at most 3 MB for the Lambda, 4 MB as base64, well under the budget.
 *
 * Never throws on bad input.
 */
export function transformFirehoseRecords(
  records: readonly FirehoseInputRecord[],
  pricer: Pricer,
  options: TransformOptions = {},
): { records: FirehoseOutputRecord[]; stats: TransformStats } {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    throw new RangeError(`maxResponseBytes must be a positive integer, got ${maxResponseBytes}`);
  }
  const stats: TransformStats = {
    recordsIn: records.length,
    ok: 0,
    dropped: 0,
    processingFailed: 0,
    oversizeFailed: 0,
    usageRows: 0,
    unpricedRows: 0,
    invalidRecords: 0,
    skipped: 0,
    crossPartitionRows: 0,
    costPico: 0n,
    responseBytes: 0,
    failures: [],
  };
  // reserve[i]: bytes to return records i.. as received, with the commas before them.
  const reserve: number[] = new Array(records.length + 1).fill(0);
  const receivedBytes: number[] = new Array(records.length).fill(0);
  const decoded: Array<Buffer | undefined> = new Array(records.length).fill(undefined);
  for (let index = records.length - 1; index >= 0; index--) {
    const record = records[index] as FirehoseInputRecord;
    decoded[index] = decodeCanonicalBase64(record.data);
    // Canonical base64 has nothing to escape in JSON; anything else is measured as it will be written.
    receivedBytes[index] = outputBytes(failedAsReceived(record), decoded[index] !== undefined || undefined);
    reserve[index] = (reserve[index + 1] as number) + (receivedBytes[index] as number) + (index > 0 ? 1 : 0);
  }
  const outputs: FirehoseOutputRecord[] = [];
  let used = RESPONSE_FRAME_BYTES;
  let overflowAt = records.length;
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as FirehoseInputRecord;
    const candidate = transformOne(record, pricer, decoded[index]);
    decoded[index] = undefined;
    const bytes = candidate.bytes + (index > 0 ? 1 : 0);
    if (used + bytes + (reserve[index + 1] as number) > maxResponseBytes && candidate.output.result === "Ok") {
      overflowAt = index;
      break;
    }
    used += bytes;
    outputs.push(candidate.output);
    stats.usageRows += candidate.usageRows;
    stats.unpricedRows += candidate.unpricedRows;
    stats.invalidRecords += candidate.invalidRecords;
    stats.skipped += candidate.skipped;
    stats.crossPartitionRows += candidate.crossPartitionRows;
    stats.costPico += candidate.costPico;
    if (candidate.failure) stats.failures.push(candidate.failure);
    if (candidate.output.result === "Ok") stats.ok++;
    else if (candidate.output.result === "Dropped") stats.dropped++;
    else stats.processingFailed++;
  }
  for (let index = overflowAt; index < records.length; index++) {
    const record = records[index] as FirehoseInputRecord;
    outputs.push(failedAsReceived(record));
    used += (receivedBytes[index] as number) + (index > 0 ? 1 : 0);
    stats.oversizeFailed++;
    stats.failures.push({ recordId: record.recordId, reason: "oversize", fields: [] });
  }
  stats.responseBytes = used;
  return { records: outputs, stats };
}
