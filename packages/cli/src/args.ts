/**
 * Argument parsing on `node:util` parseArgs, failing closed: unknown options, missing values and
 * stray positionals are usage errors that name the argument.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors";

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  prices: { type: "string" },
  "data-dir": { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

/** Parses `argv` for one command; throws `UsageError` carrying the command's help. */
export function parseCommandArgs<const T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, help: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message, { cause: error, help });
  }
}
