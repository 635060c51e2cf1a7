/**
 * The local lake's raw failures, under `<data-dir>/lake-errors/` (the raw failure bucket and the
 * lake bucket's error prefix of AWS, in one directory):
 * - `<batchId>.jsonl`: what the transform kept (`FileRawFailureStore`), one `RawLakeFailure` a line;
 * - `<day>.jsonl`: what the local Firehose wrote itself, records the transform did not answer
 *   (`kind: "processing-failed"`, with their data as received), and rows the lake writer failed to
 *   write (`kind: "delivery-failed"`, with the row).
 *
 * `LocalLakeErrors` reads all of them back for `bedrock-spend redrive --lake-errors`. A file is
 * renamed aside (`.redriving`) before it is read, so that a line appended while the redrive runs
 * lands in a new file, and a redrive that stopped half way is taken up by the next one.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseRawFailures, type RawFailureBatches, type RawFailureStore, type RawLakeFailure } from "@bedrock-spend/adapters";
import type { UsageRecord } from "@bedrock-spend/core";

/** Suffix of a lake-errors file a redrive has taken. */
const TAKEN = ".redriving";

/** The transform's raw failure store in local mode: one file per transformation, written whole (temp file, then rename). */
export class FileRawFailureStore implements RawFailureStore {
  constructor(
    private readonly directory: string,
    private readonly onKept: (count: number) => void = () => undefined,
  ) {}

  async keep(batchId: string, failures: readonly RawLakeFailure[]): Promise<void> {
    if (failures.length === 0) return;
    if (!/^[A-Za-z0-9._-]+$/.test(batchId)) throw new RangeError(`a raw failure batch id is letters, digits, ".", "_" and "-", got "${batchId}"`);
    await mkdir(this.directory, { recursive: true });
    const path = join(this.directory, `${batchId}.jsonl`);
    await writeFile(`${path}.tmp`, failures.map((failure) => `${JSON.stringify(failure)}\n`).join(""));
    await rename(`${path}.tmp`, path);
    this.onKept(failures.length);
  }
}

/** A line of a `<day>.jsonl` file the local Firehose wrote. */
type FirehoseLine =
  | { kind: "processing-failed"; recordId: string; data: string; source?: string; failedAt?: string }
  | { kind: "delivery-failed"; row: UsageRecord };

/** The local lake's failures as batches for `redriveLakeFailures`; rows that failed to be written go to `deliverRows`. */
export class LocalLakeErrors implements RawFailureBatches {
  readonly name: string;

  constructor(
    private readonly directory: string,
    private readonly deliverRows: (rows: UsageRecord[]) => Promise<void>,
  ) {
    this.name = directory;
  }

  /** Takes every file there now (renamed aside), and those a stopped redrive had taken. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const taken: string[] = [];
    for (const name of names.sort()) {
      if (name.endsWith(`.jsonl${TAKEN}`)) taken.push(name);
      else if (name.endsWith(".jsonl")) {
        await rename(join(this.directory, name), join(this.directory, `${name}${TAKEN}`));
        taken.push(`${name}${TAKEN}`);
      }
    }
    return taken;
  }

  async read(file: string): Promise<RawLakeFailure[]> {
    const path = join(this.directory, file);
    const text = await readFile(path, "utf8");
    const rows: UsageRecord[] = [];
    const failures: RawLakeFailure[] = [];
    text.split("\n").forEach((line, index) => {
      if (line.trim() === "") return;
      let entry: Partial<FirehoseLine> & Partial<RawLakeFailure>;
      try {
        entry = JSON.parse(line);
      } catch (error) {
        throw new Error(`${path}: line ${index + 1} is not JSON: ${(error as Error).message}`);
      }
      if (entry.kind === "delivery-failed" && entry.row) rows.push(entry.row);
      else if (entry.kind === "processing-failed" && typeof entry.data === "string")
        failures.push({
          recordId: String(entry.recordId),
          data: entry.data,
          reason: "firehose:processing-failed",
          fields: [],
          failedAt: entry.failedAt ?? "",
          ...(entry.source ? { source: entry.source } : {}),
        });
      else failures.push(...parseRawFailures(line, `${path}: line ${index + 1}`));
    });
    if (rows.length > 0) await this.deliverRows(rows);
    return failures;
  }

  async remove(file: string): Promise<void> {
    await rm(join(this.directory, file), { force: true });
  }
}
