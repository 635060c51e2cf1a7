/**
 * The local stack's alert sweep, on its own data dir: an alert marker as a budget-alert invocation
 * that died between firing and publishing leaves it (no stream record of the tenant's month comes
 * after it), delivered to the stack's alert feed by the real alert-sweep handler, on demand and
 * every `alertSweepIntervalMs` while the consumers loop. The stack's clock is injected.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BudgetAlert } from "@bedrock-spend/core";
import { alertIdOf, type FiredAlert } from "@bedrock-spend/store";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LocalStack, type StackLog } from "../src/local-stack";

const MINUTE = 60_000;
const START = Date.UTC(2026, 11, 1, 9);

const alert = (threshold: number): BudgetAlert => ({
  kind: "threshold",
  threshold,
  tenantId: "acme",
  month: "2026-12",
  spendUsd: "80.000000",
  budgetUsd: "100.00",
  forecastUsd: "2480.000000",
});

describe("LocalStack: the alert sweep", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-sweep-"));
  const announced: FiredAlert[] = [];
  const logs: StackLog[] = [];
  const time = { now: START };
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({
      dataDir,
      clock: () => time.now,
      handleSignals: false,
      alertSweepIntervalMs: 50,
      onAlert: (fired) => announced.push(fired),
      onLog: (log) => logs.push(log),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers an alert fired and never published once its grace period is over, once", async () => {
    // Prepare: the marker as a crashed invocation left it, its stream record read (it calls for no evaluation)
    await stack.store.markAlertFired(alert(50), new Date(time.now));
    await stack.drain();

    // Act
    time.now = START + 14 * MINUTE;
    const early = await stack.sweepAlerts();
    time.now = START + 16 * MINUTE;
    const swept = await stack.sweepAlerts();
    const again = await stack.sweepAlerts();

    // Assess
    expect([early, swept, again]).toEqual([0, 1, 0]);
    expect(announced).toEqual([{ ...alert(50), alertId: alertIdOf(alert(50)), firedAt: new Date(START + 16 * MINUTE).toISOString() }]);
    expect(stack.alerts().map((fired) => fired.alertId)).toEqual([alertIdOf(alert(50))]);
    expect(await stack.store.takeUndeliveredAlerts("acme", "2026-12", START + 30 * 24 * 60 * MINUTE)).toEqual([]);
  });

  it("sweeps by itself while the consumers loop", async () => {
    // Prepare
    await stack.store.markAlertFired(alert(80), new Date(time.now - 20 * MINUTE));

    // Act
    stack.loop(50);

    // Assess
    await vi.waitFor(() => expect(announced.map((fired) => fired.threshold)).toEqual([50, 80]), { timeout: 20_000, interval: 50 });
    expect(logs.filter((log) => log.level !== "info")).toEqual([]);
  });
});
