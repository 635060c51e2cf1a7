/**
 * Firehose, played in process: a second consumer of the stream that buffers records (by count,
 * bytes and time, like Firehose's processor buffering), calls the real transform handler with a
 * Firehose transformation event, and delivers what comes back: `Ok` documents to the lake writer
 * with their partition keys, `ProcessingFailed` records to the error sink with their original data.
 */
import { randomUUID } from "node:crypto";
import { decodeCanonicalBase64, decodeLakeDocuments, encodeBase64, kinesisSource, type UsageRecord } from "@bedrock-spend/core";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import type { ConsumedRecord, KinesisConsumer } from "./kinesis-consumer";

/** A record Firehose could not process: kept with its original data, like the S3 error prefix. */
export interface FirehoseFailure {
  recordId: string;
  /** base64 of the record as received. */
  data: string;
  source: string;
  failedAt: string;
}

/** Options of the local Firehose. */
export interface LocalFirehoseOptions {
  deliveryStreamArn: string;
  sourceStreamArn: string;
  region?: string;
  /** Flush when this many records are buffered. Default 500. */
  bufferRecords?: number;
  /** Flush when this many bytes are buffered. Default 1 MiB (the processor's default hint). */
  bufferBytes?: number;
  /** Flush when the oldest buffered record is this old. Default 1 s locally (60 s is Firehose's default). */
  bufferIntervalMs?: number;
  /** Where `Ok` documents go, with the partition columns filled from the partition keys. */
  deliver: (records: UsageRecord[]) => Promise<void>;
  /** Where `ProcessingFailed` records go. */
  fail: (failures: FirehoseFailure[]) => Promise<void>;
  now?: () => number;
}

/** Counts of the local Firehose so far. */
export interface FirehoseStats {
  recordsIn: number;
  flushes: number;
  rows: number;
  dropped: number;
  failed: number;
}

type TransformHandler = (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>;

export class LocalFirehose {
  readonly stats: FirehoseStats = { recordsIn: 0, flushes: 0, rows: 0, dropped: 0, failed: 0 };
  private buffer: ConsumedRecord[] = [];
  private bufferedBytes = 0;
  private oldest = 0;
  private readonly options: Required<Omit<LocalFirehoseOptions, "now">> & { now: () => number };

  constructor(
    private readonly consumer: KinesisConsumer,
    private readonly transform: TransformHandler,
    options: LocalFirehoseOptions,
  ) {
    this.options = { region: "us-east-1", bufferRecords: 500, bufferBytes: 1024 * 1024, bufferIntervalMs: 1000, now: Date.now, ...options };
  }

  /** Reads new records into the buffer and flushes when a buffering hint is reached (or `force`). */
  async runOnce(force = false): Promise<void> {
    const records = await this.consumer.poll();
    for (const record of records) {
      if (this.buffer.length === 0) this.oldest = this.options.now();
      this.buffer.push(record);
      this.bufferedBytes += record.data.length;
      this.stats.recordsIn++;
      if (this.buffer.length >= this.options.bufferRecords || this.bufferedBytes >= this.options.bufferBytes) await this.flush();
    }
    if (this.buffer.length > 0 && (force || this.options.now() - this.oldest >= this.options.bufferIntervalMs)) await this.flush();
  }

  /** Transforms and delivers everything buffered. */
  async flush(): Promise<void> {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    this.bufferedBytes = 0;
    await this.transformAndDeliver(
      batch.map((record, index) => ({
        recordId: `${String(index).padStart(6, "0")}-${record.sequenceNumber}`,
        approximateArrivalTimestamp: record.arrivedAt,
        data: encodeBase64(record.data),
        kinesisRecordMetadata: {
          shardId: record.shardId,
          partitionKey: record.partitionKey,
          approximateArrivalTimestamp: record.arrivedAt,
          sequenceNumber: record.sequenceNumber,
          subsequenceNumber: "0",
        },
      })),
    );
    this.stats.flushes++;
    // Records are in sequence order within a shard: the last one of each shard is its checkpoint.
    for (const record of batch) this.consumer.commit(record.shardId, record.sequenceNumber);
  }

  /**
   * Sends records (base64 data, as kept in the lake's raw failures) through the transform and the
   * delivery, as the redrive delivery stream (Direct PUT) does on AWS: no stream, no checkpoint.
   */
  async redrive(records: readonly { data: string }[]): Promise<void> {
    const now = this.options.now();
    await this.transformAndDeliver(
      records.map((record, index) => ({ recordId: `redrive-${String(index).padStart(6, "0")}`, approximateArrivalTimestamp: now, data: record.data })),
    );
  }

  private async transformAndDeliver(records: FirehoseTransformationEvent["records"]): Promise<void> {
    const event: FirehoseTransformationEvent = {
      invocationId: randomUUID(),
      deliveryStreamArn: this.options.deliveryStreamArn,
      ...(records[0]?.kinesisRecordMetadata ? { sourceKinesisStreamArn: this.options.sourceStreamArn } : {}),
      region: this.options.region,
      records: [...records],
    };
    const byId = new Map(records.map((record) => [record.recordId, record]));
    const result = await this.transform(event);
    const rows: UsageRecord[] = [];
    const failures: FirehoseFailure[] = [];
    const now = new Date(this.options.now()).toISOString();
    const failed = (record: FirehoseTransformationEvent["records"][number]): FirehoseFailure => ({
      recordId: record.recordId,
      data: record.data,
      source: record.kinesisRecordMetadata ? kinesisSource(record.kinesisRecordMetadata.shardId, record.kinesisRecordMetadata.sequenceNumber) : "redrive",
      failedAt: now,
    });
    for (const output of result.records) {
      const source = byId.get(output.recordId);
      if (!source) throw new Error(`transform returned an unknown recordId ${output.recordId}`);
      byId.delete(output.recordId);
      if (output.result === "Ok") {
        // As the OpenX SerDe reads them on AWS; the partition columns come from the S3 path.
        const data = decodeCanonicalBase64(output.data ?? "");
        if (data === undefined) throw new Error(`transform returned data that is not base64 for ${output.recordId}`);
        rows.push(...decodeLakeDocuments(data, output.metadata?.partitionKeys ?? {}));
      } else if (output.result === "Dropped") {
        this.stats.dropped++;
      } else {
        failures.push(failed(source));
      }
    }
    // Firehose counts a recordId the transform did not return as failed.
    for (const record of byId.values()) failures.push(failed(record));
    if (rows.length > 0) await this.options.deliver(rows);
    if (failures.length > 0) await this.options.fail(failures);
    this.stats.rows += rows.length;
    this.stats.failed += failures.length;
  }
}
