/**
 * `bedrock-spend reprice --from YYYY-MM [--to YYYY-MM] [--prices FILE] [--dry-run] [--json] [--all]`:
 * prices every invocation of some months again from the lake with a corrected catalog, and makes
 * the aggregates, the budgets and the lake agree with it, exactly once, with an audit record.
 * `--history` lists the audit records, `--resume` finishes an interrupted reprice. The design is
 * docs/reprice.md; the work is `runReprice` (packages/pipeline), the same as the AWS job's.
 */
import { hostname, userInfo } from "node:os";
import { type CatalogSource, catalogFrom, escapeControlChars, isMonthKey, PriceCatalog, type RepriceReport, utcMonthOf } from "@bedrock-spend/core";
import { localDynamoDbClient } from "@bedrock-spend/emulators";
import { DuckDbLakeWriter, LocalAthena, LocalLakePartitions } from "@bedrock-spend/local-lake";
import { type RepriceResult, runReprice, unfinishedReprice } from "@bedrock-spend/pipeline";
import { listRepriceAudits, type RepriceAudit, readRegistry } from "@bedrock-spend/store";
import { APPLICATION_PROFILES } from "@bedrock-spend/traffic";
import { parseCommandArgs, priceFileOf } from "../args";
import { CLOCK_ENV, clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { UsageError } from "../errors";
import { readJsonFile } from "../io";
import { alertText, dataDirOf, formatTable, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf, sharedNotice, waitNotice } from "../local";
import { dataDirLayout, LOCAL_TABLE_NAME, LocalStack, lockOrShare, openLocalTable, REGISTRY_TTL_MS } from "../local-mode";
import { type RepriceDeploymentOutput, repriceDeployment, repriceDeploymentClients } from "./reprice-deployment";

export const REPRICE_HELP = `Usage: bedrock-spend reprice --from YYYY-MM [--to YYYY-MM] [--prices FILE | --prices-only FILE] [--dry-run] [--all] [options]
       bedrock-spend reprice --history [options]
       bedrock-spend reprice --resume [options]

Prices every invocation of the months --from..--to again, from the lake, with the shipped catalog
and --prices laid over it (or --prices-only alone), and corrects what was counted: the tenants'
aggregates (spend, budgets: a threshold crossed fires its alert once; one left below fires
nothing and un-fires nothing) and the lake's rows (new cost and price version; the replaced files
are kept under <data-dir>/lake-history/<reprice id>/). Exactly once, also while "bedrock-spend
start" keeps counting: from the switch-over on, live traffic of those months is priced with the
same catalog. A second run with the same prices changes nothing.

Options:
  --from YYYY-MM    first month to reprice (UTC)
  --to YYYY-MM      last month (default: the current month)
  --prices FILE     a price file laid over the shipped catalog (the corrected prices)
  --prices-only FILE  a price file used alone, as the whole catalog
  --profiles FILE   application inference profile map (as given to start)
  --aliases FILE    metadata alias map (as given to start)
  --dry-run         report what would change; write nothing
  --all             list every tenant-month, not only those whose cost changes
  --history         list the reprices applied to the data dir, newest first
  --resume          finish the reprice that was interrupted (its months and prices)
  --stage NAME      reprice the deployed stage NAME instead of the data dir: starts its reprice
                    job (Step Functions) as the caller, and follows it to the end
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
  --no-wait         with --stage: start the job and return (it goes on in the account)
${LOCAL_OPTIONS_HELP}

With --json the report is {"from","to","priceVersion","invocations","changed","tenants":[{"tenantId",
"month","oldCostUsd","newCostUsd","deltaUsd"}]}, money as exact decimal strings, plus "repriceId",
"notYetCounted" and "unreconciled"; --history prints the audit records. The current month is the
clock's (${CLOCK_ENV}). Exit status: 0, 1 when tenant-months were left unreconciled or the
reprice failed (resume it), 2 for usage errors.`;

/** What `reprice --json` prints: the report and what the run did. */
export interface RepriceOutput extends RepriceReport {
  repriceId: string | null;
  dryRun: boolean;
  notYetCounted: number;
  unreconciled: RepriceAudit["unreconciled"];
}

export async function repriceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      from: { type: "string" },
      to: { type: "string" },
      profiles: { type: "string" },
      aliases: { type: "string" },
      "dry-run": { type: "boolean" },
      all: { type: "boolean" },
      history: { type: "boolean" },
      resume: { type: "boolean" },
      ...STAGE_OPTIONS,
      "no-wait": { type: "boolean" },
    },
    REPRICE_HELP,
  );
  if (values.help) {
    process.stdout.write(`${REPRICE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`reprice: unexpected argument "${positionals[0]}"`, { help: REPRICE_HELP });
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  const modes = [values.history, values.resume, values.from !== undefined].filter(Boolean).length;
  if (modes > 1) throw new UsageError("reprice: give one of --from, --history or --resume", { help: REPRICE_HELP });
  if (modes === 0) throw new UsageError("reprice: --from is required (or --history, or --resume)", { help: REPRICE_HELP });
  const { prices, pricesOnly } = priceFileOf(values);

  if (values.stage === undefined && values["no-wait"] !== undefined)
    throw new UsageError("reprice: --no-wait is for a deployed stage (--stage)", { help: REPRICE_HELP });
  const target = stageOf(values, REPRICE_HELP);

  if (values.history) {
    for (const name of ["to", "dry-run", "all"] as const)
      if (values[name] !== undefined) throw new UsageError(`reprice --history: --${name} is for a reprice`, { help: REPRICE_HELP });
    if (target) {
      const audits = (await repriceDeployment(target, { kind: "history" }, repriceDeploymentClients(target), { now: clock })) as RepriceAudit[];
      process.stdout.write(values.json ? `${JSON.stringify(audits)}\n` : historyText(audits, `stage ${target.stage}`));
      return 0;
    }
    const audits = await localCommand(async () => {
      const client = await openClient(dataDir);
      if (!client) return [];
      try {
        return await listRepriceAudits(client.client, LOCAL_TABLE_NAME);
      } finally {
        await client.close();
      }
    });
    process.stdout.write(values.json ? `${JSON.stringify(audits)}\n` : historyText(audits, dataDir));
    return 0;
  }

  let from = values.from;
  let to = values.to;
  if (!values.resume) {
    if (from === undefined || !isMonthKey(from)) throw new UsageError(`--from must be a UTC calendar month YYYY-MM, got "${from}"`, { help: REPRICE_HELP });
    to ??= utcMonthOf(clock());
    if (!isMonthKey(to)) throw new UsageError(`--to must be a UTC calendar month YYYY-MM, got "${to}"`, { help: REPRICE_HELP });
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`, { help: REPRICE_HELP });
  } else {
    for (const name of ["to", "prices", "prices-only", "all"] as const)
      if (values[name] !== undefined) throw new UsageError(`reprice --resume: --${name} comes from the interrupted reprice`, { help: REPRICE_HELP });
    if (values["dry-run"]) throw new UsageError("reprice --resume: --dry-run does not apply (resume writes)", { help: REPRICE_HELP });
  }
  // The catalog is validated before anything starts, and registered as the file's content.
  let source: CatalogSource = { kind: "defaults" };
  if (prices !== undefined) {
    const json = await readJsonFile(prices, "price file");
    try {
      PriceCatalog.fromJson(json, prices);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error, help: REPRICE_HELP });
    }
    source = { kind: pricesOnly ? "only" : "overlay", json, origin: prices };
  }
  if (target) {
    const wait = values["no-wait"] !== true;
    const request = values.resume
      ? ({ kind: "resume", wait } as const)
      : ({ kind: "reprice", from: from as string, to: to as string, source, dryRun: values["dry-run"] === true, all: values.all === true, wait } as const);
    const result = (await repriceDeployment(target, request, repriceDeploymentClients(target), {
      now: clock,
      onProgress: progressOf(values.json === true),
    })) as RepriceDeploymentOutput;
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : deploymentText(result));
    return 0;
  }
  const pricing = pricingOf(values);
  const progressOut = progressOf(values.json === true);

  const output = await localCommand(async () => {
    const found = await lockOrShare(dataDir, "reprice", { onWait: waitNotice, extra: { pricing } });
    const layout = dataDirLayout(dataDir);
    let stack: LocalStack | undefined;
    let client: ReturnType<typeof localDynamoDbClient>;
    let switchOver: () => Promise<void>;
    if (found.kind === "shared") {
      if (!values.json) sharedNotice(found.holder);
      client = localDynamoDbClient(found.holder.endpoints?.dynamodb as string);
      // The running start reads the registry every REGISTRY_TTL_MS and flushes its Firehose buffer
      // within a second: after both, every invocation it priced the old way is in the lake.
      switchOver = () => new Promise((resolve) => setTimeout(resolve, 2 * REGISTRY_TTL_MS + 2_000));
    } else {
      stack = await LocalStack.start({
        dataDir,
        lock: found.lock,
        role: "reprice",
        pricing,
        clock,
        onAlert: (alert) => progressOut(alertText(alert)),
      });
      client = stack.dynamoDb;
      // Nothing else counts on this data dir: what the stream still holds is counted first.
      switchOver = () => stack?.drain() ?? Promise.resolve();
    }
    // One DuckDB thread each: DynamoDB Local holds a core while the corrections run beside the
    // plan, and on 2 cores a second DuckDB thread cost more CPU than it saved (a month's plan
    // alone: 29 s with one thread, 34 s with two).
    const athena = await LocalAthena.open({ lakeDir: layout.lake, views: [], threads: 1 });
    const writer = await DuckDbLakeWriter.open({ lakeDir: layout.lake, threads: 1 });
    try {
      let resume: RepriceAudit | undefined;
      if (values.resume) {
        resume = await unfinishedReprice(client, LOCAL_TABLE_NAME);
        if (!resume) throw new UsageError(`reprice --resume: no unfinished reprice in ${dataDir}`, { help: REPRICE_HELP });
        const registered = (await readRegistry(client, LOCAL_TABLE_NAME)).find((entry) => entry.id === resume?.id);
        if (!registered) throw new UsageError(`reprice --resume: ${resume.id} was never registered; nothing of it was applied`, { help: REPRICE_HELP });
        source = registered.source;
        from = resume.from;
        to = resume.to;
      }
      // Attribution and profile resolution as the pipeline that counted the months: a running
      // start's (its files and the generated traffic's profiles), else the options given.
      const theirs = found.kind === "shared" ? found.holder.pricing : undefined;
      const profiles = theirs ? theirs.profiles : pricing.profiles;
      const aliases = theirs ? theirs.aliases : pricing.aliases;
      const pricer = await loadPricer(
        { ...(profiles ? { profiles } : {}), ...(aliases ? { aliases } : {}), pricesOnly: false },
        theirs ? APPLICATION_PROFILES : undefined,
      );
      const result = await runReprice({
        from: from as string,
        to: to as string,
        pricer: pricer.withCatalogs(catalogFrom(source)),
        source,
        lake: new LocalLakePartitions(layout.lake, layout.lakeHistory, athena, writer),
        client,
        tableName: LOCAL_TABLE_NAME,
        now: clock,
        dryRun: values["dry-run"] === true,
        all: values.all === true,
        actor: `${userInfo().username}@${hostname()}`,
        ...(resume ? { resume } : {}),
        switchOver,
        onProgress: progressOut,
      });
      // Budget alerts follow the corrected month totals through the table's stream.
      await stack?.drain();
      return outputOf(result, values["dry-run"] === true);
    } finally {
      await writer.close();
      await athena.close();
      if (stack) await stack.stop();
      else client.destroy();
    }
  });
  process.stdout.write(values.json ? `${JSON.stringify(output)}\n` : reportText(output));
  return output.unreconciled.length > 0 ? 1 : 0;
}

function progressOf(json: boolean): (message: string) => void {
  return (message) => {
    if (!json) process.stderr.write(`bedrock-spend: ${message}\n`);
  };
}

function deploymentText(result: RepriceDeploymentOutput): string {
  const step = result.step;
  if (!step) return `reprice job started on stage ${result.stage}: ${result.executionArn}\n`;
  if (step.reportLocation)
    return `dry run on stage ${result.stage}: ${step.invocations} invocations, ${step.changed} would change; the report is at ${step.reportLocation}\n`;
  return `stage ${result.stage}: reprice ${step.repriceId} ${step.status ?? "done"}: ${step.invocations} invocations, ${step.changed} changed, ${step.tenantMonths} tenant-months moved, ${step.totalsBefore ?? "-"} -> ${step.totalsAfter ?? "-"} USD (${result.executionArn})\n`;
}

function outputOf(result: RepriceResult, dryRun: boolean): RepriceOutput {
  return {
    ...result.report,
    repriceId: result.audit?.id ?? null,
    dryRun,
    notYetCounted: result.notYetCounted,
    unreconciled: result.audit?.unreconciled ?? [],
  };
}

async function openClient(dataDir: string): Promise<{ client: ReturnType<typeof localDynamoDbClient>; close(): Promise<void> } | undefined> {
  const table = await openLocalTable({ dataDir, role: "reprice", create: false, onWait: waitNotice });
  if (!table) return undefined;
  return { client: table.client, close: () => table.close() };
}

function reportText(output: RepriceOutput): string {
  const lines: string[] = [];
  if (output.tenants.length > 0)
    lines.push(
      formatTable(
        ["tenant", "month", "old USD", "new USD", "delta USD"],
        output.tenants.map((entry) => [entry.tenantId, entry.month, entry.oldCostUsd, entry.newCostUsd, entry.deltaUsd]),
        [false, false, true, true, true],
      ).trimEnd(),
    );
  const verb = output.dryRun ? "would change" : "changed";
  lines.push(
    `${output.dryRun ? "dry run: " : ""}${output.from}..${output.to} repriced with ${output.priceVersion}: ${grouped(output.invocations)} invocations, ${grouped(output.changed)} ${verb}, ${grouped(output.tenants.length)} tenant-months ${output.dryRun ? "would move" : "moved"}${output.repriceId ? ` (reprice ${output.repriceId}; see reprice --history)` : ""}`,
  );
  if (output.notYetCounted > 0)
    lines.push(`${grouped(output.notYetCounted)} invocations in the lake are not counted yet: the pipeline counts them at the new prices`);
  for (const entry of output.unreconciled)
    lines.push(
      `left as counted: ${escapeControlChars(entry.tenantId)} ${entry.month}: the lake holds ${entry.lakeInvocations} invocations, the aggregates counted ${entry.countedInvocations}`,
    );
  return `${lines.join("\n")}\n`;
}

function historyText(audits: readonly RepriceAudit[], where: string): string {
  if (audits.length === 0) return `no reprices in ${where}\n`;
  return formatTable(
    ["id", "status", "months", "prices", "before USD", "after USD", "invocations", "changed", "started", "by"],
    audits.map((audit) => [
      audit.id,
      audit.status === "applied" ? "applied" : `${audit.status} (at ${audit.stage})`,
      `${audit.from}..${audit.to}`,
      `${audit.versionsBefore.join(", ") || "-"} -> ${audit.priceVersion}`,
      audit.totalsBefore ?? "-",
      audit.totalsAfter ?? "-",
      grouped(audit.invocations),
      grouped(audit.changed),
      audit.startedAt,
      audit.actor,
    ]),
    [false, false, false, false, true, true, true, true, false, false],
  );
}
