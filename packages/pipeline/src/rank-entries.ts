/**
 * Rank entries from the aggregates table's change stream: each month total whose cost moved it to
 * another rank bucket has its entry moved (store/src/rank.ts). Shared by the budget-alert Lambda
 * (the table's stream consumer) and local mode, which runs that handler.
 *
 * Only the newest record of each total in a batch counts: it carries the total's latest cost and
 * the entry it records, so a batch moves an entry at most once. A move that lost its condition (a
 * retried batch, or a later record came first) is skipped: the total's next record moves it from
 * wherever it is. A move that failed otherwise reports its record, to be retried.
 *
 * The first batch a consumer of this version handles also writes the rank marker: since when the
 * entries follow every change (store/src/rank.ts), which tells the report which months it can rank
 * from the entries and which it must read from the lake.
 */
import { BedrockSpendError, compareSequenceNumbers } from "@bedrock-spend/core";
import { type AggregatesStore, type Item, type RankChange, rankChangeOf } from "@bedrock-spend/store";

/** One record of the table's stream, as far as ranking reads it (Lambda's `DynamoDBRecord` is one). */
export interface RankStreamRecord {
  eventName?: string | undefined;
  dynamodb?: { Keys?: Item | undefined; NewImage?: Item | undefined; OldImage?: Item | undefined; SequenceNumber?: string | undefined } | undefined;
}

/** Counts of one batch. */
export interface RankStreamStats {
  /** Entries moved. */
  moved: number;
  /** Moves skipped because another came first. */
  superseded: number;
  /** Moves that failed: their records are to be retried. */
  failed: number;
}

/** What the batch asks of its event source, and its counts. */
export interface RankStreamResult {
  /** Sequence number of the lowest failed record, to retry from; undefined when all succeeded. */
  retryFrom: string | undefined;
  stats: RankStreamStats;
  /** The failures, for the caller to log. */
  errors: Error[];
  /** The rank marker's value, when this batch wrote it (epoch seconds). */
  markedSince?: number | undefined;
  /** 1 when the marker was absent and could not be written (the next batch tries again), else 0. */
  markerFailures: number;
}

/** What ranking needs of the store. */
export type RankStore = Pick<AggregatesStore, "moveRank" | "rankSince" | "markRankSince" | "approximateItemCount">;

/** A rank marker that could not be written: the moves go on, and the next batch tries again. */
export class RankMarkerError extends BedrockSpendError {
  constructor(cause: unknown) {
    super(`rank marker not written (the next batch writes it): ${(cause as Error).message}`, { cause });
    this.name = "RankMarkerError";
  }
}

/**
 * Writes the rank marker on the consumer's first batch; returns the value written, undefined when
 * the marker was there. A table AWS counts no item in (the count is refreshed about every six
 * hours, and the stream keeps 24 hours of changes, which a new event source mapping reads from the
 * start) has had all its changes seen by this consumer: 0. Otherwise (a count, or none given)
 * this version came to a table an earlier one counted in: from now on. Writing it late is never wrong, only cautious: every
 * change after any instant this consumer runs at is seen, so a failed write is left to the next batch.
 */
export async function ensureRankMarker(store: RankStore, now: number): Promise<number | undefined> {
  if ((await store.rankSince()) !== undefined) return undefined;
  const since = (await store.approximateItemCount()) === 0 ? 0 : Math.floor(now / 1000);
  return store.markRankSince(since);
}

/** Moves the rank entries a batch of stream records calls for (`now`: epoch ms, for the marker). Never throws. */
export async function maintainRankEntries(records: readonly RankStreamRecord[], store: RankStore, now: number): Promise<RankStreamResult> {
  const errors: Error[] = [];
  if (records.length === 0) return { retryFrom: undefined, stats: { moved: 0, superseded: 0, failed: 0 }, errors, markerFailures: 0 };
  let markedSince: number | undefined;
  let markerFailures = 0;
  try {
    markedSince = await ensureRankMarker(store, now);
  } catch (error) {
    errors.push(new RankMarkerError(error));
    markerFailures = 1;
  }
  const newest = new Map<string, { change: RankChange | undefined; sequenceNumber: string }>();
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const keys = record.dynamodb?.Keys;
    if (!sequenceNumber || !keys) continue;
    const id = `${keys.pk?.S ?? ""}\u0000${keys.sk?.S ?? ""}`;
    // A later record of the same item supersedes an earlier one, also when it calls for no move.
    newest.set(id, { change: rankChangeOf(record.eventName, keys, record.dynamodb?.NewImage, record.dynamodb?.OldImage), sequenceNumber });
  }
  const stats: RankStreamStats = { moved: 0, superseded: 0, failed: 0 };
  const failed: string[] = [];
  for (const { change, sequenceNumber } of newest.values()) {
    if (!change) continue;
    try {
      if (await store.moveRank(change)) stats.moved++;
      else stats.superseded++;
    } catch (error) {
      stats.failed++;
      failed.push(sequenceNumber);
      errors.push(error as Error);
    }
  }
  return { retryFrom: failed.sort(compareSequenceNumbers)[0], stats, errors, markedSince, markerFailures };
}
