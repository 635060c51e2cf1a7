/**
 * The functions' bundling beyond SST's defaults (stacks/bundling.ts): the price catalog travels
 * gzipped and inflates to exactly the catalog every other path reads.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import sstConfig from "../../sst.config";
import { GZIPPED_JSON, gzippedJson } from "../../stacks/bundling";

const root = join(import.meta.dirname, "../..");
const catalogPath = join(root, "packages/core/src/catalog/defaults.json");

/** The app's default function props, as sst.config.ts sets them. */
function functionProps(): { nodejs: { esbuild: { plugins?: esbuild.Plugin[] } } } {
  let props: unknown;
  const app = { setDefaultFunctionProps: (value: unknown) => (props = value), stack: () => app };
  try {
    sstConfig.stacks(app as never);
  } catch {
    // The stacks themselves need a real app; the default props are set before them.
  }
  return props as { nodejs: { esbuild: { plugins?: esbuild.Plugin[] } } };
}

describe("Function bundling", () => {
  it("is configured in sst.config.ts for every function", () => {
    expect(functionProps().nodejs.esbuild.plugins?.map((plugin) => plugin.name)).toEqual(["bedrock-spend-gzipped-json"]);
    expect(GZIPPED_JSON.test(catalogPath)).toBe(true);
    expect(GZIPPED_JSON.test(join(root, "packages/core/test/fixtures/manifest.json"))).toBe(false);
  });

  it("ships the price catalog gzipped, a fraction of its size, and the bundle prices with exactly the shipped catalog", async () => {
    // Arrange: an entry that exposes what a function's pricer reads
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-bundling-"));
    const entry = join(dir, "entry.ts");
    writeFileSync(entry, `export { defaultCatalog, DEFAULT_CATALOG_JSON } from ${JSON.stringify(join(root, "packages/core/src/defaults.ts"))};\n`);
    const build = (plugins: esbuild.Plugin[], name: string) =>
      esbuild.build({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", minify: true, outfile: join(dir, name), plugins, metafile: true });

    // Act
    const gzipped = await build([gzippedJson()], "gzipped.mjs");
    const plain = await build([], "plain.mjs");
    const bundled = (await import(pathToFileURL(join(dir, "gzipped.mjs")).href)) as typeof import("../../packages/core/src/defaults");

    // Assess
    const size = (result: esbuild.BuildResult) => Object.values(result.metafile?.outputs ?? {}).reduce((sum, output) => sum + output.bytes, 0);
    expect(size(gzipped)).toBeLessThan(size(plain) - 30_000);
    expect(bundled.DEFAULT_CATALOG_JSON).toEqual(JSON.parse(readFileSync(catalogPath, "utf8")));
    const catalog = bundled.defaultCatalog();
    expect(catalog.version).toBe(JSON.parse(readFileSync(catalogPath, "utf8")).version);
    expect(catalog.entries.length).toBe(JSON.parse(readFileSync(catalogPath, "utf8")).models.length);
  });

  it("fails the build, not a cold start, on a catalog that is not JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-bundling-"));
    writeFileSync(join(dir, "defaults.json"), "{ not json");
    writeFileSync(join(dir, "entry.js"), 'import d from "./defaults.json"; export default d;\n');
    await expect(
      esbuild.build({ entryPoints: [join(dir, "entry.js")], bundle: true, write: false, logLevel: "silent", plugins: [gzippedJson(/defaults\.json$/)] }),
    ).rejects.toThrow(/JSON/);
  });
});
