/**
 * `bedrock-spend reconcile --cur PATH... [--data-dir DIR | --logs PATH...]`: the AWS bill (CUR 2.0
 * exports, read by DuckDB) against the logs (the local lake, or logs priced on the fly), by day,
 * source Region, model, token class and tier, with the drift and its likely cause; the Bedrock
 * usage the usage-type map cannot place is listed, never dropped. The reconciliation itself is
 * `reconcile` of core; reading the bill is `readCur` of packages/bill.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type DayKey,
  decodeStream,
  LogUsageTally,
  logUsageOf,
  monthsBetween,
  preparedPriceItems,
  type ReconcileReport,
  reconcile,
  summarizeDrift,
} from "@bedrock-spend/core";
import { reconcileFileOf } from "@bedrock-spend/dashboard";
import { DuckDbLakeWriter, LocalAthena, LocalLakePartitions } from "@bedrock-spend/local-lake";
import { parseCommandArgs, priceFileOf } from "../args";
import { expandListOptions, readBill, usageTypeMapOf } from "../bill";
import { loadPricer } from "../config";
import { type DeploymentTarget, STAGE_OPTIONS, stageOf } from "../deployment";
import { UsageError } from "../errors";
import { expandInputPaths, openInput } from "../io";
import { dataDirOf, formatTable, grouped, LOCAL_OPTIONS_HELP, localCommand } from "../local";
import { dataDirLayout } from "../local-mode";
import { reconcileDeployment, reconcileDeploymentClients } from "./reconcile-deployment";

export const RECONCILE_HELP = `Usage: bedrock-spend reconcile --cur PATH... [--data-dir DIR | --logs PATH...] [options]
       bedrock-spend reconcile --stage NAME [--region R] [--profile P] [--from YYYY-MM-DD --to YYYY-MM-DD] [--json]

Compares the AWS bill with the logs, per day, source Region, model, token class (input, output,
cacheRead, cacheWrite) and tier: tokens and cost on each side, the drift (bill - logs) and its
likely cause. The bill is one or more CUR 2.0 exports as AWS Data Exports writes them (Parquet or
gzip CSV, files or directories of BILLING_PERIOD=YYYY-MM/ partitions); the logs are the data
dir's lake (after "ingest" or "start") or invocation logs priced on the fly (--logs). Bedrock
usage the usage-type map cannot place is listed with the reason; credits, refunds and discounts
count only in the net bill, tax nowhere.

Options:
  --cur PATH...       CUR 2.0 files or directories (repeatable)
  --logs PATH...      invocation logs to price instead of the data dir's lake (repeatable)
  --from YYYY-MM-DD   first UTC day (default: the bill's first)
  --to YYYY-MM-DD     last UTC day (default: the bill's last)
  --usage-types FILE  usage-type map laid over the shipped one:
                      {"models": {"<billing name>": "<model id>"}, "products": {"<product name>": "<model id>"},
                       "regions": {"<prefix>": "<region>"}, "units": {"<pricing_unit>": <tokens per unit>}}
  --prices FILE       price file laid over the shipped catalog, for the logs' cost
  --prices-only FILE  price file used alone
  --json              print the report as JSON
  --stage NAME        reconcile the deployed stage NAME instead: its reconcile function runs the
                      same queries as its daily run (Athena over its CUR table and its lake, its
                      catalog and usage-type map) over --from..--to (default: its window, ending
                      yesterday); needs lambda:InvokeFunction on bedrock-spend-NAME-reconcile
  --region R          the stage's Region (default: the AWS SDK's)
  --profile P         the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}
  -h, --help          show this help

With --data-dir (or no --logs), the last report is kept in <data-dir>/reconcile/last.json.`;

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export async function reconcileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    expandListOptions(argv, ["--cur", "--logs"]),
    {
      cur: { type: "string", multiple: true },
      logs: { type: "string", multiple: true },
      from: { type: "string" },
      to: { type: "string" },
      "usage-types": { type: "string" },
      profiles: { type: "string" },
      aliases: { type: "string" },
      ...STAGE_OPTIONS,
    },
    RECONCILE_HELP,
  );
  if (values.help) {
    process.stdout.write(`${RECONCILE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`reconcile: unexpected argument "${positionals[0]}"`, { help: RECONCILE_HELP });
  for (const name of ["from", "to"] as const) {
    const value = values[name];
    if (value !== undefined && !DAY.test(value)) throw new UsageError(`--${name} must be a UTC day YYYY-MM-DD, got "${value}"`, { help: RECONCILE_HELP });
  }
  if (values.from && values.to && values.from > values.to) throw new UsageError(`--from ${values.from} is after --to ${values.to}`, { help: RECONCILE_HELP });
  if (values.stage !== undefined)
    for (const option of ["cur", "logs", "data-dir", "usage-types", "prices", "prices-only", "profiles", "aliases"] as const)
      if (values[option] !== undefined)
        throw new UsageError(`reconcile: --${option} is not for --stage: the stage reconciles its own CUR export and lake, with its own configuration`, {
          help: RECONCILE_HELP,
        });
  const target = stageOf(values, RECONCILE_HELP);
  if (target) return stageCommand(target, values);
  const cur = values.cur ?? [];
  if (cur.length === 0) throw new UsageError("reconcile: give the bill with --cur PATH...", { help: RECONCILE_HELP });
  if (values.logs && values["data-dir"])
    throw new UsageError("reconcile: --logs and --data-dir are exclusive: the logs come from one or the other", { help: RECONCILE_HELP });
  const map = await usageTypeMapOf(values["usage-types"]);
  const pricer = await loadPricer({ ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases });

  const bill = await readBill(cur, { ...(values.from ? { from: values.from } : {}), ...(values.to ? { to: values.to } : {}) });
  const billDays = bill.groups.map((group) => group.day).sort();
  const from = values.from ?? billDays[0];
  const to = values.to ?? billDays.at(-1);
  const inRange = (day: DayKey) => (from === undefined || day >= from) && (to === undefined || day <= to);
  const tally = new LogUsageTally();
  let dataDir: string | undefined;
  if (values.logs) {
    for (const file of await expandInputPaths(values.logs)) {
      const label = file === "-" ? "<stdin>" : file;
      let chunk = [];
      for await (const item of decodeStream(openInput(file), { file: label })) {
        chunk.push(item);
        if (chunk.length >= 512) {
          addLogs((await preparedPriceItems(chunk, pricer)).usage, tally, pricer, inRange);
          chunk = [];
        }
      }
      addLogs((await preparedPriceItems(chunk, pricer)).usage, tally, pricer, inRange);
    }
  } else {
    dataDir = dataDirOf(values["data-dir"]);
    const layout = dataDirLayout(dataDir);
    await localCommand(async () => {
      const athena = await LocalAthena.open({ lakeDir: layout.lake, views: [], threads: 1 });
      const writer = await DuckDbLakeWriter.open({ lakeDir: layout.lake, threads: 1 });
      try {
        const lake = new LocalLakePartitions(layout.lake, layout.lakeHistory, athena, writer);
        for (const month of from === undefined || to === undefined ? [] : monthsBetween(from.slice(0, 7), to.slice(0, 7))) {
          for (const day of await lake.days(month)) {
            if (!inRange(day)) continue;
            const { rows } = await lake.readDay(day);
            const seen = new Set<string>();
            for (const row of rows) {
              // The lake may hold an invocation twice: the bill counts it once.
              if (seen.has(row.request_id)) continue;
              seen.add(row.request_id);
              tally.add(logUsageOf(row, pricer));
            }
          }
        }
      } finally {
        await writer.close();
        await athena.close();
      }
    });
  }
  const report = reconcile(bill.groups, tally.usages(), { map });
  if (dataDir !== undefined) {
    const file = reconcileFileOf(dataDir);
    await mkdir(dirname(file), { recursive: true });
    // Whole or not at all: the dashboard reads it while it may be rewritten.
    const summary = summarizeDrift(report, bill.groups);
    const kept = { from: from ?? null, to: to ?? null, cur, ...report, days: summary.days, lastCompleteDay: summary.lastCompleteDay };
    await writeFile(`${file}.tmp`, `${JSON.stringify(kept)}\n`);
    await rename(`${file}.tmp`, file);
  }
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : reportText(report, bill.lineItems));
  return 0;
}

function addLogs(
  usages: readonly { usage: { record: Parameters<typeof logUsageOf>[0] } }[],
  tally: LogUsageTally,
  pricer: Parameters<typeof logUsageOf>[1],
  inRange: (day: DayKey) => boolean,
): void {
  for (const { usage } of usages) if (inRange(usage.record.event_time.slice(0, 10))) tally.add(logUsageOf(usage.record, pricer));
}

/** `reconcile --stage`: the deployed stage's reconcile function runs it. */
async function stageCommand(
  target: DeploymentTarget,
  values: { from?: string | undefined; to?: string | undefined; json?: boolean | undefined },
): Promise<number> {
  const range = { ...(values.from !== undefined ? { from: values.from } : {}), ...(values.to !== undefined ? { to: values.to } : {}) };
  const { result, report } = await reconcileDeployment(target, range, reconcileDeploymentClients(target));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  const days = result.days.map(
    (day) =>
      `  ${day.day}  logs ${day.logCostUsd} USD, bill ${day.billCostUsd} USD, drift ${day.driftUsd} USD (${day.driftPct ?? "-"}%)${day.complete ? "" : "  (the bill has not finished this day)"}`,
  );
  process.stdout.write(
    `${reportText(report, null)}stage ${target.stage}, ${result.from}..${result.to} (report: ${result.reportLocation})\n${days.join("\n")}${days.length > 0 ? "\n" : ""}`,
  );
  return 0;
}

function reportText(report: ReconcileReport, lineItems: number | null): string {
  const lines: string[] = [];
  const drifting = report.rows.filter((row) => row.driftUsd !== "0.000000" || row.billTokens !== row.logTokens);
  if (drifting.length > 0)
    lines.push(
      formatTable(
        ["day", "region", "model", "class", "tier", "log tokens", "bill tokens", "log USD", "bill USD", "drift USD", "drift %", "likely cause"],
        drifting.map((row) => [
          row.day,
          row.region,
          row.model,
          row.tokenClass,
          row.tier,
          grouped(row.logTokens),
          grouped(row.billTokens),
          row.logCostUsd,
          row.billCostUsd,
          row.driftUsd,
          row.driftPct ?? "-",
          row.likelyCause ?? "",
        ]),
        [false, false, false, false, false, true, true, true, true, true, true, false],
      ).trimEnd(),
    );
  for (const line of report.unmapped)
    lines.push(
      `unmapped: ${line.usageType} (${line.productName ?? line.productCode}): ${line.billCostUsd} USD, ${line.usageAmount} ${line.pricingUnit ?? "units"}: ${line.reason}`,
    );
  const t = report.totals;
  lines.push(
    `${report.rows.length - drifting.length} of ${report.rows.length} rows agree${lineItems === null ? "" : `; ${grouped(lineItems)} line items read`}. ` +
      `logs ${t.logCostUsd} USD, bill ${t.billCostUsd} USD (unmapped ${t.unmappedCostUsd}), drift ${t.driftUsd} USD (${t.driftPct ?? "-"}%); net bill ${t.netBillCostUsd} USD`,
  );
  return `${lines.join("\n")}\n`;
}
