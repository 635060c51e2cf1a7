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
 * The bytes of `text` when it is canonical base64 (`isCanonicalBase64`), else undefined.
 * Decoding and encoding back is native and several times faster than any scan of a 40 KB record
 * in JavaScript or a regular expression: text that survives the round trip is canonical; only
 * text that does not (bad characters, or padding bits that are not zero) is scanned.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text || isCanonicalBase64(text) ? bytes : undefined;
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

function encodeValue(column: UsageColumn, value: unknown, requestId: string): string {
  if (value === null || value === undefined) {
    if (!column.nullable) throw new LakeEncodingError(requestId, column.name, "is not nullable but has no value");
    return "null";
  }
  switch (column.type) {
    case "string":
      if (typeof value !== "string") throw new LakeEncodingError(requestId, column.name, `must be a string, got ${typeof value}`);
      return jsonString(value);
    case "timestamp":
      if (typeof value !== "string" || !OPENX_TIMESTAMP.test(value)) {
        throw new LakeEncodingError(requestId, column.name, `must be an OpenX timestamp yyyy-MM-dd'T'HH:mm:ss[.S]'Z', got ${JSON.stringify(value)}`);
      }
      return `"${value}"`;
    case "bigint":
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw new LakeEncodingError(requestId, column.name, `must be a non-negative safe integer, got ${String(value)}`);
      }
      return String(value);
    case "decimal":
      // Copied as text, never through a JS number: the SerDe reads the literal into decimal(38,12) exactly.
      if (typeof value !== "string" || !DECIMAL_38_12.test(value)) {
        throw new LakeEncodingError(requestId, column.name, `must be a decimal string that fits decimal(38,12), got ${JSON.stringify(value)}`);
      }
      return value;
    case "map": {
      if (typeof value !== "object" || Array.isArray(value)) throw new LakeEncodingError(requestId, column.name, "must be an object of strings");
      let map = "";
      for (const key of Object.keys(value)) {
        const entry = (value as Record<string, unknown>)[key];
        if (typeof entry !== "string") throw new LakeEncodingError(requestId, column.name, `value of key ${JSON.stringify(key)} must be a string`);
        map += `${map.length === 0 ? "" : ","}${jsonString(key)}:${jsonString(entry)}`;
      }
      return `{${map}}`;
    }
  }
}

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

/** The data columns in lake order, each with its `{"name":` or `,"name":` prefix. */
const LAKE_FIELDS: ReadonlyArray<{ column: UsageColumn; prefix: string }> = dataColumns().map((column, index) => ({
  column,
  prefix: `${index === 0 ? "{" : ","}${JSON.stringify(column.name)}:`,
}));

/** Names of the partition columns, in path order. */
const PARTITION_NAMES: readonly string[] = partitionColumns().map((column) => column.name);

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
  const lines: string[] = [];
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
        try {
          lines.push(toLakeLine(usage));
        } catch (error) {
          if (!(error instanceof LakeEncodingError)) throw error;
          unencodable ??= error;
          break;
        }
        const keys = lakePartitionKeys(usage);
        const day = Object.values(keys).join("/");
        // One output record has one set of partition keys: the first row's day. A payload spans
        // seconds, so only one that straddles midnight UTC puts rows under the neighbouring day.
        if (partitionKeys === undefined) {
          partitionKeys = keys;
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
    data: Buffer.from(lines.join(""), "utf8").toString("base64"),
    metadata: { partitionKeys },
  };
  return {
    output,
    bytes: outputBytes(output, true),
    usageRows: lines.length,
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
