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
import { deployedPricing, GZIPPED_JSON, gzippedJson, httpBuiltinsAsCommonJs } from "../../stacks/bundling";
import { synthesize } from "./synth";

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
    expect(functionProps().nodejs.esbuild.plugins?.map((plugin) => plugin.name)).toEqual([
      "bedrock-spend-gzipped-json",
      "bedrock-spend-deployed-pricing",
      "bedrock-spend-http-builtins-cjs",
    ]);
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

  it("deploys a 40 KB price overlay: no function's environment carries it, and the bundle prices with it", async () => {
    // Prepare: 220 negotiated entries, about 40 KB of JSON.
    const models = Array.from({ length: 220 }, (_, index) => ({
      model: `acme.negotiated-model-${String(index).padStart(3, "0")}-v1:0`,
      profile: "*",
      region: "*",
      effectiveFrom: "2026-01-01",
      effectiveTo: null,
      input: `${(index + 1) / 100}`,
      output: `${(index + 1) / 20}`,
      source: "https://contracts.example.com/acme/bedrock-private-offer-2026",
      checked: "2026-11-30",
      confidence: "primary",
    }));
    const overlay = JSON.stringify({ version: "acme-private-offer-2026", currency: "USD", unit: "per_million_tokens", models });
    expect(overlay.length).toBeGreaterThan(40_000);
    const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-bundling-"));
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `export { pricerFromEnv } from ${JSON.stringify(join(root, "functions/src/lib/env.ts"))};\nexport { parseInvocationLog } from ${JSON.stringify(join(root, "packages/core/src/invocation.ts"))};\n`,
    );

    // Act
    const synthesized = await synthesize({ priceOverlay: overlay });
    const build = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      minify: true,
      outfile: join(dir, "priced.mjs"),
      plugins: [gzippedJson(), deployedPricing({ overlay: JSON.parse(overlay) }), httpBuiltinsAsCommonJs()],
      metafile: true,
    });
    const bundled = (await import(pathToFileURL(join(dir, "priced.mjs")).href)) as {
      pricerFromEnv: typeof import("../../functions/src/lib/env").pricerFromEnv;
      parseInvocationLog: typeof import("../../packages/core/src/invocation").parseInvocationLog;
    };

    // Assess: every function's environment far below Lambda's 4 KB, none with a price file in it.
    for (const { template } of synthesized.stacks)
      for (const [id, resource] of Object.entries(template.findResources("AWS::Lambda::Function"))) {
        const variables = ((resource as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ??
          {}) as Record<string, unknown>;
        expect(Object.keys(variables), id).not.toContain("PRICE_OVERLAY");
        expect(JSON.stringify(variables).length, id).toBeLessThan(2_048);
      }
    // The bundle carries the overlay gzipped and prices with it, without any environment.
    expect(Object.values(build.metafile?.outputs ?? {}).reduce((sum, output) => sum + output.bytes, 0)).toBeGreaterThan(0);
    const parsed = bundled.parseInvocationLog({
      schemaType: "ModelInvocationLog",
      schemaVersion: "1.0",
      timestamp: "2026-11-27T10:00:00Z",
      accountId: "123456789012",
      region: "us-east-1",
      requestId: "r-40kb",
      operation: "Converse",
      modelId: "acme.negotiated-model-137-v1:0",
      requestMetadata: { tenantId: "acme" },
      input: { inputTokenCount: 1_000_000 },
      output: { outputTokenCount: 1_000_000 },
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    const priced = bundled.pricerFromEnv({}).price(parsed.log);
    // Entry 137: 1.38 USD per million input tokens, 6.90 per million output tokens.
    expect(priced.record.cost_usd).toBe("8.280000");
  }, 300_000);
});
