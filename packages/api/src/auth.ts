/**
 * Authorization of the spend API.
 *
 * - `iam`: the caller signed the request with SigV4 and AWS verified it (Lambda Function URL with
 *   AWS_IAM). IAM callers are trusted services (billing jobs, the SDK's budget check, operators):
 *   their IAM policy is what limits them, and they may read and manage any tenant. A request that
 *   reaches the handler without an IAM principal is refused, so that a URL left at auth type NONE
 *   fails closed.
 * - `jwt`: the API Gateway JWT authorizer validated the token. Two kinds of token:
 *   - a tenant's token: its tenant claim (`tenant_id` by default) must equal the tenant of the
 *     path, exactly, and it may only read (spend, budget). A missing claim is refused.
 *   - an administrator's token: it carries the deployment's admin scope (`adminScope`, in its
 *     `scope` or `scp` claim, see scopes.ts). It may read and write the budget of any tenant, as an
 *     IAM caller may, and needs no tenant claim. Without an admin scope configured there is no
 *     such token: every token only reads.
 * - `none`: local mode on 127.0.0.1 only, and only when the deployment says so explicitly.
 *
 * Budget writes (`WRITE_OPERATIONS`) are thus for IAM callers, administrators' tokens and the
 * local operator: a tenant must not raise or lift its own cap. Administrative routes (the reprice
 * audit trail, `ADMIN_OPERATIONS`) are for IAM callers (and the local operator): a token is
 * refused whatever its claims and scopes.
 */
import { type ApiAuth, ApiError } from "./http";
import { scopesOf } from "./scopes";

/** How the handler authorizes. */
export interface AuthPolicy {
  /** JWT claim holding the caller's tenant id. */
  tenantClaim: string;
  /** JWT scope that makes a token an administrator's (budget writes, every tenant); undefined: tokens only read. */
  adminScope: string | undefined;
  /** Accept requests without authentication (`mode: "none"`): the local server, never Lambda. */
  allowUnauthenticated: boolean;
}

/** Whether the request carries a token with the deployment's admin scope. */
export function isAdminToken(auth: ApiAuth, policy: AuthPolicy): boolean {
  return auth.mode === "jwt" && policy.adminScope !== undefined && scopesOf(auth.claims).has(policy.adminScope);
}

/** Checks that the request carries a principal of its mode; runs before any input is read. */
export function authenticate(auth: ApiAuth, policy: AuthPolicy): void {
  switch (auth.mode) {
    case "iam":
      if (typeof auth.iamPrincipal !== "string" || auth.iamPrincipal === "") {
        throw new ApiError("Forbidden", "this API requires a SigV4-signed request from an IAM principal");
      }
      return;
    case "jwt":
      if (auth.claims === undefined) throw new ApiError("Forbidden", "this API requires a bearer token");
      if (isAdminToken(auth, policy)) return;
      if (typeof auth.claims[policy.tenantClaim] !== "string" || auth.claims[policy.tenantClaim] === "") {
        throw new ApiError("Forbidden", `the token has no ${policy.tenantClaim} claim`);
      }
      return;
    case "none":
      if (!policy.allowUnauthenticated) throw new ApiError("Forbidden", "unauthenticated requests are not accepted");
      return;
    default:
      throw new ApiError("Forbidden", "unknown authentication");
  }
}

/** Checks that the caller is an administrator of the reprices: never a token, whatever its scopes. */
export function authorizeAdmin(auth: ApiAuth): void {
  if (auth.mode === "jwt") throw new ApiError("Forbidden", "this route is for administrators (IAM callers); a token is not accepted");
}

/**
 * Checks that the caller may read across tenants (`CROSS_TENANT_OPERATIONS`): IAM, the local
 * operator, or a token with the admin scope; a tenant's token never, whatever its claims.
 */
export function authorizeCrossTenant(auth: ApiAuth, policy: AuthPolicy): void {
  if (auth.mode !== "jwt" || isAdminToken(auth, policy)) return;
  throw new ApiError(
    "Forbidden",
    policy.adminScope === undefined
      ? "spend across tenants is for IAM callers; this deployment configures no admin scope, so a token may only read its own tenant"
      : `spend across tenants needs IAM or the admin scope ${policy.adminScope}`,
  );
}

/** Checks that the caller may write budgets: IAM, the local operator, or a token with the admin scope. */
export function authorizeWrite(auth: ApiAuth, policy: AuthPolicy): void {
  if (auth.mode !== "jwt" || isAdminToken(auth, policy)) return;
  throw new ApiError(
    "Forbidden",
    policy.adminScope === undefined
      ? "budget writes need IAM; this deployment configures no admin scope, so a token may only read"
      : `budget writes need IAM or the admin scope ${policy.adminScope}`,
  );
}

/** Checks that the caller may act on `tenantId`: a tenant's token must name exactly that tenant in its claim. */
export function authorizeTenant(auth: ApiAuth, tenantId: string, policy: AuthPolicy): void {
  // Same-tenant only for tenants' tokens; IAM callers and administrators' tokens act on every tenant (see above).
  if (auth.mode === "jwt" && !isAdminToken(auth, policy) && auth.claims?.[policy.tenantClaim] !== tenantId) {
    throw new ApiError("Forbidden", `the token's ${policy.tenantClaim} claim does not match the tenant of the path`);
  }
}
