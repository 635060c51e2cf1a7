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
import { createHash } from "node:crypto";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { BedrockSpendError, ConfigurationError } from "@bedrock-spend/core";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ObjectWriter } from "./raw-failure-format";
import { type Credentials, Sha256 } from "./signed-fetch";

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
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetch: typeof fetch;

  private readonly region: string;

  /** The Region is read here, and its absence reported at the first PUT (Lambda always sets AWS_REGION). */
  constructor(private readonly options: SignedS3PutOptions = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "";
    // S3 signs the path as sent (no double escaping) and wants the payload's hash.
    this.signer = new SignatureV4({
      service: "s3",
      region: async () => {
        if (!this.region) throw new ConfigurationError("AWS_REGION", "is required to sign S3 requests (Lambda sets it)");
        return this.region;
      },
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: true,
    });
    this.maxAttempts = options.maxAttempts ?? 3;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetch = options.fetch ?? fetch;
  }

  async put(bucket: string, key: string, body: string, contentType: string): Promise<void> {
    if (!this.region) throw new ConfigurationError("AWS_REGION", "is required to sign S3 requests (Lambda sets it)");
    const bytes = new TextEncoder().encode(body);
    const path = `/${key.split("/").map(encodeURIComponent).join("/")}`;
    const custom = this.options.endpoint ? new URL(this.options.endpoint) : undefined;
    // Virtual-hosted style, except for bucket names with dots (their certificate would not match).
    const pathStyle = custom !== undefined || bucket.includes(".");
    const hostname = custom ? custom.hostname : pathStyle ? `s3.${this.region}.amazonaws.com` : `${bucket}.s3.${this.region}.amazonaws.com`;
    const host = custom?.port ? `${hostname}:${custom.port}` : hostname;
    const request = {
      method: "PUT",
      protocol: custom?.protocol ?? "https:",
      hostname,
      ...(custom?.port ? { port: Number(custom.port) } : {}),
      path: pathStyle ? `/${bucket}${path}` : path,
      query: {},
      headers: {
        host,
        "content-type": contentType,
        "content-length": String(bytes.length),
        "x-amz-content-sha256": createHash("sha256").update(bytes).digest("hex"),
      },
      body: bytes,
    };
    for (let attempt = 1; ; attempt++) {
      const signed = await this.signer.sign(request);
      let status = 0;
      let failure: { code: string; message: string };
      let cause: unknown;
      try {
        const response = await this.fetch(`${request.protocol}//${host}${request.path}`, { method: "PUT", headers: signed.headers, body: bytes });
        status = response.status;
        const text = await response.text();
        if (response.ok) return;
        failure = s3Error(text);
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
