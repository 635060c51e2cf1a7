#!/usr/bin/env node
// Runs the bundled CLI (packages/cli/dist/bedrock-spend.mjs, built by `pnpm build:cli`) when it
// exists; otherwise the TypeScript sources through tsx, so that the workspace needs no build step.
// BEDROCK_SPEND_FROM_SOURCE=1 runs the sources even when a bundle exists.
//
// The sources run in this process, tsx registered as a module hook: tsx's own command runs the
// script in a child and relays Ctrl-C by waiting 30 ms for the child to acknowledge it, then kills
// it, which on a busy machine stopped a backfill or reprice in the middle of a checkpoint.
import { existsSync } from "node:fs";
import { createRequire, enableCompileCache } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, "..", "dist", "bedrock-spend.mjs");
if (existsSync(bundle) && process.env.BEDROCK_SPEND_FROM_SOURCE !== "1") {
  // V8's compiled code of the bundle, kept between runs (in the system's temporary directory): most
  // of the start-up time is compiling the bundle.
  enableCompileCache?.();
  // The bundle runs the CLI when it loads, and sets process.exitCode.
  await import(pathToFileURL(bundle).href);
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
