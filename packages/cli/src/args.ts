/**
 * Argument parsing on `node:util` parseArgs, failing closed: unknown options, missing values and
 * stray positionals are usage errors that name the argument.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { normalizeId } from "@bedrock-spend/core";
import { UsageError } from "./errors";

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  prices: { type: "string" },
  "prices-only": { type: "string" },
  "data-dir": { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

/**
 * The price file of `--prices FILE` (laid over the shipped catalog) or `--prices-only FILE` (the
 * whole catalog); both at once is a usage error.
 */
export function priceFileOf(values: { prices?: string | undefined; "prices-only"?: string | undefined }): { prices?: string; pricesOnly: boolean } {
  const overlay = values.prices;
  const only = values["prices-only"];
  if (overlay !== undefined && only !== undefined)
    throw new UsageError("--prices and --prices-only are exclusive: --prices lays a file over the shipped catalog, --prices-only uses a file alone");
  if (only !== undefined) return { prices: only, pricesOnly: true };
  return overlay === undefined ? { pricesOnly: false } : { prices: overlay, pricesOnly: false };
}

/**
 * The tenant of `--tenant T`, normalized as the pipeline and the spend API normalize ids
 * (`normalizeId`): undefined when the option is absent; a value that is empty once normalized is a
 * usage error, since no tenant has that id.
 */
export function tenantOptionOf(value: string | undefined, help?: string): string | undefined {
  if (value === undefined) return undefined;
  const tenantId = normalizeId(value);
  if (tenantId.length === 0) throw new UsageError("--tenant is empty once its surrounding whitespace is removed", help === undefined ? undefined : { help });
  return tenantId;
}

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
