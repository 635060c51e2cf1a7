/**
 * The lake's raw failures as stored: records the Firehose transform could not turn into lake rows,
 * with their content as received (a gzipped CloudWatch Logs payload: prompts and responses). The
 * transform keeps them through a `RawFailureStore` (on AWS `S3RawFailureStore`: a bucket under a
 * customer-managed key that expires them; locally files under `<data-dir>/lake-errors/`), and a
 * redrive reads them back as `RawFailureBatches`, with Firehose's own error output in the lake
 * bucket (what the transform never answered) read the same way.
 *
 * Format: JSON Lines, one `RawLakeFailure` per line, one object (file) per transformation. This
 * module has no AWS SDK import, so that the transform's bundle carries none of S3's client.
 */
import { kinesisSource } from "@bedrock-spend/core";

/**
 * Why a raw failure was kept: a transform failure reason, `transform-error` (the transform threw
 * on the batch: a defect, every record kept), or `firehose:<errorCode>` (Firehose's own error
 * output: the transform never answered for it).
 */
export type RawFailureReason = "base64" | "invalid" | "unencodable" | "oversize" | "transform-error" | `firehose:${string}`;

/** A record the lake could not take, as kept for a redrive. */
export interface RawLakeFailure {
  /** The Firehose record id it had (unique within its batch only). */
  recordId: string;
  /** Base64 of the record as received: for a subscription, the gzipped payload. */
  data: string;
  reason: RawFailureReason;
  /** The fields that were wrong, or the error's name; never content. */
  fields: string[];
  /** When it was kept (ISO 8601, UTC). */
  failedAt: string;
  /** `kinesis:<shard>:<sequence>` when the record came from the stream. */
  source?: string;
}

/** Where raw failures are kept: one call per batch, all or nothing. */
export interface RawFailureStore {
  /** Keeps a batch's failures under `batchId` (unique per call); throws if they are not durably kept. */
  keep(batchId: string, failures: readonly RawLakeFailure[]): Promise<void>;
}

/** A batch of raw failures as stored: one JSON line each. */
export function rawFailureLines(failures: readonly RawLakeFailure[]): string {
  return failures.map((failure) => `${JSON.stringify(failure)}\n`).join("");
}

/**
 * The raw failures in one object of Firehose's error output (JSON lines with `rawData`, the
 * record as received, and `errorCode`): what Firehose wrote because the transform never answered.
 * A line that is not such a record is returned in `unreadable` (1-based line numbers), not thrown.
 */
export function firehoseErrorFailures(text: string, fallbackFailedAt: string): { failures: RawLakeFailure[]; unreadable: number[] } {
  const failures: RawLakeFailure[] = [];
  const unreadable: number[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      unreadable.push(index + 1);
      return;
    }
    if (typeof entry !== "object" || entry === null || typeof entry.rawData !== "string") {
      unreadable.push(index + 1);
      return;
    }
    const ended = typeof entry.attemptEndingTimestamp === "number" ? new Date(entry.attemptEndingTimestamp) : undefined;
    // A timestamp outside the Date range is no reason to lose the record: it gets the fallback time.
    const attemptEnded = ended && !Number.isNaN(ended.getTime()) ? ended.toISOString() : fallbackFailedAt;
    const source =
      typeof entry.shardId === "string" && typeof entry.sequenceNumber === "string" ? kinesisSource(entry.shardId, entry.sequenceNumber) : undefined;
    failures.push({
      recordId: typeof entry.recordId === "string" ? entry.recordId : `line-${index + 1}`,
      data: entry.rawData,
      reason: `firehose:${typeof entry.errorCode === "string" ? entry.errorCode : "unknown"}`,
      fields: [],
      failedAt: attemptEnded,
      ...(source ? { source } : {}),
    });
  });
  return { failures, unreadable };
}

/** Parses a stored batch of raw failures (JSON lines, as `rawFailureLines` writes them); throws naming the line on a bad one. */
export function parseRawFailures(text: string, where: string): RawLakeFailure[] {
  const failures: RawLakeFailure[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let entry: Partial<RawLakeFailure>;
    try {
      entry = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: line ${index + 1} is not JSON: ${(error as Error).message}`);
    }
    if (typeof entry?.data !== "string" || typeof entry.recordId !== "string" || typeof entry.reason !== "string")
      throw new Error(`${where}: line ${index + 1} is not a raw failure (recordId, data and reason are required)`);
    failures.push({ fields: [], failedAt: "", ...entry } as RawLakeFailure);
  });
  return failures;
}

/** Stored batches of raw failures, as a redrive reads them (the store's bucket, Firehose's error prefix, local files). */
export interface RawFailureBatches {
  /** Names the batches in the results and messages (a bucket and prefix, a directory). */
  readonly name: string;
  /** The batches there now. */
  list(): Promise<string[]>;
  /** A batch's failures; throws if it cannot be read. */
  read(batch: string): Promise<RawLakeFailure[]>;
  /** Forgets a batch once redriven. */
  remove(batch: string): Promise<void>;
}

/** Where a redrive sends raw failures: back through the transform into the lake. */
export interface LakeRedriveTarget {
  /** Sends the records; resolves once every one of them is accepted, throws otherwise. */
  send(failures: readonly RawLakeFailure[]): Promise<void>;
}

/** `YYYY/MM/DD/` of an ISO time: raw failure objects are filed by the UTC day they were kept. */
export function rawFailureDayPath(iso: string): string {
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

/** Where a transformation's raw failures are kept: `<prefix>YYYY/MM/DD/<batchId>.jsonl`. Throws on a batch id that is not a plain name. */
export function rawFailureKey(prefix: string, batchId: string, failedAt: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(batchId) || batchId.includes(".."))
    throw new RangeError(`a raw failure batch id is letters, digits, ".", "_" and "-", got "${batchId}"`);
  return `${prefix}${rawFailureDayPath(failedAt)}${batchId}.jsonl`;
}

/** Writes one object (`SignedS3Put` on the transform's hot path, the S3 client elsewhere). */
export interface ObjectWriter {
  put(bucket: string, key: string, body: string, contentType: string): Promise<void>;
}

/**
 * The raw failure store on AWS: one object per transformation, encrypted by the bucket's default
 * (SSE-KMS with the stage's key) and expired by its lifecycle.
 */
export class RawFailureObjectStore implements RawFailureStore {
  constructor(private readonly location: { writer: ObjectWriter; bucket: string; prefix: string }) {}

  async keep(batchId: string, failures: readonly RawLakeFailure[]): Promise<void> {
    if (failures.length === 0) return;
    const { writer, bucket, prefix } = this.location;
    await writer.put(bucket, rawFailureKey(prefix, batchId, (failures[0] as RawLakeFailure).failedAt), rawFailureLines(failures), "application/x-ndjson");
  }
}
