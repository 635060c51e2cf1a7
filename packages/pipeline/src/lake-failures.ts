/**
 * The lake's raw failures: records the Firehose transform could not turn into lake rows, kept with
 * their content as received (a gzipped CloudWatch Logs payload: whole prompts and responses) in a
 * store of their own, and redriven from it through the transform.
 *
 * Why a store of our own: Firehose writes a record returned `ProcessingFailed` under the lake
 * bucket's error prefix, with the bucket's encryption and retention, and cannot send it anywhere
 * else. Kept here first and answered `Dropped`, the record never reaches the lake bucket: the store
 * (on AWS a bucket under a customer-managed key with a short expiry) is the only place its body
 * lives. Firehose still writes under its error prefix what the transform never answered (a timeout,
 * a crash); the redrive reads those too (`firehoseErrorFailures`).
 *
 * Pure orchestration over a `RawFailureStore`; no AWS SDK.
 */
import type { LakeRedriveTarget, RawFailureBatches, RawFailureStore, RawLakeFailure } from "@bedrock-spend/adapters";
import { kinesisSource, type Pricer } from "@bedrock-spend/core";
import {
  emptyTransformStats,
  type FirehoseInputRecord,
  type FirehoseOutputRecord,
  type TransformOptions,
  type TransformStats,
  transformFirehoseBatch,
} from "./transform-batch";

/** A Firehose transformation input record with the Kinesis metadata Firehose adds for a stream source. */
export interface FirehoseSourceRecord extends FirehoseInputRecord {
  kinesisRecordMetadata?: { shardId?: string; sequenceNumber?: string };
}

/** What `transformKeepingFailures` did with the failures. */
export interface KeptFailures {
  /** Records kept in the store and answered `Dropped`. */
  kept: number;
  /** Records answered `ProcessingFailed` because the store failed: Firehose writes them under its error prefix. */
  unkept: number;
  /** The store's error, when it failed. */
  storeError?: Error;
  /** The transform's error, when it threw on the batch (every record was then a failure). */
  transformError?: Error;
}

/** Options of `transformKeepingFailures`. */
export interface KeepingOptions extends TransformOptions {
  /** Unique per transformation (Firehose's `invocationId`): the batch id in the store. */
  batchId: string;
  /** When the failures are kept. */
  now: () => Date;
}

function sourceOf(record: FirehoseSourceRecord): string | undefined {
  const metadata = record.kinesisRecordMetadata;
  return metadata?.shardId && metadata.sequenceNumber ? kinesisSource(metadata.shardId, metadata.sequenceNumber) : undefined;
}

/**
 * The transform of a batch (`transformFirehoseBatch`), with its `ProcessingFailed` records kept
 * in `store` and answered `Dropped`, so that Firehose writes no raw content to the lake bucket.
 *
 * - A transform that throws on the batch (a defect: it never throws on bad input) has every
 *   record kept, reason `transform-error`, so one bad deploy loses nothing and leaks nothing.
 * - A store that fails leaves the failures `ProcessingFailed` (Firehose then writes them under its
 *   error prefix, which the redrive also reads) rather than failing the batch: the `Ok` records
 *   still reach the lake, and Firehose's retries would not make the store work.
 */
export async function transformKeepingFailures(
  records: readonly FirehoseSourceRecord[],
  pricer: Pricer,
  store: RawFailureStore,
  options: KeepingOptions,
): Promise<{ records: FirehoseOutputRecord[]; stats: TransformStats; failures: KeptFailures }> {
  const { batchId, now, ...transformOptions } = options;
  let outputs: FirehoseOutputRecord[];
  let stats: TransformStats;
  let transformError: Error | undefined;
  try {
    ({ records: outputs, stats } = await transformFirehoseBatch(records, pricer, transformOptions));
  } catch (error) {
    transformError = error instanceof Error ? error : new Error(String(error));
    outputs = records.map((record) => ({ recordId: record.recordId, result: "ProcessingFailed", data: record.data }));
    // Every record failed and none was processed; the reason of each (transform-error) is the store's.
    stats = { ...emptyTransformStats(records.length), processingFailed: records.length };
  }
  const failed = outputs.filter((output) => output.result === "ProcessingFailed");
  if (failed.length === 0) return { records: outputs, stats, failures: { kept: 0, unkept: 0 } };

  const reasons = new Map(stats.failures.map((failure) => [failure.recordId, failure]));
  const inputs = new Map(records.map((record) => [record.recordId, record]));
  const failedAt = now().toISOString();
  const kept: RawLakeFailure[] = failed.map((output) => {
    const input = inputs.get(output.recordId) as FirehoseSourceRecord;
    const failure = reasons.get(output.recordId);
    const source = sourceOf(input);
    return {
      recordId: output.recordId,
      data: input.data,
      reason: transformError ? "transform-error" : (failure?.reason ?? "invalid"),
      fields: transformError ? [transformError.name] : (failure?.fields ?? []),
      failedAt,
      ...(source ? { source } : {}),
    };
  });
  try {
    await store.keep(batchId, kept);
  } catch (error) {
    return { records: outputs, stats, failures: { kept: 0, unkept: failed.length, storeError: error as Error, ...(transformError ? { transformError } : {}) } };
  }
  const dropped = new Set(failed.map((output) => output.recordId));
  return {
    records: outputs.map((output) => (dropped.has(output.recordId) ? { recordId: output.recordId, result: "Dropped", data: "" } : output)),
    stats,
    failures: { kept: failed.length, unkept: 0, ...(transformError ? { transformError } : {}) },
  };
}

/** What a lake redrive did. */
export interface LakeRedriveResult {
  /** Batches read, from every source. */
  batches: number;
  /** Records sent back through the transform. */
  redriven: number;
  /** Batches left where they were, with why (they are tried again by the next redrive). */
  kept: { source: string; batch: string; reason: string }[];
  /** Records by the reason they had failed for. */
  reasons: Record<string, number>;
}

/**
 * Sends every stored batch of raw failures back through the transform, and forgets each batch
 * once the target has accepted all of its records. A batch that cannot be read or sent stays, with
 * its reason in `kept`; the others go on. A record that fails again is kept again by the transform
 * (as a new batch): a redrive never loses one. It can repeat one: a batch kept after the target
 * accepted part of it (a partial failure, or a later call of a large batch) or whose removal failed
 * is sent whole by the next redrive. The lake on AWS is at least once anyway (exact queries read
 * each request_id once); the local lake drops a request id it holds.
 */
export async function redriveLakeFailures(sources: readonly RawFailureBatches[], target: LakeRedriveTarget): Promise<LakeRedriveResult> {
  const result: LakeRedriveResult = { batches: 0, redriven: 0, kept: [], reasons: {} };
  for (const source of sources) {
    for (const batch of await source.list()) {
      result.batches++;
      let failures: RawLakeFailure[];
      try {
        failures = await source.read(batch);
        if (failures.length > 0) await target.send(failures);
        await source.remove(batch);
      } catch (error) {
        result.kept.push({ source: source.name, batch, reason: (error as Error).message });
        continue;
      }
      result.redriven += failures.length;
      for (const failure of failures) result.reasons[failure.reason] = (result.reasons[failure.reason] ?? 0) + 1;
    }
  }
  return result;
}
