/**
 * The `bedrock-spend` CLI as users run it: a child process, real files, exit codes and streams.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { writeCurFiles } from "@bedrock-spend/bill";
import { defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap, type UsageRecord } from "@bedrock-spend/core";
import { APPLICATION_PROFILES, generateBill, generateTraffic } from "@bedrock-spend/traffic";
import { describe, expect, it } from "vitest";
import { cliCommand } from "./helpers/run-cli";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = join(root, "packages/core/test/fixtures");

/**
 * Runs the CLI. Asynchronous (not spawnSync), so that the test worker keeps answering vitest while
 * the command runs: a blocked worker misses vitest's RPC deadline on a loaded machine.
 */
function cli(args: string[], input?: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliCommand().args, ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...cliCommand().env, ...env },
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

  it("attributes a call through a tagged application profile by its tags, with the tag keys of --profile-tags, and names a bad key map", async () => {
    const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/t3n4ntpr0f1l";
    const profiles = tempFile(
      "profiles.json",
      JSON.stringify({ [arn]: { model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", tags: { tenant: "by-default", acct: "by-flag" } } }),
    );
    const logs = tempFile("profile.jsonl", `${record("p1", { modelId: arn, requestMetadata: {} })}\n`);
    const tagKeys = tempFile("tag-keys.json", JSON.stringify({ tenantId: ["acct"] }));
    const badKeys = tempFile("bad-keys.json", JSON.stringify({ tenantId: ["team"] }));

    const byDefault = await cli(["price", logs, "--profiles", profiles]);
    const byFlag = await cli(["price", logs, "--profiles", profiles, "--profile-tags", tagKeys]);
    const bad = await cli(["price", logs, "--profiles", profiles, "--profile-tags", badKeys]);

    expect(JSON.parse(byDefault.stdout)).toMatchObject({ tenantId: "by-default", status: "priced" });
    expect(JSON.parse(byFlag.stdout)).toMatchObject({ tenantId: "by-flag", status: "priced" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${badKeys}: key "team" is mapped to both tenantId and departmentId`);
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
    [["price", "x.jsonl", "--bogus"], "price: unknown option --bogus"],
    [["price", "x.jsonl", "--prices"], "--prices"],
    [["price", "x.jsonl", "--max-warnings", "many"], "--max-warnings must be a non-negative integer"],
    [["nope"], 'unknown command "nope"'],
    // A forged argument cannot colour the terminal or rewrite the line: its control characters are escaped
    [["no\u001b[31mpe\rX"], 'unknown command "no\\x1b[31mpe\\rX"'],
    [["price", "x.jsonl", "--a\nb\u001b[2J"], "price: unknown option --a\\nb\\x1b[2J\n"],
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
  it("--strict exits 3 when records were invalid or unpriced, after printing every line and the summary", async () => {
    const logs = tempFile("mixed.jsonl", `${record("ok")}\n{ not json\n`);
    const clean = tempFile("clean.jsonl", `${record("ok")}\n`);

    const strict = await cli(["price", logs, "--strict"]);
    const strictJson = await cli(["price", logs, "--strict", "--json"]);
    const lenient = await cli(["price", logs]);
    const cleanStrict = await cli(["price", clean, "--strict"]);

    expect(strict.code).toBe(3);
    expect(strict.stdout).toBe(lenient.stdout);
    expect(strict.stdout.trim().split("\n")).toHaveLength(2);
    expect(strict.stderr).toContain("read 2 records from 1 file: 1 priced, 0 unpriced, 1 invalid");
    expect(strict.stderr.trimEnd().split("\n").at(-1)).toBe("bedrock-spend: error: --strict: records were invalid or unpriced: 1 invalid, 0 unpriced");
    expect(lenient.code).toBe(0);
    expect(strictJson.code).toBe(3);
    const [summary, error] = strictJson.stderr
      .trimEnd()
      .split("\n")
      .slice(-2)
      .map((line) => JSON.parse(line));
    expect(summary).toMatchObject({ read: 2, priced: 1, invalid: 1 });
    expect(error).toEqual({ error: { code: "strict", exitCode: 3, message: "--strict: records were invalid or unpriced: 1 invalid, 0 unpriced" } });
    expect(cleanStrict).toMatchObject({ code: 0 });
  });
});

describe("bedrock-spend report (usage; the ranking itself is tested in local-commands.test.ts)", () => {
  it("answers an empty data dir with an empty ranking in the API's form, and names a bad option's value", async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-report-"));

    // Act
    const [empty, range, top, groupBy, stray, help] = await Promise.all([
      cli(["report", "--month", "2026-11", "--data-dir", dataDir, "--json"]),
      cli(["report", "--from", "2026-11-01", "--to", "2026-11-05", "--group-by", "model", "--data-dir", dataDir, "--json"]),
      cli(["report", "--month", "2026-11", "--top", "0", "--data-dir", dataDir]),
      cli(["report", "--month", "2026-11", "--group-by", "colour", "--data-dir", dataDir, "--json"]),
      cli(["report", "tenant", "--data-dir", dataDir]),
      cli(["report", "--help"]),
    ]);
    const [notKept, badSetting] = await Promise.all([
      cli(["report", "--month", "2026-11", "--group-by", "department", "--data-dir", dataDir]),
      cli(["report", "--month", "2026-11", "--group-by", "department", "--data-dir", dataDir], undefined, { BEDROCK_SPEND_BREAKDOWNS: "departmentId,dept" }),
    ]);

    // Assess
    expect(empty.code, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toStrictEqual({ period: "2026-11", groupBy: "tenant", groups: [], nextCursor: null, asOf: null });
    expect(JSON.parse(range.stdout)).toStrictEqual({ period: "2026-11-01/2026-11-05", groupBy: "model", groups: [], nextCursor: null, asOf: null });
    expect(top.code).toBe(2);
    expect(top.stderr.split("\n")[0]).toBe('bedrock-spend: error: --top: must be an integer from 1 to 1000, got "0"');
    expect(groupBy.code).toBe(2);
    expect(JSON.parse(groupBy.stderr).error).toMatchObject({ code: "usage", exitCode: 2 });
    expect(JSON.parse(groupBy.stderr).error.message).toMatch(/^--group-by: .*tenant, tenantGroup, department, application, user, model/);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('report: unexpected argument "tenant"');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--top N           the N groups of highest cost, 1-1000 (default 100)");
    // Local mode keeps the breakdowns BEDROCK_SPEND_BREAKDOWNS names (none by default), as a deployment does.
    expect(notKept.code).toBe(2);
    expect(notKept.stderr.split("\n")[0]).toBe(
      "bedrock-spend: error: --group-by: this deployment keeps no breakdown by departmentId (AGGREGATE_BREAKDOWNS lists none)",
    );
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr.split("\n")[0]).toBe(
      'bedrock-spend: error: BEDROCK_SPEND_BREAKDOWNS: unknown dimension "dept"; expected tenantId, tenantGroup, departmentId, userId, applicationId',
    );
  });
});

describe("bedrock-spend: the parser", () => {
  it("refuses an unknown option or command in one line, suggesting the closest one", async () => {
    const option = await cli(["price", "x.jsonl", "--price", "p.json"]);
    const command = await cli(["pric", "x.jsonl"]);
    const global = await cli(["--jsn"]);

    expect(option).toEqual({ code: 2, stdout: "", stderr: "bedrock-spend: error: price: unknown option --price (did you mean --prices?)\n" });
    expect(command.code).toBe(2);
    expect(command.stderr.split("\n")[0]).toBe('bedrock-spend: error: unknown command "pric" (did you mean price?)');
    expect(global).toMatchObject({ code: 2, stderr: "bedrock-spend: error: unknown option --jsn (did you mean --json?)\n" });
  });

  it("refuses an option whose value is missing or is the next option", async () => {
    const missing = await cli(["price", "x.jsonl", "--prices"]);
    const swallowed = await cli(["price", "x.jsonl", "--prices", "--max-warnings", "3"]);

    expect(missing).toMatchObject({ code: 2, stderr: "bedrock-spend: error: price: --prices needs a value\n" });
    expect(swallowed.code).toBe(2);
    expect(swallowed.stderr).toContain('price: --prices needs a value, got the option "--max-warnings"');
  });

  it('drops the "--" pnpm 12 passes on: before the command, and right after start (which takes no arguments)', async () => {
    const [version, start] = await Promise.all([cli(["--", "--version"]), cli(["start", "--", "--rate-x", "50"])]);

    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect(start).toMatchObject({ code: 2, stderr: "bedrock-spend: error: start: unknown option --rate-x (did you mean --rate?)\n" });
  });

  it("writes errors as one JSON object on stderr under --json, with the same exit codes", async () => {
    const usage = await cli(["price", "--json", "x.jsonl", "--bogus"]);
    const unreadable = await cli(["price", "/nonexistent/logs", "--json"]);
    const command = await cli(["--json", "pric"]);

    expect(usage).toMatchObject({ code: 2, stdout: "" });
    expect(JSON.parse(usage.stderr)).toEqual({ error: { code: "usage", exitCode: 2, message: "price: unknown option --bogus" } });
    expect(unreadable.code).toBe(2);
    expect(JSON.parse(unreadable.stderr)).toMatchObject({
      error: { code: "usage", exitCode: 2, message: expect.stringContaining("cannot read /nonexistent/logs") },
    });
    expect(JSON.parse(command.stderr)).toEqual({ error: { code: "usage", exitCode: 2, message: 'unknown command "pric" (did you mean price?)' } });
  });

  it("prints the version, the generated main help, and a command's help through help <command>", async () => {
    const version = JSON.parse(readFileSync(join(root, "packages/cli/package.json"), "utf8")).version;

    const [printed, short, help, viaHelp] = await Promise.all([cli(["--version"]), cli(["-V"]), cli(["--help"]), cli(["help", "price"])]);

    expect(printed).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect(short.stdout).toBe(`${version}\n`);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: bedrock-spend <command> \[options\]/);
    for (const option of ["--json", "--strict", "--version", "--help"]) expect(help.stdout).toContain(option);
    for (const command of [
      "start",
      "ingest",
      "spend",
      "query",
      "budgets",
      "alerts",
      "price",
      "prices",
      "reprice",
      "reconcile",
      "replay",
      "backfill",
      "redrive",
      "ranks",
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(viaHelp).toMatchObject({ code: 0, stdout: expect.stringContaining("Usage: bedrock-spend price <path>...") });
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

  const HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0";
  const negotiated = () =>
    tempFile(
      "negotiated.json",
      JSON.stringify({
        version: "acme-2026-10",
        currency: "USD",
        unit: "per_million_tokens",
        models: [
          {
            model: HAIKU_3,
            profile: "*",
            region: "*",
            effectiveFrom: "2026-10-01",
            effectiveTo: null,
            input: "0.20",
            output: "1.00",
            source: "https://example.com/acme-private-pricing-addendum",
            checked: "2026-10-01",
            confidence: "secondary",
          },
        ],
      }),
    );
  const haikuCall = (requestId: string, timestamp: string) =>
    record(requestId, { timestamp, modelId: HAIKU_3, input: { inputTokenCount: 1_000_000 }, output: { outputTokenCount: 1_000_000 } });

  it("takes an overlay with one dated entry whose start differs from the default's, and prices each date by the right one", async () => {
    // Arrange: the negotiated rate starts 2026-10-01; the shipped Claude 3 Haiku entry is open-ended since 2024
    const prices = negotiated();
    const logs = tempFile("haiku.jsonl", `${haikuCall("before", "2026-09-15T12:00:00Z")}\n${haikuCall("after", "2026-10-15T12:00:00Z")}\n`);

    // Act
    const check = await cli(["prices", "check", prices]);
    const priced = await cli(["price", logs, "--prices", prices, "--json"]);

    // Assess: the default's 0.25/1.25 before the date, the overlay's 0.20/1.00 from it
    expect(check).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: price catalog .+\+acme-2026-10/) });
    expect(priced.code).toBe(0);
    const costs = Object.fromEntries(
      priced.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((line) => line.requestId)
        .map((line) => [line.requestId, line.costUsd]),
    );
    expect(costs).toEqual({ before: "1.500000", after: "1.200000" });
  });

  it("explains which entry prices a call, from which file and why", async () => {
    const prices = negotiated();
    const after = await cli([
      "prices",
      "list",
      "--explain",
      "--model",
      HAIKU_3,
      "--profile",
      "us",
      "--region",
      "us-east-1",
      "--at",
      "2026-10-15",
      "--prices",
      prices,
    ]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`applies: ${prices} models[0]: profile *, region *, 2026-10-01 to open`);
    expect(after.stdout).toContain("rates: input 0.2, output 1");
    expect(after.stdout).toMatch(/why: the most specific selector in effect on 2026-10-15: any profile \(no entry in effect for profile us\), any region/);
    expect(after.stdout).toMatch(
      /defaults models\[\d+\]: profile \*, region \*, 2024-03-07 to 2026-10-01 \(declared 2024-03-07 to open; the rest is covered by a file laid over it\): an overlay covers 2026-10-15/,
    );

    const before = await cli(["prices", "list", "--explain", "--model", HAIKU_3, "--at", "2026-09-15T12:00:00Z", "--prices", prices, "--json"]);
    expect(before.code).toBe(0);
    const explanation = JSON.parse(before.stdout);
    expect(explanation.applies).toMatchObject({ origin: "defaults", effectiveFrom: "2024-03-07", effectiveTo: "2026-10-01", declared: { effectiveTo: null } });
    expect(explanation.considered).toContainEqual(
      expect.objectContaining({ origin: prices, path: "models[0]", reason: "not in effect on 2026-09-15 (2026-10-01 to open)" }),
    );
    expect(explanation.considered).toContainEqual(expect.objectContaining({ origin: "defaults", profile: "us-gov", reason: "profile us-gov is not none" }));

    const unknown = await cli(["prices", "list", "--explain", "--model", "acme.unknown-v1", "--at", "2026-10-15"]);
    expect(unknown).toMatchObject({ code: 1, stdout: expect.stringContaining("no price: acme.unknown-v1 is not in the catalog") });
    expect((await cli(["prices", "list", "--explain", "--model", HAIKU_3])).code).toBe(2);
  });

  it("uses a --prices-only file as the whole catalog", async () => {
    const prices = negotiated();
    const logs = tempFile("two.jsonl", `${haikuCall("haiku", "2026-10-15T12:00:00Z")}\n${record("nova", { modelId: "amazon.nova-lite-v1:0" })}\n`);
    const { code, stdout } = await cli(["price", logs, "--prices-only", prices, "--json"]);
    expect(code).toBe(0);
    const records = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((line) => line.requestId);
    expect(records.map((line) => [line.requestId, line.status, line.costUsd, line.priceVersion])).toEqual([
      ["haiku", "priced", "1.200000", "acme-2026-10"],
      ["nova", "unpriced", null, "acme-2026-10"],
    ]);
    expect(records[1].reason).toBe("model amazon.nova-lite-v1:0 is not in price catalog acme-2026-10");
    const list = JSON.parse((await cli(["prices", "list", "--prices-only", prices, "--json"])).stdout);
    expect(list.models).toHaveLength(1);
    expect(await cli(["prices", "list", "--prices", prices, "--prices-only", prices])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--prices and --prices-only are exclusive"),
    });
  });

  it("lists entries by confidence, and reports entries without a source, a checked date or a confidence", async () => {
    const primary = JSON.parse((await cli(["prices", "list", "--confidence", "primary", "--json"])).stdout);
    expect(primary.models.length).toBeGreaterThan(0);
    expect(primary.models.every((entry: { confidence: string }) => entry.confidence === "primary")).toBe(true);
    expect((await cli(["prices", "list", "--confidence", "certain"])).code).toBe(2);

    const unsourced = tempFile(
      "unsourced.json",
      JSON.stringify({
        version: "u",
        currency: "USD",
        unit: "per_million_tokens",
        models: [
          {
            model: "acme.m",
            profile: "*",
            region: "*",
            effectiveFrom: "2026-01-01",
            effectiveTo: null,
            input: "1",
            output: "2",
            source: "https://example.com/p",
          },
        ],
      }),
    );
    const check = await cli(["prices", "check", unsourced]);
    expect(check.code).toBe(0);
    expect(check.stderr).toContain(
      `note: 1 entry lacks a source, a checked date or a confidence:\n  ${unsourced}: models[0] (acme.m, profile *, region *, from 2026-01-01): no checked, no confidence`,
    );
    const json = JSON.parse((await cli(["prices", "check", unsourced, "--json"])).stdout);
    expect(json.withoutProvenance).toEqual([
      { origin: unsourced, path: "models[0]", entry: "acme.m, profile *, region *, from 2026-01-01", missing: ["checked", "confidence"] },
    ]);
    const shipped = await cli(["prices", "check", "--json"]);
    expect(JSON.parse(shipped.stdout)).toMatchObject({ valid: true, withoutSource: 0, withoutProvenance: [] });
  });
});

describe("bedrock-spend reconcile", () => {
  const NOVA_MICRO = "amazon.nova-micro-v1:0";
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });

  /** Two days of generated traffic as Bedrock's JSON Lines, and its bill with Nova Micro billed 10% above the catalog. */
  /** A bill and its logs over the same two days (the bill's last day open): `count` invocations. */
  async function billAndLogs(format: "parquet" | "csv.gz", count = 1500): Promise<{ cur: string; logs: string }> {
    const lines: string[] = [];
    const records: UsageRecord[] = [];
    // 1,500 invocations at 0.0125/s span 33 hours from midnight: the rate keeps that span for any count.
    const ratePerSecond = (0.0125 * count) / 1500;
    for (const item of generateTraffic({ seed: "reconcile-cli", count, start: "2026-11-10T00:00:00Z", ratePerSecond, bodyBytes: 32 })) {
      if (item.kind !== "record") continue;
      lines.push(JSON.stringify(item.record));
      const parsed = parseInvocationLog(item.record);
      if (parsed.ok) records.push(pricer.price(parsed.log).record);
    }
    const logs = tempFile("logs.jsonl", `${lines.join("\n")}\n`);
    writeFileSync(join(logs, "..", "profiles.json"), JSON.stringify(APPLICATION_PROFILES));
    const cur = join(mkdtempSync(join(tmpdir(), "bedrock-spend-cur-")), "export");
    await writeCurFiles(generateBill(records, pricer, { rateDrifts: [{ model: NOVA_MICRO, percent: 10 }], taxUsd: "1" }), cur, { format });
    return { cur, logs };
  }

  it("reports the drift per day, Region, model, class and tier as the issue spells it, and names a rate 10% higher", async () => {
    // Prepare
    const { cur, logs } = await billAndLogs("parquet");

    // Act
    const result = await cli(["reconcile", "--cur", cur, "--logs", logs, "--profiles", join(logs, "..", "profiles.json"), "--json"]);

    // Assess
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(["rows", "unmapped", "totals"]);
    expect(Object.keys(report.totals)).toEqual(["logCostUsd", "billCostUsd", "unmappedCostUsd", "netBillCostUsd", "driftUsd", "driftPct"]);
    expect(Object.keys(report.rows[0])).toEqual([
      "day",
      "region",
      "model",
      "tokenClass",
      "tier",
      "logTokens",
      "billTokens",
      "logCostUsd",
      "billCostUsd",
      "driftUsd",
      "driftPct",
      "likelyCause",
    ]);
    // Models the shipped map has no billing name for (embeddings, AI21) are listed, with their usage type.
    const unplaced = new Set(report.unmapped.map((line: { usageType: string }) => line.usageType.split("-").slice(1, -2).join("-")));
    for (const line of report.unmapped) expect(line.reason).toMatch(/^unknown billing model name/);
    for (const row of report.rows) {
      if (unplaced.has(row.model)) {
        expect(row.billTokens).toBe(0);
        continue;
      }
      expect(row.billTokens).toBe(row.logTokens);
      if (row.model === NOVA_MICRO) expect(row.likelyCause).toMatch(/^a rate different from the catalog/);
      else expect([row.driftUsd, row.likelyCause]).toEqual(["0.000000", null]);
    }
    expect(report.rows.some((row: { model: string }) => row.model === NOVA_MICRO)).toBe(true);
    // Tax counts nowhere: the net bill is the usage.
    expect(report.totals.netBillCostUsd).toBe(report.totals.billCostUsd);
  });

  // Four CLI processes, one of them the local stack (ingest): ~25 s alone, over 60 s beside the rest of the suite on 2 cores.
  it("reads the logs from a data dir's lake, the same as from the files, keeps the last report there, and prints a table", async () => {
    // Prepare: fewer invocations, since ingest runs them through DynamoDB Local (about 130 a second)
    const { cur, logs } = await billAndLogs("csv.gz", 400);
    const dataDir = mkdtempSync(join(tmpdir(), "bedrock-spend-reconcile-"));
    const profiles = join(logs, "..", "profiles.json");
    const ingest = await cli(["ingest", logs, "--data-dir", dataDir, "--profiles", profiles, "--json"]);
    expect(ingest.code).toBe(0);

    // Act
    const fromLake = await cli(["reconcile", "--cur", cur, "--data-dir", dataDir, "--profiles", profiles, "--json"]);
    const fromLogs = await cli(["reconcile", "--cur", cur, "--logs", logs, "--profiles", profiles, "--json"]);
    const text = await cli(["reconcile", "--cur", cur, "--data-dir", dataDir, "--profiles", profiles]);

    // Assess
    expect(fromLake.code).toBe(0);
    expect(JSON.parse(fromLake.stdout)).toEqual(JSON.parse(fromLogs.stdout));
    const kept = JSON.parse(readFileSync(join(dataDir, "reconcile", "last.json"), "utf8"));
    expect(kept).toMatchObject({ ...JSON.parse(fromLake.stdout), cur: [cur] });
    // With the days the bill had finished: every day but its last (CUR lags up to a day).
    const days = [...new Set(JSON.parse(fromLake.stdout).rows.map((row: { day: string }) => row.day))].sort();
    expect(kept.days.map((day: { day: string; complete: boolean }) => [day.day, day.complete])).toEqual(
      days.map((day, index) => [day, index < days.length - 1]),
    );
    expect(kept.lastCompleteDay).toBe(days.at(-2));
    expect(text.stdout).toMatch(/^day +region +model +class +tier +log tokens +bill tokens +log USD +bill USD +drift USD +drift % +likely cause$/m);
    expect(text.stdout).toMatch(/a rate different from the catalog/);
    expect(text.stdout).toMatch(
      /^unmapped: USE1-amazon\.titan-embed-text-v2:0-input-tokens \(Amazon Bedrock\): [\d.]+ USD, [\d.]+ 1K tokens: unknown billing model name/m,
    );
    expect(text.stdout).toMatch(
      /rows agree; [\d,]+ line items read\. logs [\d.]+ USD, bill [\d.]+ USD \(unmapped [\d.]+\), drift -?[\d.]+ USD \(-?[\d.]+%\); net bill [\d.]+ USD\n$/,
    );
  }, 120_000);

  it("learns the bill's rates as a price file: prices suggest writes Nova Micro 10% above the catalog, and the file checks", async () => {
    // Prepare
    const { cur } = await billAndLogs("parquet");

    // Act
    const suggested = await cli(["prices", "suggest", "--cur", cur]);
    const file = tempFile("suggested.json", suggested.stdout);
    const check = await cli(["prices", "check", file, "--json"]);

    // Assess
    expect(suggested.code).toBe(0);
    const overlay = JSON.parse(suggested.stdout);
    expect(overlay.models.map((entry: { model: string }) => entry.model)).toEqual([NOVA_MICRO]);
    expect(overlay.models[0]).toMatchObject({
      profile: "none",
      region: "us-east-1",
      input: "0.0385",
      output: "0.154",
      source: "CUR 2026-11",
      confidence: "bill",
    });
    expect(suggested.stderr).toMatch(/^1 entry where the bill \(2026-11\) disagrees with the catalog /);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ valid: true, withoutProvenance: [expect.objectContaining({ missing: ["checked"] })] });
  });

  it("refuses a missing bill, a bad day and both log sources, naming the option", async () => {
    // Act
    const results = await Promise.all([
      cli(["reconcile", "--logs", "x.jsonl"]),
      cli(["reconcile", "--cur", "x", "--from", "2026-13-01"]),
      cli(["reconcile", "--cur", "x", "--logs", "y", "--data-dir", "z"]),
      cli(["reconcile", "--cur", join(fixtures, "does-not-exist")]),
      cli(["reconcile", "--stage", "prod", "--cur", "x"]),
      cli(["reconcile", "--cur", "x", "--region", "eu-west-1"]),
    ]);

    // Assess
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(results[4]?.stderr).toMatch(/--cur is not for --stage: the stage reconciles its own CUR export and lake/);
    expect(results[5]?.stderr).toMatch(/--region is for a deployed stage \(--stage\)/);
    expect(results[0]?.stderr).toMatch(/give the bill with --cur/);
    expect(results[1]?.stderr).toMatch(/--from must be a UTC day YYYY-MM-DD, got "2026-13-01"/);
    expect(results[2]?.stderr).toMatch(/--logs and --data-dir are exclusive/);
    expect(results[3]?.stderr).toMatch(/does-not-exist: no such file or directory/);
  });
});
