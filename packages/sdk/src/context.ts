/**
 * The request scope: which tenant (and department, user, application) the Bedrock calls made
 * inside it belong to, carried by AsyncLocalStorage so that concurrent requests never see each
 * other's tenant, however their awaits interleave.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** How much a call matters when the tenant is over its soft budget limit. */
export type CallPriority = "essential" | "normal";

/** Who a Bedrock call is made for. */
export interface TenantContext {
  /** The tenant; sent under the tenant key (default `tenantId`). */
  tenantId: string;
  /** Sent under the department key (default `departmentId`). */
  departmentId?: string | undefined;
  /** Sent under the user key (default `userId`). */
  userId?: string | undefined;
  /** Sent under the application key (default `applicationId`). */
  applicationId?: string | undefined;
  /** More metadata for every call of the scope; the named fields above win over the same keys here. */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** `essential` calls pass the budget guard's soft limit (never the hard one). Default `normal`. */
  priority?: CallPriority | undefined;
}

interface Scope {
  readonly tenant: Readonly<TenantContext> | undefined;
  /** Metadata added with `withMetadata`, merged across nested calls. */
  readonly callMetadata: Readonly<Record<string, string>> | undefined;
  /** Priority set with `withPriority`; wins over the tenant's. */
  readonly priority: CallPriority | undefined;
}

const storage = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` with `context` as the tenant of every Bedrock call made inside it (synchronously or
 * after any number of awaits). A nested `runWithTenant` replaces the whole scope, including
 * metadata and priority set with `withMetadata` and `withPriority` outside it.
 *
 * @example
 * app.post("/chat", (req, res) => runWithTenant({ tenantId: req.auth.tenant, userId: req.auth.sub }, () => chat(req, res)));
 */
export function runWithTenant<T>(context: TenantContext, fn: () => T): T {
  if (typeof context !== "object" || context === null) throw new TypeError("runWithTenant(context, fn): context must be an object with a tenantId");
  // A copy: the caller mutating its object later must not change calls already in flight.
  const tenant: TenantContext = Object.freeze({ ...context, ...(context.metadata ? { metadata: Object.freeze({ ...context.metadata }) } : {}) });
  return storage.run({ tenant, callMetadata: undefined, priority: undefined }, fn);
}

/**
 * Runs `fn` with extra requestMetadata for the Bedrock calls made inside it (any operation the
 * plugin stamps, InvokeModel included), on top of the current tenant scope. Per-call metadata wins
 * over the tenant context and the static defaults; nested calls merge, the innermost winning.
 */
export function withMetadata<T>(metadata: Readonly<Record<string, string>>, fn: () => T): T {
  const scope = storage.getStore();
  return storage.run(
    {
      tenant: scope?.tenant,
      callMetadata: Object.freeze({ ...scope?.callMetadata, ...metadata }),
      priority: scope?.priority,
    },
    fn,
  );
}

/** Runs `fn` with the given priority for the budget guard, whatever the tenant context says. */
export function withPriority<T>(priority: CallPriority, fn: () => T): T {
  if (priority !== "essential" && priority !== "normal")
    throw new TypeError(`withPriority: priority must be "essential" or "normal", got ${JSON.stringify(priority)}`);
  const scope = storage.getStore();
  return storage.run({ tenant: scope?.tenant, callMetadata: scope?.callMetadata, priority }, fn);
}

/** The tenant of the current scope, or undefined outside `runWithTenant`. */
export function currentTenant(): Readonly<TenantContext> | undefined {
  return storage.getStore()?.tenant;
}

/** The whole current scope (tenant, per-call metadata, priority), for the plugin. */
export function currentScope(): {
  tenant: Readonly<TenantContext> | undefined;
  callMetadata: Readonly<Record<string, string>> | undefined;
  priority: CallPriority;
} {
  const scope = storage.getStore();
  return { tenant: scope?.tenant, callMetadata: scope?.callMetadata, priority: scope?.priority ?? scope?.tenant?.priority ?? "normal" };
}
