/**
 * Bedrock's `requestMetadata` rules, in one place: the pipeline's log parser refuses records that
 * break them, the spend API refuses tenant ids that break them, and `@bedrock-spend/sdk` checks (or
 * sanitizes) what an application sends against them. Dependency-free on purpose: the SDK bundles
 * this module (subpath `@bedrock-spend/core/request-metadata`) into its published build.
 *
 * Source: the Bedrock runtime Smithy model, shape `RequestMetadata`: 1 to 16 entries; keys 1-256
 * and values 0-256 characters of `[a-zA-Z0-9\s:_@$#=/+,-.]`.
 */

/** Most entries one request may carry. */
export const MAX_METADATA_ENTRIES = 16;
/** Longest key and longest value, in characters. */
export const MAX_METADATA_LENGTH = 256;
/** Shortest key; values may be empty. */
export const MIN_METADATA_KEY_LENGTH = 1;

/**
 * A string made only of characters Bedrock accepts in a requestMetadata key or value.
 * `,-.` in the Smithy class is a range (0x2C-0x2E): `,`, `-` and `.`.
 */
// `\s` in the Smithy (Java) pattern is ASCII whitespace only; JavaScript's `\s` would also admit
// Unicode spaces that Bedrock refuses.
export const METADATA_CHARS = /^[a-zA-Z0-9 \t\n\v\f\r:_@$#=/+,\-.]*$/;

/** The allowed characters, for messages. */
export const METADATA_CHARS_DESCRIPTION = "a-z A-Z 0-9 whitespace (space, tab, line breaks) : _ @ $ # = / + , - .";

/** Whether `text` uses only characters Bedrock accepts in a requestMetadata key or value. */
export function isMetadataText(text: string): boolean {
  return METADATA_CHARS.test(text);
}

const ALLOWED = new Uint8Array(128);
for (const character of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n\v\f\r:_@$#=/+,-.") ALLOWED[character.charCodeAt(0)] = 1;

/** Whether one character (one code point) is allowed. */
export function isMetadataCharacter(character: string): boolean {
  return character.length === 1 && (ALLOWED[character.charCodeAt(0)] ?? 0) === 1;
}

/** A character Bedrock refuses, and where it is. */
export interface DisallowedMetadataCharacter {
  /** The whole code point (a surrogate pair counts as one character; a lone surrogate as itself). */
  character: string;
  /** Its UTF-16 index in the text (`text.slice(index)` starts with it). */
  index: number;
}

/** The first character of `text` that Bedrock refuses, or undefined when all are allowed. */
export function firstDisallowedMetadataCharacter(text: string): DisallowedMetadataCharacter | undefined {
  // The log parser calls this for every metadata entry of every record: the regex is the fast path.
  if (METADATA_CHARS.test(text)) return undefined;
  let index = 0;
  for (const character of text) {
    if (!isMetadataCharacter(character)) return { character, index };
    index += character.length;
  }
  return undefined;
}

/** Why a requestMetadata key or value is refused. */
export type MetadataTextProblem =
  | { reason: "empty" }
  | { reason: "too-long"; length: number }
  | { reason: "disallowed-character"; character: string; index: number };

/** What is wrong with a requestMetadata key, or undefined when Bedrock accepts it. */
export function metadataKeyProblem(key: string): MetadataTextProblem | undefined {
  if (key.length < MIN_METADATA_KEY_LENGTH) return { reason: "empty" };
  return metadataValueProblem(key);
}

/** What is wrong with a requestMetadata value, or undefined when Bedrock accepts it. */
export function metadataValueProblem(value: string): MetadataTextProblem | undefined {
  if (value.length > MAX_METADATA_LENGTH) return { reason: "too-long", length: value.length };
  const disallowed = firstDisallowedMetadataCharacter(value);
  return disallowed ? { reason: "disallowed-character", ...disallowed } : undefined;
}
