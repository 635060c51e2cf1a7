/**
 * The lake writer: batches of usage records to hive-partitioned, ZSTD-compressed Parquet files,
 * laid out as the Firehose delivery to S3 lays them out:
 *
 *   <lakeDir>/usage/year=YYYY/month=MM/day=DD/part-<uuid>.parquet
 *
 * One `write` is one buffered Firehose flush: one new file per partition (day) present in the
 * batch, never a rewrite of an existing file. Column types come from `duckDbType`: `cost_usd`
 * DECIMAL(38,12), `metadata` MAP(VARCHAR, VARCHAR), `event_time` TIMESTAMP, token counts BIGINT.
 *
 * How: the batch goes to DuckDB as newline-delimited JSON in a staging file, read by `read_json`
 * with explicit column types, and `COPY ... PARTITION_BY (year, month, day)` writes the Parquet
 * files into a staging directory; each file is then renamed into place, so a reader globbing the
 * lake never sees a half-written file. `cost_usd` travels as a JSON *string* and is cast from text
 * to DECIMAL(38,12), which is exact: a JSON number would go through a double in DuckDB's JSON
 * reader. (Measured against the row appender with DuckDB value objects, the JSON route is the
 * faster of the two on this machine and keeps one native call per batch.)
 */
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import {
  dataColumns,
  duckDbType,
  LakeEncodingError,
  partitionColumns,
  REPRICED_COLUMNS,
  type RepricedColumns,
  type UsageColumn,
  type UsageRecord,
} from "@bedrock-spend/core";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { LakeWriteError } from "./errors";
import { resolveLakeDir, STAGING_DIR, usageDir } from "./layout";
import { sqlIdentifier, sqlString } from "./sql";

/** What one write published. */
export interface LakeWriteResult {
  /** Absolute paths of the Parquet files written, one per partition of the batch, sorted. */
  files: string[];
  /** Rows written (the records of the batch). */
  rows: number;
}

/** Writes batches of usage records to the lake (a Firehose delivery, locally or in tests). */
export interface LakeWriter {
  /**
   * Writes one batch: one new file per partition present in it. An empty batch writes nothing.
   * With `fileName`, each partition's file is `<fileName>_0.parquet`, replacing a file of that name
   * (a backfill rewriting an hour it had written before a crash); otherwise a new unique name.
   */
  write(records: readonly UsageRecord[], options?: LakeWriteOptions): Promise<LakeWriteResult>;
}

/** Options of one lake write. */
export interface LakeWriteOptions {
  /** The files' base name in each partition (letters, digits, `-` and `_`): deterministic, so that writing it again replaces it. */
  fileName?: string;
}

/** Rewrites lake files with new values of the columns a reprice changes (the local lake's reprice). */
export interface LakeRewriter {
  /**
   * Writes, as one Parquet file at `target`, the rows of the Parquet files `sources` (one per
   * request id) with the repriced columns of each taken from `changes` and every other column as
   * the file holds it. `changes` names each request id of the sources once: a request id missing,
   * repeated or foreign fails the write, and nothing is written. Returns the rows written.
   */
  writeReplacement(sources: readonly string[], changes: readonly RepricedColumns[], target: string): Promise<number>;
}

/** Options of `DuckDbLakeWriter.open`. */
export interface DuckDbLakeWriterOptions {
  /** The lake directory (`<data-dir>/lake`); created when missing. */
  lakeDir: string;
  /** DuckDB worker threads. Default: DuckDB's (the number of cores). */
  threads?: number;
}

/** Staging directories older than this are left over from a crash, and removed on open. */
const STALE_STAGING_MS = 60 * 60 * 1000;

/** A decimal string that fits DECIMAL(38,12): up to 26 integer and 12 fractional digits. */
const DECIMAL_38_12 = /^\d{1,26}(\.\d{1,12})?$/;
/** An ISO 8601 UTC timestamp DuckDB's TIMESTAMP holds exactly (microseconds at most). */
const TIMESTAMP_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
/** Partition values: they become directory names, so nothing but these digits is accepted. */
const PARTITION_FORMATS: Readonly<Record<string, RegExp>> = {
  year: /^\d{4}$/,
  month: /^(0[1-9]|1[0-2])$/,
  day: /^(0[1-9]|[12]\d|3[01])$/,
};

/** Every column, data columns first then partition columns, as the staging JSON carries them. */
const STAGED_COLUMNS: readonly UsageColumn[] = [...dataColumns(), ...partitionColumns()];

/** Checks one value against its column (throws LakeEncodingError naming both). */
function checkValue(column: UsageColumn, value: unknown, requestId: string): void {
  if (value === null || value === undefined) {
    if (!column.nullable) throw new LakeEncodingError(requestId, column.name, "is not nullable but has no value");
    return;
  }
  if (column.partition) {
    const format = PARTITION_FORMATS[column.name];
    if (typeof value !== "string" || (format && !format.test(value))) {
      throw new LakeEncodingError(requestId, column.name, `is not a valid partition value: ${JSON.stringify(value)}`);
    }
    return;
  }
  switch (column.type) {
    case "string":
      if (typeof value !== "string") throw new LakeEncodingError(requestId, column.name, `must be a string, got ${typeof value}`);
      return;
    case "timestamp":
      if (typeof value !== "string" || !TIMESTAMP_UTC.test(value) || Number.isNaN(Date.parse(value))) {
        throw new LakeEncodingError(requestId, column.name, `must be an ISO 8601 UTC timestamp, got ${JSON.stringify(value)}`);
      }
      return;
    case "bigint":
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        throw new LakeEncodingError(requestId, column.name, `must be a non-negative safe integer, got ${String(value)}`);
      }
      return;
    case "decimal":
      // Stays a JSON string: cast from text to DECIMAL(38,12) by DuckDB, exactly.
      if (typeof value !== "string" || !DECIMAL_38_12.test(value)) {
        throw new LakeEncodingError(requestId, column.name, `must be a decimal string that fits decimal(38,12), got ${JSON.stringify(value)}`);
      }
      return;
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) throw new LakeEncodingError(requestId, column.name, "must be an object of strings");
      for (const key in value) {
        const entry = (value as Record<string, unknown>)[key];
        if (typeof entry !== "string") throw new LakeEncodingError(requestId, column.name, `value of key ${JSON.stringify(key)} must be a string`);
      }
      return;
  }
}

/**
 * One record as a line of the staging JSON (its columns only, nothing else it may carry), after
 * checking every value against its column.
 */
function stagingLine(record: UsageRecord): string {
  const values = record as unknown as Record<string, unknown>;
  const requestId = typeof values.request_id === "string" ? values.request_id : "<no request_id>";
  const row: Record<string, unknown> = {};
  for (const column of STAGED_COLUMNS) {
    const value = values[column.name];
    checkValue(column, value, requestId);
    row[column.name] = value ?? null;
  }
  return JSON.stringify(row);
}

/** `read_json` column types of the staging file: `cost_usd` is read as text, to be cast exactly. */
const JSON_COLUMNS = `{${STAGED_COLUMNS.map((column) => `${sqlString(column.name)}: ${sqlString(column.type === "decimal" ? "VARCHAR" : duckDbType(column))}`).join(", ")}}`;

/** The select list from the staging JSON: every column, typed as in the lake. */
const SELECT_LIST = STAGED_COLUMNS.map((column) =>
  column.type === "decimal" ? `CAST(${sqlIdentifier(column.name)} AS ${duckDbType(column)}) AS ${sqlIdentifier(column.name)}` : sqlIdentifier(column.name),
).join(", ");

const PARTITION_BY = partitionColumns()
  .map((column) => sqlIdentifier(column.name))
  .join(", ");

/** The columns of a replacement's changes, the request id first. */
const CHANGE_COLUMNS: readonly UsageColumn[] = ["request_id", ...REPRICED_COLUMNS].map(
  (name) => dataColumns().find((column) => column.name === name) as UsageColumn,
);
const CHANGE_JSON_COLUMNS = `{${CHANGE_COLUMNS.map((column) => `${sqlString(column.name)}: ${sqlString(column.type === "decimal" ? "VARCHAR" : duckDbType(column))}`).join(", ")}}`;
const REPRICED = new Set<string>(REPRICED_COLUMNS);

/** Writes usage records to the lake with an embedded DuckDB. Writes are serialized. */
export class DuckDbLakeWriter implements LakeWriter, LakeRewriter {
  readonly lakeDir: string;
  readonly usageDir: string;
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;
  private readonly stagingRoot: string;
  private readonly tempDir: string;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(lakeDir: string, tempDir: string, instance: DuckDBInstance, connection: DuckDBConnection) {
    this.lakeDir = lakeDir;
    this.tempDir = tempDir;
    this.usageDir = usageDir(lakeDir);
    this.stagingRoot = join(lakeDir, STAGING_DIR);
    this.instance = instance;
    this.connection = connection;
  }

  /** Opens a writer on `lakeDir` (created when missing). */
  static async open(options: DuckDbLakeWriterOptions): Promise<DuckDbLakeWriter> {
    const lakeDir = resolveLakeDir(options.lakeDir);
    await mkdir(usageDir(lakeDir), { recursive: true });
    await removeStaleStaging(join(lakeDir, STAGING_DIR));
    // DuckDB spills a very large batch to its temp directory: by default `.tmp` in the working directory.
    const tempDir = await mkdtemp(join(tmpdir(), "bedrock-spend-lake-"));
    const config: Record<string, string> = { temp_directory: tempDir, autoinstall_known_extensions: "false" };
    if (options.threads !== undefined) config.threads = String(options.threads);
    try {
      const instance = await DuckDBInstance.create(":memory:", config);
      const connection = await instance.connect();
      return new DuckDbLakeWriter(lakeDir, tempDir, instance, connection);
    } catch (error) {
      await rm(tempDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Writes one batch: one file per partition (year, month, day of each record's partition
   * columns) present in it, published atomically file by file. All records are checked before
   * anything is written: a record that does not fit its columns fails the whole batch.
   * @throws LakeEncodingError naming the record and column that does not fit
   * @throws LakeWriteError when DuckDB or the file system fails (nothing of the batch is published,
   *   unless the failure happens while renaming files into place)
   */
  async write(records: readonly UsageRecord[], options: LakeWriteOptions = {}): Promise<LakeWriteResult> {
    if (this.closed) throw new LakeWriteError("the lake writer is closed");
    if (options.fileName !== undefined && !/^[A-Za-z0-9_-]{1,200}$/.test(options.fileName))
      throw new LakeWriteError(`a lake file name must be 1-200 letters, digits, "-" or "_", got ${JSON.stringify(options.fileName)}`);
    if (records.length === 0) return { files: [], rows: 0 };
    const partitions = new Set<string>();
    const lines: string[] = new Array(records.length);
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as UsageRecord;
      lines[index] = stagingLine(record);
      partitions.add(`${record.year}/${record.month}/${record.day}`);
    }
    const text = lines.join("\n");
    const pattern = options.fileName === undefined ? "part-{uuid}" : `${options.fileName}_{i}`;
    const run = this.queue.then(() => this.writeStaged(text, records.length, partitions.size, pattern));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeStaged(text: string, rows: number, partitionCount: number, pattern: string): Promise<LakeWriteResult> {
    const staging = join(this.stagingRoot, randomUUID());
    const input = join(staging, "batch.json");
    const output = join(staging, "out");
    try {
      await mkdir(staging, { recursive: true });
      await writeFile(input, text);
      let written: string[];
      try {
        // Never close and reopen a partition's file in the middle of a batch (one file per partition).
        await this.connection.run(`SET partitioned_write_max_open_files = ${Math.max(100, partitionCount + 1)}`);
        const reader = await this.connection.runAndReadAll(
          `COPY (SELECT ${SELECT_LIST} FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = ${JSON_COLUMNS}))\n` +
            `TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${PARTITION_BY}), FILENAME_PATTERN ${sqlString(pattern)}, RETURN_FILES true)`,
        );
        const row = reader.getRowObjectsJson()[0] as { Count?: unknown; Files?: unknown } | undefined;
        written = Array.isArray(row?.Files) ? (row.Files as string[]) : [];
        if (Number(row?.Count) !== rows) throw new LakeWriteError(`DuckDB wrote ${String(row?.Count)} rows of a batch of ${rows}`);
      } catch (error) {
        if (error instanceof LakeWriteError) throw error;
        throw new LakeWriteError(`writing a batch of ${rows} usage records failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      const files: string[] = [];
      for (const file of [...written].sort()) {
        const partitionPath = relative(output, file);
        if (partitionPath.startsWith("..") || partitionPath.split(sep).length !== 4) throw new LakeWriteError(`unexpected file from DuckDB: ${file}`);
        const target = join(this.usageDir, partitionPath);
        await mkdir(dirname(target), { recursive: true });
        await rename(file, target);
        files.push(target);
      }
      return { files, rows };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * A day's replacement for a reprice: DuckDB joins the files' rows with the new values, so that
   * nothing but the repriced columns travels through JavaScript and every other value is copied
   * exactly as stored. Written under the staging directory, then renamed to `target` (created
   * directories included): `target` never holds a partial file.
   * @throws LakeEncodingError for a change whose values do not fit their columns
   * @throws LakeWriteError when the changes and the files' request ids do not match one to one, or DuckDB fails
   */
  async writeReplacement(sources: readonly string[], changes: readonly RepricedColumns[], target: string): Promise<number> {
    if (this.closed) throw new LakeWriteError("the lake writer is closed");
    if (sources.length === 0) throw new LakeWriteError("a replacement needs the files it replaces");
    const ids = new Set<string>();
    const lines = changes.map((change) => {
      const values = change as unknown as Record<string, unknown>;
      const requestId = typeof values.request_id === "string" ? values.request_id : "<no request_id>";
      if (ids.has(requestId)) throw new LakeWriteError(`request id ${requestId} is twice in a replacement's changes`);
      ids.add(requestId);
      const row: Record<string, unknown> = {};
      for (const column of CHANGE_COLUMNS) {
        checkValue(column, values[column.name], requestId);
        row[column.name] = values[column.name] ?? null;
      }
      return JSON.stringify(row);
    });
    const run = this.queue.then(() => this.replace(sources, lines.join("\n"), changes.length, target));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async replace(sources: readonly string[], text: string, rows: number, target: string): Promise<number> {
    const staging = join(this.stagingRoot, randomUUID());
    const input = join(staging, "changes.json");
    const output = join(staging, "replacement.parquet");
    try {
      await mkdir(staging, { recursive: true });
      await writeFile(input, text);
      const source = `read_parquet([${sources.map((file) => sqlString(file)).join(", ")}], hive_partitioning = false, union_by_name = true)`;
      try {
        // Files written before a column existed lack it: it is null in the replacement, as a reader sees it.
        const described = await this.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
        const present = new Set(described.getRowObjectsJson().map((row) => String(row.column_name)));
        const select = dataColumns()
          .map((column) => {
            const name = sqlIdentifier(column.name);
            // A row of the files without a change must not be dropped: the whole copy fails on it.
            if (column.name === "request_id")
              return `CASE WHEN c.${name} IS NULL THEN error('request id ' || p.${name} || ' of the replaced files has no change') ELSE p.${name} END AS ${name}`;
            if (REPRICED.has(column.name)) return column.type === "decimal" ? `CAST(c.${name} AS ${duckDbType(column)}) AS ${name}` : `c.${name} AS ${name}`;
            if (present.has(column.name)) return `p.${name}`;
            // A map column is never null in a record (profile_tags: empty), so a rewrite fills it so.
            return `CAST(${column.type === "map" && !column.nullable ? "MAP {}" : "NULL"} AS ${duckDbType(column)}) AS ${name}`;
          })
          .join(", ");
        const changesSource = `read_json(${sqlString(input)}, format = 'newline_delimited', columns = ${CHANGE_JSON_COLUMNS})`;
        const copy = async (deduplicate: boolean) => {
          const rowsOf = deduplicate ? `(SELECT * FROM ${source} QUALIFY row_number() OVER (PARTITION BY request_id) = 1)` : source;
          const copied = await this.connection.runAndReadAll(
            `COPY (SELECT ${select} FROM ${rowsOf} p LEFT JOIN ${changesSource} c ON p.request_id = c.request_id) TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`,
          );
          return Number((copied.getRowObjectsJson()[0] as { Count?: unknown } | undefined)?.Count);
        };
        // Every row of the files had its change, or the copy failed. A copy of more rows than
        // changes read a request id twice (the files hold a row twice): copied again, one row
        // per request id (the window costs about a third of the copy, so only then). Fewer rows
        // than changes means a change was foreign.
        let count = await copy(false);
        if (count > rows) count = await copy(true);
        if (count !== rows) throw new LakeWriteError(`a replacement of ${sources.length} files holding ${count} request ids was given ${rows} changes`);
      } catch (error) {
        if (error instanceof LakeWriteError) throw error;
        throw new LakeWriteError(`writing a replacement of ${sources.length} lake files failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(output, target);
      return rows;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Waits for pending writes, then closes DuckDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

async function removeStaleStaging(stagingRoot: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(stagingRoot);
  } catch {
    return;
  }
  const now = Date.now();
  for (const entry of entries) {
    const path = join(stagingRoot, entry);
    try {
      if (now - (await stat(path)).mtimeMs > STALE_STAGING_MS) await rm(path, { recursive: true, force: true });
    } catch {
      // Another writer removed it first.
    }
  }
}
