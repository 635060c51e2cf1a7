/**
 * The local stack end to end, on its own data dir: generated traffic goes on the stream as
 * CloudWatch Logs subscription payloads, and the aggregates (DynamoDB Local), the lake (Parquet
 * through LocalAthena), the dashboard views and the dashboard data must all agree with the ground
 * truth computed with the pricer from the distinct request ids, to the token and the pico-dollar;
 * with chaos too; and a restart on the same data dir keeps everything and counts nothing twice.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultCatalog,
  fixedClock,
  formatUsd,
  Pricer,
  parseInvocationLog,
  parseUsd,
  type SpendTotals,
  StaticProfileMap,
  type UsageRecord,
} from "@bedrock-spend/core";
import type { DashboardFilters } from "@bedrock-spend/dashboard";
import { createMemoryDashboardData } from "@bedrock-spend/dashboard/reference";
import { scanAlerts } from "@bedrock-spend/store";
import { APPLICATION_PROFILES, generateTraffic, gzipStable, type TrafficItem, tenantAt, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStack, type StackLog } from "../src/local-stack";
import { dynamoDbLocalPids } from "../src/lock";

const profiles = StaticProfileMap.fromJson(APPLICATION_PROFILES);
const pricer = new Pricer({ catalog: defaultCatalog(), profiles });
const TENANTS = 12;

type Totals = SpendTotals;

/** The ground truth: distinct invocations by request id, priced by the pricer. */
function truthOf(items: Iterable<TrafficItem>) {
  const records = new Map<string, { record: UsageRecord; costPico: bigint | null }>();
  let malformed = 0;
  for (const item of items) {
    if (item.kind === "malformed") malformed++;
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (!parsed.ok) throw new Error(parsed.reason);
    const priced = pricer.price(parsed.log);
    if (!records.has(priced.record.request_id)) records.set(priced.record.request_id, { record: priced.record, costPico: priced.costPico });
  }
  const byTenantMonth = new Map<string, Totals & { costPico: bigint }>();
  for (const { record, costPico } of records.values()) {
    const key = `${record.tenant_id}|${record.event_time.slice(0, 7)}`;
    const sum = byTenantMonth.get(key) ?? {
      invocations: 0,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "",
      costPico: 0n,
    };
    sum.invocations++;
    if (costPico === null) sum.unpricedInvocations++;
    sum.inputTokens += record.input_tokens;
    sum.outputTokens += record.output_tokens;
    sum.cacheReadTokens += record.cache_read_tokens;
    sum.cacheWriteTokens += record.cache_write_tokens;
    sum.costPico += costPico ?? 0n;
    sum.costUsd = formatUsd(sum.costPico);
    byTenantMonth.set(key, sum);
  }
  const expected = new Map<string, Totals>([...byTenantMonth].map(([key, { costPico: _pico, ...totals }]) => [key, totals]));
  return { records: [...records.values()].map((entry) => entry.record), expected, malformed };
}

function payloadsOf(items: Iterable<TrafficItem>, firstSequence = 0): Buffer[] {
  return [...toSubscriptionPayloads(items, { eventsPerPayload: 25, firstSequence })].map((payload) => gzipStable(JSON.stringify(payload)));
}

/** A tenant x month -> totals map from SQL rows (`cost_usd` exact decimal text, re-formatted as the aggregates format it). */
function totalsFromRows(rows: Record<string, unknown>[]): Map<string, Totals> {
  return new Map(
    rows.map((row) => [
      `${row.tenant_id}|${row.period}`,
      {
        invocations: Number(row.invocations),
        unpricedInvocations: Number(row.unpriced_invocations),
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
        cacheReadTokens: Number(row.cache_read_tokens),
        cacheWriteTokens: Number(row.cache_write_tokens),
        costUsd: formatUsd(parseUsd(String(row.cost_usd ?? "0")) ?? -1n),
      },
    ]),
  );
}

const LAKE_TOTALS_SQL = `SELECT tenant_id, strftime(event_time, '%Y-%m') AS period, COUNT(*) AS invocations,
  CAST(SUM(CASE WHEN status = 'unpriced' THEN 1 ELSE 0 END) AS BIGINT) AS unpriced_invocations,
  CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, CAST(SUM(output_tokens) AS BIGINT) AS output_tokens,
  CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read_tokens, CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
  SUM(cost_usd) AS cost_usd
FROM invocations GROUP BY 1, 2`;

const VIEW_TOTALS_SQL = `SELECT tenant_id, period, invocations, unpriced_invocations, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd
FROM spend_by_tenant_month`;

/** Checks aggregates, lake and views against the truth. */
async function expectAgreement(stack: LocalStack, truth: ReturnType<typeof truthOf>): Promise<void> {
  // Aggregates: every tenant x month total, from DynamoDB Local
  const aggregates = new Map<string, Totals>();
  for (const key of truth.expected.keys()) {
    const [tenantId, month] = key.split("|") as [string, string];
    const counters = await stack.store.monthTotal(tenantId, month);
    if (!counters) continue;
    const { costPico, ...counts } = counters;
    aggregates.set(key, { ...counts, costUsd: formatUsd(costPico) });
  }
  expect(aggregates).toEqual(truth.expected);
  // Lake: the Parquet rows, one per distinct invocation
  const lake = await stack.athena.query(LAKE_TOTALS_SQL);
  expect(totalsFromRows(lake.rows)).toEqual(truth.expected);
  const distinct = await stack.athena.query("SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM invocations");
  expect(distinct.rows[0]).toEqual({ n: truth.records.length, d: truth.records.length });
  // Views: the dashboard view made for reconciliation. It groups by the lake's partitions, which
  // are the payload's day (a payload across midnight is one Firehose record): compared by tenant.
  const view = await stack.athena.query(VIEW_TOTALS_SQL);
  expect(byTenant(totalsFromRows(view.rows))).toEqual(byTenant(truth.expected));
}

/** Tenant x month totals summed over the months. */
function byTenant(totals: Map<string, Totals>): Map<string, Totals> {
  const sums = new Map<string, Totals & { pico: bigint }>();
  for (const [key, value] of totals) {
    const tenantId = key.split("|")[0] as string;
    const sum = sums.get(tenantId) ?? {
      ...value,
      invocations: 0,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      pico: 0n,
    };
    sum.invocations += value.invocations;
    sum.unpricedInvocations += value.unpricedInvocations;
    sum.inputTokens += value.inputTokens;
    sum.outputTokens += value.outputTokens;
    sum.cacheReadTokens += value.cacheReadTokens;
    sum.cacheWriteTokens += value.cacheWriteTokens;
    sum.pico += parseUsd(value.costUsd) ?? 0n;
    sums.set(tenantId, sum);
  }
  return new Map([...sums].map(([tenantId, { pico, ...rest }]) => [tenantId, { ...rest, costUsd: formatUsd(pico) }]));
}

function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "bedrock-spend-stack-"));
}

const FIRST = [
  ...generateTraffic({
    seed: 5,
    count: 600,
    tenants: TENANTS,
    malformedFraction: 0.01,
    unpricedFraction: 0.02,
    // Across midnight at the end of a month: two months, two days.
    start: "2026-11-30T23:57:30Z",
    ratePerSecond: 2,
    bodyBytes: 256,
  }),
];
const SECOND = [
  ...generateTraffic({ seed: 6, count: 200, tenants: TENANTS, start: "2026-12-01T08:00:00Z", ratePerSecond: 5, bodyBytes: 256, permissionsLine: false }),
];
const TOP_TENANT = tenantAt(0, TENANTS).tenantId;
/** The stacks' clock: just after the traffic, so that alerts and the dashboard do not depend on the day the tests run. */
const clock = fixedClock("2026-12-01T09:00:00Z");

describe("LocalStack", () => {
  const dataDir = tempDataDir();
  const logs: StackLog[] = [];
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ dataDir, profiles, clock, handleSignals: false, batchSize: 7, onLog: (log) => logs.push(log) });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts, lakes and views generated traffic exactly as the ground truth, and fires the budget's alerts", async () => {
    // Prepare: a budget the top tenant's spend exceeds
    await stack.store.putBudget(TOP_TENANT, { monthlyUsd: "0.01", thresholds: [50, 100] });
    const truth = truthOf(FIRST);

    // Act: the payloads, some of them delivered twice
    const payloads = payloadsOf(FIRST);
    await stack.putPayloads(payloads);
    await stack.putPayloads(payloads.slice(0, 5));
    await stack.drain();

    // Assess: aggregates, lake and views against the truth; nothing lost
    await expectAgreement(stack, truth);
    expect(stack.stats).toMatchObject({ counted: truth.records.length, failedBatches: 0, lakeErrors: 0 });
    expect(stack.stats.duplicates).toBeGreaterThan(0);
    expect(stack.stats.lakeDuplicates).toBeGreaterThan(0);
    const quarantined = readdirSync(join(dataDir, "quarantine")).flatMap((file) =>
      readFileSync(join(dataDir, "quarantine", file), "utf8")
        .split("\n")
        .filter(Boolean),
    );
    expect(quarantined).toHaveLength(truth.malformed);
    // Alerts: each threshold once per month, in the table and in the stack's feed
    const fired = (await scanAlerts(stack.dynamoDb, stack.tableName)).filter((alert) => alert.tenantId === TOP_TENANT && alert.kind === "threshold");
    expect(fired.map((alert) => `${alert.month}:${alert.threshold}`).sort()).toEqual(["2026-11:100", "2026-11:50", "2026-12:100", "2026-12:50"]);
    expect(stack.alerts().filter((alert) => alert.tenantId === TOP_TENANT && alert.kind === "threshold")).toHaveLength(4);
    expect(logs.filter((log) => log.level !== "info")).toEqual([]);
  });

  it("gives the dashboard the same answers from DuckDB as the reference implementation over the records", async () => {
    // Prepare: the reference over the truth's records
    const truth = truthOf(FIRST);
    const memory = createMemoryDashboardData();
    memory.add(...truth.records);
    const data = stack.dashboardData();
    const models = (await memory.filters()).models;
    const selections: DashboardFilters[] = [
      { year: null, month: null, tenant: null, model: null },
      { year: 2026, month: 11, tenant: null, model: null },
      { year: 2026, month: 12, tenant: TOP_TENANT, model: null },
      { year: null, month: null, tenant: null, model: models[0] as string },
      { year: null, month: 12, tenant: "unattributed", model: null },
      { year: 2025, month: null, tenant: null, model: null },
      { year: null, month: null, tenant: "nobody's", model: null },
    ];

    // Act / Assess
    expect(await data.filters()).toEqual(await memory.filters());
    for (const filters of selections) {
      const { generatedAt: _local, ...local } = await data.dashboard(filters);
      const { generatedAt: _reference, ...reference } = await memory.dashboard(filters);
      expect(local, JSON.stringify(filters)).toEqual(reference);
    }
  });

  it("after a restart on the same data dir keeps the data, resumes from its checkpoints and counts nothing twice", async () => {
    // Prepare: the stack stopped (its JVM gone) and started again
    await stack.stop();
    await stack.stop();
    expect(dynamoDbLocalPids(join(dataDir, "dynamodb"))).toEqual([]);
    stack = await LocalStack.start({ dataDir, profiles, clock, handleSignals: false, batchSize: 7, onLog: (log) => logs.push(log) });
    await expectAgreement(stack, truthOf(FIRST));

    // Act: the first traffic again (a re-ingest) and new traffic
    await stack.putPayloads(payloadsOf(FIRST));
    await stack.putPayloads(payloadsOf(SECOND, 10_000));
    await stack.drain();

    // Assess: nothing read twice from the stream, nothing counted twice
    const truth = truthOf([...FIRST, ...SECOND]);
    await expectAgreement(stack, truth);
    expect(stack.stats.streamRecords).toBe(payloadsOf(FIRST).length + payloadsOf(SECOND, 10_000).length);
    expect(stack.stats.counted).toBe(truthOf(SECOND).records.length);
  });
});

describe("LocalStack with chaos", () => {
  const dataDir = tempDataDir();
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ dataDir, profiles, clock, handleSignals: false, batchSize: 7, chaos: 0.3, chaosSeed: 7 });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("still agrees with the ground truth under throttling, crashes after writes and duplicate deliveries", async () => {
    // Prepare
    const truth = truthOf([...FIRST, ...SECOND]);

    // Act: everything, then everything again (a re-ingest)
    for (let pass = 0; pass < 2; pass++) {
      await stack.putPayloads(payloadsOf(FIRST));
      await stack.putPayloads(payloadsOf(SECOND, 10_000));
      await stack.drain();
    }

    // Assess: the faults happened, and exactly once held everywhere
    const chaos = stack.stats.chaos;
    // (Which faults fire depends on how the rounds fall: each kind at a tenth of the rate.)
    expect((chaos?.throttled ?? 0) + (chaos?.crashesAfterWrite ?? 0)).toBeGreaterThan(0);
    expect((chaos?.duplicatedBatches ?? 0) + (chaos?.duplicatedPayloads ?? 0) + (chaos?.firehoseRedeliveries ?? 0)).toBeGreaterThan(0);
    // (The writer's own count misses the writes that "crashed" after committing: the table is the truth.)
    expect(stack.stats).toMatchObject({ failedBatches: 0, lakeErrors: 0 });
    await expectAgreement(stack, truth);
  });
});
