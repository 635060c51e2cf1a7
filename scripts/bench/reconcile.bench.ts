/**
 * Reconcile the bill with the logs: CUR 2.0 rows read and reconciled per second, and the peak
 * memory of doing it, on the reference workload's bill.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeCurFiles } from "@bedrock-spend/bill";
import { defaultCatalog, LogUsageTally, logUsageOf, Pricer, parseInvocationLog, StaticProfileMap, type UsageRecord, usageTypeMap } from "@bedrock-spend/core";
import { APPLICATION_PROFILES, generateBill, generateTraffic } from "@bedrock-spend/traffic";
import type { BenchContext, Benchmark, BenchSection } from "./types";

const MONTH_START = "2026-11-01T00:00:00Z";
const MONTH_SECONDS = 30 * 86_400;
const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function run(context: BenchContext): Promise<BenchSection> {
  // The quick run: 2,000 invocations, one account.
  const invocations = context.quick ? 2_000 : 200_000;
  const targetRows = context.quick ? 1 : 1_000_000;
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
  let started = performance.now();
  // The models the shipped map has a billing name for: the others' lines are listed as unmapped, and the check below wants every row to balance.
  const named = new Set(Object.values(usageTypeMap().models));
  const records: UsageRecord[] = [];
  for (const item of generateTraffic({ seed: 1, count: invocations, start: MONTH_START, ratePerSecond: invocations / MONTH_SECONDS, bodyBytes: 16 })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (!parsed.ok) continue;
    const { record } = pricer.price(parsed.log);
    if (record.model !== null && named.has(record.model)) records.push(record);
  }
  const bill = generateBill(records, pricer, { marketplaceModels: [], taxUsd: "1.25", edpPercent: 3 });
  const tally = new LogUsageTally();
  for (const record of records) tally.add(logUsageOf(record, pricer));
  const generateSeconds = (performance.now() - started) / 1000;
  // One account's bill is the month's hourly line items; the organization's export holds many
  // accounts (the same traffic each), until it reaches the rows measured.
  const accounts = Math.max(1, Math.ceil(targetRows / bill.length));
  context.log(`reconcile: ${records.length} invocations -> ${bill.length} line items per account, ${accounts} accounts (${round(generateSeconds, 1)} s)`);
  started = performance.now();
  const results: Record<string, Record<string, number | string>> = {};
  for (const format of ["parquet", "csv.gz"] as const) {
    const dir = join(context.scratch, `cur-${format.replace(".", "-")}`);
    for (let account = 0; account < accounts; account++) {
      const id = String(100_000_000_000 + account);
      await writeCurFiles(
        bill.map((item) => ({ ...item, line_item_usage_account_id: id })),
        dir,
        { format, name: `bedrock-spend-bench-${account}` },
      );
    }
    const writeSeconds = (performance.now() - started) / 1000;
    const logsFile = join(context.scratch, "logs.json");
    mkdirSync(context.scratch, { recursive: true });
    writeFileSync(
      logsFile,
      JSON.stringify(tally.usages().map((usage) => ({ ...usage, tokens: usage.tokens * accounts, costPico: (usage.costPico * BigInt(accounts)).toString() }))),
    );
    const output = execFileSync(
      process.execPath,
      [join(context.root, "node_modules/tsx/dist/cli.mjs"), join(context.root, "scripts/bench/reconcile-run.ts"), dir, logsFile],
      {
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const measured = JSON.parse(output) as {
      seconds: number;
      readSeconds: number;
      lineItems: number;
      groups: number;
      rows: number;
      unmapped: number;
      totals: { logCostUsd: string; billCostUsd: string; unmappedCostUsd: string; driftUsd: string };
      maxRssKb: number;
    };
    // The bill is the logs' usage at the catalog's rates: the rows balance exactly, or the benchmark fails.
    if (measured.totals.driftUsd !== "0.000000") throw new Error(`reconcile: the synthetic bill drifts by ${measured.totals.driftUsd} USD`);
    if (measured.lineItems !== bill.length * accounts) throw new Error(`reconcile: read ${measured.lineItems} line items of ${bill.length * accounts}`);
    results[format] = {
      curRows: measured.lineItems,
      seconds: round(measured.seconds, 2),
      readSeconds: round(measured.readSeconds, 2),
      rowsPerSec: Math.round(measured.lineItems / measured.seconds),
      peakMemoryMib: Math.round(measured.maxRssKb / 1024),
      reconcileRows: measured.rows,
      unmappedUsageTypes: measured.unmapped,
      writeSeconds: round(writeSeconds, 1),
      logCostUsd: measured.totals.logCostUsd,
      unmappedCostUsd: measured.totals.unmappedCostUsd,
    };
    context.log(
      `reconcile (${format}): ${measured.lineItems} CUR rows in ${round(measured.seconds, 2)} s (read ${round(measured.readSeconds, 2)} s), peak ${results[format]?.peakMemoryMib} MiB`,
    );
    started = performance.now();
  }
  const parquet = results.parquet as Record<string, number>;
  const csv = results["csv.gz"] as Record<string, number>;
  const row = (label: string, key: string) => `| ${label} | ${(parquet[key] ?? 0).toLocaleString("en-US")} | ${(csv[key] ?? 0).toLocaleString("en-US")} |`;
  return {
    figures: {
      curRows: parquet.curRows ?? 0,
      seconds: parquet.seconds ?? 0,
      rowsPerSec: parquet.rowsPerSec ?? 0,
      peakMemoryMib: parquet.peakMemoryMib ?? 0,
      csv: { seconds: csv.seconds ?? 0, rowsPerSec: csv.rowsPerSec ?? 0, peakMemoryMib: csv.peakMemoryMib ?? 0 },
    },
    markdown: [
      `**Workload.** The bill of one month (2026-11) of the reference workload (seed 1, 10,000 tenants, Zipf 1.1), ${invocations.toLocaleString("en-US")} invocations priced with the ` +
        `shipped catalog and billed hour by hour by \`generateBill\` (packages/traffic): ${bill.length.toLocaleString("en-US")} line items per account (usage per hour, usage type ` +
        `and product; a tax line and an EDP discount a day; the invocations of models the shipped map has a billing name for), the same for ${accounts} linked accounts, as CUR 2.0 exports (Parquet with \`product\` as a map; gzip CSV with it as ` +
        "JSON) of one file per account under `BILLING_PERIOD=2026-11/`. The log side is the same traffic's usage by day, Region, model, class and tier (times the accounts).",
      "",
      "**How.** A child process (its peak RSS is its own; tsx start-up not counted) runs `readCur` (packages/bill: DuckDB reads every file and sums the Bedrock line items by " +
        "day, usage type, product, billing entity, line item type and unit) and `reconcile` (core: maps each usage type, sums both sides, drift and cause). Checked: every line " +
        "item read, and the rows balance to the pico-dollar (the bill is the logs' usage at the catalog's rates).",
      "",
      "| | Parquet (headline) | gzip CSV |",
      "| --- | --- | --- |",
      row("CUR rows", "curRows"),
      row("**seconds, read and reconciled**", "seconds"),
      row("of which DuckDB's read and sum", "readSeconds"),
      row("**CUR rows/s**", "rowsPerSec"),
      row("**peak memory, MiB**", "peakMemoryMib"),
      row("reconciliation rows", "reconcileRows"),
      "",
      "**What limits this figure.** DuckDB's scan and group-by of the files (the JavaScript side sees only the groups, a few per usage type and day, whatever the number of " +
        "line items); gzip CSV is parsed as text and cast, so it reads slower than Parquet's columns. Memory is DuckDB's hash table of the groups and the process's baseline.",
    ].join("\n"),
    details: { invocations, lineItemsPerAccount: bill.length, accounts, results },
  };
}

const benchmark: Benchmark = { key: "reconcile", title: "Reconcile a bill with the logs: CUR rows per second and peak memory", run };
export default benchmark;
