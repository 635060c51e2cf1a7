/**
 * The lake's layout on disk, the same as the Firehose prefix in S3:
 *
 *   <lakeDir>/usage/year=YYYY/month=MM/day=DD/part-<uuid>.parquet
 *
 * Partition columns are path components only (hive style); the files hold the data columns of
 * `USAGE_COLUMNS`. `<lakeDir>/.staging/` holds batches being written (never read as data).
 */
import { opendir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { dataColumns, duckDbType, partitionColumns, USAGE_TABLE } from "@bedrock-spend/core";
import { sqlIdentifier, sqlString } from "./sql";

/** Directory of the usage records under the lake directory (the Firehose prefix). */
export const USAGE_PREFIX = "usage";

/** Directory of batches being written, under the lake directory. */
export const STAGING_DIR = ".staging";

/** Characters DuckDB's glob would read as patterns: a lake directory must not contain them. */
const GLOB_CHARACTERS = /[*?[\]{}]/;

/** The absolute lake directory, checked to be usable in a glob. @throws RangeError */
export function resolveLakeDir(lakeDir: string): string {
  if (lakeDir.length === 0) throw new RangeError("lakeDir must not be empty");
  const absolute = resolve(lakeDir);
  if (GLOB_CHARACTERS.test(absolute)) throw new RangeError(`lakeDir must not contain any of * ? [ ] { }: ${absolute}`);
  return absolute;
}

/** `<lakeDir>/usage`. */
export function usageDir(lakeDir: string): string {
  return join(lakeDir, USAGE_PREFIX);
}

/** The glob of every usage file of the lake. */
export function usageGlob(lakeDir: string): string {
  return `${usageDir(lakeDir)}/**/*.parquet`;
}

/** Whether the lake holds at least one usage file (stops at the first one). */
export async function hasUsageFiles(lakeDir: string): Promise<boolean> {
  const search = async (directory: string): Promise<boolean> => {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return false;
      throw error;
    }
    const subdirectories: string[] = [];
    for await (const entry of handle) {
      if (entry.isFile() && entry.name.endsWith(".parquet")) return true;
      if (entry.isDirectory()) subdirectories.push(join(directory, entry.name));
    }
    for (const subdirectory of subdirectories) {
      if (await search(subdirectory)) return true;
    }
    return false;
  };
  return search(usageDir(lakeDir));
}

/** The select list of the `invocations` view: every column of `USAGE_COLUMNS`, in lake order, typed. */
function typedColumns(source: (name: string) => string): string {
  const columns = [...dataColumns(), ...partitionColumns()];
  return columns.map((column) => `CAST(${source(column.name)} AS ${duckDbType(column)}) AS ${sqlIdentifier(column.name)}`).join(",\n  ");
}

/**
 * `CREATE OR REPLACE VIEW invocations` over the lake's Parquet files. The glob is expanded each
 * time a query binds the view, so files written after the view was created are seen. Partition
 * columns come from the path, as VARCHAR (as in the Glue table); `union_by_name` reads files
 * written before a column was added (the column is null there).
 * DuckDB refuses a glob that matches no file: use `emptyInvocationsViewSql` for an empty lake.
 */
export function invocationsViewSql(lakeDir: string): string {
  const hiveTypes = partitionColumns()
    .map((column) => `${sqlString(column.name)}: ${duckDbType(column)}`)
    .join(", ");
  const source = `read_parquet(${sqlString(usageGlob(lakeDir))}, hive_partitioning = true, union_by_name = true, hive_types = {${hiveTypes}})`;
  return `CREATE OR REPLACE VIEW ${USAGE_TABLE} AS\nSELECT\n  ${typedColumns(sqlIdentifier)}\nFROM ${source}`;
}

/** `CREATE OR REPLACE VIEW invocations` with no rows and the same columns and types. */
export function emptyInvocationsViewSql(): string {
  return `CREATE OR REPLACE VIEW ${USAGE_TABLE} AS\nSELECT\n  ${typedColumns(() => "NULL")}\nWHERE false`;
}
