/**
 * The lake's raw failures as stored: records the Firehose transform could not turn into lake rows,
 * with their content as received (a gzipped CloudWatch Logs payload: prompts and responses). The
 * transform keeps them through a `RawFailureStore` (on AWS `S3RawFailureStore`: a bucket under a
 * customer-managed key that expires them; locally files under `<data-dir>/lake-errors/`), and a
 * redrive reads them back as `RawFailureBatches`, with Firehose's own error output in the lake
 * bucket (what the transform never answered) read the same way.
 *
 * Format: JSON Lines, one `RawLakeFailure` per line, one object (file) per transformation.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
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
    const attemptEnded = typeof entry.attemptEndingTimestamp === "number" ? new Date(entry.attemptEndingTimestamp).toISOString() : fallbackFailedAt;
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

/** Where a bucket's raw failures are: the bucket and a key prefix (`""` or ending in `/`). */
export interface S3Location {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

/** `YYYY/MM/DD/` of an ISO time: raw failure objects are filed by the UTC day they were kept. */
function dayPath(iso: string): string {
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

/**
 * The raw failure store on AWS: one object per transformation, `<prefix>YYYY/MM/DD/<batchId>.jsonl`,
 * encrypted by the bucket's default (SSE-KMS with the stage's key) and expired by its lifecycle.
 */
export class S3RawFailureStore implements RawFailureStore {
  constructor(private readonly location: S3Location) {}

  async keep(batchId: string, failures: readonly RawLakeFailure[]): Promise<void> {
    if (failures.length === 0) return;
    if (!/^[A-Za-z0-9._-]+$/.test(batchId)) throw new RangeError(`a raw failure batch id is letters, digits, ".", "_" and "-", got "${batchId}"`);
    const { s3, bucket, prefix } = this.location;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}${dayPath((failures[0] as RawLakeFailure).failedAt)}${batchId}.jsonl`,
        Body: rawFailureLines(failures),
        ContentType: "application/x-ndjson",
      }),
    );
  }
}

/** Every key under a prefix (all pages), oldest day first. */
async function keysUnder({ s3, bucket, prefix }: S3Location): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) if (object.Key && !object.Key.endsWith("/")) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function textOf({ s3, bucket }: S3Location, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new Error(`s3://${bucket}/${key}: empty response`);
  return new TextDecoder().decode(await object.Body.transformToByteArray());
}

/** The batches `S3RawFailureStore` kept, for a redrive. */
export class S3RawFailureBatches implements RawFailureBatches {
  readonly name: string;
  constructor(private readonly location: S3Location) {
    this.name = `s3://${location.bucket}/${location.prefix}`;
  }
  list(): Promise<string[]> {
    return keysUnder(this.location);
  }
  async read(key: string): Promise<RawLakeFailure[]> {
    return parseRawFailures(await textOf(this.location, key), `s3://${this.location.bucket}/${key}`);
  }
  async remove(key: string): Promise<void> {
    await this.location.s3.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }));
  }
}

/**
 * Firehose's own error output for records the transform never answered (`errors/processing-failed/`
 * in the lake bucket), for a redrive. An object with a line that is not such a record is not read
 * (so not removed): it stays for someone to look at, named in the redrive's result.
 */
export class S3FirehoseErrorBatches implements RawFailureBatches {
  readonly name: string;
  constructor(
    private readonly location: S3Location,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = `s3://${location.bucket}/${location.prefix}`;
  }
  list(): Promise<string[]> {
    return keysUnder(this.location);
  }
  async read(key: string): Promise<RawLakeFailure[]> {
    const { failures, unreadable } = firehoseErrorFailures(await textOf(this.location, key), this.now().toISOString());
    if (unreadable.length > 0)
      throw new Error(`s3://${this.location.bucket}/${key}: line ${unreadable.slice(0, 5).join(", ")} is not a Firehose error record with rawData`);
    return failures;
  }
  async remove(key: string): Promise<void> {
    await this.location.s3.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: key }));
  }
}

/** Raw failures in memory, as a store and as batches (tests, and callers that only count). */
export class MemoryRawFailureStore implements RawFailureStore, RawFailureBatches {
  readonly name = "memory";
  readonly batches = new Map<string, RawLakeFailure[]>();
  /** Set, `keep` throws it (a store that is down). */
  failWith: Error | undefined;

  async keep(batchId: string, failures: readonly RawLakeFailure[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    if (failures.length > 0) this.batches.set(batchId, [...failures]);
  }
  /** Every failure kept, in batch order. */
  all(): RawLakeFailure[] {
    return [...this.batches.values()].flat();
  }
  async list(): Promise<string[]> {
    return [...this.batches.keys()];
  }
  async read(batch: string): Promise<RawLakeFailure[]> {
    const failures = this.batches.get(batch);
    if (!failures) throw new Error(`no batch ${batch}`);
    return failures;
  }
  async remove(batch: string): Promise<void> {
    this.batches.delete(batch);
  }
}
