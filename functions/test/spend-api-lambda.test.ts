/**
 * The Lambda side of the spend API: payload 2.0 events from an HTTP API with a JWT authorizer
 * and from a Function URL with AWS_IAM, the Powertools logging and metrics of each request, and
 * the middy-wrapped entry point configured from the environment.
 */

import { handleSpendApi, type SpendApiStore } from "@bedrock-spend/api";
import { ConfigurationError } from "@bedrock-spend/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createSpendApiHandler, handler, spendApiDepsFromEnv, spendApiObserver } from "../src/spend-api";
import {
  type ApiFixture,
  freshApi,
  functionUrlIamEvent,
  httpApiJwtEvent,
  invocation,
  invocationOf,
  lambdaContext,
  problem,
  recordingLogger,
  recordingMetrics,
  request,
  SERVICE_PRINCIPAL,
  silentLogger,
} from "./helpers/api-fixtures";

describe("Function: createSpendApiHandler()", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    await api.write([
      invocation("l1", { tenant: "acme", input: 1000, output: 100 }),
      invocation("l2", { tenant: "acme#eu", input: 200, output: 20 }),
      invocation("l3", { tenant: "a/b", input: 30, output: 3 }),
      // Not a valid metadata value, so never reachable: it stands for data under a look-alike key.
      invocationOf("acme%23eu", "l4", { input: 9999, output: 999 }),
    ]);
  });

  describe("behind an HTTP API with a JWT authorizer (decoded rawPath)", () => {
    const jwtHandler = () => createSpendApiHandler({ ...api.deps, authMode: "jwt", logger: silentLogger() });

    it("serves the token's tenant with a JSON payload 2.0 result", async () => {
      // Act
      const result = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme/spend", { tenant_id: "acme" }, { query: { month: "2026-11" } }));

      // Assess
      expect(result).toMatchObject({ statusCode: 200, isBase64Encoded: false, headers: { "content-type": "application/json" } });
      expect(JSON.parse(result.body as string)).toMatchObject({ tenantId: "acme", period: "2026-11", invocations: 1, inputTokens: 1000, costUsd: "0.001500" });
    });

    it("reads a tenant id the HTTP API already decoded (%23 arrives as #) as that id", async () => {
      // Act
      const result = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme#eu/spend", { tenant_id: "acme#eu" }));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body as string)).toMatchObject({ tenantId: "acme#eu", invocations: 1, inputTokens: 200 });
    });

    it("does not decode a decoded path twice: a literal %23 is a % in the id, refused", async () => {
      // Act: the client sent acme%2523eu, the HTTP API delivers acme%23eu.
      const result = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme%23eu/spend", { tenant_id: "acme#eu" }));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body as string)).toMatchObject({ code: "BadRequest", status: 400, field: "tenantId" });
    });

    it("cannot address a tenant id holding / through the HTTP API, and gives nothing of it", async () => {
      // Act: the client sent a%2Fb, the HTTP API delivers a/b.
      const result = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/a/b/spend", { tenant_id: "a/b" }));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).not.toContain("invocations");
    });

    it("refuses another tenant's token and a token without the claim", async () => {
      // Act
      const other = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme/spend", { tenant_id: "globex" }));
      const missing = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme/spend", { sub: "user-1" }));
      const noAuthorizer = await jwtHandler()(httpApiJwtEvent("GET", "/v1/tenants/acme/spend", undefined));

      // Assess
      expect([other.statusCode, missing.statusCode, noAuthorizer.statusCode]).toStrictEqual([403, 403, 403]);
    });

    it("refuses a budget write by the tenant's own token, and serves one by a token with the admin scope as API Gateway passes it", async () => {
      // Prepare: API Gateway passes every claim as a string, an array claim as "[a b]".
      const adminHandler = createSpendApiHandler({ ...api.deps, authMode: "jwt", adminScope: "spend:admin", logger: silentLogger() });
      const body = '{"monthlyUsd":"9000.00"}';
      await api.store.putBudget("acme", { monthlyUsd: "10.00", thresholds: [100] }, new Date("2026-11-01T00:00:00Z"));

      // Act
      const tenant = await adminHandler(httpApiJwtEvent("PUT", "/v1/tenants/acme/budget", { tenant_id: "acme", scope: "openid profile" }, { body }));
      const tenantDelete = await adminHandler(httpApiJwtEvent("DELETE", "/v1/tenants/acme/budget", { tenant_id: "acme" }));
      const unchanged = await api.store.getBudget("acme");
      const scope = await adminHandler(httpApiJwtEvent("PUT", "/v1/tenants/acme/budget", { sub: "ops", scope: "openid spend:admin" }, { body }));
      const scp = await adminHandler(httpApiJwtEvent("DELETE", "/v1/tenants/acme/budget", { sub: "ops", scp: "[openid spend:admin]" }));

      // Assess
      expect(tenant.statusCode).toBe(403);
      expect(JSON.parse(tenant.body as string)).toStrictEqual(problem("Forbidden", "budget writes need IAM or the admin scope spend:admin"));
      expect(tenant.headers?.["content-type"]).toBe("application/problem+json");
      expect(tenantDelete.statusCode).toBe(403);
      expect(unchanged).toStrictEqual({ monthlyUsd: "10.00", thresholds: [100] });
      expect(scope.statusCode).toBe(200);
      expect(JSON.parse(scope.body as string)).toStrictEqual({
        tenantId: "acme",
        budget: { monthlyUsd: "9000.00", thresholds: [50, 80, 100] },
        source: "tenant",
      });
      expect(scp.statusCode).toBe(200);
      expect(await api.store.getBudget("acme")).toBeUndefined();
    });

    it("refuses a budget write by any token when no admin scope is configured", async () => {
      // Act
      const result = await jwtHandler()(
        httpApiJwtEvent("PUT", "/v1/tenants/acme/budget", { tenant_id: "acme", scope: "spend:admin" }, { body: '{"monthlyUsd":"1.00"}' }),
      );

      // Assess
      expect(result.statusCode).toBe(403);
      expect(JSON.parse(result.body as string)).toMatchObject({ code: "Forbidden", status: 403 });
    });

    it("strips a named stage from the path", async () => {
      // Act
      const result = await jwtHandler()(httpApiJwtEvent("GET", "/prod/v1/tenants/acme/spend", { tenant_id: "acme" }, { stage: "prod" }));

      // Assess
      expect(result.statusCode).toBe(200);
    });

    it("never serves an unauthenticated request, even when the deps allow it", async () => {
      // Act
      const result = await createSpendApiHandler({ ...api.deps, authMode: "iam", allowUnauthenticated: true, logger: silentLogger() })(
        functionUrlIamEvent("GET", "/v1/tenants/acme/spend", undefined),
      );

      // Assess
      expect(result.statusCode).toBe(403);
    });
  });

  describe("behind a Function URL with AWS_IAM (percent-encoded rawPath)", () => {
    const iamHandler = () => createSpendApiHandler({ ...api.deps, authMode: "iam", logger: silentLogger() });

    it("decodes the tenant id once", async () => {
      // Act
      const acmeEu = await iamHandler()(functionUrlIamEvent("GET", "/v1/tenants/acme%23eu/spend", SERVICE_PRINCIPAL));
      const slashed = await iamHandler()(functionUrlIamEvent("GET", "/v1/tenants/a%2Fb/spend", SERVICE_PRINCIPAL));
      const twice = await iamHandler()(functionUrlIamEvent("GET", "/v1/tenants/acme%2523eu/spend", SERVICE_PRINCIPAL));

      // Assess
      expect(JSON.parse(acmeEu.body as string)).toMatchObject({ tenantId: "acme#eu", inputTokens: 200 });
      expect(JSON.parse(slashed.body as string)).toMatchObject({ tenantId: "a/b", inputTokens: 30 });
      expect(twice.statusCode).toBe(400);
    });

    it("refuses a request without an IAM principal (a URL left at auth type NONE)", async () => {
      // Act
      const result = await iamHandler()(functionUrlIamEvent("GET", "/v1/tenants/acme/spend", undefined));

      // Assess
      expect(result.statusCode).toBe(403);
      expect(JSON.parse(result.body as string)).toMatchObject({ code: "Forbidden", status: 403 });
    });

    it("reads a base64 body", async () => {
      // Prepare
      const body = Buffer.from('{"monthlyUsd":"42.00","thresholds":[100]}').toString("base64");

      // Act
      const put = await iamHandler()(functionUrlIamEvent("PUT", "/v1/tenants/acme/budget", SERVICE_PRINCIPAL, { body, isBase64Encoded: true }));

      // Assess
      expect(put.statusCode).toBe(200);
      expect(await api.store.getBudget("acme")).toStrictEqual({ monthlyUsd: "42.00", thresholds: [100] });
    });

    it("passes query parameters through", async () => {
      // Act
      const result = await iamHandler()(functionUrlIamEvent("GET", "/v1/tenants/acme/spend", SERVICE_PRINCIPAL, { query: { month: "2026-11", by: "bogus" } }));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body as string)).toMatchObject({ code: "BadRequest", field: "by" });
    });
  });
});

describe("Function: spendApiObserver() (logging and metrics of each request)", () => {
  it("logs one line per request with its route and tenant, and counts requests and client errors", async () => {
    // Prepare
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const api = await freshApi({ deps: { observer: spendApiObserver(logger, metrics) } });
    await api.write([invocation("o1", { tenant: "acme#eu" })]);

    // Act
    await api.call(request("GET", "/v1/tenants/acme%23eu/spend"));
    await api.call(request("GET", "/v1/tenants/acme%23eu/spend", { query: { month: "2026-13" } }));
    await api.call(request("POST", "/v1/tenants/acme%23eu/budget"));

    // Assess
    expect(logger.lines).toStrictEqual([
      {
        level: "info",
        message: "spend api request",
        attributes: { route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme#eu", method: "GET", statusCode: 200 },
      },
      {
        level: "info",
        message: "spend api request",
        attributes: { route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme#eu", method: "GET", statusCode: 400 },
      },
      { level: "info", message: "spend api request", attributes: { method: "POST", statusCode: 405 } },
    ]);
    expect(metrics.counts).toStrictEqual({ SpendRequests: 3, ClientErrors: 2 });
  });

  it("answers a generic 500 when the store fails, and logs the cause", async () => {
    // Prepare
    const logger = recordingLogger();
    const metrics = recordingMetrics();
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
    const response = await handleSpendApi(request("GET", "/v1/tenants/acme/spend"), {
      store: broken,
      defaultBudget: null,
      observer: spendApiObserver(logger, metrics),
    });

    // Assess
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toStrictEqual(problem("InternalError", "internal error; try again later"));
    expect(response.body).not.toContain("secret");
    expect(logger.lines[0]).toMatchObject({ level: "error", attributes: { route: "GET /v1/tenants/{tenantId}/spend", tenantId: "acme", error: failure } });
    expect(metrics.counts).toStrictEqual({ SpendRequests: 1, ServerErrors: 1 });
  });

  it("logs and counts through createSpendApiHandler", async () => {
    // Prepare
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const api = await freshApi();
    const lambda = createSpendApiHandler({ ...api.deps, authMode: "iam", logger, metrics });

    // Act
    const result = await lambda(functionUrlIamEvent("GET", "/v1/tenants/nobody/budget", SERVICE_PRINCIPAL));

    // Assess
    expect(result.statusCode).toBe(404);
    expect(logger.lines).toStrictEqual([
      {
        level: "info",
        message: "spend api request",
        attributes: { route: "GET /v1/tenants/{tenantId}/budget", tenantId: "nobody", method: "GET", statusCode: 404 },
      },
    ]);
    expect(metrics.counts).toStrictEqual({ SpendRequests: 1, ClientErrors: 1 });
  });
});

describe("Function: spendApiDepsFromEnv()", () => {
  it.each([
    { name: "no API_AUTH_MODE", env: { TABLE_NAME: "t" }, origin: "API_AUTH_MODE" },
    { name: "an unknown API_AUTH_MODE", env: { TABLE_NAME: "t", API_AUTH_MODE: "none" }, origin: "API_AUTH_MODE" },
    { name: "no TABLE_NAME", env: { API_AUTH_MODE: "iam" }, origin: "TABLE_NAME" },
    { name: "a malformed default budget", env: { TABLE_NAME: "t", API_AUTH_MODE: "jwt", DEFAULT_BUDGET_USD: "lots" }, origin: "DEFAULT_BUDGET_USD" },
    { name: "an admin scope of two scopes", env: { TABLE_NAME: "t", API_AUTH_MODE: "jwt", JWT_ADMIN_SCOPE: "spend:admin openid" }, origin: "JWT_ADMIN_SCOPE" },
    { name: "a bracketed admin scope", env: { TABLE_NAME: "t", API_AUTH_MODE: "jwt", JWT_ADMIN_SCOPE: "[spend:admin]" }, origin: "JWT_ADMIN_SCOPE" },
  ])("fails closed on $name", ({ env, origin }) => {
    // Act
    const act = () => spendApiDepsFromEnv(env);

    // Assess
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(origin);
  });

  it("reads the claim name and the default budget", () => {
    // Act
    const deps = spendApiDepsFromEnv({
      TABLE_NAME: "t",
      API_AUTH_MODE: "jwt",
      JWT_TENANT_CLAIM: "custom:tenant",
      DEFAULT_BUDGET_USD: "250",
      DEFAULT_BUDGET_THRESHOLDS: "100,80",
    });

    // Assess
    expect(deps).toMatchObject({ authMode: "jwt", tenantClaim: "custom:tenant", defaultBudget: { monthlyUsd: "250.00", thresholds: [80, 100] } });
    expect(spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "iam" })).toMatchObject({ authMode: "iam", tenantClaim: "tenant_id", defaultBudget: null });
  });

  it("reads the admin scope, trimmed, and none when unset or blank", () => {
    // Act
    const scoped = spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "jwt", JWT_ADMIN_SCOPE: " spend:admin " });
    const unset = spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "jwt" });
    const blank = spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "jwt", JWT_ADMIN_SCOPE: " " });

    // Assess
    expect(scoped.adminScope).toBe("spend:admin");
    expect(unset.adminScope).toBeUndefined();
    expect(blank.adminScope).toBeUndefined();
  });

  it("reads the breakdown dimensions the aggregator writes, and none when AGGREGATE_BREAKDOWNS is unset", () => {
    // Act
    const set = spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "iam", AGGREGATE_BREAKDOWNS: "departmentId,applicationId" });
    const unset = spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "iam" });

    // Assess
    expect(set.breakdowns).toStrictEqual(["departmentId", "applicationId"]);
    expect(unset.breakdowns).toBeUndefined();
    expect(() => spendApiDepsFromEnv({ TABLE_NAME: "t", API_AUTH_MODE: "iam", AGGREGATE_BREAKDOWNS: "team" })).toThrow(/AGGREGATE_BREAKDOWNS/);
  });
});

describe("Function: handler (middy, Powertools, configured from the environment)", () => {
  const saved = { ...process.env };

  afterAll(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("was imported without any configuration, and serves once configured", async () => {
    // Prepare
    const api = await freshApi();
    await api.write([invocation("h1", { tenant: "acme", input: 1000, output: 100 })]);
    Object.assign(process.env, {
      TABLE_NAME: api.tableName,
      API_AUTH_MODE: "iam",
      DEFAULT_BUDGET_USD: "75",
      AWS_ENDPOINT_URL_DYNAMODB: inject("dynamoDbEndpoint"),
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    });

    // Act
    const result = await handler(functionUrlIamEvent("GET", "/v1/tenants/acme/spend", SERVICE_PRINCIPAL, { query: { month: "2026-11" } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string)).toStrictEqual({
      tenantId: "acme",
      period: "2026-11",
      invocations: 1,
      unpricedInvocations: 0,
      inputTokens: 1000,
      outputTokens: 100,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "0.001500",
      budget: { monthlyUsd: "75.00", thresholds: [50, 80, 100] },
      asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      // The machine's clock decides how much of the month is over: the projection is at least the spend.
      forecast: { month: "2026-11", costUsd: expect.stringMatching(/^0\.\d{6,12}$/) },
    });
  });
});
