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
}

/** One HTTP response; the body is always JSON. */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Machine-readable error codes of the API. */
export type ApiErrorCode = "BadRequest" | "Forbidden" | "NotFound" | "MethodNotAllowed" | "PayloadTooLarge" | "InternalError";

const STATUS_OF: Record<ApiErrorCode, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  InternalError: 500,
};

/**
 * The API's one user-visible error: whatever it says is sent to the caller as
 * `{"error":{"code","message","field"?}}`. Every other error is a bug or an outage and is answered
 * with a generic 500 (and logged), so that no internal detail leaks.
 */
export class ApiError extends BedrockSpendError {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** The input that was wrong (`month`, `tenantId`, `body`, `monthlyUsd`, ...). */
  readonly field: string | undefined;
  /** Extra response headers (`Allow` for 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ApiErrorCode, message: string, options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.statusCode = STATUS_OF[code];
    this.field = options.field;
    this.headers = options.headers ?? {};
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

/** A 400 naming the offending input. */
export function badRequest(field: string, message: string): ApiError {
  return new ApiError("BadRequest", message, { field });
}

/** Headers of every response: JSON, and never cached by a shared cache (the data is per tenant). */
const BASE_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json", "cache-control": "no-store" };

/** A JSON response. */
export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The JSON response of an `ApiError`. */
export function errorResponse(error: ApiError): ApiResponse {
  const body = { error: { code: error.code, message: error.message, ...(error.field === undefined ? {} : { field: error.field }) } };
  return jsonResponse(error.statusCode, body, { ...error.headers });
}

/** Quotes user input for an error message, shortened so that a 256-character id stays readable. */
export function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}
