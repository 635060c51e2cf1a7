/**
 * The bundled CLI (scripts/build-cli.mjs, `pnpm build:cli`): built here from the sources, into a
 * directory of its own under packages/cli/dist (so that it resolves DuckDB from the repository's
 * node_modules as packages/cli/dist/bedrock-spend.mjs does), it is one file that needs only Node's
 * built-in modules to start, and behaves as the sources do.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIN_HELP } from "../src/main";
import { CLI_FROM_SOURCE } from "./helpers/run-cli";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const SAMPLE = join(root, "samples/logs/kinesis/records.b64");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` from the repository root, asynchronously (the worker keeps answering vitest). */
function node(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let bundle: string;
const bundled = (args: string[]) => node([bundle, ...args]);
const fromSource = (args: string[]) => node([...CLI_FROM_SOURCE, ...args]);

beforeAll(async () => {
  mkdirSync(join(root, "packages/cli/dist"), { recursive: true });
  dir = mkdtempSync(join(root, "packages/cli/dist/test-"));
  bundle = join(dir, "bedrock-spend.mjs");
  const built = await node([join(root, "scripts/build-cli.mjs"), bundle]);
  expect(built, built.stderr).toMatchObject({ code: 0 });
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the bundled CLI", () => {
  it("is one file that imports nothing but Node's built-in modules when it starts", () => {
    const text = readFileSync(bundle, "utf8");
    // The bundle and its help index (what --help and --version print, for the bin).
    expect(readdirSync(dir).sort()).toEqual(["bedrock-spend.help.json", "bedrock-spend.mjs"]);
    expect(text.slice(0, 20)).toBe("#!/usr/bin/env node\n");
    // Static import statements, at the start of a line or after a ";" (minified), not words in messages
    const imported = [...text.matchAll(/(?:^|;)\s*import\s*(?:[\w$]*\s*,?\s*(?:\{[^}]*\}|\*\s*as\s+[\w$]+)?\s*from\s*)?["']([^"']+)["']/gm)].map(
      (match) => match[1],
    );
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((specifier) => !specifier?.startsWith("node:"))).toEqual([]);
    // DuckDB (a native addon) stays outside, required only by the commands that use it
    expect(/\brequire\("@duckdb\/node-api"\)|\b[\w$]+\("@duckdb\/node-api"\)/.test(text)).toBe(true);
  });

  it("prints the version and the main help, and refuses an unknown command with a suggestion", async () => {
    const version = JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8")).version;

    const [printed, help, unknown] = await Promise.all([bundled(["--version"]), bundled(["--help"]), bundled(["pric", "x"])]);

    expect(printed).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect(help).toEqual({ code: 0, stdout: `${MAIN_HELP}\n`, stderr: "" });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe('bedrock-spend: error: unknown command "pric" (did you mean price?)');
  });

  it("prices a sample exactly as the sources do, and --strict exits 3 on its unpriced records", async () => {
    const [fromBundle, fromSources, strict] = await Promise.all([
      bundled(["price", SAMPLE, "--json"]),
      fromSource(["price", SAMPLE, "--json"]),
      bundled(["price", SAMPLE, "--strict"]),
    ]);

    expect(fromBundle.code).toBe(0);
    expect(fromBundle.stdout.split("\n").length).toBeGreaterThan(100);
    expect(fromBundle).toEqual(fromSources);
    expect(strict.code).toBe(3);
    expect(strict.stdout).toBe(fromBundle.stdout);
  });

  it("loads DuckDB from the repository when a command queries the lake", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-bundle-"));
    try {
      const result = await bundled(["query", "SELECT 1 + 1 AS two", "--data-dir", dataDir, "--json"]);
      expect(result, result.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(result.stdout)).toMatchObject({ rows: [{ two: 2 }] });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("is left for the sources, run in the bin's own process, with BEDROCK_SPEND_FROM_SOURCE=1", async () => {
    // The bin with the sources: no child process (tsx's command would run the CLI in one, and kill
    // it 30 ms after relaying a Ctrl-C it did not see acknowledged).
    const child = spawn(process.execPath, [join(root, "packages/cli/bin/bedrock-spend.mjs"), "price", "-"], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, BEDROCK_SPEND_FROM_SOURCE: "1" },
    });
    try {
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
      // Idle (its CPU time still over 250 ms), waiting for its standard input: loaded by then.
      const cpu = () => readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ").slice(11, 13).join(" ");
      for (let attempt = 0, last = ""; attempt < 240; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const now = cpu() ?? "";
        if (attempt > 1 && now === last) break;
        last = now;
      }
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim();
      child.stdin.end(readFileSync(SAMPLE));
      const code = await closed;

      expect(children).toBe("");
      expect(code, stderr).toBe(0);
      expect(stdout.split("\n").length).toBeGreaterThan(100);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("the bin with a bundle (a checkout's layout: bin, dist, the sources)", () => {
  let checkout: string;
  let bin: (args: string[]) => Promise<Run>;
  let copy: string;

  beforeAll(() => {
    checkout = join(dir, "checkout");
    mkdirSync(join(checkout, "packages/cli/bin"), { recursive: true });
    mkdirSync(join(checkout, "packages/cli/dist"), { recursive: true });
    cpSync(join(root, "packages/cli/bin/bedrock-spend.mjs"), join(checkout, "packages/cli/bin/bedrock-spend.mjs"));
    copy = join(checkout, "packages/cli/dist/bedrock-spend.mjs");
    // The index names the bundle's size and time: the copy keeps both.
    cpSync(bundle, copy, { preserveTimestamps: true });
    cpSync(bundle.replace(/\.mjs$/, ".help.json"), copy.replace(/\.mjs$/, ".help.json"));
    symlinkSync(join(root, "packages/cli/src"), join(checkout, "packages/cli/src"));
    symlinkSync(join(root, "node_modules"), join(checkout, "node_modules"));
    bin = (args) => node([join(checkout, "packages/cli/bin/bedrock-spend.mjs"), ...args]);
  });

  it("prints help and the version from the help index, exactly as the bundle prints them", async () => {
    const cases = [["--help"], ["--version"], ["report", "--help"], ["help", "price"], ["-h"]];
    const [fromBin, fromBundle] = await Promise.all([Promise.all(cases.map(bin)), Promise.all(cases.map(bundled))]);
    for (const [index, args] of cases.entries()) expect(fromBin[index], args.join(" ")).toStrictEqual(fromBundle[index]);
    expect(fromBin[2]?.stdout).toContain("--top N");
  });

  it("answers from the index only while it matches the bundle", async () => {
    // Prepare: an index whose --version says where it came from.
    const indexPath = copy.replace(/\.mjs$/, ".help.json");
    const index = JSON.parse(readFileSync(indexPath, "utf8")) as { outputs: Record<string, string> };
    index.outputs["--version"] = "from the index\n";
    writeFileSync(indexPath, JSON.stringify(index));

    // Act
    const indexed = await bin(["--version"]);
    // Another modification time than the one the index names (a fixed one: no test reads the clock).
    const other = new Date("2031-01-01T00:00:00Z");
    utimesSync(copy, other, other);
    const changed = await bin(["--version"]);

    // Assess
    expect(indexed.stdout).toBe("from the index\n");
    expect(changed.stdout).toBe(`${JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8")).version}\n`);
  });

  it("runs the sources, and says so, when a source file is newer than the bundle", async () => {
    // Prepare: a bundle newer than every source, then one source file newer than the bundle
    // (fixed times, far ahead of any real file's).
    const built = new Date("2100-01-01T00:00:00Z");
    const edited = new Date("2100-01-02T00:00:00Z");
    utimesSync(copy, built, built);
    const fresh = await bin(["--version"]);
    mkdirSync(join(checkout, "packages/edited/src"), { recursive: true });
    writeFileSync(join(checkout, "packages/edited/src/new.ts"), "export {};\n");
    utimesSync(join(checkout, "packages/edited/src/new.ts"), edited, edited);

    // Act
    const result = await bin(["--version"]);

    // Assess
    expect(fresh.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "bedrock-spend: packages/cli/dist/bedrock-spend.mjs is older than the sources: running the sources (pnpm build:cli rebuilds it)\n",
    );
    expect(result.stdout).toBe(`${JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8")).version}\n`);
  });
});
