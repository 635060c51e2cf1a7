/**
 * `bedrock-spend budgets set|list|rm`: tenants' monthly budgets and alert thresholds, in the
 * aggregates table of the data dir. `set` and `rm` go through the spend API's handler (the same
 * validation and the same answer as `PUT|DELETE /v1/tenants/{tenantId}/budget`).
 */
import { escapeControlChars, validateBudget } from "@bedrock-spend/core";
import { scanBudgets, type TenantBudget } from "@bedrock-spend/store";
import { parseCommandArgs, tenantOptionOf } from "../args";
import { clockFromEnv } from "../clock";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { UsageError } from "../errors";
import { dataDirOf, formatTable, LOCAL_OPTIONS_HELP, localCommand, waitNotice } from "../local";
import { openLocalTable } from "../local-mode";
import { type SpendApiCaller, stageSpendApi } from "../stage-api";
import { readStageTable } from "../stage-table";
import { callSpendApi, localSpendApi } from "./spend";

export const BUDGETS_HELP = `Usage: bedrock-spend budgets set --tenant T --monthly-usd N [--thresholds 50,80,100] [options]
       bedrock-spend budgets list [--tenant T] [options]
       bedrock-spend budgets rm --tenant T [options]

set     Sets a tenant's monthly budget in USD (a decimal, e.g. 100 or 99.50) and the percentages
        of it at which alerts fire (integers 1-1000; default 50,80,100). Each threshold fires
        once per tenant and calendar month (UTC).
list    Lists the budgets set (all tenants, or --tenant).
rm      Removes a tenant's budget.

Options:
  --tenant T            the tenant id
  --monthly-usd N       the budget, USD per calendar month
  --thresholds LIST     comma-separated percentages, e.g. 50,80,100
  --stage NAME          the deployed stage NAME instead of the data dir: set and rm through its
                        spend API (lambda:InvokeFunctionUrl), list from its table (dynamodb:Scan)
  --region R            the stage's Region (default: the AWS SDK's)
  --profile P           the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}

Exit status: 0, or 2 for usage errors (a missing or invalid option is named).`;

function thresholdsOf(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(",").map((part) => part.trim());
  const values = parts.map(Number);
  const bad = parts.find((part, index) => part === "" || !Number.isInteger(values[index]));
  if (bad !== undefined)
    throw new UsageError(`--thresholds must be comma-separated integer percentages, e.g. 50,80,100; got "${text}"`, { help: BUDGETS_HELP });
  return values;
}

function describe(budget: { monthlyUsd: string; thresholds: number[] }): string {
  return `${budget.monthlyUsd} USD a month, alerts at ${budget.thresholds.map((value) => `${value}%`).join(", ")}`;
}

export async function budgetsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { tenant: { type: "string" }, "monthly-usd": { type: "string" }, thresholds: { type: "string" }, ...STAGE_OPTIONS },
    BUDGETS_HELP,
  );
  const [action, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${BUDGETS_HELP}\n`);
    return 0;
  }
  if (action === undefined) throw new UsageError("budgets: expected set, list or rm", { help: BUDGETS_HELP });
  if (rest.length > 0) throw new UsageError(`budgets ${action}: unexpected argument "${rest[0]}"`, { help: BUDGETS_HELP });
  const target = stageOf(values, BUDGETS_HELP);
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  const tenant = tenantOptionOf(values.tenant, BUDGETS_HELP);
  /** Runs `call` on the stage's spend API or the data dir's (`missing` when the data dir has no table). */
  const withApi = <T>(create: boolean, missing: T, call: (api: SpendApiCaller) => Promise<T>): Promise<T> =>
    localCommand(async () => {
      if (target) return call(await stageSpendApi(target));
      const table = await openLocalTable({ dataDir, role: "budgets", create, onWait: waitNotice });
      if (!table) {
        if (create) throw new Error("the aggregates table could not be created");
        return missing;
      }
      try {
        return await call(localSpendApi(table.store, clock));
      } finally {
        await table.close();
      }
    });
  const needTenant = () => {
    if (tenant === undefined) throw new UsageError(`budgets ${action}: --tenant is required`, { help: BUDGETS_HELP });
    return tenant;
  };
  const path = (tenantId: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/budget`;

  switch (action) {
    case "set": {
      const tenantId = needTenant();
      const monthly = values["monthly-usd"];
      if (monthly === undefined) throw new UsageError("budgets set: --monthly-usd is required", { help: BUDGETS_HELP });
      const thresholds = thresholdsOf(values.thresholds);
      const input = { monthlyUsd: monthly, ...(thresholds ? { thresholds } : {}) };
      // Checked before anything starts (the API checks it again, the same way).
      const valid = validateBudget(input);
      if (!valid.ok)
        throw new UsageError(`${valid.field === "thresholds" ? "--thresholds" : "--monthly-usd"}: ${valid.field} ${valid.reason}`, { help: BUDGETS_HELP });
      const body = JSON.stringify(input);
      const result = await withApi(
        true,
        undefined,
        async (api) =>
          (await callSpendApi(api, { method: "PUT", path: path(tenantId), body }, BUDGETS_HELP)).body as unknown as { budget: TenantBudget["budget"] },
      );
      if (!result) throw new Error("the aggregates table could not be created");
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `budget of ${escapeControlChars(tenantId)}: ${describe(result.budget)}\n`);
      return 0;
    }
    case "list": {
      if (values["monthly-usd"] !== undefined || values.thresholds !== undefined)
        throw new UsageError("budgets list: --monthly-usd and --thresholds are for budgets set", { help: BUDGETS_HELP });
      const budgets = await localCommand(async () => {
        if (target) return readStageTable(target, "dynamodb:Scan", scanBudgets);
        const table = await openLocalTable({ dataDir, role: "budgets", create: false, onWait: waitNotice });
        if (!table) return [];
        try {
          return await scanBudgets(table.client, table.tableName);
        } finally {
          await table.close();
        }
      });
      const shown = budgets.filter((entry) => tenant === undefined || entry.tenantId === tenant);
      if (values.json) process.stdout.write(`${JSON.stringify(shown)}\n`);
      else if (shown.length === 0)
        process.stdout.write(
          `no budgets set${tenant === undefined ? "" : ` for ${escapeControlChars(tenant)}`} in ${target ? `stage ${target.stage}` : dataDir}\n`,
        );
      else
        process.stdout.write(
          formatTable(
            ["tenant", "monthly USD", "thresholds", "updated"],
            shown.map((entry) => [entry.tenantId, entry.budget.monthlyUsd, entry.budget.thresholds.join(","), entry.updatedAt ?? "-"]),
            [false, true, false, false],
          ),
        );
      return 0;
    }
    case "rm": {
      const tenantId = needTenant();
      if (values["monthly-usd"] !== undefined || values.thresholds !== undefined)
        throw new UsageError("budgets rm: --monthly-usd and --thresholds are for budgets set", { help: BUDGETS_HELP });
      const removed = await withApi(
        false,
        false,
        async (api) => (await callSpendApi(api, { method: "DELETE", path: path(tenantId), body: null }, BUDGETS_HELP)).statusCode === 200,
      );
      if (values.json) process.stdout.write(`${JSON.stringify({ tenantId, removed })}\n`);
      else {
        const shown = escapeControlChars(tenantId);
        process.stdout.write(removed ? `budget of ${shown} removed\n` : `${shown} has no budget of its own: nothing removed\n`);
      }
      return 0;
    }
    default:
      throw new UsageError(`budgets: unknown action "${action}"; expected set, list or rm`, { help: BUDGETS_HELP });
  }
}
