/**
 * Builds the published package into dist/: src bundled by esbuild into one ESM file (the
 * dependency-free modules of @bedrock-spend/core and @bedrock-spend/store it imports are inlined; the AWS SDK stays
 * external), and the declarations emitted by tsc. Fails if anything in dist/ still names a
 * workspace-only package, since npm users could not resolve it.
 *
 * Run by `prepack` (so `pnpm pack` and `pnpm publish` always ship a fresh build) and `pnpm build`.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(packageDir, "dist");
const require = createRequire(join(packageDir, "package.json"));

await rm(dist, { recursive: true, force: true });

await build({
  entryPoints: [join(packageDir, "src/index.ts")],
  outfile: join(dist, "index.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  external: ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"],
  legalComments: "none",
  logLevel: "warning",
});

// rootDir is packages/ (the core modules the SDK imports are part of the program), so tsc writes
// sdk/src/*.d.ts and core/src/*.d.ts; only the SDK's are shipped.
const typesDir = await mkdtemp(join(tmpdir(), "bedrock-spend-sdk-types-"));
try {
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(packageDir, "tsconfig.build.json"), "--outDir", typesDir], {
    encoding: "utf8",
  });
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  await cp(join(typesDir, "sdk", "src"), dist, { recursive: true });
} finally {
  await rm(typesDir, { recursive: true, force: true });
}

// Node16/NodeNext resolution needs explicit extensions in relative specifiers of declarations.
const relativeSpecifier = /(from\s+|import\()(["'])(\.{1,2}\/[^"']+?)(\2)/g;
const problems = [];
for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = join(entry.parentPath, entry.name);
  let text = await readFile(file, "utf8");
  if (file.endsWith(".d.ts")) {
    text = text.replace(
      relativeSpecifier,
      (_match, head, quote, specifier) => `${head}${quote}${specifier.endsWith(".js") ? specifier : `${specifier}.js`}${quote}`,
    );
    await writeFile(file, text);
  }
  // Any package of the workspace but this one, or a workspace: protocol, would not resolve for npm users.
  const forbidden = /@bedrock-spend\/(?!sdk\b)[\w-]+|workspace:/.exec(text);
  if (forbidden) problems.push(`${relative(packageDir, file)} contains ${JSON.stringify(forbidden[0])}`);
}
if (problems.length > 0) throw new Error(`dist/ is not publishable:\n  ${problems.join("\n  ")}`);
