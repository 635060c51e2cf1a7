/**
 * Vitest global setup: the CLI bundled once for the run (scripts/build-cli.mjs), which the tests
 * that spawn the CLI run as the bin does when the bundle exists. A process started from the
 * bundle takes half the CPU of one compiling the sources through tsx (0.35 s against 0.8 s user
 * time for `prices list`), and the suite starts a few hundred. Built under packages/cli/dist so
 * that it resolves DuckDB from the repository's node_modules, as the bin's bundle does.
 *
 * BEDROCK_SPEND_TEST_CLI=source runs the sources instead (`node --import tsx main.ts`).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The bundled CLI's path, or "" to run the sources. */
    cliBundle: string;
    /** Node's compile cache directory for the bundle (NODE_COMPILE_CACHE), or "". */
    cliCompileCache: string;
  }
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export default function setup(project: TestProject): () => void {
  if (process.env.BEDROCK_SPEND_TEST_CLI === "source") {
    project.provide("cliBundle", "");
    project.provide("cliCompileCache", "");
    return () => undefined;
  }
  mkdirSync(join(ROOT, "packages/cli/dist"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, "packages/cli/dist/test-run-"));
  const bundle = join(dir, "bedrock-spend.mjs");
  const built = spawnSync(process.execPath, [join(ROOT, "scripts/build-cli.mjs"), bundle, "--no-help-index"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`building the CLI for the tests failed (exit ${built.status}): ${built.stderr}`);
  project.provide("cliBundle", bundle);
  project.provide("cliCompileCache", join(dir, "compile-cache"));
  return () => rmSync(dir, { recursive: true, force: true });
}
