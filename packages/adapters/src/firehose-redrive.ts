/**
 * The lake redrive's way back into the lake on AWS: a Direct PUT delivery stream with the same
 * transform, destination and Parquet conversion as the stream-fed one (a Kinesis-sourced delivery
 * stream takes no PutRecord). Its records go through the transform only, never through the
 * aggregate path, which counted (or quarantined) them when they first came through the stream.
 */
import { type FirehoseClient, PutRecordBatchCommand, type PutRecordBatchResponseEntry } from "@aws-sdk/client-firehose";
import type { LakeRedriveTarget, RawLakeFailure } from "./raw-failures";

/** PutRecordBatch's limits: records and bytes of a call, bytes of a record (1,000 KiB). */
export const FIREHOSE_BATCH_RECORDS = 500;
export const FIREHOSE_BATCH_BYTES = 4 * 1024 * 1024;
export const FIREHOSE_RECORD_BYTES = 1000 * 1024;

/** Options of `FirehoseRedriveTarget`. */
export interface FirehoseRedriveOptions {
  firehose: FirehoseClient;
  deliveryStreamName: string;
  /** Calls for the records a partial failure left, at most (default 8). */
  maxAttempts?: number;
  /** Waits between attempts (full jitter on 100 ms doubling); injected by tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Sends raw failures to the redrive delivery stream, retrying what a partial failure left. */
export class FirehoseRedriveTarget implements LakeRedriveTarget {
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: FirehoseRedriveOptions) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async send(failures: readonly RawLakeFailure[]): Promise<void> {
    const records = failures.map((failure) => {
      const data = Buffer.from(failure.data, "base64");
      if (data.length > FIREHOSE_RECORD_BYTES)
        throw new RangeError(
          `record ${failure.recordId} is ${data.length} bytes, over Firehose's ${FIREHOSE_RECORD_BYTES}-byte record limit: it cannot be redriven through the delivery stream`,
        );
      return data;
    });
    let batch: Buffer[] = [];
    let bytes = 0;
    for (const record of records) {
      if (batch.length === FIREHOSE_BATCH_RECORDS || bytes + record.length > FIREHOSE_BATCH_BYTES) {
        await this.put(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(record);
      bytes += record.length;
    }
    if (batch.length > 0) await this.put(batch);
  }

  /** One batch, until every record is accepted; only the failed entries are sent again. */
  private async put(records: Buffer[]): Promise<void> {
    let pending = records;
    for (let attempt = 1; ; attempt++) {
      const response = await this.options.firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: this.options.deliveryStreamName, Records: pending.map((Data) => ({ Data })) }),
      );
      if (!response.FailedPutCount) return;
      const entries: PutRecordBatchResponseEntry[] = response.RequestResponses ?? [];
      const failed = pending.filter((_, index) => entries[index]?.ErrorCode !== undefined);
      const codes = [...new Set(entries.map((entry) => entry.ErrorCode).filter(Boolean))].join(", ");
      // FailedPutCount without the failed entries (never seen; the API answers one entry per record): nothing to resend.
      if (failed.length === 0)
        throw new Error(
          `${this.options.deliveryStreamName} reported ${response.FailedPutCount} failed records without saying which (${entries.length} entries for ${pending.length} records)`,
        );
      if (attempt >= this.maxAttempts)
        throw new Error(`${failed.length} of ${pending.length} records not accepted by ${this.options.deliveryStreamName} after ${attempt} calls (${codes})`);
      pending = failed;
      await this.sleep(this.random() * 100 * 2 ** (attempt - 1));
    }
  }
}
