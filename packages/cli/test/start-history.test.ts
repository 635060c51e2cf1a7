/**
 * `bedrock-spend start` on an empty data dir, as users run it: it puts 30 days of sample history,
 * ending at the clock (BEDROCK_SPEND_NOW), through the pipeline before it is ready, sets sample
 * budgets whose alerts fire, marks the data as sample data, and says how to start clean; a second
 * start on the same data dir adds no history; `--no-history` starts clean.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, runCli, startCli } from "./helpers/run-cli";

const NOW = "2026-11-20T15:30:00Z";
const DAY_MS = 86_400_000;
const root = mkdtempSync(join(tmpdir(), "bedrock-spend-start-history-"));

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Ready {
  event: "ready";
  url: string;
  sampleHistory: { days: number; records: number; seconds: number; budgets: { tenantId: string; monthlyUsd: string }[] } | null;
}

/** Runs `start --json` until ready, reads what `probe` asks of it, then stops it (SIGINT) and waits for its exit. */
async function whileRunning<T>(args: string[], probe: (ready: Ready) => Promise<T>): Promise<{ ready: Ready; probed: T; result: CliResult }> {
  const started = startCli(["start", "--port", "0", "--json", "--rate", "2", "--tenants", "8", "--seed", "7", ...args], NOW);
  const deadline = performance.now() + 240_000;
  let ready: Ready | undefined;
  while (!ready) {
    const line = started.output.stdout.split("\n").find((text) => text.startsWith('{"event":"ready"'));
    if (line) ready = JSON.parse(line) as Ready;
    else if (performance.now() > deadline || started.child.exitCode !== null) throw new Error(`start did not get ready:\n${started.output.stderr}`);
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const probed = await probe(ready);
  started.child.kill("SIGINT");
  return { ready, probed, result: await started.done };
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as T;
}

describe("bedrock-spend start's sample history", () => {
  it("seeds an empty data dir once: 30 days through the pipeline, sample budgets and their alerts, the sample-data marker", async () => {
    const dataDir = join(root, "first-run");

    // Act: the first start, then a second one on the same data dir
    const first = await whileRunning(["--data-dir", dataDir], async (ready) => ({
      sample: await getJson<{ sample: boolean; records: number; days: number; complete: boolean }>(`${ready.url}api/sample`),
      alerts: await getJson<{ tenantId: string; threshold: number | null }[]>(`${ready.url}api/alerts`),
      filters: await getJson<{ months: string[] }>(`${ready.url}api/filters`),
    }));
    const second = await whileRunning(["--data-dir", dataDir], async (ready) => getJson<{ sample: boolean }>(`${ready.url}api/sample`));
    const lake = await runCli(
      [
        "query",
        "SELECT count(*) AS n, count(DISTINCT request_id) AS ids, min(event_time) AS first_time FROM invocations WHERE event_time <= TIMESTAMP '2026-11-20 15:30:00'",
        "--data-dir",
        dataDir,
        "--json",
      ],
      NOW,
    );

    // Assess: the first start seeded (and said so), the second did not
    const history = first.ready.sampleHistory;
    expect(history).toMatchObject({ days: 30, records: expect.any(Number) });
    expect(history?.records).toBeGreaterThan(1150);
    process.stderr.write(`start's sample history: ${history?.records} records in ${history?.seconds} s\n`);
    expect(first.probed.sample).toMatchObject({ sample: true, complete: true, days: 30, records: history?.records });
    expect(first.probed.filters.months).toEqual(["2026-11", "2026-10"]);
    expect(history?.budgets.length).toBeGreaterThan(0);
    const budgeted = new Set(history?.budgets.map((budget) => budget.tenantId));
    expect(first.probed.alerts.some((alert) => budgeted.has(alert.tenantId))).toBe(true);
    expect(first.result.code).toBe(0);
    expect(second.ready.sampleHistory).toBeNull();
    expect(second.probed).toMatchObject({ sample: true });
    expect(second.result.code).toBe(0);
    // The lake: every generated record of the history once (live traffic only adds calls at or after NOW).
    expect(lake.code).toBe(0);
    const row = (JSON.parse(lake.stdout) as { rows: { n: number; ids: number; first_time: string }[] }).rows[0];
    expect(row?.ids).toBe(row?.n);
    expect(row?.n).toBeGreaterThanOrEqual(history?.records ?? Number.POSITIVE_INFINITY);
    expect(Date.parse(`${row?.first_time.replace(" ", "T")}Z`.replace(/ZZ$/, "Z"))).toBeGreaterThanOrEqual(Date.parse(NOW) - 30 * DAY_MS);
  }, 600_000);

  it("--no-history starts an empty data dir clean: no history, no budgets, no marker", async () => {
    const dataDir = join(root, "clean");
    const run = await whileRunning(["--data-dir", dataDir, "--no-history"], async (ready) => ({
      sample: await getJson<{ sample: boolean }>(`${ready.url}api/sample`),
      filters: await getJson<{ months: string[] }>(`${ready.url}api/filters`),
    }));
    const budgets = await runCli(["budgets", "list", "--data-dir", dataDir, "--json"], NOW);
    expect(run.ready.sampleHistory).toBeNull();
    expect(run.probed.sample).toEqual({ sample: false });
    expect(run.probed.filters.months.every((month) => month === "2026-11")).toBe(true);
    expect(JSON.parse(budgets.stdout)).toEqual([]);
    expect(run.result.code).toBe(0);
  }, 300_000);
});
