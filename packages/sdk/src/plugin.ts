/**
 * The plugin for `BedrockRuntimeClient`: stamps each Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream call with the tenant's requestMetadata, and optionally checks the
 * tenant's budget first. Other operations (ApplyGuardrail, CountTokens, ...) pass untouched.
 *
 * Two middlewares: one at `initialize` builds, checks and guards (before serialization, so every
 * refusal happens before any byte is sent); one at `build` writes the InvokeModel header, which is
 * before `finalizeRequest`, where the request is signed: the header is in SigV4 SignedHeaders.
 */
import type { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { BuildMiddleware, HandlerExecutionContext, InitializeMiddleware } from "@smithy/types";
import { currentScope } from "./context";
import { InvalidOptionsError, MissingTenantError, RequestMetadataError } from "./errors";
import { BudgetGuard, type BudgetGuardOptions } from "./guard";
import {
  checkRequestMetadata,
  DEFAULT_METADATA_KEYS,
  hasTenant,
  type MetadataKeys,
  type MetadataPolicy,
  mergeMetadataLayers,
  type SanitizeReport,
  sanitizeRequestMetadata,
} from "./metadata";

/** What to do with a call that names no tenant. */
export type MissingTenantPolicy = "require" | "warn" | "allow";

/** A warning of the plugin (`missing-tenant`) or of the guard (`budget-lookup-failed`). */
export interface SdkWarning {
  code: "missing-tenant" | "budget-lookup-failed";
  message: string;
  /** The operation, for `missing-tenant`. */
  operation?: string;
  error?: Error;
}

/** Options of `tenantMetadata`. */
export interface TenantMetadataOptions {
  /** Key names of the context's fields. Defaults `tenantId`, `departmentId`, `userId`, `applicationId` (the pipeline's default aliases). */
  keys?: Partial<MetadataKeys>;
  /** Static metadata for every call (lowest precedence), e.g. `{ applicationId: "support-bot", env: "prod" }`. */
  metadata?: Readonly<Record<string, string>>;
  /** `strict` (default): metadata Bedrock would refuse throws `RequestMetadataError`. `sanitize`: rewritten (see README). */
  policy?: MetadataPolicy;
  /** A call with no tenant: `require` (default) throws `MissingTenantError`; `warn` tells `onWarning` and sends it; `allow` sends it. */
  missingTenant?: MissingTenantPolicy;
  /** Told what `sanitize` changed, once per call that needed it. */
  onSanitize?: (report: SanitizeReport) => void;
  /** Told of warnings. Default: `console.warn`. */
  onWarning?: (warning: SdkWarning) => void;
  /** Check the tenant's budget before each stamped call: guard options, or a `BudgetGuard` to share between clients. */
  budgetGuard?: BudgetGuardOptions | BudgetGuard;
}

/** A plugin for `client.middlewareStack.use(...)` of a `BedrockRuntimeClient`. */
export interface BedrockSpendPlugin {
  applyToStack(stack: BedrockRuntimeClient["middlewareStack"]): void;
}

type Carrier = "body" | "header";

/** Operations that carry requestMetadata, and where. */
const OPERATIONS: Readonly<Record<string, { operation: string; carrier: Carrier }>> = {
  ConverseCommand: { operation: "Converse", carrier: "body" },
  ConverseStreamCommand: { operation: "ConverseStream", carrier: "body" },
  InvokeModelCommand: { operation: "InvokeModel", carrier: "header" },
  InvokeModelWithResponseStreamCommand: { operation: "InvokeModelWithResponseStream", carrier: "header" },
};

/** The InvokeModel header (lower case, as HTTP/2 sends it and SigV4 signs it). */
export const REQUEST_METADATA_HEADER = "x-amzn-bedrock-request-metadata";

/** Where the initialize middleware leaves the header value for the build middleware. */
const HEADER_VALUE = Symbol.for("@bedrock-spend/sdk/request-metadata-header");

/** Middleware names (`override: true`: using the plugin again replaces the earlier one). */
export const MIDDLEWARE_NAMES = Object.freeze({ stamp: "bedrockSpendTenantMetadataMiddleware", header: "bedrockSpendRequestMetadataHeaderMiddleware" });

const POLICIES: readonly MetadataPolicy[] = ["strict", "sanitize"];
const MISSING_TENANT_POLICIES: readonly MissingTenantPolicy[] = ["require", "warn", "allow"];

/**
 * Creates the plugin. Options are validated here (an `InvalidOptionsError` names the bad one), so
 * a misconfigured client fails at start-up, not on its first call.
 *
 * @example
 * const client = new BedrockRuntimeClient({ region: "us-east-1" });
 * client.middlewareStack.use(tenantMetadata({ metadata: { applicationId: "support-bot" } }));
 * await runWithTenant({ tenantId: "acme", userId: "u-42" }, () => client.send(new ConverseCommand({ ... })));
 */
export function tenantMetadata(options: TenantMetadataOptions = {}): BedrockSpendPlugin {
  const settings = resolveOptions(options);
  const stamp: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    const target = targetOf(context);
    if (!target) return next(args);
    const { operation, carrier } = target;
    const scope = currentScope();
    const input = args.input as Record<string, unknown>;
    const own = carrier === "body" ? ownBodyMetadata(input.requestMetadata) : ownHeaderMetadata(input.requestMetadata);
    const entries = mergeMetadataLayers({ defaults: settings.metadata, tenant: scope.tenant, scoped: scope.callMetadata, call: own }, settings.keys);
    if (!hasTenant(entries, settings.keys.tenantId)) {
      if (settings.missingTenant === "require") throw new MissingTenantError(operation, settings.keys.tenantId);
      if (settings.missingTenant === "warn") {
        settings.onWarning({
          code: "missing-tenant",
          operation,
          message: `${operation} called without a tenant (no "${settings.keys.tenantId}" in the context or the call's metadata); sent unattributed`,
        });
      }
    }
    let metadata: Record<string, string>;
    if (settings.policy === "strict") metadata = checkRequestMetadata(entries, { header: carrier === "header" });
    else {
      const sanitized = sanitizeRequestMetadata(entries, { header: carrier === "header" });
      metadata = sanitized.metadata;
      if (sanitized.changes.length > 0) settings.onSanitize?.({ operation, changes: sanitized.changes });
    }
    // The guard checks the tenant as sent (after sanitizing) and trimmed, as the pipeline attributes it.
    const tenantId = metadata[settings.keys.tenantId]?.trim();
    if (settings.guard && tenantId) await settings.guard.check(tenantId, { priority: scope.priority });
    const hasEntries = Object.keys(metadata).length > 0;
    const { requestMetadata: _own, ...rest } = input;
    if (carrier === "body") return next({ ...args, input: hasEntries ? { ...rest, requestMetadata: metadata } : rest });
    if (hasEntries) (context as Record<symbol, unknown>)[HEADER_VALUE] = JSON.stringify(metadata);
    // The header is written at build from the merged value; the input's own string was merged into it.
    return next({ ...args, input: rest });
  };
  const header: BuildMiddleware<object, object> = (next, context) => async (args) => {
    const value = (context as Record<symbol, unknown>)[HEADER_VALUE];
    const request = args.request as { headers?: Record<string, string> } | undefined;
    if (typeof value === "string" && request?.headers) {
      for (const name of Object.keys(request.headers)) if (name.toLowerCase() === REQUEST_METADATA_HEADER) delete request.headers[name];
      request.headers[REQUEST_METADATA_HEADER] = value;
    }
    return next(args);
  };
  return {
    applyToStack(stack) {
      const typed = stack as unknown as {
        add(middleware: InitializeMiddleware<object, object>, options: { step: "initialize"; name: string; override: boolean; tags: string[] }): void;
        add(middleware: BuildMiddleware<object, object>, options: { step: "build"; name: string; override: boolean; priority: "low"; tags: string[] }): void;
      };
      typed.add(stamp, { step: "initialize", name: MIDDLEWARE_NAMES.stamp, override: true, tags: ["BEDROCK_SPEND"] });
      typed.add(header, { step: "build", name: MIDDLEWARE_NAMES.header, override: true, priority: "low", tags: ["BEDROCK_SPEND"] });
    },
  };
}

interface Settings {
  keys: Readonly<MetadataKeys>;
  metadata: Readonly<Record<string, string>> | undefined;
  policy: MetadataPolicy;
  missingTenant: MissingTenantPolicy;
  onSanitize: ((report: SanitizeReport) => void) | undefined;
  onWarning: (warning: SdkWarning) => void;
  guard: BudgetGuard | undefined;
}

function resolveOptions(options: TenantMetadataOptions): Settings {
  if (typeof options !== "object" || options === null) throw new InvalidOptionsError("tenantMetadata", "options must be an object");
  const policy = options.policy ?? "strict";
  if (!POLICIES.includes(policy)) throw new InvalidOptionsError("policy", `must be "strict" or "sanitize", got ${JSON.stringify(policy)}`);
  const missingTenant = options.missingTenant ?? "require";
  if (!MISSING_TENANT_POLICIES.includes(missingTenant)) {
    throw new InvalidOptionsError("missingTenant", `must be "require", "warn" or "allow", got ${JSON.stringify(missingTenant)}`);
  }
  const keys: MetadataKeys = { ...DEFAULT_METADATA_KEYS };
  for (const [field, name] of Object.entries(options.keys ?? {}) as [keyof MetadataKeys, unknown][]) {
    if (!(field in DEFAULT_METADATA_KEYS))
      throw new InvalidOptionsError(`keys.${field}`, "is not a context field (tenantId, departmentId, userId, applicationId)");
    if (name === undefined) continue;
    if (typeof name !== "string") throw new InvalidOptionsError(`keys.${field}`, `must be a string, got ${JSON.stringify(name)}`);
    try {
      checkRequestMetadata([[name, ""]]);
    } catch (error) {
      throw new InvalidOptionsError(`keys.${field}`, `is not a key Bedrock accepts: ${(error as Error).message}`, { cause: error });
    }
    keys[field] = name;
  }
  const names = Object.values(keys);
  if (new Set(names).size !== names.length) throw new InvalidOptionsError("keys", `must name four different keys, got ${JSON.stringify(keys)}`);
  let metadata: Readonly<Record<string, string>> | undefined;
  if (options.metadata !== undefined) {
    if (typeof options.metadata !== "object" || options.metadata === null || Array.isArray(options.metadata)) {
      throw new InvalidOptionsError("metadata", "must be an object of string values");
    }
    if (policy === "strict") {
      try {
        checkRequestMetadata(Object.entries(options.metadata));
      } catch (error) {
        if (error instanceof RequestMetadataError) throw new InvalidOptionsError("metadata", error.message, { cause: error });
        throw error;
      }
    }
    metadata = Object.freeze({ ...options.metadata });
  }
  if (options.onSanitize !== undefined && typeof options.onSanitize !== "function") throw new InvalidOptionsError("onSanitize", "must be a function");
  if (options.onWarning !== undefined && typeof options.onWarning !== "function") throw new InvalidOptionsError("onWarning", "must be a function");
  const onWarning = options.onWarning ?? ((warning: SdkWarning) => console.warn(`[@bedrock-spend/sdk] ${warning.message}`));
  let guard: BudgetGuard | undefined;
  if (options.budgetGuard instanceof BudgetGuard) guard = options.budgetGuard;
  else if (options.budgetGuard !== undefined) {
    guard = new BudgetGuard({
      onWarning: (warning) => onWarning({ code: warning.code, message: warning.message, error: warning.error }),
      ...options.budgetGuard,
    });
  }
  return { keys: Object.freeze(keys), metadata, policy, missingTenant, onSanitize: options.onSanitize, onWarning, guard };
}

function targetOf(context: HandlerExecutionContext): { operation: string; carrier: Carrier } | undefined {
  // Another client's command of the same name (if the plugin were put on it) is not Bedrock's.
  if (context.clientName !== undefined && context.clientName !== "BedrockRuntimeClient") return undefined;
  return context.commandName === undefined ? undefined : OPERATIONS[context.commandName];
}

function notAMap(message: string, value: unknown): RequestMetadataError {
  return new RequestMetadataError(message, { reason: "not-a-map", value });
}

function ownBodyMetadata(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw notAMap("the call's requestMetadata must be an object of string values", value);
  return value as Record<string, unknown>;
}

function ownHeaderMetadata(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new RequestMetadataError("the call's requestMetadata is not a JSON object string", { reason: "not-a-map", value }, { cause: error });
    }
  }
  return ownBodyMetadata(parsed);
}
