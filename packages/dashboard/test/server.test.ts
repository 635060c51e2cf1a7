import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AlertItem,
  createDashboardServer,
  type DashboardData,
  type DashboardResponse,
  type DashboardServer,
  type FilterResponse,
  type PerformanceResponse,
  SERVER_TIMEOUTS,
  type TenantLookup,
} from "../src/index";
import { memoryStack, usage } from "./helpers/fixtures";
import { getJson, raw } from "./helpers/http";

const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA = "amazon.nova-lite-v1:0";
const UNKNOWN = "acme.unknown-model-v1:0";
const NOW = new Date("2026-11-20T12:00:00.000Z");

/**
 * Priced with the fixture table (USD per million tokens: Haiku 1 / 5 / 0.1 cache read / 1.25 cache
 * write; Nova Lite 0.06 / 0.24), in pico-dollars:
 * a1 1000 in + 100 out + 500 cache read = 1e9 + 5e8 + 5e7 = 1.55e9; a2 2000 in + 300 out = 1.2e8 + 7.2e7;
 * a3 100 in + 10 out + 200 cache write = 1e8 + 5e7 + 2.5e8; a4 unpriced; g1 7777 in + 777 out = 7.777e9 + 3.885e9.
 * November 2026: acme 2.142e9 (0.002142), globex 11.662e9; together 0.013804.
 */
const RECORDS = [
  usage("a1", { tenant: "acme", time: "2026-11-03T08:00:00.000Z", model: HAIKU, input: 1000, output: 100, cacheRead: 500, latencyMs: 800 }),
  usage("a2", { tenant: "acme", time: "2026-11-03T09:30:00.000Z", model: NOVA, input: 2000, output: 300, department: "support" }),
  usage("a3", { tenant: "acme", time: "2026-11-19T10:00:00.000Z", model: HAIKU, input: 100, output: 10, cacheWrite: 200, errorCode: "ThrottlingException" }),
  usage("a4", { tenant: "acme", time: "2026-11-19T23:59:59.000Z", model: UNKNOWN, input: 50, output: 5, latencyMs: 50 }),
  usage("g1", {
    tenant: "globex",
    time: "2026-11-03T08:00:00.000Z",
    model: HAIKU,
    input: 7777,
    output: 777,
    group: "growth",
    department: "support",
    latencyMs: 1000,
    optimized: true,
  }),
  usage("o1", { tenant: "acme", time: "2026-10-31T23:59:59.000Z", model: HAIKU, input: 20, output: 2 }),
  usage("y1", { tenant: "initech", time: "2025-12-15T00:00:00.000Z", model: NOVA, input: 1000, output: 100, group: "startup", department: null }),
];

let server: DashboardServer;
let base: string;
const stack = memoryStack({ now: () => NOW.getTime(), records: RECORDS });
const errors: unknown[] = [];

beforeAll(async () => {
  server = createDashboardServer({ data: stack.data, spendApi: stack.spendApi, now: () => NOW.getTime(), onError: (error) => errors.push(error) });
  ({ url: base } = await server.listen(0));
});

afterAll(async () => {
  await server.close();
});

describe("static files", () => {
  it.each([
    ["/", "text/html; charset=utf-8", "<title>"],
    ["/index.html", "text/html; charset=utf-8", "/vendor/echarts.min.js"],
    ["/app.js", "text/javascript; charset=utf-8", "bedrockSpendDashboard"],
    ["/style.css", "text/css; charset=utf-8", ".kpi-value"],
    ["/favicon.svg", "image/svg+xml", "<svg"],
    ["/vendor/echarts.min.js", "text/javascript; charset=utf-8", "echarts"],
  ])("serves %s as %s", async (path, type, marker) => {
    const response = await raw(base, path);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe(type);
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.body).toContain(marker);
  });

  it("serves ECharts from node_modules, not from a CDN", async () => {
    const response = await raw(base, "/vendor/echarts.min.js");
    expect(Number(response.headers["content-length"])).toBeGreaterThan(500_000);
    const page = (await raw(base, "/")).body;
    expect(page).not.toMatch(/https?:\/\//);
  });

  it("sends a content security policy that allows this origin only", async () => {
    const csp = (await raw(base, "/")).headers["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await raw(base, "/app.js", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(Number(response.headers["content-length"])).toBeGreaterThan(1000);
    expect(response.body).toBe("");
  });

  it("refuses other methods on files", async () => {
    const response = await raw(base, "/index.html", { method: "POST", body: "x" });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
  });

  it("answers 404 for files that do not exist", async () => {
    expect((await raw(base, "/nope.js")).status).toBe(404);
    expect((await raw(base, "/vendor/other.js")).status).toBe(404);
  });

  it.each([
    "/../package.json",
    "/../../package.json",
    "/%2e%2e/package.json",
    "/%2E%2E/%2E%2E/package.json",
    "/..%2fpackage.json",
    "/%2e%2e%2f%2e%2e%2fpackage.json",
    "/vendor/../../package.json",
    "/..\\package.json",
    "/%2e%2e%5cpackage.json",
    "/../src/server.ts",
    "/%2e%2e/src/server.ts",
    "/.%2e/src/server.ts",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/index.html%00.js",
    "/.hidden",
    "/%ff",
  ])("refuses %s", async (target) => {
    const response = await raw(base, target);
    expect([400, 404]).toContain(response.status);
    expect(response.body).not.toContain("@bedrock-spend/dashboard");
    expect(response.body).not.toContain("createDashboardServer");
    expect(response.body).not.toContain("root:");
  });

  it("serves only files of known types", async () => {
    const response = await raw(base, "/../src/index.ts");
    expect(response.status).toBe(404);
  });
});

describe("GET /api/dashboard", () => {
  it("answers the selection with exact decimal strings for money", async () => {
    const { status, headers, json } = await getJson<DashboardResponse>(base, "/api/dashboard?year=2026&month=11");
    expect(status).toBe(200);
    expect(headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(headers["cache-control"]).toBe("no-store");
    expect(json.filters).toEqual({ year: 2026, month: 11, tenant: null, model: null });
    expect(json.generatedAt).toBe(NOW.toISOString());
    expect(json.latestEventTime).toBe("2026-11-19T23:59:59.000Z");
    expect(json.kpis).toEqual({
      invocations: 5,
      unpricedInvocations: 1,
      inputTokens: 10927,
      outputTokens: 1192,
      cacheReadTokens: 500,
      cacheWriteTokens: 200,
      totalTokens: 12819,
      costUsd: "0.013804",
      tenants: 2,
      models: 3,
    });
    expect(json.byTenant.map((row) => [row.key, row.totalTokens, row.costUsd])).toEqual([
      ["globex", 8554, "0.011662"],
      ["acme", 4265, "0.002142"],
    ]);
    expect(json.byTenantGroup.map((row) => row.key)).toEqual(["growth", "enterprise"]);
    expect(json.byDepartment.map((row) => [row.key, row.invocations])).toEqual([
      ["support", 2],
      ["sales", 3],
    ]);
    expect(json.byModel.map((row) => [row.key, row.invocations, row.unpricedInvocations])).toEqual([
      [HAIKU, 3, 0],
      [NOVA, 1, 0],
      [UNKNOWN, 1, 1],
    ]);
    expect(json.costOverTime).toEqual([
      { day: "2026-11-03", costUsd: "0.013404", invocations: 3, unpricedInvocations: 0, totalTokens: 12454 },
      { day: "2026-11-19", costUsd: "0.000400", invocations: 2, unpricedInvocations: 1, totalTokens: 365 },
    ]);
    expect(json.byTokenClass).toEqual([
      { tokenClass: "input", tokens: 10927, costUsd: "0.008997" },
      { tokenClass: "output", tokens: 1192, costUsd: "0.004507" },
      { tokenClass: "cacheRead", tokens: 500, costUsd: "0.000050" },
      { tokenClass: "cacheWrite", tokens: 200, costUsd: "0.000250" },
    ]);
  });

  it("never sends money as a JSON number", async () => {
    const response = await raw(base, "/api/dashboard");
    expect(response.body).not.toMatch(/"costUsd":\s*[\d-]/);
    const json = JSON.parse(response.body) as DashboardResponse;
    for (const row of [...json.byTenant, ...json.byModel, ...json.byDepartment, ...json.byTenantGroup]) expect(typeof row.costUsd).toBe("string");
  });

  it("applies the tenant, model, year and month filters", async () => {
    const acme = (await getJson<DashboardResponse>(base, "/api/dashboard?year=2026&month=11&tenant=acme")).json;
    expect(acme.kpis.costUsd).toBe("0.002142");
    expect(acme.kpis.tenants).toBe(1);
    const haiku = (await getJson<DashboardResponse>(base, `/api/dashboard?model=${encodeURIComponent(HAIKU)}`)).json;
    expect(haiku.kpis.invocations).toBe(4);
    const all = (await getJson<DashboardResponse>(base, "/api/dashboard")).json;
    expect(all.kpis.invocations).toBe(7);
    expect(all.filters).toEqual({ year: null, month: null, tenant: null, model: null });
    const december = (await getJson<DashboardResponse>(base, "/api/dashboard?month=12")).json;
    expect(december.byTenant.map((row) => row.key)).toEqual(["initech"]);
    expect(december.byDepartment.map((row) => row.key)).toEqual(["(none)"]);
    const empty = (await getJson<DashboardResponse>(base, "/api/dashboard?year=2024")).json;
    expect(empty.kpis.invocations).toBe(0);
    expect(empty.kpis.costUsd).toBe("0.000000");
    expect(empty.byTenant).toEqual([]);
  });

  it("treats empty parameters as absent", async () => {
    const { status, json } = await getJson<DashboardResponse>(base, "/api/dashboard?year=&month=&tenant=&model=");
    expect(status).toBe(200);
    expect(json.kpis.invocations).toBe(7);
  });

  it.each([
    ["year=26", "year"],
    ["year=abcd", "year"],
    ["month=13", "month"],
    ["month=0", "month"],
    ["month=1.5", "month"],
    [`tenant=${"x".repeat(257)}`, "tenant"],
    ["colour=red", "colour"],
    ["year=2026&year=2025", "year"],
  ])("refuses %s with a 400 naming %s", async (query, field) => {
    const { status, json } = await getJson<{ error: { code: string; field: string; message: string } }>(base, `/api/dashboard?${query}`);
    expect(status).toBe(400);
    expect(json.error.code).toBe("BadRequest");
    expect(json.error.field).toBe(field);
  });
});

describe("GET /api/performance", () => {
  it("answers latency, errors and throughput per model of the selection, most invocations first", async () => {
    const { status, json } = await getJson<PerformanceResponse>(base, "/api/performance?year=2026&month=11");
    expect(status).toBe(200);
    expect(json.filters).toEqual({ year: 2026, month: 11, tenant: null, model: null });
    const none = { latencyP50Ms: null, latencyP90Ms: null, latencyP99Ms: null, outputTokensPerSecond: null };
    expect(json.models).toEqual([
      {
        model: HAIKU,
        invocations: 3,
        errors: 1,
        throttles: 1,
        errorRate: 1 / 3,
        throttleRate: 1 / 3,
        timedInvocations: 2,
        // Nearest rank over [800, 1000]; (100 + 777) output tokens over 1,800 ms.
        latencyP50Ms: 800,
        latencyP90Ms: 1000,
        latencyP99Ms: 1000,
        outputTokensPerSecond: (877 * 1000) / 1800,
        optimizedShare: 1 / 3,
      },
      {
        model: UNKNOWN,
        invocations: 1,
        errors: 0,
        throttles: 0,
        errorRate: 0,
        throttleRate: 0,
        timedInvocations: 1,
        latencyP50Ms: 50,
        latencyP90Ms: 50,
        latencyP99Ms: 50,
        outputTokensPerSecond: 100,
        optimizedShare: 0,
      },
      { model: NOVA, invocations: 1, errors: 0, throttles: 0, errorRate: 0, throttleRate: 0, timedInvocations: 0, ...none, optimizedShare: 0 },
    ]);
  });

  it("applies the tenant and model filters, and refuses an unknown parameter", async () => {
    const { json } = await getJson<PerformanceResponse>(base, `/api/performance?tenant=globex&model=${encodeURIComponent(HAIKU)}`);
    expect(json.models.map((row) => [row.model, row.invocations, row.latencyP50Ms])).toEqual([[HAIKU, 1, 1000]]);
    expect((await raw(base, "/api/performance?since=2026-11-01")).status).toBe(400);
  });
});

describe("GET /api/filters", () => {
  it("lists the years, months, tenants and models with usage, and the server's clock", async () => {
    const { status, json } = await getJson<FilterResponse>(base, "/api/filters");
    expect(status).toBe(200);
    expect(json).toEqual({
      years: [2026, 2025],
      months: ["2026-11", "2026-10", "2025-12"],
      tenants: ["acme", "globex", "initech"],
      models: [UNKNOWN, NOVA, HAIKU],
      asOf: "2026-11-20T12:00:00.000Z",
    });
  });
});

describe("GET /api/alerts", () => {
  it("answers recent alerts newest first, and those fired since a time", async () => {
    const alert = { tenantId: "acme", month: "2026-11", spendUsd: "0.002142", budgetUsd: "0.004", forecastUsd: "0.003295384615" } as const;
    stack.data.addAlert({ ...alert, kind: "threshold", threshold: 50 }, new Date("2026-11-19T10:00:01.000Z"));
    stack.data.addAlert({ ...alert, kind: "forecast", threshold: null }, new Date("2026-11-20T11:00:00.000Z"));
    const all = (await getJson<AlertItem[]>(base, "/api/alerts")).json;
    expect(all.map((item) => [item.alertId, item.firedAt])).toEqual([
      ["acme#2026-11#FORECAST", "2026-11-20T11:00:00.000Z"],
      ["acme#2026-11#050", "2026-11-19T10:00:01.000Z"],
    ]);
    expect(all[1]).toMatchObject({ kind: "threshold", threshold: 50, tenantId: "acme", spendUsd: "0.002142" });
    const since = (await getJson<AlertItem[]>(base, `/api/alerts?since=${encodeURIComponent("2026-11-20T11:00:00.000Z")}`)).json;
    expect(since.map((item) => item.alertId)).toEqual(["acme#2026-11#FORECAST"]);
  });

  it("refuses a since that is not a time", async () => {
    const { status, json } = await getJson<{ error: { field: string } }>(base, "/api/alerts?since=yesterday");
    expect(status).toBe(400);
    expect(json.error.field).toBe("since");
  });
});

describe("tenant lookup and the spend API", () => {
  it("delegates /v1/* to the spend API (budget set through it)", async () => {
    const put = await raw(base, "/v1/tenants/acme/budget", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ monthlyUsd: "0.004", thresholds: [50, 80, 100] }),
    });
    expect(put.status).toBe(200);
    const spend = await getJson<{ tenantId: string; costUsd: string; budget: unknown }>(base, "/v1/tenants/acme/spend?month=2026-11");
    expect(spend.status).toBe(200);
    expect(spend.json).toMatchObject({ tenantId: "acme", costUsd: "0.002142", budget: { monthlyUsd: "0.004", thresholds: [50, 80, 100] } });
    const unknownRoute = await raw(base, "/v1/nothing");
    expect(unknownRoute.status).toBe(404);
  });

  it("answers a tenant's month spend against its budget, thresholds and forecast", async () => {
    const { status, json } = await getJson<TenantLookup>(base, "/api/tenants/acme?month=2026-11");
    expect(status).toBe(200);
    expect(json).toMatchObject({
      tenantId: "acme",
      month: "2026-11",
      asOf: NOW.toISOString(),
      budget: { monthlyUsd: "0.004", thresholds: [50, 80, 100] },
      percentUsed: 53.55,
      remainingUsd: "0.001858",
      // 2.142e9 pico x 30 days / 19.5 days elapsed, truncated to the pico-dollar.
      forecastUsd: "0.003295384615",
      forecastPercent: 82.38,
      thresholds: [
        { percent: 50, amountUsd: "0.002", reached: true },
        { percent: 80, amountUsd: "0.0032", reached: false },
        { percent: 100, amountUsd: "0.004", reached: false },
      ],
      status: "warning",
    });
    expect(json.spend).toMatchObject({ costUsd: "0.002142", invocations: 4, unpricedInvocations: 1 });
    expect(json.spend.breakdown?.map((row) => row.key)).toEqual(["2026-11-03", "2026-11-19"]);
  });

  it("defaults to the current month and reports a tenant without a budget", async () => {
    const { status, json } = await getJson<TenantLookup>(base, "/api/tenants/globex");
    expect(status).toBe(200);
    expect(json).toMatchObject({ month: "2026-11", budget: null, percentUsed: null, status: "no-budget", thresholds: [] });
    expect(json.spend.costUsd).toBe("0.011662");
  });

  it("passes the spend API's errors through, in the dashboard's error shape; a tenant with no usage is zeros, not unknown", async () => {
    const unknown = await getJson<TenantLookup>(base, "/api/tenants/nobody");
    expect(unknown.status).toBe(200);
    expect(unknown.json.spend).toMatchObject({ tenantId: "nobody", invocations: 0, costUsd: "0.000000" });
    const invalid = await getJson<{ error: { field: string } }>(base, "/api/tenants/%E2%82%AC");
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.field).toBe("tenantId");
  });

  it("refuses a bad month", async () => {
    const { status, json } = await getJson<{ error: { field: string } }>(base, "/api/tenants/acme?month=2026-13");
    expect(status).toBe(400);
    expect(json.error.field).toBe("month");
  });
});

describe("routing and protection", () => {
  it("answers 404 for unknown API routes and 405 for other methods", async () => {
    const missing = await getJson<{ error: { code: string } }>(base, "/api/nothing");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("NotFound");
    const post = await raw(base, "/api/dashboard", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("refuses requests addressed to another host name (DNS rebinding)", async () => {
    const response = await raw(base, "/api/dashboard", { headers: { host: "evil.example:80" } });
    expect(response.status).toBe(403);
    const page = await raw(base, "/", { headers: { host: "evil.example" } });
    expect(page.status).toBe(403);
  });

  it("answers to localhost as well as 127.0.0.1", async () => {
    const port = new URL(base).port;
    const response = await raw(base, "/api/filters", { headers: { host: `localhost:${port}` } });
    expect(response.status).toBe(200);
  });

  it.each(["https://evil.example", "null", `http://127.0.0.2:1`])("refuses cross-origin writes (Origin: %s)", async (origin) => {
    const response = await raw(base, "/v1/tenants/acme/budget", {
      method: "DELETE",
      headers: { origin },
    });
    expect(response.status).toBe(403);
    const budget = await getJson<{ budget: unknown }>(base, "/v1/tenants/acme/budget");
    expect(budget.json.budget).not.toBeNull();
  });

  it("refuses oversized bodies", async () => {
    const response = await raw(base, "/v1/tenants/acme/budget", { method: "PUT", body: "x".repeat(70 * 1024) });
    expect(response.status).toBe(413);
  });

  it.each([
    { name: "declares a length over the cap and sends none of it", headers: { "content-length": String(100 * 1024 * 1024) }, send: 0 },
    { name: "streams past the cap and never ends", headers: { "transfer-encoding": "chunked" }, send: 70 * 1024 },
  ])("answers 413 at once to a body that $name, without reading the rest", async ({ headers, send }) => {
    // Act: the request is never ended; the old server read bodies to their end before refusing
    const url = new URL(base);
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      method: "PUT",
      path: "/v1/tenants/acme/budget",
      headers: { host: url.host, ...headers },
    });
    const answered = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      request.on("response", (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString("utf8");
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }));
      });
      request.on("error", reject);
    });
    request.flushHeaders();
    if (send > 0) request.write("x".repeat(send));
    const outcome = await Promise.race([answered, new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 3000))]);
    request.destroy();

    // Assess
    expect(outcome).toEqual({
      status: 413,
      body: expect.any(String),
      connection: "close",
    });
    expect(JSON.parse((outcome as { body: string }).body)).toStrictEqual({
      type: "tag:bedrock-spend.dev,2026:problems/payload-too-large",
      title: "The request body is too large",
      status: 413,
      detail: "the request body is larger than 65536 bytes",
      instance: expect.stringMatching(/^urn:uuid:[0-9a-f-]{36}$/),
      code: "PayloadTooLarge",
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      field: "body",
    });
  });

  it("cuts off slow clients: request, header and keep-alive timeouts are set", () => {
    expect(SERVER_TIMEOUTS).toEqual({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 });
  });

  it("answers a failing data source with a generic 500 and reports the cause", async () => {
    const failing: DashboardData = {
      dashboard: () => Promise.reject(new Error("duckdb: IO Error: secret path /home/x")),
      performance: () => Promise.reject(new Error("boom")),
      filters: () => Promise.reject(new Error("boom")),
      alerts: () => Promise.resolve([]),
    };
    const seen: unknown[] = [];
    const broken = createDashboardServer({ data: failing, spendApi: stack.spendApi, onError: (error) => seen.push(error) });
    const { url } = await broken.listen(0);
    try {
      const response = await raw(url, "/api/dashboard");
      expect(response.status).toBe(500);
      expect(response.body).not.toContain("secret");
      expect(JSON.parse(response.body)).toEqual({ error: { code: "InternalError", message: "internal error; see the server log" } });
      expect(seen).toHaveLength(1);
    } finally {
      await broken.close();
    }
  });

  it("listens on loopback only", async () => {
    const exposed = createDashboardServer({ data: stack.data, spendApi: stack.spendApi });
    await expect(exposed.listen(0, "0.0.0.0")).rejects.toThrow(/loopback only/);
  });

  it("had no unexpected errors", () => {
    expect(errors).toEqual([]);
  });
});

describe("the page", () => {
  it("loads nothing from outside this server", async () => {
    for (const file of ["index.html", "app.js", "style.css"]) {
      const text = await readFile(new URL(`../public/${file}`, import.meta.url), "utf8");
      expect(text, file).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//);
      expect(text, file).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//);
      expect(text, file).not.toMatch(/@import/);
      expect(text, file).not.toMatch(/fetch\(\s*["'`]https?:/);
    }
  });
});
