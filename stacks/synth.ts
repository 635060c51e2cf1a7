/**
 * Offline synthesis of the SST app, for the infrastructure tests and `pnpm synth`. `sst build`
 * needs AWS (and exits 0 having done nothing without it), so the app is built the way SST's own
 * test mode does: the same stacks from sst.config.ts, then `await app.finish()`, which bundles
 * the functions for real with esbuild.
 *
 * SST skips its AWS bootstrap lookup only when `NODE_ENV === "test"` (vitest sets it; `pnpm synth`
 * sets it before calling this). Nothing here reaches AWS.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { Plugin } from "esbuild";
import { App } from "sst/constructs";
import { useFunctions } from "sst/constructs/Function.js";
import type { FunctionalStack } from "sst/constructs/FunctionalStack.js";
import { initProject, useProject } from "sst/project.js";
import { useRuntimeHandlers } from "sst/runtime/handlers.js";
import sstConfig from "../sst.config";
import { pluginInputs } from "./bundling";
import { type Config, setConfig } from "./config";

/** Where and how the app is synthesized. */
export interface SynthesisOptions {
  /** The deployment's configuration (stacks read it through `config()`). */
  config: Config;
  /** Stage name (default `test`). */
  stage?: string;
  /** AWS Region (default us-east-1). */
  region?: string;
  /** AWS account; a CloudFormation `AWS::AccountId` token when it is not a concrete id. */
  account?: string;
}

/** One synthesized stack: its short name (`Ingest`), the CDK stack and its CloudFormation template. */
export interface SynthesizedStack {
  name: string;
  stack: Stack;
  template: Template;
}

/** The synthesized app: a template per stack. */
export interface SynthesizedApp {
  app: App;
  /** Every stack, in the order sst.config.ts registers them. */
  stacks: SynthesizedStack[];
  /** The template of a stack function (`template(Ingest)`). */
  template(stack: FunctionalStack<unknown>): Template;
}

/** How long a synthesis may hold the lock before another process takes it over as stale. */
const LOCK_STALE_MS = 15 * 60 * 1000;

/**
 * Runs `task` holding `.sst/synth.lock`. SST bundles each function into
 * `.sst/artifacts/<construct address>` (removing the directory first, then running npm in it), and
 * the address is the same in every process that builds the same stage: two syntheses at once
 * (vitest workers, `pnpm synth`, another checkout's tests) would delete each other's bundles.
 */
async function withSynthLock<T>(root: string, task: () => Promise<T>): Promise<T> {
  const lock = join(root, ".sst", "synth.lock");
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "owner"), `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (lockIsStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await task();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The kernel's clock, read off a file written now: the lock's age compares two file times, not a
 * file time with `Date.now()`, which a process may see moved (tests run under libfaketime).
 */
function filesystemNow(dir: string): number {
  const probe = join(dir, `.clock-${process.pid}`);
  writeFileSync(probe, "");
  try {
    return statSync(probe).mtimeMs;
  } finally {
    rmSync(probe, { force: true });
  }
}

/** A lock whose owner process is gone, or that is older than any synthesis takes. */
function lockIsStale(lock: string): boolean {
  try {
    if (filesystemNow(dirname(lock)) - statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    const owner = Number(readFileSync(join(lock, "owner"), "utf8").trim());
    if (!Number.isInteger(owner) || owner <= 0) return false;
    try {
      process.kill(owner, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    // The owner file is not written yet (or the lock just went away): not stale.
    return false;
  }
}

/** Builds the app offline and synthesizes every stack's template. */
export async function synthesizeApp(options: SynthesisOptions): Promise<SynthesizedApp> {
  if (process.env.NODE_ENV !== "test") {
    throw new Error("NODE_ENV must be 'test' before the SST app is created (SST would otherwise look up its AWS bootstrap)");
  }
  return withSynthLock(process.cwd(), () => build(options));
}

async function build(options: SynthesisOptions): Promise<SynthesizedApp> {
  const stage = options.stage ?? "test";
  // SST bundles with (cores - 1) builds at a time; each build also runs an npm install that mostly
  // waits on the disk, so a few at once finish sooner on a small machine.
  process.env.SST_BUILD_CONCURRENCY ??= "4";
  setConfig(options.config);
  await initProject({ stage });
  reuseBundles();
  const app = new App({ mode: "deploy", name: "bedrock-spend", stage, region: options.region ?? "us-east-1", account: options.account ?? "123456789012" });
  const stacks = sstConfig.stacks as (app: App) => void;
  stacks(app);
  await app.finish();

  // Template.fromStack synthesizes the whole assembly each time: once per stack, here, and cached.
  const prefix = app.logicalPrefixedName("");
  const synthesized = app.node.children
    .filter((child): child is Stack => Stack.isStack(child))
    .map((stack) => ({
      name: stack.stackName.startsWith(prefix) ? stack.stackName.slice(prefix.length) : stack.stackName,
      stack,
      template: Template.fromStack(stack),
    }));
  const byName = new Map<string, Template>(synthesized.map(({ name, template }) => [name, template]));
  return {
    app,
    stacks: synthesized,
    // By name: SST's getStack() answers for the most recently built app only.
    template(stack) {
      const found = byName.get(stack.name);
      if (!found) throw new Error(`stack ${stack.name} is not part of the app`);
      return found;
    },
  };
}

/**
 * A directory that makes syntheses in this process (and others given the same directory) reuse a
 * function's bundle built by an earlier synthesis with the same build inputs. For one test run
 * only (`pnpm test` sets it to a directory of its own and removes it): the key holds the function,
 * its handler and build options, not the source files, which must not change while it is in use.
 */
export const BUNDLE_CACHE_VARIABLE = "BEDROCK_SPEND_SYNTH_BUNDLE_CACHE";

/** Marks SST's build registry once patched: it is one object per process. */
const REUSING = Symbol.for("bedrock-spend.synth.reuse-bundles");

/**
 * Wraps SST's function build so that, while `BUNDLE_CACHE_VARIABLE` names a directory, a bundle
 * with the same key is copied from it instead of built again: bundling is 90% of a synthesis
 * (about 36 s of 40 on two loaded cores), and the infrastructure tests synthesize the app 27
 * times with the same functions.
 */
function reuseBundles(): void {
  const handlers = useRuntimeHandlers() as ReturnType<typeof useRuntimeHandlers> & { [REUSING]?: true };
  if (handlers[REUSING]) return;
  handlers[REUSING] = true;
  const build = handlers.build.bind(handlers);
  handlers.build = async (functionID, mode) => {
    const cacheDir = process.env[BUNDLE_CACHE_VARIABLE];
    const func = useFunctions().fromID(functionID);
    // A function with build hooks runs them on every build: never copied.
    if (!cacheDir || !func || mode !== "deploy" || func.hooks) return build(functionID, mode);
    const entry = join(cacheDir, bundleKey(functionID, func));
    const out = join(useProject().paths.artifacts, functionID);
    if (existsSync(join(entry, "result.json"))) {
      const cached = JSON.parse(readFileSync(join(entry, "result.json"), "utf8")) as { handler: string; sourcemap?: string };
      rmSync(out, { recursive: true, force: true });
      cpSync(join(entry, "out"), out, { recursive: true });
      return { type: "success" as const, handler: cached.handler, out, sourcemap: cached.sourcemap === undefined ? undefined : join(out, cached.sourcemap) };
    }
    const result = await build(functionID, mode);
    if (result.type !== "success") return result;
    // Copied before SST gzips and removes the source map from the build's directory.
    const staging = `${entry}.${process.pid}.tmp`;
    cpSync(out, join(staging, "out"), { recursive: true });
    const sourcemap = result.sourcemap === undefined ? undefined : relative(out, isAbsolute(result.sourcemap) ? result.sourcemap : resolve(result.sourcemap));
    writeFileSync(join(staging, "result.json"), JSON.stringify({ handler: result.handler, sourcemap }));
    try {
      renameSync(staging, entry);
    } catch {
      // Another process stored the same bundle first.
      rmSync(staging, { recursive: true, force: true });
    }
    return result;
  };
}

/** Whether a value of the function's options is an esbuild plugin (an object with a `setup` function). */
function isPlugin(value: unknown): value is Plugin {
  return value !== null && typeof value === "object" && "setup" in value && typeof value.setup === "function";
}

/**
 * What a bundle is built from, other than the sources: the function's address, handler, runtime,
 * architecture and Node.js options. An esbuild plugin is a closure: its `setup` source and
 * `pluginInputs` (what `stacks/bundling.ts` records of what it embeds) stand for it.
 */
function bundleKey(functionID: string, func: NonNullable<ReturnType<ReturnType<typeof useFunctions>["fromID"]>>): string {
  const inputs = { functionID, handler: func.handler, runtime: func.runtime, architecture: func.architecture, nodejs: func.nodejs, copyFiles: func.copyFiles };
  const json = JSON.stringify(inputs, (_key, value: unknown) => {
    if (value instanceof RegExp) return value.toString();
    if (typeof value === "function") return value.toString();
    if (isPlugin(value)) return { name: value.name, setup: value.setup.toString(), embeds: pluginInputs(value) ?? null };
    return value;
  });
  return createHash("sha256").update(json).digest("hex").slice(0, 32);
}
