/**
 * Who may write budgets (issue 16): IAM callers, tokens carrying the deployment's admin scope, and
 * the local operator; never a tenant's own token, which only reads its own tenant. Every route
 * against every kind of caller, on DynamoDB Local, the stored budget checked after each refusal.
 */
import type { Budget } from "@bedrock-spend/core";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ApiRequest, handleSpendApi, isScopeToken, SPEND_API_ROUTES, scopesOf, WRITE_OPERATIONS } from "../src/index";
import { type ApiFixture, freshApi, invocation, problem, request } from "./helpers/fixtures";

const ADMIN_SCOPE = "spend:admin";
const ACME_BUDGET: Budget = { monthlyUsd: "100.00", thresholds: [50, 80, 100] };
const STORED_AT = new Date("2026-11-01T00:00:00Z");
const REFUSED_WRITE = `budget writes need IAM or the admin scope ${ADMIN_SCOPE}`;

type Claims = Record<string, unknown>;

/** The four tenant routes, each on acme; the PUT would lift acme's cap to 5000 USD. */
const ROUTES = [
  { route: "GET spend", method: "GET", path: "/v1/tenants/acme/spend", body: null, write: false },
  { route: "GET budget", method: "GET", path: "/v1/tenants/acme/budget", body: null, write: false },
  { route: "PUT budget", method: "PUT", path: "/v1/tenants/acme/budget", body: '{"monthlyUsd":"5000.00","thresholds":[100]}', write: true },
  { route: "DELETE budget", method: "DELETE", path: "/v1/tenants/acme/budget", body: null, write: true },
] as const;

type Route = (typeof ROUTES)[number];

function jwt(route: Route, claims: Claims): ApiRequest {
  return request(route.method, route.path, { body: route.body, auth: { mode: "jwt", claims } });
}

describe("Function: handleSpendApi() budget writes by caller", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi({ deps: { adminScope: ADMIN_SCOPE } });
    await api.write([invocation("w1", { tenant: "acme" }), invocation("w2", { tenant: "globex" })]);
  });

  beforeEach(async () => {
    await api.store.putBudget("acme", ACME_BUDGET, STORED_AT);
  });

  it.each(ROUTES)("serves an IAM caller on $route", async (route) => {
    // Act
    const response = await api.call(request(route.method, route.path, { body: route.body }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json.tenantId).toBe("acme");
    if (route.method === "PUT") expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "5000.00", thresholds: [100] });
    if (route.method === "DELETE") expect(await api.store.getBudget("acme")).toBeUndefined();
  });

  it.each(ROUTES)("lets the tenant's own token read but not write, on $route", async (route) => {
    // Act
    const response = await api.call(jwt(route, { tenant_id: "acme", scope: "openid profile" }));

    // Assess
    if (route.write) {
      expect(response.statusCode).toBe(403);
      expect(response.json).toStrictEqual(problem("Forbidden", REFUSED_WRITE));
    } else {
      expect(response.statusCode).toBe(200);
      expect(response.json.tenantId).toBe("acme");
    }
    expect(await api.store.getBudget("acme")).toStrictEqual(ACME_BUDGET);
  });

  it.each(ROUTES)("refuses another tenant's token on $route", async (route) => {
    // Act
    const response = await api.call(jwt(route, { tenant_id: "globex" }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(response.json.code).toBe("Forbidden");
    expect(response.body).not.toContain("invocations");
    expect(await api.store.getBudget("acme")).toStrictEqual(ACME_BUDGET);
  });

  it.each(ROUTES)("serves a token with the admin scope in `scope`, without a tenant claim, on $route", async (route) => {
    // Act
    const response = await api.call(jwt(route, { sub: "ops-console", scope: `openid ${ADMIN_SCOPE}` }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json.tenantId).toBe("acme");
    if (route.method === "PUT") expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "5000.00", thresholds: [100] });
    if (route.method === "DELETE") expect(await api.store.getBudget("acme")).toBeUndefined();
  });

  it("lets an admin-scope token write a tenant other than the one its tenant claim names", async () => {
    // Act
    const response = await api.call(jwt(ROUTES[2], { tenant_id: "globex", scope: ADMIN_SCOPE }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "5000.00", thresholds: [100] });
  });

  it.each([
    { form: "an array", scp: ["openid", ADMIN_SCOPE] },
    { form: "API Gateway's rendering of an array", scp: `[openid ${ADMIN_SCOPE}]` },
    { form: "API Gateway's rendering of a one-item array", scp: `[${ADMIN_SCOPE}]` },
    { form: "a space-separated string (Entra ID)", scp: `openid ${ADMIN_SCOPE}` },
  ])("serves a write by a token with the admin scope in `scp` as $form", async ({ scp }) => {
    // Act
    const put = await api.call(jwt(ROUTES[2], { tenant_id: "acme", scp }));
    const deleted = await api.call(jwt(ROUTES[3], { tenant_id: "acme", scp }));

    // Assess
    expect(put.statusCode).toBe(200);
    expect(deleted.statusCode).toBe(200);
    expect(await api.store.getBudget("acme")).toBeUndefined();
  });

  it.each([
    { name: "no scope at all", claims: { tenant_id: "acme" } },
    { name: "another scope", claims: { tenant_id: "acme", scope: "openid spend:read" } },
    { name: "the scope in other case", claims: { tenant_id: "acme", scope: "SPEND:ADMIN" } },
    { name: "a longer scope", claims: { tenant_id: "acme", scope: "spend:admin:self" } },
    { name: "a scope ending with it", claims: { tenant_id: "acme", scope: "xspend:admin" } },
    { name: "the scope with an unmatched bracket", claims: { tenant_id: "acme", scp: "[spend:admin" } },
    { name: "the scope in another claim", claims: { tenant_id: "acme", scopes: ADMIN_SCOPE, roles: [ADMIN_SCOPE] } },
    { name: "the scope as a non-string item", claims: { tenant_id: "acme", scp: [{ value: ADMIN_SCOPE }] } },
  ])("refuses a tenant's write with $name", async ({ claims }) => {
    // Act
    const put = await api.call(jwt(ROUTES[2], claims));
    const deleted = await api.call(jwt(ROUTES[3], claims));

    // Assess
    expect(put.statusCode).toBe(403);
    expect(put.json.detail).toBe(REFUSED_WRITE);
    expect(deleted.statusCode).toBe(403);
    expect(await api.store.getBudget("acme")).toStrictEqual(ACME_BUDGET);
  });

  it("refuses a tenant's write before reading its input: a malformed body or tenant id is still a 403", async () => {
    // Act
    const badBody = await api.call(request("PUT", "/v1/tenants/acme/budget", { body: "{", auth: { mode: "jwt", claims: { tenant_id: "acme" } } }));
    const badTenant = await api.call(request("DELETE", "/v1/tenants/acme%25/budget", { auth: { mode: "jwt", claims: { tenant_id: "acme%" } } }));

    // Assess
    expect([badBody.statusCode, badTenant.statusCode]).toStrictEqual([403, 403]);
  });

  it("refuses the reprice audit trail to an admin-scope token: it stays for IAM callers", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/reprices", { auth: { mode: "jwt", claims: { scope: ADMIN_SCOPE } } }));

    // Assess
    expect(response.statusCode).toBe(403);
  });

  it("lets the local operator (local mode) write", async () => {
    // Act
    const response = await handleSpendApi(request("PUT", "/v1/tenants/acme/budget", { body: ROUTES[2].body, auth: { mode: "none" } }), {
      ...api.deps,
      allowUnauthenticated: true,
    });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "5000.00", thresholds: [100] });
  });
});

describe("Function: handleSpendApi() without an admin scope configured", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await api.write([invocation("n1", { tenant: "acme" })]);
  });

  beforeEach(async () => {
    await api.store.putBudget("acme", ACME_BUDGET, STORED_AT);
  });

  it.each(ROUTES)("lets every token only read, on $route", async (route) => {
    // Act: a token with every scope a deployment might name still reads only its own tenant.
    const own = await api.call(jwt(route, { tenant_id: "acme", scope: `openid ${ADMIN_SCOPE} admin`, scp: ["admin"] }));
    const noTenant = await api.call(jwt(route, { scope: ADMIN_SCOPE }));

    // Assess
    if (route.write) {
      expect(own.statusCode).toBe(403);
      expect(own.json.detail).toBe("budget writes need IAM; this deployment configures no admin scope, so a token may only read");
    } else expect(own.statusCode).toBe(200);
    expect(noTenant.statusCode).toBe(403);
    expect(await api.store.getBudget("acme")).toStrictEqual(ACME_BUDGET);
  });

  it("still serves an IAM caller's writes", async () => {
    // Act
    const put = await api.call(request("PUT", "/v1/tenants/acme/budget", { body: '{"monthlyUsd":"7.00"}' }));

    // Assess
    expect(put.statusCode).toBe(200);
    expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "7.00", thresholds: [50, 80, 100] });
  });
});

describe("Constant: WRITE_OPERATIONS", () => {
  it("holds every route that is not a GET, today PUT and DELETE of a budget", () => {
    // Assess
    expect([...WRITE_OPERATIONS].sort()).toStrictEqual(["deleteBudget", "putBudget"]);
    expect(SPEND_API_ROUTES.filter((route) => route.method !== "GET").map((route) => route.operation)).toStrictEqual([...WRITE_OPERATIONS]);
  });
});

describe("Function: scopesOf()", () => {
  it.each([
    { name: "a space-separated scope claim", claims: { scope: "openid  spend:admin\tx" }, scopes: ["openid", "spend:admin", "x"] },
    { name: "an scp array", claims: { scp: ["a", "b", 7] }, scopes: ["a", "b"] },
    { name: "API Gateway's [a b] rendering", claims: { scp: "[a b]" }, scopes: ["a", "b"] },
    { name: "an empty array, rendered", claims: { scp: "[]" }, scopes: [] },
    { name: "both claims", claims: { scope: "a b", scp: "[b c]" }, scopes: ["a", "b", "c"] },
    { name: "a bracket on one side only, kept", claims: { scope: "[a b" }, scopes: ["[a", "b"] },
    { name: "a non-string claim", claims: { scope: 42, scp: { a: 1 } }, scopes: [] },
    { name: "no claims", claims: undefined, scopes: [] },
  ])("reads $name", ({ claims, scopes }) => {
    // Act
    const read = scopesOf(claims);

    // Assess
    expect([...read]).toStrictEqual(scopes);
  });
});

describe("Function: isScopeToken()", () => {
  it("accepts one RFC 6749 scope token and refuses spaces, quotes, backslashes, brackets and the empty string", () => {
    // Assess
    expect(["spend:admin", "https://api.example.com/budgets.write", "a!#$%&'()*+,-./:;<=>?@^_`{|}~"].every(isScopeToken)).toBe(true);
    expect(["", "a b", 'a"b', "a\\b", "[a]", "a]", "a\tb", "é"].some(isScopeToken)).toBe(false);
  });
});
