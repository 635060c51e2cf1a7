/**
 * The spend API: `GET /v1/tenants/{tenantId}/spend`, `GET /v1/tenants/{tenantId}/alerts`,
 * `GET|PUT|DELETE /v1/tenants/{tenantId}/budget`, `GET /v1/spend` (across tenants) and the
 * reprice audit trail (docs/openapi.yaml). `handleSpendApi` answers one transport-independent request; the Lambda
 * handler (functions/src/spend-api.ts) and the local mode's HTTP server adapt their envelopes to it,
 * and log and measure what its observer tells them.
 */
import { randomUUID } from "node:crypto";
import { type AttributionDimension, type Budget, type Clock, systemClock } from "@bedrock-spend/core";
import type { RepriceAudit } from "@bedrock-spend/store";
import { type AuthPolicy, authenticate, authorizeAdmin, authorizeCrossTenant, authorizeTenant, authorizeWrite } from "./auth";
import { ApiError, type ApiRequest, type ApiResponse, errorResponse, isOversizedBody, jsonResponse, payloadTooLarge } from "./http";
import { readReport } from "./report";
import type { ReportLake } from "./report-lake";
import { ADMIN_OPERATIONS, CROSS_TENANT_OPERATIONS, matchRoute, WRITE_OPERATIONS } from "./routes";
import { readAlerts, readBudget, readSpend, removeBudget, type SpendApiStore, writeBudget } from "./service";
import { parseAlertsQuery, parseBudgetBody, parseReportQuery, parseRepriceId, parseSpendQuery, parseTenantId, rejectUnknownParameters } from "./validation";

/** What the API reports of a request it answered: enough for one log line and the request metrics. */
export interface SpendApiRequestInfo {
  /** The request's method, as sent. */
  method: string;
  /** The matched route, e.g. `GET /v1/tenants/{tenantId}/spend`; absent when no route matched. */
  route?: string;
  /** The decoded tenant id; absent when the request failed before it was read and validated. */
  tenantId?: string;
  /** The status of the response. */
  statusCode: number;
  /** Present only when the request failed unexpectedly (a 500): the cause, never sent to the caller. */
  error?: unknown;
}

/** Told of every request once its response is ready; where the transport logs and counts. Must not throw. */
export interface SpendApiObserver {
  onRequest(info: SpendApiRequestInfo): void;
}

/** The reprice audit trail, as the administrators' routes read it. */
export interface RepriceAuditSource {
  /** Every audit record, newest first (`listRepriceAudits` of the store). */
  list(): Promise<RepriceAudit[]>;
}

/** What the spend API needs. */
export interface SpendApiDeps {
  store: SpendApiStore;
  /** The reprice audit trail (`GET /v1/reprices`); without it those routes answer 404. */
  reprices?: RepriceAuditSource;
  /** Budget of tenants without their own; null when the deployment sets none. */
  defaultBudget: Budget | null;
  /** JWT claim naming the caller's tenant. Default `tenant_id`. */
  tenantClaim?: string;
  /**
   * JWT scope (in the token's `scope` or `scp` claim) that lets a token write budgets, of any tenant,
   * as an IAM caller may. Default none: tokens only read, and only their own tenant.
   */
  adminScope?: string;
  /** Serve `auth.mode: "none"` requests: for the local server on 127.0.0.1 only. Default false. */
  allowUnauthenticated?: boolean;
  /**
   * The breakdown dimensions the aggregator writes (`AGGREGATE_BREAKDOWNS`), when known: a
   * breakdown or report by another dimension is then a 400 naming the ones there are. Undefined:
   * every dimension is served from whatever breakdown items exist (none: an empty answer).
   */
  breakdowns?: readonly AttributionDimension[];
  /**
   * The lake, for the reports the aggregates do not rank (spend by model across tenants, a tenant
   * ranking over days or several months): Athena on AWS, DuckDB locally. Without it those are a 503.
   */
  lake?: ReportLake;
  /** Clock: the default month is the current UTC month. Default the machine's. */
  now?: Clock;
  /** Told of every request; none by default. */
  observer?: SpendApiObserver;
}

/** Request context that the observer is told. */
interface RequestKeys {
  route?: string;
  tenantId?: string;
}

/**
 * Answers one request. Never throws (unless the observer does): an `ApiError` becomes its status and
 * RFC 9457 problem details, anything else a generic 500 whose cause only the observer sees. Every
 * response carries the request id in `x-request-id` (the transport's, else a new UUID).
 */
export async function handleSpendApi(request: ApiRequest, deps: SpendApiDeps): Promise<ApiResponse> {
  const keys: RequestKeys = {};
  const requestId = request.requestId || randomUUID();
  const context = { requestId, instance: instanceOf(requestId) };
  let response: ApiResponse;
  let failure: { error: unknown } | undefined;
  try {
    response = await route(request, deps, keys);
  } catch (error) {
    if (error instanceof ApiError && error.code !== "InternalError") response = errorResponse(error, context);
    else {
      failure = { error };
      response = errorResponse(new ApiError("InternalError", "internal error; try again later", { cause: error }), context);
    }
  }
  response.headers["x-request-id"] = requestId;
  deps.observer?.onRequest({ ...keys, method: request.method, statusCode: response.statusCode, ...failure });
  return response;
}

async function route(request: ApiRequest, deps: SpendApiDeps, keys: RequestKeys): Promise<ApiResponse> {
  const policy: AuthPolicy = {
    tenantClaim: deps.tenantClaim ?? "tenant_id",
    adminScope: deps.adminScope,
    allowUnauthenticated: deps.allowUnauthenticated ?? false,
  };
  const match = matchRoute(request.method, request.path);
  keys.route = match.name;
  // Before anything reads it: the Lambda's envelope allows megabytes, the table's item far less.
  if (isOversizedBody(request.body)) throw payloadTooLarge();
  authenticate(request.auth, policy);
  if (ADMIN_OPERATIONS.has(match.route.operation)) {
    authorizeAdmin(request.auth);
    rejectUnknownParameters(request.query, match.route.query);
    return repriceResponse(match.route.operation, match.params.repriceId, deps);
  }
  const now = new Date((deps.now ?? systemClock)());
  if (CROSS_TENANT_OPERATIONS.has(match.route.operation)) {
    authorizeCrossTenant(request.auth, policy);
    rejectUnknownParameters(request.query, match.route.query);
    return jsonResponse(200, await readReport(deps.store, parseReportQuery(request.query, now), { breakdowns: deps.breakdowns, lake: deps.lake }));
  }
  // Before any input is read: a tenant's write is refused whatever its path and body hold.
  if (WRITE_OPERATIONS.has(match.route.operation)) authorizeWrite(request.auth, policy);
  const tenantId = parseTenantId(match.rawTenantId);
  keys.tenantId = tenantId;
  authorizeTenant(request.auth, tenantId, policy);
  rejectUnknownParameters(request.query, match.route.query);
  switch (match.route.operation) {
    case "getSpend": {
      const options = { defaultBudget: deps.defaultBudget, now, ...(deps.breakdowns ? { breakdowns: deps.breakdowns } : {}) };
      return jsonResponse(200, await readSpend(deps.store, tenantId, parseSpendQuery(request.query, now), options));
    }
    case "getAlerts":
      return jsonResponse(200, await readAlerts(deps.store, tenantId, parseAlertsQuery(request.query).month));
    case "getBudget": {
      const budget = await readBudget(deps.store, tenantId, deps.defaultBudget);
      if (!budget) throw unknownTenant();
      return jsonResponse(200, budget);
    }
    case "putBudget":
      return jsonResponse(200, await writeBudget(deps.store, tenantId, parseBudgetBody(request.body), now));
    case "deleteBudget": {
      const budget = await removeBudget(deps.store, tenantId, deps.defaultBudget);
      if (!budget) throw new ApiError("NotFound", "the tenant has no budget of its own to delete");
      return jsonResponse(200, budget);
    }
    default:
      throw new ApiError("NotFound", `no route for ${match.name}`);
  }
}

/** `GET /v1/reprices` (newest first) and `GET /v1/reprices/{repriceId}`. */
async function repriceResponse(operation: string, rawId: string | undefined, deps: SpendApiDeps): Promise<ApiResponse> {
  const id = operation === "getReprice" ? parseRepriceId(rawId ?? "") : undefined;
  if (!deps.reprices) throw new ApiError("NotFound", "this deployment serves no reprice history");
  const audits = await deps.reprices.list();
  if (id === undefined) return jsonResponse(200, { reprices: audits });
  const audit = audits.find((candidate) => candidate.id === id);
  if (!audit) throw new ApiError("NotFound", "no reprice with this id");
  return jsonResponse(200, audit);
}

/**
 * The problem's `instance`: the request's own URN (`urn:uuid:...` for a UUID request id), which
 * names the occurrence without echoing anything the caller sent in the path.
 */
export function instanceOf(requestId: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requestId)
    ? `urn:uuid:${requestId.toLowerCase()}`
    : `urn:bedrock-spend:request:${encodeURIComponent(requestId)}`;
}

function unknownTenant(): ApiError {
  return new ApiError("NotFound", "no usage or budget is recorded for this tenant");
}
