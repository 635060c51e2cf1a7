/**
 * `bedrock-spend query "<SQL>"`: Athena-dialect SQL over the local lake, with DuckDB as the local
 * Athena (table `invocations`, the dashboard views, Trino function shims). Read-only.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DASHBOARD_VIEWS } from "@bedrock-spend/core";
import { hasUsageFiles, LocalAthena, type QueryResult } from "@bedrock-spend/local-lake";
import { parseCommandArgs } from "../args";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { UsageError } from "../errors";
import { dataDirOf, formatTable, LOCAL_OPTIONS_HELP, localCommand } from "../local";
import { dataDirLayout } from "../local-mode";
import { type QueryProgress, stageQuery } from "../stage-query";

export const QUERY_HELP = `Usage: bedrock-spend query "<SQL>" [options]

Runs one read-only statement (SELECT, WITH, VALUES, DESCRIBE, SHOW, EXPLAIN) in the Athena (Trino)
dialect over the local lake, as Athena runs it over the Parquet lake in S3:
  invocations       one row per invocation (the usage record: request_id, event_time, tenant_id,
                    model, input_tokens, ..., cost_usd DECIMAL(38,12), year, month, day)
  views             ${DASHBOARD_VIEWS.map((view) => view.name).join(", ")}
Trino functions DuckDB lacks are shimmed (approx_distinct, date_format, json_extract_scalar, ...).

Example:
  bedrock-spend query "SELECT tenant_id, sum(cost_usd) AS cost FROM invocations GROUP BY 1 ORDER BY 2 DESC LIMIT 10"

Options:
  --stage NAME      run it in the deployed stage NAME's Athena workgroup over its lake instead
                    (progress on stderr: state, bytes scanned); Athena's own SQL and limits apply
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}

With --json: {"columns":[{"name","type"}],"rows":[{...}]}, decimals as exact strings.
Exit status: 0, or 2 for bad or refused SQL (DuckDB's message is printed).`;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The readable form of a result. */
export function formatResult(result: QueryResult): string {
  const numeric = result.columns.map((column) => /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|DOUBLE|FLOAT|DECIMAL)/.test(column.type));
  const table = formatTable(
    result.columns.map((column) => column.name),
    result.rows.map((row) => result.columns.map((column) => cellText(row[column.name]))),
    numeric,
  );
  return `${table}(${result.rows.length} row${result.rows.length === 1 ? "" : "s"})\n`;
}

export async function queryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...STAGE_OPTIONS }, QUERY_HELP);
  if (values.help) {
    process.stdout.write(`${QUERY_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError('query: give the SQL as one argument, e.g. query "SELECT count(*) FROM invocations"', { help: QUERY_HELP });
  if (positionals.length > 1)
    throw new UsageError(`query: give the SQL as one argument, in quotes (got ${positionals.length} arguments)`, { help: QUERY_HELP });
  const sql = positionals[0] as string;
  const target = stageOf(values, QUERY_HELP);
  if (target) {
    const config = target.region ? { region: target.region } : {};
    const result = await localCommand(() =>
      stageQuery(target, sql, { athena: new AthenaClient(config), cloudFormation: new CloudFormationClient(config) }, (progress) =>
        process.stderr.write(progressLine(progress)),
      ),
    );
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatResult(result as QueryResult));
    return 0;
  }
  const dataDir = dataDirOf(values["data-dir"]);
  const lakeDir = dataDirLayout(dataDir).lake;
  const result = await localCommand(async () => {
    const athena = await LocalAthena.open({ lakeDir });
    try {
      return await athena.query(sql);
    } finally {
      await athena.close();
    }
  });
  if (!(await hasUsageFiles(lakeDir))) process.stderr.write(`bedrock-spend: the lake of ${dataDir} is empty: nothing was ingested yet\n`);
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatResult(result));
  return 0;
}

/** A query's progress, one line: its id, state, bytes scanned and time so far. */
export function progressLine(progress: QueryProgress): string {
  const mb = progress.bytesScanned / 1_000_000;
  return `query ${progress.queryExecutionId}: ${progress.state}, ${mb < 10 ? mb.toFixed(2) : Math.round(mb)} MB scanned, ${(progress.elapsedMs / 1000).toFixed(1)} s\n`;
}
