/**
 * Fixtures of the spend API's Lambda tests: the API's own fixtures (a fresh aggregates table on
 * DynamoDB Local, request factories), payload 2.0 event factories, a Lambda context, and recording
 * fakes of the logger and metrics.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyEventV2WithJWTAuthorizer, Context } from "aws-lambda";
import type { ApiLogger, ApiMetrics } from "../../src/spend-api";

export {
  type ApiFixture,
  freshApi,
  invocation,
  invocationOf,
  jwtRequest,
  problem,
  request,
  SERVICE_PRINCIPAL,
  tenantPath,
} from "../../../packages/api/test/helpers/fixtures";
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
