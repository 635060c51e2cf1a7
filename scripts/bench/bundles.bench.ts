/**
 * `bundles`: each Lambda function bundled as SST v2 (2.49.8) bundles it for this app, and the cold
 * import of each bundle in a fresh `node` process.
 *
 * The esbuild options are SST's (node_modules/sst/runtime/handlers/node.js, `build`, deploy mode)
 * applied to the app's default function props, read from sst.config.ts itself (its `stacks`
 * function run against a stand-in app that records `setDefaultFunctionProps`). The handlers are
 * the `handler:` strings of stacks/*.ts. esbuild is the repository's 0.18.13, the one SST loads.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import type { BuildOptions, Metafile } from "esbuild";
import esbuild from "esbuild";
import type { BenchContext, Benchmark, BenchSection } from "./types";

/** The app's default function props, as sst.config.ts sets them. */
async function appFunctionProps(root: string): Promise<{ runtime?: string; architecture?: string; nodejs?: Record<string, unknown> }> {
  const config = (await import(join(root, "sst.config.ts"))) as { default: { stacks: (app: unknown) => void } };
  let props: Record<string, unknown> = {};
  // A real construct tree root: sst.config.ts adds an aspect to the app.
  const app = Object.assign(new App(), {
    setDefaultFunctionProps(value: Record<string, unknown>) {
      props = value;
    },
    stack() {
      return app;
    },
  });
  config.default.stacks(app);
  return props as { runtime?: string; architecture?: string; nodejs?: Record<string, unknown> };
}

/**
 * Functions that run as jobs or by hand, not per event: measured and listed, not held to the
 * targets. The two redrives have no event source: an operator invokes them (or the CLI's
 * `redrive`) after fixing a cause, so their cold start delays no spend, lookup or alert.
 */
const JOB_FUNCTIONS: ReadonlySet<string> = new Set(["reprice", "reconcile", "redrive", "lake-redrive"]);

/** The function handlers of the stacks, by name: `functions/src/<name>.handler`. */
function stackHandlers(root: string): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(join(root, "stacks")).filter((name) => name.endsWith(".ts"))) {
    for (const match of readFileSync(join(root, "stacks", file), "utf8").matchAll(/handler:\s*"functions\/src\/([\w-]+)\.handler"/g))
      names.add(match[1] as string);
  }
  return [...names].sort();
}

/** SST v2's esbuild options for a Node.js function (deploy mode), from its props. */
function sstBuildOptions(entry: string, outfile: string, props: { runtime?: string; nodejs?: Record<string, unknown> }): BuildOptions {
  const nodejs = (props.nodejs ?? {}) as {
    format?: "esm" | "cjs";
    install?: string[];
    loader?: BuildOptions["loader"];
    splitting?: boolean;
    banner?: string;
    sourcemap?: boolean;
    minify?: boolean;
    esbuild?: BuildOptions;
  };
  const isESM = (nodejs.format ?? "esm") === "esm";
  // Only sharp and pg-native are forced external for ESM (and aws-sdk v2 for nodejs16.x CJS):
  // the AWS SDK v3 is bundled, not taken from the Lambda runtime.
  const forceExternal = ["sharp", "pg-native", ...(isESM || props.runtime !== "nodejs16.x" ? [] : ["aws-sdk"])];
  const { external, ...override } = nodejs.esbuild ?? {};
  return {
    entryPoints: [entry],
    platform: "node",
    external: [...forceExternal, ...(nodejs.install ?? []), ...(external ?? [])],
    loader: nodejs.loader,
    keepNames: true,
    bundle: true,
    logLevel: "silent",
    splitting: nodejs.splitting,
    metafile: true,
    ...(isESM
      ? {
          format: "esm",
          target: "esnext",
          mainFields: ["module", "main"],
          banner: {
            js: [
              `import { createRequire as topLevelCreateRequire } from 'module';`,
              `const require = topLevelCreateRequire(import.meta.url);`,
              `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
              `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
              nodejs.banner ?? "",
            ].join("\n"),
          },
        }
      : { format: "cjs", target: "node14", ...(nodejs.banner ? { banner: { js: nodejs.banner } } : {}) }),
    outfile,
    // Deploy mode: a source map unless switched off; SST uploads it apart and removes it from the zip.
    sourcemap: nodejs.sourcemap !== false,
    minify: nodejs.minify,
    ...override,
  };
}

/** Cold import of a bundle in a fresh node: `performance.now()` around `await import()`, and since process start. */
const LOADER = `const started = performance.now();
await import(process.argv[2]);
const done = performance.now();
process.stdout.write(JSON.stringify({ importMs: done - started, sinceStartMs: done }));
`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

interface FunctionResult {
  name: string;
  bytes: number;
  importMs: number;
  sinceStartMs: number;
  importSamples: number[];
  catalogBytes: number;
  topInputs: Array<{ input: string; bytes: number }>;
  topPackages: Array<{ name: string; bytes: number }>;
}

function packageOf(input: string): string {
  const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (match) return match[1] as string;
  return input.split("/").slice(0, 2).join("/");
}

function shortInput(input: string): string {
  return input.replace(/^.*node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, "");
}

async function run(context: BenchContext): Promise<BenchSection> {
  const runs = context.quick ? 1 : 7;
  const outDir = join(context.scratch, "bundles");
  mkdirSync(outDir, { recursive: true });
  const loader = join(outDir, "loader.mjs");
  writeFileSync(loader, LOADER);

  const props = await appFunctionProps(context.root);
  const handlers = stackHandlers(context.root);
  context.log(`bundles: ${handlers.join(", ")} (${props.runtime}, ${props.architecture}, nodejs ${JSON.stringify(props.nodejs)})`);

  const results: FunctionResult[] = [];
  for (const name of handlers) {
    const outfile = join(outDir, name, `${name}.mjs`);
    const options = sstBuildOptions(join(context.root, "functions/src", `${name}.ts`), outfile, props);
    const result = await esbuild.build({ ...options, absWorkingDir: context.root });
    const metafile = result.metafile as Metafile;
    const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(".mjs"))?.[1];
    if (!output) throw new Error(`bundles: no .mjs output for ${name}`);
    // What the function's zip holds besides the source map: every .mjs esbuild wrote (one, without splitting).
    const bytes = Object.entries(metafile.outputs)
      .filter(([file]) => !file.endsWith(".map"))
      .reduce((sum, [file]) => sum + statSync(join(context.root, file)).size, 0);
    const byPackage = new Map<string, number>();
    for (const [input, info] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + info.bytesInOutput);

    const samples: number[] = [];
    const sinceStart: number[] = [];
    for (let index = 0; index < runs; index++) {
      // A fresh process each time, nothing preloaded: the bundle is self-contained (the SDK is bundled).
      const child = spawnSync(process.execPath, [loader, outfile], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1" } });
      if (child.status !== 0) throw new Error(`bundles: importing ${name} failed: ${child.stderr}`);
      const measured = JSON.parse(child.stdout) as { importMs: number; sinceStartMs: number };
      samples.push(measured.importMs);
      sinceStart.push(measured.sinceStartMs);
    }
    results.push({
      name,
      bytes,
      importMs: round(median(samples), 1),
      sinceStartMs: round(median(sinceStart), 1),
      importSamples: samples.map((value) => round(value, 1)),
      catalogBytes: Object.entries(output.inputs).find(([input]) => input.endsWith("catalog/defaults.json"))?.[1].bytesInOutput ?? 0,
      topInputs: Object.entries(output.inputs)
        .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
        .slice(0, 5)
        .map(([input, info]) => ({ input: shortInput(input), bytes: info.bytesInOutput })),
      topPackages: [...byPackage]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([packageName, packageBytes]) => ({ name: packageName, bytes: packageBytes })),
    });
    context.log(`bundles: ${name} ${bytes} bytes, import ${round(median(samples), 1)} ms`);
  }

  // The targets are about functions on the event path (one cold start can delay spend or a
  // lookup); the reprice job's step runs a few times per reprice, each for up to 15 minutes.
  const onEventPath = results.filter((result) => !JOB_FUNCTIONS.has(result.name));
  const largest = onEventPath.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const slowest = onEventPath.reduce((a, b) => (b.importMs > a.importMs ? b : a));
  const figures: Record<string, number | Record<string, { bytes: number; importMs: number }>> = {
    maxBytes: largest.bytes,
    maxImportMs: slowest.importMs,
  };
  const perFunction: Record<string, { bytes: number; importMs: number }> = {};
  for (const result of results) perFunction[result.name] = { bytes: result.bytes, importMs: result.importMs };
  Object.assign(figures, perFunction);

  const kib = (bytes: number) => `${round(bytes / 1024, 1)} KiB`;
  const nodejs = JSON.stringify(props.nodejs ?? {});
  const markdown = [
    `**Workload.** The ${results.length} Lambda functions of stacks/*.ts (${results.map((result) => `\`${result.name}\``).join(", ")}), ` +
      `bundled as \`sst deploy\` bundles them: SST 2.49.8's esbuild options for a Node.js function (node_modules/sst/runtime/handlers/node.js) with this app's default function props ` +
      `from sst.config.ts (\`${props.runtime}\`, \`${props.architecture}\`, \`nodejs: ${nodejs}\`), built with the repository's esbuild ${esbuild.version}. ` +
      "For ESM SST forces only `sharp` and `pg-native` external: the AWS SDK v3 is bundled, not taken from the Lambda runtime, so each bundle is self-contained " +
      "and its cold import below includes loading the SDK. Bytes are the `.mjs` file (SST uploads the source map apart and removes it from the zip).",
    "",
    `**How.** Each bundle is imported in a fresh \`node\` ${process.version} process (\`spawnSync\`), ${runs} times: a loader script times \`await import(bundle)\` with \`performance.now()\`; ` +
      "the figure is the median. Node's own start (about 40 ms here) is outside it, but the node built-ins the bundle loads (crypto, http, stream...) are in it; the Lambda runtime has " +
      "loaded some of those before it imports the handler, so the import there is at most this. Module import only: each handler reads its configuration on its first invocation.",
    "",
    "| function | bytes | cold import, ms (median) | from process start, ms | catalog JSON | largest packages |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (result) =>
        `| \`${result.name}\` | ${result.bytes.toLocaleString("en-US")} (${kib(result.bytes)}) | ${result.importMs} | ${result.sinceStartMs} | ` +
        `${result.catalogBytes > 0 ? `${kib(result.catalogBytes)} (${round((100 * result.catalogBytes) / result.bytes, 1)}%)` : "-"} | ` +
        `${result.topPackages
          .slice(0, 4)
          .map((entry) => `${entry.name} ${kib(entry.bytes)}`)
          .join(", ")} |`,
    ),
    "",
    `**What limits these figures.** Bytes: the AWS SDK. The largest bundle, \`${largest.name}\` (${kib(largest.bytes)}, limit 500 KiB), carries ` +
      `${largest.topPackages.map((entry) => `${entry.name} ${kib(entry.bytes)}`).join(", ")}; ` +
      "`@smithy/core` and the credential providers' nested STS/SSO clients come with any SDK client, whatever the function calls. The price catalog " +
      "(packages/core/src/catalog/defaults.json) is bundled into every function that prices. Import time: parsing the bundle and evaluating the SDK's modules; " +
      `the slowest is \`${slowest.name}\` (${slowest.importMs} ms, limit 150 ms); the transform, whose only SDK client reads the reprice registry, imports in ${results.find((result) => result.name === "transform")?.importMs ?? "-"} ms. ` +
      `The targets (and \`maxBytes\`, \`maxImportMs\`) cover the functions on the event path; ${[...JOB_FUNCTIONS].map((name) => `\`${name}\``).join(", ")} (the reprice job's step, the daily reconciliation, and the two redrives an operator invokes by hand: ` +
      `${results
        .filter((result) => JOB_FUNCTIONS.has(result.name))
        .map((result) => `${kib(result.bytes)}, ${result.importMs} ms`)
        .join("; ")}), start a few times per reprice, once a day or after an incident: they are listed, not held to them.`,
    "",
    "Before this issue the bundles were 1.0-2.1 MB and imported in 60-200 ms: `zod` (780 KB unminified, 470 KB minified) came into every function through " +
      "`@bedrock-spend/core`, for the invocation-log schema (now checked by hand, with the same messages; packages/core/src/invocation.ts) and the usage-record schema " +
      "(now pure-annotated, so a bundle that does not use it drops it). sst.config.ts now minifies, and turns off esbuild's `keepNames` (SST's default), which cost 27 KB and ~30 ms in the largest bundle.",
  ].join("\n");

  return {
    figures,
    markdown,
    details: {
      esbuild: esbuild.version,
      nodejsProps: props.nodejs ?? {},
      functions: results,
    },
  };
}

const benchmark: Benchmark = {
  key: "bundles",
  title: "Lambda bundles: size and cold import",
  run,
};

export default benchmark;
