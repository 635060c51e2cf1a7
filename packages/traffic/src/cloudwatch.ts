/**
 * How the generated items travel: CloudWatch Logs subscription payloads (what a subscription
 * filter puts on a Kinesis stream or Firehose, gzipped and base64-encoded), the output of
 * `aws logs filter-log-events`, and JSON Lines (what Bedrock's S3 delivery writes).
 * Malformed items travel as raw messages, so a non-JSON line reaches the pipeline as it would.
 */
import { gzipSync } from "node:zlib";
import { itemLine, type TrafficItem } from "./generate";
import { DEFAULT_ACCOUNT_ID } from "./models";
import { mix32 } from "./prng";

/** The log stream Bedrock writes every invocation log event to. */
export const BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations";

/** One CloudWatch Logs event of a subscription payload. */
export interface SubscriptionLogEvent {
  /** 56-digit decimal string, unique per event. */
  id: string;
  /** Epoch ms. */
  timestamp: number;
  message: string;
}

/** A CloudWatch Logs subscription payload (decompressed). */
export interface SubscriptionPayload {
  messageType: "DATA_MESSAGE" | "CONTROL_MESSAGE";
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: SubscriptionLogEvent[];
}

/** Where the events come from and how they are batched. */
export interface SubscriptionOptions {
  /** Account owning the log group. Default 123456789012. */
  owner?: string;
  /** Default `/aws/bedrock/modelinvocations`. */
  logGroup?: string;
  /** Default `aws/bedrock/modelinvocations`, the one stream Bedrock writes to. */
  logStream?: string;
  /** Default `["bedrock-spend"]`. */
  subscriptionFilters?: string[];
  /** Log events per payload. Default 50. */
  eventsPerPayload?: number;
  /** Number of events that came before (for ids that continue a sequence). Default 0. */
  firstSequence?: number;
}

/**
 * A CloudWatch Logs event id for an event time and sequence number. Real ids are 56-digit
 * decimals whose high bits are the event time in ms shifted left by 144; the low bits here hold
 * the sequence number and a hash of it, so ids are unique, ordered by time and deterministic.
 */
export function logEventId(timestampMs: number, sequence: number): string {
  const id = (BigInt(Math.max(0, Math.floor(timestampMs))) << 144n) | (BigInt(sequence) << 32n) | BigInt(mix32(sequence ^ 0x68e31da4));
  return id.toString().padStart(56, "0");
}

/** Splits items into subscription payloads of `eventsPerPayload` log events each (the last may be shorter). */
export function* toSubscriptionPayloads(items: Iterable<TrafficItem>, options: SubscriptionOptions = {}): Generator<SubscriptionPayload> {
  const size = options.eventsPerPayload ?? 50;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`eventsPerPayload must be a positive integer, got ${size}`);
  let sequence = options.firstSequence ?? 0;
  let events: SubscriptionLogEvent[] = [];
  const payload = (logEvents: SubscriptionLogEvent[]): SubscriptionPayload => ({
    messageType: "DATA_MESSAGE",
    owner: options.owner ?? DEFAULT_ACCOUNT_ID,
    logGroup: options.logGroup ?? "/aws/bedrock/modelinvocations",
    logStream: options.logStream ?? BEDROCK_LOG_STREAM,
    subscriptionFilters: options.subscriptionFilters ?? ["bedrock-spend"],
    logEvents,
  });
  for (const item of items) {
    events.push({ id: logEventId(item.timestampMs, sequence++), timestamp: item.timestampMs, message: itemLine(item) });
    if (events.length === size) {
      yield payload(events);
      events = [];
    }
  }
  if (events.length > 0) yield payload(events);
}

/**
 * The control message CloudWatch Logs sends when a subscription filter is created, to check
 * that the destination is reachable. It carries no invocation and must be dropped.
 */
export function controlMessagePayload(timestampMs: number): SubscriptionPayload {
  return {
    messageType: "CONTROL_MESSAGE",
    owner: "CloudwatchLogs",
    logGroup: "",
    logStream: "",
    subscriptionFilters: [],
    logEvents: [{ id: "", timestamp: timestampMs, message: "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream." }],
  };
}

/**
 * gzip (level 6, as CloudWatch Logs sends) with a header that does not depend on the machine:
 * node writes no modification time, and the OS byte, which zlib sets per platform, is set to
 * 255 ("unknown"). The deflate stream itself is the bundled zlib's.
 */
export function gzipStable(data: string | Uint8Array): Buffer {
  const bytes = gzipSync(data, { level: 6 });
  bytes[9] = 0xff;
  return bytes;
}

/** A payload as a Kinesis record's data: gzip, then base64. */
export function encodeKinesisData(payload: SubscriptionPayload): string {
  return gzipStable(JSON.stringify(payload)).toString("base64");
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
