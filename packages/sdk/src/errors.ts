/**
 * Typed errors of the SDK. Each sets `name`, keeps `cause`, and carries the context a caller needs
 * to act on it, in the style of Powertools' error hierarchies. Every one of them is thrown before
 * the Bedrock request is sent.
 */

/**
 * Base class of every error `@bedrock-spend/sdk` throws on purpose. The SDK ships on its own, so
 * its errors have their own root rather than the workspace's `BedrockSpendError`, whose type
 * npm users could not resolve.
 */
export class BedrockSpendSdkError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BedrockSpendSdkError";
  }
}

/** Why a requestMetadata map cannot be sent as it is. */
export type RequestMetadataReason =
  /** More than 16 entries. */
  | "too-many-entries"
  /** A key of 0 characters. */
  | "empty-key"
  /** A key longer than 256 characters. */
  | "key-too-long"
  /** A value longer than 256 characters. */
  | "value-too-long"
  /** A character outside `[a-zA-Z0-9\s:_@$#=/+,-.]` (ASCII whitespace only). */
  | "disallowed-character"
  /** A value that is not a string. */
  | "not-a-string"
  /** The caller's own requestMetadata is not a string map (or, for InvokeModel, not a JSON object string). */
  | "not-a-map"
  /** The InvokeModel header's JSON is longer than the 8,500 characters Bedrock accepts. */
  | "header-too-long";

/** Where a requestMetadata problem is. */
export interface RequestMetadataErrorDetails {
  reason: RequestMetadataReason;
  /** The offending key, as given; undefined for problems of the whole map. */
  key?: string | undefined;
  /** The offending key's value, as given (it may not be a string). */
  value?: unknown;
  /** Whether the key or the value is wrong. */
  part?: "key" | "value" | undefined;
  /** The disallowed character (a whole code point). */
  character?: string | undefined;
  /** The disallowed character's UTF-16 index in the key or value. */
  index?: number | undefined;
  /** The length that is too long, or the number of entries. */
  length?: number | undefined;
}

/**
 * requestMetadata that Bedrock would refuse with a ValidationException (policy `strict`), thrown
 * before any request is sent. The message names the key and, for a disallowed character, the
 * character and its index; it never repeats the value (metadata is sensitive in Bedrock's model).
 */
export class RequestMetadataError extends BedrockSpendSdkError {
  readonly reason: RequestMetadataReason;
  readonly key: string | undefined;
  readonly value: unknown;
  readonly part: "key" | "value" | undefined;
  readonly character: string | undefined;
  readonly index: number | undefined;
  readonly length: number | undefined;

  constructor(message: string, details: RequestMetadataErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestMetadataError";
    this.reason = details.reason;
    this.key = details.key;
    this.value = details.value;
    this.part = details.part;
    this.character = details.character;
    this.index = details.index;
    this.length = details.length;
  }
}

/** A Bedrock call made without a tenant while `missingTenant` is `require`. */
export class MissingTenantError extends BedrockSpendSdkError {
  /** The operation, e.g. `Converse`. */
  readonly operation: string;
  /** The metadata key that should have named the tenant. */
  readonly tenantKey: string;

  constructor(operation: string, tenantKey: string) {
    super(
      `${operation} called without a tenant: run it inside runWithTenant({ tenantId }, fn) or pass metadata "${tenantKey}" (missingTenant: "require"; use "warn" or "allow" to send it unattributed)`,
    );
    this.name = "MissingTenantError";
    this.operation = operation;
    this.tenantKey = tenantKey;
  }
}

/** Which limit a tenant's spend reached. */
export type BudgetLimit = "soft" | "hard";

/**
 * The tenant's month spend has reached a budget limit: the hard limit (every call refused), or the
 * soft limit for a call that is not `essential`.
 */
export class BudgetExceededError extends BedrockSpendSdkError {
  readonly tenantId: string;
  /** `YYYY-MM` (UTC). */
  readonly month: string;
  /** The month's spend, exact decimal USD. */
  readonly spendUsd: string;
  /** The monthly budget, exact decimal USD. */
  readonly budgetUsd: string;
  readonly limit: BudgetLimit;
  /** The limit in percent of the budget. */
  readonly limitPercent: number;

  constructor(details: { tenantId: string; month: string; spendUsd: string; budgetUsd: string; limit: BudgetLimit; limitPercent: number }) {
    super(
      `tenant ${JSON.stringify(details.tenantId)} spent ${details.spendUsd} USD in ${details.month}, at or over its ${details.limit} limit of ${details.limitPercent}% of the ${details.budgetUsd} USD budget${details.limit === "soft" ? ' (calls with priority "essential" still pass)' : ""}`,
    );
    this.name = "BudgetExceededError";
    this.tenantId = details.tenantId;
    this.month = details.month;
    this.spendUsd = details.spendUsd;
    this.budgetUsd = details.budgetUsd;
    this.limit = details.limit;
    this.limitPercent = details.limitPercent;
  }
}

/** Why a budget lookup failed. */
export type BudgetLookupFailure = "timeout" | "failed" | "malformed";

/** The tenant's month status could not be read and `onLookupError` is `fail-closed`. */
export class BudgetLookupError extends BedrockSpendSdkError {
  readonly tenantId: string;
  readonly month: string;
  readonly reason: BudgetLookupFailure;

  constructor(details: { tenantId: string; month: string; reason: BudgetLookupFailure; message: string }, options?: ErrorOptions) {
    super(`budget lookup of tenant ${JSON.stringify(details.tenantId)} for ${details.month} failed: ${details.message}`, options);
    this.name = "BudgetLookupError";
    this.tenantId = details.tenantId;
    this.month = details.month;
    this.reason = details.reason;
  }
}

/** An option of `tenantMetadata`, `BudgetGuard` or a spend source that cannot be used. Thrown at construction. */
export class InvalidOptionsError extends BedrockSpendSdkError {
  /** The option, e.g. `budgetGuard.hardLimitPercent`. */
  readonly option: string;

  constructor(option: string, message: string, options?: ErrorOptions) {
    super(`${option}: ${message}`, options);
    this.name = "InvalidOptionsError";
    this.option = option;
  }
}
