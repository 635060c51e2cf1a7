/**
 * Lambda entry point of the spend API (docs/openapi.yaml): adapts payload 2.0 events (HTTP API with
 * a JWT authorizer, or Function URL with AWS_IAM) to `@bedrock-spend/api`, which answers them, and
 * logs one line and counts `SpendRequests`, `ClientErrors` (4xx) and `ServerErrors` (5xx) per request.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { apiGatewayResultOf, apiRequestOf, type EventAdapterOptions, handleSpendApi, type SpendApiDeps, type SpendApiObserver } from "@bedrock-spend/api";
import { ConfigurationError } from "@bedrock-spend/core";
import { AggregatesStore } from "@bedrock-spend/store";
import middy from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import { defaultBudgetFromEnv, requireEnv } from "./lib/env";
import { logger, metrics } from "./lib/powertools";

/** The events the spend API Lambda receives. */
export type SpendApiEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer | APIGatewayProxyEventV2WithIAMAuthorizer;

/** The logger the handler writes one line per request to (Powertools' Logger fits). */
export interface ApiLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The metrics the handler counts (Powertools' Metrics fits). */
export interface ApiMetrics {
  addMetric(name: string, unit: typeof MetricUnit.Count, value: number): unknown;
}

const NO_METRICS: ApiMetrics = { addMetric: () => undefined };

/** Logs each request (and the cause of a 500) and counts it, its client errors and server errors. */
export function spendApiObserver(log: ApiLogger, count: ApiMetrics): SpendApiObserver {
  return {
    onRequest(info) {
      const { statusCode, error, ...keys } = info;
      if ("error" in info) log.error("spend api request failed", { ...keys, error });
      count.addMetric("SpendRequests", MetricUnit.Count, 1);
      if (statusCode >= 400 && statusCode < 500) count.addMetric("ClientErrors", MetricUnit.Count, 1);
      if (statusCode >= 500) count.addMetric("ServerErrors", MetricUnit.Count, 1);
      log.info("spend api request", { ...keys, statusCode });
    },
  };
}

/** Dependencies of the Lambda handler: the API's, how the deployment authenticates, where it logs (default Powertools) and counts. */
export type SpendApiHandlerDeps = Omit<SpendApiDeps, "observer"> & EventAdapterOptions & { logger?: ApiLogger; metrics?: ApiMetrics };

/** Adapts the API to payload 2.0 events (HTTP API with JWT authorizer, Function URL with AWS_IAM). */
export function createSpendApiHandler(deps: SpendApiHandlerDeps): (event: SpendApiEvent) => Promise<APIGatewayProxyStructuredResultV2> {
  // Lambda never serves unauthenticated requests, whatever the deps say.
  const api: SpendApiDeps = { ...deps, allowUnauthenticated: false, observer: spendApiObserver(deps.logger ?? logger, deps.metrics ?? NO_METRICS) };
  return async (event) => apiGatewayResultOf(await handleSpendApi(apiRequestOf(event, deps), api));
}

/**
 * Handler dependencies from the environment: `TABLE_NAME`, `API_AUTH_MODE` (`iam` or `jwt`,
 * required: the handler never guesses how callers are authenticated), `JWT_TENANT_CLAIM` (default
 * `tenant_id`), `DEFAULT_BUDGET_USD` and `DEFAULT_BUDGET_THRESHOLDS`.
 */
export function spendApiDepsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  client: DynamoDBClient = new DynamoDBClient({}),
): SpendApiHandlerDeps {
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
