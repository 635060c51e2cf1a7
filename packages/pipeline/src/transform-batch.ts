/**
 * The Firehose transform's batch: one Firehose data-transformation event of CloudWatch Logs
 * subscription records in, one answer per record out (`Ok` with lake documents and partition
 * keys, `Dropped`, or `ProcessingFailed` with the data as received), the response under Lambda's
 * 6 MB. The lake's consumer of the stream, beside the aggregate batch (`aggregate-batch.ts`), the
 * other consumer: both decode and price with `decodeAndPrice`, so the lake and the aggregates
 * never disagree on a cost.
 *
 * Pure: no I/O, no AWS SDK; the transform Lambda and local mode's Firehose call it.
 */

import {
  type DecodedItem,
  decodeAndPrice,
  decodeCanonicalBase64,
  decodeInput,
  LakeDocumentWriter,
  LakeEncodingError,
  lakePartitionKeys,
  lakePartitionPath,
  type Pricer,
  priceItems,
} from "@bedrock-spend/core";

/** Lambda's cap on a synchronous invocation's response (and request): 6 MiB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/** Default response budget of the transform: the Lambda cap less a 256 KiB margin. */
export const DEFAULT_MAX_RESPONSE_BYTES = LAMBDA_RESPONSE_LIMIT_BYTES - 256 * 1024;

/** A character that is neither base64 nor padding: data with one needs escaping in JSON. */
const NOT_BASE64_CHAR = /[^A-Za-z0-9+/=]/;

/** One record of a Firehose transformation event (only the fields the transform reads). */
export interface FirehoseInputRecord {
  recordId: string;
  /** Base64 of the record's data (for a CloudWatch Logs subscription: gzip of the payload). */
  data: string;
}

/** Result of one record, shaped as Firehose's `FirehoseTransformationResultRecord`. */
export type FirehoseOutputRecord =
  | { recordId: string; result: "Ok"; data: string; metadata: { partitionKeys: Record<string, string> } }
  | { recordId: string; result: "Dropped"; data: string }
  | { recordId: string; result: "ProcessingFailed"; data: string };

/**
 * Why a record came back `ProcessingFailed`:
 * - `base64`: its data is not base64;
 * - `invalid`: it decodes to no usage record but to at least one invalid item (bad gzip, not
 *   JSON, not a subscription payload, or only malformed log events);
 * - `unencodable`: a usage record in it does not fit the lake columns;
 * - `oversize`: not processed, because the response would have exceeded its size budget.
 */
export type TransformFailureReason = "base64" | "invalid" | "unencodable" | "oversize";

/** A record returned as `ProcessingFailed`. `fields` names what was wrong; never raw content. */
export interface TransformFailure {
  recordId: string;
  reason: TransformFailureReason;
  fields: string[];
}

/** What the records processed hold: counted per output record, summed over the transformation. */
export interface TransformItemCounts {
  /** Lake documents written (priced and unpriced). */
  usageRows: number;
  /** Of `usageRows`, those with status `unpriced`. */
  unpricedRows: number;
  /** Invalid items (not rows in the lake; the aggregate path quarantines them in the dead-letter queue). */
  invalidRecords: number;
  /** Control messages and permissions lines, skipped on purpose. */
  skipped: number;
  /** Rows written under another day's partition than their own `event_time` (a payload across midnight UTC). */
  crossPartitionRows: number;
  /** Exact cost of the rows written, pico-dollars. */
  costPico: bigint;
}

const ITEM_COUNTS = ["usageRows", "unpricedRows", "invalidRecords", "skipped", "crossPartitionRows"] as const;

/**
 * Counts of one transformation. `recordsIn = ok + dropped + processingFailed + oversizeFailed`.
 * Item counts (rows, invalid, skipped) cover the records that were processed, not the oversize ones.
 */
export interface TransformStats extends TransformItemCounts {
  recordsIn: number;
  ok: number;
  dropped: number;
  /** Failed for their content (reasons `base64`, `invalid`, `unencodable`). */
  processingFailed: number;
  /** Failed unprocessed by the response-size guard (reason `oversize`); kept by `transformKeepingFailures`, the lake redrive processes them. */
  oversizeFailed: number;
  /** Size of the response as JSON, bytes. */
  responseBytes: number;
  failures: TransformFailure[];
}

/** The counts of a transformation of `recordsIn` records before any is answered. */
export function emptyTransformStats(recordsIn: number): TransformStats {
  return {
    recordsIn,
    ok: 0,
    dropped: 0,
    processingFailed: 0,
    oversizeFailed: 0,
    usageRows: 0,
    unpricedRows: 0,
    invalidRecords: 0,
    skipped: 0,
    crossPartitionRows: 0,
    costPico: 0n,
    responseBytes: 0,
    failures: [],
  };
}

/** Options of `transformFirehoseRecords`. */
export interface TransformOptions {
  /** Budget of the whole response as JSON, bytes. Default `DEFAULT_MAX_RESPONSE_BYTES`. */
  maxResponseBytes?: number;
}

/** Result of one record before the size check, with the counts it adds when kept. */
interface RecordAnswer extends TransformItemCounts {
  output: FirehoseOutputRecord;
  bytes: number;
  failure?: TransformFailure;
}

const RESPONSE_FRAME_BYTES = Buffer.byteLength(JSON.stringify({ records: [] }));

/** The transform's documents, one buffer reused from output record to output record (the transform is synchronous). */
const documents = new LakeDocumentWriter();

/**
 * Bytes of one output record in the response JSON, without serializing its (large) data twice.
 * `dataIsBase64`: the caller knows the data is base64 (nothing to escape), which spares a scan.
 */
function outputBytes(output: FirehoseOutputRecord, dataIsBase64 = !NOT_BASE64_CHAR.test(output.data)): number {
  const frame = Buffer.byteLength(JSON.stringify({ ...output, data: "" }));
  const data = dataIsBase64 ? output.data.length : Buffer.byteLength(JSON.stringify(output.data)) - 2;
  return frame + data;
}

function failedAsReceived(record: FirehoseInputRecord): FirehoseOutputRecord {
  return { recordId: record.recordId, result: "ProcessingFailed", data: record.data };
}

function plainAnswer(output: FirehoseOutputRecord): RecordAnswer {
  return { output, bytes: outputBytes(output), usageRows: 0, unpricedRows: 0, invalidRecords: 0, skipped: 0, crossPartitionRows: 0, costPico: 0n };
}

function failedAnswer(record: FirehoseInputRecord, reason: TransformFailureReason, fields: string[]): RecordAnswer {
  const answer = plainAnswer(failedAsReceived(record));
  answer.failure = { recordId: record.recordId, reason, fields };
  return answer;
}

/** `bytes`: the record's data decoded, undefined when it is not canonical base64 (checked once by the caller). */
function transformOne(record: FirehoseInputRecord, pricer: Pricer, bytes: Buffer | undefined, items: DecodedItem[] | undefined): RecordAnswer {
  if (bytes === undefined) return failedAnswer(record, "base64", ["data"]);
  const priced = items ? priceItems(items, pricer) : decodeAndPrice(bytes, pricer);
  documents.reset();
  let rows = 0;
  let partitionKeys: Record<string, string> | undefined;
  let partitionDay = "";
  let unpricedRows = 0;
  let crossPartitionRows = 0;
  let costPico = 0n;
  let unencodable: LakeEncodingError | undefined;
  for (const { usage } of priced.usage) {
    const row = usage.record;
    try {
      documents.append(row);
    } catch (error) {
      if (!(error instanceof LakeEncodingError)) throw error;
      unencodable ??= error;
      continue;
    }
    rows++;
    const day = lakePartitionPath(row);
    // One output record has one set of partition keys: the first row's day. A payload spans
    // seconds, so only one that straddles midnight UTC puts rows under the neighbouring day.
    if (partitionKeys === undefined) {
      partitionKeys = lakePartitionKeys(row);
      partitionDay = day;
    } else if (day !== partitionDay) {
      crossPartitionRows++;
    }
    if (row.status === "unpriced") unpricedRows++;
    if (usage.costPico !== null) costPico += usage.costPico;
  }
  const invalidRecords = priced.invalid.length;
  const skipped = priced.skipped;
  if (unencodable) {
    const answer = failedAnswer(record, "unencodable", [unencodable.column]);
    answer.invalidRecords = invalidRecords;
    answer.skipped = skipped;
    return answer;
  }
  if (partitionKeys === undefined) {
    const answer =
      invalidRecords > 0
        ? failedAnswer(record, "invalid", [...new Set(priced.invalid.map((outcome) => outcome.field))])
        : plainAnswer({ recordId: record.recordId, result: "Dropped", data: "" });
    answer.invalidRecords = invalidRecords;
    answer.skipped = skipped;
    return answer;
  }
  const output: FirehoseOutputRecord = {
    recordId: record.recordId,
    result: "Ok",
    data: documents.base64(),
    metadata: { partitionKeys },
  };
  return {
    output,
    bytes: outputBytes(output, true),
    usageRows: rows,
    unpricedRows,
    invalidRecords,
    skipped,
    crossPartitionRows,
    costPico,
  };
}

/**
 * Firehose data transformation of CloudWatch Logs subscription records into lake documents.
 *
 * Every input `recordId` comes back exactly once, in input order:
 * - `Ok`: base64 of the newline-terminated lake documents of the payload's usage records (priced
 *   and unpriced), with `metadata.partitionKeys` {year, month, day} of the first usage record.
 *   Invalid items beside them are counted, not written: the aggregate path quarantines them.
 *   Firehose takes one set of partition keys per output record, and one record cannot be split:
 *   a payload spans seconds, so only one that straddles midnight UTC (rare) files its rows of the
 *   other day under the first row's day. They are counted in `crossPartitionRows`; a query exact
 *   at a day boundary filters on `event_time` and reads the neighbouring day's partition too.
 * - `Dropped`: the payload has no usage record and no invalid item (a control message, the
 *   permissions line, an empty payload).
 * - `ProcessingFailed`, data as received: the payload yields no usage record but some invalid
 *   item (bad base64, gzip or JSON, or malformed events only), or a row that does not fit the
 *   lake columns. `transformKeepingFailures` (lake-failures.ts) keeps it, raw content included, in
 *   the raw failure store and answers it `Dropped`, so that Firehose does not write it to the lake bucket.
 *
 * The response stays within `maxResponseBytes` as serialized JSON: a record whose `Ok` result
 * would break the budget, and every record after it, comes back `ProcessingFailed` with its
 * original data (reason `oversize`), kept like the others for the lake redrive to process. The budget
 * reserves room to return every later record as received, so the guard itself always fits,
 * unless the records as received exceed the budget on their own. That cannot happen with the
 * default: Firehose buffers at most 3 MB for the Lambda, 4 MB as base64, well under the budget.
 *
 * Never throws on bad input.
 */
export function transformFirehoseRecords(
  records: readonly FirehoseInputRecord[],
  pricer: Pricer,
  options: TransformOptions = {},
  /** Each record's items, decoded ahead (by `transformFirehoseBatch`); undefined: decoded here, one record at a time. */
  decodedItems?: readonly (DecodedItem[] | undefined)[],
): { records: FirehoseOutputRecord[]; stats: TransformStats } {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    throw new RangeError(`maxResponseBytes must be a positive integer, got ${maxResponseBytes}`);
  }
  const stats = emptyTransformStats(records.length);
  // reserve[i]: bytes to return records i.. as received, with the commas before them.
  const reserve: number[] = new Array(records.length + 1).fill(0);
  const receivedBytes: number[] = new Array(records.length).fill(0);
  const decoded: Array<Buffer | undefined> = new Array(records.length).fill(undefined);
  for (let index = records.length - 1; index >= 0; index--) {
    const record = records[index] as FirehoseInputRecord;
    decoded[index] = decodeCanonicalBase64(record.data);
    // Canonical base64 has nothing to escape in JSON; anything else is measured as it will be written.
    receivedBytes[index] = outputBytes(failedAsReceived(record), decoded[index] !== undefined || undefined);
    reserve[index] = (reserve[index + 1] as number) + (receivedBytes[index] as number) + (index > 0 ? 1 : 0);
  }
  const outputs: FirehoseOutputRecord[] = [];
  let used = RESPONSE_FRAME_BYTES;
  let overflowAt = records.length;
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as FirehoseInputRecord;
    const answer = transformOne(record, pricer, decoded[index], decodedItems?.[index]);
    decoded[index] = undefined;
    const bytes = answer.bytes + (index > 0 ? 1 : 0);
    if (used + bytes + (reserve[index + 1] as number) > maxResponseBytes && answer.output.result === "Ok") {
      overflowAt = index;
      break;
    }
    used += bytes;
    outputs.push(answer.output);
    for (const count of ITEM_COUNTS) stats[count] += answer[count];
    stats.costPico += answer.costPico;
    if (answer.failure) stats.failures.push(answer.failure);
    if (answer.output.result === "Ok") stats.ok++;
    else if (answer.output.result === "Dropped") stats.dropped++;
    else stats.processingFailed++;
  }
  for (let index = overflowAt; index < records.length; index++) {
    const record = records[index] as FirehoseInputRecord;
    outputs.push(failedAsReceived(record));
    used += (receivedBytes[index] as number) + (index > 0 ? 1 : 0);
    stats.oversizeFailed++;
    stats.failures.push({ recordId: record.recordId, reason: "oversize", fields: [] });
  }
  stats.responseBytes = used;
  return { records: outputs, stats };
}

/**
 * `transformFirehoseRecords` for a pricer that resolves ahead (application inference profiles
 * fetched from Bedrock): the batch is decoded whole, its profiles resolved once, then priced. With
 * any other pricer, each record is decoded as it is transformed, which keeps less in memory.
 */
export async function transformFirehoseBatch(
  records: readonly FirehoseInputRecord[],
  pricer: Pricer,
  options: TransformOptions = {},
): Promise<{ records: FirehoseOutputRecord[]; stats: TransformStats }> {
  if (!pricer.resolvesAhead) return transformFirehoseRecords(records, pricer, options);
  const items = records.map((record) => {
    const bytes = decodeCanonicalBase64(record.data);
    return bytes === undefined ? undefined : decodeInput(bytes);
  });
  await pricer.prepare(items.flatMap((list) => list ?? []));
  return transformFirehoseRecords(records, pricer, options, items);
}
