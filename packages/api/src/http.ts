/**
 * The framework-agnostic HTTP shapes of the spend API, its one user-visible error type, and the
 * JSON responses built from them. The Lambda adapter and the local mode's HTTP server both speak
 * these shapes, so that the same code answers on AWS and on 127.0.0.1.
 */
import { BedrockSpendError } from "@bedrock-spend/core";

/** How the request was authenticated, as established by whatever sits in front of the handler. */
export interface ApiAuth {
  /**
   * `iam`: SigV4-signed by an AWS principal (a trusted service, Function URL with AWS_IAM);
   * `jwt`: a bearer token validated by the API Gateway JWT authorizer; `none`: local mode only.
   */
  mode: "iam" | "jwt" | "none";
  /** The validated token's claims (JWT mode). */
  claims?: Record<string, unknown>;
  /** The calling principal's ARN (IAM mode). */
  iamPrincipal?: string;
}

/** One HTTP request. */
export interface ApiRequest {
  method: string;
  /** The path as sent, still percent-encoded (no query string). */
  path: string;
  /** Query parameters, decoded. */
  query: Record<string, string | undefined>;
  body: string | null;
  auth: ApiAuth;
  /** The transport's id of the request (API Gateway's or Lambda's), echoed in `x-request-id` and problem details; one is made up when absent. */
  requestId?: string;
}

/** One HTTP response; the body is always JSON (`application/json`, or `application/problem+json` for an error). */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Machine-readable error codes of the API. */
export type ApiErrorCode = "BadRequest" | "Forbidden" | "NotFound" | "MethodNotAllowed" | "PayloadTooLarge" | "InternalError" | "ServiceUnavailable";

const STATUS_OF: Record<ApiErrorCode, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  InternalError: 500,
  ServiceUnavailable: 503,
};

/** The problem type of each error code (RFC 9457 `type`, a tag URI: an identifier, not a page) and its `title`. */
export const PROBLEM_TYPES: Readonly<Record<ApiErrorCode, { type: string; title: string }>> = {
  BadRequest: { type: "tag:bedrock-spend.dev,2026:problems/bad-request", title: "The request is not valid" },
  Forbidden: { type: "tag:bedrock-spend.dev,2026:problems/forbidden", title: "The caller may not do this" },
  NotFound: { type: "tag:bedrock-spend.dev,2026:problems/not-found", title: "Not found" },
  MethodNotAllowed: { type: "tag:bedrock-spend.dev,2026:problems/method-not-allowed", title: "The method is not allowed on this path" },
  PayloadTooLarge: { type: "tag:bedrock-spend.dev,2026:problems/payload-too-large", title: "The request body is too large" },
  InternalError: { type: "tag:bedrock-spend.dev,2026:problems/internal-error", title: "Internal error" },
  ServiceUnavailable: { type: "tag:bedrock-spend.dev,2026:problems/service-unavailable", title: "The service cannot answer this now" },
};

/**
 * The API's one user-visible error: whatever it says is sent to the caller as RFC 9457 problem
 * details (`application/problem+json`: `type`, `title`, `status`, `detail` (the message),
 * `instance`, and the extension members `code`, `requestId`, `field`, `allowed`). Every other
 * error is a bug or an outage and is answered with a generic 500 (and logged), so that no internal
 * detail leaks.
 */
export class ApiError extends BedrockSpendError {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** The input that was wrong (`month`, `tenantId`, `body`, `monthlyUsd`, ...). */
  readonly field: string | undefined;
  /** Extra response headers (`Allow` for 405). */
  readonly headers: Readonly<Record<string, string>>;
  /** The values the offending input may take (`groupBy`, `by`, a method's `Allow`), when they are few. */
  readonly allowed: readonly string[] | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { field?: string; headers?: Record<string, string>; allowed?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.statusCode = STATUS_OF[code];
    this.field = options.field;
    this.headers = options.headers ?? {};
    this.allowed = options.allowed;
  }
}

/** Largest request body served, in bytes (UTF-8): a budget is a few dozen. Every transport refuses more with a 413. */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/** The 413 of a body over `MAX_REQUEST_BODY_BYTES`. */
export function payloadTooLarge(): ApiError {
  return new ApiError("PayloadTooLarge", `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`, { field: "body" });
}

/** Whether `body` is over `MAX_REQUEST_BODY_BYTES`, judged without encoding a long string. */
export function isOversizedBody(body: string | null): boolean {
  if (body === null) return false;
  // UTF-8 takes at least one byte per UTF-16 unit and at most three.
  if (body.length > MAX_REQUEST_BODY_BYTES) return true;
  if (body.length * 3 <= MAX_REQUEST_BODY_BYTES) return false;
  return Buffer.byteLength(body, "utf8") > MAX_REQUEST_BODY_BYTES;
}

/** A 400 naming the offending input (and the values it may take, when they are few). */
export function badRequest(field: string, message: string, allowed?: readonly string[]): ApiError {
  return new ApiError("BadRequest", message, { field, ...(allowed ? { allowed } : {}) });
}

/** Headers of every response: JSON, and never cached by a shared cache (the data is per tenant). */
const BASE_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json", "cache-control": "no-store" };

/** A JSON response. */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** RFC 9457 problem details, as the API sends them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The occurrence of the problem: the request's URN (`urn:uuid:<request id>`). */
  instance: string;
  /** The machine-readable code (`BadRequest`, `NotFound`...), one per `type`. */
  code: ApiErrorCode;
  /** The request's id, as in the `x-request-id` header: quote it when reporting a problem. */
  requestId: string;
  /** The offending input (`month`, `groupBy`, `tenantId`, `body`, `monthlyUsd`...). */
  field?: string;
  /** The values the offending input may take. */
  allowed?: string[];
}

/** The problem details response (`application/problem+json`) of an `ApiError`. */
export function errorResponse(error: ApiError, context: { requestId: string; instance: string }): ApiResponse {
  const { type, title } = PROBLEM_TYPES[error.code];
  const body: ProblemDetails = {
    type,
    title,
    status: error.statusCode,
    detail: error.message,
    instance: context.instance,
    code: error.code,
    requestId: context.requestId,
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.allowed === undefined ? {} : { allowed: [...error.allowed] }),
  };
  return jsonResponse(error.statusCode, body, { ...error.headers, "content-type": "application/problem+json" });
}

/** Quotes user input for an error message, shortened so that a 256-character id stays readable. */
export function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}
