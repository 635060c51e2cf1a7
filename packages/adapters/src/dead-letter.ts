/**
 * The dead-letter queue: where records that cannot be counted go, with their raw content and the
 * reason, so that nothing is lost and a redrive can replay them. On AWS an SQS queue; locally,
 * JSON Lines files under `<data-dir>/quarantine/`.
 */
import { createHash } from "node:crypto";
import { BedrockSpendError } from "@bedrock-spend/core";

/** One quarantined item. */
export interface QuarantinedRecord {
  /** Content address of `raw` (sha256, hex): the same bad input quarantined twice has one id. */
  id: string;
  /** Why it was quarantined, starting with the field: `input.inputTokenCount: must be ...`. */
  reason: string;
  /** The bad field, or `gzip`, `base64`, `json`, `record`. */
  field: string;
  /** The raw content as received (text; clipped at 64 KiB by the decoder for enormous inputs). */
  raw: string;
  /** Where it came from, e.g. `kinesis:shardId-000000000001:4959...#3` (event index after `#`). */
  source: string;
  /** Bedrock request id, when it could be read. */
  requestId?: string;
  /** When it was quarantined, ISO 8601. */
  quarantinedAt: string;
}

/** Builds a quarantined record, computing its content id. */
export function quarantined(fields: Omit<QuarantinedRecord, "id" | "quarantinedAt">, now = new Date()): QuarantinedRecord {
  return { id: createHash("sha256").update(fields.raw).digest("hex"), ...fields, quarantinedAt: now.toISOString() };
}

/** Sends quarantined records somewhere durable. Throws if they could not all be stored. */
export interface DeadLetterQueue {
  send(records: readonly QuarantinedRecord[]): Promise<void>;
}

/** A message taken from a dead-letter queue for redrive. */
export interface DeadLetterMessage {
  /** Opaque handle to delete it once handled. */
  handle: string;
  /** The message body: a `QuarantinedRecord`, or a Lambda on-failure record (Kinesis batch info). */
  body: unknown;
}

/** A dead-letter queue that can be drained by a redrive. */
export interface DrainableDeadLetterQueue extends DeadLetterQueue {
  /** Up to `max` messages not yet deleted. */
  receive(max: number): Promise<DeadLetterMessage[]>;
  /** Removes handled messages. */
  delete(handles: readonly string[]): Promise<void>;
}

/** Raised when quarantined records could not be stored: the caller must retry them. */
export class DeadLetterError extends BedrockSpendError {
  readonly failedIds: readonly string[];

  constructor(message: string, failedIds: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "DeadLetterError";
    this.failedIds = failedIds;
  }
}
