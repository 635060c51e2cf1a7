/**
 * Clipping text to a budget of UTF-8 bytes. Queues and tables limit bytes, not UTF-16 code units:
 * 64K code units of CJK text are 192 KiB of UTF-8, of emoji up to 128 KiB.
 */

/** Text clipped to a byte budget. */
export interface ClippedText {
  /** The longest prefix of the input, ending on a code point boundary, whose UTF-8 fits the budget. */
  text: string;
  /** Whether anything was cut off. */
  clipped: boolean;
  /** UTF-8 bytes of `text`. */
  bytes: number;
  /** UTF-8 bytes of the whole input. */
  originalBytes: number;
}

const encoder = new TextEncoder();

/**
 * The longest prefix of `text` whose UTF-8 encoding is at most `maxBytes` bytes. Never splits a
 * code point, so never a surrogate pair: the prefix encodes to valid UTF-8 when the input is
 * well-formed. (A lone surrogate of a malformed input counts as the 3 bytes of U+FFFD, which is
 * what an encoder writes for it.)
 */
export function clipUtf8(text: string, maxBytes: number): ClippedText {
  const budget = Math.max(0, Math.floor(maxBytes));
  // Every UTF-16 code unit encodes to at most 3 bytes (a pair of 2 units to 4): short texts need no count.
  if (text.length * 3 <= budget) {
    const bytes = Buffer.byteLength(text, "utf8");
    return { text, clipped: false, bytes, originalBytes: bytes };
  }
  const originalBytes = Buffer.byteLength(text, "utf8");
  if (originalBytes <= budget) return { text, clipped: false, bytes: originalBytes, originalBytes };
  // encodeInto writes whole code points only and says how many code units it consumed.
  const { read, written } = encoder.encodeInto(text, new Uint8Array(budget));
  return { text: text.slice(0, read), clipped: true, bytes: written, originalBytes };
}
