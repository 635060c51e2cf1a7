/**
 * `bedrock-spend spend --tenant T [--month YYYY-MM | --day YYYY-MM-DD] [--by model|day]`: a
 * tenant's spend from the aggregates of the data dir. The object is the spend API's own answer
 * (`GET /v1/tenants/{tenantId}/spend`, the same handler), so `spend --json` and the API never differ.
 */
import { type ApiRequest, handleSpendApi, type Report, type ReportLake, sqlReportLake } from "@bedrock-spend/api";
import { type Clock, emptyCounters, escapeControlChars, isDayKey, isMonthKey, type Spend, spendOf, utcMonthOf } from "@bedrock-spend/core";
import { LocalAthena } from "@bedrock-spend/local-lake";
import { parseCommandArgs, tenantOptionOf } from "../args";
import { CLOCK_ENV, clockFromEnv } from "../clock";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { CommandFailure, UsageError } from "../errors";
import { dataDirOf, formatTable, grouped, LOCAL_OPTIONS_HELP, localCommand, waitNotice } from "../local";
import { dataDirLayout, type LocalTable, localBreakdowns, openLocalTable } from "../local-mode";
import { type SpendApiCaller, type SpendApiRequest, stageSpendApi } from "../stage-api";

export const SPEND_HELP = `Usage: bedrock-spend spend --tenant T [--month YYYY-MM | --day YYYY-MM-DD] [--by B] [options]
       bedrock-spend spend --group-by tenant|tenantGroup|department|application|user|model
                           [--month YYYY-MM | --from DATE --to DATE] [--limit N] [--cursor C] [options]

A tenant's spend from the aggregates (what ingest and start counted): invocations, tokens by class
and the exact cost, for a calendar month (default: the current UTC month) or a day, with the
budget that applies. --by adds a breakdown by model or by day. With --json, the object the spend
API answers (GET /v1/tenants/{tenantId}/spend). When the current month has no usage, a note
names the tenant's latest month that has some.

Options:
  --tenant T        the tenant id (required)
  --month YYYY-MM   a UTC calendar month (default: the current one)
  --day YYYY-MM-DD  a UTC calendar day instead of a month
  --by B            add a breakdown: model or day, or (months only) tenantGroup, department,
                    application or user when the aggregator writes it (BEDROCK_SPEND_BREAKDOWNS)

A report across tenants (GET /v1/spend), ranked by cost, highest first:
  --group-by D      tenant, tenantGroup, department, application, user or model
  --from, --to      a range of days (YYYY-MM-DD) or months (YYYY-MM), inclusive, instead of --month
  --limit N         groups per page, 1-1000 (default 100)
  --cursor C        the next page, as the previous one named it
  --stage NAME      ask the deployed stage NAME instead: its spend API (IAM Function URL), signed
                    with your AWS credentials (needs lambda:InvokeFunctionUrl on it)
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}

Uses the DynamoDB Local of a running "bedrock-spend start" on the data dir, or starts one.
A tenant with no usage and no budget prints zero spend and a note. The current month is the
clock's (${CLOCK_ENV}=2026-11-27T12:00:00Z runs as of that instant). Exit status: 0, or 2 for
usage errors.`;

/** The breakdowns of a tenant's spend: by model or day, and by the dimensions the aggregator writes (BEDROCK_SPEND_BREAKDOWNS). */
const BREAKDOWNS: readonly string[] = ["model", "day", "tenantGroup", "department", "application", "user"];

/** Maps the API's field names to this command's options. */
const OPTION_OF: Readonly<Record<string, string>> = {
  tenantId: "--tenant",
  month: "--month",
  day: "--day",
  by: "--by",
  groupBy: "--group-by",
  from: "--from",
  to: "--to",
  limit: "--limit",
  cursor: "--cursor",
};

/** The aggregates of a data dir that has none: no breakdowns, no rank entries (the report's reads). */
const NO_ITEMS = {
  periodItems: async () => [],
  rankComplete: async () => false,
} as unknown as LocalTable["store"];

/**
 * The data dir's lake as reports read it (spend by model, tenants over days): DuckDB opened on the
 * first such report only, so that the other reports start no engine; `close` closes it if opened.
 */
export function localReportLake(lakeDir: string): { lake: ReportLake; close(): Promise<void> } {
  let athena: Promise<LocalAthena> | undefined;
  return {
    lake: sqlReportLake(async (sql) => {
      athena ??= LocalAthena.open({ lakeDir, views: [], threads: 1 });
      return (await athena).queryText(sql);
    }),
    close: async () => {
      if (athena) await (await athena).close();
    },
  };
}

/** The spend API over the data dir's aggregates (and its lake, for the reports that read it): the handler itself, in process. */
export function localSpendApi(store: LocalTable["store"], clock: Clock, lake?: ReportLake): SpendApiCaller {
  return async (request) => {
    const response = await handleSpendApi({ query: {}, ...request, auth: { mode: "none" } } as ApiRequest, {
      store,
      lake,
      // What local mode's aggregate consumer writes (BEDROCK_SPEND_BREAKDOWNS): another dimension is a 400 naming these.
      breakdowns: localBreakdowns(),
      defaultBudget: null,
      allowUnauthenticated: true,
      now: clock,
    });
    return { statusCode: response.statusCode, body: response.body };
  };
}

/**
 * Answers a spend API request (the data dir's, or a stage's); a 400 becomes a usage error naming
 * the option (`renamed` maps an API field to the calling command's option where it differs).
 */
export async function callSpendApi(api: SpendApiCaller, request: SpendApiRequest, help: string, renamed: Readonly<Record<string, string>> = {}) {
  const response = await api(request);
  // Problem details (RFC 9457: `detail`, `field`); `{error: {message, field}}` from a stage deployed before them.
  let body: { detail?: string; field?: string; error?: { code: string; message: string; field?: string } };
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`the spend API answered ${response.statusCode} with a body that is not JSON: ${response.body.slice(0, 200)}`);
  }
  const field = body.field ?? body.error?.field ?? "";
  const message = body.detail ?? body.error?.message;
  if (response.statusCode === 400) {
    const option = renamed[field] ?? OPTION_OF[field] ?? (field === "monthlyUsd" ? "--monthly-usd" : field === "thresholds" ? "--thresholds" : undefined);
    // The API words a message with its field's name ("limit must be..."): a renamed option says its own.
    const text = renamed[field] && message?.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
    throw new UsageError(`${option ? `${option}: ` : ""}${text ?? "bad request"}`, { help });
  }
  if (response.statusCode === 403) throw new CommandFailure(`the spend API refused: ${message ?? response.body}`);
  if (response.statusCode === 503) throw new CommandFailure(`the spend API cannot answer this now: ${message ?? response.body}`);
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
      "group-by": { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      ...STAGE_OPTIONS,
    },
    SPEND_HELP,
  );
  if (values.help) {
    process.stdout.write(`${SPEND_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`spend: unexpected argument "${positionals[0]}"`, { help: SPEND_HELP });
  if (values["group-by"] !== undefined) return reportCommand(values);
  for (const option of ["from", "to", "limit", "cursor"] as const) {
    if (values[option] !== undefined) throw new UsageError(`spend: --${option} goes with --group-by (a report across tenants)`, { help: SPEND_HELP });
  }
  const tenant = tenantOptionOf(values.tenant, SPEND_HELP);
  if (tenant === undefined) throw new UsageError("spend: --tenant is required", { help: SPEND_HELP });
  if (values.month !== undefined && values.day !== undefined) throw new UsageError("spend: give either --month or --day, not both", { help: SPEND_HELP });
  if (values.month !== undefined && !isMonthKey(values.month))
    throw new UsageError(`--month must be a UTC calendar month YYYY-MM, got "${values.month}"`, { help: SPEND_HELP });
  if (values.day !== undefined && !isDayKey(values.day))
    throw new UsageError(`--day must be a UTC calendar day YYYY-MM-DD, got "${values.day}"`, { help: SPEND_HELP });
  if (values.by !== undefined && !BREAKDOWNS.includes(values.by))
    throw new UsageError(`--by must be one of ${BREAKDOWNS.join(", ")}, got "${values.by}"`, { help: SPEND_HELP });
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
        : { spend: body as unknown as Spend, known: hasUsageOrBudget(body as unknown as Spend), latestMonth: undefined };
    }
    const table = await openLocalTable({ dataDir, role: "spend", create: false, onWait: waitNotice });
    if (!table) return { spend: undefined, known: false, latestMonth: undefined };
    try {
      const { statusCode, body } = await callSpendApi(localSpendApi(table.store, clock), request, SPEND_HELP);
      if (statusCode === 404) return { spend: undefined, known: false, latestMonth: undefined };
      const found = body as unknown as Spend;
      // The default month is the current one: say where the usage is when it has none (logs of an
      // earlier month, such as the shipped samples).
      const defaulted = values.month === undefined && values.day === undefined && found.invocations === 0;
      const latest = defaulted ? await table.store.latestMonthWithUsage(tenant) : undefined;
      // The API answers zeros for a tenant it has never seen: "known" is what the table holds of it.
      return { spend: found, known: hasUsageOrBudget(found) || latest !== undefined, latestMonth: latest };
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

/** Whether the spend answer shows the tenant in the table at all: usage in the period, or a budget. */
function hasUsageOrBudget(spend: Spend): boolean {
  return spend.invocations > 0 || spend.budget !== null;
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

/**
 * `spend --group-by D [--month M | --from A --to B] [--limit N] [--cursor C]`: the report across
 * tenants, as `report` prints it.
 */
async function reportCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  if (values.tenant !== undefined || values.day !== undefined || values.by !== undefined) {
    throw new UsageError("spend: --group-by ranks every tenant: it does not take --tenant, --day or --by", { help: SPEND_HELP });
  }
  const options: ReportOptions = {
    groupBy: values["group-by"] as string,
    month: values.month as string | undefined,
    from: values.from as string | undefined,
    to: values.to as string | undefined,
    limit: values.limit as string | undefined,
    cursor: values.cursor as string | undefined,
  };
  return runReport(options, values, SPEND_HELP);
}

/** The query of a report across tenants (`GET /v1/spend`), as the command line gave it: the API validates it. */
export interface ReportOptions {
  groupBy: string;
  month?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit?: string | undefined;
  cursor?: string | undefined;
}

/**
 * Prints the report across tenants: from the data dir's table, or the stage's API with --stage
 * (`values` holds the stage and local options). A 400 names the option (`options`' names by
 * default, `renamed` where the command calls it otherwise, as `report --top` for `limit`).
 */
export async function runReport(
  options: ReportOptions,
  values: Record<string, string | boolean | undefined>,
  help: string,
  renamed: Readonly<Record<string, string>> = {},
): Promise<number> {
  const target = stageOf(values, help);
  const dataDir = dataDirOf(values["data-dir"] as string | undefined);
  const clock = clockFromEnv();
  const query: Record<string, string | undefined> = { ...options };
  // Without a period the API reads the current month of its own clock: here, the CLI's clock.
  if (query.month === undefined && query.from === undefined && query.to === undefined) query.month = utcMonthOf(clock());
  const request: SpendApiRequest = { method: "GET", path: "/v1/spend", query, body: null };
  const report = await localCommand(async () => {
    if (target) return (await callSpendApi(await stageSpendApi(target), request, help, renamed)).body as unknown as Report;
    const table = await openLocalTable({ dataDir, role: "spend", create: false, onWait: waitNotice });
    const lake = localReportLake(dataDirLayout(dataDir).lake);
    // A data dir with nothing counted: the same handler over no items (it still validates the query).
    try {
      return (await callSpendApi(localSpendApi(table?.store ?? NO_ITEMS, clock, lake.lake), request, help, renamed)).body as unknown as Report;
    } finally {
      await Promise.all([table?.close(), lake.close()]);
    }
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  process.stdout.write(formatReport(report));
  if (report.nextCursor) process.stderr.write(`bedrock-spend: more groups follow: add --cursor ${report.nextCursor}\n`);
  return 0;
}

/** The readable form of a report: a ranked table, keys escaped (they come from metadata and logs). */
export function formatReport(report: Report): string {
  const header = `${report.period}, by ${report.groupBy}${report.asOf ? ` (as of ${report.asOf})` : ""}\n`;
  if (report.groups.length === 0) return `${header}no usage\n`;
  return `${header}\n${formatTable(
    ["#", report.groupBy, "invocations", "unpriced", "input", "output", "cache read", "cache write", "cost USD"],
    report.groups.map((group, index) => [
      String(index + 1),
      group.key,
      grouped(group.invocations),
      grouped(group.unpricedInvocations),
      grouped(group.inputTokens),
      grouped(group.outputTokens),
      grouped(group.cacheReadTokens),
      grouped(group.cacheWriteTokens),
      group.costUsd,
    ]),
    [true, false, true, true, true, true, true, true, true],
  )}`;
}
