/**
 * The local Firehose's S3 delivery: the transform's `Ok` rows into the Parquet lake (DuckDB), and
 * what cannot be delivered under `<data-dir>/lake-errors/` (Firehose's error prefix).
 *
 * Local mode differs from AWS here, on purpose: Firehose delivers at least once (a payload
 * CloudWatch Logs delivered twice, a flush retried after a crash), so on AWS the lake can hold an
 * invocation twice: the aggregates are the exact ledger, and a lake query that must be exact
 * deduplicates by request_id. Locally the delivery drops rows whose request id the lake already
 * holds, so that the local lake, like the aggregates, holds each invocation once.
 */
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, type UsageRecord, utcDayOf } from "@bedrock-spend/core";
import type { DuckDbLakeWriter, LocalAthena } from "@bedrock-spend/local-lake";
import type { FirehoseFailure } from "./firehose";

/** Counts of the delivery, kept in the stack's stats. */
export interface LakeDeliveryStats {
  lakeRows: number;
  /** Rows dropped because the lake held their request id already. */
  lakeDuplicates: number;
  /** Records and rows written under `lake-errors/`. */
  lakeErrors: number;
}

/** Where and how rows are delivered. */
export interface LakeDeliveryOptions {
  writer: DuckDbLakeWriter;
  /** `<data-dir>/lake-errors`. */
  errorsDir: string;
  /** Request ids the lake holds (`lakeRequestIds`), kept up to date by the delivery. */
  lakeIds: Set<string>;
  /** Dates the error files. */
  clock: Clock;
  stats: LakeDeliveryStats;
  onError: (message: string) => void;
}

/** Request ids the lake holds, read once at start. */
export async function lakeRequestIds(athena: LocalAthena): Promise<Set<string>> {
  const { rows } = await athena.query("SELECT DISTINCT request_id FROM invocations");
  return new Set(rows.map((row) => String(row.request_id)));
}

/** The delivery of the local Firehose. */
export class LakeDelivery {
  constructor(private readonly options: LakeDeliveryOptions) {}

  /** Writes the rows the lake does not hold yet; if the write fails for good, they go to the error files, not nowhere. */
  async deliver(rows: readonly UsageRecord[]): Promise<void> {
    const { lakeIds, stats } = this.options;
    const fresh: UsageRecord[] = [];
    const ids = new Set<string>();
    for (const row of rows) {
      if (lakeIds.has(row.request_id) || ids.has(row.request_id)) {
        stats.lakeDuplicates++;
        continue;
      }
      ids.add(row.request_id);
      fresh.push(row);
    }
    if (fresh.length === 0) return;
    try {
      await this.options.writer.write(fresh);
    } catch (error) {
      this.options.onError(`lake write failed, ${fresh.length} rows kept in ${this.options.errorsDir}: ${(error as Error).message}`);
      await this.appendErrors(fresh.map((row) => ({ kind: "delivery-failed", error: (error as Error).message, row })));
      return;
    }
    for (const id of ids) lakeIds.add(id);
    stats.lakeRows += fresh.length;
  }

  /** Keeps the records the transform returned `ProcessingFailed`, with their data as received. */
  async fail(failures: readonly FirehoseFailure[]): Promise<void> {
    await this.appendErrors(failures.map((failure) => ({ kind: "processing-failed", ...failure })));
  }

  private async appendErrors(entries: Record<string, unknown>[]): Promise<void> {
    await mkdir(this.options.errorsDir, { recursive: true });
    const day = utcDayOf(this.options.clock());
    await appendFile(join(this.options.errorsDir, `${day}.jsonl`), `${entries.map((entry) => JSON.stringify(entry)).join("\n")}\n`);
    this.options.stats.lakeErrors += entries.length;
  }
}
