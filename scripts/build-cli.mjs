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
 * Usage: node scripts/build-cli.mjs [OUTFILE]   (default packages/cli/dist/bedrock-spend.mjs)
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { outfile, metafile } = await buildCli(process.argv[2]);
  const bytes = Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`built ${relative(process.cwd(), outfile) || outfile} (${bytes.toLocaleString("en-US")} bytes)\n`);
}
