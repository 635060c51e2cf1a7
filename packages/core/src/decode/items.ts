/**
 * What decoding yields: one item per invocation log record found in the input, per record that
 * could not be read, and per message that is skipped on purpose.
 */

/** Where an item came from, precise enough for a user to find it. */
export interface SourceRef {
  /** The file (or other source label) the item was read from. */
  file?: string;
  /** 1-based line of the file where the item (or its envelope) starts. */
  line?: number;
  /** Index of the log event within its envelope (subscription payload, `events` output, array). */
  index?: number;
  /** CloudWatch Logs event id, when the item came from a log event. */
  eventId?: string;
}

/** How an invalid item's raw text was clipped: a prefix of `keptBytes` of the `originalBytes` (UTF-8) received. */
export interface RawClipping {
  keptBytes: number;
  originalBytes: number;
}

/** Why an item is skipped on purpose. Skipped items are counted, never priced. */
export type SkipReason = "control-message" | "permissions-line";

/** One item decoded from the input. */
export type DecodedItem =
  | {
      kind: "record";
      /** The parsed JSON value of the candidate invocation log record (not yet validated). */
      value: unknown;
      /** The record's raw text, kept for the quarantine. */
      raw: string;
      source: SourceRef;
      /** CloudWatch Logs ingestion timestamp of the event (epoch ms), when known. */
      eventTimestamp?: number;
    }
  | { kind: "skipped"; skip: SkipReason; raw: string; source: SourceRef }
  | {
      kind: "invalid";
      /** What was wrong, by field: a record field path, or `gzip`, `base64`, `json`, `logEvents`, `record`. */
      field: string;
      reason: string;
      /** The raw content; for an enormous input, its first `RAW_KEEP_BYTES` and a marker of the rest. */
      raw: string;
      /** Present when `raw` was clipped. */
      rawClipped?: RawClipping;
      source: SourceRef;
    };

/** Formats a source reference as `file:line` plus the event index, for messages. */
export function formatSource(source: SourceRef): string {
  let text = source.file ?? "<input>";
  if (source.line !== undefined) text += `:${source.line}`;
  if (source.index !== undefined) text += ` event ${source.index}`;
  return text;
}
