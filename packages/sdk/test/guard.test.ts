import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { ConverseCommand, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  aggregatesTableSource,
  BudgetExceededError,
  BudgetGuard,
  type BudgetGuardOptions,
  BudgetLookupError,
  InvalidOptionsError,
  type MonthStatus,
  runWithTenant,
  type SdkWarning,
  type SpendSource,
  spendApiSource,
  tenantMetadata,
  withPriority,
} from "../src/index";
import { type BedrockServer, startBedrockServer } from "./helpers/bedrock-server";
import { freshSpendFixture, type SpendFixture } from "./helpers/spend-fixture";

const NOW = Date.UTC(2026, 10, 15, 12);
const converseInput = { modelId: "us.amazon.nova-lite-v1:0", messages: [{ role: "user" as const, content: [{ text: "hi" }] }] };
const SPECIAL = "acme co/#1";

let bedrock: BedrockServer;
let data: SpendFixture;

/**
 * Budgets of 1.00 USD unless said otherwise; spend in November 2026 (plus some in October that
 * must not count):
 * - over-hard 1.30 (130%), over-soft 1.10 (110%), at-soft exactly 1.00 (100%), at-hard exactly 1.20
 * - under 1.00 of 10.00, no-budget 5.00 and none, "acme co/#1" 2.00 (a tenant id needing escapes)
 */
beforeAll(async () => {
  bedrock = await startBedrockServer();
  data = await freshSpendFixture();
  await Promise.all([
    data.budget("over-hard", "1.00").then(() => data.spend("over-hard", "1.30")),
    data.budget("over-soft", "1.00").then(() => data.spend("over-soft", "1.10")),
    data.budget("at-soft", "1.00").then(() => data.spend("at-soft", "1.00")),
    data.budget("at-hard", "1.00").then(() => data.spend("at-hard", "1.20")),
    data.budget("under", "10.00").then(() => Promise.all([data.spend("under", "1.00"), data.spend("under", "50.00", "2026-10-31T23:59:59Z")])),
    data.spend("no-budget", "5.00"),
    data.budget(SPECIAL, "1.00").then(() => data.spend(SPECIAL, "2.00")),
    data.budget("budget-only", "1.00"),
  ]);
});
afterAll(async () => {
  await bedrock.close();
  await data.close();
});
beforeEach(() => {
  bedrock.requests.length = 0;
});

function guardedClient(guard: BudgetGuardOptions | BudgetGuard) {
  const client = bedrock.client();
  client.middlewareStack.use(tenantMetadata({ budgetGuard: guard }));
  return client;
}

async function outcome(client: ReturnType<typeof guardedClient>, tenantId: string, priority?: "essential"): Promise<"sent" | Error> {
  try {
    await runWithTenant({ tenantId, priority }, () => client.send(new ConverseCommand(converseInput)));
    return "sent";
  } catch (error) {
    return error as Error;
  }
}

/** A source that counts lookups and can be slowed down. */
function counting(source: SpendSource, delayMs = 0): SpendSource & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async monthStatus(tenantId, month, options) {
      lookups.push(`${tenantId}@${month}`);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return source.monthStatus(tenantId, month, options);
    },
  };
}

const sources: [string, () => SpendSource][] = [
  ["the spend API over HTTP", () => spendApiSource({ baseUrl: data.apiUrl })],
  ["the aggregates table", () => aggregatesTableSource({ tableName: data.tableName, client: data.client })],
];

describe.each(sources)("Class: BudgetGuard with %s", (_name, source) => {
  it("refuses every call, essential ones too, at or over the hard limit", async () => {
    // Prepare
    const client = guardedClient({ source: source(), now: () => NOW });

    // Act
    const normal = await outcome(client, "over-hard");
    const essential = await outcome(client, "over-hard", "essential");
    const atHard = await outcome(client, "at-hard", "essential");

    // Assess
    expect(normal).toBeInstanceOf(BudgetExceededError);
    expect(normal).toMatchObject({
      name: "BudgetExceededError",
      tenantId: "over-hard",
      month: "2026-11",
      spendUsd: "1.300000",
      budgetUsd: "1.00",
      limit: "hard",
      limitPercent: 120,
    });
    expect(essential).toMatchObject({ name: "BudgetExceededError", limit: "hard" });
    expect(atHard).toMatchObject({ name: "BudgetExceededError", limit: "hard", spendUsd: "1.200000" });
    expect(bedrock.requests).toHaveLength(0);
  });

  it("between the limits refuses normal calls and passes essential ones (context or withPriority)", async () => {
    // Prepare
    const client = guardedClient({ source: source(), now: () => NOW });

    // Act
    const normal = await outcome(client, "over-soft");
    const atSoft = await outcome(client, "at-soft");
    const essential = await outcome(client, "over-soft", "essential");
    const scoped = await runWithTenant({ tenantId: "at-soft" }, () =>
      withPriority("essential", () => client.send(new InvokeModelCommand({ modelId: "m", body: "{}" }))),
    );

    // Assess
    expect(normal).toMatchObject({ name: "BudgetExceededError", limit: "soft", limitPercent: 100, spendUsd: "1.100000" });
    expect(atSoft).toMatchObject({ name: "BudgetExceededError", limit: "soft", spendUsd: "1.000000" });
    expect(essential).toBe("sent");
    expect(scoped.$metadata.httpStatusCode).toBe(200);
    expect(bedrock.requests.map((request) => request.operation)).toEqual(["Converse", "InvokeModel"]);
  });

  it("passes tenants under their budget, without one, or unknown, and counts only the current month", async () => {
    // Prepare
    const client = guardedClient({ source: source(), now: () => NOW });

    // Act
    const results = await Promise.all(["under", "no-budget", "budget-only", "never-seen"].map((tenantId) => outcome(client, tenantId)));

    // Assess
    expect(results).toEqual(["sent", "sent", "sent", "sent"]);
    expect(bedrock.requests).toHaveLength(4);
  });

  it("addresses a tenant whose id needs escaping (space, slash, #) and no other", async () => {
    // Prepare
    const guard = new BudgetGuard({ source: source(), now: () => NOW });

    // Act
    const error = await guard.check(SPECIAL).catch((caught: unknown) => caught);
    const prefix = await guard.check("acme co").catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BudgetExceededError", tenantId: SPECIAL, spendUsd: "2.000000", limit: "hard" });
    expect(prefix).toMatchObject({ outcome: "no-budget", spendUsd: "0.000000" });
  });

  it("checks an id with surrounding whitespace as the tenant the pipeline counts it under", async () => {
    // Prepare
    const guard = new BudgetGuard({ source: source(), now: () => NOW });

    // Act
    const error = await guard.check(` ${SPECIAL}\t`).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BudgetExceededError", tenantId: SPECIAL, spendUsd: "2.000000", limit: "hard" });
  });

  it("uses the configured limits", async () => {
    // Prepare
    const client = guardedClient({ source: source(), now: () => NOW, softLimitPercent: 120, hardLimitPercent: 131 });

    // Act
    const results = await Promise.all([outcome(client, "over-hard"), outcome(client, "at-hard"), outcome(client, "over-soft")]);

    // Assess
    expect(results[0]).toMatchObject({ limit: "soft", limitPercent: 120 });
    expect(results[1]).toMatchObject({ limit: "soft", limitPercent: 120 });
    expect(results[2]).toBe("sent");
  });
});

describe("Class: BudgetGuard decisions and month", () => {
  it("reports what it decided for calls it lets through", async () => {
    // Prepare
    const guard = new BudgetGuard({ source: spendApiSource({ baseUrl: data.apiUrl }), now: () => NOW });

    // Act
    const decisions = await Promise.all([guard.check("under"), guard.check("no-budget"), guard.check("over-soft", { priority: "essential" })]);

    // Assess
    expect(decisions).toEqual([
      { tenantId: "under", month: "2026-11", outcome: "under", spendUsd: "1.000000", budgetUsd: "10.00" },
      { tenantId: "no-budget", month: "2026-11", outcome: "no-budget", spendUsd: "5.000000", budgetUsd: null },
      { tenantId: "over-soft", month: "2026-11", outcome: "essential-over-soft", spendUsd: "1.100000", budgetUsd: "1.00" },
    ]);
  });

  it("reads the month of its clock: October's 50.00 makes 'under' refused there", async () => {
    // Prepare
    const guard = new BudgetGuard({ source: aggregatesTableSource({ tableName: data.tableName, client: data.client }), now: () => Date.UTC(2026, 9, 31, 23) });

    // Act
    const error = await guard.check("under").catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BudgetExceededError", month: "2026-10", spendUsd: "50.000000", budgetUsd: "10.00", limit: "hard" });
  });

  it("applies the table source's default budget to tenants without their own", async () => {
    // Prepare
    const guard = new BudgetGuard({
      source: aggregatesTableSource({ tableName: data.tableName, client: data.client, defaultBudgetUsd: "4.50" }),
      now: () => NOW,
    });

    // Act
    const error = await guard.check("no-budget").catch((caught: unknown) => caught);
    const own = await guard.check("under");

    // Assess
    expect(error).toMatchObject({ name: "BudgetExceededError", spendUsd: "5.000000", budgetUsd: "4.50", limit: "soft" });
    expect(own.budgetUsd).toBe("10.00");
  });

  it("compares exactly: one pico-dollar below the limit passes, the limit itself does not", async () => {
    // Prepare
    const status = (spendUsd: string): SpendSource => ({ monthStatus: async () => ({ spendUsd, budget: { monthlyUsd: "0.3" } }) });
    const check = (spendUsd: string) => new BudgetGuard({ source: status(spendUsd), now: () => NOW, hardLimitPercent: 110 }).check("t");

    // Act
    const below = await check("0.299999999999");
    const at = await check("0.3").catch((caught: unknown) => caught);
    const belowHard = await check("0.329999999999").catch((caught: unknown) => caught);
    const atHard = await check("0.33").catch((caught: unknown) => caught);

    // Assess
    expect(below.outcome).toBe("under");
    expect(at).toMatchObject({ limit: "soft" });
    expect(belowHard).toMatchObject({ limit: "soft" });
    expect(atHard).toMatchObject({ limit: "hard" });
  });
});

describe("Class: BudgetGuard lookup failures", () => {
  let hanging: Server;
  let hangingUrl: string;

  beforeAll(async () => {
    hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  async function closedPortUrl(): Promise<string> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return url;
  }

  it("fail-open lets the call through and warns when the API is down", async () => {
    // Prepare
    const warnings: SdkWarning[] = [];
    const client = bedrock.client();
    client.middlewareStack.use(
      tenantMetadata({
        onWarning: (warning) => warnings.push(warning),
        budgetGuard: { source: spendApiSource({ baseUrl: await closedPortUrl() }), now: () => NOW },
      }),
    );

    // Act
    await runWithTenant({ tenantId: "over-hard" }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(bedrock.requests).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: "budget-lookup-failed", error: { name: "BudgetLookupError", reason: "failed", tenantId: "over-hard" } });
  });

  it("fail-closed throws BudgetLookupError with the cause, before anything reaches Bedrock", async () => {
    // Prepare
    const client = guardedClient({ source: spendApiSource({ baseUrl: await closedPortUrl() }), onLookupError: "fail-closed", now: () => NOW });

    // Act
    const error = await outcome(client, "under");

    // Assess
    expect(error).toBeInstanceOf(BudgetLookupError);
    expect(error).toMatchObject({ name: "BudgetLookupError", tenantId: "under", month: "2026-11", reason: "failed" });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(bedrock.requests).toHaveLength(0);
  });

  it("times out a lookup that never answers", async () => {
    // Prepare
    const started = performance.now();
    const failClosed = guardedClient({ source: spendApiSource({ baseUrl: hangingUrl }), onLookupError: "fail-closed", lookupTimeoutMs: 150 });
    const failOpen = guardedClient({ source: spendApiSource({ baseUrl: hangingUrl }), lookupTimeoutMs: 150, onWarning: () => {} });

    // Act
    const closed = await outcome(failClosed, "under");
    const open = await outcome(failOpen, "under");

    // Assess
    expect(closed).toMatchObject({ name: "BudgetLookupError", reason: "timeout" });
    expect(open).toBe("sent");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(bedrock.requests).toHaveLength(1);
  });

  it.each([
    ["another server's 404", "/prod"],
    ["the API's own 404 for a path it has no route for", "/v1"],
  ])("treats a wrong base URL (%s) as a failed lookup, not as an unknown tenant", async (_case, suffix) => {
    // Prepare
    const guard = new BudgetGuard({ source: spendApiSource({ baseUrl: `${data.apiUrl}${suffix}` }), onLookupError: "fail-closed", now: () => NOW });

    // Act
    const error = await guard.check("over-hard").catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BudgetLookupError", reason: "failed" });
    expect((error as Error).message).toContain("answered 404");
  });

  it("treats a malformed status as a failed lookup", async () => {
    // Prepare
    const source: SpendSource = { monthStatus: async () => ({ spendUsd: "1e3", budget: { monthlyUsd: "10" } }) as MonthStatus };
    const guard = new BudgetGuard({ source, onLookupError: "fail-closed", now: () => NOW });

    // Act
    const error = await guard.check("t").catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: "BudgetLookupError", reason: "malformed" });
  });
});

describe("Class: BudgetGuard cache", () => {
  it("looks up once for N calls within the TTL, and again after it", async () => {
    // Prepare
    let now = NOW;
    const source = counting(spendApiSource({ baseUrl: data.apiUrl }));
    const client = guardedClient({ source, now: () => now, cacheTtlMs: 30_000 });

    // Act
    for (let call = 0; call < 10; call++) expect(await outcome(client, "under")).toBe("sent");
    now += 29_999;
    await outcome(client, "under");
    const withinTtl = source.lookups.length;
    now += 2;
    await outcome(client, "under");

    // Assess
    expect(withinTtl).toBe(1);
    expect(source.lookups).toEqual(["under@2026-11", "under@2026-11"]);
    expect(bedrock.requests).toHaveLength(12);
  });

  it("sees new spend only once the TTL has passed", async () => {
    // Prepare
    let now = NOW;
    await data.budget("growing", "1.00");
    await data.spend("growing", "0.50");
    const guard = new BudgetGuard({ source: spendApiSource({ baseUrl: data.apiUrl }), now: () => now, cacheTtlMs: 5_000 });
    expect((await guard.check("growing")).outcome).toBe("under");

    // Act
    await data.spend("growing", "0.60");
    const cached = await guard.check("growing");
    now += 5_000;
    const fresh = await guard.check("growing").catch((caught: unknown) => caught);

    // Assess
    expect(cached).toMatchObject({ outcome: "under", spendUsd: "0.500000" });
    expect(fresh).toMatchObject({ name: "BudgetExceededError", limit: "soft", spendUsd: "1.100000" });
  });

  it("shares one lookup between concurrent calls of the same tenant and month (single flight)", async () => {
    // Prepare
    const source = counting(spendApiSource({ baseUrl: data.apiUrl }), 50);
    const client = guardedClient({ source, now: () => NOW });

    // Act
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => outcome(client, "under")),
      ...Array.from({ length: 5 }, () => outcome(client, "over-hard")),
    ]);

    // Assess
    expect(results.filter((result) => result === "sent")).toHaveLength(20);
    expect(results.filter((result) => result instanceof BudgetExceededError)).toHaveLength(5);
    expect([...source.lookups].sort()).toEqual(["over-hard@2026-11", "under@2026-11"]);
  });

  it("does not cache failures, and keeps a month per key", async () => {
    // Prepare
    let fail = true;
    let now = NOW;
    const lookups: string[] = [];
    const source: SpendSource = {
      async monthStatus(tenantId, month) {
        lookups.push(`${tenantId}@${month}`);
        if (fail) throw new Error("down");
        return { spendUsd: "0", budget: null };
      },
    };
    const guard = new BudgetGuard({ source, now: () => now, onWarning: () => {} });

    // Act
    await guard.check("t");
    fail = false;
    await guard.check("t");
    await guard.check("t");
    now = Date.UTC(2026, 11, 1);
    await guard.check("t");

    // Assess
    expect(lookups).toEqual(["t@2026-11", "t@2026-11", "t@2026-12"]);
  });
});

describe("Class: BudgetGuard options", () => {
  const source: SpendSource = { monthStatus: async () => ({ spendUsd: "0", budget: null }) };

  it.each([
    [{ source, softLimitPercent: 120, hardLimitPercent: 110 }, "budgetGuard.hardLimitPercent", "must be at least softLimitPercent (120)"],
    [{ source, softLimitPercent: 99.5 }, "budgetGuard.softLimitPercent", "integer"],
    [{ source, hardLimitPercent: 0 }, "budgetGuard.hardLimitPercent", "integer"],
    [{ source, cacheTtlMs: -1 }, "budgetGuard.cacheTtlMs", "integer"],
    [{ source, lookupTimeoutMs: 0 }, "budgetGuard.lookupTimeoutMs", "integer"],
    [{ source, onLookupError: "ignore" }, "budgetGuard.onLookupError", "fail-open"],
    [{ source: { monthStatus: "nope" } }, "budgetGuard.source", "monthStatus"],
  ])("refuses %j", (options, option, message) => {
    // Act
    const act = () => new BudgetGuard(options as unknown as BudgetGuardOptions);

    // Assess
    expect(act).toThrow(InvalidOptionsError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ name: "InvalidOptionsError", option });
    }
  });

  it("defaults to soft 100, hard 120, fail-open, and raises the default hard limit to a higher soft one", () => {
    expect(new BudgetGuard({ source })).toMatchObject({ softLimitPercent: 100, hardLimitPercent: 120, onLookupError: "fail-open" });
    expect(new BudgetGuard({ source, softLimitPercent: 150 })).toMatchObject({ softLimitPercent: 150, hardLimitPercent: 150 });
  });

  it.each([
    [() => spendApiSource({ baseUrl: "not a url" }), "spendApiSource.baseUrl"],
    [() => spendApiSource({ baseUrl: "ftp://example.com" }), "spendApiSource.baseUrl"],
    [() => spendApiSource({ baseUrl: "https://x.lambda-url.us-east-1.on.aws/?a=1" }), "spendApiSource.baseUrl"],
    [
      () => spendApiSource({ baseUrl: "https://x", signing: { region: "", credentials: { accessKeyId: "a", secretAccessKey: "b" } } }),
      "spendApiSource.signing",
    ],
    [() => aggregatesTableSource({ tableName: "" }), "aggregatesTableSource.tableName"],
    [() => aggregatesTableSource({ tableName: "t", defaultBudgetUsd: "ten" }), "aggregatesTableSource.defaultBudgetUsd"],
  ])("refuses bad source options (%#)", (create, option) => {
    expect(create).toThrow(InvalidOptionsError);
    try {
      create();
    } catch (error) {
      expect(error).toMatchObject({ option });
    }
  });
});

describe("Function: spendApiSource() requests", () => {
  let capture: Server;
  let captureUrl: string;
  const seen: IncomingMessage[] = [];

  beforeAll(async () => {
    capture = createServer((request, response) => {
      seen.push(request);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ tenantId: "x", period: "2026-11", costUsd: "0.25", budget: { monthlyUsd: "1.00", thresholds: [100] } }));
    });
    await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => capture.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it("signs with SigV4 for an IAM Function URL (service lambda), the tenant path-encoded once", async () => {
    // Prepare
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };
    const source = spendApiSource({ baseUrl: `${captureUrl}/`, signing: { region: "us-east-1", credentials: async () => credentials } });

    // Act
    const status = await source.monthStatus(SPECIAL, "2026-11");

    // Assess
    expect(status).toEqual({ spendUsd: "0.25", budget: { monthlyUsd: "1.00" } });
    const request = seen[0] as IncomingMessage;
    expect(request.url).toBe("/v1/tenants/acme%20co%2F%231/spend?month=2026-11");
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=/,
    );
    expect(request.headers["x-amz-security-token"]).toBe("token");
    // Recompute the signature from what arrived.
    const amzDate = String(request.headers["x-amz-date"]);
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const { hostname, port } = new URL(captureUrl);
    const again = await new SignatureV4({ service: "lambda", region: "us-east-1", credentials, sha256: Sha256 }).sign(
      {
        method: "GET",
        protocol: "http:",
        hostname,
        port: Number(port),
        path: "/v1/tenants/acme%20co%2F%231/spend",
        query: { month: "2026-11" },
        headers: { accept: String(request.headers.accept), host: String(request.headers.host) },
      },
      { signingDate },
    );
    expect(again.headers.authorization).toBe(authorization);
  });

  it("adds the headers of the hook (a JWT for the HTTP API) and keeps a base path", async () => {
    // Prepare
    const source = spendApiSource({ baseUrl: `${captureUrl}/prod`, headers: async () => ({ authorization: "Bearer jwt-token" }) });

    // Act
    await source.monthStatus("acme", "2026-11");

    // Assess
    expect(seen[0]?.url).toBe("/prod/v1/tenants/acme/spend?month=2026-11");
    expect(seen[0]?.headers.authorization).toBe("Bearer jwt-token");
  });
});
