/**
 * The functions' bundling beyond SST's defaults (stacks/bundling.ts): the price catalog travels
 * gzipped and inflates to exactly the catalog every other path reads.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import sstConfig from "../../sst.config";
import { GZIPPED_JSON, gzippedJson, httpBuiltinsAsCommonJs } from "../../stacks/bundling";

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
    expect(functionProps().nodejs.esbuild.plugins?.map((plugin) => plugin.name)).toEqual(["bedrock-spend-gzipped-json", "bedrock-spend-http-builtins-cjs"]);
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

  it("loads the HTTP built-ins as CommonJS, and the bundled AWS SDK still makes its requests through them", async () => {
    // Arrange: a DynamoDB call through the SDK the functions bundle, against a local HTTP server
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-bundling-"));
    const outfile = join(dir, "sdk.mjs");
    await esbuild.build({
      stdin: {
        contents: `import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
export async function listTables(endpoint) {
  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" }, maxAttempts: 1 });
  return (await client.send(new ListTablesCommand({}))).TableNames;
}`,
        resolveDir: join(root, "packages/store"),
        loader: "js",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "esnext",
      mainFields: ["module", "main"],
      outfile,
      logLevel: "silent",
      plugins: [httpBuiltinsAsCommonJs()],
    });
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(String(request.headers["x-amz-target"]));
      response.setHeader("content-type", "application/x-amz-json-1.0");
      response.end(JSON.stringify({ TableNames: ["aggregates"] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;

    try {
      // Act
      const bundled = (await import(pathToFileURL(outfile).href)) as { listTables: (endpoint: string) => Promise<string[]> };
      const tables = await bundled.listTables(`http://127.0.0.1:${port}`);

      // Assess
      expect(tables).toEqual(["aggregates"]);
      expect(requests).toEqual(["DynamoDB_20120810.ListTables"]);
      expect(readFileSync(outfile, "utf8")).not.toMatch(/from\s*"(node:)?https?2?"/);
    } finally {
      server.close();
    }
  });
});
