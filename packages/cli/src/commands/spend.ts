/**
 * `bedrock-spend spend --tenant T [--month YYYY-MM | --day YYYY-MM-DD] [--by model|day]`: a
 * tenant's spend from the aggregates of the data dir. The object is the spend API's own answer
 * (`GET /v1/tenants/{tenantId}/spend`, the same handler), so `spend --json` and the API never differ.
 */
import { type ApiRequest, handleSpendApi } from "@bedrock-spend/api";
import { type Clock, emptyCounters, escapeControlChars, isDayKey, isMonthKey, type Spend, spendOf, utcMonthOf } from "@bedrock-spend/core";
import { parseCommandArgs, tenantOptionOf } from "../args";
import { CLOCK_ENV, clockFromEnv } from "../clock";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { CommandFailure, UsageError } from "../errors";
import { dataDirOf, formatTable, grouped, LOCAL_OPTIONS_HELP, localCommand, waitNotice } from "../local";
import { type LocalTable, openLocalTable } from "../local-mode";
import { type SpendApiCaller, type SpendApiRequest, stageSpendApi } from "../stage-api";

export const SPEND_HELP = `Usage: bedrock-spend spend --tenant T [--month YYYY-MM | --day YYYY-MM-DD] [--by model|day] [options]

A tenant's spend from the aggregates (what ingest and start counted): invocations, tokens by class
and the exact cost, for a calendar month (default: the current UTC month) or a day, with the
budget that applies. --by adds a breakdown by model or by day. With --json, the object the spend
API answers (GET /v1/tenants/{tenantId}/spend). When the current month has no usage, a note
names the tenant's latest month that has some.

Options:
  --tenant T        the tenant id (required)
  --month YYYY-MM   a UTC calendar month (default: the current one)
  --day YYYY-MM-DD  a UTC calendar day instead of a month
  --by model|day    add a breakdown
  --stage NAME      ask the deployed stage NAME instead: its spend API (IAM Function URL), signed
                    with your AWS credentials (needs lambda:InvokeFunctionUrl on it)
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}

Uses the DynamoDB Local of a running "bedrock-spend start" on the data dir, or starts one.
A tenant with no usage and no budget prints zero spend and a note. The current month is the
clock's (${CLOCK_ENV}=2026-11-27T12:00:00Z runs as of that instant). Exit status: 0, or 2 for
usage errors.`;

/** Maps the API's field names to this command's options. */
const OPTION_OF: Readonly<Record<string, string>> = { tenantId: "--tenant", month: "--month", day: "--day", by: "--by" };

/** The spend API over the data dir's table: the handler itself, in process. */
export function localSpendApi(table: LocalTable, clock: Clock): SpendApiCaller {
  return async (request) => {
    const response = await handleSpendApi({ query: {}, ...request, auth: { mode: "none" } } as ApiRequest, {
      store: table.store,
      defaultBudget: null,
      allowUnauthenticated: true,
      now: clock,
    });
    return { statusCode: response.statusCode, body: response.body };
  };
}

/** Answers a spend API request (the data dir's, or a stage's); a 400 becomes a usage error naming the option. */
export async function callSpendApi(api: SpendApiCaller, request: SpendApiRequest, help: string) {
  const response = await api(request);
  let body: { error?: { code: string; message: string; field?: string } };
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`the spend API answered ${response.statusCode} with a body that is not JSON: ${response.body.slice(0, 200)}`);
  }
  if (response.statusCode === 400) {
    const option =
      OPTION_OF[body.error?.field ?? ""] ??
      (body.error?.field === "monthlyUsd" ? "--monthly-usd" : body.error?.field === "thresholds" ? "--thresholds" : undefined);
    throw new UsageError(`${option ? `${option}: ` : ""}${body.error?.message ?? "bad request"}`, { help });
  }
  if (response.statusCode === 403) throw new CommandFailure(`the spend API refused: ${body.error?.message ?? response.body}`);
  if (response.statusCode >= 500) throw new Error(`the spend API failed: ${response.body}`);
  return { statusCode: response.statusCode, body };
}

export async function spendCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      tenant: { type: "string" },
      month: { type: "string" },
      day: { type: "string" },
      by: { type: "string" },
      ...STAGE_OPTIONS,
    },
    SPEND_HELP,
  );
  if (values.help) {
    process.stdout.write(`${SPEND_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`spend: unexpected argument "${positionals[0]}"`, { help: SPEND_HELP });
  const tenant = tenantOptionOf(values.tenant, SPEND_HELP);
  if (tenant === undefined) throw new UsageError("spend: --tenant is required", { help: SPEND_HELP });
  if (values.month !== undefined && values.day !== undefined) throw new UsageError("spend: give either --month or --day, not both", { help: SPEND_HELP });
  if (values.month !== undefined && !isMonthKey(values.month))
    throw new UsageError(`--month must be a UTC calendar month YYYY-MM, got "${values.month}"`, { help: SPEND_HELP });
  if (values.day !== undefined && !isDayKey(values.day))
    throw new UsageError(`--day must be a UTC calendar day YYYY-MM-DD, got "${values.day}"`, { help: SPEND_HELP });
  if (values.by !== undefined && values.by !== "model" && values.by !== "day")
    throw new UsageError(`--by must be model or day, got "${values.by}"`, { help: SPEND_HELP });
  const target = stageOf(values, SPEND_HELP);
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  // The month is read off the clock once, here: the API call comes later (after DynamoDB Local
  // starts) and must not land in the next month at a month's edge.
  const period = values.day ?? values.month ?? utcMonthOf(clock());
  const query: Record<string, string | undefined> = { month: values.day === undefined ? period : undefined, day: values.day, by: values.by };

  const request: SpendApiRequest = { method: "GET", path: `/v1/tenants/${encodeURIComponent(tenant)}/spend`, query, body: null };
  const { spend, known, latestMonth } = await localCommand(async () => {
    if (target) {
      const { statusCode, body } = await callSpendApi(await stageSpendApi(target), request, SPEND_HELP);
      return statusCode === 404
        ? { spend: undefined, known: false, latestMonth: undefined }
        : { spend: body as unknown as Spend, known: true, latestMonth: undefined };
    }
    const table = await openLocalTable({ dataDir, role: "spend", create: false, onWait: waitNotice });
    if (!table) return { spend: undefined, known: false, latestMonth: undefined };
    try {
      const { statusCode, body } = await callSpendApi(localSpendApi(table, clock), request, SPEND_HELP);
      if (statusCode === 404) return { spend: undefined, known: false, latestMonth: undefined };
      const found = body as unknown as Spend;
      // The default month is the current one: say where the usage is when it has none (logs of an
      // earlier month, such as the shipped samples).
      const defaulted = values.month === undefined && values.day === undefined && found.invocations === 0;
      return { spend: found, known: true, latestMonth: defaulted ? await table.store.latestMonthWithUsage(tenant) : undefined };
    } finally {
      await table.close();
    }
  });
  const result = spend ?? spendOf({ tenantId: tenant, period, totals: emptyCounters(), budget: null, ...(values.by ? { breakdown: [] } : {}) });
  const shownTenant = escapeControlChars(tenant);
  if (!known)
    process.stderr.write(`bedrock-spend: no usage or budget is recorded for tenant "${shownTenant}" in ${target ? `stage ${target.stage}` : dataDir}\n`);
  if (latestMonth !== undefined && latestMonth !== result.period)
    process.stderr.write(
      `bedrock-spend: tenant "${shownTenant}" has no usage in ${result.period} (the current month); its latest month with usage is ${latestMonth}: add --month ${latestMonth}\n`,
    );
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatSpend(result));
  return 0;
}

/** The readable form of a spend object; the tenant id and the breakdown's keys escaped (they come from metadata and logs). */
export function formatSpend(spend: Spend): string {
  const budget = spend.budget ? `${spend.budget.monthlyUsd} USD a month, alerts at ${spend.budget.thresholds.map((value) => `${value}%`).join(", ")}` : "none";
  const lines = [
    `tenant ${escapeControlChars(spend.tenantId)}, ${spend.period.length === 7 ? "month" : "day"} ${spend.period}`,
    `  cost           ${spend.costUsd} USD`,
    `  invocations    ${grouped(spend.invocations)}${spend.unpricedInvocations > 0 ? ` (${grouped(spend.unpricedInvocations)} unpriced: counted in tokens, not in cost)` : ""}`,
    `  input tokens   ${grouped(spend.inputTokens)}`,
    `  output tokens  ${grouped(spend.outputTokens)}`,
    `  cache read     ${grouped(spend.cacheReadTokens)}`,
    `  cache write    ${grouped(spend.cacheWriteTokens)}`,
    `  budget         ${budget}`,
  ];
  let text = `${lines.join("\n")}\n`;
  if (spend.breakdown) {
    text += `\n${formatTable(
      ["key", "invocations", "unpriced", "input", "output", "cache read", "cache write", "cost USD"],
      spend.breakdown.map((row) => [
        row.key,
        grouped(row.invocations),
        grouped(row.unpricedInvocations),
        grouped(row.inputTokens),
        grouped(row.outputTokens),
        grouped(row.cacheReadTokens),
        grouped(row.cacheWriteTokens),
        row.costUsd,
      ]),
      [false, true, true, true, true, true, true, true],
    )}`;
  }
  return text;
}
