/**
 * LocalAthena: DuckDB as the local Athena over the lake.
 *
 * - `invocations` is a view over `<lakeDir>/usage/**\/*.parquet` (hive partitions year, month, day
 *   as VARCHAR, `union_by_name`); the glob is expanded at every query, so files written after the
 *   lake was opened are seen. An empty lake gives an empty `invocations` with the same columns and
 *   types (DuckDB refuses a glob that matches nothing; the view switches between the two forms).
 * - Trino functions DuckDB lacks or names differently are shimmed (`TRINO_SHIMS`), division of
 *   integers is integer division (as in Trino), the session time zone is UTC.
 * - The dashboard views of the core (`DASHBOARD_VIEWS`) are created over `invocations`.
 * - Read-only: one statement per query, SELECT / WITH / VALUES / DESCRIBE / SHOW / EXPLAIN only;
 *   by default DuckDB may read files under the lake directory only, and its configuration is
 *   locked after set-up.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createViewStatement, DASHBOARD_VIEWS, type DashboardView } from "@bedrock-spend/core";
import { type DuckDBConnection, DuckDBInstance, type DuckDBPreparedStatement, StatementType } from "@duckdb/node-api";
import { QueryError } from "./errors";
import { registerTrinoFunctions } from "./functions";
import { emptyInvocationsViewSql, hasUsageFiles, invocationsViewSql, resolveLakeDir } from "./layout";
import { TRINO_SHIMS } from "./shims";
import { isBlank, leadingKeyword, sqlString } from "./sql";
import { type JsonValue, toJsonValue } from "./values";

/** One column of a query result: its name and DuckDB type (`VARCHAR`, `BIGINT`, `DECIMAL(38,12)`, ...). */
export interface QueryColumn {
  name: string;
  type: string;
}

/** A query result, JSON-safe (see `toJsonValue`). */
export interface QueryResult {
  columns: QueryColumn[];
  /** One object per row, keyed by column name (a repeated name gets a suffix: `name_2`, as in `columns`). */
  rows: Record<string, JsonValue>[];
}

/** Options of `LocalAthena.open`. */
export interface LocalAthenaOptions {
  /** The lake directory (`<data-dir>/lake`); it need not exist yet. */
  lakeDir: string;
  /** Views to create over `invocations`. Default: the core's dashboard views. */
  views?: readonly DashboardView[];
  /**
   * Let queries read files under the lake directory only (DuckDB `enable_external_access = false`
   * with `allowed_directories`), and lock DuckDB's configuration. Default true: the dashboard
   * server passes SQL through, and a query must not read the rest of the machine.
   */
  sandbox?: boolean;
  /** DuckDB worker threads. Default: DuckDB's (the number of cores). */
  threads?: number;
}

/** Statements a query may start with (after comments and opening parentheses). */
const READ_KEYWORDS = new Set(["SELECT", "WITH", "VALUES", "DESCRIBE", "SHOW", "EXPLAIN"]);

const NO_FILES = /No files found that match the pattern/;

/** DuckDB as the local Athena: `invocations`, the dashboard views and the Trino shims, read-only. */
export class LocalAthena {
  readonly lakeDir: string;
  /** Names of the views created over `invocations`. */
  readonly viewNames: readonly string[];
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly tempDir: string;
  /** Whether `invocations` currently reads the Parquet files (else it is the empty form). */
  private readingFiles = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(lakeDir: string, tempDir: string, viewNames: readonly string[], instance: DuckDBInstance, connection: DuckDBConnection) {
    this.lakeDir = lakeDir;
    this.tempDir = tempDir;
    this.viewNames = viewNames;
    this.instance = instance;
    this.connection = connection;
  }

  /** Opens DuckDB over the lake and creates the shims and views. */
  static async open(options: LocalAthenaOptions): Promise<LocalAthena> {
    const lakeDir = resolveLakeDir(options.lakeDir);
    const views = options.views ?? DASHBOARD_VIEWS;
    // Where a large sort or join spills (DuckDB's default is `.tmp` in the working directory).
    const tempDir = await mkdtemp(join(tmpdir(), "bedrock-spend-athena-"));
    const config: Record<string, string> = { autoinstall_known_extensions: "false", temp_directory: tempDir };
    if (options.threads !== undefined) config.threads = String(options.threads);
    let instance: DuckDBInstance;
    let connection: DuckDBConnection;
    try {
      instance = await DuckDBInstance.create(":memory:", config);
      connection = await instance.connect();
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw error;
    }
    const athena = new LocalAthena(
      lakeDir,
      tempDir,
      views.map((view) => view.name),
      instance,
      connection,
    );
    try {
      await connection.run("SET TimeZone = 'UTC'");
      // Trino divides integers as integers: 7 / 2 = 3.
      await connection.run("SET integer_division = true");
      // Keep Parquet footers between queries (invalidated by a file's modification time).
      await connection.run("SET parquet_metadata_cache = true");
      registerTrinoFunctions(connection);
      for (const shim of TRINO_SHIMS) await connection.run(shim.sql);
      athena.readingFiles = await hasUsageFiles(lakeDir);
      await connection.run(athena.readingFiles ? invocationsViewSql(lakeDir) : emptyInvocationsViewSql());
      for (const view of views) await connection.run(createViewStatement(view, "duckdb"));
      if (options.sandbox ?? true) {
        await connection.run(`SET allowed_directories = [${sqlString(`${lakeDir}/`)}, ${sqlString(`${tempDir}/`)}]`);
        await connection.run("SET enable_external_access = false");
        await connection.run("SET lock_configuration = true");
      }
    } catch (error) {
      await athena.closeNow();
      throw error;
    }
    return athena;
  }

  /**
   * Runs one read-only statement (Athena dialect) and returns its columns and rows, JSON-safe.
   * @throws QueryError `refused` for anything but SELECT / WITH / VALUES / DESCRIBE / SHOW / EXPLAIN
   *   or for more than one statement; `failed` with DuckDB's message for bad SQL or a failing query
   */
  query(sql: string): Promise<QueryResult> {
    const run = this.queue.then(() => this.runQuery(sql));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs one read-only statement as `query` does, every value as text (`null` for SQL NULL): the
   * shape Athena's GetQueryResults gives, for callers written against both.
   */
  async queryText(sql: string): Promise<Record<string, string | null>[]> {
    const { rows } = await this.query(sql);
    return rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([name, value]) => [name, value === null ? null : typeof value === "object" ? JSON.stringify(value) : String(value)]),
      ),
    );
  }

  private async runQuery(sql: string): Promise<QueryResult> {
    if (this.closed) throw new QueryError("refused", sql, "the local Athena is closed");
    if (isBlank(sql)) throw new QueryError("refused", sql, "empty query: give one SELECT statement");
    await this.refreshInvocations();
    try {
      return await this.execute(sql);
    } catch (error) {
      // The lake was emptied since the last query: fall back to the empty view and retry once.
      if (error instanceof QueryError && this.readingFiles && NO_FILES.test(error.message) && !(await hasUsageFiles(this.lakeDir))) {
        await this.connection.run(emptyInvocationsViewSql());
        this.readingFiles = false;
        return this.execute(sql);
      }
      throw error;
    }
  }

  /** Switches `invocations` to the Parquet files once the lake has any. */
  private async refreshInvocations(): Promise<void> {
    if (this.readingFiles || !(await hasUsageFiles(this.lakeDir))) return;
    await this.connection.run(invocationsViewSql(this.lakeDir));
    this.readingFiles = true;
  }

  private async execute(sql: string): Promise<QueryResult> {
    const prepared = await this.prepareReadOnly(sql, sql);
    try {
      let reader: Awaited<ReturnType<DuckDBPreparedStatement["runAndReadAll"]>>;
      try {
        reader = await prepared.runAndReadAll();
      } catch (error) {
        throw QueryError.fromDuckDb(sql, error);
      }
      const names = uniqueNames(reader.columnNames());
      const columns = names.map((name, index) => ({ name, type: reader.columnType(index).toString() }));
      const rows = reader.getRows().map((values) => {
        const row: Record<string, JsonValue> = {};
        values.forEach((value, index) => {
          row[names[index] as string] = toJsonValue(value);
        });
        return row;
      });
      return { columns, rows };
    } finally {
      prepared.destroySync();
    }
  }

  /**
   * Prepares `sql` after checking that it is a single read-only statement: parsed first (so that a
   * typo gets DuckDB's syntax error), then its leading keyword and DuckDB's statement type.
   */
  private async prepareReadOnly(sql: string, original: string): Promise<DuckDBPreparedStatement> {
    let statements: Awaited<ReturnType<DuckDBConnection["extractStatements"]>>;
    try {
      statements = await this.connection.extractStatements(sql);
    } catch (error) {
      throw QueryError.fromDuckDb(original, error);
    }
    if (statements.count !== 1) throw new QueryError("refused", original, `give one statement per query, got ${statements.count}`);
    const { keyword, rest } = leadingKeyword(sql);
    if (!READ_KEYWORDS.has(keyword)) {
      throw new QueryError(
        "refused",
        original,
        `only SELECT, WITH, VALUES, DESCRIBE, SHOW and EXPLAIN statements may run on the lake (it is read-only); got ${keyword || JSON.stringify(sql.trim().slice(0, 20))}`,
      );
    }
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await statements.prepare(0);
    } catch (error) {
      throw QueryError.fromDuckDb(original, error);
    }
    const type = prepared.statementType;
    if (type === StatementType.SELECT) return prepared;
    if (type === StatementType.EXPLAIN) {
      // EXPLAIN ANALYZE runs its statement: check that statement too.
      const inner = rest.replace(/^\s*ANALYZE\b/i, "");
      try {
        (await this.prepareReadOnly(inner, original)).destroySync();
      } catch (error) {
        prepared.destroySync();
        throw error;
      }
      return prepared;
    }
    prepared.destroySync();
    throw new QueryError("refused", original, `only read-only statements may run on the lake; this one is ${StatementType[type] ?? type}`);
  }

  /** Waits for running queries, then closes DuckDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.closeNow();
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

/** Column names made unique for row objects: a repeated name gets `_2`, `_3`, ... */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let suffix = 2; seen.has(unique); suffix++) unique = `${name}_${suffix}`;
    seen.add(unique);
    return unique;
  });
}
