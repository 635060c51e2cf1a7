/**
 * `bedrock-spend reprice` as users run it: spawned CLI processes on a temporary data dir with the
 * shipped samples (November 2026) ingested, through a running `start` (the reprice switches its
 * live pricing over and its budget-alert mapping fires the alerts), on real DynamoDB Local and
 * DuckDB lake files, the clock in February 2027 (the month is settled). A price correction flows into the aggregates,
 * the budget alerts, the lake and the audit trail; a dry run writes nothing; a second run is a
 * no-op; going back down un-fires nothing; the replaced lake files stay readable.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatUsd, parseUsd, type RepriceReport } from "@bedrock-spend/core";
import { afterAll, describe, expect, it } from "vitest";
import { spawnTracked } from "../../../test/helpers/spawned";
import { type CliResult, cliCommand, runCli } from "./helpers/run-cli";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const NOW = "2027-02-15T00:00:00Z";
const TENANT = "polar-health-0grnhia";

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, NOW);
}

async function json<T>(args: string[]): Promise<T> {
  const result = await cli([...args, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** Polls `probe` until it answers. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const scratch = mkdtempSync(join(tmpdir(), "bedrock-spend-reprice-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Haiku 4.5 through the global profile at twice its price from November: a correction upwards. */
const RAISED = join(scratch, "raised.json");
writeFileSync(
  RAISED,
  JSON.stringify({
    version: "haiku-doubled",
    currency: "USD",
    unit: "per_million_tokens",
    models: [
      {
        model: "anthropic.claude-haiku-4-5-20251001-v1:0",
        profile: "global",
        region: "*",
        effectiveFrom: "2026-11-01",
        effectiveTo: null,
        input: "2.00",
        output: "10.00",
        cacheRead: "0.20",
        cacheWrite: "2.50",
        cacheWrite1h: "4.00",
      },
    ],
  }),
);

describe("bedrock-spend reprice", () => {
  const dataDir = join(scratch, "data");
  const spendOf = async (tenantId: string) =>
    (await json<{ costUsd: string }>(["spend", "--tenant", tenantId, "--month", "2026-11", "--data-dir", dataDir])).costUsd;
  const lakeCostOf = async (tenantId: string) => {
    const result = await json<{ rows: { total: string | null }[] }>([
      "query",
      `SELECT CAST(sum(cost_usd) AS VARCHAR) AS total FROM invocations WHERE tenant_id = '${tenantId}' AND year = '2026' AND month = '11'`,
      "--data-dir",
      dataDir,
    ]);
    return formatUsd(parseUsd(result.rows[0]?.total ?? "0") ?? 0n);
  };

  it("corrects aggregates, budgets and the lake exactly once, and records it", async () => {
    const start: ChildProcess = spawnTracked(
      process.execPath,
      [...cliCommand().args, "start", "--port", "0", "--no-traffic", "--data-dir", dataDir, "--json"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...cliCommand().env, BEDROCK_SPEND_NOW: NOW },
      },
    );
    let startOut = "";
    start.stdout?.on("data", (chunk) => {
      startOut += chunk;
    });
    const exited = new Promise((resolve) => start.once("exit", resolve));
    try {
      await waitFor("start to be ready", async () => (startOut.includes("\n") ? true : undefined), 120_000);
      const { url } = JSON.parse(startOut.split("\n")[0] as string) as { url: string };
      await scenario(url);
    } finally {
      start.kill("SIGINT");
      await exited;
    }
  }, 600_000);

  async function scenario(url: string) {
    expect((await cli(["ingest", join(root, "samples/logs"), "--data-dir", dataDir])).code).toBe(0);
    const before = await spendOf(TENANT);

    const dry = await json<RepriceReport & { repriceId: string | null; dryRun: boolean }>([
      "reprice",
      "--from",
      "2026-11",
      "--to",
      "2026-11",
      "--prices",
      RAISED,
      "--dry-run",
      "--data-dir",
      dataDir,
    ]);
    expect(dry.repriceId).toBeNull();
    expect(dry.priceVersion).toMatch(/\+haiku-doubled$/);
    const planned = dry.tenants.find((entry) => entry.tenantId === TENANT);
    expect(planned?.oldCostUsd).toBe(before);
    const oldPico = parseUsd(planned?.oldCostUsd ?? "") as bigint;
    const newPico = parseUsd(planned?.newCostUsd ?? "") as bigint;
    expect(newPico).toBeGreaterThan(oldPico);
    expect(planned?.deltaUsd).toBe(formatUsd(newPico - oldPico));
    // The dry run wrote nothing.
    expect(await spendOf(TENANT)).toBe(before);
    expect(await json<unknown[]>(["reprice", "--history", "--data-dir", dataDir])).toEqual([]);

    // A budget between the old and the new spend: the correction crosses it.
    const budget = formatUsd((oldPico + newPico) / 2n);
    expect((await cli(["budgets", "set", "--tenant", TENANT, "--monthly-usd", budget, "--thresholds", "100", "--data-dir", dataDir])).code).toBe(0);

    const applied = await json<RepriceReport & { repriceId: string }>([
      "reprice",
      "--from",
      "2026-11",
      "--to",
      "2026-11",
      "--prices",
      RAISED,
      "--data-dir",
      dataDir,
    ]);
    expect(applied.tenants).toEqual(dry.tenants);
    expect(applied.changed).toBe(dry.changed);
    // Every tenant-month of the report: the aggregates equal the lake under the new prices.
    for (const entry of applied.tenants.slice(0, 3)) {
      expect(await spendOf(entry.tenantId)).toBe(entry.newCostUsd);
      expect(await lakeCostOf(entry.tenantId)).toBe(entry.newCostUsd);
    }
    // The running start's budget-alert mapping sees the corrected month total on the table's stream.
    const alerts = await waitFor(
      "the budget alert",
      async () => {
        const fired = await json<{ tenantId: string; month: string; threshold: number | null }[]>(["alerts", "--data-dir", dataDir]);
        return fired.some((alert) => alert.tenantId === TENANT) ? fired : undefined;
      },
      60_000,
    );
    expect(alerts.filter((alert) => alert.tenantId === TENANT && alert.month === "2026-11" && alert.threshold === 100)).toHaveLength(1);

    // Again: nothing changes, nothing fires again.
    const again = await json<RepriceReport & { repriceId: string }>([
      "reprice",
      "--from",
      "2026-11",
      "--to",
      "2026-11",
      "--prices",
      RAISED,
      "--data-dir",
      dataDir,
    ]);
    expect(again.changed).toBe(0);
    expect(again.tenants).toEqual([]);
    expect(await spendOf(TENANT)).toBe(planned?.newCostUsd);

    // Back to the shipped prices: the spend goes down, the alert stays fired, nothing new fires.
    const down = await json<RepriceReport & { repriceId: string }>(["reprice", "--from", "2026-11", "--to", "2026-11", "--data-dir", dataDir]);
    expect(down.tenants.find((entry) => entry.tenantId === TENANT)?.newCostUsd).toBe(before);
    expect(await spendOf(TENANT)).toBe(before);
    expect(await lakeCostOf(TENANT)).toBe(before);
    const after = await json<{ tenantId: string }[]>(["alerts", "--data-dir", dataDir]);
    expect(after).toEqual(alerts);

    // The audit trail: three reprices, with versions and totals. (Each CLI process's clock starts
    // at BEDROCK_SPEND_NOW, so ids, which sort by start time, need not sort in run order here.)
    const history = await json<{ id: string; status: string; versionsBefore: string[]; priceVersion: string; totalsBefore: string; totalsAfter: string }[]>([
      "reprice",
      "--history",
      "--data-dir",
      dataDir,
    ]);
    expect(history.map((audit) => audit.status)).toEqual(["applied", "applied", "applied"]);
    expect(history.map((audit) => audit.id).sort()).toEqual([applied.repriceId, again.repriceId, down.repriceId].sort());
    const byId = (id: string) => history.find((audit) => audit.id === id);
    expect(byId(applied.repriceId)?.versionsBefore).toEqual(["2026-12-01"]);
    expect(byId(applied.repriceId)?.priceVersion).toBe(applied.priceVersion);
    expect(byId(again.repriceId)?.totalsBefore).toBe(byId(again.repriceId)?.totalsAfter);
    expect(byId(down.repriceId)?.totalsAfter).toBe(byId(applied.repriceId)?.totalsBefore);
    // The replaced files stay, by reprice id, in the lake's layout.
    expect(readdirSync(join(dataDir, "lake-history", applied.repriceId, "year=2026", "month=11"))).toContain("day=27");

    // The spend API of the running start answers the same audit trail.
    const api = (await (await fetch(`${url}v1/reprices`)).json()) as { reprices: { id: string }[] };
    expect(api.reprices.map((entry) => entry.id)).toEqual(history.map((entry) => entry.id));
    const one = await fetch(`${url}v1/reprices/${applied.repriceId}`);
    expect(one.status).toBe(200);
    const text = await cli(["reprice", "--history", "--data-dir", dataDir]);
    expect(text.stdout).toContain(applied.repriceId);
  }

  it("refuses bad arguments with the option named", async () => {
    const results = await Promise.all([
      cli(["reprice", "--data-dir", join(scratch, "none")]),
      cli(["reprice", "--from", "2026-13", "--data-dir", join(scratch, "none")]),
      cli(["reprice", "--from", "2026-11", "--to", "2026-10", "--data-dir", join(scratch, "none")]),
      cli(["reprice", "--from", "2026-11", "--history", "--data-dir", join(scratch, "none")]),
      cli(["reprice", "--resume", "--prices", RAISED, "--data-dir", join(scratch, "none")]),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2]);
    expect(results[0]?.stderr).toContain("--from is required");
    expect(results[1]?.stderr).toContain('--from must be a UTC calendar month YYYY-MM, got "2026-13"');
    expect(results[2]?.stderr).toContain("--to 2026-10 is before --from 2026-11");
    expect(results[3]?.stderr).toContain("give one of --from, --history or --resume");
    expect(results[4]?.stderr).toContain("--prices comes from the interrupted reprice");
  }, 120_000);
});
