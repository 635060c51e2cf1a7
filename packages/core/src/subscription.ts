/**
 * The CloudWatch Logs subscription payload, both ways: how a subscription filter packs log events
 * (what lands on the Kinesis stream, gzipped) and how the decoder reads one back. The one owner
 * of the shape, for the decoder, the traffic generator, local `ingest` and the tests.
 */
import { gzipSync } from "node:zlib";

/** The log stream Bedrock writes every invocation log event to. */
export const BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations";
/** The log group name Bedrock's console suggests (and the default here). */
export const BEDROCK_LOG_GROUP = "/aws/bedrock/modelinvocations";
/** Start of the one log event of a control message. */
export const CONTROL_MESSAGE_PREFIX = "CWL CONTROL MESSAGE";

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
  /** Default `BEDROCK_LOG_GROUP`. */
  logGroup?: string;
  /** Default `BEDROCK_LOG_STREAM`, the one stream Bedrock writes to. */
  logStream?: string;
  /** Default `["bedrock-spend"]`. */
  subscriptionFilters?: string[];
  /** Log events per payload. Default 50. */
  eventsPerPayload?: number;
  /** Number of events that came before (for ids that continue a sequence). Default 0. */
  firstSequence?: number;
}

/** A log event to pack: its time and its message. */
export interface LogEventInput {
  /** Epoch ms. */
  timestampMs: number;
  message: string;
}

/** 32-bit integer hash (murmur3's finalizer): spreads a sequence number over the id's low bits. */
function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
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

/** Packs log events into data payloads of `eventsPerPayload` events each (the last may be shorter), as a subscription filter does. */
export function* packSubscriptionPayloads(events: Iterable<LogEventInput>, options: SubscriptionOptions = {}): Generator<SubscriptionPayload> {
  const size = options.eventsPerPayload ?? 50;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`eventsPerPayload must be a positive integer, got ${size}`);
  let sequence = options.firstSequence ?? 0;
  let logEvents: SubscriptionLogEvent[] = [];
  const payload = (batch: SubscriptionLogEvent[]): SubscriptionPayload => ({
    messageType: "DATA_MESSAGE",
    owner: options.owner ?? "123456789012",
    logGroup: options.logGroup ?? BEDROCK_LOG_GROUP,
    logStream: options.logStream ?? BEDROCK_LOG_STREAM,
    subscriptionFilters: options.subscriptionFilters ?? ["bedrock-spend"],
    logEvents: batch,
  });
  for (const event of events) {
    logEvents.push({ id: logEventId(event.timestampMs, sequence++), timestamp: event.timestampMs, message: event.message });
    if (logEvents.length === size) {
      yield payload(logEvents);
      logEvents = [];
    }
  }
  if (logEvents.length > 0) yield payload(logEvents);
}

/**
 * The control message CloudWatch Logs sends when a subscription filter is created, to check
 * that the destination is reachable. It carries no invocation and is dropped.
 */
export function controlMessagePayload(timestampMs: number): SubscriptionPayload {
  return {
    messageType: "CONTROL_MESSAGE",
    owner: "CloudwatchLogs",
    logGroup: "",
    logStream: "",
    subscriptionFilters: [],
    logEvents: [{ id: "", timestamp: timestampMs, message: `${CONTROL_MESSAGE_PREFIX}: Checking health of destination Kinesis stream.` }],
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

/** A payload as a Kinesis record's data carries it: gzip of its JSON. */
export function encodeSubscriptionPayload(payload: SubscriptionPayload): Buffer {
  return gzipStable(JSON.stringify(payload));
}

/** Whether a JSON object is meant as a subscription payload (it names a message type or log events). */
export function isSubscriptionPayload(value: Record<string, unknown>): boolean {
  return "messageType" in value || "logEvents" in value;
}

/** What a subscription payload holds: a control message, data events to read, or why it is not one. */
export type SubscriptionReading =
  | { kind: "control" }
  | { kind: "data"; logEvents: unknown[] }
  | { kind: "invalid"; field: "messageType" | "logEvents"; reason: string };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Reads a (decompressed, parsed) subscription payload. The log events themselves are the caller's to read. */
export function readSubscriptionPayload(payload: Record<string, unknown>): SubscriptionReading {
  const type = payload.messageType;
  if (type === "CONTROL_MESSAGE") return { kind: "control" };
  if (type !== "DATA_MESSAGE") {
    return {
      kind: "invalid",
      field: "messageType",
      reason: `subscription payload messageType is ${JSON.stringify(type)}, expected DATA_MESSAGE or CONTROL_MESSAGE`,
    };
  }
  if (!Array.isArray(payload.logEvents)) {
    return { kind: "invalid", field: "logEvents", reason: `subscription payload logEvents is ${describe(payload.logEvents)}, expected an array` };
  }
  return { kind: "data", logEvents: payload.logEvents };
}
