/**
 * Child processes of the tests, killed with everything they started. Each child runs in its own
 * process group (detached), so that a JVM its CLI started, and a grandchild that outlived its
 * parent, die with it: teardown kills the group and every descendant found in /proc, whether the
 * test passed or not. Every pid killed is recorded in the run's registry (the directory named by
 * `BEDROCK_SPEND_TEST_PROCESSES`, made by the global setup `test/setup/processes.ts`), which checks
 * at the end of the run that none of them is still alive.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { processTree } from "@bedrock-spend/emulators";
import { onTestFinished } from "vitest";
import { REGISTRY_ENV, register } from "./process-registry";

const owned = new Set<number>();

function record(pids: readonly number[], command: string, leader = false): void {
  const directory = process.env[REGISTRY_ENV];
  if (directory) register(directory, pids, command, leader);
}

/** Kills `pid`, its process group and every descendant, at once (SIGKILL); returns the pids it found alive. */
export function killTree(pid: number): number[] {
  const tree = processTree(pid);
  record(tree, `tree of ${pid}`);
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // No process of that group is left.
  }
  for (const member of tree) {
    try {
      process.kill(member, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  owned.delete(pid);
  return tree;
}

/** Kills every process tree this test file spawned and has not killed yet. */
export function killAllSpawned(): void {
  for (const pid of [...owned]) killTree(pid);
}

/**
 * `spawn`, in a process group of its own, recorded in the run's registry and killed with its tree
 * when the test that called it finishes (failed or not); spawned outside a test, or with
 * `scope: "file"`, at the end of the file (`test/setup/spawned.ts` runs `killAllSpawned` then).
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions, scope: "test" | "file" = "test"): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) return child;
  owned.add(pid);
  record([pid], [command, ...args].join(" "), true);
  if (scope === "test") {
    try {
      onTestFinished(() => {
        killTree(pid);
      });
    } catch {
      // Spawned outside a test: the file's teardown kills it.
    }
  }
  return child;
}
