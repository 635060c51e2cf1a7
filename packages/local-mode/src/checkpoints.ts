/**
 * Checkpoints of the local consumers, persisted in `<data-dir>/checkpoints.json` after each round:
 * a restart resumes where the last round ended (no record skipped; a record handled after the
 * last save is delivered again, which exactly once absorbs).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { compareSequenceNumbers } from "@bedrock-spend/core";

/** Shard id -> last sequence number handled. */
export type ShardCheckpoint = Record<string, string>;

/** Everything the local stack checkpoints. */
export interface StackCheckpoints {
  version: 1;
  /** The Kinesis stream, read by the aggregate mapping. */
  aggregate: ShardCheckpoint;
  /** The Kinesis stream, read by the local Firehose (advanced when a buffer is delivered). */
  firehose: ShardCheckpoint;
  /** The table's DynamoDB stream, read by the budget-alert mapping. */
  alerts: ShardCheckpoint;
  /** When they were saved, ISO 8601. */
  savedAt?: string;
}

/** No checkpoint: read everything from the start. */
export function emptyCheckpoints(): StackCheckpoints {
  return { version: 1, aggregate: {}, firehose: {}, alerts: {} };
}

/** Reads the checkpoints file; empty checkpoints when it does not exist. */
export async function loadCheckpoints(path: string): Promise<StackCheckpoints> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyCheckpoints();
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StackCheckpoints>;
  return { version: 1, aggregate: parsed.aggregate ?? {}, firehose: parsed.firehose ?? {}, alerts: parsed.alerts ?? {} };
}

/** Writes the checkpoints file atomically (temporary file, then rename). */
export async function saveCheckpoints(path: string, checkpoints: StackCheckpoints): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...checkpoints, savedAt: new Date().toISOString() }, null, 2)}\n`);
  await rename(temporary, path);
}

/** Whether `checkpoint` has handled every shard up to the sequence numbers of `target`. */
export function checkpointCovers(checkpoint: ShardCheckpoint, target: ShardCheckpoint): boolean {
  for (const [shardId, sequenceNumber] of Object.entries(target)) {
    const handled = checkpoint[shardId];
    if (handled === undefined || compareSequenceNumbers(handled, sequenceNumber) < 0) return false;
  }
  return true;
}
