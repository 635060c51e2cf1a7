/**
 * The package as npm users get it: `pnpm pack` (which runs the prepack build and applies
 * publishConfig), installed with npm into a plain Node.js ESM project next to the real
 * BedrockRuntimeClient, type-checked under NodeNext resolution and run against a capture server.
 * Needs the npm registry (the project installs @aws-sdk/client-bedrock-runtime from it).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = join(packageDir, "..", "..");
const require = createRequire(join(packageDir, "package.json"));
const CLIENT_VERSION = (JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies[
  "@aws-sdk/client-bedrock-runtime"
] as string;
const TYPES_NODE_VERSION = (JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies[
  "@types/node"
] as string;

const APP = `
import http2 from "node:http2";
import http from "node:http";
import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { BudgetExceededError, runWithTenant, spendApiSource, tenantMetadata } from "@bedrock-spend/sdk";

const captured = [];
const bedrock = http2.createServer();
bedrock.on("stream", (stream, headers) => {
  let body = "";
  stream.on("data", (chunk) => (body += chunk));
  stream.on("end", () => {
    captured.push({ path: headers[":path"], headers, body });
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(headers[":path"].endsWith("/converse")
      ? JSON.stringify({ output: { message: { role: "assistant", content: [{ text: "hi" }] } }, stopReason: "end_turn", usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } })
      : "{}");
  });
});
await new Promise((resolve) => bedrock.listen(0, "127.0.0.1", resolve));

const spendRequests = [];
const spendApi = http.createServer((request, response) => {
  spendRequests.push({ url: request.url, authorization: request.headers.authorization });
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify({ costUsd: request.url.includes("/broke/") ? "130.00" : "1.00", budget: { monthlyUsd: "100.00", thresholds: [100] } }));
});
await new Promise((resolve) => spendApi.listen(0, "127.0.0.1", resolve));

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
const client = new BedrockRuntimeClient({ region: "us-east-1", endpoint: "http://127.0.0.1:" + bedrock.address().port, credentials, maxAttempts: 1 });
client.middlewareStack.use(tenantMetadata({
  metadata: { applicationId: "pack-test" },
  budgetGuard: { source: spendApiSource({ baseUrl: "http://127.0.0.1:" + spendApi.address().port, signing: { region: "us-east-1", credentials } }) },
}));

await runWithTenant({ tenantId: "acme", userId: "u-1" }, () =>
  client.send(new ConverseCommand({ modelId: "m", messages: [{ role: "user", content: [{ text: "hi" }] }] })));
await runWithTenant({ tenantId: "acme" }, () => client.send(new InvokeModelCommand({ modelId: "m", body: "{}" })));
let refused = null;
try {
  await runWithTenant({ tenantId: "broke" }, () => client.send(new InvokeModelCommand({ modelId: "m", body: "{}" })));
} catch (error) {
  refused = { isBudgetExceeded: error instanceof BudgetExceededError, name: error.name, limit: error.limit };
}

const [converse, invoke] = captured;
console.log(JSON.stringify({
  requests: captured.length,
  converse: JSON.parse(converse.body).requestMetadata,
  invoke: JSON.parse(invoke.headers["x-amzn-bedrock-request-metadata"]),
  invokeSigned: /SignedHeaders=[^,]*x-amzn-bedrock-request-metadata/.test(invoke.headers.authorization),
  spendRequests,
  refused,
}));
client.destroy();
bedrock.close();
spendApi.close();
`;

const TYPED_APP = `
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { type BudgetExceededError, type TenantContext, runWithTenant, spendApiSource, tenantMetadata } from "@bedrock-spend/sdk";

const client = new BedrockRuntimeClient({ region: "us-east-1" });
client.middlewareStack.use(
  tenantMetadata({
    policy: "sanitize",
    missingTenant: "warn",
    budgetGuard: { source: spendApiSource({ baseUrl: "https://example.com", signing: { region: "us-east-1", credentials: client.config.credentials } }) },
  }),
);
const context: TenantContext = { tenantId: "acme", priority: "essential" };
const result: Promise<number> = runWithTenant(context, async () => 1);
const limit: BudgetExceededError["limit"] = "soft";
// @ts-expect-error: not a policy
tenantMetadata({ policy: "lenient" });
// @ts-expect-error: a context needs a tenantId
runWithTenant({ userId: "u" }, () => 1);
export { result, limit };
`;

let work: string;
let tarball: string;
let builtHere = false;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "bedrock-spend-sdk-pack-"));
  builtHere = !existsSync(join(packageDir, "dist"));
  await run("pnpm", ["--filter", "@bedrock-spend/sdk", "pack", "--pack-destination", work], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  const packed = (await readdir(work)).filter((name) => name.endsWith(".tgz"));
  expect(packed).toHaveLength(1);
  tarball = join(work, packed[0] as string);
  await mkdir(join(work, "extracted"));
  await run("tar", ["-xzf", tarball, "-C", join(work, "extracted")]);
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  // The prepack build writes dist/ into the package; leave the tree as the test found it.
  if (builtHere) await rm(join(packageDir, "dist"), { recursive: true, force: true });
});

async function packedFiles(): Promise<string[]> {
  const root = join(work, "extracted", "package");
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));
}

describe("Package: @bedrock-spend/sdk as packed", () => {
  it("ships dist (bundled JS and declarations), README and a publishable package.json", async () => {
    // Act
    const files = (await packedFiles()).sort();
    const manifest = JSON.parse(await readFile(join(work, "extracted", "package", "package.json"), "utf8"));

    // Assess
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("README.md");
    expect(files.filter((file) => !file.startsWith("dist/"))).toEqual(["README.md", "package.json"]);
    expect(manifest).toMatchObject({
      name: "@bedrock-spend/sdk",
      version: "0.1.0",
      type: "module",
      license: "Apache-2.0",
      main: "./dist/index.js",
      types: "./dist/index.d.ts",
      exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" } },
    });
    expect(manifest.private).toBeUndefined();
    expect(manifest.peerDependencies).toHaveProperty("@aws-sdk/client-bedrock-runtime");
    expect(manifest.peerDependenciesMeta).toEqual({ "@aws-sdk/client-dynamodb": { optional: true } });
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@aws-crypto/sha256-js", "@smithy/signature-v4"]);
  });

  it("names no workspace-only package anywhere", async () => {
    for (const file of await packedFiles()) {
      const text = await readFile(join(work, "extracted", "package", file), "utf8");
      expect(text, file).not.toContain("@bedrock-spend/core");
      expect(text, file).not.toContain("workspace:");
    }
    const bundle = await readFile(join(work, "extracted", "package", "dist", "index.js"), "utf8");
    // The shared rules are inlined, not imported.
    expect(bundle).toContain("firstDisallowedMetadataCharacter");
    expect(bundle).toMatch(/from "node:async_hooks"/);
  });

  it("installs with npm in a plain Node.js project, type-checks under NodeNext and stamps a real client's calls", async () => {
    // Prepare
    const app = join(work, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "pack-test-app", private: true, type: "module" }));
    await run(
      "npm",
      [
        "install",
        tarball,
        `@aws-sdk/client-bedrock-runtime@${CLIENT_VERSION}`,
        `@types/node@${TYPES_NODE_VERSION}`,
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--no-package-lock",
        "--loglevel=error",
      ],
      { cwd: app, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    await writeFile(join(app, "app.mjs"), APP);
    await writeFile(join(app, "typed.ts"), TYPED_APP);
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["typed.ts"],
      }),
    );

    // Act
    const typecheck = await run(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(app, "tsconfig.json")], { cwd: app }).then(
      () => "ok",
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
    );
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: app, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split("\n").at(-1) as string);

    // Assess
    expect(typecheck).toBe("ok");
    expect(result.requests).toBe(2);
    expect(result.converse).toEqual({ tenantId: "acme", userId: "u-1", applicationId: "pack-test" });
    expect(result.invoke).toEqual({ tenantId: "acme", applicationId: "pack-test" });
    expect(result.invokeSigned).toBe(true);
    // The lazily loaded SigV4 signer resolved from the installed dependencies.
    expect(result.spendRequests).toHaveLength(2);
    expect(result.spendRequests[0].authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/lambda\/aws4_request/);
    expect(result.refused).toEqual({ isBudgetExceeded: true, name: "BudgetExceededError", limit: "hard" });
  }, 300_000);
});
