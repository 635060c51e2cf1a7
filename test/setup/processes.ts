/**
 * Vitest global setup: the registry of the processes the tests spawned (`test/helpers/spawned.ts`
 * records each one, and every descendant it kills). At the end of the run, any of them still alive
 * is killed and the run fails, naming it: a test left a process running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGISTRY_ENV, survivors } from "../helpers/process-registry";

/** Makes the registry for the run's workers; its teardown fails the run if a registered process is alive. */
export default function setup(): () => void {
  const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-test-processes-"));
  process.env[REGISTRY_ENV] = directory;
  return () => {
    const left = survivors(directory);
    for (const entry of left) {
      try {
        process.kill(entry.pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(directory, { recursive: true, force: true });
    if (left.length > 0) {
      throw new Error(`tests left ${left.length} process(es) running (killed now): ${left.map((entry) => `${entry.pid} ${entry.command}`).join("; ")}`);
    }
  };
}
