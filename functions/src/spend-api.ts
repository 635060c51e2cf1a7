/**
 * Lambda entry point of the spend API (docs/openapi.yaml): adapts payload 2.0 events (HTTP API with
 * a JWT authorizer, or Function URL with AWS_IAM) to `@bedrock-spend/api`, which answers them, and
 * logs one line and counts `SPEND_API_METRICS` per request (observers/spend-api.ts).
 */
import { apiGatewayResultOf, apiRequestOf, type EventAdapterOptions, handleSpendApi, type SpendApiDeps } from "@bedrock-spend/api";
import type * as lambda from "aws-lambda";
import type { Environment } from "./lib/env";
import { lambdaHandler } from "./lib/handler";
import { logger } from "./lib/powertools";
import { spendApiDepsFromEnv } from "./lib/spend-api";
import { type ApiLogger, type ApiMetrics, NO_METRICS, spendApiObserver } from "./observers/spend-api";

export { spendApiDepsFromEnv } from "./lib/spend-api";
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

/** The handler on AWS, from `spendApiDepsFromEnv`. */
export const fromEnvironment = (env: Environment) => createSpendApiHandler(spendApiDepsFromEnv(env));

/** Lambda entry point; configuration is read on the first invocation and fails closed. */
export const handler = lambdaHandler(fromEnvironment);
