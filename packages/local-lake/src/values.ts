/**
 * DuckDB values as JSON-safe JavaScript values: what `LocalAthena.query` returns.
 *
 * - BIGINT, HUGEINT and the other 64/128-bit integers: a number when it is a safe integer, else a
 *   decimal string (never a rounded number);
 * - DECIMAL: the exact decimal string, with the column's scale (`0.000320000000` for DECIMAL(38,12),
 *   as Athena prints it);
 * - TIMESTAMP and TIMESTAMP WITH TIME ZONE: ISO 8601 in UTC, `2026-11-27T10:00:00Z`, with `.sss`
 *   (or `.ssssss`) only when the fraction is not zero (the format of a usage record's `event_time`);
 *   `infinity` / `-infinity` for DuckDB's infinite timestamps;
 * - DATE: `YYYY-MM-DD`; TIME, INTERVAL, UUID, BLOB, BIT: DuckDB's text;
 * - MAP: an object (keys as strings); STRUCT: an object; LIST and ARRAY: arrays; UNION: its value;
 * - DOUBLE and FLOAT: a number, or the string `NaN`, `Infinity`, `-Infinity` (JSON has none).
 */
import {
  DuckDBArrayValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  type DuckDBValue,
  DuckDBVariantValue,
} from "@duckdb/node-api";

/** A JSON-safe value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The exact decimal text of `value / 10^scale`. */
export function decimalString(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale <= 0) return `${negative ? "-" : ""}${digits}`;
  const padded = digits.padStart(scale + 1, "0");
  return `${negative ? "-" : ""}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** ISO 8601 UTC text of microseconds since the epoch; the fraction only when non-zero. */
export function isoFromMicros(micros: bigint): string {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const subMillis = micros - millis * 1000n;
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) return micros > 0n ? "infinity" : "-infinity";
  const iso = date.toISOString(); // ...T10:00:00.123Z
  const base = iso.slice(0, -5);
  const ms = iso.slice(-4, -1);
  if (subMillis !== 0n) return `${base}.${ms}${subMillis.toString().padStart(3, "0")}Z`;
  return ms === "000" ? `${base}Z` : `${base}.${ms}Z`;
}

function isoFromNanos(nanos: bigint): string {
  const micros = nanos / 1000n - (nanos % 1000n < 0n ? 1n : 0n);
  const subMicros = nanos - micros * 1000n;
  const text = isoFromMicros(micros);
  if (subMicros === 0n || !text.endsWith("Z")) return text;
  const [whole, fraction = ""] = text.slice(0, -1).split(".");
  return `${whole}.${fraction.padEnd(6, "0")}${subMicros.toString().padStart(3, "0")}Z`;
}

function timestampText(micros: bigint, infinity: bigint, negativeInfinity: bigint): string {
  if (micros === infinity) return "infinity";
  if (micros === negativeInfinity) return "-infinity";
  return isoFromMicros(micros);
}

/** A DuckDB value as a JSON-safe value (see the module comment). */
export function toJsonValue(value: DuckDBValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString();
  if (value instanceof DuckDBDecimalValue) return decimalString(value.value, value.scale);
  if (value instanceof DuckDBTimestampValue) return timestampText(value.micros, DuckDBTimestampValue.PosInf.micros, DuckDBTimestampValue.NegInf.micros);
  if (value instanceof DuckDBTimestampTZValue) return timestampText(value.micros, DuckDBTimestampTZValue.PosInf.micros, DuckDBTimestampTZValue.NegInf.micros);
  if (value instanceof DuckDBTimestampSecondsValue) return isoFromMicros(value.seconds * 1_000_000n);
  if (value instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(value.millis * 1000n);
  if (value instanceof DuckDBTimestampNanosecondsValue) return isoFromNanos(value.nanos);
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBMapValue) {
    const object: { [key: string]: JsonValue } = {};
    for (const entry of value.entries) {
      const key = toJsonValue(entry.key);
      object[typeof key === "string" ? key : JSON.stringify(key)] = toJsonValue(entry.value);
    }
    return object;
  }
  if (value instanceof DuckDBStructValue) {
    const object: { [key: string]: JsonValue } = {};
    for (const [key, entry] of Object.entries(value.entries)) object[key] = toJsonValue(entry);
    return object;
  }
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toJsonValue);
  if (value instanceof DuckDBUnionValue || value instanceof DuckDBVariantValue) return toJsonValue(value.value);
  return value.toString();
}
