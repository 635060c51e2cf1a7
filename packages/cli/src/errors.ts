/**
 * Errors the CLI turns into exit codes: a `UsageError` (bad arguments, unreadable or unusable
 * input) exits 2 with its message; anything else is a bug and exits 1 with its stack.
 */
import { BedrockSpendError } from "@bedrock-spend/core";

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
