/**
 * Fixtures of the spend API tests: a fresh aggregates table on DynamoDB Local with usage written
 * by the real `UsageWriter`, request factories, and a recording observer.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Budget } from "@bedrock-spend/core";
import { DuckDbLakeWriter, LocalAthena } from "@bedrock-spend/local-lake";
import { AggregatesStore, type InvocationToCount, type RepriceAudit, UsageWriter } from "@bedrock-spend/store";
import { afterAll, expect } from "vitest";
import { freshTable, invocation } from "../../../store/test/helpers";
import {
  type ApiRequest,
  type ApiResponse,
  handleSpendApi,
  type SpendApiDeps,
  type SpendApiObserver,
  type SpendApiRequestInfo,
  sqlReportLake,
} from "../../src/index";

export { invocation };

/** A principal for IAM-mode requests. */
export const SERVICE_PRINCIPAL = "arn:aws:iam::111122223333:role/billing-service";

/** A fresh table, its store and writer, and a caller of the API over them. */
export interface ApiFixture {
  client: DynamoDBClient;
  tableName: string;
  store: AggregatesStore;
  writer: UsageWriter;
  deps: SpendApiDeps;
  /** Writes invocations and checks they were all counted. */
  write(invocations: readonly InvocationToCount[]): Promise<void>;
  /** Calls the API; the body is parsed as JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field and assert on them
  call(request: ApiRequest): Promise<ApiResponse & { json: any }>;
}

/** Sets up a fresh table and the API's dependencies (the clock says 2026-11-15 unless told otherwise). */
export async function freshApi(options: { defaultBudget?: Budget | null; now?: Date; deps?: Partial<SpendApiDeps> } = {}): Promise<ApiFixture> {
  const { client, tableName } = await freshTable();
  const store = new AggregatesStore(client, tableName);
  const writer = new UsageWriter({ client, tableName });
  const now = options.now ?? new Date("2026-11-15T12:00:00Z");
  const deps: SpendApiDeps = {
    store,
    defaultBudget: options.defaultBudget ?? null,
    now: () => now.getTime(),
    ...options.deps,
  };
  return {
    client,
    tableName,
    store,
    writer,
    deps,
    async write(invocations) {
      const outcome = await writer.write(invocations);
      if (outcome.failed.length > 0 || outcome.counted.length !== invocations.length) {
        throw new Error(`test data not written: ${outcome.failed.map((failure) => failure.error.message).join("; ")}`);
      }
    },
    async call(request) {
      const response = await handleSpendApi(request, deps);
      return { ...response, json: JSON.parse(response.body) };
    },
  };
}

/**
 * Gives the API what its reports read besides the table, as a deployment has them: the lake (a
 * DuckDB lake in a temporary directory, queried by the local Athena, as `start` serves it) and the
 * month totals' rank entries (kept on AWS by the table stream's consumer; here put in place by
 * `syncRank` after each write). From then on `write` (and `record`) feed all three; closed after
 * the file's tests.
 */
export async function withReportSources(api: ApiFixture): Promise<ApiFixture & { record(invocations: readonly InvocationToCount[]): Promise<void> }> {
  const lakeDir = await mkdtemp(join(tmpdir(), "bedrock-spend-report-lake-"));
  const lakeWriter = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
  const athena = await LocalAthena.open({ lakeDir, threads: 1 });
  afterAll(async () => {
    await athena.close();
    await lakeWriter.close();
    await rm(lakeDir, { recursive: true, force: true });
  });
  api.deps.lake = sqlReportLake((sql) => athena.queryText(sql));
  // Every total this fixture writes is synced below: the entries are complete from the start.
  await api.store.markRankSince(0);
  const write = api.write.bind(api);
  /** Puts invocations already counted in the table into the lake and the rank entries. */
  const record = async (invocations: readonly InvocationToCount[]) => {
    await lakeWriter.write(invocations.map((counted) => counted.record));
    const totals = new Set(invocations.map((counted) => JSON.stringify([counted.record.tenant_id, counted.record.event_time.slice(0, 7)])));
    for (const total of totals) {
      const [tenantId, month] = JSON.parse(total) as [string, string];
      await api.store.syncRank(tenantId, month);
    }
  };
  return Object.assign(api, {
    async write(invocations: readonly InvocationToCount[]) {
      await write(invocations);
      await record(invocations);
    },
    record,
  });
}

/** An invocation of `tenantId` taken as-is: the id bypasses attribution (which trims and validates). */
export function invocationOf(tenantId: string, requestId: string, fields: Parameters<typeof invocation>[1] = {}): InvocationToCount {
  const counted = invocation(requestId, { ...fields, tenant: "placeholder" });
  return { ...counted, record: { ...counted.record, tenant_id: tenantId } };
}

/** A request in IAM mode from a trusted service, unless `auth` says otherwise. */
export function request(
  method: string,
  path: string,
  options: { query?: Record<string, string | undefined>; body?: string | null; auth?: ApiRequest["auth"] } = {},
): ApiRequest {
  return { method, path, query: options.query ?? {}, body: options.body ?? null, auth: options.auth ?? { mode: "iam", iamPrincipal: SERVICE_PRINCIPAL } };
}

/** A request carrying a validated JWT with these claims. */
export function jwtRequest(method: string, path: string, claims: Record<string, unknown> | undefined, query: Record<string, string> = {}): ApiRequest {
  return request(method, path, { query, auth: claims === undefined ? { mode: "jwt" } : { mode: "jwt", claims } });
}

/** The path of a tenant route, the tenant id percent-encoded once. */
export function tenantPath(tenantId: string, resource: "spend" | "budget" | "alerts"): string {
  return `/v1/tenants/${encodeURIComponent(tenantId)}/${resource}`;
}

/** An applied reprice's audit record. */
export function repriceAudit(id: string, overrides: Partial<RepriceAudit> = {}): RepriceAudit {
  return {
    id,
    status: "applied",
    stage: "done",
    from: "2026-09",
    to: "2026-10",
    priceVersion: "acme-2026-12",
    catalog: { kind: "overlay", origin: "acme-prices.json" },
    versionsBefore: ["2026-09-01"],
    actor: "arn:aws:iam::123456789012:role/ops",
    startedAt: "2026-12-02T10:00:00.123Z",
    finishedAt: "2026-12-02T10:41:07.002Z",
    totalsBefore: "1204.118000",
    totalsAfter: "1387.402500",
    invocations: 1840211,
    changed: 912004,
    tenantMonths: 311,
    unreconciled: [{ tenantId: "acme", month: "2026-09", lakeInvocations: 10, countedInvocations: 11 }],
    error: null,
    ...overrides,
  };
}

/** An observer that keeps what it is told. */
export function recordingObserver(): SpendApiObserver & { requests: SpendApiRequestInfo[] } {
  const requests: SpendApiRequestInfo[] = [];
  return { requests, onRequest: (info) => requests.push(info) };
}

const STATUS_OF_CODE: Record<string, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** The RFC 9457 problem details the API answers an error with (`detail` may be a matcher). */
export function problem(code: string, detail: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: `tag:bedrock-spend.dev,2026:problems/${code.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}`,
    title: expect.any(String),
    status: STATUS_OF_CODE[code],
    detail,
    instance: expect.stringMatching(/^urn:/),
    code,
    requestId: expect.stringMatching(/^\S+$/),
    ...extra,
  };
}

/** An `asOf` time: ISO 8601 UTC, whole seconds. */
export const AS_OF = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
