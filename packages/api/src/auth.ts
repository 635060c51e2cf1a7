/**
 * Authorization of the spend API.
 *
 * - `iam`: the caller signed the request with SigV4 and AWS verified it (Lambda Function URL with
 *   AWS_IAM). IAM callers are trusted services (billing jobs, the SDK's budget check, operators):
 *   their IAM policy is what limits them, and they may read and manage any tenant. A request that
 *   reaches the handler without an IAM principal is refused, so that a URL left at auth type NONE
 *   fails closed.
 * - `jwt`: the API Gateway JWT authorizer validated the token; its tenant claim (`tenant_id` by
 *   default) must equal the tenant of the path, exactly. A missing claim is refused.
 * - `none`: local mode on 127.0.0.1 only, and only when the deployment says so explicitly.
 *
 * Administrative routes (the reprice audit trail, `ADMIN_OPERATIONS`) are for IAM callers (and
 * the local operator): a tenant's token is refused whatever its claims.
 */
import { type ApiAuth, ApiError } from "./http";

/** How the handler authorizes. */
export interface AuthPolicy {
  /** JWT claim holding the caller's tenant id. */
  tenantClaim: string;
  /** Accept requests without authentication (`mode: "none"`): the local server, never Lambda. */
  allowUnauthenticated: boolean;
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

/** Checks that the caller is an administrator: never a tenant's token. */
export function authorizeAdmin(auth: ApiAuth): void {
  if (auth.mode === "jwt") throw new ApiError("Forbidden", "this route is for administrators (IAM callers); a tenant token is not accepted");
}

/** Checks that the caller may act on `tenantId`: a JWT's tenant claim must be exactly that tenant. */
export function authorizeTenant(auth: ApiAuth, tenantId: string, policy: AuthPolicy): void {
  // Same-tenant only for tokens; IAM callers are trusted services (see above).
  if (auth.mode === "jwt" && auth.claims?.[policy.tenantClaim] !== tenantId) {
    throw new ApiError("Forbidden", `the token's ${policy.tenantClaim} claim does not match the tenant of the path`);
  }
}
