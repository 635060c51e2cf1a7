/**
 * What the spend API function is built from (functions/src/spend-api.ts): the tables, how callers
 * are authenticated and who may write budgets, from the environment.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AthenaQueries } from "@bedrock-spend/adapters";
import { isScopeToken, type ReportLake, sqlReportLake } from "@bedrock-spend/api";
import { ConfigurationError } from "@bedrock-spend/core";
import type { SpendApiHandlerDeps } from "../spend-api";
import { aggregatesStoreFromEnv, repriceAuditsFromEnv } from "./adapters";
import { ENV } from "./contracts";
import { breakdownsFromEnv, defaultBudgetFromEnv, type Environment, optionalEnv, requireEnv } from "./env";
import { logger, metrics } from "./powertools";

/**
 * From the environment: `TABLE_NAME`, `API_AUTH_MODE` (`iam` or `jwt`, required: never guessed),
 * `JWT_TENANT_CLAIM` (default `tenant_id`), `JWT_ADMIN_SCOPE` (one scope token; unset, tokens only
 * read), the default budget, and `AGGREGATE_BREAKDOWNS` when set (the dimensions the aggregator
 * writes: a breakdown or report by another is then a 400 naming them, not an empty answer), and
 * the lake the reports by model and over days read (`ATHENA_WORKGROUP`, `GLUE_DATABASE`,
 * `GLUE_TABLE`; without a workgroup those reports answer 503).
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
    ...(optionalEnv(ENV.aggregateBreakdowns, env) === undefined ? {} : { breakdowns: breakdownsFromEnv(env) }),
    ...reportLakeFromEnv(env),
    logger,
    metrics,
  };
}

/**
 * The lake through Athena, when a workgroup is set. A report waits for its statement within the
 * function's timeout (30 s, the HTTP API's integration limit): polled from 200 ms, stopped at 25 s.
 */
function reportLakeFromEnv(env: Environment): { lake?: ReportLake } {
  const workGroup = optionalEnv(ENV.athenaWorkGroup, env);
  if (workGroup === undefined) return {};
  const queries = new AthenaQueries({
    athena: new AthenaClient({}),
    workGroup,
    database: requireEnv(ENV.glueDatabase, env),
    pollMs: 200,
    queryTimeoutMs: 25_000,
  });
  return { lake: sqlReportLake((sql) => queries.select(sql), requireEnv(ENV.glueTable, env)) };
}

/** `JWT_ADMIN_SCOPE`, when set: a single scope token, else the cold start fails rather than match no token or the wrong one. */
function adminScopeFromEnv(env: Environment): { adminScope?: string } {
  const scope = optionalEnv(ENV.jwtAdminScope, env);
  if (scope === undefined) return {};
  if (!isScopeToken(scope))
    throw new ConfigurationError(ENV.jwtAdminScope, `must be one OAuth 2.0 scope (no spaces, quotes, backslashes or brackets), got "${scope}"`);
  return { adminScope: scope };
}
