/**
 * `ingest` repackages decoded log items the way CloudWatch Logs delivers them to Kinesis: gzip
 * subscription payloads of up to 50 log events, each event's message the record's raw text. Bad
 * items travel too (their raw text as the message), so that the pipeline quarantines them exactly
 * as it would on AWS; control messages are left out (CloudWatch sends its own).
 */
import { gzipSync } from "node:zlib";
import type { DecodedItem } from "@bedrock-spend/core";

/** Counts of what was packed. */
export interface PackStats {
  items: number;
  events: number;
  payloads: number;
  controlMessages: number;
}

/** Packs items into gzip subscription payloads (Kinesis record data). */
export async function* subscriptionPayloadsOf(
  items: AsyncIterable<DecodedItem> | Iterable<DecodedItem>,
  stats: PackStats,
  options: { eventsPerPayload?: number; logGroup?: string; now?: () => number } = {},
): AsyncGenerator<Uint8Array> {
  const size = options.eventsPerPayload ?? 50;
  const now = options.now ?? Date.now;
  let events: { id: string; timestamp: number; message: string }[] = [];
  let sequence = 0;
  const flush = () => {
    const payload = {
      messageType: "DATA_MESSAGE",
      owner: "000000000000",
      logGroup: options.logGroup ?? "/aws/bedrock/modelinvocations",
      logStream: "aws/bedrock/modelinvocations",
      subscriptionFilters: ["bedrock-spend-local"],
      logEvents: events,
    };
    events = [];
    stats.payloads++;
    return gzipSync(JSON.stringify(payload));
  };
  for await (const item of items) {
    stats.items++;
    if (item.kind === "skipped" && item.skip === "control-message") {
      stats.controlMessages++;
      continue;
    }
    const timestamp = item.kind === "record" && item.eventTimestamp !== undefined ? item.eventTimestamp : now();
    // 56-digit event ids, unique within an ingest: CloudWatch's are unique per event.
    events.push({ id: `${String(timestamp).padStart(20, "0")}${String(sequence++).padStart(36, "0")}`, timestamp, message: item.raw });
    stats.events++;
    if (events.length >= size) yield flush();
  }
  if (events.length > 0) yield flush();
}
