/**
 * Bedrock's own S3 delivery of invocation logs, as a backfill reads it:
 *
 *   <prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<name>.json.gz
 *
 * (bodies over 100 KB are offloaded under `.../HH/data/`, with another schema: not log records,
 * never read). A source lists the hour prefixes in a range of UTC days, the objects of one hour,
 * and opens one object as bytes. Two implementations: an S3 bucket (ListObjectsV2 and GetObject)
 * and a local directory holding the same tree (a `aws s3 sync` copy, or tests and benchmarks).
 */
import { createReadStream, type Dirent, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { BedrockSpendError } from "@bedrock-spend/core";

/** One hour prefix of the layout: the unit a backfill checkpoints. */
export interface LogHour {
  /** `<account>/<region>/YYYY/MM/DD/HH`: unique within a source, the checkpoint's key. */
  key: string;
  account: string;
  region: string;
  /** The hour, `YYYY-MM-DDTHH` (UTC, as Bedrock names the prefix). */
  hour: string;
  /** Where its objects are: the S3 key prefix (ending in `/`) or the directory path. */
  location: string;
}

/** One log object of an hour. */
export interface LogObject {
  /** The S3 key, or the file path. */
  key: string;
  /** Bytes (as stored: gzip). */
  size: number;
}

/** Inclusive UTC days, `YYYY-MM-DD`; either end may be open. */
export interface DayRange {
  from?: string;
  to?: string;
}

/** A tree of Bedrock invocation logs in its S3 delivery layout. */
export interface InvocationLogSource {
  /** `s3://bucket/prefix` or the directory, for messages and the checkpoints' source id. */
  readonly description: string;
  /**
   * The hour prefixes of every account and Region under the source whose day is in `range`, in
   * (hour, account, region) order. Only the prefixes in the range are listed: the years, months
   * and days outside it are pruned from their parents' listings.
   */
  hours(range: DayRange): Promise<LogHour[]>;
  /** The log objects directly in an hour (not under `data/`), by key. */
  objects(hour: LogHour): Promise<LogObject[]>;
  /** The bytes of an object, streamed. */
  open(object: LogObject): AsyncIterable<Uint8Array>;
}

/** A log source or a day range that cannot be used: not an `s3://` URL, not a `YYYY-MM-DD` day. */
export class InvalidLogSourceError extends BedrockSpendError {
  /** The value refused. */
  readonly value: string;
  constructor(value: string, message: string) {
    super(message);
    this.name = "InvalidLogSourceError";
    this.value = value;
  }
}

/**
 * A listing or a read that failed, with what was attempted: `action` is the IAM action the request
 * needs (`s3:ListBucket`, `s3:GetObject`) or, for a directory, `list` or `read`; `resource` the
 * ARN or the path; `code` S3's error code (or the SDK's error name), or the file system's (`ENOENT`).
 */
export class LogSourceError extends BedrockSpendError {
  readonly action: string;
  readonly resource: string;
  readonly code: string;
  /** The HTTP status, when S3 answered. */
  readonly status: number | undefined;
  constructor(message: string, details: { action: string; resource: string; code: string; status?: number; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.name = "LogSourceError";
    this.action = details.action;
    this.resource = details.resource;
    this.code = details.code;
    this.status = details.status;
  }
}

/**
 * The bucket and key prefix of `s3://bucket` or `s3://bucket/prefix`; the prefix is `""` or ends
 * with `/`. Throws `InvalidLogSourceError` for anything else.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/s.exec(url);
  const bucket = match?.[1] ?? "";
  // Bucket names of the general purpose rules, plus the uppercase and underscores of legacy us-east-1 buckets.
  if (!match || !/^[a-z0-9][a-z0-9._-]{1,253}[a-z0-9]$/i.test(bucket)) {
    throw new InvalidLogSourceError(url, `${JSON.stringify(url)} is not an S3 location: expected s3://bucket or s3://bucket/prefix`);
  }
  return { bucket, prefix: normalizePrefix(match[2] ?? "") };
}

function normalizePrefix(prefix: string): string {
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

const AWS_LOGS = "AWSLogs";
const SERVICE = "BedrockModelInvocationLogs";
const ACCOUNT = /^\d{12}$/;
const YEAR = /^\d{4}$/;
const MONTH = /^(0[1-9]|1[0-2])$/;
const DAY = /^(0[1-9]|[12]\d|3[01])$/;
const HOUR = /^([01]\d|2[0-3])$/;
const DEFAULT_CONCURRENCY = 8;

function isDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function checkRange(range: DayRange): void {
  for (const [end, value] of [
    ["from", range.from],
    ["to", range.to],
  ] as const) {
    if (value !== undefined && !isDay(value)) throw new InvalidLogSourceError(value, `${JSON.stringify(value)} is not a day (${end}): expected YYYY-MM-DD`);
  }
}

/** S3's key order: UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function compareHours(a: LogHour, b: LogHour): number {
  if (a.hour !== b.hour) return a.hour < b.hour ? -1 : 1;
  if (a.account !== b.account) return a.account < b.account ? -1 : 1;
  return a.region < b.region ? -1 : a.region > b.region ? 1 : 0;
}

/** Runs at most `concurrency` of the calls at once. */
function limiter(concurrency: number): <T>(call: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (call) => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await call();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** The tree as the walk sees it: a location's child "directories", and a child's location. */
interface Tree {
  children(location: string): Promise<string[]>;
  child(location: string, name: string): string;
}

/**
 * The hours in `range` under `root`, whose trailing path segments tell its level: the region
 * (`AWSLogs/<account>/BedrockModelInvocationLogs/<region>`), the service, the account, `AWSLogs`,
 * or the root above `AWSLogs`. Years, months and days outside the range are never listed.
 */
async function walkHours(tree: Tree, root: string, segments: string[], range: DayRange): Promise<LogHour[]> {
  checkRange(range);
  const { from, to } = range;
  if (from !== undefined && to !== undefined && from > to) return [];
  const overlaps = (first: string, last: string) => (from === undefined || last >= from) && (to === undefined || first <= to);
  const at = (fromEnd: number) => segments[segments.length - fromEnd];

  const regionsOf = async (account: string, service: string) =>
    (await tree.children(service)).map((region) => ({ account, region, location: tree.child(service, region) }));
  const accountsOf = async (awsLogs: string) =>
    (
      await Promise.all(
        (
          await tree.children(awsLogs)
        )
          .filter((name) => ACCOUNT.test(name))
          .map((account) => regionsOf(account, tree.child(tree.child(awsLogs, account), SERVICE))),
      )
    ).flat();

  let regions: { account: string; region: string; location: string }[];
  if (at(2) === SERVICE && at(4) === AWS_LOGS) regions = [{ account: at(3) as string, region: at(1) as string, location: root }];
  else if (at(1) === SERVICE && at(3) === AWS_LOGS) regions = await regionsOf(at(2) as string, root);
  else if (at(2) === AWS_LOGS) regions = await regionsOf(at(1) as string, tree.child(root, SERVICE));
  else if (at(1) === AWS_LOGS) regions = await accountsOf(root);
  else regions = await accountsOf(tree.child(root, AWS_LOGS));

  const hours: LogHour[] = [];
  await Promise.all(
    regions.map(async ({ account, region, location }) => {
      const years = (await tree.children(location)).filter((year) => YEAR.test(year) && overlaps(`${year}-01-01`, `${year}-12-31`));
      await Promise.all(
        years.map(async (year) => {
          const yearLocation = tree.child(location, year);
          const months = (await tree.children(yearLocation)).filter((month) => MONTH.test(month) && overlaps(`${year}-${month}-01`, `${year}-${month}-31`));
          await Promise.all(
            months.map(async (month) => {
              const monthLocation = tree.child(yearLocation, month);
              const days = (await tree.children(monthLocation)).filter((day) => {
                const date = `${year}-${month}-${day}`;
                return DAY.test(day) && isDay(date) && overlaps(date, date);
              });
              await Promise.all(
                days.map(async (day) => {
                  const dayLocation = tree.child(monthLocation, day);
                  for (const hour of await tree.children(dayLocation)) {
                    if (!HOUR.test(hour)) continue;
                    hours.push({
                      key: `${account}/${region}/${year}/${month}/${day}/${hour}`,
                      account,
                      region,
                      hour: `${year}-${month}-${day}T${hour}`,
                      location: tree.child(dayLocation, hour),
                    });
                  }
                }),
              );
            }),
          );
        }),
      );
    }),
  );
  return hours.sort(compareHours);
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Options of `S3InvocationLogSource`. */
export interface S3InvocationLogSourceOptions {
  client: S3Client;
  bucket: string;
  /** The key prefix: above `AWSLogs/`, or `AWSLogs/<account>/` or deeper down to the Region; `""` for the bucket's root. */
  prefix?: string;
  /** ListObjectsV2 requests in flight at once while walking (default 8). */
  concurrency?: number;
}

/**
 * Invocation logs in an S3 bucket, listed with ListObjectsV2 (delimiter `/`, every page) and read
 * with GetObject. Needs `s3:ListBucket` on the bucket and `s3:GetObject` on its objects (and
 * `kms:Decrypt` when they are encrypted with a KMS key); failures are `LogSourceError`s naming
 * what is missing.
 */
export class S3InvocationLogSource implements InvocationLogSource {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly limit: <T>(call: () => Promise<T>) => Promise<T>;

  constructor(options: S3InvocationLogSourceOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? "");
    this.description = `s3://${this.bucket}/${this.prefix}`;
    this.limit = limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  hours(range: DayRange): Promise<LogHour[]> {
    const tree: Tree = {
      children: async (prefix) => {
        const names: string[] = [];
        await this.list(prefix, (page) => {
          for (const common of page.CommonPrefixes ?? []) {
            if (common.Prefix?.startsWith(prefix) && common.Prefix.length > prefix.length + 1) names.push(common.Prefix.slice(prefix.length, -1));
          }
        });
        return names;
      },
      child: (prefix, name) => `${prefix}${name}/`,
    };
    return walkHours(tree, this.prefix, this.prefix.split("/").filter(Boolean), range);
  }

  async objects(hour: LogHour): Promise<LogObject[]> {
    const objects: LogObject[] = [];
    await this.list(hour.location, (page) => {
      for (const object of page.Contents ?? []) {
        // A key ending in `/` is a "folder" marker (the console's), never a log object, and a directory copy could not hold it.
        if (object.Key && !object.Key.endsWith("/")) objects.push({ key: object.Key, size: object.Size ?? 0 });
      }
    });
    return objects.sort((a, b) => compareUtf8(a.key, b.key));
  }

  async *open(object: LogObject): AsyncIterable<Uint8Array> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }))).Body;
    } catch (error) {
      throw this.failure(error, "GetObject", object.key);
    }
    if (body === undefined) return;
    try {
      if (typeof body === "object" && body !== null && Symbol.asyncIterator in body) {
        for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
      } else {
        yield await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      }
    } catch (error) {
      throw this.failure(error, "GetObject", object.key);
    }
  }

  /** Every page of a delimited listing of `prefix`. */
  private async list(prefix: string, onPage: (page: ListObjectsV2CommandOutput) => void): Promise<void> {
    let token: string | undefined;
    do {
      const input = { Bucket: this.bucket, Prefix: prefix, Delimiter: "/", ...(token ? { ContinuationToken: token } : {}) };
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.limit(() => this.client.send(new ListObjectsV2Command(input)));
      } catch (error) {
        throw this.failure(error, "ListObjectsV2", prefix);
      }
      onPage(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** A `LogSourceError` saying what the caller lacks, for an S3 failure. */
  private failure(error: unknown, operation: "ListObjectsV2" | "GetObject", key: string): LogSourceError {
    if (error instanceof LogSourceError) return error;
    const sdk = (typeof error === "object" && error !== null ? error : {}) as SdkError;
    const status = sdk.$metadata?.httpStatusCode;
    let code = sdk.Code ?? (sdk.name && sdk.name !== "Error" ? sdk.name : undefined) ?? sdk.code ?? "Unknown";
    // A 403 without an error document (some proxies and VPC endpoint policies) is still a refusal.
    if (status === 403 && ["Unknown", "UnknownError", "Forbidden", "403"].includes(code)) code = "AccessDenied";
    const listing = operation === "ListObjectsV2";
    const action = listing ? "s3:ListBucket" : "s3:GetObject";
    const resource = listing ? `arn:aws:s3:::${this.bucket}` : `arn:aws:s3:::${this.bucket}/${key}`;
    // S3's own message says more only for a refusal (an explicit deny, a KMS key) or an unexpected error.
    const detail = sdk.message && sdk.message !== code && sdk.message !== "Access Denied" && sdk.message !== "UnknownError" ? ` (${sdk.message})` : "";
    let reason: string;
    switch (code) {
      case "AccessDenied":
      case "AllAccessDisabled":
        reason = `access denied: the caller lacks ${action} on ${resource}${
          listing ? "" : " (or kms:Decrypt on the KMS key encrypting it; or the object is gone and the caller lacks s3:ListBucket)"
        }${detail}`;
        break;
      case "NoSuchBucket":
        reason = `the bucket ${this.bucket} does not exist`;
        break;
      case "NoSuchKey":
        reason = "the object does not exist (deleted after it was listed?)";
        break;
      case "ExpiredToken":
      case "ExpiredTokenException":
      case "TokenRefreshRequired":
        reason = "the AWS session expired: renew the credentials (e.g. `aws sso login`) and run again";
        break;
      case "InvalidAccessKeyId":
      case "SignatureDoesNotMatch":
      case "InvalidToken":
        reason = `the AWS credentials were refused (${code})`;
        break;
      case "CredentialsProviderError":
        reason = "no AWS credentials were found";
        break;
      case "PermanentRedirect":
      case "AuthorizationHeaderMalformed":
        reason = `the bucket ${this.bucket} is in another Region than the client's`;
        break;
      default:
        reason = `${action} on ${resource} failed (${status ?? "no response"} ${code})${detail}`;
    }
    const what = listing ? `listing s3://${this.bucket}/${key}` : `reading s3://${this.bucket}/${key}`;
    return new LogSourceError(`${what}: ${reason}`, { action, resource, code, ...(status !== undefined ? { status } : {}), cause: error });
  }
}

/** Options of `DirectoryInvocationLogSource`. */
export interface DirectoryInvocationLogSourceOptions {
  /** The directory above `AWSLogs`, or `AWSLogs/<account>` or deeper down to the Region's directory. */
  directory: string;
  /** Directories read at once while walking (default 8). */
  concurrency?: number;
}

function fsFailure(error: unknown, action: "list" | "read", path: string): LogSourceError {
  if (error instanceof LogSourceError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "Unknown";
  const reason =
    code === "ENOENT"
      ? "it does not exist"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "ENOTDIR"
          ? "it is not a directory"
          : (error as Error).message;
  return new LogSourceError(`${action === "list" ? "listing" : "reading"} ${path}: ${reason}`, { action, resource: path, code, cause: error });
}

/**
 * Invocation logs in a local directory holding the S3 layout (an `aws s3 sync` copy, or tests and
 * benchmarks). Objects are the regular files directly in an hour's directory, dotfiles excepted.
 */
export class DirectoryInvocationLogSource implements InvocationLogSource {
  readonly description: string;
  private readonly directory: string;
  private readonly limit: <T>(call: () => Promise<T>) => Promise<T>;

  constructor(options: DirectoryInvocationLogSourceOptions) {
    this.directory = resolve(options.directory);
    this.description = this.directory;
    this.limit = limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  async hours(range: DayRange): Promise<LogHour[]> {
    checkRange(range);
    let root: Stats;
    try {
      root = await stat(this.directory);
    } catch (error) {
      throw fsFailure(error, "list", this.directory);
    }
    if (!root.isDirectory()) throw fsFailure(Object.assign(new Error("not a directory"), { code: "ENOTDIR" }), "list", this.directory);
    const tree: Tree = {
      children: async (directory) => (await this.entries(directory, "directory")).map((entry) => entry.name),
      child: (directory, name) => join(directory, name),
    };
    return walkHours(tree, this.directory, this.directory.split(sep).filter(Boolean), range);
  }

  async objects(hour: LogHour): Promise<LogObject[]> {
    const files = await this.entries(hour.location, "file");
    return files.map(({ name, size }) => ({ key: join(hour.location, name), size })).sort((a, b) => compareUtf8(a.key, b.key));
  }

  async *open(object: LogObject): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of createReadStream(object.key)) yield chunk as Buffer;
    } catch (error) {
      throw fsFailure(error, "read", object.key);
    }
  }

  /**
   * The subdirectories or the regular files of a directory (symbolic links followed), dotfiles
   * excepted. A directory that is not there has none, as an S3 prefix with nothing under it.
   */
  private async entries(directory: string, kind: "directory" | "file"): Promise<{ name: string; size: number }[]> {
    let dirents: Dirent[];
    try {
      dirents = await this.limit(() => readdir(directory, { withFileTypes: true }));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return [];
      throw fsFailure(error, "list", directory);
    }
    const entries = await Promise.all(
      dirents
        .filter((dirent) => !dirent.name.startsWith("."))
        .map(async (dirent) => {
          const { name } = dirent;
          // Directories need no stat unless behind a link; files need one for their size.
          if (kind === "directory" && !dirent.isSymbolicLink()) return dirent.isDirectory() ? { name, size: 0 } : undefined;
          if (kind === "file" && !dirent.isSymbolicLink() && !dirent.isFile()) return undefined;
          let stats: Stats;
          try {
            stats = await this.limit(() => stat(join(directory, name)));
          } catch (error) {
            // A dangling symbolic link, or an entry removed since the listing.
            if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw fsFailure(error, "list", join(directory, name));
          }
          return (kind === "directory" ? stats.isDirectory() : stats.isFile()) ? { name, size: stats.size } : undefined;
        }),
    );
    return entries.filter((entry) => entry !== undefined);
  }
}
