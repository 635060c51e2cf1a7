/**
 * `GET /v1/spend` (spend across tenants) and the tenant spend's breakdowns by dimension, on
 * DynamoDB Local and a DuckDB lake: each source a report reads (the month totals' rank entries,
 * the breakdowns' by-period index, the lake), exact sums, the (cost desc, key asc) order, and the
 * opaque cursor, property-tested to neither lose nor repeat a group on the ranked and lake paths.
 */
import { addCounters, emptyCounters, formatUsd, type UsageCounters } from "@bedrock-spend/core";
import type { InvocationToCount } from "@bedrock-spend/store";
import { UsageWriter } from "@bedrock-spend/store";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, handleSpendApi, LakeReportError, lakeGroupsOf, lakeReportSql, REPORT_GROUP_BY, type SpendApiStore } from "../src/index";
import { type ApiFixture, AS_OF, freshApi, invocationOf, problem, request, withReportSources } from "./helpers/fixtures";

const HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA = "us.amazon.nova-lite-v1:0";

/** An invocation with attribution fields set on its record (what the pipeline reads from requestMetadata). */
function attributed(
  tenantId: string,
  requestId: string,
  fields: Parameters<typeof invocationOf>[2] & { department?: string; application?: string } = {},
): InvocationToCount {
  const counted = invocationOf(tenantId, requestId, fields);
  return { ...counted, record: { ...counted.record, department_id: fields.department ?? null, application_id: fields.application ?? null } };
}

type Group = { key: string; invocations: number; inputTokens: number; costUsd: string };

/** Every page of a report, following nextCursor. */
async function allPages(api: ApiFixture, query: Record<string, string>): Promise<{ groups: Group[]; pages: number }> {
  const groups: Group[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await api.call(request("GET", "/v1/spend", { query: { ...query, ...(cursor ? { cursor } : {}) } }));
    expect(response.statusCode, response.body).toBe(200);
    groups.push(...response.json.groups);
    cursor = response.json.nextCursor ?? undefined;
    pages++;
  } while (cursor !== undefined);
  return { groups, pages };
}

describe("Function: GET /v1/spend across tenants on DynamoDB Local", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    const sourced = await withReportSources(await freshApi());
    api = sourced;
    const writer = new UsageWriter({ client: api.client, tableName: api.tableName, breakdowns: ["departmentId", "applicationId"] });
    // Haiku 4.5 global: 1 input token = 1 micro-USD. globex and initech tie at 3000 micro-USD.
    const invocations = [
      attributed("acme", "r1", { model: HAIKU, timestamp: "2026-11-03T08:00:00Z", input: 5000, output: 0, department: "sales", application: "chat" }),
      attributed("acme", "r2", { model: NOVA, timestamp: "2026-11-27T08:00:00Z", input: 1000, output: 100, department: "support" }),
      attributed("globex", "r3", { model: HAIKU, timestamp: "2026-11-03T09:00:00Z", input: 3000, output: 0, department: "sales" }),
      attributed("initech", "r4", { model: HAIKU, timestamp: "2026-11-30T23:59:59Z", input: 3000, output: 0, application: "chat" }),
      attributed("umbrella", "r5", { model: HAIKU, timestamp: "2026-10-31T23:59:59Z", input: 9000, output: 0, department: "sales" }),
      attributed("umbrella", "r6", { model: "us.acme.unknown-v1:0", timestamp: "2026-11-04T00:00:00Z", input: 50, output: 5 }),
    ];
    const outcome = await writer.write(invocations);
    expect(outcome.failed).toStrictEqual([]);
    await sourced.record(invocations);
  });

  it("ranks the tenants of a month by cost, highest first, ties by key, exact to the pico-dollar", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11" } }));

    // Assess: acme 5000 + (1000 x 0.06 + 100 x 0.24) = 5084 micro-USD; umbrella's unknown model is unpriced.
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(response.json).toStrictEqual({
      period: "2026-11",
      groupBy: "tenant",
      groups: [
        {
          key: "acme",
          invocations: 2,
          unpricedInvocations: 0,
          inputTokens: 6000,
          outputTokens: 100,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: "0.005084",
        },
        {
          key: "globex",
          invocations: 1,
          unpricedInvocations: 0,
          inputTokens: 3000,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: "0.003000",
        },
        {
          key: "initech",
          invocations: 1,
          unpricedInvocations: 0,
          inputTokens: 3000,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: "0.003000",
        },
        {
          key: "umbrella",
          invocations: 1,
          unpricedInvocations: 1,
          inputTokens: 50,
          outputTokens: 5,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: "0.000000",
        },
      ],
      nextCursor: null,
      asOf: AS_OF,
    });
  });

  it("defaults to groupBy=tenant over the current month", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/spend"));

    // Assess
    expect(response.json).toMatchObject({ period: "2026-11", groupBy: "tenant" });
    expect(response.json.groups).toHaveLength(4);
  });

  it("adds up exactly: every tenant's group equals its own spend, and groupBy=model over the same period sums to the same total", async () => {
    // Act
    const tenants = await allPages(api, { month: "2026-11", limit: "2" });
    const models = await allPages(api, { month: "2026-11", groupBy: "model", limit: "1" });
    const own = await Promise.all(tenants.groups.map((group) => api.call(request("GET", `/v1/tenants/${group.key}/spend`, { query: { month: "2026-11" } }))));

    // Assess
    expect(tenants.pages).toBe(2);
    expect(models.pages).toBe(3);
    expect(tenants.groups.map((group) => group.costUsd)).toStrictEqual(own.map((response) => response.json.costUsd));
    expect(sumUsd(models.groups)).toBe(sumUsd(tenants.groups));
    expect(models.groups.map((group) => group.key)).toStrictEqual(["anthropic.claude-haiku-4-5-20251001-v1:0", "amazon.nova-lite-v1:0", "acme.unknown-v1:0"]);
  });

  it("sums a from/to range across a month boundary from whole months' items and the remaining days' items, exactly", async () => {
    // Act: Oct 31 (a day) + all of November (a whole month); then the same as days only.
    const mixed = await api.call(request("GET", "/v1/spend", { query: { from: "2026-10-31", to: "2026-11-30" } }));
    const months = await api.call(request("GET", "/v1/spend", { query: { from: "2026-10", to: "2026-11", groupBy: "model" } }));
    const days = await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-03", to: "2026-11-04", groupBy: "tenant" } }));

    // Assess
    expect(mixed.json.period).toBe("2026-10-31/2026-11-30");
    expect(mixed.json.groups.map((group: Group) => [group.key, group.costUsd])).toStrictEqual([
      ["umbrella", "0.009000"],
      ["acme", "0.005084"],
      ["globex", "0.003000"],
      ["initech", "0.003000"],
    ]);
    expect(months.json.period).toBe("2026-10-01/2026-11-30");
    expect(sumUsd(months.json.groups)).toBe(sumUsd(mixed.json.groups));
    expect(days.json.groups.map((group: Group) => [group.key, group.costUsd])).toStrictEqual([
      ["acme", "0.005000"],
      ["globex", "0.003000"],
      ["umbrella", "0.000000"],
    ]);
  });

  it("groups by a breakdown dimension from the monthly breakdown items, and refuses partial months for it", async () => {
    // Act
    const departments = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11", groupBy: "department" } }));
    const applications = await api.call(request("GET", "/v1/spend", { query: { from: "2026-10", to: "2026-11", groupBy: "application" } }));
    const partial = await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-02", to: "2026-11-30", groupBy: "department" } }));

    // Assess: invocations without the attribute are in no group.
    expect(departments.json.groups.map((group: Group) => [group.key, group.invocations, group.costUsd])).toStrictEqual([
      ["sales", 2, "0.008000"],
      ["support", 1, "0.000084"],
    ]);
    expect(applications.json.groups.map((group: Group) => [group.key, group.costUsd])).toStrictEqual([["chat", "0.008000"]]);
    expect(partial.statusCode).toBe(400);
    expect(partial.json).toStrictEqual(problem("BadRequest", expect.stringContaining("whole months"), { field: "from" }));
  });

  it("answers an unknown groupBy with a 400 naming the allowed values", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/spend", { query: { groupBy: "team" } }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(response.json).toStrictEqual(
      problem("BadRequest", 'groupBy must be one of tenant, tenantGroup, department, application, user, model; got "team"', {
        field: "groupBy",
        allowed: [...REPORT_GROUP_BY],
      }),
    );
  });

  it.each([
    ["limit 0", { limit: "0" }, "limit"],
    ["limit 1001", { limit: "1001" }, "limit"],
    ["limit 1.5", { limit: "1.5" }, "limit"],
    ["from without to", { from: "2026-11-01" }, "to"],
    ["to before from", { from: "2026-11-05", to: "2026-11-04" }, "to"],
    ["a range over 366 days", { from: "2025-01-01", to: "2026-01-02" }, "to"],
    ["month and from", { month: "2026-11", from: "2026-11-01", to: "2026-11-02" }, "from"],
    ["February 30", { from: "2026-02-30", to: "2026-03-01" }, "from"],
    ["an unknown parameter", { tenant: "acme" }, "tenant"],
  ])("answers 400 for %s", async (_name, query, field) => {
    // Act
    const response = await api.call(request("GET", "/v1/spend", { query }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.field).toBe(field);
  });

  it("refuses a cursor it did not issue, or issued for another query, with a 400 naming cursor", async () => {
    // Prepare
    const first = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11", limit: "1" } }));
    const cursor: string = first.json.nextCursor;
    const tampered = [
      `${cursor.slice(0, -2)}${cursor.at(-2) === "A" ? "B" : "A"}${cursor.at(-1)}`,
      `${cursor}=`,
      "not a cursor",
      Buffer.from("not json").toString("base64url"),
      Buffer.from(JSON.stringify({ v: 2, g: "tenant", p: "2026-11", c: "1", k: "acme" })).toString("base64url"),
      Buffer.from(JSON.stringify({ v: 1, g: "tenant", p: "2026-11", c: "-1", k: "acme" })).toString("base64url"),
      Buffer.from(JSON.stringify({ v: 1, g: "tenant", p: "2026-11", c: "1", k: "acme", extra: 1 })).toString("base64url"),
      "A".repeat(2000),
    ];

    // Act
    const answers = await Promise.all(tampered.map((bad) => api.call(request("GET", "/v1/spend", { query: { month: "2026-11", limit: "1", cursor: bad } }))));
    const otherQuery = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11", groupBy: "model", cursor } }));
    const otherPeriod = await api.call(request("GET", "/v1/spend", { query: { month: "2026-10", cursor } }));

    // Assess
    expect(decodeCursor(cursor, { groupBy: "tenant", period: "2026-11" })).toStrictEqual({ costPico: 5_084_000_000n, key: "acme" });
    for (const answer of [...answers, otherQuery, otherPeriod]) {
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.json.field).toBe("cursor");
    }
    expect(otherQuery.json.detail).toBe("the cursor belongs to groupBy=tenant over 2026-11, not groupBy=model over 2026-11");
  });

  it("serves the tenant spend broken down by a dimension for a month, and refuses it for a day", async () => {
    // Act
    const month = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-11", by: "department" } }));
    const day = await api.call(request("GET", "/v1/tenants/acme/spend", { query: { day: "2026-11-03", by: "department" } }));

    // Assess
    expect(month.json.costUsd).toBe("0.005084");
    expect(month.json.breakdown.map((row: Group) => [row.key, row.costUsd])).toStrictEqual([
      ["sales", "0.005000"],
      ["support", "0.000084"],
    ]);
    expect(day.statusCode).toBe(400);
    expect(day.json.field).toBe("by");
  });

  it("names the dimensions a deployment keeps when asked for another", async () => {
    // Prepare
    const deps = { ...api.deps, breakdowns: ["departmentId" as const] };

    // Act
    const report = await handleSpendApi(request("GET", "/v1/spend", { query: { groupBy: "user" } }), deps);
    const spend = await handleSpendApi(request("GET", "/v1/tenants/acme/spend", { query: { by: "application" } }), deps);
    const kept = await handleSpendApi(request("GET", "/v1/spend", { query: { groupBy: "department" } }), deps);

    // Assess
    expect(report.statusCode).toBe(400);
    expect(JSON.parse(report.body)).toMatchObject({ field: "groupBy", allowed: ["tenant", "model", "department"] });
    expect(JSON.parse(spend.body)).toMatchObject({ field: "by", allowed: ["model", "day", "department"] });
    expect(kept.statusCode).toBe(200);
  });

  it("reads the asOf of a ranked month from its totals, and of a lake report from the newest invocation the lake holds", async () => {
    // Act
    const ranked = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11" } }));
    const lake = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11", groupBy: "model" } }));
    const days = await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-03", to: "2026-11-04" } }));

    // Assess
    const own = await Promise.all(
      ranked.json.groups.map((group: Group) => api.call(request("GET", `/v1/tenants/${group.key}/spend`, { query: { month: "2026-11" } }))),
    );
    expect(ranked.json.asOf).toStrictEqual(AS_OF);
    expect(ranked.json.asOf).toBe(
      own
        .map((response) => response.json.asOf as string)
        .sort()
        .at(-1),
    );
    expect(lake.json.asOf).toBe("2026-11-30T23:59:59Z");
    expect(days.json.asOf).toBe("2026-11-04T00:00:00Z");
  });

  it("reads a month whose rank entries may be incomplete (it began before the rank marker) from the lake, and answers 503 when there is no lake", async () => {
    // Prepare: a store whose month began before the stream consumer followed every change.
    const unranked: SpendApiStore = Object.assign(Object.create(api.store) as SpendApiStore, { rankComplete: async () => false });

    // Act
    const fromLake = await handleSpendApi(request("GET", "/v1/spend", { query: { month: "2026-11" } }), { ...api.deps, store: unranked });
    const noLake = await handleSpendApi(request("GET", "/v1/spend", { query: { month: "2026-11" } }), { ...api.deps, store: unranked, lake: undefined });
    const modelNoLake = await handleSpendApi(request("GET", "/v1/spend", { query: { month: "2026-11", groupBy: "model" } }), { ...api.deps, lake: undefined });
    const rankedNoLake = await handleSpendApi(request("GET", "/v1/spend", { query: { month: "2026-11" } }), { ...api.deps, lake: undefined });

    // Assess: the same groups either way.
    const ranked = await api.call(request("GET", "/v1/spend", { query: { month: "2026-11" } }));
    expect(JSON.parse(fromLake.body).groups).toStrictEqual(ranked.json.groups);
    for (const unavailable of [noLake, modelNoLake]) {
      expect(unavailable.statusCode).toBe(503);
      expect(JSON.parse(unavailable.body).detail).toContain("reads the lake, and this API has none configured");
    }
    expect(rankedNoLake.statusCode).toBe(200);
  });

  it("answers 503 when the table has no by-period index yet, and 500 for any other failure", async () => {
    // Prepare
    const missing = Object.assign(new Error("The table does not have the specified index: by-period"), { name: "ValidationException" });
    const store = (error: Error): SpendApiStore => ({ ...api.store, periodItems: () => Promise.reject(error) }) as unknown as SpendApiStore;
    const departments = request("GET", "/v1/spend", { query: { groupBy: "department" } });

    // Act
    const unavailable = await handleSpendApi(departments, { ...api.deps, store: store(missing) });
    const broken = await handleSpendApi(departments, { ...api.deps, store: store(new Error("secret")) });

    // Assess
    expect(unavailable.statusCode).toBe(503);
    expect(JSON.parse(unavailable.body)).toStrictEqual(
      problem("ServiceUnavailable", "the aggregates table has no by-period index yet; deploy the current stack"),
    );
    expect(broken.statusCode).toBe(500);
    expect(broken.body).not.toContain("secret");
  });
});

describe("The lake report (DuckDB, the SQL Athena runs)", () => {
  it("counts a request id the lake holds twice once, keys an unpriced model by its resolved id, and sums exactly over a partial month", async () => {
    // Prepare: the lake on AWS is at least once; a Firehose retry delivers r1 again.
    const api = await withReportSources(await freshApi());
    const first = attributed("acme", "l1", { model: HAIKU, timestamp: "2026-11-03T08:00:00Z", input: 1234, output: 56 });
    const unknown = attributed("acme", "l2", { model: "us.acme.unknown-v1:0", timestamp: "2026-11-03T09:00:00Z", input: 7, output: 0 });
    await api.write([first, unknown]);
    await api.record([first]);

    // Act
    const models = await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-03", to: "2026-11-03", groupBy: "model" } }));
    const tenants = await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-02", to: "2026-11-29" } }));

    // Assess: 1234 x 1 + 56 x 5 micro-USD.
    expect(models.json.groups.map((group: Group) => [group.key, group.invocations, group.inputTokens, group.costUsd])).toStrictEqual([
      ["anthropic.claude-haiku-4-5-20251001-v1:0", 1, 1234, "0.001514"],
      ["acme.unknown-v1:0", 1, 7, "0.000000"],
    ]);
    expect(tenants.json.groups).toStrictEqual([expect.objectContaining({ key: "acme", invocations: 2, unpricedInvocations: 1, costUsd: "0.001514" })]);
  });

  it("names each month whole by its partition and other days by theirs", () => {
    // Act
    const sql = lakeReportSql("invocations", "tenant", "2026-10-30", "2026-12-01");

    // Assess
    expect(sql).toContain("(year = '2026' AND month = '10' AND day IN ('30', '31'))");
    expect(sql).toContain("(year = '2026' AND month = '11')");
    expect(sql).toContain("(year = '2026' AND month = '12' AND day IN ('01'))");
    expect(() => lakeReportSql("invocations", "tenant", "2026-10", "2026-11-01")).toThrow(LakeReportError);
  });

  it("reads Athena's text exactly, and refuses a row it cannot read naming the column", () => {
    // Prepare: GetQueryResults gives every value as text; Trino writes a decimal with its scale.
    const row = {
      group_key: "acme",
      invocations: "3",
      unpriced_invocations: "1",
      input_tokens: "9007199254740991",
      output_tokens: "0",
      cache_read_tokens: "0",
      cache_write_tokens: "0",
      cost_usd: "12345.000000000001",
      newest: "2026-11-03 08:00:00.000",
    };

    // Act
    const read = lakeGroupsOf([row, { ...row, group_key: null }]);

    // Assess
    expect(read.asOf).toBe("2026-11-03T08:00:00Z");
    expect([...read.groups.keys()]).toStrictEqual(["acme"]);
    expect(read.groups.get("acme")).toMatchObject({ invocations: 3, inputTokens: 9007199254740991, costPico: 12_345_000_000_000_001n });
    for (const [column, value] of [
      ["invocations", "1.5"],
      ["input_tokens", "9007199254740993"],
      ["cost_usd", "1e3"],
      ["newest", "yesterday"],
    ] as const) {
      expect(() => lakeGroupsOf([{ ...row, [column]: value }])).toThrow(expect.objectContaining({ name: "LakeReportError", column }));
    }
  });
});

describe("Property: the report's cursor neither loses nor repeats a group (DynamoDB Local)", () => {
  it("pages every group exactly once, in (cost desc, key asc) order, for any data and page size", { timeout: 240_000 }, async () => {
    // Tenants ranked from the month totals' rank entries, models from the lake.
    const api = await withReportSources(await freshApi());
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // Few distinct token counts: many ties in cost, which only the key can order.
        fc.array(
          fc.record({
            tenant: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "a#1", "a%23", "Z", "é".normalize()),
            input: fc.constantFrom(0, 1, 2, 5),
            model: fc.constantFrom(HAIKU, NOVA),
          }),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("tenant", "model"),
        async (calls, limit, groupBy) => {
          // Prepare: each run in a month of its own, so the runs share the table but not a period.
          run++;
          const month = `20${String(10 + Math.floor(run / 12)).padStart(2, "0")}-${String((run % 12) + 1).padStart(2, "0")}`;
          const valid = calls.filter((call) => /^[A-Za-z0-9#%]+$/.test(call.tenant));
          if (valid.length === 0) return;
          await api.write(
            valid.map((call, index) =>
              invocationOf(call.tenant, `prop-${run}-${index}`, { model: call.model, timestamp: `${month}-15T10:00:00Z`, input: call.input, output: 0 }),
            ),
          );
          const expected = new Map<string, UsageCounters>();
          for (const call of valid) {
            const key = groupBy === "tenant" ? call.tenant : call.model === HAIKU ? "anthropic.claude-haiku-4-5-20251001-v1:0" : "amazon.nova-lite-v1:0";
            const sum = expected.get(key) ?? emptyCounters();
            sum.invocations += 1;
            sum.inputTokens += call.input;
            expected.set(key, sum);
          }

          // Act
          const { groups, pages } = await allPages(api, { month, groupBy, limit: String(limit) });

          // Assess
          const keys = groups.map((group) => group.key);
          expect(new Set(keys).size).toBe(keys.length);
          expect([...keys].sort()).toStrictEqual([...expected.keys()].sort());
          expect(pages).toBe(Math.max(1, Math.ceil(expected.size / limit)));
          for (const group of groups)
            expect([group.invocations, group.inputTokens]).toStrictEqual([expected.get(group.key)?.invocations, expected.get(group.key)?.inputTokens]);
          const order = groups.map((group) => [picoOf(group.costUsd), group.key] as const);
          for (let index = 1; index < order.length; index++) {
            const [costBefore, keyBefore] = order[index - 1] as readonly [bigint, string];
            const [cost, key] = order[index] as readonly [bigint, string];
            expect(costBefore > cost || (costBefore === cost && keyBefore < key), `${keyBefore} before ${key}`).toBe(true);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("round-trips any position through the opaque cursor", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.string({ maxLength: 300 }), fc.constantFrom(...REPORT_GROUP_BY), (cost, key, groupBy) => {
        const cursor = encodeCursor({ g: groupBy, p: "2026-11", c: cost.toString(), k: key });
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(cursor, { groupBy, period: "2026-11" })).toStrictEqual({ costPico: cost, key });
      }),
    );
  });
});

/** Pico-dollars of an exact USD decimal string. */
function picoOf(usd: string): bigint {
  const [whole = "0", fraction = ""] = usd.split(".");
  return BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, "0"));
}

function sumUsd(groups: readonly { costUsd: string }[]): string {
  const total = emptyCounters();
  for (const group of groups) addCounters(total, { ...emptyCounters(), costPico: picoOf(group.costUsd) });
  return formatUsd(total.costPico);
}
