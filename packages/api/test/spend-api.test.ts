import { Attributor } from "@bedrock-spend/core";
import { beforeAll, describe, expect, it } from "vitest";
import { handleSpendApi, SPEND_BY, type SpendApiStore } from "../src/index";
import {
  type ApiFixture,
  AS_OF,
  freshApi,
  invocation,
  invocationOf,
  jwtRequest,
  problem,
  recordingObserver,
  request,
  SERVICE_PRINCIPAL,
  tenantPath,
} from "./helpers/fixtures";

const HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA = "us.amazon.nova-lite-v1:0";
const UNKNOWN = "us.acme.unknown-v1:0";

/**
 * acme's usage, priced with the shipped catalog (USD per million tokens: Haiku 4.5 global input
 * 1.00, output 5.00, cache read 0.10, cache write 1.25; Nova Lite input 0.06, output 0.24):
 * - a1 Nov 3, Haiku: 1000 in, 100 out, 500 cache read = 1000 + 500 + 50 = 1550 micro-USD
 * - a2 Nov 3, Nova: 2000 in, 300 out = 120 + 72 = 192 micro-USD
 * - a3 Nov 27, Haiku: 100 in, 10 out, 200 cache write = 100 + 50 + 250 = 400 micro-USD
 * - a4 Nov 27, unknown model: 50 in, 5 out, unpriced (tokens count, cost does not)
 * - a5 Dec 1 and a6 Oct 31 23:59:59 fall in other months; globex has usage of its own.
 */
async function writeUsage(api: ApiFixture): Promise<void> {
  await api.write([
    invocation("a1", { tenant: "acme", model: HAIKU, timestamp: "2026-11-03T08:00:00Z", input: 1000, output: 100, cacheRead: 500 }),
    invocation("a2", { tenant: "acme", model: NOVA, timestamp: "2026-11-03T09:30:00Z", input: 2000, output: 300 }),
    invocation("a3", { tenant: "acme", model: HAIKU, timestamp: "2026-11-27T10:00:00Z", input: 100, output: 10, cacheWrite: 200 }),
    invocation("a4", { tenant: "acme", model: UNKNOWN, timestamp: "2026-11-27T23:59:59Z", input: 50, output: 5 }),
    invocation("a5", { tenant: "acme", model: HAIKU, timestamp: "2026-12-01T00:00:00Z", input: 10, output: 1 }),
    invocation("a6", { tenant: "acme", model: HAIKU, timestamp: "2026-10-31T23:59:59Z", input: 20, output: 2 }),
    invocation("g1", { tenant: "globex", model: HAIKU, timestamp: "2026-11-03T08:00:00Z", input: 7777, output: 777 }),
  ]);
}

const HAIKU_NOV = {
  key: "anthropic.claude-haiku-4-5-20251001-v1:0",
  invocations: 2,
  unpricedInvocations: 0,
  inputTokens: 1100,
  outputTokens: 110,
  cacheReadTokens: 500,
  cacheWriteTokens: 200,
  costUsd: "0.001950",
};
const NOVA_NOV = {
  key: "amazon.nova-lite-v1:0",
  invocations: 1,
  unpricedInvocations: 0,
  inputTokens: 2000,
  outputTokens: 300,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: "0.000192",
};
const UNKNOWN_NOV = {
  key: "acme.unknown-v1:0",
  invocations: 1,
  unpricedInvocations: 1,
  inputTokens: 50,
  outputTokens: 5,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: "0.000000",
};
const ACME_NOV = {
  tenantId: "acme",
  period: "2026-11",
  invocations: 4,
  unpricedInvocations: 1,
  inputTokens: 3150,
  outputTokens: 415,
  cacheReadTokens: 500,
  cacheWriteTokens: 200,
  costUsd: "0.002142",
  budget: null,
  asOf: AS_OF,
  // Linear month-end projection at 2026-11-15T12:00Z: 2142 micro-USD x 30 days / 14.5 days, truncated to the pico-dollar.
  forecast: { month: "2026-11", costUsd: "0.004431724137" },
};

function totalsOf(spend: Record<string, unknown>) {
  const { tenantId: _tenantId, period: _period, budget: _budget, breakdown: _breakdown, key: _key, asOf: _asOf, forecast: _forecast, ...totals } = spend;
  return totals;
}

describe("Function: handleSpendApi() spend on DynamoDB Local", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await writeUsage(api);
  });

  it("returns a month's totals from the month-total item, exact to the pico-dollar", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11" } }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(response.json).toStrictEqual(ACME_NOV);
  });

  it("defaults to the current UTC month", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/tenants/acme/spend"));

    // Assess
    expect(response.json).toStrictEqual(ACME_NOV);
  });

  it.each([
    ["2026-12-31T23:59:59.999Z", "2026-12"],
    ["2027-01-01T00:00:00.000Z", "2027-01"],
    ["2028-02-29T23:59:59.999Z", "2028-02"],
    ["2028-03-01T00:00:00.000Z", "2028-03"],
  ])("with the clock at %s, defaults to %s", async (now, month) => {
    // Prepare
    const edge = await freshApi({ now: new Date(now) });

    // Act
    const before = await edge.call(request("GET", "/v1/tenants/acme/budget", {}));
    const put = await edge.call(request("PUT", "/v1/tenants/acme/budget", { body: JSON.stringify({ monthlyUsd: "10" }) }));
    const after = await edge.call(request("GET", "/v1/tenants/acme/spend"));

    // Assess
    expect(before.statusCode).toBe(404);
    expect(put.statusCode).toBe(200);
    expect(after.json).toMatchObject({ tenantId: "acme", period: month, invocations: 0 });
  });

  it("counts an invocation at 23:59:59 UTC on the last day in that month, not the next", async () => {
    // Act
    const october = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-10" } }));
    const december = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-12" } }));

    // Assess: 20 x 1.00 + 2 x 5.00 = 30 micro-USD; 10 x 1.00 + 1 x 5.00 = 15 micro-USD
    expect(october.json).toMatchObject({ period: "2026-10", invocations: 1, inputTokens: 20, outputTokens: 2, costUsd: "0.000030" });
    expect(december.json).toMatchObject({ period: "2026-12", invocations: 1, inputTokens: 10, outputTokens: 1, costUsd: "0.000015" });
  });

  it("breaks a month down by model, highest cost first, and the rows sum to the month total item", async () => {
    // Act
    const byModel = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11", by: "model" } }));

    // Assess
    expect(byModel.statusCode).toBe(200);
    expect(byModel.json).toStrictEqual({ ...ACME_NOV, breakdown: [HAIKU_NOV, NOVA_NOV, UNKNOWN_NOV] });
    expect(sumRows(byModel.json.breakdown)).toStrictEqual(totalsOf(ACME_NOV));
  });

  it("breaks a month down by day, chronologically, and the rows sum to the totals", async () => {
    // Act
    const byDay = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11", by: "day" } }));

    // Assess
    expect(byDay.json.breakdown).toStrictEqual([
      {
        key: "2026-11-03",
        invocations: 2,
        unpricedInvocations: 0,
        inputTokens: 3000,
        outputTokens: 400,
        cacheReadTokens: 500,
        cacheWriteTokens: 0,
        costUsd: "0.001742",
      },
      {
        key: "2026-11-27",
        invocations: 2,
        unpricedInvocations: 1,
        inputTokens: 150,
        outputTokens: 15,
        cacheReadTokens: 0,
        cacheWriteTokens: 200,
        costUsd: "0.000400",
      },
    ]);
    expect(totalsOf(byDay.json)).toStrictEqual(totalsOf(ACME_NOV));
    expect(sumRows(byDay.json.breakdown)).toStrictEqual(totalsOf(ACME_NOV));
  });

  it("returns a day's totals, and its breakdown by model", async () => {
    // Act
    const day = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { day: "2026-11-27" } }));
    const dayByModel = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { day: "2026-11-27", by: "model" } }));

    // Assess
    const expected = {
      tenantId: "acme",
      period: "2026-11-27",
      invocations: 2,
      unpricedInvocations: 1,
      inputTokens: 150,
      outputTokens: 15,
      cacheReadTokens: 0,
      cacheWriteTokens: 200,
      costUsd: "0.000400",
      budget: null,
      // The day's month item: when acme's November last changed. No forecast for a day.
      asOf: AS_OF,
      forecast: null,
    };
    expect(day.json).toStrictEqual(expected);
    expect(dayByModel.json).toStrictEqual({
      ...expected,
      breakdown: [
        {
          key: "anthropic.claude-haiku-4-5-20251001-v1:0",
          invocations: 1,
          unpricedInvocations: 0,
          inputTokens: 100,
          outputTokens: 10,
          cacheReadTokens: 0,
          cacheWriteTokens: 200,
          costUsd: "0.000400",
        },
        UNKNOWN_NOV,
      ],
    });
  });

  it("answers zero totals for a period without usage of a known tenant", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-09", by: "model" } }));
    const day = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { day: "2026-11-04" } }));

    // Assess
    const zero = { invocations: 0, unpricedInvocations: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: "0.000000" };
    // A month over: its forecast is the spend itself.
    expect(response.json).toStrictEqual({
      tenantId: "acme",
      period: "2026-09",
      ...zero,
      budget: null,
      asOf: null,
      forecast: { month: "2026-09", costUsd: "0.000000" },
      breakdown: [],
    });
    expect(day.json).toStrictEqual({ tenantId: "acme", period: "2026-11-04", ...zero, budget: null, asOf: AS_OF, forecast: null });
  });

  it("answers 200 with zeros for a tenant with no item at all (not spending yet is not unknown); its budget is 404", async () => {
    // Act
    const spend = await api.call(request("GET", tenantPath("initech", "spend"), { query: { month: "2026-11" } }));
    const budget = await api.call(request("GET", tenantPath("initech", "budget")));

    // Assess
    const zero = { invocations: 0, unpricedInvocations: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: "0.000000" };
    expect(spend.statusCode).toBe(200);
    expect(spend.json).toStrictEqual({
      tenantId: "initech",
      period: "2026-11",
      ...zero,
      budget: null,
      asOf: null,
      forecast: { month: "2026-11", costUsd: "0.000000" },
    });
    expect(spend.headers["content-type"]).toBe("application/json");
    expect(budget.statusCode).toBe(404);
    expect(budget.json).toStrictEqual(problem("NotFound", "no usage or budget is recorded for this tenant"));
    expect(budget.headers["content-type"]).toBe("application/problem+json");
    expect(budget.headers["x-request-id"]).toBe(budget.json.requestId);
  });

  it("reads another tenant's usage only under that tenant", async () => {
    // Act
    const globex = await api.call(request("GET", "/v1/tenants/globex/spend", { query: { month: "2026-11" } }));

    // Assess: 7777 x 1.00 + 777 x 5.00 = 11662 micro-USD
    expect(globex.json).toMatchObject({ tenantId: "globex", invocations: 1, inputTokens: 7777, outputTokens: 777, costUsd: "0.011662" });
  });
});

function sumRows(rows: Record<string, unknown>[]) {
  const sum = { invocations: 0, unpricedInvocations: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  let micro = 0n;
  for (const row of rows) {
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += row[key] as number;
    micro += BigInt((row.costUsd as string).replace(".", ""));
  }
  return { ...sum, costUsd: `0.${micro.toString().padStart(6, "0")}` };
}

describe("Function: handleSpendApi() budgets on DynamoDB Local", () => {
  it("sets, reads and deletes a tenant's budget, and the spend object carries it", async () => {
    // Prepare
    const api = await freshApi();
    await api.write([invocation("b1", { tenant: "acme" })]);

    // Act
    const before = await api.call(request("GET", "/v1/tenants/acme/budget"));
    const put = await api.call(request("PUT", "/v1/tenants/acme/budget", { body: JSON.stringify({ monthlyUsd: "100", thresholds: [100, 50, 80, 50] }) }));
    const got = await api.call(request("GET", "/v1/tenants/acme/budget"));
    const stored = await api.store.getBudget("acme");
    const spend = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11" } }));
    const deleted = await api.call(request("DELETE", "/v1/tenants/acme/budget"));
    const deletedAgain = await api.call(request("DELETE", "/v1/tenants/acme/budget"));
    const after = await api.call(request("GET", "/v1/tenants/acme/budget"));

    // Assess
    const budget = { monthlyUsd: "100.00", thresholds: [50, 80, 100] };
    expect(before.json).toStrictEqual({ tenantId: "acme", budget: null, source: "none" });
    expect(put.statusCode).toBe(200);
    expect(put.json).toStrictEqual({ tenantId: "acme", budget, source: "tenant" });
    expect(got.json).toStrictEqual({ tenantId: "acme", budget, source: "tenant" });
    expect(stored).toStrictEqual(budget);
    expect(spend.json.budget).toStrictEqual(budget);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json).toStrictEqual({ tenantId: "acme", budget: null, source: "none" });
    expect(deletedAgain.statusCode).toBe(404);
    expect(deletedAgain.json.code).toBe("NotFound");
    expect(after.json).toStrictEqual({ tenantId: "acme", budget: null, source: "none" });
    expect(await api.store.getBudget("acme")).toBeUndefined();
  });

  it("falls back to the default budget when the tenant has none of its own", async () => {
    // Prepare
    const defaultBudget = { monthlyUsd: "250.00", thresholds: [80, 100] };
    const api = await freshApi({ defaultBudget });
    await api.write([invocation("d1", { tenant: "acme" })]);

    // Act
    const spendDefault = await api.call(request("GET", "/v1/tenants/acme/spend"));
    const budgetDefault = await api.call(request("GET", "/v1/tenants/acme/budget"));
    await api.call(request("PUT", "/v1/tenants/acme/budget", { body: '{"monthlyUsd":"12.5"}' }));
    const spendOwn = await api.call(request("GET", "/v1/tenants/acme/spend"));
    const deleted = await api.call(request("DELETE", "/v1/tenants/acme/budget"));
    const spendAfter = await api.call(request("GET", "/v1/tenants/acme/spend"));

    // Assess
    expect(spendDefault.json.budget).toStrictEqual(defaultBudget);
    expect(budgetDefault.json).toStrictEqual({ tenantId: "acme", budget: defaultBudget, source: "default" });
    expect(spendOwn.json.budget).toStrictEqual({ monthlyUsd: "12.50", thresholds: [50, 80, 100] });
    expect(deleted.json).toStrictEqual({ tenantId: "acme", budget: defaultBudget, source: "default" });
    expect(spendAfter.json.budget).toStrictEqual(defaultBudget);
  });

  it("gives a tenant a budget before its first invocation, after which its spend reads zero", async () => {
    // Prepare
    const api = await freshApi();

    // Act
    const put = await api.call(request("PUT", "/v1/tenants/newco/budget", { body: '{"monthlyUsd":"5.00","thresholds":[90]}' }));
    const spend = await api.call(request("GET", "/v1/tenants/newco/spend", { query: { month: "2026-11" } }));

    // Assess
    expect(put.json).toStrictEqual({ tenantId: "newco", budget: { monthlyUsd: "5.00", thresholds: [90] }, source: "tenant" });
    expect(spend.statusCode).toBe(200);
    expect(spend.json).toMatchObject({ tenantId: "newco", invocations: 0, costUsd: "0.000000", budget: { monthlyUsd: "5.00", thresholds: [90] } });
  });

  it("answers 404 when deleting the budget of a tenant that has none", async () => {
    // Prepare
    const api = await freshApi({ defaultBudget: { monthlyUsd: "1.00", thresholds: [100] } });

    // Act
    const response = await api.call(request("DELETE", "/v1/tenants/nobody/budget"));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json).toStrictEqual(problem("NotFound", "the tenant has no budget of its own to delete"));
  });
});

describe("Function: handleSpendApi() tenant ids normalized as the pipeline normalizes them", () => {
  it("puts the budget of `globex%20` on the tenant the pipeline counts metadata ` globex\t` under", async () => {
    // Prepare: attribution as the pipeline runs it, on metadata with surrounding whitespace
    const api = await freshApi();
    const attributed = new Attributor().attribute({ tenantId: " globex\t" }).tenantId;
    await api.write([invocationOf(attributed, "w1", { timestamp: "2026-11-03T08:00:00Z", input: 1000, output: 100 })]);

    // Act
    const put = await api.call(request("PUT", "/v1/tenants/globex%20/budget", { body: '{"monthlyUsd":"10.00"}' }));
    const spend = await api.call(request("GET", "/v1/tenants/%09globex%0A/spend", { query: { month: "2026-11" } }));

    // Assess
    expect(put.json.tenantId).toBe("globex");
    expect(spend.json).toMatchObject({ tenantId: "globex", invocations: 1, budget: { monthlyUsd: "10.00" } });
    expect(await api.store.getBudget("globex")).toStrictEqual({ monthlyUsd: "10.00", thresholds: [50, 80, 100] });
    expect(await api.store.getBudget("globex ")).toBeUndefined();
  });
});

describe("Function: handleSpendApi() input validation", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await api.write([invocation("v1", { tenant: "acme" })]);
    await api.store.putBudget("acme", { monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  const spend = (query: Record<string, string>) => request("GET", "/v1/tenants/acme/spend", { query });
  const put = (body: string | null) => request("PUT", "/v1/tenants/acme/budget", { body });
  const tooLong = "a".repeat(257);

  it.each([
    { name: "a month 13", request: spend({ month: "2026-13" }), field: "month" },
    { name: "a one-digit month", request: spend({ month: "2026-1" }), field: "month" },
    { name: "an empty month", request: spend({ month: "" }), field: "month" },
    { name: "a month with a day", request: spend({ month: "2026-11-01" }), field: "month" },
    { name: "February 30", request: spend({ day: "2026-02-30" }), field: "day" },
    { name: "November 31", request: spend({ day: "2026-11-31" }), field: "day" },
    { name: "a day without dashes", request: spend({ day: "20261127" }), field: "day" },
    { name: "both month and day", request: spend({ month: "2026-11", day: "2026-11-27" }), field: "day" },
    { name: "by tenant", request: spend({ by: "tenant" }), field: "by" },
    { name: "an empty by", request: spend({ by: "" }), field: "by" },
    { name: "by in capitals", request: spend({ by: "MODEL" }), field: "by" },
    { name: "an unknown query parameter", request: spend({ month: "2026-11", tenant: "globex" }), field: "tenant" },
    { name: "a query parameter in the wrong case", request: spend({ Month: "2026-11" }), field: "Month" },
    { name: "a query parameter on the budget route", request: request("GET", "/v1/tenants/acme/budget", { query: { month: "2026-11" } }), field: "month" },
    { name: "an empty tenant id", request: request("GET", "/v1/tenants//spend"), field: "tenantId" },
    { name: "a tenant id of 257 characters", request: request("GET", tenantPath(tooLong, "spend")), field: "tenantId" },
    { name: "a truncated percent escape", request: request("GET", "/v1/tenants/acme%/spend"), field: "tenantId" },
    { name: "a percent escape of non-hex digits", request: request("GET", "/v1/tenants/acme%zz/spend"), field: "tenantId" },
    { name: "an invalid UTF-8 sequence", request: request("GET", "/v1/tenants/%E0%A4%A/spend"), field: "tenantId" },
    { name: "a lone surrogate", request: request("GET", "/v1/tenants/%ED%A0%80/spend"), field: "tenantId" },
    { name: "a % in the tenant id", request: request("GET", "/v1/tenants/acme%2523M/spend"), field: "tenantId" },
    { name: "a ? in the tenant id", request: request("GET", "/v1/tenants/acme%3Fx/spend"), field: "tenantId" },
    { name: "a non-ASCII tenant id", request: request("GET", tenantPath("acmé", "spend")), field: "tenantId" },
    { name: "a NUL in the tenant id", request: request("GET", "/v1/tenants/acme%00/spend"), field: "tenantId" },
    { name: "a bad tenant id on PUT", request: request("PUT", "/v1/tenants/acme%25/budget", { body: '{"monthlyUsd":"1"}' }), field: "tenantId" },
    { name: "a PUT without a body", request: put(null), field: "body" },
    { name: "a PUT with a blank body", request: put("  "), field: "body" },
    { name: "a PUT body that is not JSON", request: put("monthlyUsd=100"), field: "body" },
    { name: "a PUT body that is a JSON array", request: put("[100]"), field: "body" },
    { name: "a PUT body without monthlyUsd", request: put('{"thresholds":[50]}'), field: "monthlyUsd" },
    { name: "a negative amount", request: put('{"monthlyUsd":"-1"}'), field: "monthlyUsd" },
    { name: "a zero amount", request: put('{"monthlyUsd":"0.00"}'), field: "monthlyUsd" },
    { name: "an amount with an exponent", request: put('{"monthlyUsd":"1e3"}'), field: "monthlyUsd" },
    { name: "a threshold of 0", request: put('{"monthlyUsd":"100","thresholds":[0]}'), field: "thresholds" },
    { name: "a fractional threshold", request: put('{"monthlyUsd":"100","thresholds":[50.5]}'), field: "thresholds" },
    { name: "no thresholds", request: put('{"monthlyUsd":"100","thresholds":[]}'), field: "thresholds" },
    { name: "an unknown budget field", request: put('{"monthlyUsd":"100","currency":"EUR"}'), field: "currency" },
    { name: "a tenant id of whitespace only", request: request("GET", "/v1/tenants/%20%09%0A/spend"), field: "tenantId" },
    {
      name: "a tenant id of whitespace only on PUT",
      request: request("PUT", "/v1/tenants/%20%0D%0A/budget", { body: '{"monthlyUsd":"1"}' }),
      field: "tenantId",
    },
    { name: "an amount over the bound", request: put('{"monthlyUsd":"1000000000000.01"}'), field: "monthlyUsd" },
    { name: "an amount of 60,000 digits", request: put(`{"monthlyUsd":"${"9".repeat(60_000)}"}`), field: "monthlyUsd" },
  ])("answers 400 naming $field for $name", async ({ request: input, field }) => {
    // Act
    const response = await api.call(input);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(response.json).toStrictEqual(problem("BadRequest", expect.any(String), { field, ...(field === "by" ? { allowed: [...SPEND_BY] } : {}) }));
    expect(response.json.detail.length).toBeGreaterThan(10);
  });

  it("names the bound of monthlyUsd when an amount is over it, in value or in length", async () => {
    // Act
    const over = await api.call(put('{"monthlyUsd":1e13}'));
    const long = await api.call(put(`{"monthlyUsd":"${"9".repeat(60_000)}"}`));

    // Assess
    expect(over.json.detail).toBe("monthlyUsd must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals, got 10000000000000");
    expect(long.json.detail).toBe(
      "monthlyUsd must be a positive decimal amount in USD of at most 1000000000000, with at most 12 decimals; got 60000 characters, over the 40 allowed",
    );
  });

  it("answers 413 to a body over 64 KiB before parsing it, on any route", async () => {
    // Act
    const oversized = `{"monthlyUsd":"100.00","pad":"${"x".repeat(70 * 1024)}"}`;
    const responses = await Promise.all([
      api.call(put(oversized)),
      api.call(put("é".repeat(33 * 1024))),
      api.call(request("GET", "/v1/tenants/acme/spend", { body: oversized })),
    ]);

    // Assess
    for (const response of responses) {
      expect(response.statusCode).toBe(413);
      expect(response.json).toStrictEqual(problem("PayloadTooLarge", "the request body is larger than 65536 bytes", { field: "body" }));
    }
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  it("leaves the budget as it was after a refused PUT", async () => {
    // Act
    await api.call(put('{"monthlyUsd":"-5"}'));

    // Assess
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  it("says what was wrong with a month", async () => {
    // Act
    const response = await api.call(spend({ month: "2026-13" }));

    // Assess
    expect(response.json.detail).toBe('month must be YYYY-MM (UTC), got "2026-13"');
  });

  it("accepts a tenant id of exactly 256 characters and any metadata character", async () => {
    // Act
    const long = await api.call(request("GET", tenantPath("a".repeat(256), "spend")));
    const symbols = await api.call(request("GET", tenantPath(" \t\n\v\f\r:_@$#=/+,-.", "spend")));

    // Assess: valid ids of tenants with no usage: zeros, under the normalized id.
    expect(long.statusCode).toBe(200);
    expect(long.json.tenantId).toBe("a".repeat(256));
    expect(symbols.statusCode).toBe(200);
    expect(symbols.json.tenantId).toBe(":_@$#=/+,-.");
  });

  it("ignores query parameters whose value is undefined", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11", day: undefined } }));

    // Assess
    expect(response.statusCode).toBe(200);
  });

  it.each([
    { method: "POST", path: "/v1/tenants/acme/spend", allow: "GET" },
    { method: "PUT", path: "/v1/tenants/acme/spend", allow: "GET" },
    { method: "DELETE", path: "/v1/tenants/acme/spend", allow: "GET" },
    { method: "POST", path: "/v1/tenants/acme/budget", allow: "GET, PUT, DELETE" },
    { method: "PATCH", path: "/v1/tenants/acme/budget", allow: "GET, PUT, DELETE" },
    { method: "HEAD", path: "/v1/tenants/acme/budget", allow: "GET, PUT, DELETE" },
  ])("answers 405 with Allow: $allow for $method $path", async ({ method, path, allow }) => {
    // Act
    const response = await api.call(request(method, path));

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(response.json.code).toBe("MethodNotAllowed");
  });

  it.each([
    "/",
    "/v1",
    "/v1/tenants/acme",
    "/v1/tenants/acme/spend/",
    "/v1/tenants/acme/usage",
    "/v2/tenants/acme/spend",
    "/v1/tenants/acme/x/spend",
    "/V1/tenants/acme/spend",
  ])("answers 404 for the unknown path %s", async (path) => {
    // Act
    const response = await api.call(request("GET", path));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json.code).toBe("NotFound");
    expect(response.headers["content-type"]).toBe("application/problem+json");
  });
});

describe("Function: handleSpendApi() authorization", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await api.write([invocation("j1", { tenant: "acme" }), invocation("j2", { tenant: "globex" })]);
    await api.store.putBudget("acme", { monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  it("serves a JWT whose tenant claim is the path's tenant", async () => {
    // Act
    const response = await api.call(jwtRequest("GET", "/v1/tenants/acme/spend", { tenant_id: "acme", sub: "user-1" }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json.tenantId).toBe("acme");
  });

  it.each([
    { name: "another tenant's claim", claims: { tenant_id: "globex" } },
    { name: "a claim differing in case", claims: { tenant_id: "ACME" } },
    { name: "a claim with extra whitespace", claims: { tenant_id: "acme " } },
    { name: "a missing claim", claims: { sub: "user-1" } },
    { name: "an empty claim", claims: { tenant_id: "" } },
    { name: "a non-string claim", claims: { tenant_id: ["acme"] } },
    { name: "no claims at all", claims: undefined },
  ])("answers 403 to a JWT with $name, on every route", async ({ claims }) => {
    // Act
    const responses = await Promise.all([
      api.call(jwtRequest("GET", "/v1/tenants/acme/spend", claims, { month: "2026-11" })),
      api.call(jwtRequest("GET", "/v1/tenants/acme/budget", claims)),
      api.call({ ...jwtRequest("PUT", "/v1/tenants/acme/budget", claims), body: '{"monthlyUsd":"1.00"}' }),
      api.call(jwtRequest("DELETE", "/v1/tenants/acme/budget", claims)),
    ]);

    // Assess
    for (const response of responses) {
      expect(response.statusCode).toBe(403);
      expect(response.json.code).toBe("Forbidden");
      expect(response.body).not.toContain("invocations");
    }
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  it("answers 403 rather than 400 or 404 to another tenant's token, whatever the input", async () => {
    // Act
    const unknown = await api.call(jwtRequest("GET", "/v1/tenants/initech/spend", { tenant_id: "acme" }));
    const badQuery = await api.call(jwtRequest("GET", "/v1/tenants/globex/spend", { tenant_id: "acme" }, { month: "2026-13" }));

    // Assess
    expect(unknown.statusCode).toBe(403);
    expect(badQuery.statusCode).toBe(403);
  });

  it("reads the tenant from the configured claim", async () => {
    // Prepare
    const deps = { ...api.deps, tenantClaim: "custom:tenant" };

    // Act
    const allowed = await handleSpendApi(jwtRequest("GET", "/v1/tenants/acme/spend", { "custom:tenant": "acme", tenant_id: "globex" }), deps);
    const refused = await handleSpendApi(jwtRequest("GET", "/v1/tenants/globex/spend", { "custom:tenant": "acme", tenant_id: "globex" }), deps);

    // Assess
    expect(allowed.statusCode).toBe(200);
    expect(refused.statusCode).toBe(403);
  });

  it("compares the claim with the decoded tenant id", async () => {
    // Prepare
    await api.write([invocation("j3", { tenant: "acme#eu" })]);

    // Act
    const response = await api.call(jwtRequest("GET", "/v1/tenants/acme%23eu/spend", { tenant_id: "acme#eu" }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ tenantId: "acme#eu", invocations: 1 });
  });

  it("lets an IAM principal, a trusted service, read any tenant", async () => {
    // Act
    const acme = await api.call(request("GET", "/v1/tenants/acme/spend", { auth: { mode: "iam", iamPrincipal: SERVICE_PRINCIPAL } }));
    const globex = await api.call(request("GET", "/v1/tenants/globex/spend", { auth: { mode: "iam", iamPrincipal: SERVICE_PRINCIPAL } }));

    // Assess
    expect(acme.json.tenantId).toBe("acme");
    expect(globex.json.tenantId).toBe("globex");
  });

  it.each([{ iamPrincipal: undefined }, { iamPrincipal: "" }])("answers 403 in IAM mode without a principal ($iamPrincipal)", async ({ iamPrincipal }) => {
    // Act
    const auth = iamPrincipal === undefined ? { mode: "iam" as const } : { mode: "iam" as const, iamPrincipal };
    const spend = await api.call(request("GET", "/v1/tenants/acme/spend", { auth }));
    const put = await api.call(request("PUT", "/v1/tenants/acme/budget", { auth, body: '{"monthlyUsd":"1.00"}' }));

    // Assess
    expect(spend.statusCode).toBe(403);
    expect(spend.json.code).toBe("Forbidden");
    expect(put.statusCode).toBe(403);
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "100.00", thresholds: [50, 80, 100] });
  });

  it("serves unauthenticated requests only when told to (local mode)", async () => {
    // Act
    const refused = await api.call(request("GET", "/v1/tenants/acme/spend", { auth: { mode: "none" } }));
    const local = await handleSpendApi(request("GET", "/v1/tenants/acme/spend", { auth: { mode: "none" } }), { ...api.deps, allowUnauthenticated: true });

    // Assess
    expect(refused.statusCode).toBe(403);
    expect(local.statusCode).toBe(200);
  });
});

describe("Function: handleSpendApi() observer and failures", () => {
  it("tells the observer of every request with its route and tenant, once known", async () => {
    // Prepare
    const observer = recordingObserver();
    const api = await freshApi({ deps: { observer } });
    await api.write([invocation("o1", { tenant: "acme#eu" })]);

    // Act
    await api.call(request("GET", "/v1/tenants/acme%23eu/spend"));
    await api.call(request("GET", "/v1/tenants/acme%23eu/spend", { query: { month: "2026-13" } }));
    await api.call(request("POST", "/v1/tenants/acme%23eu/budget"));
    await api.call(request("GET", "/v1/tenants/acme%25/budget"));

    // Assess
    expect(observer.requests).toStrictEqual([
      { route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme#eu", method: "GET", statusCode: 200 },
      { route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme#eu", method: "GET", statusCode: 400 },
      { method: "POST", statusCode: 405 },
      { route: "GET /v1/tenants/{tenantId}/budget", method: "GET", statusCode: 400 },
    ]);
  });

  it("answers a generic 500 when the store fails, and tells the observer the cause", async () => {
    // Prepare
    const observer = recordingObserver();
    const failure = new Error("ProvisionedThroughputExceededException: table aggregates-secret-name");
    const broken: SpendApiStore = {
      monthTotalTimed: () => Promise.reject(failure),
      dayModelRows: () => Promise.reject(failure),
      breakdownRows: () => Promise.reject(failure),
      periodItems: () => Promise.reject(failure),
      rankCandidates: () => Promise.reject(failure),
      rankedTotals: () => Promise.reject(failure),
      rankComplete: () => Promise.reject(failure),
      alerts: () => Promise.reject(failure),
      tenantExists: () => Promise.reject(failure),
      getBudget: () => Promise.reject(failure),
      putBudget: () => Promise.reject(failure),
      deleteBudget: () => Promise.reject(failure),
    };

    // Act
    const response = await handleSpendApi(request("GET", "/v1/tenants/acme/spend"), { store: broken, defaultBudget: null, observer });

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(response.body)).toStrictEqual(problem("InternalError", "internal error; try again later"));
    expect(response.body).not.toContain("secret");
    expect(observer.requests).toStrictEqual([{ route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme", method: "GET", statusCode: 500, error: failure }]);
  });

  it("answers without an observer", async () => {
    // Prepare
    const api = await freshApi();

    // Act
    const response = await api.call(request("GET", "/v1/tenants/nobody/budget"));

    // Assess
    expect(response.statusCode).toBe(404);
  });
});
