/**
 * The run's registry of spawned processes, shared by the tests' helper (`spawned.ts`, which writes
 * it) and the global setup (`test/setup/processes.ts`, which checks it): no vitest import, so that
 * the global setup can load it outside a test worker.
 */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { descendants, livePids, processStat } from "@bedrock-spend/emulators";

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
 * The live processes that inherited the run's registry and were left behind: every process a test
 * worker starts, by whatever means (a DynamoDB Local JVM started in-process, a child of a child),
 * inherits the workers' environment, which names `directory`; of those, the ones whose parent is
 * not itself such a process (nor this one) are orphans. A process still owned by a live worker (an
 * esbuild service, say) is the worker's to end. The registry directory is unique to the run, so
 * another run's processes are never counted. Each orphan's live descendants are listed too.
 */
export function inheritors(directory: string): number[] {
  const marker = `\0${REGISTRY_ENV}=${directory}\0`;
  const inherited = new Set(
    livePids().filter((pid) => {
      if (pid === process.pid) return false;
      try {
        return `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`.includes(marker);
      } catch {
        return false;
      }
    }),
  );
  const orphans = [...inherited].filter((pid) => {
    const parent = processStat(pid)?.ppid;
    return parent !== undefined && parent !== process.pid && !inherited.has(parent) && !/\bvitest\b/.test(commandLine(pid));
  });
  return [...new Set(orphans.flatMap((pid) => [pid, ...descendants(pid)]))];
}

/** The command line of a live process, arguments separated by spaces ("" when unreadable). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}
