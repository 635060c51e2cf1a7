/**
 * What the local-mode commands share: the data dir option, pricing options as the lock records
 * them, turning local-mode errors into exit codes, and plain-text tables.
 */
import { resolve } from "node:path";
import { InvalidLogSourceError, LogSourceError } from "@bedrock-spend/adapters";
import { ConfigurationError, escapeControlChars } from "@bedrock-spend/core";
import { LocalServiceError } from "@bedrock-spend/emulators";
import { QueryError } from "@bedrock-spend/local-lake";
import type { FiredAlert } from "@bedrock-spend/store";
import { priceFileOf } from "./args";
import { CommandFailure, UsageError } from "./errors";
import { DataDirBusyError, DEFAULT_DATA_DIR, type LockInfo, MappingStoppedError } from "./local-mode";

/** Help lines of the options every local command takes. */
export const LOCAL_OPTIONS_HELP = `  --data-dir DIR    where local mode keeps its data (default ${DEFAULT_DATA_DIR}/)
  --json            machine output
  -h, --help        show this help`;

/** The data dir of `--data-dir` (default `.bedrock-spend`). */
export function dataDirOf(value: string | undefined): string {
  if (value !== undefined && value.trim() === "") throw new UsageError("--data-dir must not be empty");
  return value ?? DEFAULT_DATA_DIR;
}

/** How a command prices, as recorded in the lock: absolute paths of the files given, or null, and whether the price file is the whole catalog. */
export function pricingOf(values: {
  prices?: string | undefined;
  "prices-only"?: string | undefined;
  profiles?: string | undefined;
  aliases?: string | undefined;
  "profile-tags"?: string | undefined;
}): NonNullable<LockInfo["pricing"]> {
  const absolute = (path: string | undefined) => (path === undefined ? null : resolve(path));
  const { prices, pricesOnly } = priceFileOf(values);
  return {
    prices: absolute(prices),
    pricesOnly,
    profiles: absolute(values.profiles),
    aliases: absolute(values.aliases),
    profileTags: absolute(values["profile-tags"]),
  };
}

/** Tells (on stderr) that another command holds the data dir and this one waits for it. */
export function waitNotice(holder: LockInfo): void {
  process.stderr.write(`bedrock-spend: waiting for bedrock-spend ${holder.role} (pid ${holder.pid}) to finish with ${holder.dataDir} ...\n`);
}

/** Tells (on stderr) that this command uses a running `start`. */
export function sharedNotice(holder: LockInfo): void {
  process.stderr.write(`bedrock-spend: using the running bedrock-spend start (pid ${holder.pid}) on ${holder.dataDir}\n`);
}

/** Local-mode errors as the CLI reports them: unusable input -> UsageError (exit 2), a failed service -> CommandFailure (exit 1). */
export function asCliError(error: unknown): unknown {
  if (error instanceof DataDirBusyError) return new UsageError(error.message, { cause: error });
  if (error instanceof QueryError) return new UsageError(`query: ${error.message}`, { cause: error });
  // A log source that cannot be listed or read is an unreadable input.
  if (error instanceof InvalidLogSourceError || error instanceof LogSourceError) return new UsageError(error.message, { cause: error });
  if (error instanceof LocalServiceError) return new CommandFailure(error.message, { cause: error });
  // A setting of the environment the command cannot use (BEDROCK_SPEND_BREAKDOWNS): the message names it.
  if (error instanceof ConfigurationError) return new UsageError(error.message, { cause: error });
  if (error instanceof MappingStoppedError)
    return new CommandFailure("interrupted: what was not counted yet stays in the stream and is counted by the next command on this data dir", {
      cause: error,
    });
  return error;
}

/** Runs `body`, converting local-mode errors. */
export async function localCommand<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw asCliError(error);
  }
}

/** The console line of a fired alert; the tenant id escaped, since metadata values may hold line breaks. */
export function alertText(alert: FiredAlert): string {
  const tenant = escapeControlChars(alert.tenantId);
  return alert.kind === "forecast"
    ? `alert: ${tenant} is forecast to spend ${alert.forecastUsd} USD in ${alert.month}, above its ${alert.budgetUsd} USD budget`
    : `alert: ${tenant} reached ${alert.threshold}% of its ${alert.budgetUsd} USD budget for ${alert.month} (spend ${alert.spendUsd} USD)`;
}

/** A plain-text table: columns padded, numbers (`right`) right-aligned, control characters of cells escaped. */
export function formatTable(rawHeader: readonly string[], rawRows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  // Cells hold tenant ids, models and other values from logs and users: none may break a line.
  const header = rawHeader.map(escapeControlChars);
  const rows = rawRows.map((row) => row.map(escapeControlChars));
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (right[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** An integer with thousands separators (display only). */
export function grouped(value: number): string {
  return value.toLocaleString("en-US");
}
