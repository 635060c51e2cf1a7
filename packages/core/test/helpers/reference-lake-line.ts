/**
 * A string-building reference for the lake documents: the same document `LakeDocumentWriter`
 * writes, built the plain way (`JSON.stringify` per string, concatenation), to hold the writer's
 * byte-level fast paths to.
 */
import { checkLakeValue } from "../../src/lake-document";
import { dataColumns, type UsageColumn, type UsageRecord } from "../../src/usage";

function encodeValue(column: UsageColumn, value: unknown, requestId: string): string {
  if (!checkLakeValue(column, value, requestId)) return "null";
  switch (column.type) {
    case "string":
      return JSON.stringify(value as string);
    case "timestamp":
      return `"${value as string}"`;
    case "bigint":
      return String(value);
    case "decimal":
      return value as string;
    case "map":
      return `{${Object.entries(value as Record<string, string>)
        .map(([key, entry]) => `${JSON.stringify(key)}:${JSON.stringify(entry)}`)
        .join(",")}}`;
  }
}

/** One usage record as a newline-terminated lake document, built as a string. */
export function referenceLakeLine(record: UsageRecord): string {
  const values = record as unknown as Record<string, unknown>;
  const requestId = typeof record.request_id === "string" ? record.request_id : "<no request_id>";
  const fields = dataColumns().map((column) => `${JSON.stringify(column.name)}:${encodeValue(column, values[column.name], requestId)}`);
  return `{${fields.join(",")}}\n`;
}
