/**
 * The `bedrock-spend` command line: dispatches to a command and maps errors to exit codes
 * (2 for usage errors and unreadable inputs, 1 for bugs).
 */

import { escapeControlChars } from "@bedrock-spend/core";
import { alertsCommand } from "./commands/alerts";
import { backfillCommand } from "./commands/backfill";
import { budgetsCommand } from "./commands/budgets";
import { ingestCommand } from "./commands/ingest";
import { priceCommand } from "./commands/price";
import { pricesCommand } from "./commands/prices";
import { queryCommand } from "./commands/query";
import { reconcileCommand } from "./commands/reconcile";
import { redriveCommand } from "./commands/redrive";
import { replayCommand } from "./commands/replay";
import { repriceCommand } from "./commands/reprice";
import { spendCommand } from "./commands/spend";
import { startCommand } from "./commands/start";
import { CommandFailure, EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors";
import { asCliError } from "./local";

export const MAIN_HELP = `Usage: bedrock-spend <command> [options]

Per-tenant Amazon Bedrock cost from the invocation logs Bedrock writes.

Commands:
  start                  the local stack, generated traffic, the dashboard and the spend API,
                         until Ctrl-C (pnpm start)
  ingest <path>...       run invocation logs through the local pipeline into the data dir
  spend --tenant T       a tenant's spend from the aggregates (--month, --day, --by model|day)
  query "<SQL>"          Athena-dialect SQL over the local lake (invocations and the views)
  budgets set|list|rm    tenants' monthly budgets and alert thresholds
  alerts                 budget alerts fired so far
  price <path>...        price invocation logs: one JSON line per invocation, summary on stderr
  prices list|check      show or validate the price catalog (defaults merged with --prices)
  reprice --from YYYY-MM correct counted months with corrected prices (--prices), exactly once;
                         --history lists the reprices, --resume finishes one
  reconcile --cur PATH   the AWS bill (CUR 2.0) against the logs: drift per day, model, Region,
                         token class and tier, and its likely cause
  replay --stage NAME    put a deployed stage's invocation logs of --from..--to into its stream
                         again: backfills the lake, the aggregates count each invocation once
  backfill s3://B/P|DIR  count Bedrock's S3 invocation logs of past hours (--from, --to) into the
                         data dir, each invocation once, resumably
  redrive --lake-errors  send the lake's raw failures through the transform again (locally, or
                         a deployed stage's with --stage)

Common options: --prices FILE, --data-dir DIR (default .bedrock-spend/), --json, --help.
Exit status: 0 when the input was processed, 2 for usage errors and unreadable inputs.
Run "bedrock-spend <command> --help" for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  start: startCommand,
  ingest: ingestCommand,
  spend: spendCommand,
  query: queryCommand,
  budgets: budgetsCommand,
  alerts: alertsCommand,
  price: priceCommand,
  prices: pricesCommand,
  reprice: repriceCommand,
  reconcile: reconcileCommand,
  replay: replayCommand,
  backfill: backfillCommand,
  redrive: (argv) => redriveCommand(argv),
};

/** Runs the CLI and returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${MAIN_HELP}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`, { help: MAIN_HELP });
    return await command(rest);
  } catch (caught) {
    const error = asCliError(caught);
    if (error instanceof UsageError) {
      process.stderr.write(`bedrock-spend: error: ${printable(error.message)}\n`);
      if (error.help) process.stderr.write(`\n${error.help}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof CommandFailure) {
      process.stderr.write(`bedrock-spend: error: ${printable(error.message)}\n`);
      return EXIT_FAILURE;
    }
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return 0;
    process.stderr.write(`bedrock-spend: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (isMain || process.env.BEDROCK_SPEND_CLI === "1") {
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
