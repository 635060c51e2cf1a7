/**
 * The reprice audit trail through the spend API: `GET /v1/reprices` and `GET /v1/reprices/{id}`
 * over the store's audit records on DynamoDB Local, for administrators (IAM callers) only: a
 * tenant's token is refused whatever it claims.
 */
import { listRepriceAudits, putRepriceAudit } from "@bedrock-spend/store";
import { beforeAll, describe, expect, it } from "vitest";
import { handleSpendApi } from "../src/index";
import { type ApiFixture, freshApi, jwtRequest, recordingObserver, repriceAudit, request } from "./helpers/fixtures";

const OLDER = repriceAudit("20261001T080000000Z-aaaaaa", { status: "failed", stage: "lake", finishedAt: null, error: "Athena query q FAILED: x" });
const NEWER = repriceAudit("20261202T100000123Z-1c2d3e4f5a6b");

describe("Function: handleSpendApi() reprice audit trail", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await freshApi();
    api.deps.reprices = { list: () => listRepriceAudits(api.client, api.tableName) };
    for (const audit of [OLDER, NEWER]) await putRepriceAudit(api.client, api.tableName, audit);
  });

  it("lists every audit record to an IAM caller, newest first", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/reprices"));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toStrictEqual({ reprices: [NEWER, OLDER] });
  });

  it("reads one audit record by id, and 404 for an id no reprice has", async () => {
    // Act
    const found = await api.call(request("GET", `/v1/reprices/${OLDER.id}`));
    const missing = await api.call(request("GET", "/v1/reprices/20260101T000000000Z-none"));

    // Assess
    expect(found.statusCode).toBe(200);
    expect(found.json).toStrictEqual(OLDER);
    expect(missing.statusCode).toBe(404);
    expect(missing.json.code).toBe("NotFound");
  });

  it.each([
    ["a tenant's token", { tenant_id: "acme" }],
    ["a token claiming to be an admin", { tenant_id: "acme", "cognito:groups": ["admin"], scope: "admin" }],
    ["a token without a tenant claim", {}],
  ])("refuses %s with 403, on the list and on one record", async (_, claims) => {
    // Act
    const list = await api.call(jwtRequest("GET", "/v1/reprices", claims));
    const one = await api.call(jwtRequest("GET", `/v1/reprices/${NEWER.id}`, claims));

    // Assess
    for (const response of [list, one]) {
      expect(response.statusCode).toBe(403);
      expect(response.json.code).toBe("Forbidden");
      expect(response.body).not.toContain(NEWER.id);
    }
  });

  it("refuses an IAM-mode request without a principal (a URL left open) with 403", async () => {
    // Act
    const response = await api.call(request("GET", "/v1/reprices", { auth: { mode: "iam" } }));

    // Assess
    expect(response.statusCode).toBe(403);
  });

  it("answers 400 for a malformed id or an unknown query parameter, 405 for another method", async () => {
    // Act
    const badId = await api.call(request("GET", "/v1/reprices/..%2F..%2Fbudget"));
    const badQuery = await api.call(request("GET", "/v1/reprices", { query: { tenant: "acme" } }));
    const post = await api.call(request("POST", "/v1/reprices"));

    // Assess
    expect([badId.statusCode, badId.json.field]).toStrictEqual([400, "repriceId"]);
    expect(badQuery.statusCode).toBe(400);
    expect([post.statusCode, post.headers.allow]).toStrictEqual([405, "GET"]);
  });

  it("answers 404 where the deployment serves no reprice history", async () => {
    // Prepare
    const bare = await freshApi();

    // Act
    const response = await bare.call(request("GET", "/v1/reprices"));

    // Assess
    expect(response.statusCode).toBe(404);
  });

  it("tells the observer the route, without a tenant", async () => {
    // Prepare
    const observer = recordingObserver();

    // Act
    await handleSpendApi(request("GET", "/v1/reprices"), { ...api.deps, observer });
    await handleSpendApi(jwtRequest("GET", "/v1/reprices", { tenant_id: "acme" }), { ...api.deps, observer });

    // Assess
    expect(observer.requests).toStrictEqual([
      { method: "GET", route: "GET /v1/reprices", statusCode: 200 },
      { method: "GET", route: "GET /v1/reprices", statusCode: 403 },
    ]);
  });
});
