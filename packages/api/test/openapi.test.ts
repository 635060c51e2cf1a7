/**
 * docs/openapi.yaml against the handler: the committed file is the document generated from the zod
 * schemas, the same routes and query parameters both ways, schemas that the handler's real
 * responses satisfy, and examples that satisfy the schemas.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { SPEND_API_ROUTES } from "../src/index";
import { openApiYaml } from "../src/openapi";
import { type ApiFixture, freshApi, invocation, jwtRequest, repriceAudit, request, withReportSources } from "./helpers/fixtures";
import {
  type DocumentedOperation,
  type Json,
  loadOpenApi,
  OPENAPI_PATH,
  operationsOf,
  referencesOf,
  resolve,
  responseMediaType,
  responseSchema,
  validate,
} from "./helpers/openapi";
import { parseYamlSubset } from "./helpers/yaml";

const doc = loadOpenApi();
const operations = operationsOf(doc);

/** A reprice in the fixture's audit trail. */
const AUDIT = repriceAudit("20261202T100000123Z-1c2d3e4f5a6b");

/** A concrete path of a template. */
function pathOf(template: string, tenantId = "acme"): string {
  return template.replace("{tenantId}", encodeURIComponent(tenantId)).replace("{repriceId}", AUDIT.id);
}

/** The schema of a response, checked against the media type the handler sent. */
function documentedSchema(doc: Json, operation: Json, response: { statusCode: number; headers: Record<string, string> }): Json {
  expect(response.headers["content-type"], `${operation.operationId} ${response.statusCode}`).toBe(
    responseMediaType(doc, operation, String(response.statusCode)),
  );
  return responseSchema(doc, operation, String(response.statusCode));
}

describe("Document: docs/openapi.yaml", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await withReportSources(
      await freshApi({ defaultBudget: { monthlyUsd: "250.00", thresholds: [80, 100] }, deps: { reprices: { list: async () => [AUDIT] } } }),
    );
    await api.write([
      invocation("o1", { tenant: "acme", input: 1000, output: 100, cacheRead: 10 }),
      invocation("o2", { tenant: "acme", model: "us.amazon.nova-lite-v1:0", timestamp: "2026-11-03T00:00:00Z" }),
      invocation("o3", { tenant: "acme", model: "us.acme.unknown-v1:0" }),
    ]);
  });

  it("is the document generated from the zod schemas, byte for byte (run scripts/generate-openapi.ts after changing them)", () => {
    // Act
    const generated = openApiYaml();

    // Assess
    expect(readFileSync(OPENAPI_PATH, "utf8")).toBe(generated);
    expect(parseYamlSubset(generated)).toStrictEqual(doc);
  });

  it("is OpenAPI 3.1 with SigV4 and JWT security schemes", () => {
    // Assess
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const schemes = (doc.components as Json).securitySchemes as Json;
    expect(schemes.sigv4).toMatchObject({ type: "apiKey", in: "header", name: "Authorization", "x-amazon-apigateway-authtype": "awsSigv4" });
    expect(schemes.jwt).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.security).toStrictEqual([{ sigv4: [] }, { jwt: [] }]);
    expect(Object.keys((doc.components as Json).schemas as Json)).toEqual(
      expect.arrayContaining(["Spend", "SpendBreakdownRow", "Budget", "Problem", "Report", "ReportGroup", "AlertList", "Forecast"]),
    );
  });

  it("resolves every $ref", () => {
    // Act
    const unresolved = referencesOf(doc).filter(({ ref }) => {
      try {
        resolve(doc, { $ref: ref });
        return false;
      } catch {
        return true;
      }
    });

    // Assess
    expect(unresolved).toStrictEqual([]);
  });

  it("documents exactly the routes the handler serves, with their operation ids", () => {
    // Act
    const documented = operations.map((operation) => `${operation.method} ${operation.path} ${operation.operation.operationId}`).sort();
    const served = SPEND_API_ROUTES.map((route) => `${route.method} ${route.path} ${route.operation}`).sort();

    // Assess
    expect(documented).toStrictEqual(served);
  });

  it("documents exactly the query parameters each route accepts", () => {
    for (const route of SPEND_API_ROUTES) {
      // Act
      const operation = operations.find((candidate) => candidate.method === route.method && candidate.path === route.path) as DocumentedOperation;
      const query = operation.parameters.filter((parameter) => parameter.in === "query").map((parameter) => parameter.name);

      // Assess
      expect(query.sort(), `${route.method} ${route.path}`).toStrictEqual([...route.query].sort());
      const inPath = [...route.path.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => match[1]);
      expect(operation.parameters.filter((parameter) => parameter.in === "path").map((parameter) => parameter.name)).toStrictEqual(inPath);
    }
  });

  it("has every documented operation answered by the handler (no 404 route or 405)", async () => {
    for (const { method, path } of operations) {
      // Act
      const response = await api.call(request(method, pathOf(path), { body: method === "PUT" ? '{"monthlyUsd":"100.00"}' : null }));

      // Assess
      expect(response.statusCode, `${method} ${path}`).toBe(200);
    }
  });

  it("has the handler refuse, with 405 and the documented methods in Allow, every method the document omits", async () => {
    for (const path of Object.keys(doc.paths as Json)) {
      // Prepare
      const documented = operations.filter((operation) => operation.path === path).map((operation) => operation.method);

      for (const method of ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"].filter((candidate) => !documented.includes(candidate))) {
        // Act
        const response = await api.call(request(method, pathOf(path)));

        // Assess
        expect(response.statusCode, `${method} ${path}`).toBe(405);
        expect(response.headers.allow?.split(", ").sort()).toStrictEqual([...documented].sort());
      }
    }
  });

  it("describes the handler's real responses", async () => {
    // Prepare
    const operation = (id: string) => (operations.find((candidate) => candidate.operation.operationId === id) as DocumentedOperation).operation;
    const cases: { response: Awaited<ReturnType<ApiFixture["call"]>>; operation: Json }[] = [];
    for (const query of [{}, { month: "2026-11", by: "model" }, { month: "2026-11", by: "day" }, { day: "2026-11-27" }, { day: "2026-11-03", by: "model" }]) {
      cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/spend", { query })), operation: operation("getSpend") });
    }
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/budget")), operation: operation("getBudget") });
    cases.push({
      response: await api.call(request("PUT", "/v1/tenants/acme/budget", { body: '{"monthlyUsd":"100","thresholds":[80]}' })),
      operation: operation("putBudget"),
    });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/spend")), operation: operation("getSpend") });
    cases.push({ response: await api.call(request("DELETE", "/v1/tenants/acme/budget")), operation: operation("deleteBudget") });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/spend", { query: { month: "2026-13" } })), operation: operation("getSpend") });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/spend", { auth: { mode: "jwt", claims: {} } })), operation: operation("getSpend") });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/nobody/spend")), operation: operation("getSpend") });
    cases.push({ response: await api.call(request("DELETE", "/v1/tenants/nobody/budget")), operation: operation("deleteBudget") });
    cases.push({ response: await api.call(request("GET", "/v1/reprices")), operation: operation("listReprices") });
    cases.push({ response: await api.call(request("GET", `/v1/reprices/${AUDIT.id}`)), operation: operation("getReprice") });
    cases.push({ response: await api.call(request("GET", "/v1/reprices/no%20such")), operation: operation("getReprice") });
    cases.push({ response: await api.call(jwtRequest("GET", "/v1/reprices", { tenant_id: "acme" })), operation: operation("listReprices") });
    cases.push({ response: await api.call(request("GET", "/v1/reprices/20260101T000000000Z-none")), operation: operation("getReprice") });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/alerts")), operation: operation("getAlerts") });
    cases.push({ response: await api.call(request("GET", "/v1/spend", { query: { month: "2026-11" } })), operation: operation("getReport") });
    cases.push({
      response: await api.call(request("GET", "/v1/spend", { query: { from: "2026-11-03", to: "2026-11-20", groupBy: "model", limit: "1" } })),
      operation: operation("getReport"),
    });
    cases.push({ response: await api.call(request("GET", "/v1/spend", { query: { groupBy: "team" } })), operation: operation("getReport") });
    cases.push({ response: await api.call(jwtRequest("GET", "/v1/spend", { tenant_id: "acme" })), operation: operation("getReport") });
    cases.push({ response: await api.call(request("GET", "/v1/tenants/acme/spend", { query: { by: "department" } })), operation: operation("getSpend") });

    for (const { response, operation: documented } of cases) {
      // Act
      const errors = validate(doc, documentedSchema(doc, documented, response), response.json);

      // Assess
      expect(errors, `${documented.operationId} ${response.statusCode}: ${response.body}`).toStrictEqual([]);
    }
    expect(cases.map((entry) => entry.response.statusCode)).toStrictEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 400, 403, 200, 404, 200, 200, 400, 403, 404, 200, 200, 200, 400, 403, 200,
    ]);
  });

  it("has examples that satisfy their schemas", () => {
    // Prepare
    const examples: { at: string; schema: Json; value: unknown }[] = [];
    const collect = (content: Json | undefined, at: string) => {
      const media = (content?.["application/json"] ?? content?.["application/problem+json"]) as Json | undefined;
      if (!media) return;
      const schema = media.schema as Json;
      if ("example" in media) examples.push({ at, schema, value: media.example });
      for (const [name, example] of Object.entries((media.examples ?? {}) as Json))
        examples.push({ at: `${at} ${name}`, schema, value: (example as Json).value });
    };
    for (const { method, path, operation } of operations) {
      collect((operation.requestBody as Json | undefined)?.content as Json | undefined, `${method} ${path} request`);
      for (const [status, response] of Object.entries(operation.responses as Json))
        collect(resolve(doc, response as Json).content as Json, `${method} ${path} ${status}`);
    }

    // Act
    const failures = examples.flatMap(({ at, schema, value }) => validate(doc, schema, value).map((error) => `${at}: ${error}`));

    // Assess
    expect(examples.length).toBeGreaterThanOrEqual(10);
    expect(failures).toStrictEqual([]);
  });

  it("has schemas that refuse what the handler never sends", () => {
    // Prepare
    const spend = (doc.components as Json).schemas as Json;

    // Act
    const extra = validate(doc, spend.Spend as Json, { ...baseSpend(), secret: 1 });
    const floatCost = validate(doc, spend.Spend as Json, { ...baseSpend(), costUsd: 0.5 });
    const { budget: _budget, ...withoutBudget } = baseSpend();
    const missingBudget = validate(doc, spend.Spend as Json, withoutBudget);
    const floatGroup = validate(doc, spend.ReportGroup as Json, { key: "acme", ...totalsOf(baseSpend()), costUsd: 0.5 });

    // Assess
    expect(extra).toStrictEqual(["$: secret is not a documented property"]);
    expect(floatCost.length).toBeGreaterThan(0);
    expect(missingBudget).toStrictEqual(["$: budget is required"]);
    expect(floatGroup.length).toBeGreaterThan(0);
  });
});

function baseSpend() {
  return {
    tenantId: "acme",
    period: "2026-11",
    invocations: 1,
    unpricedInvocations: 0,
    inputTokens: 1,
    outputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: "0.000001",
    budget: null,
    asOf: null,
    forecast: null,
  };
}

function totalsOf(spend: ReturnType<typeof baseSpend>) {
  const { tenantId: _tenantId, period: _period, budget: _budget, asOf: _asOf, forecast: _forecast, ...totals } = spend;
  return totals;
}
