/**
 * A running `bedrock-spend start` listens on loopback only: every TCP socket that its process tree
 * (the CLI run from its sources, DynamoDB Local's JVM) listens on, read from /proc/net/tcp and tcp6, is on
 * 127.0.0.1 (or ::1); DynamoDB Local, the dashboard with the spend API and kinesalite are among
 * them; and no service of it answers a cross-origin request with CORS headers. The whole tree is
 * killed at the end (test/helpers/spawned.ts), leaving nothing running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandLine, type Listener, listeningSockets, procAvailable, processStat, processTree } from "@bedrock-spend/emulators";
import { describe, expect, it, onTestFinished } from "vitest";
import { killTree } from "../../../test/helpers/spawned";
import { startCli } from "./helpers/run-cli";

const NOW = "2026-11-27T12:00:00Z";

describe.runIf(procAvailable())("bedrock-spend start on loopback only", () => {
  it("every socket its process tree listens on is a loopback address, and no service allows another origin", async () => {
    // Prepare: a start without traffic on a fresh data dir
    const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-listeners-"));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    // From the sources, as `pnpm start` runs (the other tests run the bundle).
    const started = startCli(["start", "--port", "0", "--no-traffic", "--data-dir", dataDir, "--json"], NOW, {}, { from: "source" });
    const deadline = performance.now() + 120_000;
    let ready: { url: string; pid: number } | undefined;
    while (!ready) {
      const line = started.output.stdout.split("\n")[0];
      if (line && started.output.stdout.includes("\n")) ready = JSON.parse(line) as { url: string; pid: number };
      else if (performance.now() > deadline || started.child.exitCode !== null) throw new Error(`start did not get ready:\n${started.output.stderr}`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Act
    const tree = processTree(started.child.pid as number);
    const listeners = listeningSockets(tree);
    const dashboardPort = Number(new URL(ready.url).port);
    const javaListeners = listeners.filter((listener) => /LoopbackDynamoDbLocal/.test(commandLine(listener.pid)));
    const origin = "http://attacker.example";
    const dashboard = await fetch(`${ready.url}v1/tenants/t/spend?month=2026-11`, { headers: { origin } });
    await dashboard.arrayBuffer();
    const endpoints = listeners.filter((listener) => listener.port !== dashboardPort);
    const others = await Promise.all(
      endpoints.map(async (listener: Listener) => {
        const response = await fetch(`http://127.0.0.1:${listener.port}/`, {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST" },
        });
        await response.arrayBuffer();
        return response.headers.get("access-control-allow-origin");
      }),
    );
    killTree(started.child.pid as number);
    const done = await started.done;
    for (let attempt = 0; attempt < 100 && tree.some((pid) => processStat(pid) !== undefined); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));

    // Assess
    expect(tree.length).toBeGreaterThanOrEqual(2);
    expect(listeners.filter((listener) => !/^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/.test(listener.address))).toEqual([]);
    expect(listeners.map((listener) => listener.port)).toContain(dashboardPort);
    expect(javaListeners).toHaveLength(1);
    expect(endpoints.length).toBeGreaterThanOrEqual(2);
    expect(dashboard.status).toBe(403);
    expect(dashboard.headers.get("access-control-allow-origin")).toBeNull();
    expect(others).toEqual(others.map(() => null));
    expect(done.code).toBeNull();
    expect(tree.filter((pid) => processStat(pid) !== undefined)).toEqual([]);
  }, 180_000);
});
