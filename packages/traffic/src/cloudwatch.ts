/**
 * How the generated items travel: CloudWatch Logs subscription payloads (what a subscription
 * filter puts on a Kinesis stream or Firehose, gzipped and base64-encoded), the output of
 * `aws logs filter-log-events`, and JSON Lines (what Bedrock's S3 delivery writes).
 * Malformed items travel as raw messages, so a non-JSON line reaches the pipeline as it would.
 */
import {
  BEDROCK_LOG_STREAM,
  encodeSubscriptionPayload,
  logEventId,
  packSubscriptionPayloads,
  type SubscriptionOptions,
  type SubscriptionPayload,
} from "@bedrock-spend/core";
import { itemLine, type TrafficItem } from "./generate";
import { DEFAULT_ACCOUNT_ID } from "./models";
import { mix32 } from "./prng";

export {
  BEDROCK_LOG_STREAM,
  controlMessagePayload,
  gzipStable,
  logEventId,
  type SubscriptionLogEvent,
  type SubscriptionOptions,
  type SubscriptionPayload,
} from "@bedrock-spend/core";

/** Splits items into subscription payloads of `eventsPerPayload` log events each (the last may be shorter). */
export function toSubscriptionPayloads(items: Iterable<TrafficItem>, options: SubscriptionOptions = {}): Generator<SubscriptionPayload> {
  const events = (function* () {
    for (const item of items) yield { timestampMs: item.timestampMs, message: itemLine(item) };
  })();
  return packSubscriptionPayloads(events, { owner: DEFAULT_ACCOUNT_ID, ...options });
}

/** A payload as a Kinesis record's data: gzip, then base64. */
export function encodeKinesisData(payload: SubscriptionPayload): string {
  return encodeSubscriptionPayload(payload).toString("base64");
}

/** Output of `aws logs filter-log-events` (and, without the stream name, `get-log-events`). */
export interface FilterLogEventsOutput {
  events: Array<{ logStreamName: string; timestamp: number; message: string; ingestionTime: number; eventId: string }>;
  searchedLogStreams: never[];
}

/** Items as `aws logs filter-log-events` prints them. Ingestion lags the event by under a second. */
export function toFilterLogEventsOutput(items: Iterable<TrafficItem>, options: { logStream?: string; firstSequence?: number } = {}): FilterLogEventsOutput {
  let sequence = options.firstSequence ?? 0;
  const events: FilterLogEventsOutput["events"] = [];
  for (const item of items) {
    const id = sequence++;
    events.push({
      logStreamName: options.logStream ?? BEDROCK_LOG_STREAM,
      timestamp: item.timestampMs,
      message: itemLine(item),
      ingestionTime: item.timestampMs + 200 + (mix32(id) % 700),
      eventId: logEventId(item.timestampMs, id),
    });
  }
  return { events, searchedLogStreams: [] };
}

/** Items as JSON Lines (Bedrock's S3 delivery format), each line ending in a newline. */
export function toJsonLines(items: Iterable<TrafficItem>): string {
  let out = "";
  for (const item of items) out += `${itemLine(item)}\n`;
  return out;
}
