/**
 * Sample history for a first run: when `start` finds an empty data dir, it puts some days of
 * generated invocation logs, ending at the stack's "now", through the real pipeline (the local
 * stream, the aggregate mapping, the Firehose into the lake, the budget-alert mapping), the way
 * `ingest` sends logs, so that every chart of the dashboard means something on the first page.
 *
 * The data is marked as sample data: `<data-dir>/sample-data.json` says so (what was generated,
 * when, the budgets set), the dashboard shows a badge while it exists, and `start --no-history`
 * on an empty data dir starts clean. A data dir that holds anything (a stack ran on it) is never
 * seeded again, so a second start neither duplicates nor adds history.
 *
 * Sample tenants get budgets through the same store path as `budgets set` (validated as the API
 * validates them), sized from what the seeded month actually cost them, so that the current month
 * has crossed a threshold and the alerts feed shows the mechanism at once.
 */
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatUsd, utcMonthOf, validateBudget } from "@bedrock-spend/core";
import { dataDirLayout } from "./data-dir";
import type { LocalStack } from "./local-stack";

/** Name of the marker file of a data dir holding sample data. */
export const SAMPLE_MARKER_FILE = "sample-data.json";

/** Days of sample history a first start generates. */
export const SAMPLE_HISTORY_DAYS = 30;

/**
 * Invocations per day of the sample history: 1,200 in all. The live path counts them (a dedup item
 * per invocation, DynamoDB Local transactions, the table stream read by the budget-alert mapping):
 * measured at 88 invocations/s on a quiet 2-core machine (6,000 in 68 s), 17-48/s when other jobs
 * load it, so the first start takes about 15-70 s more. Enough for every chart, short enough to wait for.
 */
export const SAMPLE_RECORDS_PER_DAY = 40;

/** What the marker file says. */
export interface SampleDataMarker {
  sample: true;
  /** True once every record was counted and the budgets set (false: the seeding was interrupted). */
  complete: boolean;
  seededAt: string;
  from: string;
  to: string;
  days: number;
  /** Generated invocation log records (malformed lines not included). */
  records: number;
  tenants: number;
  seed: string;
  budgets: { tenantId: string; monthlyUsd: string; thresholds: number[] }[];
  /** How to start without it. */
  hint: string;
}

/** The marker's hint: how to start without sample data. */
export const SAMPLE_DATA_HINT = "sample data generated on the first start; start clean with bedrock-spend start --no-history on a new --data-dir";

/** Path of the marker file of `dataDir`. */
export function sampleMarkerPath(dataDir: string): string {
  return join(dataDirLayout(dataDir).root, SAMPLE_MARKER_FILE);
}

/** The data dir's sample-data marker, or null when it holds none (or an unreadable one). */
export async function readSampleMarker(dataDir: string): Promise<SampleDataMarker | null> {
  try {
    const value = JSON.parse(await readFile(sampleMarkerPath(dataDir), "utf8")) as SampleDataMarker;
    return value !== null && typeof value === "object" && value.sample === true ? value : null;
  } catch {
    return null;
  }
}

/** Writes the marker (atomically: a reader never sees half of it). */
export async function writeSampleMarker(dataDir: string, marker: SampleDataMarker): Promise<void> {
  const path = sampleMarkerPath(dataDir);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(temporary, path);
}

async function hasEntries(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch {
    return false;
  }
}

/**
 * Whether `dataDir` is empty for local mode: no stack ever kept data there (no DynamoDB Local
 * files, no stream, no lake, no checkpoints, no marker). Check it before the stack starts: starting
 * creates them. The lock file alone does not count.
 */
export async function isFreshDataDir(dataDir: string): Promise<boolean> {
  const layout = dataDirLayout(dataDir);
  const stateful = [layout.dynamodb, layout.kinesis, layout.lake, layout.quarantine, layout.lakeErrors];
  for (const path of stateful) if (await hasEntries(path)) return false;
  const root = await readdir(layout.root).catch(() => [] as string[]);
  return !root.includes("checkpoints.json") && !root.includes(SAMPLE_MARKER_FILE);
}

/** One chunk of sample history: gzip CloudWatch Logs subscription payloads and the records they carry. */
export interface SampleChunk {
  payloads: Uint8Array[];
  /** Invocation log records in the payloads (malformed lines and the permissions line not included). */
  records: number;
}

/** Progress of a seeding. */
export interface SeedProgress {
  records: number;
  total: number;
  seconds: number;
}

/** What a seeding did. */
export interface SeedResult {
  records: number;
  seconds: number;
}

/**
 * Puts the chunks on the stack's stream, a round of the pipeline after each (as `ingest` does),
 * then drains the pipeline: every record is counted in the aggregates and delivered to the lake,
 * and the budget-alert mapping has seen every change, when this resolves. Call it before
 * `stack.loop()`.
 */
export async function seedSampleHistory(
  stack: LocalStack,
  chunks: Iterable<SampleChunk>,
  options: { total: number; onProgress?: (progress: SeedProgress) => void },
): Promise<SeedResult> {
  const started = performance.now();
  let records = 0;
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  for (const chunk of chunks) {
    await stack.putPayloads(chunk.payloads);
    await stack.pump();
    records += chunk.records;
    options.onProgress?.({ records, total: options.total, seconds: seconds() });
  }
  await stack.drain();
  return { records, seconds: seconds() };
}

/**
 * Budgets for the `count` sample tenants that spent most this month (by the aggregates), each
 * sized so that the month to date has passed its 80% threshold and not its 100% one; set through
 * the store as `budgets set` sets them, then the pipeline drained so that the budget-alert
 * mapping evaluates them. Tenants that spent nothing this month get none.
 */
export async function setSampleBudgets(
  stack: LocalStack,
  tenantIds: readonly string[],
  options: { count?: number; thresholds?: number[] } = {},
): Promise<SampleDataMarker["budgets"]> {
  const month = utcMonthOf(stack.clock());
  const spent: { tenantId: string; pico: bigint }[] = [];
  for (const tenantId of tenantIds) {
    const total = await stack.store.monthTotal(tenantId, month);
    if (total && total.costPico > 0n) spent.push({ tenantId, pico: total.costPico });
  }
  spent.sort((a, b) => (a.pico === b.pico ? (a.tenantId < b.tenantId ? -1 : 1) : a.pico > b.pico ? -1 : 1));
  const budgets: SampleDataMarker["budgets"] = [];
  for (const { tenantId, pico } of spent.slice(0, options.count ?? 3)) {
    // Spend / 0.9, rounded up to the cent (to the micro-dollar below 10 cents of spend, where a
    // cent would be over 10% of it): 80% reached, 100% not yet.
    const unit = pico >= 100_000_000_000n ? 10_000_000_000n : 1_000_000n;
    const units = ((pico * 10n) / 9n + unit - 1n) / unit;
    const monthlyUsd = formatUsd(units * unit, 2);
    const valid = validateBudget({ monthlyUsd, thresholds: options.thresholds ?? [50, 80, 100] });
    if (!valid.ok) continue;
    await stack.store.putBudget(tenantId, valid.budget, new Date(stack.clock()));
    budgets.push({ tenantId, monthlyUsd: valid.budget.monthlyUsd, thresholds: valid.budget.thresholds });
  }
  if (budgets.length > 0) await stack.drain();
  return budgets;
}
