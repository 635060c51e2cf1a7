/**
 * The spend API: `GET /v1/tenants/{tenantId}/spend` and `GET|PUT|DELETE /v1/tenants/{tenantId}/budget`
 * (docs/openapi.yaml). `handleSpendApi` is the framework-agnostic core that the Lambda handler and
 * the local mode's HTTP server share; `createSpendApiHandler` adapts it to payload 2.0 events (HTTP
 * API with a JWT authorizer, or Function URL with AWS_IAM); `handler` is the Lambda entry point.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Budget, ConfigurationError } from "@bedrock-spend/core";
import { AggregatesStore } from "@bedrock-spend/store";
import middy from "@middy/core";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { apiGatewayResultOf, apiRequestOf, type EventAdapterOptions, type SpendApiEvent } from "./api/apigw";
import { type AuthPolicy, authenticate, authorizeTenant } from "./api/auth";
import { ApiError, type ApiRequest, type ApiResponse, errorResponse, jsonResponse } from "./api/http";
import { matchRoute } from "./api/routes";
import { readBudget, readSpend, removeBudget, type SpendApiStore, writeBudget } from "./api/service";
import { parseBudgetBody, parseSpendQuery, parseTenantId, rejectUnknownParameters } from "./api/validation";
import { defaultBudgetFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

export type { SpendApiEvent } from "./api/apigw";
export { ApiError, type ApiRequest, type ApiResponse } from "./api/http";
export { SPEND_API_ROUTES, type SpendApiRoute } from "./api/routes";
export type { BudgetResource, SpendApiStore } from "./api/service";

/** The logger the API writes one line per request to (Powertools' Logger fits). */
export interface ApiLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The metrics the API counts (Powertools' Metrics fits). */
export interface ApiMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
}

/** What the spend API needs. */
export interface SpendApiDeps {
  store: SpendApiStore;
  /** Budget of tenants without their own; null when the deployment sets none. */
  defaultBudget: Budget | null;
  /** JWT claim naming the caller's tenant. Default `tenant_id`. */
  tenantClaim?: string;
  /** Serve `auth.mode: "none"` requests: for the local server on 127.0.0.1 only. Default false. */
  allowUnauthenticated?: boolean;
  /** Clock: the default month is the current UTC month. */
  now?: () => Date;
  logger?: ApiLogger;
  metrics?: ApiMetrics;
}

const NO_METRICS: ApiMetrics = { addMetric: () => undefined };

/** Request context that every log line of the request carries. */
interface RequestKeys {
  route?: string;
  tenantId?: string;
}

/**
 * Answers one request. Never throws: an `ApiError` becomes its status and JSON error, anything
 * else a generic 500 (logged). Counts `SpendRequests`, `ClientErrors` (4xx) and `ServerErrors` (5xx).
 */
export async function handleSpendApi(request: ApiRequest, deps: SpendApiDeps): Promise<ApiResponse> {
  const keys: RequestKeys = {};
  const log = deps.logger ?? logger;
  const count = deps.metrics ?? NO_METRICS;
  let response: ApiResponse;
  try {
    response = await route(request, deps, keys);
  } catch (error) {
    if (error instanceof ApiError) response = errorResponse(error);
    else {
      log.error("spend api request failed", { ...keys, method: request.method, error });
      response = errorResponse(new ApiError("InternalError", "internal error; try again later", { cause: error }));
    }
  }
  count.addMetric("SpendRequests", MetricUnit.Count, 1);
  if (response.statusCode >= 400 && response.statusCode < 500) count.addMetric("ClientErrors", MetricUnit.Count, 1);
  if (response.statusCode >= 500) count.addMetric("ServerErrors", MetricUnit.Count, 1);
  log.info("spend api request", { ...keys, method: request.method, statusCode: response.statusCode });
  return response;
}

async function route(request: ApiRequest, deps: SpendApiDeps, keys: RequestKeys): Promise<ApiResponse> {
  const policy: AuthPolicy = { tenantClaim: deps.tenantClaim ?? "tenant_id", allowUnauthenticated: deps.allowUnauthenticated ?? false };
  const match = matchRoute(request.method, request.path);
  keys.route = match.name;
  authenticate(request.auth, policy);
  const tenantId = parseTenantId(match.rawTenantId);
  keys.tenantId = tenantId;
  authorizeTenant(request.auth, tenantId, policy);
  rejectUnknownParameters(request.query, match.route.query);
  const now = deps.now?.() ?? new Date();
  switch (match.route.operation) {
    case "getSpend": {
      const spend = await readSpend(deps.store, tenantId, parseSpendQuery(request.query, now), deps.defaultBudget);
      if (!spend) throw unknownTenant();
      return jsonResponse(200, spend);
    }
    case "getBudget": {
      const budget = await readBudget(deps.store, tenantId, deps.defaultBudget);
      if (!budget) throw unknownTenant();
      return jsonResponse(200, budget);
    }
    case "putBudget":
      return jsonResponse(200, await writeBudget(deps.store, tenantId, parseBudgetBody(request.body), now));
    case "deleteBudget": {
      const budget = await removeBudget(deps.store, tenantId, deps.defaultBudget);
      if (!budget) throw new ApiError("NotFound", "the tenant has no budget of its own to delete");
      return jsonResponse(200, budget);
    }
  }
}

function unknownTenant(): ApiError {
  return new ApiError("NotFound", "no usage or budget is recorded for this tenant");
}

/** Dependencies of the Lambda adapter: the core's, plus how the deployment authenticates. */
export type SpendApiHandlerDeps = SpendApiDeps & EventAdapterOptions;

/** Adapts the core to payload 2.0 events (HTTP API with JWT authorizer, Function URL with AWS_IAM). */
export function createSpendApiHandler(deps: SpendApiHandlerDeps): (event: SpendApiEvent) => Promise<APIGatewayProxyStructuredResultV2> {
  // Lambda never serves unauthenticated requests, whatever the deps say.
  const core: SpendApiDeps = { ...deps, allowUnauthenticated: false };
  return async (event) => apiGatewayResultOf(await handleSpendApi(apiRequestOf(event, deps), core));
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Handler dependencies from the environment: `TABLE_NAME`, `API_AUTH_MODE` (`iam` or `jwt`,
 * required: the handler never guesses how callers are authenticated), `JWT_TENANT_CLAIM` (default
 * `tenant_id`), `DEFAULT_BUDGET_USD` and `DEFAULT_BUDGET_THRESHOLDS`.
 */
export function spendApiDepsFromEnv(env: Environment = process.env, client: DynamoDBClient = new DynamoDBClient({})): SpendApiHandlerDeps {
  const authMode = requireEnv("API_AUTH_MODE", env).trim();
  if (authMode !== "iam" && authMode !== "jwt") throw new ConfigurationError("API_AUTH_MODE", `must be iam or jwt, got "${authMode}"`);
  return {
    authMode,
    store: new AggregatesStore(client, requireEnv("TABLE_NAME", env)),
    defaultBudget: defaultBudgetFromEnv(env),
    tenantClaim: env.JWT_TENANT_CLAIM?.trim() || "tenant_id",
    logger,
    metrics,
  };
}

let configured: ReturnType<typeof createSpendApiHandler> | undefined;

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = middy(async (event: SpendApiEvent) => {
  configured ??= createSpendApiHandler(spendApiDepsFromEnv());
  return configured(event);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
