/**
 * How the Lambda functions are bundled beyond SST's defaults: the price catalog travels gzipped,
 * the deployment's pricing configuration is bundled in, and the HTTP built-ins are loaded as
 * CommonJS.
 *
 * The shipped catalog carries a source, a checked date and a note on every entry, which doubled
 * its size; as a JSON module it would push the largest function past its 500 KiB budget. Gzipped
 * and base64-encoded it is a tenth of that, and the function inflates it once, at its cold start
 * (node:zlib, a fraction of a millisecond), to the same object the JSON import gives everywhere
 * else (tests, the CLI, local mode).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { Plugin } from "esbuild";
import type { DeployedPricing } from "../functions/src/lib/deployed-pricing";

/** What a plugin embeds in a bundle beyond its code: a synthesis reusing bundles keys on it. */
const PLUGIN_INPUTS = new WeakMap<Plugin, string>();

/** What `plugin` embeds in a bundle besides the sources (a digest), when it embeds anything. */
export function pluginInputs(plugin: Plugin): string | undefined {
  return PLUGIN_INPUTS.get(plugin);
}

/** The JSON modules that travel gzipped: the shipped price catalog. */
export const GZIPPED_JSON = /[\\/]packages[\\/]core[\\/]src[\\/]catalog[\\/]defaults\.json$/;

/** An esbuild plugin that turns the JSON modules matching `filter` into a gzipped, base64 string inflated at load. */
export function gzippedJson(filter: RegExp = GZIPPED_JSON): Plugin {
  const plugin: Plugin = {
    name: "bedrock-spend-gzipped-json",
    setup(build) {
      build.onLoad({ filter }, (args) => {
        // Parsed first: a broken file fails the build here, not the function's cold start.
        const compact = JSON.stringify(JSON.parse(readFileSync(args.path, "utf8")));
        const packed = gzipSync(compact, { level: 9 }).toString("base64");
        return {
          loader: "js",
          contents: `import { gunzipSync } from "node:zlib";\nexport default JSON.parse(gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString("utf8"));\n`,
        };
      });
    },
  };
  PLUGIN_INPUTS.set(plugin, filter.toString());
  return plugin;
}

/** The module the deployment's pricing replaces in every bundle (functions/src/lib/deployed-pricing.ts). */
export const DEPLOYED_PRICING_MODULE = /[\\/]functions[\\/]src[\\/]lib[\\/]deployed-pricing\.ts$/;

/**
 * An esbuild plugin that bundles the deployment's pricing configuration (the price file, the
 * profile map, the aliases; validated at synth by stacks/config.ts) into every function, gzipped:
 * a function's environment holds 4 KB in all, a real price overlay more. Null leaves the module
 * as it is (null: the functions read their environment).
 */
export function deployedPricing(pricing: DeployedPricing | null): Plugin {
  const plugin: Plugin = {
    name: "bedrock-spend-deployed-pricing",
    setup(build) {
      if (pricing === null) return;
      const packed = gzipSync(JSON.stringify(pricing), { level: 9 }).toString("base64");
      build.onLoad({ filter: DEPLOYED_PRICING_MODULE }, () => ({
        loader: "js",
        contents: `import { gunzipSync } from "node:zlib";\nexport const DEPLOYED_PRICING = JSON.parse(gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString("utf8"));\n`,
      }));
    },
  };
  PLUGIN_INPUTS.set(plugin, createHash("sha256").update(JSON.stringify(pricing)).digest("hex"));
  return plugin;
}

/** The built-ins the AWS SDK imports as ES modules, with the names it (and anything else bundled) may import. */
const HTTP_BUILTINS: Readonly<Record<string, readonly string[]>> = {
  http: [
    "Agent",
    "request",
    "get",
    "globalAgent",
    "STATUS_CODES",
    "METHODS",
    "createServer",
    "ClientRequest",
    "IncomingMessage",
    "OutgoingMessage",
    "Server",
    "ServerResponse",
  ],
  https: ["Agent", "request", "get", "globalAgent", "createServer", "Server"],
  http2: ["constants", "connect", "createServer", "createSecureServer", "getDefaultSettings", "getPackedSettings", "getUnpackedSettings", "sensitiveHeaders"],
};

/**
 * An esbuild plugin that gives `import ... from "node:http"` (and https, http2) the CommonJS module
 * through `createRequire`. Importing a built-in as an ES module makes Node 24 build its ES facade,
 * which reads every export, and `node:http`'s lazy `WebSocket`-family exports then load and compile
 * undici: about a fifth of a function's cold import (redrive: 153 -> 126 ms median, same machine,
 * alternating runs). A name that is not listed fails the build, not the function.
 */
export function httpBuiltinsAsCommonJs(): Plugin {
  return {
    name: "bedrock-spend-http-builtins-cjs",
    setup(build) {
      build.onResolve({ filter: /^(node:)?(http|https|http2)$/ }, (args) =>
        args.kind === "import-statement" ? { path: args.path.replace(/^node:/, ""), namespace: "bedrock-spend-builtin" } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "bedrock-spend-builtin" }, (args) => {
        const names = HTTP_BUILTINS[args.path] ?? [];
        return {
          loader: "js",
          contents: [
            'import { createRequire } from "node:module";',
            `const builtin = createRequire(import.meta.url)(${JSON.stringify(args.path)});`,
            "export default builtin;",
            `export const { ${names.join(", ")} } = builtin;`,
          ].join("\n"),
        };
      });
    },
  };
}
