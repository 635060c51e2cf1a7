/**
 * The `bedrock-spend` CLI as users run it: a child process, real files, exit codes and streams.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = join(root, "packages/core/test/fixtures");

/**
 * Runs the CLI. Asynchronous (not spawnSync), so that the test worker keeps answering vitest while
 * the command runs: a blocked worker misses vitest's RPC deadline on a loaded machine.
 */
function cli(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "packages/cli/src/main.ts"), ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
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
    child.stdin.end(input ?? "");
  });
}

function tempFile(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), "bedrock-spend-cli-")), name);
  writeFileSync(path, content);
  return path;
}

const record = (requestId: string, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaType: "ModelInvocationLog",
    schemaVersion: "1.0",
    timestamp: "2026-11-27T10:00:00Z",
    accountId: "123456789012",
    region: "us-east-1",
    requestId,
    operation: "Converse",
    modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: { tenantId: "acme", departmentId: "sales" },
    input: { inputTokenCount: 120 },
    output: { outputTokenCount: 40 },
    ...overrides,
  });

describe("bedrock-spend price", () => {
  it("prints one line per invocation in input order, exact costs, and a summary that adds up", async () => {
    // Prepare: valid, malformed, unpriced and skipped input, overlaid prices
    const logs = tempFile(
      "mixed.jsonl",
      [
        record("a"),
        record("b", { input: { inputTokenCount: -3 } }),
        "Permissions are correctly set for Amazon Bedrock logs.",
        record("c", { modelId: "acme.unknown-v1:0" }),
        record("d", { modelId: "us.anthropic.claude-haiku-4-5-20251001-v1:0" }),
      ].join("\n"),
    );
    const prices = tempFile(
      "prices.json",
      JSON.stringify({
        version: "acme-1",
        currency: "USD",
        unit: "per_million_tokens",
        models: [{ model: "acme.unknown-v1:0", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "2.00", output: "4.00" }],
      }),
    );

    // Act
    const { code, stdout, stderr } = await cli(["price", logs, "--prices", prices, "--json"]);

    // Assess
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.requestId, line.status, line.costUsd])).toEqual([
      ["a", "priced", "0.000320"],
      ["b", "invalid", null],
      ["c", "priced", "0.000400"],
      ["d", "priced", "0.000352"],
    ]);
    expect(lines[0]).toEqual({
      requestId: "a",
      timestamp: "2026-11-27T10:00:00Z",
      tenantId: "acme",
      departmentId: "sales",
      userId: null,
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "global",
      region: "us-east-1",
      operation: "Converse",
      inputTokens: 120,
      outputTokens: 40,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "0.000320",
      priceVersion: expect.stringMatching(/\+acme-1$/),
      status: "priced",
    });
    expect(lines[1].reason).toBe(`input.inputTokenCount: must be a non-negative integer, got -3 (at ${logs}:2)`);
    expect(stderr).toContain(`warning: ${logs}:2: invalid record: input.inputTokenCount`);
    const summary = JSON.parse(stderr.trim().split("\n").at(-1) ?? "{}");
    expect(summary).toMatchObject({ files: 1, read: 5, priced: 3, unpriced: 0, invalid: 1, skipped: 1, costUsd: "0.001072" });
    expect(summary.priced + summary.unpriced + summary.invalid + summary.skipped).toBe(summary.read);
  });

  it("reads the whole fixture corpus recursively without crashing, and its summary adds up", async () => {
    const { code, stdout, stderr } = await cli([
      "price",
      join(fixtures, "valid"),
      join(fixtures, "malformed"),
      "--profiles",
      join(fixtures, "profiles.json"),
      "--json",
    ]);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const summary = JSON.parse(stderr.trim().split("\n").at(-1) ?? "{}");
    expect(summary.read).toBe(lines.length + summary.skipped);
    expect(summary.priced + summary.unpriced + summary.invalid + summary.skipped).toBe(summary.read);
    expect(summary.invalid).toBeGreaterThanOrEqual(30);
    for (const line of lines.filter((line) => line.status === "invalid")) expect(line.reason).toMatch(/^[A-Za-z[\].0-9]+: .+ \(at .+\)$/);
    expect(lines.filter((line) => line.status === "priced").every((line) => /^\d+\.\d{6,}$/.test(line.costUsd))).toBe(true);
  });

  it("reads standard input and gzip detected by content", async () => {
    const gz = tempFile("no-extension", gzipSync(`${record("g1")}\n${record("g2")}\n`));
    const fromFile = await cli(["price", gz]);
    const fromStdin = await cli(["price", "-"], `${record("s1")}\n`);
    expect(
      fromFile.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).requestId),
    ).toEqual(["g1", "g2"]);
    expect(JSON.parse(fromStdin.stdout).requestId).toBe("s1");
    expect(fromStdin.stderr).toContain("read 1 records from 1 file: 1 priced");
  });

  it.each([
    [["price"], "price: no input paths given"],
    [["price", "/nonexistent/logs"], "cannot read /nonexistent/logs: no such file or directory"],
    [["price", "x.jsonl", "--bogus"], "Unknown option '--bogus'"],
    [["price", "x.jsonl", "--prices"], "--prices"],
    [["price", "x.jsonl", "--max-warnings", "many"], "--max-warnings must be a non-negative integer"],
    [["nope"], 'unknown command "nope"'],
  ])("exits 2 for %j and says what was wrong", async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it("exits 2 for a price file that is not usable, naming the file and the entry", async () => {
    const perThousand = tempFile("per-1k.json", JSON.stringify({ version: "x", currency: "USD", unit: "per_thousand_tokens", models: [] }));
    const negative = tempFile(
      "negative.json",
      JSON.stringify({
        version: "x",
        currency: "USD",
        unit: "per_million_tokens",
        models: [{ model: "m.x", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "-1", output: "1" }],
      }),
    );
    const notJson = tempFile("broken.json", "{ nope");
    const logs = tempFile("one.jsonl", record("a"));
    expect(await cli(["price", logs, "--prices", perThousand])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${perThousand}: unit: must be "per_million_tokens"`),
    });
    expect(await cli(["price", logs, "--prices", negative])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${negative}: models[0].input (m.x, profile *, region *, from 2026-01-01): must not be negative`),
    });
    expect(await cli(["price", logs, "--prices", notJson])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`price file ${notJson} is not valid JSON`),
    });
  });

  it("prints help and exits 0", async () => {
    const { code, stdout } = await cli(["price", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: bedrock-spend price <path>...");
  });
});

describe("bedrock-spend prices", () => {
  it("lists the effective catalog with an overlay applied", async () => {
    // Prepare: replace the default global Haiku 4.5 entry (same model, profile, region, effectiveFrom)
    const defaults = JSON.parse(readFileSync(join(root, "packages/core/src/catalog/defaults.json"), "utf8"));
    const haiku = defaults.models.find(
      (entry: { model: string; profile: string }) => entry.model === "anthropic.claude-haiku-4-5-20251001-v1:0" && entry.profile === "global",
    );
    const overlay = tempFile(
      "overlay.json",
      JSON.stringify({ version: "acme-negotiated", currency: "USD", unit: "per_million_tokens", models: [{ ...haiku, input: "0.80" }] }),
    );
    const { code, stdout } = await cli(["prices", "list", "--prices", overlay, "--json"]);
    expect(code).toBe(0);
    const catalog = JSON.parse(stdout);
    expect(catalog.unit).toBe("per_million_tokens");
    expect(catalog.version).toMatch(/\+acme-negotiated$/);
    expect(catalog.models).toHaveLength(defaults.models.length);
    expect(catalog.models.filter((entry: { model: string; input: string }) => entry.model === haiku.model && entry.input === "0.80")).toHaveLength(1);
    expect(new Set(catalog.models.map((entry: { model: string }) => entry.model)).size).toBeGreaterThanOrEqual(40);
  });

  it("filters the table by model", async () => {
    const { code, stdout } = await cli(["prices", "list", "--model", "nova-micro"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^model\s+profile\s+region/);
    expect(stdout).toContain("amazon.nova-micro-v1:0");
    expect(stdout).not.toContain("anthropic.");
  });

  it("checks a valid file and exits 0, an invalid one and exits 2 listing every problem", async () => {
    const bad = tempFile(
      "bad.json",
      JSON.stringify({
        version: "x",
        currency: "USD",
        unit: "per_million_tokens",
        models: [
          { model: "m.a", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "1.0.0", output: "1" },
          { model: "m.b", profile: "*", region: "*", effectiveFrom: "2026-01-01", effectiveTo: null, input: "1", output: "1" },
          { model: "m.b", profile: "*", region: "*", effectiveFrom: "2026-06-01", effectiveTo: null, input: "1", output: "1" },
        ],
      }),
    );
    expect(await cli(["prices", "check"])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: price catalog .+: \d+ entries for \d+ models/) });
    const result = await cli(["prices", "check", bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("invalid price catalog (2 problems)");
    expect(result.stderr).toContain("models[0].input (m.a, profile *, region *, from 2026-01-01)");
    expect(result.stderr).toContain("effective range overlaps");
  });

  it("exits 2 without an action", async () => {
    expect((await cli(["prices"])).code).toBe(2);
  });
});
