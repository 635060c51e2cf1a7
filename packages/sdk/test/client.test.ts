/**
 * `spendApiClient` against the real spend API handler (packages/api) on DynamoDB Local, served over
 * HTTP in-process: spend, alerts, report pages followed to the end, and problem details as errors.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleSpendApi } from "../../api/src/index";
import { type ApiFixture, freshApi, invocation, SERVICE_PRINCIPAL, withReportSources } from "../../api/test/helpers/fixtures";
import { SpendApiError, spendApiClient } from "../src/index";

describe("Function: spendApiClient() against the spend API", () => {
  let api: ApiFixture;
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    api = await withReportSources(await freshApi());
    await api.write([
      invocation("c1", { tenant: "acme", timestamp: "2026-11-03T10:00:00Z", input: 5000, output: 0 }),
      invocation("c2", { tenant: "globex", timestamp: "2026-11-04T10:00:00Z", input: 3000, output: 0 }),
      invocation("c3", { tenant: "initech", timestamp: "2026-11-05T10:00:00Z", input: 1000, output: 0 }),
    ]);
    server = createServer((incoming, outgoing) => {
      const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
      const query = Object.fromEntries(url.searchParams);
      const auth = { mode: "iam" as const, iamPrincipal: SERVICE_PRINCIPAL };
      void handleSpendApi({ method: incoming.method ?? "GET", path: url.pathname, query, body: null, auth }, api.deps).then((response) => {
        outgoing.writeHead(response.statusCode, response.headers);
        outgoing.end(response.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("reads a tenant's spend (zeros for one without usage) and alerts", async () => {
    // Prepare
    const client = spendApiClient({ baseUrl });

    // Act
    const acme = await client.spend("acme", { month: "2026-11", by: "model" });
    const newco = await client.spend("newco", { month: "2026-11" });
    const alerts = await client.alerts("acme");

    // Assess
    expect(acme).toMatchObject({ tenantId: "acme", costUsd: "0.005000", forecast: { month: "2026-11" } });
    expect(newco).toMatchObject({ tenantId: "newco", invocations: 0, asOf: null });
    expect(alerts).toStrictEqual({ tenantId: "acme", alerts: [] });
  });

  it("follows a report's cursor to the last page", async () => {
    // Prepare
    const client = spendApiClient({ baseUrl });

    // Act
    const first = await client.report({ month: "2026-11", limit: 2 });
    const keys: string[] = [];
    for await (const group of client.reportGroups({ month: "2026-11", limit: 1 })) keys.push(group.key);

    // Assess
    expect(first.groups.map((group) => group.key)).toStrictEqual(["acme", "globex"]);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(keys).toStrictEqual(["acme", "globex", "initech"]);
  });

  it("throws the API's problem details as a SpendApiError", async () => {
    // Prepare
    const client = spendApiClient({ baseUrl });

    // Act
    const error = await client.report({ groupBy: "team" as "tenant" }).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SpendApiError);
    expect(error).toMatchObject({
      status: 400,
      code: "BadRequest",
      field: "groupBy",
      allowed: ["tenant", "tenantGroup", "department", "application", "user", "model"],
    });
    expect((error as SpendApiError).requestId).toEqual(expect.any(String));
  });
});
