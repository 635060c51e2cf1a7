/**
 * The route table of the spend API: the single list that the router, the OpenAPI test and the
 * local server agree on. A path matches at most one template; a method the template does not
 * serve is a 405 with `Allow`, a path no template matches is a 404.
 */
import { ApiError, quote } from "./http";
import { AlertsQuerySchema, ReportQuerySchema, SpendQuerySchema } from "./schemas";

/** The operations of the spend API. */
export type SpendApiOperation = "getSpend" | "getAlerts" | "getBudget" | "putBudget" | "deleteBudget" | "getReport" | "listReprices" | "getReprice";

/** One route: method, path template (OpenAPI syntax) and the query parameters it accepts. */
export interface SpendApiRoute {
  method: "GET" | "PUT" | "DELETE";
  path: string;
  operation: SpendApiOperation;
  query: readonly string[];
}

/** Every route the spend API serves. */
export const SPEND_API_ROUTES: readonly SpendApiRoute[] = [
  // Query parameters: the keys of the zod schemas that validate them (schemas.ts).
  { method: "GET", path: "/v1/tenants/{tenantId}/spend", operation: "getSpend", query: Object.keys(SpendQuerySchema.shape) },
  { method: "GET", path: "/v1/tenants/{tenantId}/alerts", operation: "getAlerts", query: Object.keys(AlertsQuerySchema.shape) },
  { method: "GET", path: "/v1/tenants/{tenantId}/budget", operation: "getBudget", query: [] },
  { method: "PUT", path: "/v1/tenants/{tenantId}/budget", operation: "putBudget", query: [] },
  { method: "DELETE", path: "/v1/tenants/{tenantId}/budget", operation: "deleteBudget", query: [] },
  // Service callers only (IAM, a token with the admin scope, the local operator): spend across tenants.
  { method: "GET", path: "/v1/spend", operation: "getReport", query: Object.keys(ReportQuerySchema.shape) },
  // Administrators only (IAM callers): the reprice audit trail.
  { method: "GET", path: "/v1/reprices", operation: "listReprices", query: [] },
  { method: "GET", path: "/v1/reprices/{repriceId}", operation: "getReprice", query: [] },
];

/** Operations across tenants: IAM callers, tokens with the admin scope and the local operator; never a tenant's token. */
export const CROSS_TENANT_OPERATIONS: ReadonlySet<SpendApiOperation> = new Set(["getReport"]);

/** Operations only administrators (IAM callers, never a token) may call. */
export const ADMIN_OPERATIONS: ReadonlySet<SpendApiOperation> = new Set(["listReprices", "getReprice"]);

/**
 * Operations that change data (today `putBudget` and `deleteBudget`): every route whose method is not
 * GET, so that a route added later is a write unless it only reads. A tenant's token may not call them.
 */
export const WRITE_OPERATIONS: ReadonlySet<SpendApiOperation> = new Set(
  SPEND_API_ROUTES.filter((route) => route.method !== "GET").map((route) => route.operation),
);

/** A matched route, with its still percent-encoded path parameters. */
export interface RouteMatch {
  route: SpendApiRoute;
  /** `GET /v1/tenants/{tenantId}/spend`: the route's name in logs. */
  name: string;
  /** The `{tenantId}` segment ("" on routes without one). */
  rawTenantId: string;
  /** Every path parameter, by name. */
  params: Record<string, string>;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

interface CompiledTemplate {
  path: string;
  pattern: RegExp;
  names: string[];
  routes: SpendApiRoute[];
}

// One segment per parameter: an encoded `/` (%2F) stays inside it, a literal `/` never does.
const TEMPLATES: readonly CompiledTemplate[] = [...new Set(SPEND_API_ROUTES.map((route) => route.path))].map((path) => ({
  path,
  pattern: new RegExp(
    `^${path
      .split(/\{[A-Za-z]+\}/)
      .map(escapeRegExp)
      .join("([^/]*)")}$`,
  ),
  names: [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => match[1] as string),
  routes: SPEND_API_ROUTES.filter((route) => route.path === path),
}));

/**
 * Finds the route of a request. Throws `NotFound` for an unknown path and `MethodNotAllowed`
 * (with the `Allow` header) for a known path and another method.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  for (const template of TEMPLATES) {
    const match = template.pattern.exec(path);
    if (!match) continue;
    const route = template.routes.find((candidate) => candidate.method === method.toUpperCase());
    if (!route) {
      const allow = template.routes.map((candidate) => candidate.method).join(", ");
      throw new ApiError("MethodNotAllowed", `${quote(method, 16)} is not allowed on ${template.path}; allowed: ${allow}`, { headers: { allow } });
    }
    const params = Object.fromEntries(template.names.map((name, index) => [name, match[index + 1] ?? ""]));
    return { route, name: `${route.method} ${route.path}`, rawTenantId: params.tenantId ?? "", params };
  }
  throw new ApiError("NotFound", `no route for ${quote(path)}; see docs/openapi.yaml`);
}
