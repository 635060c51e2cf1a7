/**
 * Fixtures of the spend API tests: a fresh aggregates table on DynamoDB Local with usage written
 * by the real `UsageWriter`, request factories, payload 2.0 event factories, and recording fakes
 * of the logger and metrics.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Budget } from "@bedrock-spend/core";
import { AggregatesStore, type InvocationToCount, UsageWriter } from "@bedrock-spend/store";
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyEventV2WithJWTAuthorizer, Context } from "aws-lambda";
import { freshTable, invocation } from "../../../packages/store/test/helpers";
import { type ApiLogger, type ApiMetrics, type ApiRequest, type ApiResponse, handleSpendApi, type SpendApiDeps } from "../../src/spend-api";

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
    now: () => now,
    logger: silentLogger(),
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
export function tenantPath(tenantId: string, resource: "spend" | "budget"): string {
  return `/v1/tenants/${encodeURIComponent(tenantId)}/${resource}`;
}

/** A logger that keeps what it is told. */
export function recordingLogger(): ApiLogger & { lines: { level: string; message: string; attributes: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message, attributes) => lines.push({ level: "info", message, attributes }),
    error: (message, attributes) => lines.push({ level: "error", message, attributes }),
  };
}

/** A logger that says nothing. */
export function silentLogger(): ApiLogger {
  return { info: () => undefined, error: () => undefined };
}

/** Metrics that keep what they count. */
export function recordingMetrics(): ApiMetrics & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    addMetric: (name, _unit, value) => {
      counts[name] = (counts[name] ?? 0) + value;
    },
  };
}

const REQUEST_CONTEXT = {
  accountId: "111122223333",
  apiId: "a1b2c3d4e5",
  domainPrefix: "a1b2c3d4e5",
  requestId: "req-1",
  routeKey: "$default",
  stage: "$default",
  time: "15/Nov/2026:12:00:00 +0000",
  timeEpoch: 1_794_744_000_000,
};

function http(method: string, path: string) {
  return { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "vitest" };
}

/** An HTTP API (payload 2.0) event through a JWT authorizer; `rawPath` as the HTTP API delivers it (decoded). */
export function httpApiJwtEvent(
  method: string,
  rawPath: string,
  claims: Record<string, string> | undefined,
  options: { query?: Record<string, string>; body?: string; stage?: string } = {},
): APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2 {
  const requestContext = {
    ...REQUEST_CONTEXT,
    domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    stage: options.stage ?? "$default",
    http: http(method, rawPath),
  };
  const base = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { "content-type": "application/json" },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
  if (claims === undefined) return { ...base, requestContext };
  return { ...base, requestContext: { ...requestContext, authorizer: { principalId: "", integrationLatency: 0, jwt: { claims, scopes: null } } } };
}

/** A Lambda Function URL event with AWS_IAM auth (`rawPath` percent-encoded); no principal when `principal` is undefined. */
export function functionUrlIamEvent(
  method: string,
  rawPath: string,
  principal: string | undefined,
  options: { query?: Record<string, string>; body?: string; isBase64Encoded?: boolean } = {},
): APIGatewayProxyEventV2WithIAMAuthorizer | APIGatewayProxyEventV2 {
  const requestContext = {
    ...REQUEST_CONTEXT,
    domainName: "abcdefghijklmnop.lambda-url.us-east-1.on.aws",
    domainPrefix: "abcdefghijklmnop",
    http: http(method, rawPath),
  };
  const base = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { "content-type": "application/json" },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
  if (principal === undefined) return { ...base, requestContext };
  return {
    ...base,
    requestContext: {
      ...requestContext,
      authorizer: {
        iam: {
          accessKey: "ASIAEXAMPLE",
          accountId: "111122223333",
          callerId: "AROAEXAMPLE:billing",
          cognitoIdentity: null,
          principalOrgId: "o-example",
          userArn: principal,
          userId: "AROAEXAMPLE:billing",
        },
      },
    },
  };
}

/** A Lambda context for middy and Powertools. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "spend-api",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:spend-api",
    memoryLimitInMB: "256",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
    logGroupName: "/aws/lambda/spend-api",
    logStreamName: "2026/11/15/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
