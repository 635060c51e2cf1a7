/**
 * Adapts Lambda HTTP events (payload format 2.0) to the framework-agnostic request: an API Gateway
 * HTTP API with a JWT authorizer, or a Lambda Function URL with AWS_IAM auth.
 *
 * The two deliver the path differently: a Function URL passes it still percent-encoded, while an
 * HTTP API decodes `rawPath` before the Lambda sees it (`%23` arrives as `#`, `%2F` as `/`, and a
 * decoded `?` cuts the path short). The request's path is made percent-encoded again so that the
 * tenant id is decoded exactly once either way. Through an HTTP API, a tenant id holding `/` cannot
 * be addressed (its request gets a 404, or a 403 in JWT mode, never another tenant's data): call
 * the Function URL for such tenants.
 *
 * An HTTP API passes the token's claims as strings, an array claim as `"[a b]"`; they are handed on
 * as they arrive, and the scopes are read from them by scopes.ts, which knows both forms.
 */
import type { ApiAuth, ApiRequest, ApiResponse } from "./http";

/**
 * The fields of a payload 2.0 event the adapter reads. Declared here rather than taken from
 * `@types/aws-lambda`, so that the package needs no AWS types: the events of `aws-lambda`
 * (`APIGatewayProxyEventV2` and its JWT and IAM authorizer variants) all fit it.
 */
export interface PayloadV2Event {
  rawPath: string;
  queryStringParameters?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded: boolean;
  requestContext: {
    /** API Gateway's (or the Function URL's) id of the request, echoed in problem details and `x-request-id`. */
    requestId?: string;
    domainName?: string;
    stage?: string;
    http: { method: string };
    authorizer?: {
      jwt?: { claims?: Record<string, unknown> };
      iam?: { userArn?: string | null; callerId?: string | null };
    };
  };
}

/** A payload 2.0 result (fits `APIGatewayProxyStructuredResultV2`). */
export interface PayloadV2Result {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** Whether `rawPath` arrives percent-encoded (Function URL) or decoded (HTTP API). */
export type PathEncoding = "encoded" | "decoded";

/** Options of the event adapter. */
export interface EventAdapterOptions {
  /** How the deployment authenticates callers. */
  authMode: "iam" | "jwt";
  /** Default: `encoded` for a `*.lambda-url.<region>.on.aws` domain, `decoded` otherwise (HTTP API). */
  pathEncoding?: PathEncoding;
}

const FUNCTION_URL_DOMAIN = /\.lambda-url\.[a-z0-9-]+\.on\.aws$/;

/** The framework-agnostic request of an HTTP API or Function URL event. */
export function apiRequestOf(event: PayloadV2Event, options: EventAdapterOptions): ApiRequest {
  const context = event.requestContext;
  const authorizer = context.authorizer;
  let path = event.rawPath;
  // A named HTTP API stage prefixes the path with its name; `$default` does not.
  if (context.stage && context.stage !== "$default" && path.startsWith(`/${context.stage}/v1/`)) path = path.slice(context.stage.length + 1);
  const encoding = options.pathEncoding ?? (FUNCTION_URL_DOMAIN.test(context.domainName ?? "") ? "encoded" : "decoded");
  // Re-encoding only `%` is enough: decodeURIComponent changes nothing but `%XX` sequences.
  if (encoding === "decoded") path = path.replace(/%/g, "%25");
  const body = event.body === undefined || event.body === null ? null : event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  let auth: ApiAuth;
  if (options.authMode === "jwt") {
    auth = { mode: "jwt", ...(authorizer?.jwt?.claims ? { claims: authorizer.jwt.claims } : {}) };
  } else {
    const principal = authorizer?.iam?.userArn || authorizer?.iam?.callerId;
    auth = { mode: "iam", ...(principal ? { iamPrincipal: principal } : {}) };
  }
  return {
    method: context.http.method,
    path,
    query: { ...(event.queryStringParameters ?? {}) },
    body,
    auth,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
}

/** The payload 2.0 result of a response. */
export function apiGatewayResultOf(response: ApiResponse): PayloadV2Result {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, isBase64Encoded: false };
}
