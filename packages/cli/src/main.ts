/**
 * The `bedrock-spend` command line: dispatches to a command and maps errors to exit codes
 * (2 for usage errors and unreadable inputs, 1 for failures, 3 for `--strict` findings).
 *
 * It imports only commander and the error classes up front: a command's modules (the pipeline,
 * the AWS SDK, DuckDB) load when that command runs, so that `--help` and `--version` start fast,
 * from the sources and from the bundle (scripts/build-cli.mjs).
 */

import { readFileSync } from "node:fs";
import { escapeControlChars } from "@bedrock-spend/core/text";
import { Command, CommanderError } from "commander";
import { usageMessage } from "./args";
import { CommandFailure, type ErrorCode, EXIT_FAILURE, EXIT_USAGE, errorJson, UsageError } from "./errors";

type CommandFn = (argv: string[]) => Promise<number>;

/** A command: how its usage reads in the list, what it does, and its module (loaded when it runs). */
interface CommandEntry {
  term: string;
  summary: string;
  load: () => Promise<CommandFn>;
}

const COMMANDS: Record<string, CommandEntry> = {
  start: {
    term: "start",
    summary: "the local stack, generated traffic, the dashboard and the spend API, until Ctrl-C (pnpm start)",
    load: async () => (await import("./commands/start")).startCommand,
  },
  ingest: {
    term: "ingest <path>...",
    summary: "run invocation logs through the local pipeline into the data dir",
    load: async () => (await import("./commands/ingest")).ingestCommand,
  },
  spend: {
    term: "spend --tenant T",
    summary: "a tenant's spend from the aggregates (--month, --day, --by model|day)",
    load: async () => (await import("./commands/spend")).spendCommand,
  },
  report: {
    term: "report --group-by D",
    summary: "tenants, departments, applications, users or models ranked by cost for a month (--top N)",
    load: async () => (await import("./commands/report")).reportCommand,
  },
  ranks: {
    term: "ranks status|sync",
    summary: "the rank entries of the tenant report: since when they are complete; sync a month a stage was upgraded in",
    load: async () => (await import("./commands/ranks")).ranksCommand,
  },
  query: {
    term: 'query "<SQL>"',
    summary: "Athena-dialect SQL over the local lake (invocations and the views)",
    load: async () => (await import("./commands/query")).queryCommand,
  },
  budgets: {
    term: "budgets set|list|rm",
    summary: "tenants' monthly budgets and alert thresholds",
    load: async () => (await import("./commands/budgets")).budgetsCommand,
  },
  alerts: { term: "alerts", summary: "budget alerts fired so far", load: async () => (await import("./commands/alerts")).alertsCommand },
  price: {
    term: "price <path>...",
    summary: "price invocation logs: one JSON line per invocation, summary on stderr",
    load: async () => (await import("./commands/price")).priceCommand,
  },
  prices: {
    term: "prices list|check",
    summary: "show or validate the price catalog (defaults merged with --prices)",
    load: async () => (await import("./commands/prices")).pricesCommand,
  },
  reprice: {
    term: "reprice --from YYYY-MM",
    summary: "correct counted months with corrected prices (--prices), exactly once; --history lists the reprices, --resume finishes one",
    load: async () => (await import("./commands/reprice")).repriceCommand,
  },
  reconcile: {
    term: "reconcile --cur PATH",
    summary: "the AWS bill (CUR 2.0) against the logs: drift per day, model, Region, token class and tier, and its likely cause",
    load: async () => (await import("./commands/reconcile")).reconcileCommand,
  },
  replay: {
    term: "replay --stage NAME",
    summary: "put a deployed stage's invocation logs of --from..--to into its stream again: backfills the lake, the aggregates count each invocation once",
    load: async () => (await import("./commands/replay")).replayCommand,
  },
  backfill: {
    term: "backfill s3://B/P|DIR",
    summary: "count Bedrock's S3 invocation logs of past hours (--from, --to) into the data dir, each invocation once, resumably",
    load: async () => (await import("./commands/backfill")).backfillCommand,
  },
  redrive: {
    term: "redrive --lake-errors",
    summary: "send the lake's raw failures through the transform again (locally, or a deployed stage's with --stage)",
    load: async () => {
      const { redriveCommand } = await import("./commands/redrive");
      return (argv) => redriveCommand(argv);
    },
  },
};

declare const BEDROCK_SPEND_BUNDLED_VERSION: string | undefined;

/** The CLI's version: packages/cli/package.json's, written into the bundle when it is built. */
export const VERSION: string =
  typeof BEDROCK_SPEND_BUNDLED_VERSION === "string"
    ? BEDROCK_SPEND_BUNDLED_VERSION
    : (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The program as commander sees it: the command names (for "did you mean"), the global options, the generated help. */
function program(): Command {
  const root = new Command("bedrock-spend")
    .usage("<command> [options]")
    .description("Per-tenant Amazon Bedrock cost from the invocation logs Bedrock writes.")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .configureHelp({ helpWidth: 100, sortSubcommands: false, subcommandTerm: (command) => COMMANDS[command.name()]?.term ?? command.name() })
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .helpOption(false)
    .option("--json", "machine output; errors as one JSON object on stderr")
    .option("--strict", "price, ingest, backfill: exit 3 when records were invalid or unpriced")
    .option("-V, --version", "print the version")
    .option("-h, --help", 'show this help ("bedrock-spend <command> --help" for a command\'s options)');
  for (const [name, entry] of Object.entries(COMMANDS))
    root
      .command(name)
      .description(entry.summary)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {});
  return root;
}

const HELP_FOOTER = `Common options: --prices FILE, --data-dir DIR (default .bedrock-spend/), --json, --help.
Exit status: 0 when the input was processed, 2 for usage errors and unreadable inputs, 1 when the
work could not be done, 3 under --strict when records were invalid or unpriced.
Run "bedrock-spend <command> --help" for a command's options.`;

/** The main help, generated by commander from the commands and the global options. */
export const MAIN_HELP = `${program().helpInformation().trimEnd()}\n\n${HELP_FOOTER}`;

/** Whether the arguments ask for machine output (`--json` before any `--`). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** Runs the CLI and returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  try {
    return await dispatch(argv);
  } catch (caught) {
    const error = caught instanceof UsageError || caught instanceof CommandFailure ? caught : await asCliError(caught);
    if (error instanceof UsageError) {
      report("usage", error.message, json, error.help);
      return EXIT_USAGE;
    }
    if (error instanceof CommandFailure) {
      report("failure", error.message, json);
      return EXIT_FAILURE;
    }
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return 0;
    if (json) process.stderr.write(`${errorJson("internal", String((error as Error).message ?? error))}\n`);
    process.stderr.write(`bedrock-spend: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

async function dispatch(given: string[]): Promise<number> {
  // pnpm passes a "--" given after the script name on to the script: `pnpm bedrock-spend -- price x`
  // is `price x` (no command name starts with "-").
  const argv = given[0] === "--" ? given.slice(1) : given;
  // Global options before the command go to the command: `bedrock-spend --json price x` = `price x --json`.
  let leading = 0;
  while (argv[leading] === "--json" || argv[leading] === "--strict") leading++;
  const [name, ...rest] = [...argv.slice(leading), ...argv.slice(0, leading)];
  // Likewise `pnpm start -- --rate 50` runs `start -- --rate 50`: start takes no arguments, so a "--"
  // right after it is pnpm's, not the end of its options.
  if (name === "start" && rest[0] === "--") rest.shift();
  if (name === undefined) {
    process.stdout.write(`${MAIN_HELP}\n`);
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    process.stdout.write(`${MAIN_HELP}\n`);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (name === "help") return dispatch([rest[0] as string, "--help"]);
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    // commander words the error and finds the closest command or global option.
    try {
      program().parse([name], { from: "user" });
    } catch (error) {
      if (error instanceof CommanderError && error.code !== "commander.help") throw new UsageError(usageMessage(error), { cause: error });
      if (!(error instanceof CommanderError)) throw error;
    }
    throw new UsageError(name.startsWith("-") ? `no command given (${name} goes with a command)` : `unknown command "${name}"`, { help: MAIN_HELP });
  }
  const command = await entry.load();
  return command(rest);
}

/** Local-mode errors as usage errors or failures (their module loads only when an error needs it). */
async function asCliError(error: unknown): Promise<unknown> {
  return (await import("./local")).asCliError(error);
}

/** Writes an error: one line (and the command's help, when it carries one), or the JSON error object under --json. */
function report(code: ErrorCode, message: string, json: boolean, help?: string): void {
  if (json) {
    process.stderr.write(`${errorJson(code, message)}\n`);
    return;
  }
  process.stderr.write(`bedrock-spend: error: ${printable(message)}\n`);
  if (help) process.stderr.write(`\n${help}\n`);
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (isMain || process.env.BEDROCK_SPEND_CLI === "1" || typeof BEDROCK_SPEND_BUNDLED_VERSION === "string") {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    // `bedrock-spend price ... | head` closes stdout early; that is not an error.
    if (error.code === "EPIPE") process.exit(0);
  });
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/**
 * An error message for the console: its lines kept, every other control character escaped. A
 * message quotes arguments and data (a tenant id, a file's field), which must not move the cursor
 * or colour the terminal.
 */
function printable(message: string): string {
  return message.split("\n").map(escapeControlChars).join("\n");
}
