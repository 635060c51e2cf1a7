/**
 * Athena statements run to their end and their results read back, for the adapters that query
 * the lake and the bill (`AthenaRepriceLake`, `AthenaReconcileSource`): start in the workgroup
 * (which enforces the result location and the scan limit), poll with backoff, stop what runs too
 * long, and page through the results by column name.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { BedrockSpendError } from "@bedrock-spend/core";

/** An Athena query that did not succeed. */
export class AthenaQueryError extends BedrockSpendError {
  readonly queryExecutionId: string;
  readonly state: string;

  constructor(queryExecutionId: string, state: string, reason: string) {
    super(`Athena query ${queryExecutionId} ${state}: ${reason}`);
    this.name = "AthenaQueryError";
    this.queryExecutionId = queryExecutionId;
    this.state = state;
  }
}

/** Where and how statements run. */
export interface AthenaQueriesOptions {
  athena: AthenaClient;
  /** Athena workgroup. */
  workGroup: string;
  /** Glue database of unqualified table names. */
  database: string;
  /** First poll of a running query, doubled up to 5 s. Default 500 ms. */
  pollMs?: number;
  /** A query running longer is stopped and fails. Default 10 minutes. */
  queryTimeoutMs?: number;
  /** Waits (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each poll's execution (its state and statistics): progress for a caller that shows it. */
  onPoll?: (execution: QueryExecution) => void;
}

/** Runs statements in one workgroup and database. */
export class AthenaQueries {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: AthenaQueriesOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Runs one statement to its end. @throws AthenaQueryError when it fails, is cancelled or times out. */
  async run(sql: string): Promise<QueryExecution> {
    const started = await this.options.athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.options.workGroup,
        QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: this.options.database },
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new BedrockSpendError("Athena started a query without an id");
    const timeoutMs = this.options.queryTimeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    let wait = this.options.pollMs ?? 500;
    for (;;) {
      const { QueryExecution: execution } = await this.options.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (execution) this.options.onPoll?.(execution);
      if (state === "SUCCEEDED") return execution as QueryExecution;
      if (state === "FAILED" || state === "CANCELLED") {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? "no reason given";
        throw new AthenaQueryError(id, state, reason);
      }
      if (Date.now() > deadline) {
        await this.options.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => {});
        throw new AthenaQueryError(id, "TIMED_OUT", `still ${state ?? "unknown"} after ${timeoutMs} ms; stopped`);
      }
      await this.sleep(wait);
      wait = Math.min(5000, wait * 2);
    }
  }

  /** Every result row of a query, by column name (null for SQL NULL). */
  async rows(queryExecutionId: string): Promise<Record<string, string | null>[]> {
    const rows: Record<string, string | null>[] = [];
    let names: string[] | undefined;
    let nextToken: string | undefined;
    let first = true;
    do {
      const page: GetQueryResultsCommandOutput = await this.options.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, MaxResults: 1000, NextToken: nextToken }),
      );
      names ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((column) => column.Name ?? column.Label ?? "");
      const pageRows = page.ResultSet?.Rows ?? [];
      for (const [index, row] of pageRows.entries()) {
        const values = (row.Data ?? []).map((datum) => (datum.VarCharValue === undefined ? null : datum.VarCharValue));
        // A SELECT's first page starts with the column names.
        if (first && index === 0 && values.length === names.length && values.every((value, at) => value === names?.[at])) continue;
        rows.push(Object.fromEntries(names.map((name, at) => [name, values[at] ?? null])));
      }
      first = false;
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  /** Runs a SELECT and returns its rows. */
  async select(sql: string): Promise<Record<string, string | null>[]> {
    const execution = await this.run(sql);
    return this.rows(execution.QueryExecutionId as string);
  }
}
