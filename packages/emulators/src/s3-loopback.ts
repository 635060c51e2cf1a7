/**
 * A small S3-compatible server on 127.0.0.1, for tests and benchmarks: path-style requests,
 * objects held in memory (`put`, or PutObject), ListObjectsV2, GetObject/HeadObject and PutObject answered as S3 answers
 * them (XML documents, error codes, UTF-8 binary key order, continuation tokens). It refuses
 * unsigned requests but does not verify signatures. It records the requests it got, and can be
 * told to fail the next ones (throttling, server errors, access denied, expired token).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the server got. */
export interface S3LoopbackRequest {
  method: string;
  /** The decoded path: `/<bucket>` or `/<bucket>/<key>`. */
  path: string;
  bucket?: string;
  key?: string;
  /** The query parameters (the SDK's `x-id` included). */
  query: Record<string, string>;
  /** `ListObjectsV2`, `GetObject`, `HeadObject`, `PutObject`, or `Unsupported`. */
  operation: string;
  /** The status answered. */
  status: number;
}

/** The errors `failNext` can answer with. */
export type S3LoopbackFault = "SlowDown" | "InternalError" | "AccessDenied" | "ExpiredToken";

/** Options of `startS3Loopback`. */
export interface S3LoopbackOptions {
  /** Buckets that exist from the start (`put` creates its bucket too). */
  buckets?: string[];
  /** At most this many keys and common prefixes per listing page, whatever `max-keys` asks (default 1000, as S3). */
  pageLimit?: number;
}

/** A running loopback server. */
export interface S3Loopback {
  /** `http://127.0.0.1:<port>`, for the S3 client's `endpoint` (with `forcePathStyle: true`). */
  endpoint: string;
  port: number;
  /** The requests received so far, oldest first. */
  readonly requests: S3LoopbackRequest[];
  /** Creates an empty bucket (no-op if it exists). */
  createBucket(bucket: string): void;
  /** Stores an object (creating its bucket), replacing any object of that key. */
  put(bucket: string, key: string, body: Uint8Array | string, options?: { lastModified?: Date }): void;
  /** The bytes of an object (put here or by PutObject), if there is one. */
  get(bucket: string, key: string): Buffer | undefined;
  /** Every key of a bucket, sorted. */
  keys(bucket: string): string[];
  /** Answers the next `count` requests with `fault` (default `SlowDown`, 503), before any other check. */
  failNext(count: number, fault?: S3LoopbackFault): void;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

interface Bucket {
  objects: Map<string, StoredObject>;
  /** The keys in UTF-8 binary order; recomputed after a `put` of a new key. */
  sorted: string[] | undefined;
}

const FAULTS: Record<S3LoopbackFault, { status: number; message: string }> = {
  SlowDown: { status: 503, message: "Please reduce your request rate." },
  InternalError: { status: 500, message: "We encountered an internal error. Please try again." },
  AccessDenied: { status: 403, message: "Access Denied" },
  ExpiredToken: { status: 400, message: "The provided token has expired." },
};

/** S3 orders keys by their UTF-8 bytes, which differs from UTF-16 order above U+FFFF and around U+E000-U+FFFF. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] ?? c);
}

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Continuation tokens: opaque to the client; here the last entry returned, and whether it was a common prefix. */
function encodeToken(after: string, commonPrefix: boolean): string {
  return Buffer.from(JSON.stringify([after, commonPrefix]), "utf8").toString("base64");
}

function decodeToken(token: string): { after: string; commonPrefix: boolean } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "boolean") return { after: value[0], commonPrefix: value[1] };
  } catch {
    // an undecodable token is the client's error, answered below
  }
  return undefined;
}

/** Starts a loopback S3 server on 127.0.0.1 with a random free port. */
export async function startS3Loopback(options: S3LoopbackOptions = {}): Promise<S3Loopback> {
  const buckets = new Map<string, Bucket>();
  const requests: S3LoopbackRequest[] = [];
  const pageLimit = options.pageLimit ?? 1000;
  const faults: S3LoopbackFault[] = [];
  let requestCount = 0;

  const createBucket = (name: string): Bucket => {
    let bucket = buckets.get(name);
    if (!bucket) {
      bucket = { objects: new Map(), sorted: [] };
      buckets.set(name, bucket);
    }
    return bucket;
  };
  for (const name of options.buckets ?? []) createBucket(name);

  const sortedKeys = (bucket: Bucket): string[] => {
    bucket.sorted ??= [...bucket.objects.keys()].sort(compareUtf8);
    return bucket.sorted;
  };

  const sendError = (response: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}) => {
    const requestId = `LOOPBACK${String(requestCount).padStart(8, "0")}`;
    const fields = Object.entries({ Code: code, Message: message, ...extra, RequestId: requestId, HostId: "loopback" })
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join("");
    const body = Buffer.from(`${XML_HEADER}<Error>${fields}</Error>`, "utf8");
    response.writeHead(status, { "content-type": "application/xml", "content-length": body.length, "x-amz-request-id": requestId });
    response.end(response.req.method === "HEAD" ? undefined : body);
  };

  const listObjectsV2 = (response: ServerResponse, name: string, bucket: Bucket, query: URLSearchParams) => {
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const startAfter = query.get("start-after") ?? "";
    const token = query.get("continuation-token");
    const maxKeysText = query.get("max-keys");
    const requested = maxKeysText === null ? 1000 : Number(maxKeysText);
    if (!Number.isInteger(requested) || requested < 0) {
      sendError(response, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range", {
        ArgumentName: "max-keys",
        ArgumentValue: maxKeysText ?? "",
      });
      return;
    }
    const maxKeys = Math.min(requested, 1000);
    let resume: { after: string; commonPrefix: boolean } | undefined;
    if (token !== null) {
      resume = decodeToken(token);
      if (!resume) {
        sendError(response, 400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
        return;
      }
    }
    const after = resume?.after ?? startAfter;

    const contents: string[] = [];
    const commonPrefixes: string[] = [];
    let last: { after: string; commonPrefix: boolean } | undefined;
    let truncated = false;
    for (const key of sortedKeys(bucket)) {
      if (!key.startsWith(prefix)) continue;
      if (after && compareUtf8(key, after) <= 0) continue;
      if (resume?.commonPrefix && key.startsWith(resume.after)) continue;
      let entry: { after: string; commonPrefix: boolean } = { after: key, commonPrefix: false };
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) entry = { after: key.slice(0, at + delimiter.length), commonPrefix: true };
      }
      if (entry.commonPrefix && last?.commonPrefix && last.after === entry.after) continue;
      if (contents.length + commonPrefixes.length >= Math.min(maxKeys, pageLimit)) {
        truncated = true;
        break;
      }
      (entry.commonPrefix ? commonPrefixes : contents).push(entry.after);
      last = entry;
    }

    // `encoding-type=url` is not supported (the JS SDK never asks for it): keys are always sent as they are, escaped.
    const text = escapeXml;
    const parts = [`<Name>${escapeXml(name)}</Name>`, `<Prefix>${text(prefix)}</Prefix>`];
    if (token !== null) parts.push(`<ContinuationToken>${escapeXml(token)}</ContinuationToken>`);
    if (startAfter) parts.push(`<StartAfter>${text(startAfter)}</StartAfter>`);
    if (truncated && last) parts.push(`<NextContinuationToken>${escapeXml(encodeToken(last.after, last.commonPrefix))}</NextContinuationToken>`);
    parts.push(`<KeyCount>${contents.length + commonPrefixes.length}</KeyCount>`, `<MaxKeys>${maxKeys}</MaxKeys>`);
    if (delimiter) parts.push(`<Delimiter>${text(delimiter)}</Delimiter>`);
    parts.push(`<IsTruncated>${truncated}</IsTruncated>`);
    for (const key of contents) {
      const object = bucket.objects.get(key) as StoredObject;
      parts.push(
        `<Contents><Key>${text(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${escapeXml(object.etag)}</ETag>` +
          `<Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
    }
    for (const commonPrefix of commonPrefixes) parts.push(`<CommonPrefixes><Prefix>${text(commonPrefix)}</Prefix></CommonPrefixes>`);
    const body = Buffer.from(`${XML_HEADER}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</ListBucketResult>`, "utf8");
    response.writeHead(200, { "content-type": "application/xml", "content-length": body.length });
    response.end(body);
  };

  const putObject = (bucketName: string, key: string, bytes: Buffer, lastModified?: Date) => {
    const bucket = createBucket(bucketName);
    if (!bucket.objects.has(key)) bucket.sorted = undefined;
    bucket.objects.set(key, {
      body: bytes,
      etag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      // S3 keeps whole seconds.
      lastModified: new Date(Math.floor((lastModified ?? new Date()).getTime() / 1000) * 1000),
    });
  };

  const handle = (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
    requestCount++;
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const slash = path.indexOf("/", 1);
    const bucketName = (slash < 0 ? path.slice(1) : path.slice(1, slash)) || undefined;
    const key = slash < 0 || slash === path.length - 1 ? undefined : path.slice(slash + 1);
    const listing = bucketName !== undefined && key === undefined && method === "GET" && url.searchParams.get("list-type") === "2";
    const operation = listing
      ? "ListObjectsV2"
      : key !== undefined && method === "GET"
        ? "GetObject"
        : key !== undefined && method === "HEAD"
          ? "HeadObject"
          : key !== undefined && method === "PUT" && request.headers["x-amz-copy-source"] === undefined
            ? "PutObject"
            : "Unsupported";
    const record: S3LoopbackRequest = { method, path, query: Object.fromEntries(url.searchParams), operation, status: 0 };
    if (bucketName !== undefined) record.bucket = bucketName;
    if (key !== undefined) record.key = key;
    requests.push(record);
    response.on("finish", () => {
      record.status = response.statusCode;
    });

    const fault = faults.shift();
    if (fault) {
      sendError(response, FAULTS[fault].status, fault, FAULTS[fault].message);
      return;
    }
    const signed = (request.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256") || url.searchParams.get("X-Amz-Algorithm") === "AWS4-HMAC-SHA256";
    if (!signed) {
      sendError(response, 403, "AccessDenied", "Access Denied");
      return;
    }
    if (operation === "Unsupported" || bucketName === undefined) {
      sendError(response, 501, "NotImplemented", "A header or query you provided implies functionality that is not implemented.");
      return;
    }
    const bucket = buckets.get(bucketName);
    if (!bucket) {
      sendError(response, 404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: bucketName });
      return;
    }
    if (listing) {
      listObjectsV2(response, bucketName, bucket, url.searchParams);
      return;
    }
    if (operation === "PutObject") {
      if (body.length === 0 && Number(request.headers["content-length"] ?? "0") > 0) {
        sendError(response, 400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
        return;
      }
      putObject(bucketName, key as string, body);
      response.writeHead(200, { etag: (bucket.objects.get(key as string) as { etag: string }).etag, "content-length": 0 });
      response.end();
      return;
    }
    const object = bucket.objects.get(key as string);
    if (!object) {
      sendError(response, 404, "NoSuchKey", "The specified key does not exist.", { Key: key as string });
      return;
    }
    response.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": object.body.length,
      etag: object.etag,
      "last-modified": object.lastModified.toUTCString(),
      "accept-ranges": "bytes",
    });
    response.end(method === "HEAD" ? undefined : object.body);
  };

  const server = createServer((request, response) => {
    // The body is read whole (PutObject's; drained for the others, so that keep-alive connections stay usable).
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handle(request, response, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    createBucket: (bucket) => {
      createBucket(bucket);
    },
    put: (bucketName, key, body, putOptions = {}) =>
      putObject(bucketName, key, typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body), putOptions.lastModified),
    get: (bucketName, key) => buckets.get(bucketName)?.objects.get(key)?.body,
    keys: (bucketName) => [...(buckets.get(bucketName)?.objects.keys() ?? [])].sort(),
    failNext: (count, fault = "SlowDown") => {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
