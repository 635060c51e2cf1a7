/**
 * In-memory dead-letter queue, deduplicated by content id: for tests and in-process runs.
 */
import type { DeadLetterMessage, DrainableDeadLetterQueue, QuarantinedRecord } from "./dead-letter";

export class MemoryDeadLetterQueue implements DrainableDeadLetterQueue {
  /** Messages not yet deleted, by handle. */
  readonly messages = new Map<string, unknown>();
  /** Received and neither deleted nor released: not handed out again (like SQS visibility). */
  private readonly inFlight = new Set<string>();
  private next = 0;

  async send(records: readonly QuarantinedRecord[]): Promise<void> {
    for (const record of records) this.messages.set(record.id, record);
  }

  /** Adds a message of another shape (e.g. a Lambda on-failure record). */
  async sendRaw(body: unknown): Promise<void> {
    this.messages.set(`raw-${this.next++}`, body);
  }

  async receive(max: number): Promise<DeadLetterMessage[]> {
    const batch = [...this.messages.entries()].filter(([handle]) => !this.inFlight.has(handle)).slice(0, max);
    for (const [handle] of batch) this.inFlight.add(handle);
    return batch.map(([handle, body]) => ({ handle, body }));
  }

  async delete(handles: readonly string[]): Promise<void> {
    for (const handle of handles) {
      this.messages.delete(handle);
      this.inFlight.delete(handle);
    }
  }

  /** Makes received messages available again (their visibility timeout ended). */
  release(): void {
    this.inFlight.clear();
  }
}
