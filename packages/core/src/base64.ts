/**
 * Base64 as AWS sends it (Kinesis record data, Firehose records, `awslogs` events): canonical
 * base64, groups of four alphabet characters, the last group possibly `xx==` or `xxx=`. The one
 * module that decodes it, so that every path accepts and refuses the same texts;
 * `Buffer.from(x, "base64")` alone would skip bad characters silently.
 */

const PADDING = 0x3d;
/** A run of the base64 alphabet, padding included. */
const BASE64_CHARACTERS = /^[A-Za-z0-9+/=]+$/;

/**
 * The bytes of `text` when it is canonical base64, else undefined, without scanning the text in
 * JavaScript or with a regular expression (on a 40 KB record either took ten times as long as
 * the decoding). Node's decoder skips any character outside the alphabet and stops at padding, so
 * each such character, or padding out of place, makes the output shorter than the length canonical
 * text of this length and padding decodes to. The one thing the decoder accepts beyond the
 * alphabet is base64url's `-` and `_`, ruled out by a native search.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  const length = text.length;
  if (length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, "base64");
  const padding = length > 0 && text.charCodeAt(length - 1) === PADDING ? (text.charCodeAt(length - 2) === PADDING ? 2 : 1) : 0;
  if (bytes.length !== (length / 4) * 3 - padding || text.includes("-") || text.includes("_")) return undefined;
  return bytes;
}

/** Whether `text` uses only base64 characters (alphabet and padding), canonical or not. */
export function hasOnlyBase64Characters(text: string): boolean {
  return BASE64_CHARACTERS.test(text);
}

/** Base64 of bytes (the inverse of `decodeCanonicalBase64`). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
