/**
 * One batch of stream records through the aggregate path: decode each record's data (CloudWatch
 * Logs subscription payloads, base64 of gzip), price every invocation, count them exactly once in
 * the aggregates table, quarantine what cannot be read, and say which records must be retried.
 *
 * The same function serves the Kinesis aggregate Lambda, local mode's poller, `ingest` and the
 * redrive, so that every path counts the same way.
 */

import { type DeadLetterQueue, type QuarantinedRecord, quarantined } from "@bedrock-spend/adapters";
import {
  type Clock,
  compareSequenceNumbers,
  currentPricer,
  decodeAndPriceBatch,
  formatSource,
  type InvalidOutcome,
  type PricedItems,
  type PricerSource,
  systemClock,
} from "@bedrock-spend/core";
import type { InvocationToCount, UsageWriter, WriteOutcome } from "@bedrock-spend/store";

/** One stream record: Kinesis data (already base64-decoded) and its position in the stream. */
export interface StreamRecord {
  /** Kinesis sequence number (a decimal string), or any totally ordered id of the record. */
  sequenceNumber: string;
  /** Label of where it came from, e.g. `kinesis:shardId-000000000001:<seq>`. */
  source: string;
  data: Uint8Array;
  /** Epoch ms the record arrived in the stream (for lag). */
  arrivedAt?: number;
}

/** Counts of one batch. `logEvents = counted + duplicates + dropped + quarantined + failed + deferred`. */
export interface BatchStats {
  records: number;
  logEvents: number;
  counted: number;
  duplicates: number;
  dropped: number;
  quarantined: number;
  unpriced: number;
  failed: number;
  /** Invalid items of records that will be retried: quarantined on the pass that settles them. */
  deferred: number;
  /** Exact cost of what this batch counted, pico-dollars. */
  costPico: bigint;
  transactions: number;
  writeUnits: number;
  /** Largest arrival-to-now lag among the records, ms. */
  maxLagMs: number;
}

/** What the batch asks of its event source. */
export interface BatchResult {
  /** Sequence number of the lowest record to retry from (Lambda checkpoints there); undefined when all succeeded. */
  retryFrom: string | undefined;
  stats: BatchStats;
  /** The write outcome, for callers that check it (tests, `ingest`). */
  outcome: WriteOutcome<string>;
}

/** Dependencies of the aggregate path. */
export interface AggregateDependencies {
  /** The pricer, or a source of it read once per batch (reprices switch live pricing over). */
  pricer: PricerSource;
  writer: UsageWriter;
  deadLetters: DeadLetterQueue;
  /** Clock of the lag and of quarantine times. Default the machine's. */
  now?: Clock;
}

/** An invalid outcome as the dead-letter queue keeps it: raw content, reason, field and location. */
export function quarantinedOutcome(outcome: InvalidOutcome, now: number): QuarantinedRecord {
  const entry: Omit<QuarantinedRecord, "id" | "quarantinedAt"> = {
    reason: outcome.reason,
    field: outcome.field,
    raw: outcome.raw,
    source: formatSource(outcome.source),
  };
  if (outcome.partial.requestId !== undefined) entry.requestId = outcome.partial.requestId;
  return quarantined(entry, new Date(now));
}

/** Decodes, prices, counts and quarantines one batch. Never throws for bad data or failed writes. */
export async function processBatch(records: readonly StreamRecord[], deps: AggregateDependencies): Promise<BatchResult> {
  const now = (deps.now ?? systemClock)();
  const stats: BatchStats = {
    records: records.length,
    logEvents: 0,
    counted: 0,
    duplicates: 0,
    dropped: 0,
    quarantined: 0,
    unpriced: 0,
    failed: 0,
    deferred: 0,
    costPico: 0n,
    transactions: 0,
    writeUnits: 0,
    maxLagMs: 0,
  };
  const pricer = await currentPricer(deps.pricer);
  const toCount: InvocationToCount<string>[] = [];
  const bad = new Map<string, QuarantinedRecord[]>();
  const pricedRecords = await decodeAndPriceBatch(
    records.map((record) => ({ data: record.data, options: { file: record.source } })),
    pricer,
  );
  for (const [index, record] of records.entries()) {
    if (record.arrivedAt !== undefined) stats.maxLagMs = Math.max(stats.maxLagMs, now - record.arrivedAt);
    const priced = pricedRecords[index] as PricedItems;
    stats.logEvents += priced.usage.length + priced.invalid.length + priced.skipped;
    stats.dropped += priced.skipped;
    for (const { usage } of priced.usage) toCount.push({ record: usage.record, costPico: usage.costPico, origin: record.sequenceNumber });
    if (priced.invalid.length > 0)
      bad.set(
        record.sequenceNumber,
        priced.invalid.map((outcome) => quarantinedOutcome(outcome, now)),
      );
  }

  const outcome = await deps.writer.write(toCount);
  stats.counted = outcome.counted.length;
  stats.duplicates = outcome.duplicates.length;
  stats.failed = outcome.failed.length;
  stats.transactions = outcome.transactions;
  stats.writeUnits = outcome.writeUnits;
  for (const invocation of outcome.counted) {
    if (invocation.costPico === null) stats.unpriced++;
    else stats.costPico += invocation.costPico;
  }

  // Records at or after the first failure are retried whole; their invalid items are quarantined
  // then, so that each bad item is sent once per successful pass.
  let retryFrom: string | undefined;
  for (const failure of outcome.failed) {
    if (retryFrom === undefined || compareSequenceNumbers(failure.invocation.origin, retryFrom) < 0) retryFrom = failure.invocation.origin;
  }
  const settled = [...bad.entries()].filter(([sequence]) => retryFrom === undefined || compareSequenceNumbers(sequence, retryFrom) < 0);
  const toQuarantine = settled.flatMap(([, list]) => list);
  stats.deferred = [...bad.values()].reduce((sum, list) => sum + list.length, 0) - toQuarantine.length;
  if (toQuarantine.length > 0) {
    try {
      await deps.deadLetters.send(toQuarantine);
      stats.quarantined = toQuarantine.length;
    } catch {
      // The dead-letter queue is down: retry from the first record with a bad item, so that
      // nothing bad is lost; the good records before it stay counted.
      const first = settled.map(([sequence]) => sequence).sort(compareSequenceNumbers)[0];
      if (first !== undefined && (retryFrom === undefined || compareSequenceNumbers(first, retryFrom) < 0)) retryFrom = first;
      stats.deferred += toQuarantine.length;
    }
  }
  return { retryFrom, stats, outcome };
}
