/**
 * SQS dead-letter queue: SendMessageBatch, partial failures retried once, then reported as a
 * `DeadLetterError` naming the records, so that the caller keeps their stream records for retry.
 * Message bodies are the JSON of `QuarantinedRecord`.
 *
 * SQS limits are in bytes of UTF-8, and raw content is whatever Bedrock logged: one escaped
 * non-ASCII record can pass a queue's message size, ten large ones a batch's. Each message is
 * sized with its attributes, a record too large for one message has its raw content clipped
 * (marked in the body, with the original size), and batches are cut by count and by bytes.
 */
import {
  DeleteMessageBatchCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { clipUtf8 } from "@bedrock-spend/core";
import { DeadLetterError, type DeadLetterMessage, type DrainableDeadLetterQueue, type QuarantinedRecord } from "./dead-letter";

/** SendMessageBatch and DeleteMessageBatch take at most 10 entries. */
export const SQS_BATCH_ENTRIES = 10;

/**
 * SendMessageBatch's limit on the sum of its messages' sizes, bytes: "The maximum allowed
 * individual message size and the maximum total payload size (the sum of the individual lengths
 * of all of the batched messages) are both 1 MiB 1,048,576 bytes" (SQS API Reference,
 * SendMessageBatch).
 */
export const SQS_BATCH_PAYLOAD_BYTES = 1_048_576;

/**
 * Largest message this adapter sends by default, bytes: 256 KiB. A queue refuses messages over its
 * `MaximumMessageSize`; the dead-letter queue (stacks/Processing.ts) leaves it unset, which gives
 * 1 MiB to a queue created since SQS raised the limit in 2025 and 262,144 bytes to one created
 * before (the default then). 256 KiB fits both.
 */
export const SQS_DEFAULT_MESSAGE_BYTES = 262_144;

/** Options of the SQS dead-letter queue. */
export interface SqsDeadLetterQueueOptions {
  /** Largest message to send, bytes: at most the queue's `MaximumMessageSize`. Default `SQS_DEFAULT_MESSAGE_BYTES`. */
  maxMessageBytes?: number;
}

/** A quarantined record as the queue's message body: the record, and how its raw content was clipped to fit. */
export interface SqsQuarantinedBody extends QuarantinedRecord {
  /** Present when the record was too large for one message: `raw` is then its first `keptBytes` of `originalBytes` (UTF-8). */
  rawClipped?: { keptBytes: number; originalBytes: number };
}

/** One message to send: the entry and its size as SQS counts it. */
interface SizedEntry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

/** SQS's size of a message: its body and every attribute's name, data type and value, in bytes. */
export function sqsMessageBytes(body: string, attributes: Record<string, MessageAttributeValue> = {}): number {
  let bytes = Buffer.byteLength(body, "utf8");
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8");
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, "utf8");
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/** Sends quarantined records to an SQS queue and drains it for the redrive. */
export class SqsDeadLetterQueue implements DrainableDeadLetterQueue {
  private readonly maxMessageBytes: number;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsDeadLetterQueueOptions = {},
  ) {
    this.maxMessageBytes = Math.min(options.maxMessageBytes ?? SQS_DEFAULT_MESSAGE_BYTES, SQS_BATCH_PAYLOAD_BYTES);
  }

  /** Sends every record, in batches within SQS's limits. Throws a `DeadLetterError` naming the records not stored. */
  async send(records: readonly QuarantinedRecord[]): Promise<void> {
    const failed: string[] = [];
    let batch: SizedEntry[] = [];
    let batchBytes = 0;
    const flush = async (): Promise<void> => {
      let entries = batch.map((sized) => sized.entry);
      batch = [];
      batchBytes = 0;
      for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
        const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        const failedIds = new Set((result.Failed ?? []).map((entry) => entry.Id));
        entries = entries.filter((entry) => failedIds.has(entry.Id));
      }
      for (const entry of entries) failed.push(records[Number(entry.Id)]?.id ?? entry.Id ?? "?");
    };
    for (const [index, record] of records.entries()) {
      const sized = this.entryOf(record, String(index));
      if (sized === undefined) {
        failed.push(record.id);
        continue;
      }
      if (batch.length === SQS_BATCH_ENTRIES || batchBytes + sized.bytes > SQS_BATCH_PAYLOAD_BYTES) await flush();
      batch.push(sized);
      batchBytes += sized.bytes;
    }
    if (batch.length > 0) await flush();
    if (failed.length > 0) throw new DeadLetterError(`${failed.length} quarantined records could not be sent to ${this.queueUrl}`, failed);
  }

  /**
   * The message of a record, within `maxMessageBytes`: whole when it fits, else with its raw content
   * clipped to the longest prefix that fits once escaped. Undefined when even an empty raw content
   * does not fit (a reason or source of hundreds of KiB), which `send` reports as not stored.
   */
  private entryOf(record: QuarantinedRecord, id: string): SizedEntry | undefined {
    const attributes: Record<string, MessageAttributeValue> = { field: { DataType: "String", StringValue: record.field } };
    const entry = (body: string): SizedEntry => ({
      entry: { Id: id, MessageBody: body, MessageAttributes: attributes },
      bytes: sqsMessageBytes(body, attributes),
    });
    const whole = entry(JSON.stringify(record));
    if (whole.bytes <= this.maxMessageBytes) return whole;
    const originalBytes = Buffer.byteLength(record.raw, "utf8");
    // JSON escaping never makes a code point shorter, so cutting the excess from the raw bytes
    // removes at least as much from the message: each pass fits or cuts more, and few are needed.
    let keep = originalBytes - (whole.bytes - this.maxMessageBytes);
    for (;;) {
      const kept = clipUtf8(record.raw, keep);
      const body: SqsQuarantinedBody = { ...record, raw: kept.text, rawClipped: { keptBytes: kept.bytes, originalBytes } };
      const clipped = entry(JSON.stringify(body));
      if (clipped.bytes <= this.maxMessageBytes) return clipped;
      if (kept.bytes === 0) return undefined;
      keep = kept.bytes - (clipped.bytes - this.maxMessageBytes);
    }
  }

  async receive(max: number): Promise<DeadLetterMessage[]> {
    const result = await this.client.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: Math.min(10, max), WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    return (result.Messages ?? []).map((message) => {
      let body: unknown = message.Body;
      try {
        body = JSON.parse(message.Body ?? "");
      } catch {
        // Kept as text: the redrive reports it as unreadable rather than dropping it.
      }
      return { handle: message.ReceiptHandle ?? "", body };
    });
  }

  async delete(handles: readonly string[]): Promise<void> {
    for (let offset = 0; offset < handles.length; offset += SQS_BATCH_ENTRIES) {
      const entries = handles.slice(offset, offset + SQS_BATCH_ENTRIES).map((handle, index) => ({ Id: String(index), ReceiptHandle: handle }));
      const result = await this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if ((result.Failed ?? []).length > 0) throw new DeadLetterError(`${result.Failed?.length} dead-letter messages could not be deleted`, []);
    }
  }
}
