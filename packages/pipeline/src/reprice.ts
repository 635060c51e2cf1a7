/**
 * A reprice: every invocation of some months, read back from the lake, priced with another
 * catalog; the aggregates corrected exactly once, the lake rewritten, the whole recorded. The
 * design (switch-over, settled and open months, resuming) is docs/reprice.md. The same function
 * runs from the CLI on a data dir and in the AWS job; the lake and the table come in as adapters.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type AttributionDimension,
  BedrockSpendError,
  type CatalogSource,
  type Clock,
  changeOfTally,
  type DayKey,
  DEFAULT_SETTLE_DAYS,
  formatUsd,
  isSettledMonth,
  type MonthKey,
  monthsBetween,
  type Pricer,
  type RepricedRecord,
  type RepriceReport,
  recordCostPico,
  repriceRecord,
  type TenantMonthTally,
  type UsageRecord,
} from "@bedrock-spend/core";
import {
  addItemCorrection,
  aggregateKeysOf,
  type CountedState,
  type InvocationCorrection,
  type ItemCorrection,
  listRepriceAudits,
  putRepriceAudit,
  type RepriceAudit,
  RepriceWriter,
  readCountedStates,
  readMonthInvocations,
  registerReprice,
  tenantMonthId,
} from "@bedrock-spend/store";

/** The lake as a reprice reads and rewrites it: one day partition at a time. */
export interface RepriceLake {
  /** Day partitions of a month that hold rows, ascending. */
  days(month: MonthKey): Promise<DayKey[]>;
  /** Every row of a day partition (every copy of a row the lake holds twice), and a token naming what was read. */
  readDay(day: DayKey): Promise<{ rows: UsageRecord[]; token: unknown }>;
  /**
   * Replaces exactly what `readDay` read (its token) with `rows`, keeping the replaced data
   * recoverable under the reprice's id. Rows delivered since the read are left as they are.
   */
  replaceDay(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<void>;
  /**
   * Distinct invocations (request ids) of each tenant in a month's partitions, by tenant id: what
   * a settled month's month items are checked against before anything of it is corrected.
   */
  invocationsByTenant(month: MonthKey): Promise<Map<string, number>>;
  /**
   * Optional, with `publishDay`: `replaceDay` in two steps, for a run that rewrites the lake
   * from its plan's read instead of reading it again. Writes the replacement aside (the lake
   * does not change) and returns what `publishDay` needs to put it in place.
   */
  stageDay?(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<unknown>;
  /** Publishes a staged replacement: as `replaceDay` would have, at this moment. */
  publishDay?(day: DayKey, staged: unknown, repriceId: string): Promise<void>;
  /** Removes whatever a run of this reprice staged and did not publish (a run that crashed or failed). */
  discardStaged?(repriceId: string): Promise<void>;
}

/** Options of `runReprice`. */
export interface RepriceOptions {
  from: MonthKey;
  to: MonthKey;
  /** The new prices: a pricer with the reprice's catalog and the deployment's aliases and profiles. */
  pricer: Pricer;
  /** Where the catalog came from, registered for the live consumers (resolved by `catalogFrom`). */
  source: CatalogSource;
  lake: RepriceLake;
  client: DynamoDBClient;
  tableName: string;
  /** The deployment's extra breakdown items (they are corrected too). */
  breakdowns?: readonly AttributionDimension[];
  now: Clock;
  /** Compute and report, write nothing. */
  dryRun?: boolean;
  /** Report every tenant-month, not only those whose cost changes. */
  all?: boolean;
  /** Who runs it (the caller's ARN on AWS, user@host locally). */
  actor: string;
  /** Continue this unfinished reprice instead of starting one. */
  resume?: RepriceAudit;
  settleDays?: number;
  dedupRetentionDays?: number;
  /**
   * Waits, after the catalog is registered, until every live consumer prices the months with it
   * and the lake holds what they delivered before (the switch-over). Not called in a dry run.
   */
  switchOver?: () => Promise<void>;
  onProgress?: (message: string) => void;
  /** Id of a new reprice. Default: its start time and a random suffix (ids sort by start). */
  newId?: () => string;
  /**
   * Asked at the points where a run may stop and be resumed later (`resume` with its audit): after
   * the registration, before the switch-over (`"registered"`; the caller then waits the
   * switch-over itself before resuming), and between two lake days once this run has done some
   * work (`"lake"`). True stops the run there with `done: false`. For a job that works in bounded
   * slices (the AWS reprice job); never asked in a dry run.
   */
  checkpoint?: (stage: "registered" | "lake") => boolean;
  /**
   * Resuming at the lake stage: the days before this one are handled already (the `lakeNextDay`
   * of the run that stopped), and are not read again. Ignored unless the audit is at the lake stage.
   */
  lakeFrom?: DayKey;
}

/** What a reprice did. */
export interface RepriceResult {
  /** False when `checkpoint` stopped the run: resume it. */
  done: boolean;
  /** When stopped in the lake stage: the first day not handled yet (give it back as `lakeFrom`). */
  lakeNextDay?: DayKey;
  /** The report (of what this run planned: empty tenants when it resumed at the lake stage or stopped before planning). */
  report: RepriceReport;
  /** The audit record (null for a dry run). */
  audit: RepriceAudit | null;
  /** Invocations of open months in the lake that no marker says were counted yet: live traffic counts them at the new prices. */
  notYetCounted: number;
  writeUnits: number;
  transactions: number;
  /** Aggregate items (settled months) and invocations (open months) corrected. */
  itemsCorrected: number;
  invocationsCorrected: number;
  lakeDaysRewritten: number;
  lakeRowsRewritten: number;
  /** Tenant-days whose cost changed (the unit of the benchmark's write units). */
  tenantDaysChanged: number;
}

/** A reprice that cannot start: another one is unfinished. */
export class RepriceInProgressError extends BedrockSpendError {
  readonly repriceId: string;
  constructor(audit: RepriceAudit) {
    super(
      `reprice ${audit.id} (${audit.from}..${audit.to}, started ${audit.startedAt}) is ${audit.status === "running" ? "unfinished" : "failed"}: finish it with "reprice --resume" before starting another`,
    );
    this.name = "RepriceInProgressError";
    this.repriceId = audit.id;
  }
}

/** The unfinished reprice of the table, if any (the newest running or failed one). */
export async function unfinishedReprice(client: DynamoDBClient, tableName: string): Promise<RepriceAudit | undefined> {
  return (await listRepriceAudits(client, tableName)).find((audit) => audit.status !== "applied");
}

interface Plan {
  tallies: Map<string, TenantMonthTally>;
  /** Settled tenant-months the reprice would change but leaves as counted: their lake and month item disagree. */
  unreconciled: RepriceAudit["unreconciled"];
  versionsBefore: Set<string>;
  invocationCount: number;
  changed: number;
  notYetCounted: number;
  tenantDays: Set<string>;
}

/**
 * Reprices `from`..`to`: records the audit, registers the catalog (the switch-over), plans from
 * the lake day by day while the aggregates are corrected exactly once behind it, and rewrites the
 * lake once every correction is applied. A dry run only plans. Resuming redoes every step: each
 * is idempotent. A reprice resumed at the lake stage (its aggregates all corrected) goes straight
 * to the lake, and keeps the figures its audit recorded when it was planned: planned again, the
 * days already rewritten would read as unchanged.
 */
export async function runReprice(options: RepriceOptions): Promise<RepriceResult> {
  const progress = options.onProgress ?? (() => {});
  const writer = new RepriceWriter(options.client, options.tableName, {
    now: options.now,
    ...(options.dedupRetentionDays ? { dedupRetentionDays: options.dedupRetentionDays } : {}),
  });
  const months = monthsBetween(options.from, options.to);
  const priceVersion = options.pricer.catalog.version;
  let audit: RepriceAudit | null = null;
  if (!options.dryRun) {
    if (options.resume) {
      audit = { ...options.resume, status: "running", error: null };
      // What a crashed run had written aside is of no use: its plan is redone, or the lake read again.
      await options.lake.discardStaged?.(audit.id);
    } else {
      const unfinished = await unfinishedReprice(options.client, options.tableName);
      if (unfinished) throw new RepriceInProgressError(unfinished);
      const startedAt = new Date(options.now()).toISOString();
      audit = {
        id: options.newId?.() ?? `${startedAt.replace(/[-:.]/g, "")}-${Math.random().toString(36).slice(2, 8)}`,
        status: "running",
        stage: "registered",
        from: options.from,
        to: options.to,
        priceVersion,
        catalog: { kind: options.source.kind, origin: options.source.kind === "defaults" ? "defaults" : options.source.origin },
        versionsBefore: [],
        actor: options.actor,
        startedAt,
        finishedAt: null,
        totalsBefore: null,
        totalsAfter: null,
        invocations: 0,
        changed: 0,
        tenantMonths: 0,
        unreconciled: [],
        error: null,
      };
    }
    // Recorded before anything else changes: a crash from here on is visible and resumable.
    await putRepriceAudit(options.client, options.tableName, audit);
    await registerReprice(options.client, options.tableName, {
      id: audit.id,
      from: options.from,
      to: options.to,
      priceVersion,
      source: options.source,
      registeredAt: new Date(options.now()).toISOString(),
    });
    if (options.checkpoint?.("registered")) return stoppedResult(audit);
    progress(`registered ${priceVersion} for ${options.from}..${options.to}; waiting for the switch-over`);
    await options.switchOver?.();
  }
  const current = audit;
  // Resumed with its aggregates all corrected: only the lake is left.
  const atLake = current !== null && options.resume?.stage === "lake";
  let applier: RepriceApplier | undefined;
  try {
    let result: RepriceResult;
    if (atLake) result = stoppedResult(current, true);
    else {
      result = resultOf({ from: options.from, to: options.to, priceVersion, invocations: 0, changed: 0, tenants: [] }, current, true);
      // A run that may stop between lake days (a job's slice) reads the lake again after its
      // corrections; one that goes to the end writes each day's replacement aside as it plans.
      const staging = options.checkpoint === undefined && options.lake.stageDay !== undefined && options.lake.publishDay !== undefined;
      if (current) applier = new RepriceApplier(options, writer, current.id, result, staging);
      progress(`planning ${options.from}..${options.to} from the lake${applier ? "; correcting the aggregates as it goes" : ""}`);
      const plan = await planReprice(options, months, applier);
      const tallies = [...plan.tallies.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.month < b.month ? -1 : 1));
      result.report = {
        from: options.from,
        to: options.to,
        priceVersion,
        invocations: plan.invocationCount,
        changed: plan.changed,
        tenants: tallies.filter((tally) => options.all || tally.newPico !== tally.oldPico).map(changeOfTally),
      };
      result.notYetCounted = plan.notYetCounted;
      result.tenantDaysChanged = plan.tenantDays.size;
      if (!current || !applier) return result;

      const before = tallies.reduce((sum, tally) => sum + tally.oldPico, 0n);
      const after = tallies.reduce((sum, tally) => sum + tally.newPico, 0n);
      Object.assign(current, {
        stage: "aggregates",
        versionsBefore: [...plan.versionsBefore].sort(),
        totalsBefore: formatUsd(before),
        totalsAfter: formatUsd(after),
        invocations: plan.invocationCount,
        changed: plan.changed,
        tenantMonths: tallies.filter((tally) => tally.newPico !== tally.oldPico).length,
        unreconciled: plan.unreconciled,
      } satisfies Partial<RepriceAudit>);
      await putRepriceAudit(options.client, options.tableName, current);
      progress("planned; waiting for the last corrections");
      await applier.settleCorrections();
      current.stage = "lake";
      await putRepriceAudit(options.client, options.tableName, current);
    }
    if (applier?.staging) {
      // Published only now, after every correction: a crash before this point finds the lake as it was.
      await applier.settleLake();
      for (const { day, staged, rows } of applier.staged) {
        await (options.lake.publishDay as NonNullable<RepriceLake["publishDay"]>)(day, staged, current.id);
        result.lakeDaysRewritten++;
        result.lakeRowsRewritten += rows;
      }
      await options.lake.discardStaged?.(current.id);
    } else {
      const stopped = await rewriteLake(options, months, current.id, atLake, result);
      if (stopped) return stopped;
    }
    Object.assign(current, { status: "applied", stage: "done", finishedAt: new Date(options.now()).toISOString() } satisfies Partial<RepriceAudit>);
    await putRepriceAudit(options.client, options.tableName, current);
    progress(
      `applied: ${result.itemsCorrected} items and ${result.invocationsCorrected} invocations corrected, ${result.lakeRowsRewritten} lake rows rewritten`,
    );
    return result;
  } catch (error) {
    // Nothing of this run may still be writing when it reports its failure (a resume may follow at once).
    await applier?.stop();
    if (current) {
      Object.assign(current, { status: "failed", error: (error as Error).message } satisfies Partial<RepriceAudit>);
      await putRepriceAudit(options.client, options.tableName, current).catch(() => {});
      await options.lake.discardStaged?.(current.id).catch(() => {});
    }
    throw error;
  }
}

/**
 * The lake pass of a run that did not stage its replacements (a job's slices, a lake without
 * staging, a run resumed at the lake stage): each day read again, repriced and replaced. Returns
 * the stopped result when `checkpoint` stops it between two days.
 */
async function rewriteLake(
  options: RepriceOptions,
  months: readonly MonthKey[],
  repriceId: string,
  atLake: boolean,
  result: RepriceResult,
): Promise<RepriceResult | undefined> {
  // Whether this run did work yet: a slice that stops at once would never end.
  let worked = !atLake;
  for (const month of months) {
    const days = (await options.lake.days(month)).filter((day) => !(atLake && options.lakeFrom !== undefined && day < options.lakeFrom));
    // A run that may stop between days (a job's slice) reads a day only once it goes on to it.
    const reader = dayReader(options.lake, days, options.checkpoint === undefined);
    for (let index = 0; index < days.length; index++) {
      const day = days[index] as DayKey;
      if (worked && options.checkpoint?.("lake")) return { ...result, done: false, lakeNextDay: day };
      worked = true;
      const { rows, token } = await reader.take(index);
      await options.pricer.prepareModelIds(rows.map((row) => row.model_id));
      let changed = 0;
      const next = rows.map((row) => {
        const repriced = repriceRecord(row, options.pricer);
        if (repriced.changed) changed++;
        return repriced.record;
      });
      if (changed === 0) continue;
      await options.lake.replaceDay(day, token, next, repriceId);
      result.lakeDaysRewritten++;
      result.lakeRowsRewritten += changed;
    }
  }
  return undefined;
}

/**
 * Batches of corrections queued behind the one being applied before the plan waits. One: the plan
 * prices a day while DynamoDB applies the one before (a settled month of 1,000,000 invocations on
 * 2 cores: 110 s; four batches ahead: 130 s at the same item cost, DynamoDB Local and the plan
 * then contend for the cores more than they wait for each other).
 */
const CORRECTIONS_AHEAD = 1;

/**
 * Where the plan hands its work as it goes, so that the aggregates are corrected (DynamoDB) and
 * the lake's replacements written (the lake's engine) while it reads and prices the next days.
 * Each kind of work runs one batch at a time, in order; the plan runs `CORRECTIONS_AHEAD` batches
 * of corrections ahead of DynamoDB at most, and a replacement waits for the one before it (a day
 * of rows each). The first failure stops
 * the rest and is thrown to the plan at its next day.
 */
class RepriceApplier {
  /** Days whose replacement is written aside, in plan order, with the rows that change. */
  readonly staged: { day: DayKey; staged: unknown; rows: number }[] = [];
  private corrections: Promise<void> = Promise.resolve();
  /** The batches of corrections handed over and not awaited yet, oldest first. */
  private readonly queued: Promise<void>[] = [];
  private lakeWrites: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly options: RepriceOptions,
    private readonly writer: RepriceWriter,
    private readonly repriceId: string,
    private readonly result: RepriceResult,
    /** Whether each day's replacement is staged during the plan (and published after the corrections). */
    readonly staging: boolean,
  ) {}

  /** Settled months: corrections of aggregate items. */
  async items(corrections: readonly ItemCorrection[]): Promise<void> {
    if (corrections.length === 0) return;
    await this.enqueue(async () => {
      const applied = await this.writer.applyItemCorrections(this.repriceId, corrections);
      this.result.writeUnits += applied.writeUnits;
      this.result.transactions += applied.transactions;
      // Items whose correction is zero (a new price version only) are not written, nor counted.
      this.result.itemsCorrected +=
        corrections.filter((item) => item.costPico !== 0n || item.unpriced !== 0).length - applied.alreadyApplied - applied.missing.length;
    });
  }

  /** Open months: corrections of invocations against their markers (those that conflict are read again and redone). */
  async invocations(corrections: readonly InvocationCorrection[]): Promise<void> {
    if (corrections.length === 0) return;
    await this.enqueue(async () => {
      let pending = corrections;
      for (let round = 1; pending.length > 0; round++) {
        const outcome = await this.writer.applyInvocationCorrections(pending);
        this.result.writeUnits += outcome.writeUnits;
        this.result.transactions += outcome.transactions;
        this.result.invocationsCorrected += pending.length - outcome.conflicts.length;
        if (outcome.conflicts.length === 0) break;
        if (round >= 10) throw new BedrockSpendError(`${outcome.conflicts.length} invocations kept changing under the reprice; resume it`);
        // A marker changed between the read and the write (a live write, another process): read again.
        const states = await readCountedStates(
          this.options.client,
          this.options.tableName,
          outcome.conflicts.map((correction) => correction.requestId),
        );
        pending = outcome.conflicts.flatMap((correction) => {
          const next = correctionOf(
            correction.record,
            states.get(correction.requestId) ?? { kind: "absent" },
            this.options,
            correction.newCostPico,
            correction.newPriceVersion,
          );
          return next && next.kind === "correct" ? [next.correction] : [];
        });
      }
    });
  }

  /** Queues a batch of corrections after the others; waits while too many are queued. */
  private async enqueue(work: () => Promise<void>): Promise<void> {
    this.corrections = this.after(this.corrections, work);
    this.queued.push(this.corrections);
    while (this.queued.length > CORRECTIONS_AHEAD) await this.queued.shift();
  }

  /** Writes a day's replacement aside (`stageDay`). */
  async stage(day: DayKey, token: unknown, rows: readonly UsageRecord[], changed: number): Promise<void> {
    const stageDay = this.options.lake.stageDay as NonNullable<RepriceLake["stageDay"]>;
    const previous = this.lakeWrites;
    this.lakeWrites = this.after(previous, async () => {
      this.staged.push({ day, staged: await stageDay.call(this.options.lake, day, token, rows, this.repriceId), rows: changed });
    });
    await previous;
  }

  /** Throws the first failure of the work handed over so far. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  async settleCorrections(): Promise<void> {
    await this.corrections;
    this.check();
  }

  async settleLake(): Promise<void> {
    await this.lakeWrites;
    this.check();
  }

  /** Lets the batch in progress end and skips the others. */
  async stop(): Promise<void> {
    this.failure ??= { error: new BedrockSpendError("the reprice stopped") };
    await Promise.all([this.corrections, this.lakeWrites]);
  }

  private after(previous: Promise<void>, work: () => Promise<void>): Promise<void> {
    return previous.then(async () => {
      if (this.failure) return;
      try {
        await work();
      } catch (error) {
        this.failure ??= { error };
      }
    });
  }
}

/**
 * Reads a pass's days of the lake in order (`take(0)`, `take(1)`, ...). With `ahead`, taking a day
 * starts the next day's read, so that the lake is read while the day taken is priced, corrected
 * or written; a read ahead that fails does so when its day is taken (never as an unhandled rejection).
 */
function dayReader(lake: RepriceLake, days: readonly DayKey[], ahead: boolean): { take(index: number): ReturnType<RepriceLake["readDay"]> } {
  let next: ReturnType<RepriceLake["readDay"]> | undefined;
  return {
    take(index) {
      const read = next ?? lake.readDay(days[index] as DayKey);
      next = undefined;
      if (ahead && index + 1 < days.length) {
        next = lake.readDay(days[index + 1] as DayKey);
        next.catch(() => {});
      }
      return read;
    },
  };
}

/** The result of a run that did no planning in this call: the figures are the audit's. */
function stoppedResult(audit: RepriceAudit, done = false): RepriceResult {
  const { from, to, priceVersion, invocations, changed } = audit;
  return resultOf({ from, to, priceVersion, invocations, changed, tenants: [] }, audit, done);
}

/** A result with this report and nothing done yet. */
function resultOf(report: RepriceReport, audit: RepriceAudit | null, done: boolean): RepriceResult {
  return {
    done,
    report,
    audit,
    notYetCounted: 0,
    writeUnits: 0,
    transactions: 0,
    itemsCorrected: 0,
    invocationsCorrected: 0,
    lakeDaysRewritten: 0,
    lakeRowsRewritten: 0,
    tenantDaysChanged: 0,
  };
}

type Decision = { kind: "pending" } | { kind: "same"; oldPico: bigint | null; version: string } | { kind: "correct"; correction: InvocationCorrection };

/**
 * What to do with one invocation of an open month, given its marker: nothing yet (not counted:
 * the live consumers count it at the new prices), nothing (counted at the new prices already), or
 * a correction from what it was counted at.
 */
function correctionOf(
  record: UsageRecord,
  state: CountedState,
  options: RepriceOptions,
  newCostPico: bigint | null,
  newPriceVersion: string,
): Decision | undefined {
  let oldCostPico: bigint | null;
  let oldVersion: string;
  if (state.kind === "marker") {
    oldCostPico = state.costPico;
    oldVersion = state.priceVersion;
  } else {
    if (state.kind === "absent") {
      // No marker: not counted yet, unless the marker had time to expire (counted long ago).
      const retentionMs = (options.dedupRetentionDays ?? 35) * 86_400_000;
      if (Date.parse(record.event_time) + retentionMs > options.now()) return { kind: "pending" };
    }
    // A marker from before reprices, or an expired one: counted at what the lake row says.
    oldCostPico = recordCostPico(record);
    oldVersion = record.price_version ?? "";
  }
  if (oldCostPico === newCostPico && oldVersion === newPriceVersion) return { kind: "same", oldPico: oldCostPico, version: oldVersion };
  return {
    kind: "correct",
    correction: {
      requestId: record.request_id,
      record,
      counted: state,
      oldCostPico,
      newCostPico,
      newPriceVersion,
      items: aggregateKeysOf(record, options.breakdowns ? { breakdowns: options.breakdowns } : {}),
    },
  };
}

/**
 * Settled tenant-months of `month` whose month item counted another number of invocations than
 * the lake holds (an invocation lost on one side): left as counted. Checked before the month is
 * planned, so that its corrections can be applied as the plan goes. The switch-over came first:
 * whatever reaches the lake or the aggregates after this check is priced at the new prices in
 * both, and needs no correction.
 */
async function disagreements(options: RepriceOptions, month: MonthKey): Promise<Map<string, { lake: number; counted: number }>> {
  const lake = await options.lake.invocationsByTenant(month);
  const counted = await readMonthInvocations(
    options.client,
    options.tableName,
    [...lake.keys()].map((tenantId) => ({ tenantId, month })),
  );
  const disagreeing = new Map<string, { lake: number; counted: number }>();
  for (const [tenantId, invocations] of lake) {
    const id = tenantMonthId(tenantId, month);
    const count = counted.get(id) ?? 0;
    if (count !== invocations) disagreeing.set(id, { lake: invocations, counted: count });
  }
  return disagreeing;
}

/** Rows handled between two yields to the event loop. */
const ROWS_PER_SLICE = 2048;

/**
 * Reprices a day's rows a slice at a time, yielding in between: the corrections and the lake
 * writes handed over are answered on this event loop, and a day's rows take ~150 ms to reprice.
 */
async function repriceAll(rows: readonly UsageRecord[], pricer: Pricer): Promise<RepricedRecord[]> {
  const repriced: RepricedRecord[] = new Array(rows.length);
  await pricer.prepareModelIds(rows.map((row) => row.model_id));
  for (let start = 0; start < rows.length; start += ROWS_PER_SLICE) {
    if (start > 0) await yieldToEventLoop();
    const end = Math.min(rows.length, start + ROWS_PER_SLICE);
    for (let index = start; index < end; index++) repriced[index] = repriceRecord(rows[index] as UsageRecord, pricer);
  }
  return repriced;
}

/**
 * Reads the months from the lake a day at a time, reprices each distinct invocation, tallies the
 * report and, with an applier (not a dry run), hands over each day's corrections: a settled
 * month's day x model items after their day, its month and breakdown items after the month; an
 * open month's invocations after their day. With staging, each changed day's replacement too.
 */
async function planReprice(options: RepriceOptions, months: readonly MonthKey[], applier: RepriceApplier | undefined): Promise<Plan> {
  const plan: Plan = {
    tallies: new Map(),
    unreconciled: [],
    versionsBefore: new Set(),
    invocationCount: 0,
    changed: 0,
    notYetCounted: 0,
    tenantDays: new Set(),
  };
  const aggregation = options.breakdowns ? { breakdowns: options.breakdowns } : {};
  const tally = (record: UsageRecord, oldPico: bigint | null, newPico: bigint | null, changed: boolean) => {
    const month = `${record.year}-${record.month}`;
    const id = tenantMonthId(record.tenant_id, month);
    let entry = plan.tallies.get(id);
    if (!entry) {
      entry = { tenantId: record.tenant_id, month, invocations: 0, changed: 0, oldPico: 0n, newPico: 0n };
      plan.tallies.set(id, entry);
    }
    entry.invocations++;
    entry.oldPico += oldPico ?? 0n;
    entry.newPico += newPico ?? 0n;
    plan.invocationCount++;
    if (changed) {
      entry.changed++;
      plan.changed++;
      if (oldPico !== newPico) plan.tenantDays.add(`${record.event_time.slice(0, 10)}\u0000${record.tenant_id}`);
    }
    return id;
  };
  for (const month of months) {
    const settled = isSettledMonth(month, options.now(), options.settleDays ?? DEFAULT_SETTLE_DAYS);
    // A dry run writes nothing, and reports what every tenant-month would change.
    const disagreeing = settled && applier ? await disagreements(options, month) : new Map<string, { lake: number; counted: number }>();
    const withheld = new Set<string>();
    const monthItems = new Map<string, ItemCorrection>();
    const days = await options.lake.days(month);
    const reader = dayReader(options.lake, days, true);
    for (let index = 0; index < days.length; index++) {
      applier?.check();
      const day = days[index] as DayKey;
      const { rows, token } = await reader.take(index);
      // The lake may hold an invocation twice (Firehose is at least once): each counts once.
      const seen = new Set<string>();
      const unique = rows.filter((row) => !seen.has(row.request_id) && seen.add(row.request_id) !== undefined);
      const repriced = await repriceAll(unique, options.pricer);
      if (settled) {
        const dayItems = new Map<string, ItemCorrection>();
        unique.forEach((row, index) => {
          const next = repriced[index] as (typeof repriced)[number];
          const oldPico = recordCostPico(row);
          plan.versionsBefore.add(row.price_version ?? "");
          const id = tally(row, oldPico, next.costPico, next.changed);
          if (!next.changed) return;
          if (disagreeing.has(id)) {
            withheld.add(id);
            return;
          }
          const cost = (next.costPico ?? 0n) - (oldPico ?? 0n);
          const unpriced = (next.costPico === null ? 1 : 0) - (oldPico === null ? 1 : 0);
          for (const key of aggregateKeysOf(row, aggregation))
            addItemCorrection(key.attributes.kind === "day-model" ? dayItems : monthItems, key, cost, unpriced);
        });
        await applier?.items([...dayItems.values()]);
      } else {
        const states = await readCountedStates(
          options.client,
          options.tableName,
          unique.map((row) => row.request_id),
        );
        const corrections: InvocationCorrection[] = [];
        unique.forEach((row, index) => {
          const next = repriced[index] as (typeof repriced)[number];
          const decision = correctionOf(row, states.get(row.request_id) ?? { kind: "absent" }, options, next.costPico, next.record.price_version ?? "");
          if (!decision || decision.kind === "pending") {
            plan.notYetCounted++;
            return;
          }
          if (decision.kind === "same") {
            plan.versionsBefore.add(decision.version);
            tally(row, decision.oldPico, next.costPico, false);
            return;
          }
          const { correction } = decision;
          plan.versionsBefore.add(correction.counted.kind === "marker" ? correction.counted.priceVersion : (row.price_version ?? ""));
          tally(row, correction.oldCostPico, correction.newCostPico, true);
          corrections.push(correction);
        });
        await applier?.invocations(corrections);
      }
      if (applier?.staging) {
        const changed = repriced.reduce((count, next) => count + (next.changed ? 1 : 0), 0);
        // A day holding a row twice is rewritten whatever its prices: the copy not planned may be the stale one.
        if (changed > 0 || unique.length < rows.length)
          await applier.stage(
            day,
            token,
            repriced.map((next) => next.record),
            changed,
          );
      }
    }
    await applier?.items([...monthItems.values()]);
    for (const id of withheld) {
      const tally = plan.tallies.get(id) as TenantMonthTally;
      const { lake, counted } = disagreeing.get(id) as { lake: number; counted: number };
      // Left as counted: the report says what it would have changed, the audit that it did not.
      plan.unreconciled.push({ tenantId: tally.tenantId, month, lakeInvocations: lake, countedInvocations: counted });
    }
    options.onProgress?.(`planned ${month}: ${plan.invocationCount} invocations so far`);
  }
  plan.unreconciled.sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  return plan;
}
