/**
 * The measured part of the reconcile benchmark, in its own process so that its peak memory is its
 * own: reads a CUR export with DuckDB and reconciles it with a log side (JSON of LogUsage, costs as
 * strings). Prints one JSON line: seconds, line items, rows, totals, peak RSS.
 */
import { readFileSync } from "node:fs";
import { readCur } from "@bedrock-spend/bill";
import { type LogUsage, reconcile, usageTypeMap } from "@bedrock-spend/core";

const [cur, logsFile] = process.argv.slice(2) as [string, string];
const logs = (JSON.parse(readFileSync(logsFile, "utf8")) as (Omit<LogUsage, "costPico"> & { costPico: string })[]).map((usage) => ({
  ...usage,
  costPico: BigInt(usage.costPico),
}));
const started = performance.now();
const read = await readCur([cur]);
const readSeconds = (performance.now() - started) / 1000;
const report = reconcile(read.groups, logs, { map: usageTypeMap() });
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ seconds, readSeconds, lineItems: read.lineItems, groups: read.groups.length, rows: report.rows.length, unmapped: report.unmapped.length, totals: report.totals, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
