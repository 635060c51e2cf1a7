/**
 * Argument parsing on commander, failing closed: unknown options (with the closest known one
 * suggested), missing values and option values that look like options are usage errors that name
 * the argument, in this CLI's words (commander's own messages and output never reach the user).
 * A command declares its options as `node:util` parseArgs options and reads `{ values, positionals }`
 * as parseArgs would return them.
 */
import type { ParseArgsConfig, parseArgs } from "node:util";
import { escapeControlChars, normalizeId } from "@bedrock-spend/core/text";
import { Command, CommanderError, Option } from "commander";
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

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** What `parseCommandArgs` returns: exactly the shape of `node:util` parseArgs for the same options. */
export type ParsedCommandArgs<T extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof COMMON_OPTIONS & T; allowPositionals: true; strict: true }>
>;

/** A negative number is a value (`--chaos -1` is then refused by the option's own check), not an option. */
const NEGATIVE_NUMBER = /^-(\d+|\d*\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses `argv` for the command `name` (its options and the common ones). A parser error throws a
 * one-line `UsageError` (no help dump: the user typed a wrong word, the message names it and the
 * closest known option); `help` names the command when `name` is not given. Options may come before, between or after the positionals; `--`
 * ends the options; a repeated option keeps its last value unless it is `multiple`.
 */
export function parseCommandArgs<const T extends OptionsConfig>(argv: string[], options: T, help: string, name = commandNameOf(help)): ParsedCommandArgs<T> {
  const all: OptionsConfig = { ...COMMON_OPTIONS, ...options };
  refuseMissingValues(argv, all, name);
  const command = new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .helpOption(false)
    .showSuggestionAfterError(true)
    .argument("[args...]")
    .action(() => {});
  // commander names values in camelCase and reads "--no-x" as the negation of "--x": keep the declared names.
  const attributes = new Map<string, string>();
  for (const [key, spec] of Object.entries(all)) {
    const flags = `${spec.short ? `-${spec.short}, ` : ""}--${key}${spec.type === "string" ? " <value>" : ""}`;
    const option = new Option(flags);
    if (spec.type === "string" && spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    if (key.startsWith("no-") && spec.type === "boolean") option.default(undefined);
    command.addOption(option);
    attributes.set(key, option.attributeName());
  }
  try {
    command.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(`${name}: ${usageMessage(error)}`, { cause: error });
    throw error;
  }
  const parsed = command.opts();
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(all)) {
    const value = parsed[attributes.get(key) as string];
    if (key.startsWith("no-") && spec.type === "boolean") {
      if (value === false) values[key] = true;
    } else if (value !== undefined) values[key] = value;
  }
  return { values, positionals: [...command.args] } as unknown as ParsedCommandArgs<T>;
}

/** The command a help text is about: "Usage: bedrock-spend NAME ...". */
function commandNameOf(help: string): string {
  return /^Usage: bedrock-spend (\S+)/.exec(help)?.[1] ?? "bedrock-spend";
}

/**
 * `--prices --json` (a value forgotten, the next option taken as it): a usage error, as with
 * parseArgs; a value that starts with "-" is given as `--prices=-file`.
 */
function refuseMissingValues(argv: readonly string[], options: OptionsConfig, name: string): void {
  for (let index = 0; index < argv.length - 1; index++) {
    const arg = argv[index] as string;
    if (arg === "--") return;
    const spec = arg.startsWith("--") ? options[arg.slice(2)] : undefined;
    const next = argv[index + 1] as string;
    if (spec?.type !== "string") continue;
    if (next.length > 1 && next.startsWith("-") && !NEGATIVE_NUMBER.test(next))
      throw new UsageError(`${name}: ${arg} needs a value, got the option "${next}" (a value that starts with "-" is given as ${arg}=${next})`);
    index++;
  }
}

/**
 * A commander error in this CLI's words: one line, "did you mean" kept. The word quoted (an
 * argument as typed) may hold any character, line breaks included: it is read whole, and its
 * control characters are escaped (a message stays one line).
 */
export function usageMessage(error: CommanderError): string {
  const text = error.message.replace(/^error: /, "");
  const word = /^[^']*'([\s\S]*)'/.exec(text.replace(/\n\(Did you mean .+\?\)$/, ""))?.[1];
  const quoted = word === undefined ? undefined : escapeControlChars(word);
  const suggestion = /\n\(Did you mean (.+)\?\)$/.exec(text)?.[1];
  const hint = suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`;
  switch (error.code) {
    case "commander.unknownOption":
      return `unknown option ${quoted ?? text}${hint}`;
    case "commander.unknownCommand":
      return `unknown command "${quoted ?? text}"${hint}`;
    case "commander.optionMissingArgument": {
      const flag = /'(?:-\w, )?(--[\w-]+)/.exec(text)?.[1] ?? text;
      return `${flag} needs a value`;
    }
    default:
      return `${text.split("\n")[0]}${hint}`;
  }
}
