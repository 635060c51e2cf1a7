/**
 * Test helpers: real-shaped usage records (traffic generator -> invocation log -> Pricer), exact
 * sums, temporary lake directories.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCatalog, formatUsd, Pricer, parseInvocationLog, parseUsd, type UsageRecord } from "@bedrock-spend/core";
import { generateTraffic, type TrafficOptions } from "@bedrock-spend/traffic";

const pricer = new Pricer({ catalog: defaultCatalog() });

/**
 * Usage records priced from generated traffic (malformed lines and the permissions line skipped).
 * Small bodies: the lake never stores them, and generating them is most of the cost.
 */
export function usageRecords(options: TrafficOptions = {}): UsageRecord[] {
  const records: UsageRecord[] = [];
  for (const item of generateTraffic({ bodyBytes: 64, ...options })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (!parsed.ok) throw new Error(`generated record does not parse: ${parsed.reason}`);
    records.push(pricer.price(parsed.log).record);
  }
  return records;
}

/** Records across three days and two months: 2026-11-27, and 2026-11-30 to 2026-12-01 across midnight UTC. */
export function recordsAcrossMonths(): UsageRecord[] {
  return [
    ...usageRecords({ seed: "lake-a", count: 400, start: "2026-11-27T10:00:00Z", ratePerSecond: 20 }),
    ...usageRecords({ seed: "lake-b", count: 1200, start: "2026-11-30T23:59:00Z", ratePerSecond: 10 }),
  ];
}

/** Exact sum of the records' costs, pico-dollars (unpriced records count nothing). */
export function costPico(records: readonly UsageRecord[]): bigint {
  let total = 0n;
  for (const record of records) {
    if (record.cost_usd === null) continue;
    const pico = parseUsd(record.cost_usd);
    if (pico === undefined) throw new Error(`bad cost ${record.cost_usd}`);
    total += pico;
  }
  return total;
}

/** A decimal string read from the lake as pico-dollars (null stays null). */
export function picoOf(text: unknown): bigint | null {
  if (text === null) return null;
  if (typeof text !== "string") throw new Error(`expected a decimal string, got ${typeof text}: ${String(text)}`);
  const pico = parseUsd(text);
  if (pico === undefined) throw new Error(`not a decimal string: ${text}`);
  return pico;
}

/** `formatUsd` with the 12 fractional digits DuckDB prints for DECIMAL(38,12). */
export function decimal12(pico: bigint): string {
  return formatUsd(pico, 12);
}

/** Sum of a numeric field over records. */
export function sumOf(records: readonly UsageRecord[], field: "input_tokens" | "output_tokens" | "cache_read_tokens" | "cache_write_tokens"): number {
  return records.reduce((total, record) => total + record[field], 0);
}

/** Groups records by a key. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return groups;
}

/** A temporary directory, removed by the returned function. */
export async function tempLake(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "bedrock-spend-lake-test-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}
