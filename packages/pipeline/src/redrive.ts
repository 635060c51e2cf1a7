/**
 * Redrive: replays what the dead-letter queue holds through the same aggregate path, so that
 * exactly once still holds (replayed invocations already counted are duplicates, not recounts).
 *
 * Two kinds of messages: quarantined records (raw content + reason), re-decoded and re-priced
 * (a record that is still invalid stays in the queue); and Lambda on-failure records of the
 * Kinesis event source mapping, which name a shard and a sequence range only: those records are
 * re-read from the stream, while it still holds them, and processed as a batch.
 */
import type { DrainableDeadLetterQueue, QuarantinedRecord } from "@bedrock-spend/adapters";
import { currentPricer, decodeInput, formatSource, preparedPriceItems } from "@bedrock-spend/core";
import type { InvocationToCount } from "@bedrock-spend/store";
import { type AggregateDependencies, processBatch, type StreamRecord } from "./aggregate-batch";

/** The part of a Lambda on-failure record that locates the failed Kinesis batch. */
export interface KinesisBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  streamArn?: string;
}

/** Dependencies of a redrive. */
export interface RedriveDependencies extends AggregateDependencies {
  queue: DrainableDeadLetterQueue;
  /** Reads a failed batch's records back from the stream. */
  readBatch?: (info: KinesisBatchInfo) => Promise<StreamRecord[]>;
}

/** What a redrive did. */
export interface RedriveResult {
  messages: number;
  /** Invocations counted by the redrive. */
  counted: number;
  /** Invocations found already counted. */
  duplicates: number;
  /** Messages removed from the queue because they are now fully handled. */
  resolved: number;
  /** Messages left in the queue, with why: the field and position of a still invalid record, never its content. */
  kept: { handle: string; reason: string }[];
}

function isQuarantined(body: unknown): body is QuarantinedRecord {
  return typeof body === "object" && body !== null && typeof (body as QuarantinedRecord).raw === "string" && typeof (body as QuarantinedRecord).id === "string";
}

function batchInfoOf(body: unknown): KinesisBatchInfo | undefined {
  const info = (body as { KinesisBatchInfo?: KinesisBatchInfo } | undefined)?.KinesisBatchInfo;
  return info && typeof info.shardId === "string" && typeof info.startSequenceNumber === "string" && typeof info.endSequenceNumber === "string"
    ? info
    : undefined;
}

/** Drains the queue once: every message is handled or kept with a reason. */
export async function redrive(deps: RedriveDependencies): Promise<RedriveResult> {
  const result: RedriveResult = { messages: 0, counted: 0, duplicates: 0, resolved: 0, kept: [] };
  for (;;) {
    const messages = await deps.queue.receive(10);
    if (messages.length === 0) break;
    const resolved: string[] = [];
    for (const message of messages) {
      result.messages++;
      const keep = (reason: string) => result.kept.push({ handle: message.handle, reason });
      const info = batchInfoOf(message.body);
      if (info) {
        if (!deps.readBatch) {
          keep("on-failure record of a Kinesis batch, but no stream reader is configured");
          continue;
        }
        let records: StreamRecord[];
        try {
          records = await deps.readBatch(info);
        } catch (error) {
          keep(`cannot re-read ${info.shardId} ${info.startSequenceNumber}..${info.endSequenceNumber}: ${(error as Error).message}`);
          continue;
        }
        const batch = await processBatch(records, deps);
        result.counted += batch.stats.counted;
        result.duplicates += batch.stats.duplicates;
        if (batch.retryFrom === undefined) resolved.push(message.handle);
        else keep(`replayed batch failed again from ${batch.retryFrom}`);
        continue;
      }
      if (!isQuarantined(message.body)) {
        keep("unrecognized dead-letter message (neither a quarantined record nor a Kinesis on-failure record)");
        continue;
      }
      const priced = await preparedPriceItems(decodeInput(message.body.raw, { file: message.body.source }), await currentPricer(deps.pricer));
      const [stillInvalid] = priced.invalid;
      if (stillInvalid) {
        // Field and position only: the reason may quote the record (a non-JSON line, V8's JSON.parse
        // context), and this result is logged; the queue's message keeps the content and full reason.
        keep(`still invalid: ${stillInvalid.field} at ${formatSource(stillInvalid.source)}`);
        continue;
      }
      const toCount: InvocationToCount<string>[] = priced.usage.map(({ usage }) => ({
        record: usage.record,
        costPico: usage.costPico,
        origin: message.handle,
      }));
      const outcome = await deps.writer.write(toCount);
      result.counted += outcome.counted.length;
      result.duplicates += outcome.duplicates.length;
      if (outcome.failed.length > 0) keep(`write failed: ${outcome.failed[0]?.error.message}`);
      else resolved.push(message.handle);
    }
    if (resolved.length > 0) await deps.queue.delete(resolved);
    result.resolved += resolved.length;
  }
  return result;
}
