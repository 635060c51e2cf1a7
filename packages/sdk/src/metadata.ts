/**
 * Building the requestMetadata of one call: the layers merged in precedence order, then checked
 * against Bedrock's rules (policy `strict`) or rewritten to satisfy them (policy `sanitize`).
 *
 * The rules themselves (alphabet, lengths, entry count) are the pipeline's, imported from
 * `@bedrock-spend/core/request-metadata` and inlined into the published build.
 */
import {
  isMetadataCharacter,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_LENGTH,
  METADATA_CHARS_DESCRIPTION,
  type MetadataTextProblem,
  metadataKeyProblem,
  metadataValueProblem,
} from "@bedrock-spend/core/request-metadata";
import type { TenantContext } from "./context";
import { RequestMetadataError, type RequestMetadataReason } from "./errors";

/** Metadata key names of the tenant context's fields. */
export interface MetadataKeys {
  tenantId: string;
  departmentId: string;
  userId: string;
  applicationId: string;
}

/**
 * Default key names: the first alias of each dimension in the pipeline's default alias map
 * (`DEFAULT_ALIASES` in packages/core/src/attribution.ts), so records attribute with no configuration.
 */
export const DEFAULT_METADATA_KEYS: Readonly<MetadataKeys> = Object.freeze({
  tenantId: "tenantId",
  departmentId: "departmentId",
  userId: "userId",
  applicationId: "applicationId",
});

/** Most entries one request may carry (Bedrock's `RequestMetadata` shape). */
export const MAX_REQUEST_METADATA_ENTRIES: number = MAX_METADATA_ENTRIES;
/** Longest key and longest value, in characters. */
export const MAX_REQUEST_METADATA_LENGTH: number = MAX_METADATA_LENGTH;
/** Longest `X-Amzn-Bedrock-Request-Metadata` header value (the JSON string) InvokeModel accepts. */
export const MAX_REQUEST_METADATA_HEADER_LENGTH = 8500;

/** `strict`: refuse metadata Bedrock would refuse. `sanitize`: rewrite it so that Bedrock accepts it. */
export type MetadataPolicy = "strict" | "sanitize";

/** Why `sanitize` changed or dropped an entry. */
export type SanitizeReason = RequestMetadataReason | "duplicate-key";

/** One entry that `sanitize` changed or dropped. Values are not repeated (metadata is sensitive). */
export interface MetadataChange {
  /** The key as given. */
  key: string;
  /** The key as sent, or null when the entry was dropped. */
  sentKey: string | null;
  keyChanged: boolean;
  valueChanged: boolean;
  reasons: SanitizeReason[];
}

/** What `sanitize` changed in one call's metadata; told to `onSanitize`. */
export interface SanitizeReport {
  /** The operation, e.g. `Converse`. */
  operation: string;
  changes: MetadataChange[];
}

/** The layers of one call's metadata, lowest precedence first. */
export interface MetadataLayers {
  /** The plugin's static `metadata` option. */
  defaults?: Readonly<Record<string, unknown>> | undefined;
  /** The tenant context of the scope. */
  tenant?: Readonly<TenantContext> | undefined;
  /** Metadata of `withMetadata` scopes. */
  scoped?: Readonly<Record<string, unknown>> | undefined;
  /** The call's own metadata (Converse `requestMetadata`, InvokeModel's header JSON). */
  call?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Merges the layers: static defaults < the context's `metadata` < the context's named fields <
 * `withMetadata` < the call's own metadata. An `undefined` value counts as absent (it does not
 * remove a lower layer's value). Returns the entries in priority order: the tenant key, the other
 * named keys (department, user, application), then the rest sorted by key (code-unit order).
 */
export function mergeMetadataLayers(layers: MetadataLayers, keys: Readonly<MetadataKeys>): [string, unknown][] {
  const merged = new Map<string, unknown>();
  const put = (record: Readonly<Record<string, unknown>> | undefined) => {
    if (!record) return;
    for (const [key, value] of Object.entries(record)) if (value !== undefined) merged.set(key, value);
  };
  put(layers.defaults);
  const tenant = layers.tenant;
  if (tenant) {
    put(tenant.metadata);
    put({
      [keys.tenantId]: tenant.tenantId,
      [keys.departmentId]: tenant.departmentId,
      [keys.userId]: tenant.userId,
      [keys.applicationId]: tenant.applicationId,
    });
  }
  put(layers.scoped);
  put(layers.call);
  const named = [keys.tenantId, keys.departmentId, keys.userId, keys.applicationId];
  const rank = (key: string) => {
    const index = named.indexOf(key);
    return index < 0 ? named.length : index;
  };
  return [...merged.entries()].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether merged entries name a tenant: a non-blank string under the tenant key (attribution ignores blank ones). */
export function hasTenant(entries: readonly [string, unknown][], tenantKey: string): boolean {
  const value = entries.find(([key]) => key === tenantKey)?.[1];
  return typeof value === "string" && value.trim().length > 0;
}

function describeCharacter(character: string): string {
  const code = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  return `${JSON.stringify(character)} (U+${code})`;
}

function quoteKey(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key);
}

function textError(problem: MetadataTextProblem, key: string, value: unknown, part: "key" | "value"): RequestMetadataError {
  const where = part === "key" ? `requestMetadata key ${quoteKey(key)}` : `requestMetadata value of key ${quoteKey(key)}`;
  switch (problem.reason) {
    case "empty":
      return new RequestMetadataError("requestMetadata has an empty key; keys are 1-256 characters", { reason: "empty-key", key, value, part });
    case "too-long":
      return new RequestMetadataError(`${where} is ${problem.length} characters long; Bedrock accepts at most ${MAX_METADATA_LENGTH}`, {
        reason: part === "key" ? "key-too-long" : "value-too-long",
        key,
        value,
        part,
        length: problem.length,
      });
    case "disallowed-character":
      return new RequestMetadataError(
        `${where} has the character ${describeCharacter(problem.character)} at index ${problem.index}, which Bedrock refuses (allowed: ${METADATA_CHARS_DESCRIPTION})`,
        { reason: "disallowed-character", key, value, part, character: problem.character, index: problem.index },
      );
  }
}

/**
 * Checks merged entries against Bedrock's rules and returns them as a map; throws the first
 * problem found (entries in priority order) as a `RequestMetadataError`.
 */
export function checkRequestMetadata(entries: readonly [string, unknown][], options: { header?: boolean } = {}): Record<string, string> {
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw new RequestMetadataError(`requestMetadata has ${entries.length} entries; Bedrock accepts 1 to ${MAX_METADATA_ENTRIES}`, {
      reason: "too-many-entries",
      length: entries.length,
    });
  }
  for (const [key, value] of entries) {
    const keyProblem = metadataKeyProblem(key);
    if (keyProblem) throw textError(keyProblem, key, value, "key");
    if (typeof value !== "string") {
      throw new RequestMetadataError(`requestMetadata value of key ${quoteKey(key)} is a ${value === null ? "null" : typeof value}, not a string`, {
        reason: "not-a-string",
        key,
        value,
        part: "value",
      });
    }
    const valueProblem = metadataValueProblem(value);
    if (valueProblem) throw textError(valueProblem, key, value, "value");
  }
  const metadata = Object.fromEntries(entries) as Record<string, string>;
  if (options.header) {
    const length = JSON.stringify(metadata).length;
    if (length > MAX_REQUEST_METADATA_HEADER_LENGTH) {
      throw new RequestMetadataError(
        `requestMetadata is ${length} characters of JSON; the InvokeModel header accepts at most ${MAX_REQUEST_METADATA_HEADER_LENGTH}`,
        { reason: "header-too-long", length },
      );
    }
  }
  return metadata;
}

/**
 * The sanitizing rule, per key or value: every character Bedrock refuses (a whole code point, so an
 * emoji or any astral character is one character; a lone surrogate too) becomes `_`, then the text
 * is cut to its first 256 characters. Text Bedrock accepts is returned unchanged, so the rule is
 * idempotent.
 */
export function sanitizeMetadataText(text: string): { text: string; replaced: boolean; truncated: boolean } {
  if (!metadataValueProblem(text)) return { text, replaced: false, truncated: false };
  let out = "";
  let count = 0;
  let replaced = false;
  for (const character of text) {
    count++;
    if (count > MAX_METADATA_LENGTH) continue;
    if (isMetadataCharacter(character)) out += character;
    else {
      out += "_";
      replaced = true;
    }
  }
  return { text: out, replaced, truncated: count > MAX_METADATA_LENGTH };
}

/**
 * Rewrites merged entries (in priority order) so that Bedrock accepts them: keys and values
 * through `sanitizeMetadataText`; numbers, booleans and bigints turned into strings, other
 * non-strings dropped; empty keys dropped; a key that collides with a higher-priority one after
 * sanitizing dropped; entries beyond 16 dropped (lowest priority first); for the InvokeModel
 * header, lowest-priority entries dropped until the JSON fits 8,500 characters.
 */
export function sanitizeRequestMetadata(
  entries: readonly [string, unknown][],
  options: { header?: boolean } = {},
): { metadata: Record<string, string>; changes: MetadataChange[] } {
  const kept: [string, string][] = [];
  const sentKeys = new Set<string>();
  const changes: MetadataChange[] = [];
  const drop = (key: string, reasons: SanitizeReason[], keyChanged = false, valueChanged = false) =>
    changes.push({ key, sentKey: null, keyChanged, valueChanged, reasons });
  for (const [key, raw] of entries) {
    const reasons: SanitizeReason[] = [];
    let value: string;
    if (typeof raw === "string") value = raw;
    else if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint") {
      value = String(raw);
      reasons.push("not-a-string");
    } else {
      drop(key, ["not-a-string"]);
      continue;
    }
    if (key.length === 0) {
      drop(key, ["empty-key"]);
      continue;
    }
    const sentKey = sanitizeMetadataText(key);
    const sentValue = sanitizeMetadataText(value);
    if (sentKey.replaced || sentValue.replaced) reasons.push("disallowed-character");
    if (sentKey.truncated) reasons.push("key-too-long");
    if (sentValue.truncated) reasons.push("value-too-long");
    const keyChanged = sentKey.text !== key;
    const valueChanged = sentValue.text !== raw;
    if (sentKeys.has(sentKey.text)) {
      drop(key, [...reasons, "duplicate-key"], keyChanged, valueChanged);
      continue;
    }
    if (kept.length === MAX_METADATA_ENTRIES) {
      drop(key, [...reasons, "too-many-entries"], keyChanged, valueChanged);
      continue;
    }
    sentKeys.add(sentKey.text);
    kept.push([sentKey.text, sentValue.text]);
    if (reasons.length > 0) changes.push({ key, sentKey: sentKey.text, keyChanged, valueChanged, reasons });
  }
  if (options.header) {
    while (kept.length > 1 && JSON.stringify(Object.fromEntries(kept)).length > MAX_REQUEST_METADATA_HEADER_LENGTH) {
      const [sentKey] = kept.pop() as [string, string];
      const earlier = changes.findIndex((change) => change.sentKey === sentKey);
      if (earlier >= 0) {
        const change = changes[earlier] as MetadataChange;
        changes[earlier] = { ...change, sentKey: null, reasons: [...change.reasons, "header-too-long"] };
      } else {
        const original = entries.find(([key]) => key === sentKey)?.[0] ?? sentKey;
        drop(original, ["header-too-long"]);
      }
    }
  }
  return { metadata: Object.fromEntries(kept), changes };
}
