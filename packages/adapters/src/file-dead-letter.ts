/**
 * Local dead-letter queue: JSON Lines files under a directory (`<data-dir>/quarantine/`), one file
 * per UTC day, one quarantined record per line, deduplicated by content id. A redrive moves handled
 * records to `redriven/`.
 */
import { appendFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DeadLetterMessage, DrainableDeadLetterQueue, QuarantinedRecord } from "./dead-letter";

export class FileDeadLetterQueue implements DrainableDeadLetterQueue {
  private known: Set<string> | undefined;
  /** Received and neither deleted nor released: not handed out again by this instance. */
  private readonly inFlight = new Set<string>();
  /**
   * Writes one at a time: concurrent sends (the shards' batches run in parallel) would otherwise
   * each read the known ids before the other wrote, and keep the same record twice.
   */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly directory: string) {}

  send(records: readonly QuarantinedRecord[]): Promise<void> {
    return this.serialized(() => this.append(records));
  }

  private serialized<T>(write: () => Promise<T>): Promise<T> {
    const run = this.writing.then(write);
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async append(records: readonly QuarantinedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const known = await this.knownIds();
    const fresh = records.filter((record) => {
      if (known.has(record.id)) return false;
      known.add(record.id);
      return true;
    });
    if (fresh.length === 0) return;
    await mkdir(this.directory, { recursive: true });
    const byDay = new Map<string, string[]>();
    for (const record of fresh) {
      const day = record.quarantinedAt.slice(0, 10);
      const lines = byDay.get(day) ?? [];
      lines.push(JSON.stringify(record));
      byDay.set(day, lines);
    }
    for (const [day, lines] of byDay) await appendFile(join(this.directory, `${day}.jsonl`), `${lines.join("\n")}\n`);
  }

  /** Every quarantined record still waiting, oldest file first. */
  async list(): Promise<QuarantinedRecord[]> {
    const records: QuarantinedRecord[] = [];
    for (const file of await this.files()) {
      for (const line of (await readFile(join(this.directory, file), "utf8")).split("\n")) {
        if (line.trim()) records.push(JSON.parse(line) as QuarantinedRecord);
      }
    }
    return records;
  }

  async receive(max: number): Promise<DeadLetterMessage[]> {
    const batch = (await this.list()).filter((record) => !this.inFlight.has(record.id)).slice(0, max);
    for (const record of batch) this.inFlight.add(record.id);
    return batch.map((record) => ({ handle: record.id, body: record }));
  }

  delete(handles: readonly string[]): Promise<void> {
    return this.serialized(() => this.remove(handles));
  }

  private async remove(handles: readonly string[]): Promise<void> {
    const remove = new Set(handles);
    const redriven: string[] = [];
    for (const file of await this.files()) {
      const path = join(this.directory, file);
      const lines = (await readFile(path, "utf8")).split("\n").filter((line) => line.trim());
      const keep = lines.filter((line) => {
        const gone = remove.has((JSON.parse(line) as QuarantinedRecord).id);
        if (gone) redriven.push(line);
        return !gone;
      });
      if (keep.length !== lines.length) await writeFile(path, keep.length > 0 ? `${keep.join("\n")}\n` : "");
    }
    if (redriven.length > 0) {
      await mkdir(join(this.directory, "redriven"), { recursive: true });
      await appendFile(join(this.directory, "redriven", "redriven.jsonl"), `${redriven.join("\n")}\n`);
    }
    for (const handle of handles) this.inFlight.delete(handle);
    this.known = undefined;
  }

  private async files(): Promise<string[]> {
    try {
      return (await readdir(this.directory)).filter((name) => name.endsWith(".jsonl")).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  private async knownIds(): Promise<Set<string>> {
    this.known ??= new Set((await this.list()).map((record) => record.id));
    return this.known;
  }
}
