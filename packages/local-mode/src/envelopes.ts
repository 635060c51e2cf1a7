/**
 * `ingest` repackages decoded log items the way CloudWatch Logs delivers them to Kinesis: gzip
 * subscription payloads of up to 50 log events, each event's message the record's raw text. Bad
 * items travel too (their raw text as the message), so that the pipeline quarantines them exactly
 * as it would on AWS; control messages are left out (CloudWatch sends its own).
 */
import { type Clock, type DecodedItem, encodeSubscriptionPayload, type LogEventInput, packSubscriptionPayloads, systemClock } from "@bedrock-spend/core";

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
  options: { eventsPerPayload?: number; logGroup?: string; now?: Clock } = {},
): AsyncGenerator<Uint8Array> {
  const size = options.eventsPerPayload ?? 50;
  const now = options.now ?? systemClock;
  const subscription = {
    eventsPerPayload: size,
    subscriptionFilters: ["bedrock-spend-local"],
    owner: "000000000000",
    ...(options.logGroup ? { logGroup: options.logGroup } : {}),
  };
  let events: LogEventInput[] = [];
  const flush = function* () {
    for (const payload of packSubscriptionPayloads(events, { ...subscription, firstSequence: stats.events - events.length })) {
      stats.payloads++;
      yield encodeSubscriptionPayload(payload);
    }
    events = [];
  };
  for await (const item of items) {
    stats.items++;
    if (item.kind === "skipped" && item.skip === "control-message") {
      stats.controlMessages++;
      continue;
    }
    events.push({ timestampMs: item.kind === "record" && item.eventTimestamp !== undefined ? item.eventTimestamp : now(), message: item.raw });
    stats.events++;
    if (events.length >= size) yield* flush();
  }
  if (events.length > 0) yield* flush();
}
