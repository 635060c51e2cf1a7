/**
 * A consumer of a Kinesis stream (kinesalite locally): reads every shard from a checkpoint, in
 * order, so that several consumers (the aggregate mapping, the Firehose) each read the whole stream.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";

/** A record read from the stream. */
export interface ConsumedRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  /** Epoch ms. */
  arrivedAt: number;
}

/** Reads new records of every shard, and remembers how far each shard was handled. */
export class KinesisConsumer {
  private readonly iterators = new Map<string, string | undefined>();
  private readonly handled: Record<string, string>;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    checkpoint: Readonly<Record<string, string>> = {},
  ) {
    this.handled = { ...checkpoint };
  }

  /** Up to `limit` new records per shard (shards in id order, records in sequence order). */
  async poll(limit = 1000): Promise<ConsumedRecord[]> {
    const shards = await this.client.send(new ListShardsCommand({ StreamName: this.streamName }));
    const records: ConsumedRecord[] = [];
    for (const shard of (shards.Shards ?? []).sort((a, b) => (a.ShardId ?? "").localeCompare(b.ShardId ?? ""))) {
      const shardId = shard.ShardId as string;
      let iterator = this.iterators.get(shardId);
      if (iterator === undefined) iterator = await this.iteratorFor(shardId);
      const page = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      this.iterators.set(shardId, page.NextShardIterator);
      for (const record of page.Records ?? []) {
        records.push({
          shardId,
          sequenceNumber: record.SequenceNumber as string,
          partitionKey: record.PartitionKey ?? "",
          data: record.Data ?? new Uint8Array(),
          arrivedAt: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
        });
      }
    }
    return records;
  }

  /** Marks a shard handled up to and including `sequenceNumber`. */
  commit(shardId: string, sequenceNumber: string): void {
    this.handled[shardId] = sequenceNumber;
  }

  /**
   * Re-reads a shard after `sequenceNumber` (exclusive) on the next poll: how a partial batch
   * response or a failed batch is retried from its checkpoint.
   */
  rewind(shardId: string, afterSequenceNumber: string | undefined): void {
    if (afterSequenceNumber === undefined) delete this.handled[shardId];
    else this.handled[shardId] = afterSequenceNumber;
    this.iterators.delete(shardId);
  }

  /** Shard id -> last handled sequence number (persist it to resume after a restart). */
  checkpoint(): Record<string, string> {
    return { ...this.handled };
  }

  private async iteratorFor(shardId: string): Promise<string | undefined> {
    const after = this.handled[shardId];
    const result = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.streamName,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: after } : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    return result.ShardIterator;
  }
}
