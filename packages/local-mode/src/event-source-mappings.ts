/**
 * The Lambda event source mappings, played in process: they read the local stream, build the
 * event Lambda would deliver, call the real handler, and honour what Lambda honours — partial
 * batch responses (retry from the lowest failed sequence number), bisection of a failing batch,
 * finite retries, and the on-failure destination.
 */

import { BedrockSpendError } from "@bedrock-spend/core";
import type { DynamoDbStreamReader } from "@bedrock-spend/emulators";
import { toDynamoDbStreamEvent } from "@bedrock-spend/emulators";
import type { KinesisBatchInfo } from "@bedrock-spend/pipeline";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import type { ConsumedRecord, KinesisConsumer } from "./kinesis-consumer";

/** Counts of one round of a mapping. */
export interface MappingRound {
  records: number;
  invocations: number;
  /** Batches given up and sent to the on-failure destination. */
  failedBatches: number;
}

/** Options of the Kinesis mapping (the production values of the Processing stack by default). */
export interface KinesisMappingOptions {
  streamArn: string;
  region?: string;
  batchSize?: number;
  maxRetryAttempts?: number;
  bisectBatchOnFunctionError?: boolean;
  /** The on-failure destination: receives the batch's shard and sequence range, as SQS does. */
  onFailure?: (info: KinesisBatchInfo & { condition: string }) => Promise<void>;
  /** Called when a handler invocation throws (for logs). */
  onError?: (error: unknown) => void;
  /** Asked before each batch whether to deliver it twice (chaos: duplicate deliveries). */
  duplicate?: () => boolean;
  /**
   * Asked before each delivery: when true, the round ends at once with `MappingStoppedError`, its
   * shards not committed (their records are read again by the next consumer of the checkpoint),
   * rather than retrying a batch against services that are going away.
   */
  stopping?: () => boolean;
}

/** A round ended early because the mapping is stopping; what it had not committed is read again later. */
export class MappingStoppedError extends BedrockSpendError {
  constructor() {
    super("the event source mapping is stopping");
    this.name = "MappingStoppedError";
  }
}

type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

function kinesisRecord(record: ConsumedRecord, streamArn: string, region: string): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data).toString("base64"),
      // Lambda gives epoch seconds with a fraction here.
      approximateArrivalTimestamp: record.arrivedAt / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${record.shardId}:${record.sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::000000000000:role/bedrock-spend-local",
    awsRegion: region,
    eventSourceARN: streamArn,
  };
}

/** The lowest failed item, or `"all"` when the response fails the whole batch (as Lambda reads it). */
function lowestFailure(response: KinesisStreamBatchResponse | DynamoDBBatchResponse | undefined, sequences: readonly string[]): number | "all" | undefined {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return undefined;
  let lowest: number | undefined;
  for (const failure of failures) {
    const index = typeof failure.itemIdentifier === "string" ? sequences.indexOf(failure.itemIdentifier) : -1;
    if (index < 0) return "all";
    if (lowest === undefined || index < lowest) lowest = index;
  }
  return lowest;
}

/** The Kinesis -> Lambda mapping. */
export class KinesisEventSourceMapping {
  private readonly options: Required<Omit<KinesisMappingOptions, "onFailure" | "onError" | "duplicate" | "stopping">> &
    Pick<KinesisMappingOptions, "onFailure" | "onError" | "duplicate" | "stopping">;

  constructor(
    private readonly consumer: KinesisConsumer,
    private readonly handler: KinesisHandler,
    options: KinesisMappingOptions,
  ) {
    this.options = { region: "us-east-1", batchSize: 100, maxRetryAttempts: 5, bisectBatchOnFunctionError: true, ...options };
  }

  /**
   * Reads what is new and delivers it; returns when every record is handled or given up. Shards
   * are delivered concurrently, as Lambda runs one poller and invocation per shard at least; the
   * batches of one shard go in order, one at a time.
   */
  async runOnce(): Promise<MappingRound> {
    const records = await this.consumer.poll();
    const round: MappingRound = { records: records.length, invocations: 0, failedBatches: 0 };
    const byShard = new Map<string, ConsumedRecord[]>();
    for (const record of records) {
      const list = byShard.get(record.shardId);
      if (list) list.push(record);
      else byShard.set(record.shardId, [record]);
    }
    const shards = await Promise.allSettled(
      [...byShard].map(async ([shardId, shardRecords]) => {
        for (let offset = 0; offset < shardRecords.length; offset += this.options.batchSize) {
          const batch = shardRecords.slice(offset, offset + this.options.batchSize);
          await this.deliver(batch, round, 0);
          if (this.options.duplicate?.()) await this.deliver(batch, round, 0);
        }
        const last = shardRecords.at(-1);
        if (last) this.consumer.commit(shardId, last.sequenceNumber);
      }),
    );
    // Every shard settles before the round ends (a stopping mapping leaves the others committed or not, never half-run).
    const failed = shards.find((shard) => shard.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return round;
  }

  private async deliver(batch: ConsumedRecord[], round: MappingRound, retries: number): Promise<void> {
    if (batch.length === 0) return;
    if (this.options.stopping?.()) throw new MappingStoppedError();
    const event: KinesisStreamEvent = { Records: batch.map((record) => kinesisRecord(record, this.options.streamArn, this.options.region)) };
    round.invocations++;
    let failedFrom: number | "all" | undefined;
    let threw = false;
    try {
      failedFrom = lowestFailure(
        (await this.handler(event)) ?? undefined,
        batch.map((record) => record.sequenceNumber),
      );
    } catch (error) {
      threw = true;
      failedFrom = "all";
      this.options.onError?.(error);
    }
    if (failedFrom === undefined) return;
    const from = failedFrom === "all" ? 0 : failedFrom;
    const remainder = batch.slice(from);
    if (threw && this.options.bisectBatchOnFunctionError && remainder.length > 1) {
      // Bisection does not count as a retry.
      const half = Math.ceil(remainder.length / 2);
      await this.deliver(remainder.slice(0, half), round, retries);
      await this.deliver(remainder.slice(half), round, retries);
      return;
    }
    if (retries < this.options.maxRetryAttempts) {
      await this.deliver(remainder, round, retries + 1);
      return;
    }
    round.failedBatches++;
    const first = remainder[0] as ConsumedRecord;
    await this.options.onFailure?.({
      condition: "RetryAttemptsExhausted",
      shardId: first.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: (remainder.at(-1) as ConsumedRecord).sequenceNumber,
      streamArn: this.options.streamArn,
    });
  }
}

/** Options of the DynamoDB stream mapping. */
export interface DynamoDbMappingOptions {
  batchSize?: number;
  maxRetryAttempts?: number;
  onError?: (error: unknown) => void;
  /** Records given up after the retries (Lambda would send them to the on-failure destination). */
  onFailure?: (sequenceNumbers: string[]) => Promise<void>;
}

type DynamoDbHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;

/** The DynamoDB stream -> Lambda mapping (budget alerts). */
export class DynamoDbStreamEventSourceMapping {
  private readonly attempts = new Map<string, number>();
  private readonly options: Required<Omit<DynamoDbMappingOptions, "onError" | "onFailure">> & Pick<DynamoDbMappingOptions, "onError" | "onFailure">;

  constructor(
    private readonly reader: DynamoDbStreamReader,
    private readonly handler: DynamoDbHandler,
    options: DynamoDbMappingOptions = {},
  ) {
    this.options = { batchSize: 100, maxRetryAttempts: 5, ...options };
  }

  /** Delivers the records that are new since the last round; a failure is retried on the next round. */
  async runOnce(): Promise<MappingRound> {
    const records = await this.reader.poll();
    const round: MappingRound = { records: records.length, invocations: 0, failedBatches: 0 };
    for (let offset = 0; offset < records.length; offset += this.options.batchSize) {
      const batch = records.slice(offset, offset + this.options.batchSize);
      const sequences = batch.map((record) => record.dynamodb?.SequenceNumber ?? "");
      round.invocations++;
      let failedFrom: number | "all" | undefined;
      try {
        failedFrom = lowestFailure((await this.handler(toDynamoDbStreamEvent(batch))) ?? undefined, sequences);
      } catch (error) {
        failedFrom = "all";
        this.options.onError?.(error);
      }
      if (failedFrom === undefined) continue;
      const from = failedFrom === "all" ? 0 : failedFrom;
      const sequence = sequences[from] as string;
      const attempts = (this.attempts.get(sequence) ?? 0) + 1;
      if (attempts > this.options.maxRetryAttempts) {
        this.attempts.delete(sequence);
        round.failedBatches++;
        await this.options.onFailure?.(sequences.slice(from));
        continue;
      }
      this.attempts.set(sequence, attempts);
      this.reader.retryFrom(sequence);
      break;
    }
    return round;
  }
}
