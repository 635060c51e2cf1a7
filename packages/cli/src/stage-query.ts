/**
 * `query --stage NAME`: one statement through the deployed stage's Athena workgroup (the Analytics
 * stack's `AthenaWorkGroup` output, which enforces the result location and the scan limit) in its
 * Glue database (the Lake stack's `GlueDatabase` output), with its progress (state, bytes scanned)
 * reported while it runs, and its result in the local command's shape: `{columns: [{name, type}],
 * rows: [{...}]}`, values as the local lake gives them (integers as numbers when safe, decimals as
 * exact strings at their scale, timestamps in ISO 8601 UTC).
 */
import { type AthenaClient, GetQueryResultsCommand, type GetQueryResultsCommandOutput } from "@aws-sdk/client-athena";
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { AthenaQueries, AthenaQueryError } from "@bedrock-spend/adapters";
import { type DeploymentTarget, stageStackName, stageStackOutputs } from "./deployment";
import { CommandFailure, UsageError } from "./errors";

/** A result, as the local `query` prints it. */
export interface StageQueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, null | boolean | number | string>[];
}

/** How far a running query is. */
export interface QueryProgress {
  queryExecutionId: string;
  state: string;
  bytesScanned: number;
  elapsedMs: number;
}

/** Athena's type of a column as the local result names it: upper case, decimals with precision and scale. */
function typeName(type: string, precision?: number, scale?: number): string {
  const upper = type.toUpperCase();
  return upper === "DECIMAL" && precision !== undefined ? `DECIMAL(${precision},${scale ?? 0})` : upper;
}

/** One Athena text value in the local lake's JSON form. */
export function athenaValue(text: string | null, type: string, scale = 0): null | boolean | number | string {
  if (text === null) return null;
  switch (type.toLowerCase()) {
    case "tinyint":
    case "smallint":
    case "integer":
    case "bigint": {
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : text;
    }
    case "double":
    case "float":
    case "real": {
      const value = Number(text);
      return Number.isFinite(value) ? value : text;
    }
    case "boolean":
      return text === "true";
    case "decimal": {
      // Athena drops trailing zeros in some clients: pad to the column's scale, as the local lake prints it.
      const [whole = "0", fraction = ""] = text.split(".");
      return scale > 0 ? `${whole}.${fraction.padEnd(scale, "0")}` : whole;
    }
    case "timestamp": {
      // `2026-11-27 10:00:00.000`: UTC (the lake's timestamps are UTC); the fraction only when not zero.
      const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
      if (!match) return text;
      const fraction = (match[3] ?? "").replace(/0+$/, "");
      return `${match[1]}T${match[2]}${fraction ? `.${fraction.padEnd(3, "0")}` : ""}Z`;
    }
    default:
      return text;
  }
}

/** Runs `sql` on the stage. @throws UsageError for SQL Athena refuses; CommandFailure for a missing output or permission */
export async function stageQuery(
  target: DeploymentTarget,
  sql: string,
  clients: { athena: AthenaClient; cloudFormation: CloudFormationClient },
  onProgress: (progress: QueryProgress) => void = () => {},
  options: { pollMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<StageQueryResult> {
  const [analytics, lake] = await Promise.all([
    stageStackOutputs(target, "Analytics", clients.cloudFormation),
    stageStackOutputs(target, "Lake", clients.cloudFormation),
  ]);
  const workGroup = analytics.get("AthenaWorkGroup");
  const database = lake.get("GlueDatabase");
  if (!workGroup || !database)
    throw new CommandFailure(
      `--stage ${target.stage}: no ${workGroup ? `GlueDatabase output in ${stageStackName(target.stage, "Lake")}` : `AthenaWorkGroup output in ${stageStackName(target.stage, "Analytics")}`}`,
    );
  const started = Date.now();
  const queries = new AthenaQueries({
    athena: clients.athena,
    workGroup,
    database,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    onPoll: (execution) =>
      onProgress({
        queryExecutionId: execution.QueryExecutionId ?? "",
        state: execution.Status?.State ?? "UNKNOWN",
        bytesScanned: execution.Statistics?.DataScannedInBytes ?? 0,
        elapsedMs: Date.now() - started,
      }),
  });
  let id: string;
  try {
    id = (await queries.run(sql)).QueryExecutionId as string;
  } catch (error) {
    if (error instanceof AthenaQueryError && error.state === "FAILED") throw new UsageError(`query --stage ${target.stage}: ${error.message}`);
    if ((error as Error).name === "AccessDeniedException")
      throw new CommandFailure(
        `query --stage ${target.stage}: ${(error as Error).message} (the caller needs athena:StartQueryExecution, GetQueryExecution and GetQueryResults on the workgroup ${workGroup}, glue:GetTable on ${database}, s3:GetObject on the lake and read-write on the results bucket)`,
        { cause: error },
      );
    throw error;
  }
  return results(clients.athena, id);
}

/** Every row of a finished query, typed by its columns. */
async function results(athena: AthenaClient, queryExecutionId: string): Promise<StageQueryResult> {
  let columns: { name: string; type: string; athenaType: string; scale: number }[] | undefined;
  const rows: StageQueryResult["rows"] = [];
  let nextToken: string | undefined;
  let first = true;
  do {
    const page: GetQueryResultsCommandOutput = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, MaxResults: 1000, NextToken: nextToken }),
    );
    columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((column) => ({
      name: column.Name ?? column.Label ?? "",
      type: typeName(column.Type ?? "varchar", column.Precision, column.Scale),
      athenaType: column.Type ?? "varchar",
      scale: column.Scale ?? 0,
    }));
    for (const [index, row] of (page.ResultSet?.Rows ?? []).entries()) {
      const texts = (row.Data ?? []).map((datum) => (datum.VarCharValue === undefined ? null : datum.VarCharValue));
      // A SELECT's first page starts with the column names.
      if (first && index === 0 && texts.length === columns.length && texts.every((text, at) => text === columns?.[at]?.name)) continue;
      rows.push(Object.fromEntries(columns.map((column, at) => [column.name, athenaValue(texts[at] ?? null, column.athenaType, column.scale)])));
    }
    first = false;
    nextToken = page.NextToken;
  } while (nextToken);
  return { columns: (columns ?? []).map(({ name, type }) => ({ name, type })), rows };
}
