/**
 * The tests' process teardown: a spawned child dies with its whole tree (its process group and
 * every descendant, a grandchild that outlived its parent included), and the run's registry names
 * any recorded process still alive, as the global teardown checks at the end of the run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { procAvailable, processStat } from "@bedrock-spend/emulators";
import { describe, expect, it, onTestFinished } from "vitest";
import { REGISTRY_ENV, register, survivors } from "./helpers/process-registry";
import { killTree, spawnTracked } from "./helpers/spawned";

/**
 * A shell that starts two sleeping children and prints their pids, then waits for them, or when
 * `orphan`, exits once its stdin is closed (`release`), leaving them orphans.
 */
function family(orphan: boolean) {
  const script = `sleep 300 & echo $!; sleep 300 & echo $!; ${orphan ? "read line; exit 0" : "wait"}`;
  const child = spawnTracked("sh", ["-c", script], { stdio: ["pipe", "pipe", "ignore"] });
  const release = () => child.stdin?.end();
  const pids = new Promise<number[]>((resolve) => {
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      const lines = out.split("\n").filter(Boolean);
      if (lines.length >= 2) resolve(lines.map(Number));
    });
  });
  return { child, pids, release };
}

async function gone(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (processStat(pid) === undefined) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe.runIf(procAvailable())("spawned test processes", () => {
  it("killTree kills a child and its children", async () => {
    // Prepare
    const { child, pids } = family(false);
    const grandchildren = await pids;

    // Act
    const killed = killTree(child.pid as number);

    // Assess
    expect(killed).toEqual(expect.arrayContaining([child.pid, ...grandchildren]));
    for (const pid of [child.pid as number, ...grandchildren]) expect(await gone(pid)).toBe(true);
  });

  it("killTree kills the grandchildren of a child that already exited (its process group)", async () => {
    // Prepare: the shell exits, its sleeping children are orphans (no longer its descendants)
    const { child, pids, release } = family(true);
    const orphans = await pids;
    release();
    await new Promise((resolve) => child.once("exit", resolve));
    expect(orphans.every((pid) => processStat(pid) !== undefined)).toBe(true);

    // Act
    killTree(child.pid as number);

    // Assess
    for (const pid of orphans) expect(await gone(pid)).toBe(true);
  });

  it("the registry names a recorded process, and one left in a recorded leader's group, while they live", async () => {
    // Prepare: a registry of this test's own, with the shell recorded as the leader of its group
    const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-registry-test-"));
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
    const { child, pids, release } = family(true);
    const orphans = await pids;
    register(directory, [child.pid as number], "sh", true);
    release();
    await new Promise((resolve) => child.once("exit", resolve));

    // Act
    const whileAlive = survivors(directory).map((entry) => entry.pid);
    killTree(child.pid as number);
    for (const pid of orphans) await gone(pid);
    const afterKill = survivors(directory);

    // Assess: the shell is gone, its orphans were counted through its group
    expect(whileAlive.sort()).toEqual([...orphans].sort());
    expect(afterKill).toEqual([]);
  });

  let failedTestChild = 0;

  it.fails("a test that fails (expected to, here) ...", async () => {
    // A child spawned by a test that then fails
    const { child, pids } = family(false);
    failedTestChild = child.pid as number;
    await pids;
    throw new Error("the test failed");
  });

  it("... still has its children killed when it finishes", async () => {
    // Assess: onTestFinished (registered by spawnTracked) killed it when the failed test ended
    expect(failedTestChild).toBeGreaterThan(0);
    expect(await gone(failedTestChild)).toBe(true);
  });
});

describe.runIf(procAvailable())("processes started under the run, recorded or not", () => {
  /** Starts `sleep 300` through a shell that exits at once: the sleep is an orphan; resolves its pid. */
  function orphanedSleep(registry: string): Promise<number> {
    const shell = spawn("sh", ["-c", "sleep 300 >/dev/null 2>&1 & echo $!"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, [REGISTRY_ENV]: registry },
    });
    return new Promise((resolve) => {
      let out = "";
      shell.stdout?.on("data", (chunk) => {
        out += chunk;
      });
      shell.once("exit", () => resolve(Number(out.trim())));
    });
  }

  it("the registry names an orphan that inherited the run's registry directory and nothing recorded, not a child still owned", async () => {
    // Prepare: an orphan of this run (its shell exited), an orphan of another run, and a child this process still owns
    const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-registry-test-"));
    onTestFinished(() => rmSync(directory, { recursive: true, force: true }));
    const orphan = await orphanedSleep(directory);
    const otherRun = await orphanedSleep(`${directory}-another-run`);
    onTestFinished(() => {
      for (const pid of [orphan, otherRun]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
    });
    const owned = spawn("sleep", ["300"], { stdio: "ignore", env: { ...process.env, [REGISTRY_ENV]: directory } });
    onTestFinished(() => {
      owned.kill("SIGKILL");
    });
    await new Promise((resolve) => owned.once("spawn", resolve));

    // Act
    const whileAlive = survivors(directory);
    process.kill(orphan, "SIGKILL");
    await gone(orphan);
    const afterKill = survivors(directory);

    // Assess: named with its command line; another run's orphan and a child with a live owner are not this run's leaks
    expect(whileAlive.map((entry) => entry.pid)).toEqual([orphan]);
    expect(whileAlive[0]?.command).toBe("sleep 300 (started under this test run)");
    expect(afterKill).toEqual([]);
  });
});
