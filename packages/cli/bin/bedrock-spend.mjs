#!/usr/bin/env node
// Runs the bundled CLI (packages/cli/dist/bedrock-spend.mjs, built by `pnpm build:cli`) when it
// exists; otherwise the TypeScript sources through tsx, so that the workspace needs no build step.
// BEDROCK_SPEND_FROM_SOURCE=1 runs the sources even when a bundle exists.
import { spawnSync } from "node:child_process";
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
  const tsx = join(dirname(require.resolve("tsx/package.json")), "dist", "cli.mjs");
  const result = spawnSync(process.execPath, [tsx, join(here, "..", "src", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}
