#!/usr/bin/env node
// Runs the bundled CLI (packages/cli/dist/bedrock-spend.mjs, built by `pnpm build:cli`) when it
// exists and is not older than the sources; otherwise the TypeScript sources through tsx, so that
// the workspace needs no build step. BEDROCK_SPEND_FROM_SOURCE=1 runs the sources even when a
// bundle exists.
//
// `--help`, `--version`, `<command> --help` and `help <command>` are printed from the bundle's help
// index (written by the build, checked against the bundle's size and time) without loading the
// bundle: a node start instead of compiling 2.7 MB.
//
// The sources run in this process, tsx registered as a module hook: tsx's own command runs the
// script in a child and relays Ctrl-C by waiting 30 ms for the child to acknowledge it, then kills
// it, which on a busy machine stopped a backfill or reprice in the middle of a checkpoint.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire, enableCompileCache } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, "..", "dist", "bedrock-spend.mjs");
/** The workspace's packages when this is a checkout (absent in a packed install). */
const packages = join(here, "..", "..");

/** The newest modification time of a file under `dir` (0 when there is none). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Whether a source file the bundle is built from (packages/*\/src, functions/src) changed after the bundle was written. */
function bundleIsStale(bundleMtimeMs) {
  if (!existsSync(join(packages, "cli", "src", "main.ts"))) return false;
  const dirs = [...readdirSync(packages).map((name) => join(packages, name, "src")), join(packages, "..", "functions", "src")];
  return dirs.some((src) => existsSync(src) && newest(src) > bundleMtimeMs);
}

/** What a help or version request prints, from the help index; undefined for any other command line. */
function indexedHelp(args, bundleStat) {
  let key;
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) key = "--help";
  else if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) key = "--version";
  else if (args.length === 2 && (args[1] === "--help" || args[1] === "-h")) key = args[0];
  else if (args.length === 2 && args[0] === "help") key = args[1];
  else return undefined;
  try {
    const index = JSON.parse(readFileSync(bundle.replace(/\.mjs$/, ".help.json"), "utf8"));
    // Whole milliseconds: a copy that keeps the time (cp -p) keeps no more.
    if (index.bundleBytes !== bundleStat.size || Math.trunc(index.bundleMtimeMs) !== Math.trunc(bundleStat.mtimeMs)) return undefined;
    return Object.hasOwn(index.outputs, key) ? index.outputs[key] : undefined;
  } catch {
    return undefined;
  }
}

const args = process.argv.slice(2);
const bundleStat = process.env.BEDROCK_SPEND_FROM_SOURCE === "1" || !existsSync(bundle) ? undefined : statSync(bundle);
const stale = bundleStat !== undefined && bundleIsStale(bundleStat.mtimeMs);
if (stale)
  process.stderr.write("bedrock-spend: packages/cli/dist/bedrock-spend.mjs is older than the sources: running the sources (pnpm build:cli rebuilds it)\n");
if (bundleStat !== undefined && !stale) {
  const help = indexedHelp(args, bundleStat);
  if (help !== undefined) {
    process.stdout.write(help);
  } else {
    // V8's compiled code of the bundle, kept between runs (in the system's temporary directory): most
    // of the start-up time is compiling the bundle.
    enableCompileCache?.();
    // The bundle runs the CLI when it loads, and sets process.exitCode.
    await import(pathToFileURL(bundle).href);
  }
} else {
  const require = createRequire(import.meta.url);
  const { register } = await import(pathToFileURL(join(dirname(require.resolve("tsx/package.json")), "dist", "esm", "api", "index.mjs")).href);
  register();
  // main.ts runs the CLI when imported with this set (its own path is not process.argv[1] here).
  process.env.BEDROCK_SPEND_CLI = "1";
  await import(pathToFileURL(join(here, "..", "src", "main.ts")).href);
  // Not inherited by what the CLI starts.
  delete process.env.BEDROCK_SPEND_CLI;
}
