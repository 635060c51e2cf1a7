/**
 * Invariant 7, tenant isolation: no request returns, changes or deletes another tenant's data,
 * whatever tenant id it names, however that id is encoded.
 */
import { formatUsd, normalizeId } from "@bedrock-spend/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, freshApi, invocation, invocationOf, request } from "./helpers/fixtures";

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
    ]);

    // Assess
    for (const response of responses) {
      expect([400, 404]).toContain(response.statusCode);
      expect(Object.keys(response.json)).toStrictEqual(["error"]);
      expect(response.body).not.toMatch(/4321|5321|100\.00/);
    }
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
function expectedFor(segment: string, model: ReadonlyMap<string, TenantData>): { status: 200; tenantId: string; data: TenantData } | { status: 400 | 404 } {
  let tenantId: string;
  try {
    tenantId = decodeURIComponent(segment);
  } catch {
    return { status: 400 };
  }
  tenantId = normalizeId(tenantId);
  if (!VALID_TENANT_ID.test(tenantId)) return { status: 400 };
  const data = model.get(tenantId);
  return data ? { status: 200, tenantId, data } : { status: 404 };
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
          expect(spend.statusCode, segment).toBe(expected.status);
          expect(budget.statusCode, segment).toBe(expected.status);
          if (expected.status === 200) {
            const { tenantId: id, data } = expected;
            expect(spend.json).toMatchObject({ tenantId: id, invocations: data.invocations, inputTokens: 100 * data.invocations, budget: data.budget });
            expect(spend.json.costUsd).toBe(formatUsd(150_000_000n * BigInt(data.invocations)));
            expect(spend.json.breakdown).toHaveLength(1);
            expect(spend.json.breakdown[0].invocations).toBe(data.invocations);
            expect(budget.json).toStrictEqual({ tenantId: id, budget: data.budget, source: "tenant" });
          } else {
            expect(Object.keys(spend.json)).toStrictEqual(["error"]);
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
