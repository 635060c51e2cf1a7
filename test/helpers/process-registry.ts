/**
 * The run's registry of spawned processes, shared by the tests' helper (`spawned.ts`, which writes
 * it) and the global setup (`test/setup/processes.ts`, which checks it): no vitest import, so that
 * the global setup can load it outside a test worker.
 */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { livePids, processStat } from "@bedrock-spend/emulators";

/** The environment variable naming the run's registry directory. */
export const REGISTRY_ENV = "BEDROCK_SPEND_TEST_PROCESSES";

/** One recorded process: its pid and its start time, so that a reused pid is not mistaken for it. */
export interface RegisteredProcess {
  pid: number;
  startTime: number;
  command: string;
  /** A spawned child, leader of its own process group: whatever is left in that group counts too. */
  leader?: boolean;
}

/** Records the live processes among `pids` in `directory` (one JSON Lines file per recording process). */
export function register(directory: string, pids: readonly number[], command: string, leader = false): void {
  const lines = pids.flatMap((pid) => {
    const stat = processStat(pid);
    return stat ? [`${JSON.stringify({ pid, startTime: stat.startTime, command, ...(leader ? { leader } : {}) } satisfies RegisteredProcess)}\n`] : [];
  });
  if (lines.length > 0) appendFileSync(join(directory, `${process.pid}.jsonl`), lines.join(""));
}

/**
 * The processes recorded in `directory` that are still alive (same pid, same start time), and any
 * live process left in the group of a recorded leader (started after it: the JVM of a CLI, say).
 */
export function survivors(directory: string): RegisteredProcess[] {
  const entries: RegisteredProcess[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(directory);
  } catch {
    return [];
  }
  for (const file of files) {
    for (const line of readFileSync(join(directory, file), "utf8").split("\n")) if (line) entries.push(JSON.parse(line) as RegisteredProcess);
  }
  const alive = new Map<number, RegisteredProcess>();
  for (const entry of entries) {
    if (!alive.has(entry.pid) && processStat(entry.pid)?.startTime === entry.startTime) alive.set(entry.pid, entry);
  }
  const leaders = new Map(entries.filter((entry) => entry.leader).map((entry) => [entry.pid, entry]));
  for (const pid of livePids()) {
    const stat = processStat(pid);
    const leader = stat ? leaders.get(stat.pgid) : undefined;
    if (stat && leader && stat.startTime >= leader.startTime && !alive.has(pid)) {
      alive.set(pid, { pid, startTime: stat.startTime, command: `in the process group of ${leader.pid} (${leader.command})` });
    }
  }
  for (const pid of inheritors(directory)) {
    const stat = processStat(pid);
    if (stat && !alive.has(pid)) alive.set(pid, { pid, startTime: stat.startTime, command: `${commandLine(pid)} (started under this test run)` });
  }
  return [...alive.values()];
}

/**
 * The live processes whose environment names `directory` as the registry, other than this process
 * and vitest's own workers: every process a test worker started, by whatever means (a DynamoDB
 * Local JVM started in-process, a child of a child), inherits the workers' environment. This finds
 * those that no helper recorded; the run's registry directory is unique, so another run's
 * processes are never counted.
 */
export function inheritors(directory: string): number[] {
  const marker = `\0${REGISTRY_ENV}=${directory}\0`;
  return livePids().filter((pid) => {
    if (pid === process.pid) return false;
    let environ: string;
    try {
      environ = `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`;
    } catch {
      return false;
    }
    return environ.includes(marker) && !/\bvitest\b/.test(commandLine(pid));
  });
}

/** The command line of a live process, arguments separated by spaces ("" when unreadable). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}
