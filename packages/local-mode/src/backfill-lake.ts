/**
 * The local lake as a backfill's ledger of settled months: the request ids of a day partition
 * (with the file holding each), an hour's rows written under the hour's own file name, and the
 * rows of given files read back (a resumed application).
 */
import type { UsageRecord } from "@bedrock-spend/core";
import { DuckDbLakeWriter, dayPartitionFiles, LocalAthena, resolveLakeDir, sqlString, usageDir, usageRecordOfRow } from "@bedrock-spend/local-lake";
import { addLakeHolder, type BackfillLake, lakeFileBaseName } from "@bedrock-spend/pipeline";

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
      addLakeHolder(ids, String(row.request_id), lakeFileBaseName(String(row.filename)));
    }
    return ids;
  }

  async writeHour(rows: readonly UsageRecord[], fileName: string): Promise<void> {
    if (rows.length > 0) await this.writer.write(rows, { fileName });
  }

  async rowsOfFiles(files: readonly { fileName: string; days: readonly string[] }[]): Promise<UsageRecord[]> {
    const rows: UsageRecord[] = [];
    for (const { fileName, days } of files) {
      for (const day of days) {
        const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
        for (const file of await dayPartitionFiles(this.usage, day)) {
          if (lakeFileBaseName(file) !== fileName) continue;
          const { rows: read } = await this.athena.query(`SELECT * FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`);
          for (const row of read) rows.push(usageRecordOfRow(row, year, month, dayOfMonth));
        }
      }
    }
    return rows;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.writer.close(), this.athena.close()]);
  }
}
