/**
 * `bedrock-spend alerts`: the budget alerts fired so far on the data dir, newest first (each
 * fires once per tenant, month and threshold; the forecast alert once per tenant and month).
 */
import { isMonthKey } from "@bedrock-spend/core";
import { type FiredAlert, scanAlerts } from "@bedrock-spend/store";
import { parseCommandArgs, tenantOptionOf } from "../args";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { UsageError } from "../errors";
import { dataDirOf, formatTable, LOCAL_OPTIONS_HELP, localCommand, waitNotice } from "../local";
import { openLocalTable } from "../local-mode";
import { readStageTable } from "../stage-table";

export const ALERTS_HELP = `Usage: bedrock-spend alerts [--tenant T] [--month YYYY-MM] [options]

Lists the budget alerts fired so far, newest first: threshold alerts (a percentage of a tenant's
monthly budget reached) and forecast alerts (the month-end projection above the budget). Each
fires once per tenant, month and threshold. Set budgets with "bedrock-spend budgets set".

Options:
  --tenant T        only this tenant's alerts
  --month YYYY-MM   only this month's alerts
  --stage NAME      the deployed stage NAME instead: its table (needs dynamodb:Scan on it)
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}`;

export async function alertsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { tenant: { type: "string" }, month: { type: "string" }, ...STAGE_OPTIONS }, ALERTS_HELP);
  if (values.help) {
    process.stdout.write(`${ALERTS_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`alerts: unexpected argument "${positionals[0]}"`, { help: ALERTS_HELP });
  if (values.month !== undefined && !isMonthKey(values.month))
    throw new UsageError(`--month must be a UTC calendar month YYYY-MM, got "${values.month}"`, { help: ALERTS_HELP });
  const tenant = tenantOptionOf(values.tenant, ALERTS_HELP);
  const target = stageOf(values, ALERTS_HELP);
  const dataDir = dataDirOf(values["data-dir"]);
  const alerts = await localCommand(async (): Promise<FiredAlert[]> => {
    if (target) return readStageTable(target, "dynamodb:Scan", scanAlerts);
    const table = await openLocalTable({ dataDir, role: "alerts", create: false, onWait: waitNotice });
    if (!table) return [];
    try {
      return await scanAlerts(table.client, table.tableName);
    } finally {
      await table.close();
    }
  });
  const shown = alerts.filter((alert) => (tenant === undefined || alert.tenantId === tenant) && (values.month === undefined || alert.month === values.month));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(shown)}\n`);
    return 0;
  }
  if (shown.length === 0) {
    process.stdout.write(
      `no alerts fired in ${target ? `stage ${target.stage}` : dataDir}${tenant !== undefined || values.month ? " for this selection" : ""}\n`,
    );
    return 0;
  }
  process.stdout.write(
    formatTable(
      ["fired at", "tenant", "month", "alert", "spend USD", "budget USD", "forecast USD"],
      shown.map((alert) => [
        alert.firedAt,
        alert.tenantId,
        alert.month,
        alert.kind === "forecast" ? "forecast above budget" : `${alert.threshold}% reached`,
        alert.spendUsd,
        alert.budgetUsd,
        alert.forecastUsd,
      ]),
      [false, false, false, false, true, true, true],
    ),
  );
  return 0;
}
