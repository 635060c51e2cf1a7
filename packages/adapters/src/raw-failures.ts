/**
 * The lake's raw failures in S3 through the S3 client: the store for callers that have one, and
 * the batches a redrive reads (the raw failure bucket, Firehose's error output in the lake bucket).
 * The format and the transform's store are in raw-failure-format.ts (no SDK).
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  firehoseErrorFailures,
  type ObjectWriter,
  parseRawFailures,
  type RawFailureBatches,
  RawFailureObjectStore,
  type RawFailureStore,
  type RawLakeFailure,
} from "./raw-failure-format";

export * from "./raw-failure-format";

/** Where a bucket's raw failures are: the bucket and a key prefix (`""` or ending in `/`). */
export interface S3Location {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

/** An `ObjectWriter` on the S3 client. */
export function s3ClientWriter(s3: S3Client): ObjectWriter {
  return {
    put: async (bucket, key, body, contentType) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
  };
}

/** The raw failure store through the S3 client (`RawFailureObjectStore` with `s3ClientWriter`). */
export class S3RawFailureStore extends RawFailureObjectStore {
  constructor(location: S3Location) {
    super({ writer: s3ClientWriter(location.s3), bucket: location.bucket, prefix: location.prefix });
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
