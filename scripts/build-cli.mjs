#!/usr/bin/env node
/**
 * Builds the CLI into one file, packages/cli/dist/bedrock-spend.mjs (`pnpm build:cli`), so that it
 * starts without compiling TypeScript: `--help` and `--version` load nothing but the bundle.
 *
 * - The commands are imported lazily by main.ts: esbuild keeps them in the file and evaluates a
 *   command's modules only when it runs.
 * - @duckdb/node-api (a native addon) stays outside, resolved from the repository's node_modules
 *   and required only when a command that uses DuckDB runs (an ESM import of it would be hoisted
 *   to the top of the bundle and load the addon on every start).
 * - Minified (names kept): the file's size is most of the start-up time, since V8 compiles all of
 *   it before running any; the bin also turns on Node's compile cache.
 * - Files that find their neighbours through `import.meta.url` (the DynamoDB Local launcher, the
 *   dashboard's page, echarts) get the URL of their source file, expressed relative to the bundle,
 *   so that the bundle runs from packages/cli/dist/ inside the repository, as the bin runs it.
 *
 * - Next to it, its help index (`bedrock-spend.help.json`, `writeHelpIndex`), unless
 *   `--no-help-index`.
 *
 * Usage: node scripts/build-cli.mjs [OUTFILE] [--no-help-index]   (default packages/cli/dist/bedrock-spend.mjs)
 */
import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DEFAULT_OUTFILE = resolve(ROOT, "packages/cli/dist/bedrock-spend.mjs");
const ENTRY = resolve(ROOT, "packages/cli/src/main.ts");

/** Builds the bundle at `outfile`; returns its path and esbuild's metafile. */
export async function buildCli(outfile = DEFAULT_OUTFILE) {
  const target = resolve(outfile);
  const version = JSON.parse(await readFile(resolve(ROOT, "packages/cli/package.json"), "utf8")).version;
  const result = await build({
    entryPoints: [ENTRY],
    outfile: target,
    bundle: true,
    splitting: false,
    platform: "node",
    format: "esm",
    target: "node22",
    metafile: true,
    minify: true,
    keepNames: true,
    logLevel: "warning",
    legalComments: "none",
    define: { BEDROCK_SPEND_BUNDLED_VERSION: JSON.stringify(version) },
    // Bundled CommonJS dependencies call require() for Node's built-in modules.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __bedrockSpendRequire } from 'node:module';\nconst require = __bedrockSpendRequire(import.meta.url);",
    },
    plugins: [lazyRequirePlugin(LAZY_EXTERNAL), sourceUrlPlugin(dirname(target))],
  });
  return { outfile: target, metafile: result.metafile };
}

/** Packages left out of the bundle, required when first used. */
const LAZY_EXTERNAL = /^@duckdb\/node-api$/;

/**
 * Turns imports of the matching (CommonJS) packages into a lazily evaluated module of the bundle
 * that requires the package at run time: loaded when a module that imports it first runs.
 */
function lazyRequirePlugin(filter) {
  const namespace = "lazy-require";
  return {
    name: namespace,
    setup(build) {
      build.onResolve({ filter }, (args) => (args.namespace === namespace ? { path: args.path, external: true } : { path: args.path, namespace }));
      build.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
    },
  };
}

/** Replaces `import.meta.url` in every source file but the entry with the URL of that file, relative to the bundle's directory. */
function sourceUrlPlugin(outdir) {
  return {
    name: "source-import-meta-url",
    setup(build) {
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`) || args.path === ENTRY) return undefined;
        const source = await readFile(args.path, "utf8");
        if (!source.includes("import.meta.url")) return undefined;
        const fromBundle = relative(outdir, args.path).split(sep).join("/");
        const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
        return { contents: source.replaceAll("import.meta.url", url), loader: args.path.endsWith("ts") ? "ts" : "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

/** The help index of a bundle: `bedrock-spend.mjs` -> `bedrock-spend.help.json`. */
export function helpIndexPath(outfile) {
  return outfile.replace(/\.mjs$/, ".help.json");
}

/**
 * Writes the bundle's help index: what `--help`, `--version` and every `<command> --help` print,
 * read from the bundle itself, with the bundle's size and modification time. The bin prints from it
 * without loading the bundle (a 2.7 MB file V8 compiles before running any of it), so that help
 * answers in a node start's time; it ignores an index whose bundle changed since.
 */
export async function writeHelpIndex(outfile) {
  const run = promisify(execFile);
  const output = async (args) => (await run(process.execPath, [outfile, ...args], { cwd: ROOT, encoding: "utf8" })).stdout;
  const main = await output(["--help"]);
  const commands = main
    .slice(main.indexOf("\nCommands:\n") + "\nCommands:\n".length)
    .split("\n\n")[0]
    .split("\n")
    .map((line) => /^ {2}([a-z]+)\b/.exec(line)?.[1])
    .filter((name) => name !== undefined);
  if (commands.length === 0) throw new Error("the bundle's --help lists no commands");
  const outputs = { "--help": main, "--version": await output(["--version"]) };
  await Promise.all(
    commands.map(async (name) => {
      outputs[name] = await output([name, "--help"]);
    }),
  );
  const bundle = await stat(outfile);
  await writeFile(helpIndexPath(outfile), `${JSON.stringify({ bundleBytes: bundle.size, bundleMtimeMs: bundle.mtimeMs, outputs })}\n`);
  return commands;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const { outfile, metafile } = await buildCli(args.find((arg) => !arg.startsWith("--")));
  if (!args.includes("--no-help-index")) await writeHelpIndex(outfile);
  const bytes = Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`built ${relative(process.cwd(), outfile) || outfile} (${bytes.toLocaleString("en-US")} bytes)\n`);
}
