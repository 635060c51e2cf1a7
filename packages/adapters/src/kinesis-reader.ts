/**
 * Re-reads a range of a Kinesis shard: what a redrive of a Lambda on-failure record needs, since
 * SQS on-failure destinations carry only the batch's shard and sequence range, not its records.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from "@aws-sdk/client-kinesis";

/** A Kinesis record as read back. */
export interface ReadRecord {
  sequenceNumber: string;
  data: Uint8Array;
  arrivedAt: number | undefined;
}

/**
 * Reads the records of `shardId` from `startSequenceNumber` to `endSequenceNumber` (inclusive).
 * Throws if the range has expired from the stream (retention), so that the caller keeps the message.
 */
export async function readShardRange(
  client: KinesisClient,
  stream: { streamName?: string; streamArn?: string },
  shardId: string,
  startSequenceNumber: string,
  endSequenceNumber: string,
): Promise<ReadRecord[]> {
  const end = BigInt(endSequenceNumber);
  const iterator = await client.send(
    new GetShardIteratorCommand({
      ...(stream.streamArn ? { StreamARN: stream.streamArn } : { StreamName: stream.streamName }),
      ShardId: shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      StartingSequenceNumber: startSequenceNumber,
    }),
  );
  let next = iterator.ShardIterator;
  const records: ReadRecord[] = [];
  for (let page = 0; next && page < 10_000; page++) {
    const result = await client.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
    for (const record of result.Records ?? []) {
      const sequence = record.SequenceNumber ?? "0";
      if (BigInt(sequence) > end) return records;
      records.push({ sequenceNumber: sequence, data: record.Data ?? new Uint8Array(), arrivedAt: record.ApproximateArrivalTimestamp?.getTime() });
    }
    if ((result.Records ?? []).length === 0 && (result.MillisBehindLatest ?? 0) === 0) break;
    next = result.NextShardIterator;
  }
  if (records.length === 0) throw new Error(`no records found in ${shardId} from ${startSequenceNumber}: expired from the stream?`);
  return records;
}
