import { fixedClock } from "@bedrock-spend/core";
import { describe, expect, it } from "vitest";
import { DASHBOARD_TOP_N, type DashboardFilters, OTHER_KEY } from "../src/index";
import { classCosts, usage } from "./helpers/fixtures";
import { createMemoryDashboardData } from "./reference/memory-data";

const ALL: DashboardFilters = { year: null, month: null, tenant: null, model: null };

describe("in-memory dashboard data", () => {
  it("sums costs exactly, to the pico-dollar", async () => {
    const data = createMemoryDashboardData();
    // 1,000 invocations of 0.1 micro-dollar each plus one of 1 pico-dollar: floats would drift.
    for (let n = 0; n < 1000; n++) data.add({ ...usage(`r${n}`, { tenant: "acme", time: "2026-11-01T00:00:00.000Z" }), cost_usd: "0.0000001" });
    data.add({ ...usage("tiny", { tenant: "acme", time: "2026-11-01T00:00:00.000Z" }), cost_usd: "0.000000000001" });
    const answer = await data.dashboard(ALL);
    expect(answer.kpis.costUsd).toBe("0.000100000001");
    expect(answer.costOverTime[0]?.costUsd).toBe("0.000100000001");
  });

  it("counts each request id once", async () => {
    const data = createMemoryDashboardData();
    const record = usage("same", { tenant: "acme", time: "2026-11-01T00:00:00.000Z" });
    data.add(record, record);
    data.add(record);
    expect(data.size).toBe(1);
    expect((await data.dashboard(ALL)).kpis.invocations).toBe(1);
  });

  it("keeps the top tenants and sums the others into one row", async () => {
    const data = createMemoryDashboardData();
    for (let n = 0; n < DASHBOARD_TOP_N + 5; n++) {
      data.add(usage(`t${n}`, { tenant: `tenant-${String(n).padStart(2, "0")}`, time: "2026-11-01T00:00:00.000Z", input: 1000 + n, output: 0 }));
    }
    const rows = (await data.dashboard(ALL)).byTenant;
    expect(rows).toHaveLength(DASHBOARD_TOP_N + 1);
    expect(rows[0]?.key).toBe("tenant-14");
    const other = rows[DASHBOARD_TOP_N];
    expect(other).toMatchObject({ key: OTHER_KEY, other: true, otherCount: 5, invocations: 5, inputTokens: 1000 * 5 + (0 + 1 + 2 + 3 + 4) });
    expect(rows.slice(0, DASHBOARD_TOP_N).every((row) => row.other === undefined)).toBe(true);
  });

  it("files records without a group or department under (none), and unresolved models by their logged id", async () => {
    const data = createMemoryDashboardData();
    data.add({
      ...usage("x", { tenant: "acme", time: "2026-11-01T00:00:00.000Z", group: null, department: null }),
      model: null,
      model_id: "arn:aws:bedrock:us-east-1:1:application-inference-profile/abc",
    });
    const answer = await data.dashboard(ALL);
    expect(answer.byTenantGroup.map((row) => row.key)).toEqual(["(none)"]);
    expect(answer.byDepartment.map((row) => row.key)).toEqual(["(none)"]);
    expect(answer.byModel.map((row) => row.key)).toEqual(["unresolved:arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"]);
    expect((await data.filters()).models).toEqual(["unresolved:arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"]);
  });

  it("splits cost by token class only when every priced record has a split", async () => {
    const split = createMemoryDashboardData({ classCosts });
    split.add(usage("a", { tenant: "acme", time: "2026-11-01T00:00:00.000Z", input: 1000, output: 100 }));
    expect((await split.dashboard(ALL)).byTokenClass.map((row) => row.costUsd)).toEqual(["0.001000", "0.000500", "0.000000", "0.000000"]);
    // The per-class cost columns by default; a record written before them has none.
    const columns = createMemoryDashboardData();
    columns.add(usage("a", { tenant: "acme", time: "2026-11-01T00:00:00.000Z", input: 1000, output: 100 }));
    expect((await columns.dashboard(ALL)).byTokenClass.map((row) => row.costUsd)).toEqual(["0.001000", "0.000500", "0.000000", "0.000000"]);
    const none = createMemoryDashboardData();
    none.add({
      ...usage("a", { tenant: "acme", time: "2026-11-01T00:00:00.000Z", input: 1000, output: 100 }),
      input_cost_usd: null,
      output_cost_usd: null,
      cache_read_cost_usd: null,
      cache_write_cost_usd: null,
    });
    expect((await none.dashboard(ALL)).byTokenClass).toEqual([
      { tokenClass: "input", tokens: 1000, costUsd: null },
      { tokenClass: "output", tokens: 100, costUsd: null },
      { tokenClass: "cacheRead", tokens: 0, costUsd: null },
      { tokenClass: "cacheWrite", tokens: 0, costUsd: null },
    ]);
  });

  it("fires an alert once, whatever the number of deliveries", async () => {
    const data = createMemoryDashboardData({ now: fixedClock("2026-11-20T00:00:00.000Z") });
    const alert = { kind: "threshold", threshold: 80, tenantId: "a#b", month: "2026-11", spendUsd: "8", budgetUsd: "10.00", forecastUsd: "12" } as const;
    expect(data.addAlert(alert).alertId).toBe("a%23b#2026-11#080");
    data.addAlert(alert, new Date("2026-11-21T00:00:00.000Z"));
    const alerts = await data.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.firedAt).toBe("2026-11-20T00:00:00.000Z");
  });

  it("answers the spend API's store from the same records", async () => {
    const data = createMemoryDashboardData();
    data.add(
      usage("a", { tenant: "acme", time: "2026-11-01T10:00:00.000Z", input: 1000, output: 100 }),
      usage("b", { tenant: "acme", time: "2026-11-02T10:00:00.000Z", input: 1000, output: 100 }),
      usage("c", { tenant: "acme", time: "2026-12-01T10:00:00.000Z", input: 1000, output: 100 }),
    );
    expect((await data.spendStore.monthTotalTimed("acme", "2026-11"))?.counters).toMatchObject({ invocations: 2, costPico: 3_000_000_000n });
    expect(await data.spendStore.monthTotalTimed("acme", "2026-10")).toBeUndefined();
    expect((await data.spendStore.dayModelRows("acme", { day: "2026-11-02" })).map((row) => row.day)).toEqual(["2026-11-02"]);
    expect(await data.spendStore.tenantExists("acme")).toBe(true);
    expect(await data.spendStore.tenantExists("globex")).toBe(false);
    await data.spendStore.putBudget("globex", { monthlyUsd: "5.00", thresholds: [80] });
    expect(await data.spendStore.tenantExists("globex")).toBe(true);
    expect(await data.spendStore.getBudget("globex")).toEqual({ monthlyUsd: "5.00", thresholds: [80] });
    expect(await data.spendStore.deleteBudget("globex")).toBe(true);
  });
});
