/**
 * Errors the CLI turns into exit codes: a `UsageError` (bad arguments, unreadable or unusable
 * input) exits 2 with its message; anything else is a bug and exits 1 with its stack.
 */
import { BedrockSpendError } from "@bedrock-spend/core/errors";

/** Exit code for usage errors and unreadable inputs (the CLI contract, README: The CLI). */
export const EXIT_USAGE = 2;

/** A problem with how the command was called or with an input it cannot read. */
export class UsageError extends BedrockSpendError {
  /** Help text to show with the message, when the arguments were wrong. */
  readonly help: string | undefined;

  constructor(message: string, options?: ErrorOptions & { help?: string }) {
    super(message, options);
    this.name = "UsageError";
    this.help = options?.help;
  }
}

/** Exit code when the command could not do its work (a local service failed): 1, with a message, not a stack. */
export const EXIT_FAILURE = 1;

/** An operational failure: the arguments were fine, but the work could not be done (Java missing, a service down). */
export class CommandFailure extends BedrockSpendError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CommandFailure";
  }
}

/**
 * Exit code of `--strict` (price, ingest, backfill) when the input was processed but some records
 * were invalid (quarantined) or unpriced: 3, after the output and the summary printed as always.
 */
export const EXIT_STRICT = 3;

/** What kind of error the JSON error object (`--json`) reports; README: The CLI. */
export type ErrorCode = "usage" | "failure" | "strict" | "internal";

/** The one JSON object written on stderr for an error under `--json`: `{"error":{"code","exitCode","message"}}`. */
export function errorJson(code: ErrorCode, message: string): string {
  const exitCode = code === "usage" ? EXIT_USAGE : code === "strict" ? EXIT_STRICT : EXIT_FAILURE;
  return JSON.stringify({ error: { code, exitCode, message } });
}

/**
 * The `--strict` verdict of a run: EXIT_STRICT (with one line on stderr, or the JSON error object
 * under `--json`) when `invalid` or `unpriced` records were read, else 0.
 */
export function strictVerdict(counts: { invalid: number; unpriced: number }, json: boolean, stderr: NodeJS.WritableStream = process.stderr): number {
  if (counts.invalid === 0 && counts.unpriced === 0) return 0;
  const message = `--strict: records were invalid or unpriced: ${counts.invalid} invalid, ${counts.unpriced} unpriced`;
  stderr.write(json ? `${errorJson("strict", message)}\n` : `bedrock-spend: error: ${message}\n`);
  return EXIT_STRICT;
}
