/**
 * How the Lambda functions are bundled beyond SST's defaults: the price catalog travels gzipped.
 *
 * The shipped catalog carries a source, a checked date and a note on every entry, which doubled
 * its size; as a JSON module it would push the largest function past its 500 KiB budget. Gzipped
 * and base64-encoded it is a tenth of that, and the function inflates it once, at its cold start
 * (node:zlib, a fraction of a millisecond), to the same object the JSON import gives everywhere
 * else (tests, the CLI, local mode).
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { Plugin } from "esbuild";

/** The JSON modules that travel gzipped: the shipped price catalog. */
export const GZIPPED_JSON = /[\\/]packages[\\/]core[\\/]src[\\/]catalog[\\/]defaults\.json$/;

/** An esbuild plugin that turns the JSON modules matching `filter` into a gzipped, base64 string inflated at load. */
export function gzippedJson(filter: RegExp = GZIPPED_JSON): Plugin {
  return {
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
}
