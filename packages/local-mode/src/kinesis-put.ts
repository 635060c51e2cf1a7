/**
 * Putting CloudWatch Logs subscription payloads on the local stream, as the subscription filter
 * does (random partition keys: `distribution: Random`), in PutRecords calls within the service
 * limits, retrying the entries a call did not accept.
 */
import { randomUUID } from "node:crypto";
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";

/** Where a payload landed. */
export interface PutReceipt {
  shardId: string;
  sequenceNumber: string;
}

/** PutRecords limits: 500 entries, 5 MiB per call (kept under). */
const MAX_ENTRIES = 500;
const MAX_BYTES = 4 * 1024 * 1024;

/** Puts payloads (record data) on `streamName`; returns where each one landed, in order. */
export async function putPayloadRecords(kinesis: KinesisClient, streamName: string, payloads: readonly Uint8Array[]): Promise<PutReceipt[]> {
  const receipts: PutReceipt[] = new Array(payloads.length);
  let start = 0;
  while (start < payloads.length) {
    let end = start;
    let bytes = 0;
    while (end < payloads.length && end - start < MAX_ENTRIES && (end === start || bytes + (payloads[end] as Uint8Array).length <= MAX_BYTES)) {
      bytes += (payloads[end] as Uint8Array).length + 36;
      end++;
    }
    let pending = Array.from({ length: end - start }, (_, offset) => start + offset);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const entries: PutRecordsRequestEntry[] = pending.map((index) => ({ Data: payloads[index], PartitionKey: randomUUID() }));
      const result = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
      const retry: number[] = [];
      (result.Records ?? []).forEach((entry, position) => {
        const index = pending[position] as number;
        if (entry.ErrorCode || !entry.SequenceNumber || !entry.ShardId) retry.push(index);
        else receipts[index] = { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
      });
      if (retry.length > 0 && attempt >= 10) throw new Error(`PutRecords: ${retry.length} records not accepted after ${attempt} attempts`);
      if (retry.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      pending = retry;
    }
    start = end;
  }
  return receipts;
}

/** Shard id -> highest sequence number among the receipts. */
export function highestPerShard(receipts: Iterable<PutReceipt>, into: Record<string, string> = {}): Record<string, string> {
  for (const receipt of receipts) {
    const current = into[receipt.shardId];
    if (current === undefined || BigInt(receipt.sequenceNumber) > BigInt(current)) into[receipt.shardId] = receipt.sequenceNumber;
  }
  return into;
}

/** Creates the stream unless it exists, and waits until it is ACTIVE. */
export async function ensureStream(kinesis: KinesisClient, streamName: string, shardCount = 2): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let status: string | undefined;
    try {
      status = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if ((error as Error).name !== "ResourceNotFoundException") throw error;
      try {
        await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
      } catch (createError) {
        if ((createError as Error).name !== "ResourceInUseException") throw createError;
      }
    }
    if (status === "ACTIVE" || status === "UPDATING") return;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} is not ACTIVE after 30 s (status ${status ?? "unknown"})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
