/**
 * The backfill: Bedrock's S3 invocation logs of past hours into the aggregates and the lake,
 * each invocation exactly once, hour by hour and resumably (docs/backfill.md).
 *
 * Every record is decoded and priced as live traffic is. Then its month decides its path:
 * - an open month (its dedup markers are all still kept): the live path, through the stream, whose
 *   consumers count each request id once by its marker, however often it is sent;
 * - a settled month (no retry path can still deliver it; its markers may be gone): the lake is the
 *   ledger. A record whose request id the lake holds (or a marker, while markers may remain) was
 *   counted; the others are written to the lake under the hour's own file name, and counted in
 *   the aggregates by an application per day whose token makes a second application a no-op.
 *
 * Resumable: an hour is checkpointed once its records are on the stream or in the lake; a run
 * finishes every application an earlier run left unfinished, from the lake files of its hours.
 */

import { randomUUID } from "node:crypto";
import type { DayRange, DeadLetterQueue, InvocationLogSource, LogHour } from "@bedrock-spend/adapters";
import {
  addCounters,
  type Clock,
  type DecodedItem,
  decodeStream,
  type InvalidOutcome,
  isSettledMonth,
  monthBounds,
  type Pricer,
  priceItems,
  recordCostPico,
  type UsageRecord,
  utcMonthOf,
} from "@bedrock-spend/core";
import {
  type AggregateDelta,
  type AggregationOptions,
  addTally,
  BACKFILL_LEASE_MS,
  type BackfillApplication,
  type BackfillStore,
  type BackfillTally,
  type CountOutcome,
  emptyTally,
  type HourCheckpoint,
  preAggregate,
} from "@bedrock-spend/store";
import { quarantinedOutcome } from "./aggregate-batch";

/** Days after a month's end until which a dedup marker of one of its invocations may still exist (written up to settlement, kept 35 days, plus TTL deletion lag). */
export const MARKER_HORIZON_DAYS = 22 + 35 + 3;

/** Records decoded and priced at a time (bounded memory whatever the object's size). */
const CHUNK_ITEMS = 2_000;

/** The live path: the stream and the consumers behind it. */
export interface BackfillLiveSink {
  /** Hands records of open months to the pipeline (every one is counted once, by its marker). */
  put(items: readonly DecodedItem[]): Promise<void>;
  /**
   * Once every hour is done: waits for the pipeline where it can, and returns the request ids (of
   * those put) it has counted; undefined when it cannot tell (a deployed stage counts them later).
   */
  finish(requestIds: ReadonlySet<string>): Promise<Set<string> | undefined>;
}

/** The lake as the ledger of settled months. */
export interface BackfillLake {
  /**
   * The request ids of one day partition (`YYYY-MM-DD`), each with the base name of the file that
   * holds it (`*` when several files do).
   */
  requestIdsOfDay(day: string): Promise<Map<string, string>>;
  /** Writes an hour's new rows under `fileName` in each day partition, replacing what a crashed run wrote there. */
  writeHour(rows: readonly UsageRecord[], fileName: string): Promise<void>;
  /** The rows of these hours' files, in the day partitions each was written to (a resumed application counts them again). */
  rowsOfFiles(files: readonly { fileName: string; days: readonly string[] }[]): Promise<UsageRecord[]>;
}

/** Progress, after each object and each hour. */
export interface BackfillProgress {
  hours: number;
  hoursDone: number;
  /** Hours a previous run had done: not read again. */
  hoursResumed: number;
  /** Objects of the hour being read, and of that hour so far. */
  hourObjects: number;
  hourObjectsDone: number;
  objects: number;
  records: number;
  bytes: number;
  /** The hour being read, or the phase. */
  phase: string;
}

/** What a backfill needs. */
export interface BackfillOptions {
  source: InvocationLogSource;
  range: DayRange;
  store: BackfillStore;
  pricer: Pricer;
  clock: Clock;
  live: BackfillLiveSink;
  lake: BackfillLake;
  /** Request ids among these whose dedup marker the table holds. */
  markers(requestIds: readonly string[]): Promise<Set<string>>;
  /** Counts an application's deltas (`countBackfillDeltas`), each item once per token. */
  count(token: string, deltas: readonly AggregateDelta[]): Promise<CountOutcome>;
  quarantine: DeadLetterQueue;
  aggregation?: AggregationOptions;
  onProgress?: (progress: BackfillProgress) => void;
  /** Invalid records described, one call each (the first N are worth a line). */
  onInvalid?: (outcome: InvalidOutcome) => void;
  /** Checked between hours: when aborted, the run stops after the hour it is in, everything it did checkpointed. */
  signal?: AbortSignal;
  /** Hours to read at most in this run (a long backfill cut into bounded runs); the rest is left for the next. */
  maxHours?: number;
}

/** What a backfill did. `read = counted + alreadyCounted + quarantined + dropped + notCounted` for the hours this run read. */
export interface BackfillResult {
  source: string;
  sourceId: string;
  range: DayRange;
  /** Hour prefixes in the range, read by this run, and done by earlier runs (skipped). */
  hours: number;
  hoursRead: number;
  hoursResumed: number;
  tally: BackfillTally;
  /** Of `tally.counted`: through the stream (open months) and into the lake and aggregates directly (settled months). */
  countedLive: number;
  countedSettled: number;
  /** Put on the stream but not counted when the run ended (local pipeline failures, kept in its quarantine). */
  notCounted: number;
  /** Whether the live path's counts were verified (locally) or left to the deployed consumers. */
  liveVerified: boolean;
  /** Applications counted, the ones an earlier run left unfinished among them. */
  applications: number;
  applicationsResumed: number;
  /** Aggregate items updated, and write units (2 per item in a transaction). */
  itemsUpdated: number;
  /** Whether the run stopped before the end (the signal). */
  interrupted: boolean;
  /** UTC months of the invocations read, oldest first. */
  months: string[];
}

/** The lake file name of an hour's settled rows: deterministic, so that a rerun replaces it. */
export function hourFileName(sourceId: string, hour: LogHour): string {
  return `backfill-${sourceId}-${hour.account}-${hour.region}-${hour.hour.replace(/[-T]/g, "")}`;
}

/** Whether an invocation of `month` goes through the lake path: its month is settled (no live copy can arrive). */
export function isBackfillSettled(month: string, now: number): boolean {
  return isSettledMonth(month, now);
}

/** Whether dedup markers of `month`'s invocations may still be in the table (checked before counting from the lake). */
export function markersMayRemain(month: string, now: number): boolean {
  return now < monthBounds(month).end + MARKER_HORIZON_DAYS * 86_400_000;
}

/** The application token: short, as it is stored on every item the application counts. */
function applicationToken(sourceId: string, id: string): string {
  return `${sourceId.slice(0, 8)}:${id}`;
}

/** The settled records of a month's hours, read and in the lake, not counted in the aggregates yet. */
interface PendingMonth {
  month: string;
  hours: HourCheckpoint[];
  deltas: Map<string, AggregateDelta>;
}

function mergeDeltas(into: Map<string, AggregateDelta>, deltas: readonly AggregateDelta[]): void {
  for (const delta of deltas) {
    const id = `${delta.pk}\u0000${delta.sk}`;
    const existing = into.get(id);
    if (existing) addCounters(existing.counters, delta.counters);
    else into.set(id, { ...delta, counters: { ...delta.counters } });
  }
}

/**
 * Runs a backfill over the hours of `range` not done yet; finishes an earlier run's applications
 * first. Holds the table's backfill lease meanwhile.
 * @throws BackfillLeaseError when another source's backfill is running on the table
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const { source, store } = options;
  const runId = randomUUID();
  await store.acquireLease(runId, source.description);
  try {
    return await backfillUnderLease(options, runId);
  } finally {
    await store.releaseLease(runId);
  }
}

async function backfillUnderLease(options: BackfillOptions, runId: string): Promise<BackfillResult> {
  const { source, store, pricer, clock, live, lake } = options;
  const now = clock();
  const aggregation = options.aggregation ?? {};
  let leaseRenewed = clock();
  const state = await store.load();
  if (state.description === undefined) await store.describe(source.description);
  const result: BackfillResult = {
    source: source.description,
    sourceId: store.sourceId,
    range: options.range,
    hours: 0,
    hoursRead: 0,
    hoursResumed: 0,
    tally: emptyTally(),
    countedLive: 0,
    countedSettled: 0,
    notCounted: 0,
    liveVerified: true,
    applications: 0,
    applicationsResumed: 0,
    itemsUpdated: 0,
    interrupted: false,
    months: [],
  };
  const months = new Set<string>();
  const progress: BackfillProgress = {
    hours: 0,
    hoursDone: 0,
    hoursResumed: 0,
    hourObjects: 0,
    hourObjectsDone: 0,
    objects: 0,
    records: 0,
    bytes: 0,
    phase: "",
  };
  const report = (phase: string) => {
    progress.phase = phase;
    options.onProgress?.(progress);
  };

  const apply = async (application: Omit<BackfillApplication, "status">, checkpoints: readonly HourCheckpoint[], deltas: readonly AggregateDelta[]) => {
    const counted = await options.count(application.token, deltas);
    result.itemsUpdated += counted.items;
    result.applications++;
    await store.finishApplication(application, checkpoints);
  };

  // What an earlier run left: applications begun, and hours staged without one. Their rows are read back from their lake files.
  report("finishing what an earlier run left");
  const hourFiles = new Map<string, string>();
  const fileOfKey = (key: string) => {
    const [account, region, year, month, day, hour] = key.split("/");
    return hourFileName(store.sourceId, {
      key,
      account: account ?? "",
      region: region ?? "",
      hour: `${year}-${month}-${day}T${hour}`,
      location: "",
    });
  };
  const covered = new Set<string>();
  let applicationCount = state.applications.length;
  for (const application of state.applications) {
    if (application.status === "applied") continue;
    const checkpoints = application.hours.map((key) => state.hours.get(key)).filter((entry): entry is HourCheckpoint => entry !== undefined);
    for (const key of application.hours) covered.add(key);
    const rows = await lake.rowsOfFiles(checkpoints.map((checkpoint) => ({ fileName: fileOfKey(checkpoint.key), days: checkpoint.days })));
    await apply(application, checkpoints, preAggregate(rowsAsInvocations(rows), aggregation));
    result.applicationsResumed++;
    for (const checkpoint of checkpoints) checkpoint.status = "done";
  }
  const leftStaged = [...state.hours.values()].filter((checkpoint) => checkpoint.status === "staged" && !covered.has(checkpoint.key));
  if (leftStaged.length > 0) {
    const withRows = leftStaged.filter((checkpoint) => checkpoint.settledRows > 0);
    const rows =
      withRows.length > 0 ? await lake.rowsOfFiles(withRows.map((checkpoint) => ({ fileName: fileOfKey(checkpoint.key), days: checkpoint.days }))) : [];
    const application = { id: `${String(++applicationCount).padStart(6, "0")}-resumed`, token: "", hours: leftStaged.map((checkpoint) => checkpoint.key) };
    application.token = applicationToken(store.sourceId, application.id);
    await store.beginApplication(application);
    await apply(application, leftStaged, preAggregate(rowsAsInvocations(rows), aggregation));
    result.applicationsResumed++;
    for (const checkpoint of leftStaged) checkpoint.status = "done";
  }

  report("listing the hours in range");
  const hours = await source.hours(options.range);
  result.hours = hours.length;
  progress.hours = hours.length;
  // Request ids met by this run, for the current and the previous day only (memory stays flat over
  // a year): a record repeated further apart is caught by the lake (settled) or its marker (open).
  let seen = new Set<string>();
  let seenBefore = new Set<string>();
  const livePut = new Set<string>();
  const liveCosts = new Map<string, bigint | null>();
  const lakeDays = new Map<string, Map<string, string>>();
  let pending: PendingMonth | undefined;
  let currentDay: string | undefined;

  // An application per month: a month item is then written once per application, not once per day
  // (the day x model items are written once either way). One application in flight while the next
  // month is read: DynamoDB writes while this process decodes and prices.
  let inFlight: Promise<void> | undefined;
  const flushMonth = async () => {
    if (!pending) return;
    const month = pending;
    pending = undefined;
    // Applications go one after another: a late record can put two of them on the same items.
    await inFlight;
    const application = {
      id: `${String(++applicationCount).padStart(6, "0")}-${month.month}`,
      token: "",
      hours: month.hours.map((checkpoint) => checkpoint.key),
    };
    application.token = applicationToken(store.sourceId, application.id);
    await store.beginApplication(application);
    const running = apply(application, month.hours, [...month.deltas.values()]);
    // Awaited before the next application or at the end; a failure is thrown there.
    running.catch(() => undefined);
    inFlight = running;
  };

  try {
    for (const hour of hours) {
      if (state.hours.has(hour.key)) {
        result.hoursResumed++;
        progress.hoursResumed++;
        progress.hoursDone++;
        continue;
      }
      if (options.signal?.aborted || (options.maxHours !== undefined && result.hoursRead >= options.maxHours)) {
        result.interrupted = true;
        break;
      }
      const day = hour.hour.slice(0, 10);
      const month = hour.hour.slice(0, 7);
      if (pending && pending.month !== month) await flushMonth();
      if (day !== currentDay) {
        // The lake's ids of days before the previous one are not looked up again (a late record is hours late, not days).
        for (const cached of lakeDays.keys()) if (currentDay !== undefined && cached < currentDay) lakeDays.delete(cached);
        currentDay = day;
        seenBefore = seen;
        seen = new Set();
      }
      const fileName = hourFileName(store.sourceId, hour);
      hourFiles.set(hour.key, fileName);
      const tally = emptyTally();
      const settledRows: UsageRecord[] = [];
      const objects = await source.objects(hour);
      progress.hourObjects = objects.length;
      progress.hourObjectsDone = 0;

      const handle = async (chunk: DecodedItem[]) => {
        const priced = priceItems(chunk, pricer);
        tally.dropped += priced.skipped;
        if (priced.invalid.length > 0) {
          tally.quarantined += priced.invalid.length;
          await options.quarantine.send(priced.invalid.map((outcome) => quarantinedOutcome(outcome, now)));
          for (const outcome of priced.invalid) options.onInvalid?.(outcome);
        }
        const liveItems: DecodedItem[] = [];
        const liveIds: string[] = [];
        const settled: { record: UsageRecord; costPico: bigint | null }[] = [];
        for (let index = 0; index < priced.usage.length; index++) {
          const { usage } = priced.usage[index] as (typeof priced.usage)[number];
          const requestId = usage.record.request_id;
          const month = utcMonthOf(Date.parse(usage.record.event_time));
          months.add(month);
          if (seen.has(requestId) || seenBefore.has(requestId)) {
            tally.alreadyCounted++;
            continue;
          }
          seen.add(requestId);
          if (isBackfillSettled(month, now)) settled.push(usage);
          else {
            liveIds.push(requestId);
            liveCosts.set(requestId, usage.costPico);
          }
        }
        if (liveIds.length > 0) {
          const marked = await options.markers(liveIds);
          const wanted = new Set(liveIds.filter((id) => !marked.has(id)));
          tally.alreadyCounted += marked.size;
          for (const item of chunk) {
            if (item.kind !== "record") continue;
            const id = requestIdOf(item.value);
            if (id !== undefined && wanted.has(id)) {
              wanted.delete(id);
              liveItems.push(item);
              livePut.add(id);
              const cost = liveCosts.get(id);
              tally.counted++;
              if (cost === null || cost === undefined) tally.unpriced++;
              else tally.costPico += cost;
            }
          }
          if (liveItems.length > 0) await live.put(liveItems);
          result.countedLive += liveItems.length;
        }
        if (settled.length > 0) {
          const recent = settled
            .filter((usage) => markersMayRemain(utcMonthOf(Date.parse(usage.record.event_time)), now))
            .map((usage) => usage.record.request_id);
          const marked = recent.length > 0 ? await options.markers(recent) : new Set<string>();
          for (const usage of settled) {
            const record = usage.record;
            const partition = `${record.year}-${record.month}-${record.day}`;
            let ids = lakeDays.get(partition);
            if (!ids) {
              ids = await lake.requestIdsOfDay(partition);
              lakeDays.set(partition, ids);
            }
            const holder = ids.get(record.request_id);
            // The hour's own file is what a crashed run of this very hour wrote: not counted yet.
            if ((holder !== undefined && holder !== fileName) || marked.has(record.request_id)) {
              tally.alreadyCounted++;
              continue;
            }
            settledRows.push(record);
            tally.counted++;
            if (usage.costPico === null) tally.unpriced++;
            else tally.costPico += usage.costPico;
          }
        }
      };

      for (const object of objects) {
        tally.objects++;
        let chunk: DecodedItem[] = [];
        const counting = async function* (bytes: AsyncIterable<Uint8Array>) {
          for await (const piece of bytes) {
            tally.bytes += piece.length;
            progress.bytes += piece.length;
            yield piece;
          }
        };
        for await (const item of decodeStream(counting(source.open(object)), { file: object.key, jsonLines: true })) {
          tally.read++;
          progress.records++;
          chunk.push(item);
          if (chunk.length >= CHUNK_ITEMS) {
            await handle(chunk);
            chunk = [];
          }
        }
        if (chunk.length > 0) await handle(chunk);
        progress.objects++;
        progress.hourObjectsDone++;
        report(hour.key);
      }

      await lake.writeHour(settledRows, fileName);
      for (const record of settledRows) {
        const partition = `${record.year}-${record.month}-${record.day}`;
        const ids = lakeDays.get(partition);
        if (ids) ids.set(record.request_id, ids.has(record.request_id) ? "*" : fileName);
      }
      const days = [...new Set(settledRows.map((record) => `${record.year}-${record.month}-${record.day}`))].sort();
      const checkpoint: HourCheckpoint = { key: hour.key, status: "staged", tally, settledRows: settledRows.length, days };
      await store.stageHour(checkpoint);
      if (clock() - leaseRenewed > BACKFILL_LEASE_MS / 3) {
        await store.renewLease(runId);
        leaseRenewed = clock();
      }
      result.countedSettled += settledRows.length;
      pending ??= { month, hours: [], deltas: new Map() };
      pending.hours.push(checkpoint);
      mergeDeltas(pending.deltas, preAggregate(rowsAsInvocations(settledRows), aggregation));
      addTally(result.tally, tally);
      result.hoursRead++;
      progress.hoursDone++;
      report(hour.key);
    }
    await flushMonth();
  } catch (error) {
    // Let the application in flight end (it is resumable either way) before the error goes up.
    await inFlight?.catch(() => undefined);
    throw error;
  }
  await inFlight;

  if (livePut.size > 0) report("waiting for the pipeline");
  const verified = await live.finish(livePut);
  if (verified === undefined) result.liveVerified = false;
  else {
    for (const id of livePut) {
      if (verified.has(id)) continue;
      result.notCounted++;
      result.tally.counted--;
      result.countedLive--;
      const cost = liveCosts.get(id);
      if (cost === null || cost === undefined) result.tally.unpriced--;
      else result.tally.costPico -= cost;
    }
  }
  result.months = [...months].sort();
  return result;
}

/** Bedrock's request id of a decoded record's value, if it has one. */
function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as { requestId?: unknown }).requestId;
  return typeof id === "string" ? id : undefined;
}

/** Lake rows as countable invocations, at the cost the row carries: the same deltas whether counted now or from the lake files on a resume. */
function rowsAsInvocations(rows: readonly UsageRecord[]): { record: UsageRecord; costPico: bigint | null }[] {
  return rows.map((record) => ({ record, costPico: recordCostPico(record) }));
}
