/**
 * The local lake one day partition at a time, as a reprice reads and rewrites it: the rows of a
 * partition's files, and the replacement of exactly those files by a new one. Replaced files are
 * moved, not deleted, under `<history dir>/<reprice id>/year=/month=/day=/`, where DuckDB (or any
 * Parquet reader) still reads the rows as they were before:
 * `SELECT * FROM read_parquet('<data-dir>/lake-history/<id>/**' || '/*.parquet', hive_partitioning = true)`.
 * A replacement is written aside first, under `<history dir>/.staged/<reprice id>/<day>/` (outside
 * every reprice's history), and published by two renames on the same file system.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { type DayKey, dataColumns, type MonthKey, type RepricedColumns, type UsageRecord } from "@bedrock-spend/core";
import type { LocalAthena } from "./athena";
import { resolveLakeDir, usageDir } from "./layout";
import { sqlString } from "./sql";
import { isoFromMicros, type JsonValue } from "./values";
import type { LakeRewriter } from "./writer";

/** Data columns of integer type (token counts). */
const BIGINT_COLUMNS = dataColumns()
  .filter((column) => column.type === "bigint")
  .map((column) => column.name);

/** What `readDay` read: the partition's files at that moment. */
export interface DayFiles {
  files: string[];
}

/** A day's replacement written aside: the file, and the files it replaces. */
export interface StagedDay {
  file: string;
  replaces: string[];
}

/** Directory of replacements written aside, under the history directory. */
const STAGED_DIR = ".staged";

/** The local lake's day partitions, for a reprice. */
export class LocalLakePartitions {
  private readonly usage: string;

  constructor(
    lakeDir: string,
    private readonly historyDir: string,
    private readonly athena: LocalAthena,
    private readonly writer: LakeRewriter,
  ) {
    this.usage = usageDir(resolveLakeDir(lakeDir));
  }

  /** Days of `month` whose partition holds files, ascending. */
  async days(month: MonthKey): Promise<DayKey[]> {
    const [year, monthNumber] = month.split("-") as [string, string];
    const monthDir = join(this.usage, `year=${year}`, `month=${monthNumber}`);
    const entries = await readdir(monthDir, { withFileTypes: true }).catch(() => []);
    const days: DayKey[] = [];
    for (const entry of entries) {
      const match = /^day=(\d{2})$/.exec(entry.name);
      if (!entry.isDirectory() || !match) continue;
      if ((await this.filesOf(`${month}-${match[1]}`)).length > 0) days.push(`${month}-${match[1]}`);
    }
    return days.sort();
  }

  /**
   * Every row of a day partition, as usage records, and the files they came from. DuckDB writes
   * each row as one JSON text, parsed here: the same values as `LocalAthena.query` gives them
   * (the decimal cost as its exact text, the time from its microseconds by `isoFromMicros`), at a
   * fraction of the cost of converting each of a row's ~30 values through the DuckDB client.
   */
  async readDay(day: DayKey): Promise<{ rows: UsageRecord[]; token: DayFiles }> {
    const files = await this.filesOf(day);
    if (files.length === 0) return { rows: [], token: { files } };
    const list = files.map((file) => sqlString(file)).join(", ");
    const source = `read_parquet([${list}], hive_partitioning = false, union_by_name = true)`;
    const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
    // Decimals as their exact text (a JSON number would go through a float); files written before a
    // per-class cost column lack it, and REPLACE names only the columns the files have.
    const described = await this.athena.query(`DESCRIBE SELECT * FROM ${source}`);
    const present = new Set(described.rows.map((row) => String(row.column_name)));
    const decimals = dataColumns()
      .filter((column) => column.type === "decimal" && present.has(column.name))
      .map((column) => `, CAST(${column.name} AS VARCHAR) AS ${column.name}`)
      .join("");
    const { rows } = await this.athena.query(
      `SELECT to_json(t) AS "row" FROM (SELECT * REPLACE (epoch_us(event_time) AS event_time${decimals}) FROM ${source}) t`,
    );
    const parsed: Record<string, JsonValue>[] = new Array(rows.length);
    for (let index = 0; index < rows.length; index++) {
      // A day is ~35,000 rows: let the rest of the event loop (a reprice's writes) in between.
      if (index % 4096 === 4095) await yieldToEventLoop();
      const row = JSON.parse((rows[index] as { row: string }).row) as Record<string, JsonValue>;
      // A count beyond 2^53 would lose digits as a JSON number (the lake writer never writes one): read such a day value by value.
      if (!BIGINT_COLUMNS.every((name) => row[name] === null || row[name] === undefined || Number.isSafeInteger(row[name]))) {
        const slow = await this.athena.query(`SELECT * FROM ${source}`);
        return { rows: slow.rows.map((value) => usageRecordOfRow(value, year, month, dayOfMonth)), token: { files } };
      }
      row.event_time = isoFromMicros(BigInt(row.event_time as number));
      parsed[index] = row;
    }
    return { rows: parsed.map((row) => usageRecordOfRow(row, year, month, dayOfMonth)), token: { files } };
  }

  /**
   * Distinct request ids of each tenant in the month's partitions (a row the lake holds twice
   * counts once), counted by DuckDB over the files.
   */
  async invocationsByTenant(month: MonthKey): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if ((await this.days(month)).length === 0) return counts;
    const [year, monthNumber] = month.split("-") as [string, string];
    const glob = join(this.usage, `year=${year}`, `month=${monthNumber}`, "day=*", "*.parquet");
    const { rows } = await this.athena.query(
      `SELECT tenant_id, count(DISTINCT request_id) AS invocations FROM read_parquet(${sqlString(glob)}, hive_partitioning = false, union_by_name = true) GROUP BY tenant_id`,
    );
    for (const row of rows) counts.set(String(row.tenant_id), Number(row.invocations));
    return counts;
  }

  /** Replaces the files `token` names with `rows`: `stageDay`, then `publishDay`. */
  async replaceDay(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<void> {
    await this.publishDay(day, await this.stageDay(day, token, rows, repriceId), repriceId);
  }

  /**
   * Writes the replacement of the files `token` names aside: their rows, one per request id, with
   * the cost, status, reason and price version of `rows` (the same rows, repriced) and every other
   * value as stored. The lake does not change.
   */
  async stageDay(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<StagedDay> {
    const { files } = token as DayFiles;
    // The local lake holds each invocation once: a resumed rewrite that read both the old file
    // and the new one of a crashed rewrite keeps one row per request id.
    const changes = new Map<string, RepricedColumns>();
    for (const row of rows) {
      if (!changes.has(row.request_id))
        changes.set(row.request_id, {
          request_id: row.request_id,
          cost_usd: row.cost_usd,
          status: row.status,
          reason: row.reason,
          price_version: row.price_version,
          input_cost_usd: row.input_cost_usd,
          output_cost_usd: row.output_cost_usd,
          cache_read_cost_usd: row.cache_read_cost_usd,
          cache_write_cost_usd: row.cache_write_cost_usd,
        });
    }
    const file = join(this.historyDir, STAGED_DIR, repriceId, day, `part-${randomUUID()}.parquet`);
    await this.writer.writeReplacement(files, [...changes.values()], file);
    return { file, replaces: files };
  }

  /**
   * Publishes a staged replacement: the new file into the partition, then the files it replaces
   * into the history. Rows delivered since `readDay` (other files) are not touched.
   */
  async publishDay(day: DayKey, staged: unknown, repriceId: string): Promise<void> {
    const { file, replaces } = staged as StagedDay;
    const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
    await rename(file, join(this.usage, `year=${year}`, `month=${month}`, `day=${dayOfMonth}`, file.slice(file.lastIndexOf("/") + 1)));
    const target = join(this.historyDir, repriceId, `year=${year}`, `month=${month}`, `day=${dayOfMonth}`);
    await mkdir(target, { recursive: true });
    for (const replaced of replaces) await rename(replaced, join(target, replaced.slice(replaced.lastIndexOf("/") + 1)));
  }

  /** Removes the replacements of a reprice that were written aside and not published. */
  async discardStaged(repriceId: string): Promise<void> {
    await rm(join(this.historyDir, STAGED_DIR, repriceId), { recursive: true, force: true });
  }

  private filesOf(day: DayKey): Promise<string[]> {
    return dayPartitionFiles(this.usage, day);
  }
}

/** The Parquet files of a day partition (`YYYY-MM-DD`) under the lake's usage directory, sorted; none when it has no directory. */
export async function dayPartitionFiles(usage: string, day: string): Promise<string[]> {
  const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
  const directory = join(usage, `year=${year}`, `month=${month}`, `day=${dayOfMonth}`);
  const names = await readdir(directory).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith(".parquet"))
    .sort()
    .map((name) => join(directory, name));
}

/** A usage record from a lake row read back by DuckDB (values as `LocalAthena.query` gives them). */
export function usageRecordOfRow(row: Record<string, JsonValue>, year: string, month: string, day: string): UsageRecord {
  const record: Record<string, unknown> = {};
  for (const column of dataColumns()) {
    const value = row[column.name];
    // A map column is never null in a record: empty in files written before it existed (profile_tags).
    if (column.type === "map") record[column.name] = value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
    else record[column.name] = value === undefined ? null : value;
  }
  for (const column of dataColumns()) if (column.type === "decimal" && record[column.name] !== null) record[column.name] = String(record[column.name]);
  Object.assign(record, { year, month, day });
  return record as UsageRecord;
}
