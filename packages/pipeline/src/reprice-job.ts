/**
 * A reprice as a job that outlives the machine that asked for it (the AWS reprice job: a Step
 * Functions loop around one Lambda, stacks/Reprice.ts). Each step runs `runReprice` for a bounded
 * slice of work and returns; the table is the durable state (the audit record and the registry),
 * so that the next step, or a retry of a step that died, resumes where the last one stopped:
 *
 * 1. the first step registers the reprice and stops, asking the state machine to wait the
 *    switch-over (`waitSeconds`), so that no Lambda sits idle through it;
 * 2. the next steps resume the reprice: plan, correct the aggregates, rewrite the lake day by day,
 *    each stopping between two lake days once `shouldStop` says its slice is spent;
 * 3. the step that finds the audit applied says `done`.
 *
 * The reprice's id is derived from the execution (its start time and name), so that a retried
 * first step finds the reprice it started instead of starting another. A dry run is one step.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type AttributionDimension,
  BedrockSpendError,
  type CatalogSource,
  type Clock,
  catalogFrom,
  type DayKey,
  isMonthKey,
  type MonthKey,
  type Pricer,
  type RepriceReport,
} from "@bedrock-spend/core";
import { listRepriceAudits, type RepriceAudit, readRegistry } from "@bedrock-spend/store";
import { type RepriceLake, type RepriceResult, runReprice } from "./reprice";

/** What starts a reprice job (the state machine's input). */
export interface RepriceJobInput {
  /** First month, `YYYY-MM` (not with `resume`). */
  from?: MonthKey;
  /** Last month (default `from`). */
  to?: MonthKey;
  /** The new catalog (not with `resume`: a resumed reprice keeps the catalog it registered). */
  source?: CatalogSource;
  /** Who asked (the caller's ARN). */
  actor: string;
  dryRun?: boolean;
  /** Report every tenant-month, not only those whose cost changes (dry run). */
  all?: boolean;
  /** Continue this unfinished reprice (its id) instead of starting one. */
  resume?: string;
}

/** One step's event: the job's input, its execution, and what the previous step returned. */
export interface RepriceJobEvent {
  input: RepriceJobInput;
  /** `$$.Execution.Name` and `$$.Execution.StartTime`. */
  execution: { name: string; startTime: string };
  step?: RepriceStepResult | null;
}

/** What one step did, and what the state machine does next. */
export interface RepriceStepResult {
  /** The reprice (null for a dry run). */
  repriceId: string | null;
  /** The reprice is applied (or the dry run reported): the job is over. */
  done: boolean;
  /** Seconds to wait before the next step: the switch-over after the registration, else 0. */
  waitSeconds: number;
  status: RepriceAudit["status"] | null;
  stage: RepriceAudit["stage"] | null;
  invocations: number;
  changed: number;
  tenantMonths: number;
  totalsBefore: string | null;
  totalsAfter: string | null;
  /** This step's work. */
  itemsCorrected: number;
  invocationsCorrected: number;
  lakeDaysRewritten: number;
  lakeRowsRewritten: number;
  /** Dry run: where the full report was stored, when it was. */
  reportLocation: string | null;
  /** Stopped in the lake stage: the first day not handled yet, where the next step starts. */
  lakeNextDay: DayKey | null;
}

/** What a step needs. */
export interface RepriceJobDeps {
  /** The deployment's pricer: its aliases and profiles price with the reprice's catalog. */
  pricer: Pricer;
  lake: RepriceLake;
  client: DynamoDBClient;
  tableName: string;
  breakdowns?: readonly AttributionDimension[];
  dedupRetentionDays?: number;
  settleDays?: number;
  now: Clock;
  /** True once the step's time is spent: it stops at the next lake day. */
  shouldStop: () => boolean;
  /** How long the live consumers take to price with a registered catalog (registry TTL and the lake's buffers). */
  switchOverSeconds: number;
  /** Stores a dry run's report (too large for the job's state); returns where. */
  saveReport?: (name: string, report: RepriceReport) => Promise<string>;
  onProgress?: (message: string) => void;
}

/** A job's input that cannot run. */
export class RepriceJobInputError extends BedrockSpendError {
  constructor(message: string) {
    super(message);
    this.name = "RepriceJobInputError";
  }
}

/** The id of the reprice an execution starts: its start time (ids sort by start) and its name. */
export function jobRepriceId(execution: RepriceJobEvent["execution"]): string {
  const start = new Date(execution.startTime);
  if (Number.isNaN(start.getTime())) throw new RepriceJobInputError(`execution start time "${execution.startTime}" is not a date`);
  const suffix =
    execution.name
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")
      .slice(-12) || "job";
  return `${start.toISOString().replace(/[-:.]/g, "")}-${suffix}`;
}

/** Runs one step of a reprice job. */
export async function runRepriceStep(event: RepriceJobEvent, deps: RepriceJobDeps): Promise<RepriceStepResult> {
  const { input } = event;
  const common = {
    lake: deps.lake,
    client: deps.client,
    tableName: deps.tableName,
    now: deps.now,
    actor: input.actor,
    ...(deps.breakdowns ? { breakdowns: deps.breakdowns } : {}),
    ...(deps.dedupRetentionDays ? { dedupRetentionDays: deps.dedupRetentionDays } : {}),
    ...(deps.settleDays !== undefined ? { settleDays: deps.settleDays } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  };

  // The catalog a reprice prices with: the deployment's pricer with its registered source laid over.
  const pricing = (source: CatalogSource) => ({ source, pricer: deps.pricer.withCatalogs(catalogFrom(source)) });

  if (input.dryRun) {
    if (input.resume) throw new RepriceJobInputError("a dry run cannot resume a reprice");
    const { from, to, source } = newReprice(input);
    const result = await runReprice({
      ...common,
      from,
      to,
      ...pricing(source),
      dryRun: true,
      all: input.all ?? false,
    });
    const reportLocation = deps.saveReport ? await deps.saveReport(`${event.execution.name}.json`, result.report) : null;
    return { ...stepOf(null, result, true, 0), tenantMonths: result.report.tenants.length, reportLocation };
  }

  const id = input.resume ?? event.step?.repriceId ?? jobRepriceId(event.execution);
  const audit = (await listRepriceAudits(deps.client, deps.tableName)).find((candidate) => candidate.id === id);
  if (input.resume && !audit) throw new RepriceJobInputError(`no reprice ${id} in the audit trail`);
  if (audit?.status === "applied") return stepOf(audit, null, true, 0);

  if (audit) {
    // A reprice registered less than the switch-over ago (a retried first step) waits the rest first.
    const entry = (await readRegistry(deps.client, deps.tableName)).find((candidate) => candidate.id === id);
    if (!entry) throw new RepriceJobInputError(`reprice ${id} has an audit record but no registered catalog: it cannot be resumed`);
    const ready = Date.parse(entry.registeredAt) + deps.switchOverSeconds * 1000;
    if (deps.now() < ready) return stepOf(audit, null, false, Math.ceil((ready - deps.now()) / 1000));
    const result = await runReprice({
      ...common,
      from: audit.from,
      to: audit.to,
      ...pricing(entry.source),
      resume: audit,
      checkpoint: (stage) => stage === "lake" && deps.shouldStop(),
      ...(event.step?.repriceId === id && event.step.lakeNextDay ? { lakeFrom: event.step.lakeNextDay } : {}),
    });
    return stepOf(result.audit, result, result.done, 0);
  }

  const { from, to, source } = newReprice(input);
  const result = await runReprice({
    ...common,
    from,
    to,
    ...pricing(source),
    newId: () => id,
    // A new reprice stops once registered: the state machine waits the switch-over.
    checkpoint: (stage) => stage === "registered" || deps.shouldStop(),
  });
  return stepOf(result.audit, result, result.done, result.done ? 0 : deps.switchOverSeconds);
}

function newReprice(input: RepriceJobInput): { from: MonthKey; to: MonthKey; source: CatalogSource } {
  const { from } = input;
  const to = input.to ?? from;
  if (!from || !isMonthKey(from) || !to || !isMonthKey(to)) throw new RepriceJobInputError(`from and to must be YYYY-MM, got ${from} and ${to}`);
  if (to < from) throw new RepriceJobInputError(`to (${to}) is before from (${from})`);
  if (!input.source) throw new RepriceJobInputError("source (the new catalog) is required to start a reprice");
  return { from, to, source: input.source };
}

function stepOf(audit: RepriceAudit | null, result: RepriceResult | null, done: boolean, waitSeconds: number): RepriceStepResult {
  return {
    repriceId: audit?.id ?? null,
    done,
    waitSeconds,
    status: audit?.status ?? null,
    stage: audit?.stage ?? null,
    invocations: audit?.invocations ?? result?.report.invocations ?? 0,
    changed: audit?.changed ?? result?.report.changed ?? 0,
    tenantMonths: audit?.tenantMonths ?? 0,
    totalsBefore: audit?.totalsBefore ?? null,
    totalsAfter: audit?.totalsAfter ?? null,
    itemsCorrected: result?.itemsCorrected ?? 0,
    invocationsCorrected: result?.invocationsCorrected ?? 0,
    lakeDaysRewritten: result?.lakeDaysRewritten ?? 0,
    lakeRowsRewritten: result?.lakeRowsRewritten ?? 0,
    reportLocation: null,
    lakeNextDay: result?.lakeNextDay ?? null,
  };
}
