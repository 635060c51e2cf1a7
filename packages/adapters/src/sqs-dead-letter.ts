/**
 * SQS dead-letter queue: SendMessageBatch (10 messages per call), partial failures retried once,
 * then reported as a `DeadLetterError` naming the records, so that the caller keeps their stream
 * records for retry. Message bodies are the JSON of `QuarantinedRecord`.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { DeadLetterError, type DeadLetterMessage, type DrainableDeadLetterQueue, type QuarantinedRecord } from "./dead-letter";

/** SQS caps a message at 256 KiB; the decoder clips raw content at 64 KiB, far below it. */
const SQS_BATCH = 10;

export class SqsDeadLetterQueue implements DrainableDeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(records: readonly QuarantinedRecord[]): Promise<void> {
    const failed: string[] = [];
    for (let offset = 0; offset < records.length; offset += SQS_BATCH) {
      let entries: SendMessageBatchRequestEntry[] = records.slice(offset, offset + SQS_BATCH).map((record, index) => ({
        Id: String(offset + index),
        MessageBody: JSON.stringify(record),
        MessageAttributes: { field: { DataType: "String", StringValue: record.field } },
      }));
      for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
        const result = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        const failedIds = new Set((result.Failed ?? []).map((entry) => entry.Id));
        entries = entries.filter((entry) => failedIds.has(entry.Id));
      }
      for (const entry of entries) failed.push(records[Number(entry.Id)]?.id ?? entry.Id ?? "?");
    }
    if (failed.length > 0) throw new DeadLetterError(`${failed.length} quarantined records could not be sent to ${this.queueUrl}`, failed);
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
    for (let offset = 0; offset < handles.length; offset += SQS_BATCH) {
      const entries = handles.slice(offset, offset + SQS_BATCH).map((handle, index) => ({ Id: String(index), ReceiptHandle: handle }));
      const result = await this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if ((result.Failed ?? []).length > 0) throw new DeadLetterError(`${result.Failed?.length} dead-letter messages could not be deleted`, []);
    }
  }
}
