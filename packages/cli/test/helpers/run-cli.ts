/**
 * The CLI as users run it, for the tests that spawn it: the run's bundle (test/setup/cli-bundle.ts,
 * what the bin runs once `pnpm build:cli` has built it), or the sources through tsx, from the
 * repository root, on a pinned clock (BEDROCK_SPEND_NOW), to completion.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inject } from "vitest";
import { spawnTracked } from "../../../../test/helpers/spawned";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/**
 * `node` arguments that run the CLI's sources in one process, tsx loaded as a module hook. Not
 * tsx's own `cli.mjs`: that runs the script in a child and relays a signal by waiting 30 ms for
 * the child to acknowledge it, then kills the child and exits 130, so a SIGINT on a loaded
 * machine killed a command mid-checkpoint instead of letting it stop cleanly.
 */
export const CLI_FROM_SOURCE: readonly string[] = [
  "--import",
  pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href,
  join(ROOT, "packages/cli/src/main.ts"),
];

/** `node` arguments and environment that run the CLI: the run's bundle, or the sources when it has none. */
export function cliCommand(from: "bundle" | "source" = "bundle"): { args: readonly string[]; env: Record<string, string> } {
  const bundle = inject("cliBundle");
  if (!bundle || from === "source") return { args: CLI_FROM_SOURCE, env: {} };
  return { args: [bundle], env: { NODE_COMPILE_CACHE: inject("cliCompileCache") } };
}

/** What a CLI process did. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process started by `startCli`: the child (to signal it), what it wrote so far, and its end. */
export interface StartedCli {
  child: ChildProcess;
  /** What it has written so far, growing until it ends. */
  output: { stdout: string; stderr: string };
  done: Promise<CliResult>;
}

/**
 * Starts the CLI, its clock at `now`, with `env` added to the environment. It runs in a process
 * group of its own, killed with its whole tree when the calling test finishes, failed or not (or,
 * with `scope: "file"` or outside a test, when the test file ends: test/helpers/spawned.ts). It runs
 * the run's bundle, or the sources with `from: "source"`.
 */
export function startCli(
  args: string[],
  now: string,
  env: Record<string, string> = {},
  { scope = "test", from = "bundle" }: { scope?: "test" | "file"; from?: "bundle" | "source" } = {},
): StartedCli {
  const cli = cliCommand(from);
  const child = spawnTracked(
    process.execPath,
    [...cli.args, ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...cli.env, BEDROCK_SPEND_NOW: now, ...env },
    },
    scope,
  );
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output.stderr += chunk;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, ...output }));
  });
  return { child, output, done };
}

/** Runs the CLI to completion (asynchronously, so that independent commands can run side by side), its clock at `now`, with `env` added to the environment. */
export function runCli(args: string[], now: string, env: Record<string, string> = {}): Promise<CliResult> {
  // A run awaited to completion may be shared by later tests (a file's truth computed once).
  return startCli(args, now, env, { scope: "file" }).done;
}
