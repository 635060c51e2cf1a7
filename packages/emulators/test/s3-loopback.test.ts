/**
 * The S3 loopback server through the AWS SDK's S3 client (what its users send), and raw HTTP for
 * what the SDK hides: the XML documents and the refusal of unsigned requests.
 */
import { GetObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type S3Loopback, startS3Loopback } from "../src/s3-loopback";

const LAST_MODIFIED = new Date("2025-01-02T03:04:05.678Z");

let s3: S3Loopback;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3Loopback({ buckets: ["empty"] });
  client = new S3Client({
    region: "us-east-1",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const keys = ["logs/a/1.json", "logs/a/2.json", "logs/b/1.json", "logs/c.json", "logs/d/x/1.json", "other/1.json", "top.json"];
  for (const key of keys) s3.put("bucket", key, `body of ${key}`, { lastModified: LAST_MODIFIED });
});

afterAll(async () => {
  client.destroy();
  await s3.close();
});

beforeEach(() => {
  s3.requests.length = 0;
});

async function listAll(input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; StartAfter?: string }) {
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: "bucket", ...input, ContinuationToken: token }));
    pages.push(page);
    token = page.NextContinuationToken;
  } while (token);
  return {
    pages,
    keys: pages.flatMap((page) => (page.Contents ?? []).map((object) => object.Key)),
    prefixes: pages.flatMap((page) => (page.CommonPrefixes ?? []).map((prefix) => prefix.Prefix)),
  };
}

describe("ListObjectsV2", () => {
  it("lists the keys under a prefix, and groups deeper ones by the delimiter into common prefixes", async () => {
    const { pages, keys, prefixes } = await listAll({ Prefix: "logs/", Delimiter: "/" });
    expect(pages).toHaveLength(1);
    expect(keys).toEqual(["logs/c.json"]);
    expect(prefixes).toEqual(["logs/a/", "logs/b/", "logs/d/"]);
    const [page] = pages;
    expect(page).toMatchObject({ Name: "bucket", Prefix: "logs/", Delimiter: "/", MaxKeys: 1000, KeyCount: 4, IsTruncated: false });
    expect(page?.NextContinuationToken).toBeUndefined();
    expect(page?.Contents?.[0]).toMatchObject({
      Key: "logs/c.json",
      Size: "body of logs/c.json".length,
      StorageClass: "STANDARD",
      LastModified: new Date("2025-01-02T03:04:05.000Z"),
    });
    expect(page?.Contents?.[0]?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it("lists every key without a delimiter, and the root's common prefixes with one", async () => {
    expect((await listAll({})).keys).toEqual(["logs/a/1.json", "logs/a/2.json", "logs/b/1.json", "logs/c.json", "logs/d/x/1.json", "other/1.json", "top.json"]);
    const root = await listAll({ Delimiter: "/" });
    expect(root.keys).toEqual(["top.json"]);
    expect(root.prefixes).toEqual(["logs/", "other/"]);
  });

  it("pages with continuation tokens, a common prefix counting once and never repeated on the next page", async () => {
    const { pages, keys, prefixes } = await listAll({ Prefix: "logs/", Delimiter: "/", MaxKeys: 2 });
    expect(pages.map((page) => page.KeyCount)).toEqual([2, 2]);
    expect(pages.map((page) => page.IsTruncated)).toEqual([true, false]);
    expect(pages[0]?.NextContinuationToken).toBeTruthy();
    expect(pages[1]?.ContinuationToken).toBe(pages[0]?.NextContinuationToken);
    expect(keys).toEqual(["logs/c.json"]);
    expect(prefixes).toEqual(["logs/a/", "logs/b/", "logs/d/"]);

    const flat = await listAll({ MaxKeys: 2 });
    expect(flat.pages).toHaveLength(4);
    expect(flat.keys).toHaveLength(7);
    expect(new Set(flat.keys).size).toBe(7);
    const listings = s3.requests.filter((request) => request.operation === "ListObjectsV2");
    expect(listings.map((request) => request.query["max-keys"])).toEqual(["2", "2", "2", "2", "2", "2"]);
    expect(listings.filter((request) => request.query["continuation-token"]).length).toBe(4);
  });

  it("starts after a key", async () => {
    expect((await listAll({ StartAfter: "logs/c.json" })).keys).toEqual(["logs/d/x/1.json", "other/1.json", "top.json"]);
  });

  it("caps pages at the server's page limit whatever max-keys asks", async () => {
    const small = await startS3Loopback({ pageLimit: 3 });
    const smallClient = new S3Client({
      region: "us-east-1",
      endpoint: small.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      for (let i = 0; i < 10; i++) small.put("b", `k/${i}`, "x");
      const page = await smallClient.send(new ListObjectsV2Command({ Bucket: "b" }));
      expect(page.KeyCount).toBe(3);
      expect(page.IsTruncated).toBe(true);
    } finally {
      smallClient.destroy();
      await small.close();
    }
  });

  it("orders keys by their UTF-8 bytes and escapes them in the XML", async () => {
    s3.put("unicode", "a\u{1F600}", "1");
    s3.put("unicode", "a\uFFFD", "2");
    s3.put("unicode", "a&<b>'\"", "3");
    const page = await client.send(new ListObjectsV2Command({ Bucket: "unicode" }));
    expect(page.Contents?.map((object) => object.Key)).toEqual(["a&<b>'\"", "a\uFFFD", "a\u{1F600}"]);
  });

  it("answers an empty bucket and a prefix with nothing under it", async () => {
    const page = await client.send(new ListObjectsV2Command({ Bucket: "empty" }));
    expect(page).toMatchObject({ KeyCount: 0, IsTruncated: false });
    expect(page.Contents).toBeUndefined();
    expect((await listAll({ Prefix: "nothing/", Delimiter: "/" })).keys).toEqual([]);
  });

  it("records the requests, decoded", async () => {
    await listAll({ Prefix: "logs/a b+c/", Delimiter: "/" });
    expect(s3.requests).toHaveLength(1);
    expect(s3.requests[0]).toMatchObject({
      method: "GET",
      path: "/bucket/",
      bucket: "bucket",
      operation: "ListObjectsV2",
      status: 200,
      query: { "list-type": "2", prefix: "logs/a b+c/", delimiter: "/" },
    });
  });
});

describe("GetObject", () => {
  it("returns the bytes with their length and ETag", async () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 0, 255, 10, 13]);
    s3.put("bucket", "dir/with space+plus/ä.gz", bytes);
    const object = await client.send(new GetObjectCommand({ Bucket: "bucket", Key: "dir/with space+plus/ä.gz" }));
    expect(object.ContentLength).toBe(6);
    expect(object.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await object.Body?.transformToByteArray()).toEqual(bytes);
    expect(s3.requests.at(-1)).toMatchObject({ operation: "GetObject", bucket: "bucket", key: "dir/with space+plus/ä.gz", status: 200 });
  });

  it("answers NoSuchKey for a missing key and NoSuchBucket for a missing bucket", async () => {
    await expect(client.send(new GetObjectCommand({ Bucket: "bucket", Key: "missing" }))).rejects.toMatchObject({
      name: "NoSuchKey",
      $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new GetObjectCommand({ Bucket: "nobucket", Key: "k" }))).rejects.toMatchObject({
      name: "NoSuchBucket",
      $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new ListObjectsV2Command({ Bucket: "nobucket" }))).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});

describe("refusals and faults", () => {
  it("refuses an unsigned request with AccessDenied", async () => {
    const response = await fetch(`${s3.endpoint}/bucket?list-type=2`);
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain("<Code>AccessDenied</Code>");
    expect(body).toContain("<Message>Access Denied</Message>");
    const get = await fetch(`${s3.endpoint}/bucket/top.json`, { headers: { authorization: "Bearer x" } });
    expect(get.status).toBe(403);
  });

  it("answers S3's XML document", async () => {
    const response = await fetch(`${s3.endpoint}/bucket?list-type=2&prefix=logs%2F&delimiter=%2F&max-keys=1`, {
      headers: { authorization: "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/s3/aws4_request" },
    });
    expect(response.headers.get("content-type")).toBe("application/xml");
    const body = await response.text();
    expect(body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ListBucketResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Name>bucket<\/Name><Prefix>logs\/<\/Prefix><NextContinuationToken>[^<]+<\/NextContinuationToken><KeyCount>1<\/KeyCount><MaxKeys>1<\/MaxKeys><Delimiter>\/<\/Delimiter><IsTruncated>true<\/IsTruncated><CommonPrefixes><Prefix>logs\/a\/<\/Prefix><\/CommonPrefixes><\/ListBucketResult>$/,
    );
  });

  it("fails the next requests as told; the SDK retries throttling and server errors", async () => {
    s3.failNext(1, "SlowDown");
    s3.failNext(1, "InternalError");
    const page = await client.send(new ListObjectsV2Command({ Bucket: "bucket", Prefix: "other/" }));
    expect(page.Contents?.map((object) => object.Key)).toEqual(["other/1.json"]);
    expect(s3.requests.map((request) => request.status)).toEqual([503, 500, 200]);

    s3.failNext(1, "AccessDenied");
    await expect(client.send(new GetObjectCommand({ Bucket: "bucket", Key: "top.json" }))).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
    s3.failNext(1, "ExpiredToken");
    await expect(client.send(new ListObjectsV2Command({ Bucket: "bucket" }))).rejects.toMatchObject({ name: "ExpiredToken" });
  });
});
