/**
 * The invocation log sources over one tree in Bedrock's S3 delivery layout, held by the S3 loopback
 * server and written to a temporary directory: the same hours from both for every range, the
 * years, months and days outside a range never listed, pagination, exact bytes, the prefix at
 * every level of the layout, and the typed errors naming what the caller lacks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { S3Client } from "@aws-sdk/client-s3";
import { type S3Loopback, startS3Loopback } from "@bedrock-spend/emulators";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DayRange,
  DirectoryInvocationLogSource,
  InvalidLogSourceError,
  type InvocationLogSource,
  type LogHour,
  LogSourceError,
  parseS3Url,
  S3InvocationLogSource,
} from "../src/invocation-log-source";

const BUCKET = "logs";
const ROOT = "bedrock/";
const A = "111111111111";
const B = "222222222222";
const regionPrefix = (account: string, region: string) => `${ROOT}AWSLogs/${account}/BedrockModelInvocationLogs/${region}/`;

/** The hours holding logs, across a year and month boundaries, two accounts and two Regions. */
const HOURS: { account: string; region: string; hour: string }[] = [
  { account: A, region: "us-east-1", hour: "2024-12-30T23" },
  { account: A, region: "us-east-1", hour: "2024-12-31T00" },
  { account: A, region: "eu-west-1", hour: "2024-12-31T23" },
  { account: B, region: "us-east-1", hour: "2024-12-31T23" },
  { account: A, region: "us-east-1", hour: "2025-01-01T00" },
  { account: B, region: "us-east-1", hour: "2025-01-01T00" },
  { account: A, region: "eu-west-1", hour: "2025-01-01T05" },
  { account: A, region: "us-east-1", hour: "2025-01-31T12" },
  { account: B, region: "us-east-1", hour: "2025-02-01T00" },
  { account: A, region: "eu-west-1", hour: "2025-03-15T08" },
];
const hourPath = (hour: string) => `${hour.slice(0, 4)}/${hour.slice(5, 7)}/${hour.slice(8, 10)}/${hour.slice(11, 13)}/`;
/** The hour with more objects than a small page, an offloaded body under `data/` and a folder marker. */
const BUSY = `${regionPrefix(A, "us-east-1")}2025/01/01/00/`;

/** Every object of the tree, by key; keys ending in `/` are S3 folder markers (not on disk). */
const OBJECTS = new Map<string, Uint8Array>();
for (const { account, region, hour } of HOURS) {
  const prefix = `${regionPrefix(account, region)}${hourPath(hour)}`;
  const count = prefix === BUSY ? 5 : 2;
  for (let i = 0; i < count; i++) {
    const name = `${hour.replace(/-/g, "")}0${i}12345Z_${account.slice(0, 4)}${region.slice(0, 2)}${i}.json.gz`;
    OBJECTS.set(`${prefix}${name}`, gzipSync(`${JSON.stringify({ accountId: account, region, timestamp: `${hour}:0${i}:00Z`, i })}\n`));
  }
}
const noise = [
  `${BUSY}data/offloaded-body.json.gz`,
  `${ROOT}amazon-bedrock-logs-permission-check`,
  `${regionPrefix(A, "us-east-1")}backup/2025/01/01/00/old.json.gz`,
  `${regionPrefix(A, "us-east-1")}2025/01/tmp/x.json.gz`,
  `${regionPrefix(A, "us-east-1")}2025/13/01/00/x.json.gz`,
  `${regionPrefix(A, "us-east-1")}2025/02/30/00/x.json.gz`,
  `${regionPrefix(A, "us-east-1")}2025/01/01/24/x.json.gz`,
  `${ROOT}AWSLogs/notanaccount/BedrockModelInvocationLogs/us-east-1/2025/01/01/00/x.json.gz`,
  `${ROOT}AWSLogs/${A}/CloudTrail/us-east-1/2025/01/01/00/x.json.gz`,
];
for (const key of noise) OBJECTS.set(key, gzipSync(`{"noise":${JSON.stringify(key)}}\n`));
OBJECTS.set(BUSY, new Uint8Array());
/** The log objects of the busy hour, by key. */
const busyObjects = [...OBJECTS].filter(([key]) => key.startsWith(BUSY) && key !== BUSY && !key.slice(BUSY.length).includes("/"));

let s3: S3Loopback;
/** Pages of at most 2 entries, so that every listing of more than 2 follows continuation tokens. */
let paged: S3Loopback;
let client: S3Client;
let pagedClient: S3Client;
let directory: string;

function s3Client(endpoint: string): S3Client {
  return new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

beforeAll(async () => {
  s3 = await startS3Loopback();
  paged = await startS3Loopback({ pageLimit: 2 });
  client = s3Client(s3.endpoint);
  pagedClient = s3Client(paged.endpoint);
  directory = mkdtempSync(join(tmpdir(), "bedrock-spend-log-source-"));
  const lastModified = new Date("2025-03-16T00:00:00Z");
  for (const [key, bytes] of OBJECTS) {
    s3.put(BUCKET, key, bytes, { lastModified });
    paged.put(BUCKET, key, bytes, { lastModified });
    // The same tree at the bucket's root, for a prefix of "".
    s3.put("root-bucket", key.slice(ROOT.length), bytes, { lastModified });
    if (key.endsWith("/")) continue;
    mkdirSync(dirname(join(directory, key)), { recursive: true });
    writeFileSync(join(directory, key), bytes);
  }
  writeFileSync(join(directory, BUSY, ".DS_Store"), "finder");
});

afterAll(async () => {
  client.destroy();
  pagedClient.destroy();
  await s3.close();
  await paged.close();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  s3.requests.length = 0;
  paged.requests.length = 0;
});

/** The hours of `HOURS` in the range (and under the level's account and Region), in (hour, account, region) order. */
function expected(range: DayRange, only: { account?: string; region?: string } = {}) {
  return HOURS.filter(({ hour }) => (range.from === undefined || hour.slice(0, 10) >= range.from) && (range.to === undefined || hour.slice(0, 10) <= range.to))
    .filter(({ account, region }) => (only.account ?? account) === account && (only.region ?? region) === region)
    .map(({ account, region, hour }) => ({ key: `${account}/${region}/${hourPath(hour).slice(0, -1)}`, account, region, hour }))
    .sort((a, b) => (a.hour + a.account + a.region < b.hour + b.account + b.region ? -1 : 1));
}

const withoutLocation = (hours: LogHour[]) => hours.map(({ location: _, ...hour }) => hour);

async function bytesOf(source: InvocationLogSource, key: string, size = 0): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.open({ key, size })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The date segments of a listed prefix below a Region (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), if any. */
function listedDate(prefix: string): string | undefined {
  const match = /\/BedrockModelInvocationLogs\/[^/]+\/(\d{4})\/(?:(\d{2})\/)?(?:(\d{2})\/)?$/.exec(prefix);
  return match ? [match[1], match[2], match[3]].filter(Boolean).join("-") : undefined;
}

function listedPrefixes(server: S3Loopback): string[] {
  return server.requests.filter((request) => request.operation === "ListObjectsV2").map((request) => request.query.prefix ?? "");
}

const RANGES: DayRange[] = [
  {},
  { from: "2025-01-01", to: "2025-01-31" },
  { from: "2024-12-31", to: "2025-01-01" },
  { from: "2025-01-31", to: "2025-02-01" },
  { from: "2025-01-31" },
  { to: "2024-12-31" },
  { from: "2024-12-30", to: "2024-12-30" },
  { from: "2025-03-16" },
  { to: "2024-12-29" },
];

describe("hours", () => {
  it.each(RANGES)("are the same from S3, paged S3 and the directory for %j", async (range) => {
    const fromS3 = await new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).hours(range);
    const fromPaged = await new S3InvocationLogSource({ client: pagedClient, bucket: BUCKET, prefix: ROOT }).hours(range);
    const fromDirectory = await new DirectoryInvocationLogSource({ directory: join(directory, ROOT) }).hours(range);

    expect(withoutLocation(fromS3)).toEqual(expected(range));
    expect(withoutLocation(fromPaged)).toEqual(expected(range));
    expect(withoutLocation(fromDirectory)).toEqual(expected(range));
    for (const hour of fromS3) expect(hour.location).toBe(`${regionPrefix(hour.account, hour.region)}${hourPath(hour.hour)}`);
    for (const hour of fromDirectory) expect(hour.location).toBe(resolve(directory, regionPrefix(hour.account, hour.region), hourPath(hour.hour)));
  });

  it.each(RANGES)("list no year, month or day outside %j", async (range) => {
    await new S3InvocationLogSource({ client: pagedClient, bucket: BUCKET, prefix: ROOT }).hours(range);
    const prefixes = listedPrefixes(paged);
    for (const prefix of prefixes) {
      const date = listedDate(prefix);
      if (date === undefined) continue;
      // A listed year, month or day overlaps the range: its first day is not after `to`, its last not before `from`.
      if (range.to !== undefined) expect(date <= range.to, prefix).toBe(true);
      if (range.from !== undefined) expect(`${date}-99-99`.slice(0, 10) >= range.from, prefix).toBe(true);
    }
    expect(prefixes.some((prefix) => prefix.includes("notanaccount") || prefix.includes("CloudTrail") || prefix.includes("backup"))).toBe(false);
  });

  it("lists exactly the prefixes leading to the days of a month", async () => {
    await new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).hours({ from: "2025-01-01", to: "2025-01-31" });
    const us = regionPrefix(A, "us-east-1");
    const eu = regionPrefix(A, "eu-west-1");
    const b = regionPrefix(B, "us-east-1");
    expect(listedPrefixes(s3).sort()).toEqual(
      [
        `${ROOT}AWSLogs/`,
        `${ROOT}AWSLogs/${A}/BedrockModelInvocationLogs/`,
        `${ROOT}AWSLogs/${B}/BedrockModelInvocationLogs/`,
        us,
        `${us}2025/`,
        `${us}2025/01/`,
        `${us}2025/01/01/`,
        `${us}2025/01/31/`,
        eu,
        `${eu}2025/`,
        `${eu}2025/01/`,
        `${eu}2025/01/01/`,
        b,
        `${b}2025/`,
        `${b}2025/01/`,
        `${b}2025/01/01/`,
      ].sort(),
    );
    expect(s3.requests.every((request) => request.query.delimiter === "/")).toBe(true);
  });

  it("follows continuation tokens", async () => {
    await new S3InvocationLogSource({ client: pagedClient, bucket: BUCKET, prefix: ROOT }).hours({});
    // The listings of more than 2 entries: accounts (2 and notanaccount), years (with backup), months (with 13), days (with tmp).
    const us = regionPrefix(A, "us-east-1");
    const continued = paged.requests.filter((request) => request.query["continuation-token"]).map((request) => request.query.prefix);
    expect(continued.sort()).toEqual([`${ROOT}AWSLogs/`, us, `${us}2025/`, `${us}2025/01/`].sort());
  });

  it("lists nothing for an empty range", async () => {
    const source = new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT });
    expect(await source.hours({ from: "2025-02-01", to: "2025-01-31" })).toEqual([]);
    expect(s3.requests).toEqual([]);
  });

  it("refuses a day that is not YYYY-MM-DD", async () => {
    const source = new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT });
    await expect(source.hours({ from: "2025-1-1" })).rejects.toBeInstanceOf(InvalidLogSourceError);
    await expect(source.hours({ to: "2025-02-30" })).rejects.toMatchObject({ name: "InvalidLogSourceError", value: "2025-02-30" });
    await expect(new DirectoryInvocationLogSource({ directory }).hours({ from: "yesterday" })).rejects.toThrow(/"yesterday" is not a day/);
  });

  const LEVELS: { prefix: string; only: { account?: string; region?: string } }[] = [
    { prefix: ROOT, only: {} },
    { prefix: `${ROOT}AWSLogs/`, only: {} },
    { prefix: `${ROOT}AWSLogs/${A}/`, only: { account: A } },
    { prefix: `${ROOT}AWSLogs/${B}`, only: { account: B } },
    { prefix: `${ROOT}AWSLogs/${A}/BedrockModelInvocationLogs/`, only: { account: A } },
    { prefix: regionPrefix(A, "eu-west-1"), only: { account: A, region: "eu-west-1" } },
    { prefix: regionPrefix(A, "us-east-1").slice(0, -1), only: { account: A, region: "us-east-1" } },
  ];

  it.each(LEVELS)("take the prefix or directory at any level of the layout: $prefix", async ({ prefix, only }) => {
    const range = { from: "2024-12-31", to: "2025-02-01" };
    const fromS3 = await new S3InvocationLogSource({ client, bucket: BUCKET, prefix }).hours(range);
    const fromDirectory = await new DirectoryInvocationLogSource({ directory: join(directory, prefix) }).hours(range);
    expect(withoutLocation(fromS3)).toEqual(expected(range, only));
    expect(withoutLocation(fromDirectory)).toEqual(expected(range, only));
    expect(expected(range, only).length).toBeGreaterThan(0);
  });

  it("takes the bucket's root", async () => {
    const source = new S3InvocationLogSource({ client, ...parseS3Url("s3://root-bucket") });
    expect(source.description).toBe("s3://root-bucket/");
    expect(withoutLocation(await source.hours({}))).toEqual(expected({}));
  });
});

describe("objects and open", () => {
  const busyHour = (location: string): LogHour => ({
    key: `${A}/us-east-1/2025/01/01/00`,
    account: A,
    region: "us-east-1",
    hour: "2025-01-01T00",
    location,
  });

  it("are the objects directly in the hour, by key, without data/, folder markers or dotfiles", async () => {
    const fromS3 = await new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).objects(busyHour(BUSY));
    const fromPaged = await new S3InvocationLogSource({ client: pagedClient, bucket: BUCKET, prefix: ROOT }).objects(busyHour(BUSY));
    const fromDirectory = await new DirectoryInvocationLogSource({ directory }).objects(busyHour(join(directory, BUSY)));

    expect(busyObjects).toHaveLength(5);
    const want = busyObjects.map(([key, bytes]) => ({ key, size: bytes.length }));
    expect(fromS3).toEqual(want);
    expect(fromPaged).toEqual(want);
    expect(fromDirectory).toEqual(want.map(({ key, size }) => ({ key: join(directory, key), size })));
    // 5 objects, the folder marker and data/: 4 pages of 2.
    expect(paged.requests.map((request) => request.query.prefix)).toEqual([BUSY, BUSY, BUSY, BUSY]);
  });

  it("open returns the exact bytes", async () => {
    const s3Source = new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT });
    const directorySource = new DirectoryInvocationLogSource({ directory });
    for (const [key, bytes] of busyObjects) {
      expect(await bytesOf(s3Source, key)).toEqual(Buffer.from(bytes));
      expect(await bytesOf(directorySource, join(directory, key))).toEqual(Buffer.from(bytes));
    }
    const large = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    s3.put(BUCKET, "large.bin", large);
    expect((await bytesOf(s3Source, "large.bin")).equals(large)).toBe(true);
  });

  it("from the hours the sources list, every hour's objects and bytes agree", async () => {
    const s3Source = new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT });
    const directorySource = new DirectoryInvocationLogSource({ directory: join(directory, ROOT) });
    const s3Hours = await s3Source.hours({ from: "2024-12-31", to: "2025-01-01" });
    const directoryHours = await directorySource.hours({ from: "2024-12-31", to: "2025-01-01" });
    expect(s3Hours.length).toBe(directoryHours.length);
    for (const [i, hour] of s3Hours.entries()) {
      const s3Objects = await s3Source.objects(hour);
      const directoryObjects = await directorySource.objects(directoryHours[i] as LogHour);
      expect(s3Objects.map(({ key, size }) => [basename(key), size])).toEqual(directoryObjects.map(({ key, size }) => [basename(key), size]));
      for (const [j, object] of s3Objects.entries()) {
        expect(await bytesOf(s3Source, object.key)).toEqual(await bytesOf(directorySource, (directoryObjects[j] as { key: string }).key));
      }
    }
  });
});

describe("errors", () => {
  it("AccessDenied on a listing names s3:ListBucket on the bucket", async () => {
    s3.failNext(1, "AccessDenied");
    const error = await new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).hours({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LogSourceError);
    expect(error).toMatchObject({ name: "LogSourceError", action: "s3:ListBucket", resource: `arn:aws:s3:::${BUCKET}`, code: "AccessDenied", status: 403 });
    expect((error as Error).message).toContain(`lacks s3:ListBucket on arn:aws:s3:::${BUCKET}`);
    expect((error as Error).cause).toMatchObject({ name: "AccessDenied" });
  });

  it("AccessDenied on a read names s3:GetObject on the object", async () => {
    const [[key]] = busyObjects as [[string, Uint8Array]];
    s3.failNext(1, "AccessDenied");
    const error = await bytesOf(new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }), key).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "LogSourceError", action: "s3:GetObject", resource: `arn:aws:s3:::${BUCKET}/${key}`, code: "AccessDenied" });
    expect((error as Error).message).toContain(`lacks s3:GetObject on arn:aws:s3:::${BUCKET}/${key}`);
  });

  it("a missing bucket, a missing key, an expired session", async () => {
    const missing = new S3InvocationLogSource({ client, bucket: "no-such-bucket", prefix: "" });
    await expect(missing.hours({})).rejects.toMatchObject({ name: "LogSourceError", code: "NoSuchBucket", action: "s3:ListBucket", status: 404 });
    await expect(missing.hours({})).rejects.toThrow("the bucket no-such-bucket does not exist");

    const source = new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT });
    await expect(bytesOf(source, `${ROOT}gone.json.gz`)).rejects.toMatchObject({ code: "NoSuchKey", action: "s3:GetObject" });

    s3.failNext(1, "ExpiredToken");
    await expect(source.hours({})).rejects.toMatchObject({ code: "ExpiredToken", message: expect.stringContaining("the AWS session expired") });
  });

  it("any other failure names the action, the resource, the status and the code", async () => {
    // The client's 3 attempts, all failed.
    s3.failNext(3, "InternalError");
    await expect(new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).hours({})).rejects.toMatchObject({
      code: "InternalError",
      status: 500,
      message: expect.stringContaining(`s3:ListBucket on arn:aws:s3:::${BUCKET} failed (500 InternalError)`),
    });
  });

  it("throttling and server errors are retried by the client", async () => {
    s3.failNext(1, "SlowDown");
    s3.failNext(1, "InternalError");
    const hours = await new S3InvocationLogSource({ client, bucket: BUCKET, prefix: ROOT }).hours({ from: "2025-03-15" });
    expect(withoutLocation(hours)).toEqual(expected({ from: "2025-03-15" }));
  });

  it("a missing directory, or a file, is a LogSourceError; a missing file to read too", async () => {
    await expect(new DirectoryInvocationLogSource({ directory: join(directory, "nowhere") }).hours({})).rejects.toMatchObject({
      name: "LogSourceError",
      code: "ENOENT",
      action: "list",
      resource: join(directory, "nowhere"),
    });
    const [[key]] = busyObjects as [[string, Uint8Array]];
    await expect(new DirectoryInvocationLogSource({ directory: join(directory, key) }).hours({})).rejects.toMatchObject({ code: "ENOTDIR" });
    await expect(bytesOf(new DirectoryInvocationLogSource({ directory }), join(directory, "gone.json.gz"))).rejects.toMatchObject({
      name: "LogSourceError",
      code: "ENOENT",
      action: "read",
    });
  });
});

describe("parseS3Url", () => {
  it("splits s3://bucket/prefix, the prefix empty or ending with /", () => {
    expect(parseS3Url("s3://logs")).toEqual({ bucket: "logs", prefix: "" });
    expect(parseS3Url("s3://logs/")).toEqual({ bucket: "logs", prefix: "" });
    expect(parseS3Url("s3://logs/bedrock")).toEqual({ bucket: "logs", prefix: "bedrock/" });
    expect(parseS3Url("s3://my.logs-bucket/a/b/")).toEqual({ bucket: "my.logs-bucket", prefix: "a/b/" });
  });

  it.each(["", "logs", "s3://", "s3:///prefix", "s3://a/x", "https://logs/x", "S3://logs", "s3://bad bucket/x", "s3:/logs/x"])("refuses %j", (value) => {
    expect(() => parseS3Url(value)).toThrow(InvalidLogSourceError);
    try {
      parseS3Url(value);
    } catch (error) {
      expect(error).toMatchObject({ name: "InvalidLogSourceError", value });
      expect((error as Error).message).toContain(JSON.stringify(value));
    }
  });

  it("describes the sources", () => {
    expect(new S3InvocationLogSource({ client, ...parseS3Url("s3://logs/bedrock") }).description).toBe("s3://logs/bedrock/");
    expect(new DirectoryInvocationLogSource({ directory: join(directory, ".", ROOT) }).description).toBe(resolve(directory, ROOT));
  });
});
