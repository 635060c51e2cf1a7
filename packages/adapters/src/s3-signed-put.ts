/**
 * S3 PutObject as one SigV4-signed HTTPS request, for the transform's raw failure store.
 *
 * Why not the S3 client: it would add ~145 KB to the transform's bundle (XML serde, checksums,
 * S3 Express, endpoint rules), past the 500 KiB budget of a hot-path function, for a call that
 * happens only when a record fails. The signer and the credential chain are those the DynamoDB
 * client already brings into that bundle, and `fetch` is Node's own, so this costs ~2 KB. It does
 * one thing: a single-part PUT of a small object (a transformation's failures: at most a few MB)
 * to a bucket whose default encryption applies, retried on throttling and server errors.
 */
import { BedrockSpendError, ConfigurationError } from "@bedrock-spend/core";
import type { ObjectWriter } from "./raw-failure-format";
import { type Credentials, signedFetch } from "./signed-fetch";

/** A PUT that S3 refused, or that never got an answer: the status (0 without one) and S3's error code. */
export class S3PutError extends BedrockSpendError {
  readonly bucket: string;
  readonly key: string;
  readonly status: number;
  readonly code: string;
  constructor(bucket: string, key: string, status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(`s3://${bucket}/${key}: PutObject failed (${status === 0 ? "no response" : status} ${code}): ${message}`, options);
    this.name = "S3PutError";
    this.bucket = bucket;
    this.key = key;
    this.status = status;
    this.code = code;
  }
}

/** Options of `SignedS3Put`. */
export interface SignedS3PutOptions {
  /** Default: `AWS_REGION` (set by Lambda), as the SDK's clients read it. */
  region?: string;
  /** Default: the SDK's credential chain (on Lambda, the function's role). */
  credentials?: Credentials | (() => Promise<Credentials>);
  /** `http(s)://host:port` of an S3-compatible endpoint, path-style (tests); default the Region's virtual-hosted endpoint. */
  endpoint?: string;
  /** Attempts for a throttled, failed (5xx) or unanswered request (default 3). */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

/** S3 statuses worth another attempt: throttling and server errors. */
const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** The `<Code>` and `<Message>` of an S3 error document. */
function s3Error(text: string): { code: string; message: string } {
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  return { code: field("Code") ?? "Unknown", message: field("Message") ?? (text.slice(0, 200) || "no error document") };
}

/** Single-part PUTs, signed with SigV4 (service `s3`, payload hash in `x-amz-content-sha256`). */
export class SignedS3Put implements ObjectWriter {
  private readonly send: ReturnType<typeof signedFetch>;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly region: string;

  /** The Region is read here, and its absence reported at the first PUT (Lambda always sets AWS_REGION). */
  constructor(private readonly options: SignedS3PutOptions = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "";
    this.send = signedFetch({
      service: "s3",
      s3: true,
      region: async () => this.regionOrFail(),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.maxAttempts = options.maxAttempts ?? 3;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private regionOrFail(): string {
    if (!this.region) throw new ConfigurationError("AWS_REGION", "is required to sign S3 requests (Lambda sets it)");
    return this.region;
  }

  async put(bucket: string, key: string, body: string, contentType: string): Promise<void> {
    const region = this.regionOrFail();
    const path = `/${key.split("/").map(encodeURIComponent).join("/")}`;
    // Virtual-hosted style, except for bucket names with dots (their certificate would not match).
    const url = this.options.endpoint
      ? `${this.options.endpoint.replace(/\/$/, "")}/${bucket}${path}`
      : bucket.includes(".")
        ? `https://s3.${region}.amazonaws.com/${bucket}${path}`
        : `https://${bucket}.s3.${region}.amazonaws.com${path}`;
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let failure: { code: string; message: string };
      let cause: unknown;
      try {
        const response = await this.send(url, { method: "PUT", headers: { "content-type": contentType }, body });
        status = response.status;
        if (status >= 200 && status < 300) return;
        failure = s3Error(response.text);
      } catch (error) {
        cause = error;
        failure = { code: (error as Error).name, message: (error as Error).message };
      }
      if ((status !== 0 && !RETRYABLE.has(status)) || attempt >= this.maxAttempts)
        throw new S3PutError(bucket, key, status, failure.code, failure.message, { cause });
      await this.sleep(100 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }
}
