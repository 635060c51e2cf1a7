/**
 * The local lake as a backfill's ledger of settled months: the request ids of a day partition
 * (with the file holding each), an hour's rows written under the hour's own file name, and the
 * rows of given files read back (a resumed application).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { UsageRecord } from "@bedrock-spend/core";
import { DuckDbLakeWriter, dayPartitionFiles, LocalAthena, resolveLakeDir, sqlString, usageDir, usageRecordOfRow } from "@bedrock-spend/local-lake";
import type { BackfillLake } from "@bedrock-spend/pipeline";

/** Base name of a lake file (`<name>_0.parquet` -> `<name>`, `part-<uuid>.parquet` -> `part-<uuid>`). */
function baseName(file: string): string {
  const name = file.slice(file.lastIndexOf("/") + 1).replace(/\.parquet$/, "");
  return name.replace(/_\d+$/, "");
}

/** The data dir's lake, for a backfill. */
export class LocalBackfillLake implements BackfillLake {
  private readonly usage: string;

  private constructor(
    lakeDir: string,
    private readonly writer: DuckDbLakeWriter,
    private readonly athena: LocalAthena,
  ) {
    this.usage = usageDir(resolveLakeDir(lakeDir));
  }

  /** Opens DuckDB over `lakeDir` for reading and writing. */
  static async open(lakeDir: string): Promise<LocalBackfillLake> {
    const writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
    try {
      return new LocalBackfillLake(lakeDir, writer, await LocalAthena.open({ lakeDir, views: [], threads: 1 }));
    } catch (error) {
      await writer.close();
      throw error;
    }
  }

  async requestIdsOfDay(day: string): Promise<Map<string, string>> {
    const files = await dayPartitionFiles(this.usage, day);
    const ids = new Map<string, string>();
    if (files.length === 0) return ids;
    const { rows } = await this.athena.query(
      `SELECT request_id, filename FROM read_parquet([${files.map(sqlString).join(", ")}], filename = true, hive_partitioning = false, union_by_name = true)`,
    );
    for (const row of rows) {
      const id = String(row.request_id);
      const file = baseName(String(row.filename));
      ids.set(id, ids.has(id) && ids.get(id) !== file ? "*" : file);
    }
    return ids;
  }

  async writeHour(rows: readonly UsageRecord[], fileName: string): Promise<void> {
    if (rows.length > 0) await this.writer.write(rows, { fileName });
  }

  async rowsOfFiles(files: readonly { fileName: string; days: readonly string[] }[]): Promise<UsageRecord[]> {
    // The whole lake is walked (a resume only): a file is found wherever it is, whatever days it recorded.
    const wanted = new Set(files.map((file) => file.fileName));
    const rows: UsageRecord[] = [];
    for (const year of await subdirectories(this.usage, /^year=(\d{4})$/)) {
      for (const month of await subdirectories(join(this.usage, year.name), /^month=(\d{2})$/)) {
        for (const day of await subdirectories(join(this.usage, year.name, month.name), /^day=(\d{2})$/)) {
          const directory = join(this.usage, year.name, month.name, day.name);
          const names = (await readdir(directory)).filter((name) => name.endsWith(".parquet") && wanted.has(baseName(name)));
          for (const name of names) {
            const { rows: read } = await this.athena.query(`SELECT * FROM read_parquet(${sqlString(join(directory, name))}, hive_partitioning = false)`);
            for (const row of read) rows.push(usageRecordOfRow(row, year.value, month.value, day.value));
          }
        }
      }
    }
    return rows;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.writer.close(), this.athena.close()]);
  }
}

async function subdirectories(parent: string, pattern: RegExp): Promise<{ name: string; value: string }[]> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  return entries.flatMap((entry) => {
    const match = entry.isDirectory() ? pattern.exec(entry.name) : null;
    return match ? [{ name: entry.name, value: match[1] as string }] : [];
  });
}
