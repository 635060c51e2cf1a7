/**
 * Text that crosses a trust boundary: ids that users and logs supply, normalized the same way on
 * every path, and values shown to a human, escaped so that they cannot forge a line.
 */

/**
 * The one normalization of an attribution id (tenant, department, user, ...): surrounding
 * whitespace removed, as attribution reads `requestMetadata` values. Every path that takes an id
 * (the pipeline, the spend API's path, the CLI's options, the SDK) goes through it, so that
 * `acme ` names the tenant the pipeline counts as `acme`. An empty result means "no id".
 */
export function normalizeId(value: string): string {
  return value.trim();
}

/** C0 controls, DEL and C1 controls: what a terminal may act on instead of showing. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;
const HAS_CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f" };

/**
 * Escapes the control characters of `text` for human-readable output (`\n` as `\\n`, `\r`, `\t`,
 * `\v`, `\f` likewise, every other one as `\\xNN`): a value read from logs or users then cannot
 * start a line, move the cursor or colour the console. Printable text is returned unchanged.
 */
export function escapeControlChars(text: string): string {
  if (!HAS_CONTROL_CHAR.test(text)) return text;
  return text.replace(CONTROL_CHARS, (char) => NAMED_ESCAPES[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Where a `JSON.parse` failure happened (0-based offset), when its message says so; undefined
 * otherwise. V8's message quotes the text around the error (`Unexpected token 'h', "hello world"
 * is not valid JSON`), which may be a prompt: messages say the position instead, never the message.
 */
export function jsonErrorPosition(error: unknown): number | undefined {
  const position = error instanceof Error ? /\bat position (\d+)/.exec(error.message)?.[1] : undefined;
  return position === undefined ? undefined : Number(position);
}
