/**
 * OAuth 2.0 scopes of a validated JWT, as the spend API reads them from the token's claims.
 *
 * Where the scopes are: the `scope` claim (RFC 8693 and RFC 9068: one string, scopes separated by
 * spaces) and the `scp` claim (Okta and others: an array; Microsoft Entra ID: a space-separated
 * string). Both are read, and a scope in either counts.
 *
 * How they arrive: an API Gateway HTTP API JWT authorizer passes every claim to the Lambda as a
 * string (`requestContext.authorizer.jwt.claims`, payload 2.0). A string claim arrives as it is
 * (`"openid spend:admin"`); an array claim arrives as its items inside brackets separated by
 * spaces (`["openid","spend:admin"]` becomes `"[openid spend:admin]"`). Both forms are read here,
 * and so is a real array, for a transport that passes claims untouched. The authorizer's own
 * `jwt.scopes` field is not read: the claims are the one source.
 *
 * Deliberately without imports, so that the stacks can import it by path (see stacks/README.md)
 * and validate the configured scope with the same rule the handler applies.
 */

/**
 * One scope token as RFC 6749 (section 3.3) defines it (printable ASCII except space, `"` and `\`),
 * further without `[` and `]`: API Gateway's rendering of an array claim puts brackets around its
 * items, so a scope holding one could be read two ways.
 */
export const SCOPE_TOKEN: RegExp = /^[\x21\x23-\x5A\x5E-\x7E]+$/;

/** Whether `value` is a single scope token (`SCOPE_TOKEN`): what a configured scope must be. */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** The claims that carry scopes, in the order they are read. */
export const SCOPE_CLAIMS: readonly string[] = ["scope", "scp"];

/** The scopes of one claim's value: a space-separated string, API Gateway's `[a b]` rendering of an array, or an array of strings. */
function scopesOfClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  if (typeof value !== "string") return [];
  const text = value.trim();
  const items = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return items.split(/\s+/).filter((scope) => scope !== "");
}

/** Every scope of a token, from its `scope` and `scp` claims; empty without claims. */
export function scopesOf(claims: Readonly<Record<string, unknown>> | undefined): Set<string> {
  const scopes = new Set<string>();
  if (claims === undefined) return scopes;
  for (const claim of SCOPE_CLAIMS) for (const scope of scopesOfClaim(claims[claim])) scopes.add(scope);
  return scopes;
}
