import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Api, SPEND_API_ROUTES } from "../../stacks/Api";
import { environmentOf, functionWithHandler, only, resources, roleOfFunction, roleStatements } from "./helpers";
import { synthesize } from "./synth";

const HANDLER = "functions/src/spend-api.handler";
const TABLE = { "Fn::ImportValue": expect.stringMatching(/Processing:.*AggregatesDCEBC1D6Arn/) };

/** The spend API's table access: reads (BatchGetItem of ranked totals included), and put/delete of budgets; no update, batch write or transaction. */
function expectTableAccess(template: Template, functionId: string): void {
  const statements = roleStatements(template, roleOfFunction(template, functionId));
  const dynamodb = statements.filter((statement) => JSON.stringify(statement.Action).includes("dynamodb:"));
  // The CDK may merge the two statements' Allow into one policy document: compare by content.
  expect(dynamodb).toHaveLength(3);
  expect(dynamodb[0]).toEqual({ Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"], Resource: TABLE });
  // The report across tenants: Query on the by-period index only, not on index/*.
  expect(dynamodb[1]?.Action).toBe("dynamodb:Query");
  expect(dynamodb[1]?.Resource).toEqual({ "Fn::Join": ["", [TABLE, "/index/by-period"]] });
  // A tenant ranking reads the exact totals of its candidates: BatchGetItem on the table, nothing else.
  expect(dynamodb[2]).toEqual({ Effect: "Allow", Action: "dynamodb:BatchGetItem", Resource: TABLE });
  // The lake reports: Athena in the stage's workgroup, GetObject on the lake's usage/ only.
  expect(JSON.stringify(statements)).toContain('"athena:StartQueryExecution"');
  const lakeObjects = statements.find((statement) => statement.Sid === "LakeObjects");
  expect(lakeObjects?.Action).toBe("s3:GetObject");
  expect(JSON.stringify(lakeObjects?.Resource)).toContain("/usage/*");
}

describe("Stack: Api (IAM only: no JWT issuer configured)", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize()).template(Api);
  }, 300_000);

  it("serves the spend API from a Function URL with AWS_IAM auth and no CORS", () => {
    const functionId = functionWithHandler(template, HANDLER);
    const [, url] = only(template, "AWS::Lambda::Url", { AuthType: "AWS_IAM", TargetFunctionArn: { "Fn::GetAtt": [functionId, "Arn"] } });
    expect(url.Properties).not.toHaveProperty("Cors");
    // No resource policy opens the URL: callers need lambda:InvokeFunctionUrl in their own IAM policy.
    template.resourceCountIs("AWS::Lambda::Permission", 0);
  });

  it("runs the handler in IAM mode against the aggregates table", () => {
    expect(environmentOf(template, functionWithHandler(template, HANDLER))).toMatchObject({ API_AUTH_MODE: "iam", TABLE_NAME: expect.anything() });
  });

  it("reads the table and writes only budgets (put/delete)", () => {
    expectTableAccess(template, functionWithHandler(template, HANDLER));
  });

  it("creates no HTTP API and no second function", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 0);
    expect(Object.values(resources(template, "AWS::Lambda::Function")).filter((fn) => fn.Properties.Handler === HANDLER)).toHaveLength(1);
  });

  it("outputs the Function URL", () => {
    const [urlId] = only(template, "AWS::Lambda::Url");
    template.hasOutput("SpendApiFunctionUrl", { Value: { "Fn::GetAtt": [urlId, "FunctionUrl"] } });
    expect(Object.keys(template.toJSON().Outputs)).not.toContain("SpendHttpApiUrl");
  });
});

describe("Stack: Api with a JWT issuer and an admin scope", () => {
  let template: Template;
  beforeAll(async () => {
    template = (
      await synthesize({
        jwtIssuer: "https://login.example.com/",
        jwtAudience: ["spend-api", "dashboard"],
        jwtTenantClaim: "org_id",
        jwtAdminScope: "spend:admin",
      })
    ).template(Api);
  }, 300_000);

  it("keeps the IAM Function URL", () => {
    const functionId = functionWithHandler(template, HANDLER, { API_AUTH_MODE: "iam" });
    only(template, "AWS::Lambda::Url", { AuthType: "AWS_IAM", TargetFunctionArn: { "Fn::GetAtt": [functionId, "Arn"] } });
  });

  it("adds a second function in JWT mode with the tenant claim, with the same table access", () => {
    const functionId = functionWithHandler(template, HANDLER, { API_AUTH_MODE: "jwt" });
    expect(environmentOf(template, functionId)).toMatchObject({ API_AUTH_MODE: "jwt", JWT_TENANT_CLAIM: "org_id", TABLE_NAME: expect.anything() });
    expectTableAccess(template, functionId);
  });

  it("gives the admin scope to the JWT function only: the IAM function has no tokens to check", () => {
    expect(environmentOf(template, functionWithHandler(template, HANDLER, { API_AUTH_MODE: "jwt" }))).toMatchObject({ JWT_ADMIN_SCOPE: "spend:admin" });
    expect(environmentOf(template, functionWithHandler(template, HANDLER, { API_AUTH_MODE: "iam" }))).not.toHaveProperty("JWT_ADMIN_SCOPE");
  });

  it("requires the admin scope on the budget write routes and the report across tenants, and no scope on a tenant's read routes", () => {
    const scopes = Object.fromEntries(
      Object.values(resources(template, "AWS::ApiGatewayV2::Route")).map((route) => [route.Properties.RouteKey, route.Properties.AuthorizationScopes]),
    );
    expect(scopes).toStrictEqual({
      "GET /v1/spend": ["spend:admin"],
      "GET /v1/tenants/{tenantId}/spend": undefined,
      "GET /v1/tenants/{tenantId}/alerts": undefined,
      "GET /v1/tenants/{tenantId}/budget": undefined,
      "PUT /v1/tenants/{tenantId}/budget": ["spend:admin"],
      "DELETE /v1/tenants/{tenantId}/budget": ["spend:admin"],
    });
  });

  it("puts it behind an HTTP API whose JWT authorizer checks issuer and audience", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP", CorsConfiguration: Match.absent() });
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      IdentitySource: ["$request.header.Authorization"],
      JwtConfiguration: { Issuer: "https://login.example.com/", Audience: ["spend-api", "dashboard"] },
    });
  });

  it("routes the report, a tenant's spend and alerts, and GET|PUT|DELETE budget, each through the JWT authorizer to the JWT function", () => {
    const functionId = functionWithHandler(template, HANDLER, { API_AUTH_MODE: "jwt" });
    const [authorizerId] = only(template, "AWS::ApiGatewayV2::Authorizer");
    const routes = Object.values(resources(template, "AWS::ApiGatewayV2::Route")).map((route) => route.Properties);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([...SPEND_API_ROUTES].sort());
    expect(SPEND_API_ROUTES).toEqual([
      "GET /v1/spend",
      "GET /v1/tenants/{tenantId}/spend",
      "GET /v1/tenants/{tenantId}/alerts",
      "GET /v1/tenants/{tenantId}/budget",
      "PUT /v1/tenants/{tenantId}/budget",
      "DELETE /v1/tenants/{tenantId}/budget",
    ]);
    for (const route of routes) expect(route).toMatchObject({ AuthorizationType: "JWT", AuthorizerId: { Ref: authorizerId } });
    const integrations = Object.values(resources(template, "AWS::ApiGatewayV2::Integration"));
    expect(integrations).toHaveLength(6);
    for (const integration of integrations) {
      expect(integration.Properties).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: { "Fn::GetAtt": [functionId, "Arn"] },
      });
    }
  });

  it("throttles the stage and keeps its access log for 30 days", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("outputs both URLs", () => {
    template.hasOutput("SpendApiFunctionUrl", {});
    template.hasOutput("SpendHttpApiUrl", {});
  });
});

describe("Stack: Api with a JWT issuer and no admin scope", () => {
  let template: Template;
  beforeAll(async () => {
    template = (await synthesize({ jwtIssuer: "https://login.example.com/", jwtAudience: ["spend-api"] })).template(Api);
  }, 300_000);

  it("routes the writes without scopes, for the handler to refuse every token, and sets no admin scope", () => {
    const routes = Object.values(resources(template, "AWS::ApiGatewayV2::Route")).map((route) => route.Properties);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([...SPEND_API_ROUTES].sort());
    for (const route of routes) expect(route).not.toHaveProperty("AuthorizationScopes");
    expect(environmentOf(template, functionWithHandler(template, HANDLER, { API_AUTH_MODE: "jwt" }))).not.toHaveProperty("JWT_ADMIN_SCOPE");
  });
});

describe("Stack: Api configuration errors", () => {
  it("refuses a JWT issuer without an audience, naming the variable", async () => {
    await expect(synthesize({ jwtIssuer: "https://login.example.com/" })).rejects.toThrow(/BEDROCK_SPEND_JWT_AUDIENCE/);
  }, 300_000);
});
