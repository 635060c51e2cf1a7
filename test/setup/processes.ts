/**
 * Vitest global setup: the registry of the processes the tests spawned (`test/helpers/spawned.ts`
 * records each one, and every descendant it kills). At the end of the run, any of them still alive
 * is killed and the run fails, naming it: a test left a process running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGISTRY_ENV, survivors } from "../helpers/process-registry";

/** How long a process found alive at the end may take to exit on its own. */
const GRACE_MS = 5_000;

/** Makes the registry for the run's workers; its teardown fails the run if a registered process is alive. */
export default function setup(): () => Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-test-processes-"));
  process.env[REGISTRY_ENV] = directory;
  return async () => {
    // An orphan may be on its way out (an esbuild service notices its worker's end on its next
    // ping): what is still alive after a grace period is left running.
    let left = survivors(directory);
    for (let waited = 0; left.length > 0 && waited < GRACE_MS; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = survivors(directory);
    }
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
