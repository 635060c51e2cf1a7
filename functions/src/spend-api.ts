/**
 * Lambda entry point of the spend API (docs/openapi.yaml): adapts payload 2.0 events (HTTP API with
 * a JWT authorizer, or Function URL with AWS_IAM) to `@bedrock-spend/api`, which answers them, and
 * logs one line and counts `SPEND_API_METRICS` per request (observers/spend-api.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { apiGatewayResultOf, apiRequestOf, type EventAdapterOptions, handleSpendApi, isScopeToken, type SpendApiDeps } from "@bedrock-spend/api";
import { ConfigurationError } from "@bedrock-spend/core";
import type * as lambda from "aws-lambda";
import { aggregatesStoreFromEnv, repriceAuditsFromEnv } from "./lib/adapters";
import { ENV } from "./lib/contracts";
import { defaultBudgetFromEnv, type Environment, optionalEnv, requireEnv } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { logger, metrics } from "./lib/powertools";
import { type ApiLogger, type ApiMetrics, NO_METRICS, spendApiObserver } from "./observers/spend-api";

export { type ApiLogger, type ApiMetrics, spendApiObserver } from "./observers/spend-api";

/** The events the spend API Lambda receives. */
export type SpendApiEvent = lambda.APIGatewayProxyEventV2 | lambda.APIGatewayProxyEventV2WithJWTAuthorizer | lambda.APIGatewayProxyEventV2WithIAMAuthorizer;

/** Dependencies of the Lambda handler: the API's, how the deployment authenticates, where it logs (default Powertools) and counts. */
export type SpendApiHandlerDeps = Omit<SpendApiDeps, "observer"> & EventAdapterOptions & { logger?: ApiLogger; metrics?: ApiMetrics };

/** Adapts the API to payload 2.0 events (HTTP API with JWT authorizer, Function URL with AWS_IAM). */
export function createSpendApiHandler(deps: SpendApiHandlerDeps): (event: SpendApiEvent) => Promise<lambda.APIGatewayProxyStructuredResultV2> {
  // Lambda never serves unauthenticated requests, whatever the deps say.
  const api: SpendApiDeps = { ...deps, allowUnauthenticated: false, observer: spendApiObserver(deps.logger ?? logger, deps.metrics ?? NO_METRICS) };
  return async (event) => apiGatewayResultOf(await handleSpendApi(apiRequestOf(event, deps), api));
}

/**
 * From the environment: `TABLE_NAME`, `API_AUTH_MODE` (`iam` or `jwt`, required: never guessed),
 * `JWT_TENANT_CLAIM` (default `tenant_id`), `JWT_ADMIN_SCOPE` (one scope token; unset, tokens only
 * read), the default budget.
 */
export function spendApiDepsFromEnv(env: Environment = process.env, client: DynamoDBClient = new DynamoDBClient({})): SpendApiHandlerDeps {
  const authMode = requireEnv(ENV.apiAuthMode, env).trim();
  if (authMode !== "iam" && authMode !== "jwt") throw new ConfigurationError(ENV.apiAuthMode, `must be iam or jwt, got "${authMode}"`);
  // The reprice audit trail is for administrators: the API refuses it to a JWT caller.
  const tables = { store: aggregatesStoreFromEnv(env, client), reprices: repriceAuditsFromEnv(env, client) };
  return {
    authMode,
    ...tables,
    defaultBudget: defaultBudgetFromEnv(env),
    tenantClaim: optionalEnv(ENV.jwtTenantClaim, env) ?? "tenant_id",
    ...adminScopeFromEnv(env),
    logger,
    metrics,
  };
}

/** `JWT_ADMIN_SCOPE`, when set: a single scope token, else the cold start fails rather than match no token or the wrong one. */
function adminScopeFromEnv(env: Environment): { adminScope?: string } {
  const scope = optionalEnv(ENV.jwtAdminScope, env);
  if (scope === undefined) return {};
  if (!isScopeToken(scope))
    throw new ConfigurationError(ENV.jwtAdminScope, `must be one OAuth 2.0 scope (no spaces, quotes, backslashes or brackets), got "${scope}"`);
  return { adminScope: scope };
}

/** The handler on AWS, from `spendApiDepsFromEnv`. */
export const fromEnvironment = (env: Environment) => createSpendApiHandler(spendApiDepsFromEnv(env));

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
