/**
 * Invariant 7, tenant isolation: no request returns, changes or deletes another tenant's data,
 * whatever tenant id it names, however that id is encoded.
 */
import { formatUsd, normalizeId } from "@bedrock-spend/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { handleSpendApi } from "../src/index";
import { type ApiFixture, freshApi, invocation, invocationOf, jwtRequest, request, withReportSources } from "./helpers/fixtures";

const ACME_BUDGET = { monthlyUsd: "100.00", thresholds: [50, 80, 100] };

/**
 * Tenant ids that look like acme's keys (`T#acme`, `M#2026-11`, `BUDGET`, `D#...`) or like acme
 * itself after a wrong decoding, as raw path segments. None of them is acme.
 */
const LOOKALIKES = [
  "acme#M#2026-11",
  "acme%23M%232026-11",
  "acme#BUDGET",
  "acme%23BUDGET",
  "T#acme",
  "T%23acme",
  "T%2523acme",
  "acme#D#2026-11-27#anthropic.claude-haiku-4-5-20251001-v1:0",
  "acme%23D%232026-11-27",
  "acme#A#2026-11#050",
  "acme#",
  "acme%23",
  "%23acme",
  "acme%2523M%25232026-11",
  "acme%25",
  "acme%",
  "ACME",
  "acme/",
  "acme%2F",
  "acme%2FM",
  "acme:eu",
  "R#acme",
  "acme\u0000",
  "*",
  "acme*",
];

/** The members every problem details body starts with. */
const PROBLEM_KEYS = ["type", "title", "status", "detail", "instance", "code", "requestId"];

describe("Invariant: tenant isolation of the spend API", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await api.write([
      invocation("i1", { tenant: "acme", timestamp: "2026-11-27T10:00:00Z", input: 4321, output: 123 }),
      invocation("i2", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 1000, output: 10 }),
    ]);
    await api.store.putBudget("acme", ACME_BUDGET);
  });

  it.each(LOOKALIKES)("gives nothing of acme's to the tenant id %j", async (segment) => {
    // Act
    const responses = await Promise.all([
      api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { month: "2026-11" } })),
      api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { month: "2026-11", by: "day" } })),
      api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { day: "2026-11-27", by: "model" } })),
      api.call(request("GET", `/v1/tenants/${segment}/budget`)),
      api.call(request("GET", `/v1/tenants/${segment}/alerts`)),
    ]);

    // Assess: refused (400, or 404 for a path a literal / makes unknown), or a tenant of its own with nothing counted.
    for (const response of responses) {
      // The request id is random: its digits may spell 4321 (one run in a thousand did).
      const requestId = (response.json as { requestId?: unknown }).requestId;
      const body = typeof requestId === "string" && requestId !== "" ? response.body.replaceAll(requestId, "<request id>") : response.body;
      expect(body).not.toMatch(/4321|5321|100\.00|acme#2026/);
      if (response.statusCode === 200) {
        if ("alerts" in response.json) expect(response.json.alerts).toStrictEqual([]);
        else expect(response.json).toMatchObject({ invocations: 0, inputTokens: 0, costUsd: "0.000000", budget: null, asOf: null });
        if ("breakdown" in response.json) expect(response.json.breakdown).toStrictEqual([]);
        expect(response.json.tenantId).not.toBe("acme");
      } else {
        expect([400, 404]).toContain(response.statusCode);
        expect(Object.keys(response.json).slice(0, 7)).toStrictEqual(PROBLEM_KEYS);
      }
    }
    // The budget route still says 404 for a tenant with no item, where the id is valid.
    expect([400, 404]).toContain(responses[3]?.statusCode);
  });

  it.each(LOOKALIKES)("never changes or deletes acme's budget through the tenant id %j", async (segment) => {
    // Act
    const put = await api.call(request("PUT", `/v1/tenants/${segment}/budget`, { body: '{"monthlyUsd":"1.00","thresholds":[1]}' }));
    const spendAfterPut = await api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { month: "2026-11" } }));
    const deleted = await api.call(request("DELETE", `/v1/tenants/${segment}/budget`));
    const acmeBudget = await api.call(request("GET", "/v1/tenants/acme/budget"));
    const acmeSpend = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11" } }));

    // Assess
    // 404: a literal / makes the path unknown.
    expect([200, 400, 404]).toContain(put.statusCode);
    if (put.statusCode === 200) {
      // The look-alike became a tenant of its own: its own budget, none of acme's usage.
      expect(put.json.tenantId).not.toBe("acme");
      expect(spendAfterPut.json).toMatchObject({ invocations: 0, inputTokens: 0, budget: { monthlyUsd: "1.00", thresholds: [1] } });
      expect(deleted.statusCode).toBe(200);
    } else {
      expect(spendAfterPut.statusCode).toBe(put.statusCode);
      expect(deleted.statusCode).toBe(put.statusCode);
    }
    expect(acmeBudget.json).toStrictEqual({ tenantId: "acme", budget: ACME_BUDGET, source: "tenant" });
    expect(await api.store.getBudget("acme")).toStrictEqual(ACME_BUDGET);
    expect(acmeSpend.json).toMatchObject({ tenantId: "acme", invocations: 2, inputTokens: 5321, budget: ACME_BUDGET });
  });

  it("serves acme under its id with surrounding whitespace, as the pipeline attributes such metadata to acme", async () => {
    // Act
    const responses = await Promise.all(
      ["acme ", "%20acme", "acme%0A", "%09acme%0D%0A"].map((segment) =>
        api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { month: "2026-11" } })),
      ),
    );

    // Assess
    for (const response of responses) expect(response.json).toMatchObject({ tenantId: "acme", invocations: 2, inputTokens: 5321, budget: ACME_BUDGET });
  });

  it("serves acme however its own id is percent-encoded", async () => {
    // Act
    const responses = await Promise.all(
      ["acme", "%61cme", "%61%63%6D%65", "%61%63%6d%65"].map((segment) => api.call(request("GET", `/v1/tenants/${segment}/spend`))),
    );

    // Assess
    for (const response of responses) expect(response.json).toMatchObject({ tenantId: "acme", invocations: 2, inputTokens: 5321 });
  });

  it("keeps a tenant whose id holds the key delimiter apart from its prefix", async () => {
    // Prepare
    await api.write([invocation("i3", { tenant: "acme#eu", input: 7, output: 1 })]);

    // Act
    const acme = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11" } }));
    const acmeEu = await api.call(request("GET", "/v1/tenants/acme%23eu/spend", { query: { month: "2026-11" } }));

    // Assess
    expect(acme.json).toMatchObject({ invocations: 2, inputTokens: 5321 });
    expect(acmeEu.json).toMatchObject({ tenantId: "acme#eu", invocations: 1, inputTokens: 7, budget: null });
  });
});

/** The characters of a Bedrock metadata value, which are what a tenant id may hold. */
const VALID_TENANT_ID = /^[a-zA-Z0-9 \t\n\v\f\r:_@$#=/+,\-.]{1,256}$/;

/** Characters the generated ids are drawn from: delimiters, escapes and hex digits weigh heavily. */
const ALPHABET = ["a", "c", "e", "m", "A", "M", "T", "D", "B", "0", "2", "3", "5", "#", "#", "%", "%", "/", ":", "-", " ", "+", "=", "\t", "?", "é"];

/** What the API must answer for a raw path segment, given the data written per tenant id. */
function expectedFor(
  segment: string,
  model: ReadonlyMap<string, TenantData>,
): { status: 200; tenantId: string; data: TenantData } | { status: 400 } | { status: 404; tenantId: string } {
  let tenantId: string;
  try {
    tenantId = decodeURIComponent(segment);
  } catch {
    return { status: 400 };
  }
  tenantId = normalizeId(tenantId);
  if (!VALID_TENANT_ID.test(tenantId)) return { status: 400 };
  const data = model.get(tenantId);
  return data ? { status: 200, tenantId, data } : { status: 404, tenantId };
}

interface TenantData {
  invocations: number;
  budget: { monthlyUsd: string; thresholds: number[] };
}

/** A segment as a client might send it: encoded once, or literal (only `/` escaped, `%` left to decode). */
function segmentsOf(tenantId: string): string[] {
  return [encodeURIComponent(tenantId), tenantId.replace(/\//g, "%2F")];
}

describe("Property: the spend API returns only data written for exactly the tenant id asked for", () => {
  it("holds for random tenant ids with #, % and escapes", async () => {
    const tenantId = fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 10 }).map((chars) => chars.join(""));
    // What the pipeline writes: attribution normalizes every id it counts.
    const countedId = tenantId.map(normalizeId).filter((id) => id.length > 0);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(countedId, { minLength: 1, maxLength: 4 }), fc.array(tenantId, { maxLength: 3 }), async (written, probes) => {
        // Prepare: tenant i gets i+1 invocations (150 micro-USD each) and a budget of i+1 dollars.
        run++;
        const api = await freshApi();
        const model = new Map<string, TenantData>();
        const invocations = written.flatMap((id, index) =>
          Array.from({ length: index + 1 }, (_, k) => invocationOf(id, `p${run}-${index}-${k}`, { timestamp: "2026-11-27T10:00:00Z", input: 100, output: 10 })),
        );
        await api.write(invocations);
        for (const [index, id] of written.entries()) {
          const budget = { monthlyUsd: `${index + 1}.00`, thresholds: [50, 100] };
          await api.store.putBudget(id, budget);
          model.set(id, { invocations: index + 1, budget });
        }
        const asked = [...written, ...probes].flatMap((id) => [id, `${id}#M#2026-11`, `T#${id}`, `${id}#BUDGET`, `${id}%23`]);
        const segments = [...new Set(asked.flatMap(segmentsOf))];

        for (const segment of segments) {
          // Act
          const spend = await api.call(request("GET", `/v1/tenants/${segment}/spend`, { query: { month: "2026-11", by: "model" } }));
          const budget = await api.call(request("GET", `/v1/tenants/${segment}/budget`));

          // Assess
          const expected = expectedFor(segment, model);
          // A valid id with nothing written has zero spend (200), and no budget (404).
          expect(spend.statusCode, segment).toBe(expected.status === 404 ? 200 : expected.status);
          expect(budget.statusCode, segment).toBe(expected.status);
          if (expected.status === 200) {
            const { tenantId: id, data } = expected;
            expect(spend.json).toMatchObject({ tenantId: id, invocations: data.invocations, inputTokens: 100 * data.invocations, budget: data.budget });
            expect(spend.json.costUsd).toBe(formatUsd(150_000_000n * BigInt(data.invocations)));
            expect(spend.json.breakdown).toHaveLength(1);
            expect(spend.json.breakdown[0].invocations).toBe(data.invocations);
            expect(budget.json).toStrictEqual({ tenantId: id, budget: data.budget, source: "tenant" });
          } else if (expected.status === 404) {
            expect(spend.json).toMatchObject({ tenantId: expected.tenantId, invocations: 0, inputTokens: 0, budget: null, asOf: null, breakdown: [] });
            expect(Object.keys(budget.json).slice(0, 7)).toStrictEqual(PROBLEM_KEYS);
          } else {
            expect(Object.keys(spend.json).slice(0, 7)).toStrictEqual(PROBLEM_KEYS);
          }
        }

        // Act: a budget PUT through every probe segment changes at most the tenant it decodes to.
        for (const segment of [...new Set(probes.flatMap(segmentsOf))]) {
          const put = await api.call(request("PUT", `/v1/tenants/${segment}/budget`, { body: '{"monthlyUsd":"999.00"}' }));
          const expected = expectedFor(segment, model);
          if (expected.status === 400) expect(put.statusCode).toBe(400);
          else {
            expect(put.statusCode).toBe(200);
            const id = normalizeId(decodeURIComponent(segment));
            model.set(id, { invocations: model.get(id)?.invocations ?? 0, budget: { monthlyUsd: "999.00", thresholds: [50, 80, 100] } });
          }
        }

        // Assess
        for (const [id, data] of model) expect(await api.store.getBudget(id), id).toStrictEqual(data.budget);
      }),
      { numRuns: 25 },
    );
  });
});

describe("Invariant: a tenant's token never sees another tenant, across tenants included", () => {
  let api: ApiFixture;
  let admin: ApiFixture;

  beforeAll(async () => {
    api = await withReportSources(await freshApi());
    await api.write([
      invocation("x1", { tenant: "acme", timestamp: "2026-11-27T10:00:00Z", input: 4321, output: 123 }),
      invocation("x2", { tenant: "globex", timestamp: "2026-11-03T10:00:00Z", input: 7777, output: 10 }),
    ]);
    await api.store.markAlertFired({
      kind: "threshold",
      threshold: 80,
      tenantId: "globex",
      month: "2026-11",
      spendUsd: "8.000000",
      budgetUsd: "10.00",
      forecastUsd: "16.000000",
    });
    admin = {
      ...api,
      call: (request) => handleSpendApi(request, { ...api.deps, adminScope: "spend:admin" }).then((r) => ({ ...r, json: JSON.parse(r.body) })),
    };
  });

  const REPORT_QUERIES: Record<string, string>[] = [
    {},
    { month: "2026-11" },
    { groupBy: "model" },
    { groupBy: "tenant", limit: "1" },
    { from: "2026-11-01", to: "2026-11-30" },
    { groupBy: "department" },
    { groupBy: "nonsense" },
    { cursor: "not-a-cursor" },
  ];

  it.each(REPORT_QUERIES)("refuses a tenant's token on GET /v1/spend with %j, before reading any input", async (query) => {
    // Act
    const own = await api.call(jwtRequest("GET", "/v1/spend", { tenant_id: "acme" }, query));
    const scoped = await api.call(jwtRequest("GET", "/v1/spend", { tenant_id: "acme", scope: "openid spend:admin" }, query));

    // Assess: no admin scope is configured for `api`, so even a token claiming one is a tenant's.
    for (const response of [own, scoped]) {
      expect(response.statusCode).toBe(403);
      expect(response.json.code).toBe("Forbidden");
      expect(response.body).not.toMatch(/globex|7777|acme"/);
    }
  });

  it("refuses a token without the admin scope when one is configured, and serves one with it", async () => {
    // Act
    const tenant = await admin.call(jwtRequest("GET", "/v1/spend", { tenant_id: "acme", scope: "openid" }, { month: "2026-11" }));
    const operator = await admin.call(jwtRequest("GET", "/v1/spend", { sub: "ops", scp: "[openid spend:admin]" }, { month: "2026-11" }));

    // Assess
    expect(tenant.statusCode).toBe(403);
    expect(tenant.json.detail).toBe("spend across tenants needs IAM or the admin scope spend:admin");
    expect(operator.statusCode).toBe(200);
    expect(operator.json.groups.map((group: { key: string }) => group.key)).toStrictEqual(["globex", "acme"]);
  });

  it("gives a tenant's token its own alerts only", async () => {
    // Act
    const own = await api.call(jwtRequest("GET", "/v1/tenants/globex/alerts", { tenant_id: "globex" }));
    const other = await api.call(jwtRequest("GET", "/v1/tenants/globex/alerts", { tenant_id: "acme" }));
    const acme = await api.call(jwtRequest("GET", "/v1/tenants/acme/alerts", { tenant_id: "acme" }));

    // Assess
    expect(own.statusCode).toBe(200);
    expect(own.json.alerts).toHaveLength(1);
    expect(other.statusCode).toBe(403);
    expect(other.body).not.toContain("080");
    expect(acme.json).toStrictEqual({ tenantId: "acme", alerts: [] });
  });
});
