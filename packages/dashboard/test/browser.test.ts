/**
 * The dashboard in a real browser: Debian's headless Chromium driven by playwright-core, against
 * the real server over an in-memory data source that the test changes while the page is open.
 * Writes test-output/dashboard.png (1440x900, full page) and test-output/dashboard-1280x800.png.
 *
 * Time is pinned: the server and the data run on a fixed clock, and the browser's own clock is
 * set to another year, so the page must take "today" and "this month" from the server. The page
 * is also opened at the edges of months (first and last second, 29 February, 31 December).
 * The "Bill vs logs" panel is checked against a reconciliation file with known numbers, written
 * into a data dir while the page is open (test-output/dashboard-reconcile.png).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Clock, fixedClock, utcMonthOf } from "@bedrock-spend/core";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDashboardServer,
  type DashboardFilters,
  type DashboardServer,
  reconcileFileOf,
  reconcileFileSource,
  type SampleDataInfo,
  type TenantLookup,
} from "../src/index";
import { memoryStack, usage, workload } from "./helpers/fixtures";
import { getJson } from "./helpers/http";
import { KNOWN_SNAPSHOT, NOVA, SONNET, writeReconcileFile } from "./helpers/reconcile";
import { expectedUsd } from "./helpers/usd-oracle";

const CHROMIUM = process.env.BEDROCK_SPEND_CHROMIUM ?? "/usr/bin/chromium";
const OUTPUT_DIR = fileURLToPath(new URL("../../../test-output/", import.meta.url));
/** New traffic must show within this long, without a reload. */
const FRESHNESS_MS = 2000;

/** The server's and the data's clock. */
const NOW = Date.parse("2026-11-20T15:30:00.000Z");
const clock: Clock = fixedClock(NOW);
/** The browser's clock: another year and month, which the page must not use for "today". */
const BROWSER_TIME = "2031-06-15T12:00:00.000Z";
const MONTH = utcMonthOf(NOW);
const { data, spendApi } = memoryStack({ now: clock, records: workload({ now: new Date(NOW - 60_000), count: 2500 }) });
const SELECTED: DashboardFilters = { year: Number(MONTH.slice(0, 4)), month: Number(MONTH.slice(5, 7)), tenant: null, model: null };

let server: DashboardServer;
let origin: string;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let acmeBudget: string;

/** Everything the browser did that a clean page never does. */
const problems: string[] = [];
const requests: string[] = [];
let navigations = 0;

function watch(target: Page): void {
  target.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  target.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  target.on("requestfailed", (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  target.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
}

/** How the page must show an exact amount (an oracle independent of the page's code). */
const usdText = expectedUsd;

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const text = async (selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? "";

/** Waits until the element's text is `expected`; returns how long it took. */
async function untilText(selector: string, expected: string, timeout: number): Promise<number> {
  const started = performance.now();
  await page.waitForFunction(
    ([css, want]) =>
      (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(css)?.textContent === want,
    [selector, expected] as const,
    { timeout, polling: 50 },
  );
  return performance.now() - started;
}

interface ChartState {
  name: string;
  rendered: number;
  points: number;
  nonZero: number;
  painted: number;
}

/** Each chart's ECharts series data and the pixels its canvas painted. */
function chartStates(): Promise<ChartState[]> {
  return page.evaluate(`[...document.querySelectorAll("[data-chart]")].map((element) => {
    const chart = echarts.getInstanceByDom(element);
    const series = chart.getOption().series[0];
    const values = series.data.map((item) => (item !== null && typeof item === "object" ? item.value : item));
    const canvas = element.querySelector("canvas");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] > 0 && !(pixels[i] > 245 && pixels[i + 1] > 245 && pixels[i + 2] > 245)) painted++;
    }
    return { name: element.dataset.chart, rendered: Number(element.dataset.rendered), points: values.length, nonZero: values.filter((v) => Number(v) > 0).length, painted };
  })`) as Promise<ChartState[]>;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need it (apt-get install -y chromium, or scripts/setup.sh; BEDROCK_SPEND_CHROMIUM overrides the path)`,
    );
  }
  const acme = await data.dashboard({ ...SELECTED, tenant: "acme" });
  // A budget the month-to-date spend has passed half of: the 50% threshold shows as reached.
  acmeBudget = (Math.ceil(Number(acme.kpis.costUsd) * 1.6 * 100) / 100).toFixed(2);
  await data.spendStore.putBudget("acme", { monthlyUsd: acmeBudget, thresholds: [50, 80, 100] });
  data.addAlert(
    { kind: "threshold", threshold: 50, tenantId: "acme", month: MONTH, spendUsd: acme.kpis.costUsd, budgetUsd: acmeBudget, forecastUsd: acme.kpis.costUsd },
    new Date(NOW - 3_600_000),
  );
  data.addAlert(
    { kind: "forecast", threshold: null, tenantId: "globex", month: MONTH, spendUsd: "41.20", budgetUsd: "50.00", forecastUsd: "63.75" },
    new Date(NOW - 600_000),
  );

  server = createDashboardServer({ data, spendApi, now: clock, onError: (error) => problems.push(`server error: ${String(error)}`) });
  origin = (await server.listen(0)).url.replace(/\/$/, "");

  userDataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: CHROMIUM_ARGS,
  });
  await context.clock.setFixedTime(BROWSER_TIME);
  context.on("request", (request) => requests.push(request.url()));
  page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  await page.goto(`${origin}/`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 15_000 });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe("dashboard in headless Chromium", () => {
  it("opens on the latest month, with the filters in the URL and populated from the data", async () => {
    const url = new URL(page.url());
    expect(url.searchParams.get("year")).toBe(String(SELECTED.year));
    expect(url.searchParams.get("month")).toBe(String(SELECTED.month));
    const filters = await data.filters();
    const tenantOptions = await page.locator("#f-tenant option").evaluateAll((options) => options.map((option) => option.getAttribute("value")));
    expect(tenantOptions).toEqual(["", ...filters.tenants]);
    const modelOptions = await page.locator("#f-model option").count();
    expect(modelOptions).toBe(filters.models.length + 1);
    expect(await page.locator("#f-year option").count()).toBe(filters.years.length + 1);
  });

  it("shows the month's KPIs", async () => {
    const expected = await data.dashboard(SELECTED);
    expect(await text("#kpi-cost-value")).toBe(usdText(expected.kpis.costUsd));
    expect(await page.locator("#kpi-cost-value").getAttribute("title")).toBe(`Exact: $${expected.kpis.costUsd}`);
    expect(await text("#kpi-invocations-value")).toBe(expected.kpis.invocations.toLocaleString("en-US"));
    expect(await text("#kpi-tokens-value")).toBe(expected.kpis.totalTokens.toLocaleString("en-US"));
    expect(await text("#kpi-unpriced-value")).toBe(expected.kpis.unpricedInvocations.toLocaleString("en-US"));
    expect(expected.kpis.unpricedInvocations).toBeGreaterThan(0);
  });

  it("renders each of the six charts with data", async () => {
    const charts = await chartStates();
    expect(charts.map((chart) => chart.name).sort()).toEqual(["byDepartment", "byModel", "byTenant", "byTenantGroup", "byTokenClass", "costOverTime"]);
    for (const chart of charts) {
      expect(chart.rendered, `${chart.name} finished rendering`).toBeGreaterThan(0);
      expect(chart.points, `${chart.name} has data`).toBeGreaterThan(0);
      expect(chart.nonZero, `${chart.name} has non-zero values`).toBeGreaterThan(0);
      expect(chart.painted, `${chart.name} painted its canvas`).toBeGreaterThan(2000);
    }
    const expected = await data.dashboard(SELECTED);
    const byName = new Map(charts.map((chart) => [chart.name, chart]));
    expect(byName.get("byTenant")?.points).toBe(expected.byTenant.length);
    expect(byName.get("byModel")?.points).toBe(expected.byModel.length);
    expect(byName.get("byDepartment")?.points).toBe(expected.byDepartment.length);
    expect(byName.get("byTokenClass")?.points).toBe(4);
  });

  it("ranks the month's tenants, then models, by cost as the spend API does (GET /v1/spend), ten at most", async () => {
    // Prepare: the API's own report, over HTTP.
    const report = async (groupBy: string) =>
      (await (await fetch(`${origin}/v1/spend?month=${MONTH}&groupBy=${groupBy}&limit=10`)).json()) as { groups: { key: string; costUsd: string }[] };
    const rankRows = () =>
      page
        .locator("#rank-table tbody tr")
        .evaluateAll((rows) => rows.map((row) => [row.getAttribute("data-key"), row.querySelectorAll("td")[4]?.textContent ?? ""]));
    const tenants = await report("tenant");
    expect(tenants.groups).toHaveLength(10);
    await page.waitForSelector("#rank[data-state=loaded]", { timeout: 5000 });

    // Act
    const shownTenants = await rankRows();
    const heading = await page.locator("#rank-table thead th").allTextContents();
    await page.selectOption("#rank-by", "model");
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(
          "#rank-table thead th:nth-child(2)",
        )?.textContent === "Model",
      undefined,
      { timeout: 5000 },
    );
    const shownModels = await rankRows();
    const models = await report("model");
    await page.selectOption("#rank-by", "tenant");

    // Assess: the API's order (cost, highest first), its keys, its costs as the page formats money.
    expect(heading).toEqual(["#", "Tenant", "Invocations", "Tokens", "Cost"]);
    expect(shownTenants).toEqual(tenants.groups.map((group) => [group.key, usdText(group.costUsd)]));
    expect(shownModels).toEqual(models.groups.map((group) => [group.key, usdText(group.costUsd)]));
    const costs = tenants.groups.map((group) => Number(group.costUsd));
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
  });

  it("shows the Model performance panel: per model, invocations, error and throttle rates, p50/p90/p99 and tokens/s", async () => {
    // Prepare: the page's formats, written independently of it.
    const rate = (value: number) => `${(value * 100).toFixed(2)}%`;
    const latency = (ms: number | null) => (ms === null ? "–" : ms < 1000 ? `${ms.toLocaleString("en-US")} ms` : `${(ms / 1000).toFixed(2)} s`);
    const expected = await data.performance(SELECTED);
    expect(expected.some((row) => row.throttles > 0)).toBe(true);
    await page.waitForSelector("#perf[data-state=loaded]", { timeout: 5000 });

    // Act
    const shown = await page
      .locator("#perf-table tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.getAttribute("data-model"),
          ...Array.from(row.querySelectorAll("td"), (cell: { textContent: string | null }) => cell.textContent ?? ""),
        ]),
      );

    // Assess
    expect(shown).toEqual(
      expected.map((row) => [
        row.model,
        row.invocations.toLocaleString("en-US"),
        rate(row.errorRate),
        rate(row.throttleRate),
        latency(row.latencyP50Ms),
        latency(row.latencyP90Ms),
        latency(row.latencyP99Ms),
        row.outputTokensPerSecond === null ? "–" : row.outputTokensPerSecond.toFixed(1),
      ]),
    );
    expect(await page.locator("#perf-table thead th").allTextContents()).toEqual([
      "Model",
      "Invocations",
      "Errors",
      "Throttles",
      "p50",
      "p90",
      "p99",
      "Tokens/s",
    ]);

    // A model filter narrows the panel to that model.
    const untilRows = (rows: number) =>
      page.waitForFunction(
        (wanted) =>
          (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("#perf-table tbody tr")
            .length === wanted,
        rows,
        { timeout: 5000 },
      );
    const model = expected[0]?.model as string;
    await page.selectOption("#f-model", model);
    await untilRows(1);
    expect(await page.locator("#perf-table tbody tr").getAttribute("data-model")).toBe(model);
    await page.selectOption("#f-model", "");
    await untilRows(expected.length);
  });

  it("changes the numbers when a filter changes, and keeps the filter in the URL", async () => {
    const before = await text("#kpi-cost-value");
    const globex = await data.dashboard({ ...SELECTED, tenant: "globex" });
    await page.selectOption("#f-tenant", "globex");
    await untilText("#kpi-cost-value", usdText(globex.kpis.costUsd), 5000);
    expect(await text("#kpi-cost-value")).not.toBe(before);
    expect(await text("#kpi-invocations-value")).toBe(globex.kpis.invocations.toLocaleString("en-US"));
    expect(new URL(page.url()).searchParams.get("tenant")).toBe("globex");
    await page.waitForFunction(`echarts.getInstanceByDom(document.getElementById("chart-tenant")).getOption().series[0].data.length === 1`, undefined, {
      timeout: 5000,
    });

    // The URL alone restores the selection.
    const second = await context.newPage();
    watch(second);
    await second.goto(page.url());
    await second.waitForSelector("body[data-ready=true]", { state: "attached" });
    expect(await second.locator("#f-tenant").inputValue()).toBe("globex");
    expect(await second.locator("#kpi-cost-value").textContent()).toBe(usdText(globex.kpis.costUsd));
    await second.close();

    const all = await data.dashboard(SELECTED);
    await page.selectOption("#f-tenant", "");
    await untilText("#kpi-cost-value", usdText(all.kpis.costUsd), 5000);
    expect(new URL(page.url()).searchParams.has("tenant")).toBe(false);
  });

  it("looks a tenant up: month spend against its budget, thresholds and forecast", async () => {
    await page.fill("#lookup-input", "acme");
    await page.click("#lookup-form button[type=submit]");
    await page.waitForSelector('#lookup-result[data-tenant="acme"]', { timeout: 5000 });
    const lookup = (await getJson<TenantLookup>(`${origin}/`, `/api/tenants/acme?month=${MONTH}`)).json;
    expect(lookup.budget?.monthlyUsd).toBe(acmeBudget);
    expect(await text('#lookup-result [data-field="spend"]')).toBe(usdText(lookup.spend.costUsd));
    expect(await text('#lookup-result [data-field="budget"]')).toBe(`of ${usdText(acmeBudget)} budget`);
    expect(await page.locator("#lookup-result .progress .tick").count()).toBe(3);
    expect(await page.locator("#lookup-result .progress .tick.reached").count()).toBeGreaterThanOrEqual(1);
    expect(await text("#lookup-result .facts")).toContain("Forecast month-end");
    expect(new URL(page.url()).searchParams.get("lookup")).toBe("acme");
  });

  it("shows new traffic within 2 s, without a reload", async () => {
    await page.evaluate("globalThis.__sameDocument = true");
    const navigationsBefore = navigations;
    const before = await data.dashboard(SELECTED);
    const lookupBefore = await text('#lookup-result [data-field="spend"]');
    const added = Array.from({ length: 7 }, (_, n) =>
      usage(`live-${n}`, { tenant: "acme", time: new Date(NOW).toISOString(), input: 40_000, output: 6_000, department: "sales", group: "enterprise" }),
    );
    data.add(...added);
    const after = await data.dashboard(SELECTED);
    expect(after.kpis.invocations).toBe(before.kpis.invocations + 7);

    const invocationsMs = await untilText("#kpi-invocations-value", after.kpis.invocations.toLocaleString("en-US"), FRESHNESS_MS);
    await untilText("#kpi-cost-value", usdText(after.kpis.costUsd), FRESHNESS_MS);
    expect(invocationsMs).toBeLessThanOrEqual(FRESHNESS_MS);
    // The open tenant lookup follows too (acme got the new calls).
    await page.waitForFunction(
      (previous) =>
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(
          '#lookup-result [data-field="spend"]',
        )?.textContent !== previous,
      lookupBefore,
      { timeout: FRESHNESS_MS },
    );
    expect(await page.evaluate("globalThis.__sameDocument")).toBe(true);
    expect(navigations).toBe(navigationsBefore);
  });

  it("shows an alert fired after the page loaded within 2 s", async () => {
    const alert = data.addAlert({
      kind: "threshold",
      threshold: 80,
      tenantId: "initech",
      month: MONTH,
      spendUsd: "80.000001",
      budgetUsd: "100.00",
      forecastUsd: "131.5",
    });
    const started = performance.now();
    const item = page.locator(`#alerts-feed li[data-alert-id="${alert.alertId}"]`);
    await item.waitFor({ timeout: FRESHNESS_MS });
    expect(performance.now() - started).toBeLessThanOrEqual(FRESHNESS_MS);
    // Fired today by the server's clock (not the browser's, in 2031): the time alone.
    expect(await item.locator("time").textContent()).toBe("15:30:00");
    expect(await item.textContent()).toContain("initech reached 80% of its budget");
    expect(await item.textContent()).toContain("$80.00 of $100.00");
    expect(await page.locator("#alerts-feed li").first().getAttribute("data-alert-id")).toBe(alert.alertId);
    expect(await text("#alerts-count")).toBe("3");
  });

  it("writes screenshots at 1440x900 and 1280x800", async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.mouse.move(0, 0);
    await page.waitForTimeout(300);
    const wide = join(OUTPUT_DIR, "dashboard.png");
    await page.screenshot({ path: wide, fullPage: true });
    expect(existsSync(wide)).toBe(true);

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.waitForTimeout(1200);
    const laptop = join(OUTPUT_DIR, "dashboard-1280x800.png");
    await page.screenshot({ path: laptop, fullPage: true });
    expect(existsSync(laptop)).toBe(true);
    // Nothing overflows the laptop viewport sideways.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(1280);
  });

  it("made no failed, erroring or external requests and logged no errors", () => {
    expect(problems).toEqual([]);
    expect(requests.length).toBeGreaterThan(10);
    const external = requests.filter((url) => !url.startsWith(`${origin}/`));
    expect(external).toEqual([]);
  });
});

/**
 * The edges of months: the last second of 31 December and of 29 February, and the first second
 * after each. The server's clock sits on the edge; the browser's stays in 2031.
 */
const EDGES = [
  { at: "2026-12-31T23:59:59.000Z", days: 31, yesterday: "Dec 30 23:59" },
  { at: "2027-01-01T00:00:00.000Z", days: 1, yesterday: "Dec 31 00:00" },
  { at: "2028-02-29T23:59:59.000Z", days: 29, yesterday: "Feb 28 23:59" },
  { at: "2028-03-01T00:00:00.000Z", days: 1, yesterday: "Feb 29 00:00" },
] as const;

describe.each(EDGES)("dashboard with the server's clock at $at", ({ at, days, yesterday }) => {
  const instant = Date.parse(at);
  const month = utcMonthOf(instant);
  const firstSecond = at.endsWith("T00:00:00.000Z");
  const edge = memoryStack({
    now: fixedClock(instant),
    records: [
      ...workload({ now: new Date(instant - 60_000), count: 300, seed: 11, prefix: `edge-${month}` }),
      // Calls at the very instant: the month has usage even in its first second.
      ...[0, 1, 2].map((n) => usage(`edge-${at}-${n}`, { tenant: "acme", time: at, input: 300_000, output: 20_000 })),
    ],
  });
  const edgeProblems: string[] = [];
  let edgeServer: DashboardServer;
  let edgePage: Page;
  let edgeOrigin: string;

  beforeAll(async () => {
    await edge.data.spendStore.putBudget("acme", { monthlyUsd: "1.00", thresholds: [50, 100] });
    const alert = { kind: "threshold", threshold: 100, tenantId: "acme", month, spendUsd: "1.5", budgetUsd: "1.00", forecastUsd: "1.5" } as const;
    edge.data.addAlert(alert, new Date(instant));
    edge.data.addAlert({ ...alert, threshold: 50, tenantId: "globex" }, new Date(instant - 86_400_000));
    edgeServer = createDashboardServer({
      data: edge.data,
      spendApi: edge.spendApi,
      now: fixedClock(instant),
      onError: (error) => edgeProblems.push(String(error)),
    });
    edgeOrigin = (await edgeServer.listen(0)).url.replace(/\/$/, "");
    edgePage = await context.newPage();
    edgePage.on("pageerror", (error) => edgeProblems.push(`page error: ${error.message}`));
    edgePage.on("console", (message) => {
      if (message.type() === "error") edgeProblems.push(`console error: ${message.text()}`);
    });
    await edgePage.goto(`${edgeOrigin}/?lookup=acme`);
    await edgePage.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 15_000 });
    await edgePage.waitForSelector('#lookup-result[data-tenant="acme"]', { timeout: 5000 });
  });

  afterAll(async () => {
    await edgePage?.close();
    await edgeServer?.close();
  });

  it("opens on the server's month and shows its KPIs", async () => {
    const url = new URL(edgePage.url());
    expect(`${url.searchParams.get("year")}-${url.searchParams.get("month")?.padStart(2, "0")}`).toBe(month);
    const expected = await edge.data.dashboard({ year: Number(month.slice(0, 4)), month: Number(month.slice(5, 7)), tenant: null, model: null });
    expect(expected.kpis.invocations).toBeGreaterThanOrEqual(3);
    expect(await edgePage.locator("#kpi-cost-value").textContent()).toBe(usdText(expected.kpis.costUsd));
    expect(await edgePage.locator("#kpi-invocations-value").textContent()).toBe(expected.kpis.invocations.toLocaleString("en-US"));
  });

  it(`draws the month's days up to the server's today (${days})`, async () => {
    await edgePage.waitForFunction(
      `echarts.getInstanceByDom(document.getElementById("chart-cost-time")).getOption().series[0].data.length === ${days}`,
      undefined,
      {
        timeout: 5000,
      },
    );
  });

  it(firstSecond ? "gives no forecast in the month's first second" : "forecasts the month-end as its spend in the last second", async () => {
    const lookup = (await getJson<TenantLookup>(`${edgeOrigin}/`, `/api/tenants/acme?month=${month}`)).json;
    expect(lookup.month).toBe(month);
    const facts = (await edgePage.locator("#lookup-result .facts").textContent()) ?? "";
    if (firstSecond) {
      expect(lookup.forecastUsd).toBeNull();
      expect(facts).toContain("too early in the month");
    } else {
      // One second before the end, the projection is the spend scaled by (month / (month - 1 s)).
      expect(lookup.forecastUsd).not.toBeNull();
      expect(facts).toContain(usdText(lookup.forecastUsd as string));
      expect(usdText(lookup.forecastUsd as string)).toBe(usdText(lookup.spend.costUsd));
    }
    expect(lookup.status).toBe("over");
  });

  it("dates alerts by the server's today: the time alone for today, the day for yesterday", async () => {
    const times = await edgePage.locator("#alerts-feed li time").allTextContents();
    expect(times).toEqual([at.slice(11, 19), yesterday]);
    expect(edgeProblems).toEqual([]);
  });
});

describe("the Bill vs logs panel in headless Chromium", () => {
  const stackWithBill = memoryStack({ now: clock, records: workload({ now: new Date(NOW - 60_000), count: 200, seed: 5, prefix: "recon" }) });
  const panelProblems: string[] = [];
  let panelServer: DashboardServer;
  let panelPage: Page;
  let dataDir: string;

  const panelText = async (selector: string) => (await panelPage.locator(selector).textContent()) ?? "";
  /** Each body row of a table: its key attribute, then the text of its first `cells` cells. */
  const tableRows = (selector: string, key: string, cells: number) =>
    panelPage
      .locator(`${selector} tbody tr`)
      .evaluateAll((rows, [name, count]) => rows.map((row) => [row.getAttribute(name), ...[...row.children].slice(0, count).map((cell) => cell.textContent)]), [
        key,
        cells,
      ] as const);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-reconcile-page-"));
    panelServer = createDashboardServer({
      data: stackWithBill.data,
      spendApi: stackWithBill.spendApi,
      reconciliation: reconcileFileSource(reconcileFileOf(dataDir)),
      now: clock,
      onError: (error) => panelProblems.push(`server error: ${String(error)}`),
    });
    const { url } = await panelServer.listen(0);
    panelPage = await context.newPage();
    panelPage.on("console", (message) => {
      if (message.type() === "error") panelProblems.push(`console error: ${message.text()}`);
    });
    panelPage.on("pageerror", (error) => panelProblems.push(`page error: ${error.message}`));
    panelPage.on("response", (response) => {
      if (response.status() >= 400) panelProblems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await panelPage.goto(url);
    await panelPage.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 15_000 });
  });

  afterAll(async () => {
    await panelPage?.close();
    await panelServer?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows what to run, and no figures, while the data dir holds no reconciliation", async () => {
    expect(await panelPage.locator("#recon").getAttribute("data-state")).toBe("none");
    expect(await panelPage.locator("#recon").isVisible()).toBe(true);
    expect(await panelPage.locator("#recon-body").isHidden()).toBe(true);
    expect(await panelText("#recon-hint code")).toBe("bedrock-spend reconcile --cur PATH --data-dir DIR");
    expect(await panelText("#recon-hint")).toContain("No bill loaded.");
    expect(await panelText("#recon-hint .recon-location")).toBe(`The dashboard reads ${reconcileFileOf(dataDir)}.`);
    expect(await panelPage.locator("#recon-logs").count()).toBe(0);
  });

  it("shows a reconciliation written while the page is open: totals, drift by day and by model, the unmapped usage", async () => {
    await writeReconcileFile(dataDir, KNOWN_SNAPSHOT);
    // The panel re-reads the reconciliation every fifth poll (about 5 s).
    await panelPage.waitForSelector('#recon[data-state="loaded"]', { timeout: 8000 });
    expect(await panelPage.locator("#recon-hint").isHidden()).toBe(true);

    // Totals: logs 7.02, bill 9.084567 of which 1.034567 unmapped, drift 8.05 - 7.02 = +1.03 (12.80 % of 8.05).
    expect(await panelText("#recon-logs")).toBe("$7.02");
    expect(await panelText("#recon-bill")).toBe("$9.08");
    expect(await panelPage.locator("#recon-bill").getAttribute("title")).toBe("Exact: $9.084567");
    expect(await panelText("#recon-drift")).toBe("+$1.03");
    expect(await panelPage.locator("#recon-drift").getAttribute("title")).toBe("Exact: $1.030000");
    expect(await panelText("#recon-drift-pct")).toBe("+12.80%");
    expect(await panelPage.locator(".drift-tile").getAttribute("data-sign")).toBe("up");
    expect(await panelText(".drift-tile .recon-sub")).toBe("+12.80% of the placed bill · bill higher than logs");
    expect(await panelText("#recon-unmapped")).toBe("$1.03");
    expect(await panelText("#recon-net")).toBe("$9.00");
    expect(await panelText("#recon-period")).toBe("2026-11-01 – 2026-11-02 UTC · 1 CUR path · whole bill, not filtered");

    expect(await tableRows("#recon-days", "data-day", 5)).toStrictEqual([
      ["2026-11-01", "Nov 1", "$4.90", "$5.55", "+$0.65", "+11.71%"],
      // The bill's last day, unfinished: marked, its drift CUR's lag.
      ["2026-11-02", "Nov 2 (open)", "$2.12", "$2.50", "+$0.38", "+15.20%"],
    ]);
    expect(await panelPage.locator('#recon-days tr[data-day="2026-11-02"] th').getAttribute("title")).toBe(
      "2026-11-02: the bill has not finished this day (CUR lags up to a day)",
    );
    expect(await panelPage.locator("#recon-days .recon-open").count()).toBe(1);
    const bars = await panelPage
      .locator("#recon-days .drift-bar")
      .evaluateAll((elements) =>
        elements.map((bar) => [bar.getAttribute("data-sign"), /width:\s*([\d.]+%)/.exec(bar.getAttribute("style") ?? "")?.[1] ?? null]),
      );
    expect(bars[0]).toStrictEqual(["up", "50%"]);
    expect(bars[1]?.[0]).toBe("up");
    expect(Number.parseFloat(bars[1]?.[1] ?? "")).toBeCloseTo((50 * 0.38) / 0.65, 3);

    expect(await tableRows("#recon-models", "data-model", 5)).toStrictEqual([
      [SONNET, "claude-sonnet-4-5", "$6.50", "$7.75", "+$1.25", "+16.13%"],
      [NOVA, "nova-lite", "$0.52", "$0.30", "−$0.22", "−73.33%"],
    ]);
    expect(await panelPage.locator(`#recon-models tr[data-model="${NOVA}"] .drift`).getAttribute("data-sign")).toBe("down");

    expect(await panelText("#recon-unmapped-total")).toBe("$1.03");
    expect(await tableRows("#recon-unmapped-lines", "data-usage-type", 4)).toStrictEqual([
      ["USE1-TitanImageGenerator-images", "USE1-TitanImageGenerator-images", "Amazon Bedrock", "$1.00", "25 Images"],
      ["USW2-MP:USW2_InputTokenCount-Units", "USW2-MP:USW2_InputTokenCount-Units", "Acme Writer (Amazon Bedrock Edition)", "$0.0346", "1234.5 Units"],
    ]);

    mkdirSync(OUTPUT_DIR, { recursive: true });
    const shot = join(OUTPUT_DIR, "dashboard-reconcile.png");
    await panelPage.locator("#recon").screenshot({ path: shot });
    expect(existsSync(shot)).toBe(true);
  });

  it("goes back to the hint when the reconciliation is removed", async () => {
    await unlink(reconcileFileOf(dataDir));
    await panelPage.waitForSelector('#recon[data-state="none"]', { timeout: 8000 });
    expect(await panelPage.locator("#recon-body").isHidden()).toBe(true);
    expect(await panelText("#recon-period")).toBe("AWS bill (CUR 2.0) against the logs · whole bill, not filtered");
    expect(await panelPage.locator("#recon-logs").count()).toBe(0);
  });

  it("made no failed or erroring requests and logged no errors", () => {
    expect(panelProblems).toEqual([]);
  });
});

/**
 * The first run of local mode: 30 days of generated history marked as sample data, a sample
 * budget the month has crossed 80% of, and its alerts. The page shows the "sample data" badge, every
 * chart with data, cost by token class in USD, and the alerts (test-output/dashboard-first-run.png).
 */
describe("the first-run dashboard (sample data) in headless Chromium", () => {
  const DAY_MS = 86_400_000;
  const history = workload({ now: new Date(NOW - 60_000), from: new Date(NOW - 30 * DAY_MS), count: 1200, seed: 3, prefix: "sample" });
  const firstRun = memoryStack({ now: clock, records: history });
  const marker: SampleDataInfo = {
    sample: true,
    complete: true,
    from: new Date(NOW - 30 * DAY_MS).toISOString(),
    to: new Date(NOW).toISOString(),
    days: 30,
    records: history.length,
    budgets: [],
    hint: "sample data generated on the first start; start clean with bedrock-spend start --no-history on a new --data-dir",
  };
  const firstProblems: string[] = [];
  let firstServer: DashboardServer;
  let firstPage: Page;

  beforeAll(async () => {
    // A sample budget as `start` sets it: the month to date is 90% of it, so 50% and 80% have fired.
    const acme = await firstRun.data.dashboard({ ...SELECTED, tenant: "acme" });
    const spentCents = BigInt(Math.ceil(Number(acme.kpis.costUsd) * 100));
    const monthlyUsd = `${(spentCents * 10n) / 9n / 100n}.${String(((spentCents * 10n) / 9n) % 100n).padStart(2, "0")}`;
    await firstRun.data.spendStore.putBudget("acme", { monthlyUsd, thresholds: [50, 80, 100] });
    marker.budgets = [{ tenantId: "acme", monthlyUsd, thresholds: [50, 80, 100] }];
    for (const threshold of [50, 80])
      firstRun.data.addAlert(
        { kind: "threshold", threshold, tenantId: "acme", month: MONTH, spendUsd: acme.kpis.costUsd, budgetUsd: monthlyUsd, forecastUsd: acme.kpis.costUsd },
        new Date(NOW - 120_000 + threshold),
      );
    firstServer = createDashboardServer({
      data: firstRun.data,
      spendApi: firstRun.spendApi,
      sampleData: async () => marker,
      now: clock,
      onError: (error) => firstProblems.push(`server error: ${String(error)}`),
    });
    const { url } = await firstServer.listen(0);
    firstPage = await context.newPage();
    firstPage.on("console", (message) => {
      if (message.type() === "error") firstProblems.push(`console error: ${message.text()}`);
    });
    firstPage.on("pageerror", (error) => firstProblems.push(`page error: ${error.message}`));
    firstPage.on("response", (response) => {
      if (response.status() >= 400) firstProblems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await firstPage.goto(url);
    await firstPage.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 15_000 });
  });

  afterAll(async () => {
    await firstPage?.close();
    await firstServer?.close();
  });

  it("shows the sample-data badge, saying what the data is and how to start clean", async () => {
    const badge = firstPage.locator("#sample-badge");
    expect(await badge.isVisible()).toBe(true);
    expect(await badge.textContent()).toBe("Sample data");
    const title = (await badge.getAttribute("title")) ?? "";
    expect(title).toContain("1,200 generated invocations over the 30 days before 2026-11-20");
    expect(title).toContain("--no-history");
    expect(title).toContain(`acme (${marker.budgets[0]?.monthlyUsd} USD)`);
  });

  it("draws every chart with data, and the cost by token class in USD", async () => {
    const states = (await firstPage.evaluate(`[...document.querySelectorAll("[data-chart]")].map((element) => {
      const chart = echarts.getInstanceByDom(element);
      const series = chart.getOption().series[0];
      const values = series.data.map((item) => (item !== null && typeof item === "object" ? item.value : item));
      return { name: element.dataset.chart, seriesName: series.name, points: values.length, nonZero: values.filter((v) => Number(v) > 0).length, values };
    })`)) as { name: string; seriesName: string; points: number; nonZero: number; values: number[] }[];
    expect(states.map((state) => state.name).sort()).toEqual(["byDepartment", "byModel", "byTenant", "byTenantGroup", "byTokenClass", "costOverTime"]);
    for (const state of states) {
      expect(state.points, `${state.name} has data`).toBeGreaterThan(0);
      expect(state.nonZero, `${state.name} has non-zero values`).toBeGreaterThan(0);
    }
    const expected = await firstRun.data.dashboard(SELECTED);
    // The month so far: a point for each day from the 1st to the 20th.
    expect(states.find((state) => state.name === "costOverTime")?.points).toBe(expected.costOverTime.length);
    expect(expected.costOverTime.length).toBe(20);
    const classes = states.find((state) => state.name === "byTokenClass");
    expect(classes?.seriesName).toBe("Cost");
    expect(expected.byTokenClass.every((row) => row.costUsd !== null)).toBe(true);
    expect(classes?.values).toEqual(expected.byTokenClass.map((row) => Number(row.costUsd)));
    expect(await firstPage.locator("#hint-token-class").textContent()).toBe("USD, cache tokens priced separately");
  });

  it("shows the sample budget's alerts in the feed", async () => {
    await firstPage.waitForSelector("#alerts-feed li", { timeout: 5000 });
    expect(await firstPage.locator("#alerts-feed li").count()).toBe(2);
    expect(await firstPage.locator("#alerts-feed li").first().textContent()).toContain("acme reached 80% of its budget");
  });

  it("writes test-output/dashboard-first-run.png, and made no failed or erroring requests", async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await firstPage.mouse.move(0, 0);
    await firstPage.waitForTimeout(300);
    const shot = join(OUTPUT_DIR, "dashboard-first-run.png");
    await firstPage.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    expect(firstProblems).toEqual([]);
  });
});
