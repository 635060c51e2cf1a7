/**
 * Api: the spend API (docs/openapi.yaml). Service callers reach it through a Lambda Function URL
 * with IAM (SigV4) authentication; with BEDROCK_SPEND_JWT_ISSUER set, a second function serves it
 * through an HTTP API whose JWT authorizer checks issuer and audience, the handler then checking
 * the tenant claim against the path. Budget writes take IAM or, with BEDROCK_SPEND_JWT_ADMIN_SCOPE
 * set, a token with that scope: the HTTP API requires the scope on its write routes, and the handler
 * checks it again (a tenant's token only reads).
 */
import * as iam from "aws-cdk-lib/aws-iam";
import type { IConstruct } from "constructs";
import { Api as HttpApi, Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import { ENV } from "../functions/src/lib/contracts";
import { PERIOD_INDEX } from "../packages/store/src/layout";
import { Analytics, resultsAccess, workGroupAccess } from "./Analytics";
import { config } from "./config";
import { Lake, lakeReadStatements } from "./Lake";
import { apiSuppressions } from "./nag-suppressions";
import { Processing } from "./Processing";

/**
 * The routes of the JWT HTTP API (the same handler answers each). The administrators' routes
 * (`GET /v1/reprices[/{repriceId}]`) are served by the IAM Function URL only: the handler refuses a
 * token on them anyway, and the tenants' API does not route them at all.
 */
export const SPEND_API_ROUTES = [
  "GET /v1/spend",
  "GET /v1/tenants/{tenantId}/spend",
  "GET /v1/tenants/{tenantId}/alerts",
  "GET /v1/tenants/{tenantId}/budget",
  "PUT /v1/tenants/{tenantId}/budget",
  "DELETE /v1/tenants/{tenantId}/budget",
] as const;

/** One route of the JWT HTTP API. */
export type SpendApiRoute = (typeof SPEND_API_ROUTES)[number];

/**
 * The routes a token needs the admin scope for: the writes, and the report across tenants (a
 * tenant's token must never rank other tenants; the handler refuses it too).
 */
export const ADMIN_SCOPED_ROUTES: ReadonlySet<SpendApiRoute> = new Set<SpendApiRoute>([
  "GET /v1/spend",
  ...SPEND_API_ROUTES.filter((route) => !route.startsWith("GET ")),
]);

export function Api({ stack }: StackContext) {
  const { table } = use(Processing);
  const { bucket, databaseName, tableName } = use(Lake);
  const { workGroup, results } = use(Analytics);
  const settings = config();

  const environment = {
    [ENV.tableName]: table.tableName,
    // The lake, for the reports by model and over days (through Athena).
    [ENV.athenaWorkGroup]: workGroup.name,
    [ENV.glueDatabase]: databaseName,
    [ENV.glueTable]: tableName,
    ...(settings.defaultBudgetUsd ? { [ENV.defaultBudgetUsd]: settings.defaultBudgetUsd } : {}),
    [ENV.defaultBudgetThresholds]: settings.defaultBudgetThresholds,
    // The dimensions the aggregator writes: a breakdown or report by another is a 400 naming them.
    [ENV.aggregateBreakdowns]: settings.breakdowns.join(","),
  };
  // Reads of spend, budgets and alerts; the only writes are PutItem/DeleteItem of a budget (the
  // handler addresses nothing else; IAM cannot constrain a sort key, so the code holds that line).
  // Reports by a breakdown dimension query the by-period index, and only that one.
  const tableAccess = (fn: SstFunction) => {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        resources: [table.tableArn],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["dynamodb:Query"], resources: [`${table.tableArn}/index/${PERIOD_INDEX.name}`] }));
    // A tenant ranking reads the exact totals of its candidates, 100 keys a call.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["dynamodb:BatchGetItem"], resources: [table.tableArn] }));
    // The lake reports: run statements in the workgroup, read the lake's table and objects, and the results.
    for (const statement of [
      workGroupAccess(stack, workGroup.name),
      ...lakeReadStatements(stack, bucket, databaseName, [tableName]),
      ...resultsAccess(results),
    ])
      fn.addToRolePolicy(statement);
  };

  const spendApi = new SstFunction(stack, "SpendApi", {
    handler: "functions/src/spend-api.handler",
    // A lake report waits for its Athena statement (functions/src/lib/spend-api.ts); 30 s is the HTTP API's limit.
    timeout: 30,
    memorySize: 512,
    environment: { ...environment, [ENV.apiAuthMode]: "iam" },
    // Callers sign with SigV4; their IAM policy needs lambda:InvokeFunctionUrl and (for URLs created
    // since October 2025) lambda:InvokeFunction on this function. No CORS: no browser callers.
    url: { authorizer: "iam", cors: false },
  });
  tableAccess(spendApi);
  const outputs: Record<string, string> = { SpendApiFunctionUrl: spendApi.url ?? "", SpendApiFunctionArn: spendApi.functionArn };

  let spendApiJwt: SstFunction | undefined;
  let jwtApiUrl: string | undefined;
  let httpApiStage: IConstruct | undefined;
  if (settings.jwtIssuer) {
    if (!settings.jwtAudience || settings.jwtAudience.length === 0) {
      throw new Error("BEDROCK_SPEND_JWT_AUDIENCE: required with BEDROCK_SPEND_JWT_ISSUER (the JWT authorizer checks the token's audience)");
    }
    const handler = new SstFunction(stack, "SpendApiJwt", {
      handler: "functions/src/spend-api.handler",
      timeout: 30,
      memorySize: 512,
      environment: {
        ...environment,
        [ENV.apiAuthMode]: "jwt",
        [ENV.jwtTenantClaim]: settings.jwtTenantClaim,
        ...(settings.jwtAdminScope ? { [ENV.jwtAdminScope]: settings.jwtAdminScope } : {}),
      },
    });
    // A tenant's reads stay open to every valid token (the handler checks the tenant claim); a write or
    // the cross-tenant report without the admin scope is refused before it reaches the function.
    // Without an admin scope, they stay routed so that the handler answers why they are refused.
    const scopesOf = (route: SpendApiRoute) =>
      settings.jwtAdminScope && ADMIN_SCOPED_ROUTES.has(route) ? { authorizationScopes: [settings.jwtAdminScope] } : {};
    tableAccess(handler);
    const jwtApi = new HttpApi(stack, "SpendHttpApi", {
      authorizers: { jwt: { type: "jwt", jwt: { issuer: settings.jwtIssuer, audience: settings.jwtAudience } } },
      defaults: { authorizer: "jwt", throttle: { rate: 50, burst: 100 } },
      // Service callers with bearer tokens; a browser front end would need CORS configured for its origin.
      cors: false,
      accessLog: { retention: "one_month" },
      routes: Object.fromEntries(SPEND_API_ROUTES.map((route) => [route, { function: handler, ...scopesOf(route) }])),
    });
    spendApiJwt = handler;
    httpApiStage = jwtApi.cdk.httpApi.defaultStage;
    jwtApiUrl = jwtApi.url;
    outputs.SpendHttpApiUrl = jwtApi.url;
  }

  stack.addOutputs(outputs);
  apiSuppressions(stack, { spendApi, spendApiJwt, httpApiStage: httpApiStage });
  return { spendApi, spendApiJwt, jwtApiUrl };
}
