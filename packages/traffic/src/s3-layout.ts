/**
 * Traffic as Bedrock delivers invocation logs to S3: gzip JSON Lines objects under
 * `<prefix>AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`, the hour of each
 * object being the hour its records were written. For backfill tests and benchmarks.
 */
import { gzipSync } from "node:zlib";
import { itemLine, type TrafficItem } from "./generate";

/** One object of the delivery. */
export interface S3LogObject {
  key: string;
  /** gzip of the JSON Lines. */
  body: Uint8Array;
  /** Lines it holds (records, malformed and permission lines). */
  lines: number;
}

/** Options of `s3LogObjects`. */
export interface S3LayoutOptions {
  /** Key prefix above `AWSLogs/` (empty, or ending in `/`). Default empty. */
  prefix?: string;
  accountId?: string;
  region?: string;
  /** Lines per object at most; an hour's lines are cut into objects of this size. Default 500. */
  linesPerObject?: number;
}

const pad = (value: number, digits = 2) => String(value).padStart(digits, "0");

/** The items as S3 objects, hour by hour, in the order given (items should be in time order). */
export function* s3LogObjects(items: Iterable<TrafficItem>, options: S3LayoutOptions = {}): Generator<S3LogObject> {
  const prefix = options.prefix ?? "";
  const account = options.accountId ?? "123456789012";
  const region = options.region ?? "us-east-1";
  const perObject = options.linesPerObject ?? 500;
  if (!Number.isInteger(perObject) || perObject < 1) throw new RangeError(`linesPerObject must be a positive integer, got ${perObject}`);
  let hourKey = "";
  let lines: string[] = [];
  let firstMs = 0;
  let sequence = 0;
  const close = (): S3LogObject => {
    const time = new Date(firstMs);
    const stamp = `${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}T${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}${pad(time.getUTCMilliseconds(), 3)}Z`;
    const object = { key: `${hourKey}${stamp}_${pad(sequence++, 6)}.json.gz`, body: new Uint8Array(gzipSync(`${lines.join("\n")}\n`)), lines: lines.length };
    lines = [];
    return object;
  };
  for (const item of items) {
    const time = new Date(item.timestampMs);
    const key = `${prefix}AWSLogs/${account}/BedrockModelInvocationLogs/${region}/${time.getUTCFullYear()}/${pad(time.getUTCMonth() + 1)}/${pad(time.getUTCDate())}/${pad(time.getUTCHours())}/`;
    if (lines.length > 0 && (key !== hourKey || lines.length >= perObject)) yield close();
    if (lines.length === 0) {
      hourKey = key;
      firstMs = item.timestampMs;
    }
    lines.push(itemLine(item));
  }
  if (lines.length > 0) yield close();
}
