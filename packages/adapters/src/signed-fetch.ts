/**
 * One HTTPS request signed with SigV4, over Node's fetch: what a caller of an IAM-authorized Lambda
 * Function URL (service `lambda`) needs, without an SDK client for a service that has none. The
 * signer and the credential chain are the AWS SDK's own.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";

/** AWS credentials, as the credential chain gives them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The signer's data: text, or bytes in any of their shapes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 (or its HMAC with a secret) on node:crypto, in the shape the signer expects. */
export class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** What `signedFetch` answers: the status and the body as text. */
export interface SignedResponse {
  status: number;
  text: string;
  /** A response header by its name (case-insensitive), or null. */
  header(name: string): string | null;
}

/** Options of `signedFetch`. */
export interface SignedFetchOptions {
  service: string;
  /** The Region, or where to read it when the first request is signed. */
  region: string | (() => Promise<string>);
  /**
   * S3's signing: the path signed as sent (every other service signs it escaped twice) and the
   * payload's hash required. Default false.
   */
  s3?: boolean;
  /** Default: the SDK's credential chain (environment, profile, SSO, instance role). */
  credentials?: Credentials | (() => Promise<Credentials>);
  fetch?: typeof fetch;
}

/** A request function that signs each request (headers, query and body) before sending it. */
export function signedFetch(
  options: SignedFetchOptions,
): (url: string, init: { method: string; headers?: Record<string, string>; body?: string }) => Promise<SignedResponse> {
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
    ...(options.s3 ? { uriEscapePath: false, applyChecksum: true } : {}),
  });
  const send = options.fetch ?? fetch;
  return async (url, init) => {
    const target = new URL(url);
    const body = init.body === undefined ? undefined : new TextEncoder().encode(init.body);
    const query: Record<string, string> = {};
    for (const [key, value] of target.searchParams) query[key] = value;
    const host = target.host;
    const signed = await signer.sign({
      method: init.method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query,
      headers: {
        host,
        ...(init.headers ?? {}),
        ...(body ? { "content-length": String(body.length), "x-amz-content-sha256": createHash("sha256").update(body).digest("hex") } : {}),
      },
      ...(body ? { body } : {}),
    });
    const response = await send(url, { method: init.method, headers: signed.headers, ...(body ? { body } : {}) });
    return { status: response.status, text: await response.text(), header: (name) => response.headers.get(name) };
  };
}
