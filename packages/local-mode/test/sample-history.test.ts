/**
 * The sample history of a first start: 30 days of generated invocations, ending at the stack's
 * clock, through the real pipeline (stream, aggregate mapping, Firehose into the lake, budget
 * alerts): the aggregates and the lake hold exactly the generated records, the per-class costs add
 * up to the cost, sample budgets make the alerts feed show alerts, the marker says it is sample
 * data, and a data dir that was used is never taken for an empty one again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCatalog, fixedClock, Pricer, parseInvocationLog, parseUsd, StaticProfileMap, utcMonthOf } from "@bedrock-spend/core";
import { APPLICATION_PROFILES, generateTraffic, gzipStable, type TrafficItem, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack } from "../src/local-stack";
import {
  isFreshDataDir,
  readSampleMarker,
  SAMPLE_DATA_HINT,
  SAMPLE_HISTORY_DAYS,
  SAMPLE_RECORDS_PER_DAY,
  type SampleChunk,
  seedSampleHistory,
  setSampleBudgets,
  writeSampleMarker,
} from "../src/sample-history";

const NOW = Date.parse("2026-11-20T15:30:00.000Z");
const DAY_MS = 86_400_000;
const TENANTS = 20;
const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });

/** The history as `start` generates it: SAMPLE_RECORDS_PER_DAY a day for SAMPLE_HISTORY_DAYS days, up to NOW. */
const items: TrafficItem[] = [
  ...generateTraffic({
    seed: "sample-history-test",
    count: SAMPLE_HISTORY_DAYS * SAMPLE_RECORDS_PER_DAY,
    tenants: TENANTS,
    ratePerSecond: SAMPLE_RECORDS_PER_DAY / 86_400,
    start: NOW - SAMPLE_HISTORY_DAYS * DAY_MS,
  }),
];
const records = items.flatMap((item) => (item.kind === "record" ? [item.record] : []));

function chunks(perChunk: number): SampleChunk[] {
  const out: SampleChunk[] = [];
  for (let start = 0; start < items.length; start += perChunk) {
    const slice = items.slice(start, start + perChunk);
    out.push({
      payloads: [...toSubscriptionPayloads(slice, { firstSequence: start })].map((payload) => gzipStable(JSON.stringify(payload))),
      records: slice.filter((item) => item.kind === "record").length,
    });
  }
  return out;
}

describe("Sample history on a first start", () => {
  const root = mkdtempSync(join(tmpdir(), "bedrock-spend-sample-"));
  const dataDir = join(root, "data");
  let stack: LocalStack;
  let fresh: boolean;
  let seeded: { records: number; seconds: number };
  let progress: number[] = [];
  let budgets: Awaited<ReturnType<typeof setSampleBudgets>>;

  beforeAll(async () => {
    fresh = await isFreshDataDir(dataDir);
    stack = await LocalStack.start({ dataDir, pricer, clock: fixedClock(NOW), handleSignals: false, resolveProfiles: false });
    progress = [];
    seeded = await seedSampleHistory(stack, chunks(SAMPLE_RECORDS_PER_DAY), {
      total: records.length,
      onProgress: (step) => progress.push(step.records),
    });
    const tenants = [...new Set(records.map((record) => record.requestMetadata?.tenantId).filter((id): id is string => id !== undefined))];
    budgets = await setSampleBudgets(stack, tenants);
    await writeSampleMarker(dataDir, {
      sample: true,
      complete: true,
      seededAt: new Date(NOW).toISOString(),
      from: new Date(NOW - SAMPLE_HISTORY_DAYS * DAY_MS).toISOString(),
      to: new Date(NOW).toISOString(),
      days: SAMPLE_HISTORY_DAYS,
      records: records.length,
      tenants: TENANTS,
      seed: "sample-history-test",
      budgets,
      hint: SAMPLE_DATA_HINT,
    });
    // The duration, for the report: records and seconds.
    process.stderr.write(`sample history: ${seeded.records} records through the pipeline in ${seeded.seconds} s\n`);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("takes a new data dir for an empty one, and counts every generated record into the aggregates", async () => {
    expect(fresh).toBe(true);
    expect(seeded.records).toBe(records.length);
    expect(progress.at(-1)).toBe(records.length);
    expect(progress.length).toBeGreaterThanOrEqual(SAMPLE_HISTORY_DAYS);
    // The aggregates: per tenant and month, the distinct invocations the pricer attributes.
    const expected = new Map<string, number>();
    for (const record of records) {
      const parsed = parseInvocationLog(record);
      if (!parsed.ok) throw new Error(parsed.reason);
      const { tenant_id, event_time } = pricer.price(parsed.log).record;
      const key = `${tenant_id}|${event_time.slice(0, 7)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    let counted = 0;
    for (const [key, invocations] of expected) {
      const [tenantId, month] = key.split("|") as [string, string];
      const total = await stack.store.monthTotal(tenantId, month);
      expect(total?.invocations, key).toBe(invocations);
      counted += total?.invocations ?? 0;
    }
    expect(counted).toBe(records.length);
    expect(stack.stats.counted).toBe(records.length);
  });

  it("delivers the same records to the lake, over 30 days up to now, with per-class costs that add up to the cost", async () => {
    const { rows } = await stack.athena.query(
      `SELECT count(*) AS n, count(DISTINCT request_id) AS ids, min(event_time) AS first, max(event_time) AS last, count(DISTINCT CAST(event_time AS DATE)) AS days,
        CAST(SUM(cost_usd) AS VARCHAR) AS cost, CAST(SUM(input_cost_usd + output_cost_usd + cache_read_cost_usd + cache_write_cost_usd) AS VARCHAR) AS by_class,
        count(*) FILTER (WHERE status = 'priced' AND input_cost_usd IS NULL) AS unsplit FROM invocations`,
    );
    const row = rows[0] as Record<string, unknown>;
    expect(Number(row.n)).toBe(records.length);
    expect(Number(row.ids)).toBe(records.length);
    expect(Date.parse(String(row.first))).toBeGreaterThanOrEqual(NOW - SAMPLE_HISTORY_DAYS * DAY_MS);
    expect(Date.parse(String(row.last))).toBeLessThanOrEqual(NOW);
    expect(Number(row.days)).toBeGreaterThanOrEqual(SAMPLE_HISTORY_DAYS);
    expect(parseUsd(String(row.by_class))).toBe(parseUsd(String(row.cost)));
    expect(Number(row.unsplit)).toBe(0);
    // The dashboard shows cost by class in USD.
    const dashboard = await stack.dashboardData().dashboard({ year: null, month: null, tenant: null, model: null });
    expect(dashboard.byTokenClass.every((entry) => entry.costUsd !== null)).toBe(true);
    expect(dashboard.costOverTime.length).toBeGreaterThanOrEqual(SAMPLE_HISTORY_DAYS);
  });

  it("sets budgets the month has crossed a threshold of, and the alerts feed shows their alerts", async () => {
    expect(budgets.length).toBeGreaterThan(0);
    const month = utcMonthOf(NOW);
    for (const budget of budgets) {
      const spend = (await stack.store.monthTotal(budget.tenantId, month))?.costPico ?? 0n;
      const monthly = parseUsd(budget.monthlyUsd) as bigint;
      expect(spend * 100n).toBeGreaterThanOrEqual(monthly * 80n);
      expect(spend).toBeLessThan(monthly);
      expect(await stack.store.getBudget(budget.tenantId)).toEqual({ monthlyUsd: budget.monthlyUsd, thresholds: budget.thresholds });
    }
    const alerts = await stack.dashboardData().alerts();
    const tenants = new Set(budgets.map((budget) => budget.tenantId));
    expect(alerts.filter((alert) => tenants.has(alert.tenantId) && alert.kind === "threshold").length).toBeGreaterThanOrEqual(budgets.length);
  });

  it("marks the data dir as sample data, and never takes it for an empty one again", async () => {
    const marker = await readSampleMarker(dataDir);
    expect(marker).toMatchObject({ sample: true, complete: true, days: SAMPLE_HISTORY_DAYS, records: records.length });
    expect(await isFreshDataDir(dataDir)).toBe(false);
  });

  it("takes a data dir a stack ran on, or with a marker, as not empty; a lock file alone as empty", async () => {
    const lockOnly = join(root, "lock-only");
    await mkdir(lockOnly, { recursive: true });
    await writeFile(join(lockOnly, ".lock"), "{}");
    expect(await isFreshDataDir(lockOnly)).toBe(true);
    expect(await isFreshDataDir(join(root, "missing"))).toBe(true);
    const markerOnly = join(root, "marker-only");
    await mkdir(markerOnly, { recursive: true });
    await writeFile(join(markerOnly, "sample-data.json"), '{"sample":true}');
    expect(await isFreshDataDir(markerOnly)).toBe(false);
    const lakeOnly = join(root, "lake-only");
    await mkdir(join(lakeOnly, "lake", "usage"), { recursive: true });
    expect(await isFreshDataDir(lakeOnly)).toBe(false);
  });
});
