/**
 * The lake document codec: usage records as the JSON documents Firehose's OpenX JSON SerDe
 * converts to Parquet, and back. The transform writes them (`LakeDocumentWriter`); the local
 * Firehose reads them back (`decodeLakeDocuments`), as the SerDe does on AWS.
 *
 * Documents carry the data columns of `USAGE_COLUMNS` only. The partition columns (year, month,
 * day) travel in Firehose's `metadata.partitionKeys` and become S3 path components
 * (`year=!{partitionKeyFromLambda:year}/...`): Glue and Hive refuse a table whose partition
 * column is also a data column, so the Glue schema Firehose converts with has no such column,
 * and Firehose drops JSON keys that are not in that schema. Writing them would only spend the
 * transform's response budget. The values are derivable from `event_time` in any case.
 *
 * `cost_usd` is written as a bare number literal copied from the exact decimal string (the SerDe
 * reads it into decimal(38,12) exactly), and read back as that text, never through a JS number.
 */

import { BedrockSpendError } from "./errors";
import { jsonErrorPosition } from "./text";
import { dataColumns, partitionColumns, type UsageColumn, type UsageRecord } from "./usage";

/** OpenX JSON SerDe timestamp format `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'` (up to 9 fractional digits). */
const OPENX_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** A decimal that fits decimal(38,12): up to 26 integer and 12 fractional digits. */
const DECIMAL_38_12 = /^(0|[1-9]\d{0,25})(\.\d{1,12})?$/;

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
 * Checks one value against its column, as the lake holds it: false for a null (nullable) value,
 * true for a value the column holds. The one definition of what fits a lake column, shared by the
 * transform and the local lake writer. @throws LakeEncodingError naming the column when it does not fit.
 */
export function checkLakeValue(column: UsageColumn, value: unknown, requestId: string): boolean {
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

/**
 * Writes lake documents, one newline-terminated JSON object per usage record, as UTF-8 bytes in
 * place: the same bytes as `JSON.stringify` of each value joined (a test holds them equal to a
 * string-building reference), without building a string per value and line, flattening them and
 * encoding the result, which cost the transform as much as building the documents themselves.
 * One buffer, reused from output record to output record (`reset`). Text is copied byte by byte
 * while it is ASCII with nothing to escape; anything else goes through `JSON.stringify` and
 * Node's UTF-8 encoder.
 */
export class LakeDocumentWriter {
  private static readonly INITIAL_BYTES = 256 * 1024;
  private bytes = new Uint8Array(LakeDocumentWriter.INITIAL_BYTES);
  /** `bytes` as a Buffer, for Node's native string copy. */
  private view = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  /** Bytes written since `reset`; setting it back to an earlier value drops what came after. */
  length = 0;

  /** Starts an output record (and gives back memory a huge one took). */
  reset(): void {
    this.length = 0;
    if (this.bytes.length > 16 * LakeDocumentWriter.INITIAL_BYTES) {
      this.bytes = new Uint8Array(LakeDocumentWriter.INITIAL_BYTES);
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

  /** A JSON string literal of `text`, the bytes of `JSON.stringify(text)` in UTF-8. */
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

  /**
   * Appends `record` as one document: the data columns of `USAGE_COLUMNS` in lake order
   * (partition columns excluded), `cost_usd` as a bare number literal, `event_time` in the OpenX
   * timestamp format, `metadata` as an object, nulls as null.
   * @throws LakeEncodingError when a value does not fit its column (never for records the
   *   `Pricer` builds); the documents written before stay as they were.
   */
  append(record: UsageRecord): void {
    const mark = this.length;
    try {
      writeDocument(this, record);
    } catch (error) {
      this.length = mark;
      throw error;
    }
  }

  /** The bytes written since `reset` (a view: valid until the next write). */
  bytesView(): Uint8Array {
    return this.bytes.subarray(0, this.length);
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

function writeValue(out: LakeDocumentWriter, column: UsageColumn, value: unknown, requestId: string): void {
  if (!checkLakeValue(column, value, requestId)) {
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

/** One document written into `out`. @throws LakeEncodingError when a value does not fit its column. */
function writeDocument(out: LakeDocumentWriter, record: UsageRecord): void {
  const values = record as unknown as Record<string, unknown>;
  const requestId = typeof record.request_id === "string" ? record.request_id : "<no request_id>";
  for (const { column, prefixBytes } of LAKE_FIELDS) {
    out.raw(prefixBytes);
    writeValue(out, column, values[column.name], requestId);
  }
  out.raw(LINE_END_BYTES);
}

/** The data columns in lake order, each with its `{"name":` or `,"name":` prefix (as text and as UTF-8). */
const LAKE_FIELDS: ReadonlyArray<{ column: UsageColumn; prefix: string; prefixBytes: Uint8Array }> = dataColumns().map((column, index) => {
  const prefix = `${index === 0 ? "{" : ","}${JSON.stringify(column.name)}:`;
  return { column, prefix, prefixBytes: Buffer.from(prefix, "utf8") };
});

/** Names of the partition columns, in path order. */
const PARTITION_NAMES: readonly string[] = partitionColumns().map((column) => column.name);

/** The partition values of a usage record joined by "/", e.g. "2026/11/27" (to compare rows' partitions). */
export function lakePartitionPath(record: UsageRecord): string {
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

/**
 * Each decimal column's value in a document, as the literal the writer copied: the text after
 * the column's own prefix (`,"cost_usd":`). A string value cannot hold that prefix (its quotes are
 * escaped), and a `metadata` key of that name is followed by a string, not a digit.
 */
const DECIMAL_LITERALS: ReadonlyArray<{ pattern: RegExp; quoted: string }> = LAKE_FIELDS.filter(({ column }) => column.type === "decimal").map(
  ({ prefix }) => ({ pattern: new RegExp(`${prefix.replace(/[{}]/g, "\\$&")}(\\d+(?:\\.\\d+)?)`), quoted: `${prefix}"$1"` }),
);

/** A lake document that cannot be read back into a usage record. */
export class LakeDecodingError extends BedrockSpendError {
  /** 1-based line of the document in the data. */
  readonly line: number;

  constructor(line: number, message: string, options?: ErrorOptions) {
    super(`lake document ${line}: ${message}`, options);
    this.name = "LakeDecodingError";
    this.line = line;
  }
}

/**
 * Reads documents written by `LakeDocumentWriter` back into usage records, with the partition
 * columns from `partitionKeys` (as Firehose's dynamic partitioning puts them in the S3 path) and
 * `cost_usd` as the exact decimal text. Every value is checked against its column, as on the way in.
 * @throws LakeDecodingError naming the document that is not JSON, and LakeEncodingError naming
 *   the column whose value does not fit
 */
export function decodeLakeDocuments(data: Uint8Array | string, partitionKeys: Readonly<Record<string, string>>): UsageRecord[] {
  const text = typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  const records: UsageRecord[] = [];
  let line = 0;
  for (const document of text.split("\n")) {
    line++;
    if (document.length === 0) continue;
    let exact = document;
    for (const { pattern, quoted } of DECIMAL_LITERALS) exact = exact.replace(pattern, quoted);
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(exact) as Record<string, unknown>;
    } catch (error) {
      // No cause: V8's message quotes the document's text.
      const position = jsonErrorPosition(error);
      throw new LakeDecodingError(line, position === undefined ? "is not JSON" : `is not JSON (error at position ${position})`);
    }
    const requestId = typeof value.request_id === "string" ? value.request_id : "<no request_id>";
    for (const { column } of LAKE_FIELDS) checkLakeValue(column, value[column.name], requestId);
    for (const name of PARTITION_NAMES) {
      const key = partitionKeys[name];
      if (key === undefined) throw new LakeDecodingError(line, `has no partition key ${name}`);
      value[name] = key;
    }
    records.push(value as unknown as UsageRecord);
  }
  return records;
}
