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
  preparedPriceItems,
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
  type BackfillApplicationKind,
  type BackfillState,
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

/** The base name a lake file or object key is known by (`.../<name>_0.parquet` -> `<name>`; a Firehose object's name without its extension). */
export function lakeFileBaseName(pathOrKey: string): string {
  return pathOrKey
    .slice(pathOrKey.lastIndexOf("/") + 1)
    .replace(/\.parquet$/, "")
    .replace(/_\d+$/, "");
}

/** Records that `file` holds `requestId` in a day's ids (`*` once a second file holds it too). */
export function addLakeHolder(ids: Map<string, string>, requestId: string, file: string): void {
  const holder = ids.get(requestId);
  ids.set(requestId, holder === undefined || holder === file ? file : "*");
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
interface Pending {
  /** The day (`YYYY-MM-DD`) or month (`YYYY-MM`) of its hours. */
  period: string;
  hours: HourCheckpoint[];
  deltas: Map<string, AggregateDelta>;
}

/** Whether an application of `kind` counts this delta's item: day x model items in day applications, the others in month applications. */
function countedBy(kind: BackfillApplicationKind, delta: AggregateDelta): boolean {
  return kind === "all" || (kind === "day") === (delta.attributes.kind === "day-model");
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
    return await new BackfillRun(options, runId).run();
  } finally {
    await store.releaseLease(runId);
  }
}

/** One run of a backfill, under the table's lease: its state, and the steps of `runBackfill`. */
class BackfillRun {
  private readonly now: number;
  private readonly aggregation: AggregationOptions;
  private leaseRenewed: number;
  private applicationCount = 0;
  readonly result: BackfillResult;
  private readonly progress: BackfillProgress = {
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
  private readonly months = new Set<string>();
  // Request ids met by this run, for the current and the previous day only (memory stays flat over
  // a year): a record repeated further apart is caught by the lake (settled) or its marker (open).
  private seen = new Set<string>();
  private seenBefore = new Set<string>();
  private currentDay: string | undefined;
  /** Open months' invocations put on the stream, with their cost (to take back those the pipeline did not count). */
  private readonly livePut = new Map<string, bigint | null>();
  /** The lake's request ids of the day partitions in use, with the file holding each. */
  private readonly lakeDays = new Map<string, Map<string, string>>();
  /** The day x model deltas of the day being read, and the month and breakdown deltas of the month. */
  private pendingDay: Pending | undefined;
  private pendingMonth: Pending | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly options: BackfillOptions,
    private readonly runId: string,
  ) {
    this.now = options.clock();
    this.leaseRenewed = this.now;
    this.aggregation = options.aggregation ?? {};
    this.result = {
      source: options.source.description,
      sourceId: options.store.sourceId,
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
  }

  async run(): Promise<BackfillResult> {
    const { source, store } = this.options;
    const state = await store.load();
    if (state.description === undefined) await store.describe(source.description);
    this.applicationCount = state.applications.length;
    this.report("finishing what an earlier run left");
    await this.finishEarlierRun(state);

    this.report("listing the hours in range");
    const hours = await source.hours(this.options.range);
    this.result.hours = hours.length;
    this.progress.hours = hours.length;
    try {
      for (const hour of hours) {
        if (state.hours.has(hour.key)) {
          this.result.hoursResumed++;
          this.progress.hoursResumed++;
          this.progress.hoursDone++;
          continue;
        }
        if (this.options.signal?.aborted || (this.options.maxHours !== undefined && this.result.hoursRead >= this.options.maxHours)) {
          this.result.interrupted = true;
          break;
        }
        await this.readHour(hour);
      }
      await this.flush("day");
      await this.flush("month");
    } catch (error) {
      // Let the application in flight end (it is resumable either way) before the error goes up.
      await this.inFlight?.catch(() => undefined);
      throw error;
    }
    await this.inFlight;
    await this.verifyLive();
    this.result.months = [...this.months].sort();
    return this.result;
  }

  private report(phase: string): void {
    this.progress.phase = phase;
    this.options.onProgress?.(this.progress);
  }

  /** Counts an application's deltas, then marks its hours done. */
  private async apply(
    application: Omit<BackfillApplication, "status">,
    checkpoints: readonly HourCheckpoint[],
    deltas: readonly AggregateDelta[],
  ): Promise<void> {
    const counted = await this.options.count(application.token, deltas);
    this.result.itemsUpdated += counted.items;
    this.result.applications++;
    await this.options.store.finishApplication(application, checkpoints);
  }

  /** A new application of `hours`, written before it touches the aggregates. */
  private async begin(kind: BackfillApplicationKind, suffix: string, hours: readonly HourCheckpoint[]): Promise<Omit<BackfillApplication, "status">> {
    const id = `${String(++this.applicationCount).padStart(6, "0")}-${kind}-${suffix}`;
    const application = { id, kind, token: applicationToken(this.options.store.sourceId, id), hours: hours.map((checkpoint) => checkpoint.key) };
    await this.options.store.beginApplication(application);
    return application;
  }

  /**
   * What an earlier run left: applications begun, and staged hours a day or month application has
   * not covered yet. Their rows are read back from their lake files.
   */
  private async finishEarlierRun(state: BackfillState): Promise<void> {
    const { lake, store } = this.options;
    const rowsOf = (checkpoints: readonly HourCheckpoint[]) =>
      lake.rowsOfFiles(
        checkpoints
          .filter((checkpoint) => checkpoint.settledRows > 0)
          .map((checkpoint) => ({ fileName: hourFileOfKey(store.sourceId, checkpoint.key), days: checkpoint.days })),
      );
    const deltasOf = async (kind: BackfillApplicationKind, checkpoints: readonly HourCheckpoint[]) =>
      preAggregate(rowsAsInvocations(await rowsOf(checkpoints)), this.aggregation).filter((delta) => countedBy(kind, delta));
    const covered = { day: new Set<string>(), month: new Set<string>() };
    for (const application of state.applications) {
      for (const key of application.hours) {
        if (application.kind !== "month") covered.day.add(key);
        if (application.kind !== "day") covered.month.add(key);
      }
    }
    // Day applications before month ones: a month application marks its hours done.
    const applying = state.applications.filter((application) => application.status === "applying");
    const unfinished = [...applying.filter((application) => application.kind === "day"), ...applying.filter((application) => application.kind !== "day")];
    for (const application of unfinished) {
      const checkpoints = application.hours.map((key) => state.hours.get(key)).filter((entry): entry is HourCheckpoint => entry !== undefined);
      await this.apply(application, checkpoints, await deltasOf(application.kind, checkpoints));
      this.result.applicationsResumed++;
      if (application.kind !== "day") for (const checkpoint of checkpoints) checkpoint.status = "done";
    }
    for (const kind of ["day", "month"] as const) {
      const left = [...state.hours.values()].filter((checkpoint) => checkpoint.status === "staged" && !covered[kind].has(checkpoint.key));
      if (left.length === 0) continue;
      const application = await this.begin(kind, "resumed", left);
      await this.apply(application, left, await deltasOf(kind, left));
      this.result.applicationsResumed++;
      if (kind === "month") for (const checkpoint of left) checkpoint.status = "done";
    }
  }

  /**
   * Reads one hour: every object decoded and priced, open months on the stream, settled months'
   * new rows in the lake under the hour's file; then the checkpoint, and the rows' deltas for the
   * month's application.
   */
  private async readHour(hour: LogHour): Promise<void> {
    const { source, store, lake, clock } = this.options;
    const day = hour.hour.slice(0, 10);
    const month = hour.hour.slice(0, 7);
    if (this.pendingDay && this.pendingDay.period !== day) await this.flush("day");
    if (this.pendingMonth && this.pendingMonth.period !== month) await this.flush("month");
    if (day !== this.currentDay) {
      // The lake's ids of days before the previous one are not looked up again (a late record is hours late, not days).
      for (const cached of this.lakeDays.keys()) if (this.currentDay !== undefined && cached < this.currentDay) this.lakeDays.delete(cached);
      this.currentDay = day;
      this.seenBefore = this.seen;
      this.seen = new Set();
    }
    const fileName = hourFileName(store.sourceId, hour);
    const tally = emptyTally();
    const settledRows: UsageRecord[] = [];
    const objects = await source.objects(hour);
    this.progress.hourObjects = objects.length;
    this.progress.hourObjectsDone = 0;
    for (const object of objects) {
      tally.objects++;
      const progress = this.progress;
      const counting = async function* (bytes: AsyncIterable<Uint8Array>) {
        for await (const piece of bytes) {
          tally.bytes += piece.length;
          progress.bytes += piece.length;
          yield piece;
        }
      };
      let chunk: DecodedItem[] = [];
      for await (const item of decodeStream(counting(source.open(object)), { file: object.key, jsonLines: true })) {
        tally.read++;
        progress.records++;
        chunk.push(item);
        if (chunk.length >= CHUNK_ITEMS) {
          await this.handle(chunk, tally, fileName, settledRows);
          chunk = [];
        }
      }
      if (chunk.length > 0) await this.handle(chunk, tally, fileName, settledRows);
      progress.objects++;
      progress.hourObjectsDone++;
      this.report(hour.key);
    }

    await lake.writeHour(settledRows, fileName);
    for (const record of settledRows) {
      const ids = this.lakeDays.get(partitionOf(record));
      if (ids) addLakeHolder(ids, record.request_id, fileName);
    }
    const days = [...new Set(settledRows.map(partitionOf))].sort();
    const checkpoint: HourCheckpoint = { key: hour.key, status: "staged", tally, settledRows: settledRows.length, days };
    await store.stageHour(checkpoint);
    if (clock() - this.leaseRenewed > BACKFILL_LEASE_MS / 3) {
      await store.renewLease(this.runId);
      this.leaseRenewed = clock();
    }
    this.result.countedSettled += settledRows.length;
    this.pendingDay ??= { period: day, hours: [], deltas: new Map() };
    this.pendingMonth ??= { period: month, hours: [], deltas: new Map() };
    this.pendingDay.hours.push(checkpoint);
    this.pendingMonth.hours.push(checkpoint);
    const deltas = preAggregate(rowsAsInvocations(settledRows), this.aggregation);
    mergeDeltas(
      this.pendingDay.deltas,
      deltas.filter((delta) => countedBy("day", delta)),
    );
    mergeDeltas(
      this.pendingMonth.deltas,
      deltas.filter((delta) => countedBy("month", delta)),
    );
    addTally(this.result.tally, tally);
    this.result.hoursRead++;
    this.progress.hoursDone++;
    this.report(hour.key);
  }

  /** Prices a chunk of decoded items and sends each where it goes (quarantine, stream, the hour's lake rows), tallying. */
  private async handle(chunk: readonly DecodedItem[], tally: BackfillTally, fileName: string, settledRows: UsageRecord[]): Promise<void> {
    const { options, now } = this;
    const priced = await preparedPriceItems(chunk, options.pricer);
    tally.dropped += priced.skipped;
    if (priced.invalid.length > 0) {
      tally.quarantined += priced.invalid.length;
      await options.quarantine.send(priced.invalid.map((outcome) => quarantinedOutcome(outcome, now)));
      for (const outcome of priced.invalid) options.onInvalid?.(outcome);
    }
    const live = new Map<string, bigint | null>();
    const settled: { record: UsageRecord; costPico: bigint | null; month: string }[] = [];
    for (const { usage } of priced.usage) {
      const requestId = usage.record.request_id;
      const month = utcMonthOf(Date.parse(usage.record.event_time));
      this.months.add(month);
      if (this.seen.has(requestId) || this.seenBefore.has(requestId)) {
        tally.alreadyCounted++;
        continue;
      }
      this.seen.add(requestId);
      if (isBackfillSettled(month, now)) settled.push({ record: usage.record, costPico: usage.costPico, month });
      else live.set(requestId, usage.costPico);
    }
    if (live.size > 0) await this.putLive(chunk, live, tally);
    if (settled.length > 0) await this.stageSettled(settled, tally, fileName, settledRows);
  }

  /** Open months: what has no marker goes on the stream (its consumers count it once). */
  private async putLive(chunk: readonly DecodedItem[], costs: ReadonlyMap<string, bigint | null>, tally: BackfillTally): Promise<void> {
    const marked = await this.options.markers([...costs.keys()]);
    tally.alreadyCounted += marked.size;
    const wanted = new Set([...costs.keys()].filter((id) => !marked.has(id)));
    const items: DecodedItem[] = [];
    for (const item of chunk) {
      if (item.kind !== "record") continue;
      const id = requestIdOf(item.value);
      if (id === undefined || !wanted.has(id)) continue;
      wanted.delete(id);
      items.push(item);
      const cost = costs.get(id) ?? null;
      this.livePut.set(id, cost);
      tally.counted++;
      if (cost === null) tally.unpriced++;
      else tally.costPico += cost;
    }
    if (items.length > 0) await this.options.live.put(items);
    this.result.countedLive += items.length;
  }

  /** Settled months: what the lake (or a marker still kept) does not hold becomes a row of the hour's file. */
  private async stageSettled(
    settled: readonly { record: UsageRecord; costPico: bigint | null; month: string }[],
    tally: BackfillTally,
    fileName: string,
    settledRows: UsageRecord[],
  ): Promise<void> {
    const recent = settled.filter((usage) => markersMayRemain(usage.month, this.now)).map((usage) => usage.record.request_id);
    const marked = recent.length > 0 ? await this.options.markers(recent) : new Set<string>();
    for (const usage of settled) {
      const record = usage.record;
      const partition = partitionOf(record);
      let ids = this.lakeDays.get(partition);
      if (!ids) {
        ids = await this.options.lake.requestIdsOfDay(partition);
        this.lakeDays.set(partition, ids);
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

  /**
   * Starts the application of the day's day x model items (final once the day is read: a late
   * record of that day, in a later hour, is counted by the next day's application, under its own
   * token) or of the month's month and breakdown items, after the one in flight has ended. It runs
   * while the next hours are read: DynamoDB writes while this process decodes and prices, and
   * every item is written once per application.
   */
  private async flush(kind: "day" | "month"): Promise<void> {
    const pending = kind === "day" ? this.pendingDay : this.pendingMonth;
    if (!pending) return;
    if (kind === "day") this.pendingDay = undefined;
    else this.pendingMonth = undefined;
    await this.inFlight;
    const application = await this.begin(kind, pending.period, pending.hours);
    const running = this.apply(application, pending.hours, [...pending.deltas.values()]);
    // Awaited before the next application or at the end; a failure is thrown there.
    running.catch(() => undefined);
    this.inFlight = running;
  }

  /** Waits for the pipeline where the live sink can, and takes back what it did not count. */
  private async verifyLive(): Promise<void> {
    if (this.livePut.size > 0) this.report("waiting for the pipeline");
    const verified = await this.options.live.finish(new Set(this.livePut.keys()));
    if (verified === undefined) {
      this.result.liveVerified = false;
      return;
    }
    for (const [id, cost] of this.livePut) {
      if (verified.has(id)) continue;
      this.result.notCounted++;
      this.result.tally.counted--;
      this.result.countedLive--;
      if (cost === null) this.result.tally.unpriced--;
      else this.result.tally.costPico -= cost;
    }
  }
}

/** The day partition of a record, `YYYY-MM-DD`. */
function partitionOf(record: UsageRecord): string {
  return `${record.year}-${record.month}-${record.day}`;
}

/** The lake file name of an hour from its checkpoint key (`<account>/<region>/YYYY/MM/DD/HH`). */
function hourFileOfKey(sourceId: string, key: string): string {
  const [account = "", region = "", year, month, day, hour] = key.split("/");
  return hourFileName(sourceId, { key, account, region, hour: `${year}-${month}-${day}T${hour}`, location: "" });
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
