/**
 * The local-mode commands as users run them: spawned CLI processes on temporary data dirs, real
 * DynamoDB Local, kinesalite, DuckDB and Parquet. Ingesting the shipped samples twice (and with
 * chaos) gives the spend the `price` command's own output implies; commands share a running
 * `start`; bad arguments, unreadable inputs and an empty data dir give clear errors and the
 * documented exit codes; `start` serves the dashboard and the spend API, stops cleanly and
 * leaves no JVM behind.
 *
 * Every process runs on a pinned clock (BEDROCK_SPEND_NOW): the samples' day, 2026-11-27, unless a
 * test sets another instant (the edges of months).
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatUsd, parseUsd, type Spend } from "@bedrock-spend/core";
import { afterAll, describe, expect, it } from "vitest";
import { shellLines, shellWords } from "../../../test/helpers/shell-words";
import { killTree, spawnTracked } from "../../../test/helpers/spawned";
import { cliCommand, runCli } from "./helpers/run-cli";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const SAMPLES = join(root, "samples/logs");
const PROFILES = join(root, "samples/profiles.json");
/** The clock of the spawned commands: the day the shipped samples were logged. */
const SAMPLES_NOW = "2026-11-27T12:00:00Z";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (asynchronously, so that independent commands can run side by side), its clock at `now`. */
function cli(args: string[], now: string = SAMPLES_NOW, env: Record<string, string> = {}): Promise<Result> {
  return runCli(args, now, env);
}

/** Runs `tasks` at most `limit` at a time (each CLI process compiles the CLI: a burst of them starves a 2-core machine). */
async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Runs the CLI and parses its stdout as one JSON value, after checking the exit code. */
async function cliJson<T = Record<string, unknown>>(args: string[], code = 0): Promise<T> {
  const result = await cli([...args, "--json"]);
  expect(result.code, `${args.join(" ")}\n${result.stderr}`).toBe(code);
  return JSON.parse(result.stdout) as T;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "bedrock-spend-cli-local-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** DynamoDB Local processes whose command line names this data dir. */
function javaOf(dataDir: string): string[] {
  try {
    return execFileSync("pgrep", ["-af", "DynamoDBLocal"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(dataDir));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The truth from `price`: each tenant's November spend over the distinct request ids of the samples. */
async function priceTruth(): Promise<{ spends: Map<string, Spend>; invocations: number }> {
  const result = await cli(["price", SAMPLES, "--profiles", PROFILES]);
  expect(result.code).toBe(0);
  const seen = new Set<string>();
  const pico = new Map<string, bigint>();
  const spends = new Map<string, Spend>();
  for (const line of result.stdout.trim().split("\n")) {
    const priced = JSON.parse(line);
    if (priced.status === "invalid" || seen.has(priced.requestId)) continue;
    seen.add(priced.requestId);
    const spend = spends.get(priced.tenantId) ?? {
      tenantId: priced.tenantId,
      period: priced.timestamp.slice(0, 7),
      invocations: 0,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "",
      budget: null,
    };
    spend.invocations++;
    if (priced.status === "unpriced") spend.unpricedInvocations++;
    spend.inputTokens += priced.inputTokens;
    spend.outputTokens += priced.outputTokens;
    spend.cacheReadTokens += priced.cacheReadTokens;
    spend.cacheWriteTokens += priced.cacheWriteTokens;
    const cost = (pico.get(priced.tenantId) ?? 0n) + (priced.costUsd === null ? 0n : (parseUsd(priced.costUsd) as bigint));
    pico.set(priced.tenantId, cost);
    spend.costUsd = formatUsd(cost);
    spends.set(priced.tenantId, spend);
  }
  return { spends, invocations: seen.size };
}

/** The tenants of the truth, biggest spend first. */
function topTenants(truth: Map<string, Spend>, count: number): Spend[] {
  return [...truth.values()].sort((a, b) => Number((parseUsd(b.costUsd) ?? 0n) - (parseUsd(a.costUsd) ?? 0n))).slice(0, count);
}

const truthPromise = priceTruth();

/** A spend answer without what the truth cannot know: when the aggregates were updated and the month-end forecast (checked to be there). */
function counted(spend: Spend): Spend {
  const { asOf, forecast, ...rest } = spend as Spend & { asOf?: unknown; forecast?: unknown };
  expect(asOf === null || typeof asOf === "string", "asOf").toBe(true);
  expect(forecast === null || typeof forecast === "object", "forecast").toBe(true);
  return rest as Spend;
}

describe("bedrock-spend local commands: arguments, unreadable inputs, an empty data dir", () => {
  it("name the bad argument and exit 2, without starting anything", async () => {
    // Prepare
    const dataDir = join(tempDir(), "never-created");
    const badPrices = join(tempDir(), "prices.json");
    writeFileSync(badPrices, "{ not json");
    const cases: [string[], RegExp][] = [
      [["spend", "--data-dir", dataDir], /--tenant is required/],
      [["spend", "--tenant", "acme", "--month", "2026-13", "--data-dir", dataDir], /--month must be a UTC calendar month YYYY-MM, got "2026-13"/],
      [["spend", "--tenant", "acme", "--day", "2026-02-30", "--data-dir", dataDir], /--day must be a UTC calendar day/],
      [["spend", "--tenant", "acme", "--month", "2026-11", "--day", "2026-11-02", "--data-dir", dataDir], /either --month or --day/],
      [
        ["spend", "--tenant", "acme", "--by", "tenant", "--data-dir", dataDir],
        /--by must be one of model, day, tenantGroup, department, application, user, got "tenant"/,
      ],
      [["spend", "--tenant", "acme", "--colour", "red", "--data-dir", dataDir], /--colour/],
      [["spend", "--tenant", "acme", "--region", "eu-west-1", "--data-dir", dataDir], /--region is for a deployed stage \(--stage\)/],
      [["ingest", join(dataDir, "missing.json.gz"), "--data-dir", dataDir], /cannot read .*missing\.json\.gz: no such file or directory/],
      [["ingest", "--data-dir", dataDir], /no input paths given/],
      [["ingest", SAMPLES, "--chaos", "1.5", "--data-dir", dataDir], /--chaos must be a rate between 0 and 1/],
      [["ingest", SAMPLES, "--prices", badPrices, "--data-dir", dataDir], /prices\.json is not valid JSON/],
      [["query", "SELEC tenant_id FROM invocations", "--data-dir", dataDir], /Parser Error: syntax error at or near "SELEC"/],
      [["query", "SELECT nope FROM invocations", "--data-dir", dataDir], /Binder Error: .*nope/],
      [["query", "DELETE FROM invocations", "--data-dir", dataDir], /read-only/],
      [["query", "--data-dir", dataDir], /give the SQL as one argument/],
      [["budgets", "set", "--tenant", "acme", "--monthly-usd", "0", "--data-dir", dataDir], /--monthly-usd: monthlyUsd must be a positive decimal amount/],
      [["budgets", "set", "--tenant", "acme", "--monthly-usd", "10", "--thresholds", "50,x", "--data-dir", dataDir], /--thresholds must be comma-separated/],
      [["budgets", "set", "--monthly-usd", "10", "--data-dir", dataDir], /--tenant is required/],
      [["budgets", "frobnicate", "--data-dir", dataDir], /unknown action "frobnicate"/],
      [["alerts", "--month", "11-2026", "--data-dir", dataDir], /--month must be a UTC calendar month/],
      [["start", "--port", "70000", "--data-dir", dataDir], /--port must be an integer from 0 to 65535/],
      [["start", "--rate", "0", "--data-dir", dataDir], /--rate must be a number above 0/],
      [["start", "--duration", "soon", "--data-dir", dataDir], /--duration must be a number above 0/],
    ];

    // Act
    const results = await limited(
      3,
      cases.map(
        ([args]) =>
          () =>
            cli(args),
      ),
    );

    // Assess
    results.forEach((result, index) => {
      const [args, message] = cases[index] as [string[], RegExp];
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(message);
    });
    expect(existsSync(dataDir)).toBe(false);
  }, 180_000); // 22 CLI processes, 3 at a time: 35-52 s alone, over 60 s when the machine is busy

  it("answer clearly and exit 0 on an empty data dir, and every command has --help", async () => {
    // Prepare
    const dataDir = join(tempDir(), "empty");

    // Act
    const [spend, spendText, alerts, query, budgets, ranks, ...helps] = (await limited(3, [
      () => cli(["spend", "--tenant", "acme", "--month", "2026-11", "--data-dir", dataDir, "--json"]),
      () => cli(["spend", "--tenant", "acme", "--data-dir", dataDir]),
      () => cli(["alerts", "--data-dir", dataDir, "--json"]),
      () => cli(["query", "SELECT count(*) AS invocations FROM invocations", "--data-dir", dataDir]),
      () => cli(["budgets", "list", "--data-dir", dataDir]),
      () => cli(["ranks", "status", "--data-dir", dataDir, "--json"]),
      ...["start", "ingest", "spend", "query", "budgets", "alerts", "ranks"].map((command) => () => cli([command, "--help"])),
    ])) as [Result, Result, Result, Result, Result, Result, ...Result[]];

    // Assess
    expect(spend.code).toBe(0);
    expect(JSON.parse(spend.stdout)).toEqual({
      tenantId: "acme",
      period: "2026-11",
      invocations: 0,
      unpricedInvocations: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: "0.000000",
      budget: null,
    });
    expect(spend.stderr).toMatch(/no usage or budget is recorded for tenant "acme"/);
    expect(spendText).toMatchObject({ code: 0, stdout: expect.stringMatching(/^tenant acme, month 2026-11\n {2}cost +0\.000000 USD/) });
    expect(alerts).toMatchObject({ code: 0, stdout: "[]\n" });
    expect(query).toMatchObject({ code: 0, stdout: "invocations\n          0\n(1 row)\n" });
    expect(query.stderr).toMatch(/the lake of .* is empty/);
    expect(budgets).toMatchObject({ code: 0, stdout: expect.stringMatching(/^no budgets set in /) });
    expect(ranks).toMatchObject({ code: 0, stdout: `${JSON.stringify({ since: null, month: "2026-11", complete: false })}\n` });
    for (const help of helps) expect(help).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: bedrock-spend \w+/) });
    expect(existsSync(dataDir)).toBe(false);
  });

  it("take the current month from the clock, at the edges of months too, and refuse a clock that is not an instant", async () => {
    // Prepare
    const dataDir = join(tempDir(), "clock");
    const periodAt = async (now: string) => {
      const result = await cli(["spend", "--tenant", "acme", "--data-dir", dataDir, "--json"], now);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as Spend).period;
    };

    // Act
    const periods = await limited(2, [
      () => periodAt("2026-12-31T23:59:59Z"),
      () => periodAt("2027-01-01T00:00:00Z"),
      () => periodAt("2028-02-29T23:59:59Z"),
      () => periodAt("2028-03-01T00:00:00+00:00"),
      () => periodAt("2028-03-01T00:30:00+01:00"),
    ]);
    const bad = await cli(["spend", "--tenant", "acme", "--data-dir", dataDir], "2026-11-27");

    // Assess
    expect(periods).toEqual(["2026-12", "2027-01", "2028-02", "2028-03", "2028-02"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/BEDROCK_SPEND_NOW must be an ISO 8601 instant with a time zone, e.g. 2026-11-27T12:00:00Z; got "2026-11-27"/);
  });
});

describe("the README's Local mode commands", () => {
  it("run as written, in order, on a fresh data dir: each exits 0", async () => {
    // Prepare: the block's lines but `pnpm start` (its own tests run it), <id> the samples' costliest tenant.
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Local mode"), readme.indexOf("\n## ", readme.indexOf("\n## Local mode") + 1));
    const { spends } = await truthPromise;
    const [top] = topTenants(spends, 1) as [Spend];
    const commands = shellLines(section)
      .map((line) => shellWords(line))
      .filter((words) => words[0] === "pnpm" && words[1] === "bedrock-spend")
      .map((words) => words.slice(2).map((word) => word.replace("<id>", top.tenantId)));
    expect(commands.map((argv) => argv[0])).toStrictEqual(["ingest", "spend", "report", "query", "budgets", "alerts"]);
    const dataDir = tempDir();

    // The monthly departments too (as BEDROCK_SPEND_BREAKDOWNS deploys them), for a ranking by department.
    const env = { BEDROCK_SPEND_BREAKDOWNS: "departmentId" };

    // Act
    const results: Result[] = [];
    for (const argv of commands) results.push(await cli([...argv, "--data-dir", dataDir], SAMPLES_NOW, env));
    const departments = await cli(["report", "--month", top.period, "--group-by", "department", "--data-dir", dataDir, "--json"], SAMPLES_NOW, env);

    // Assess
    for (const [index, result] of results.entries()) expect(result.code, `${commands[index]?.join(" ")}\n${result.stderr}`).toBe(0);
    expect(JSON.parse(results[1]?.stdout ?? "")).toMatchObject({ tenantId: top.tenantId, costUsd: top.costUsd });
    expect(results[2]?.stdout).toContain(top.tenantId);
    expect(departments.code, departments.stderr).toBe(0);
    const groups = (JSON.parse(departments.stdout) as { groups: { key: string; invocations: number }[] }).groups;
    expect(groups.length).toBeGreaterThan(1);
    const { invocations } = await truthPromise;
    // Every invocation that names a department (one sample record names none).
    const byDepartment = groups.reduce((sum, group) => sum + group.invocations, 0);
    expect(byDepartment).toBeLessThanOrEqual(invocations);
    expect(byDepartment).toBeGreaterThanOrEqual(invocations - 1);
  }, 300_000);
});

describe("bedrock-spend ingest (its own pipeline)", () => {
  it("ingests the samples exactly once: a second ingest changes nothing, spend matches price", async () => {
    // Prepare
    const dataDir = tempDir();
    const { spends, invocations } = await truthPromise;
    const [top] = topTenants(spends, 1) as [Spend];

    // Act
    const first = await cliJson(["ingest", SAMPLES, "--profiles", PROFILES, "--data-dir", dataDir]);
    const spendOnce = await cliJson<Spend>(["spend", "--tenant", top.tenantId, "--month", top.period, "--data-dir", dataDir]);
    // --strict: the samples hold invalid and unpriced records, counted before or not: exit 3 after the same summary
    const second = await cliJson(["ingest", SAMPLES, "--profiles", PROFILES, "--data-dir", dataDir, "--strict"], 3);
    const [spendTwice, lake] = await Promise.all([
      cliJson<Spend>(["spend", "--tenant", top.tenantId, "--month", top.period, "--data-dir", dataDir]),
      cliJson<{ rows: { n: number; distinct_ids: number }[] }>([
        "query",
        "SELECT count(*) AS n, count(DISTINCT request_id) AS distinct_ids FROM invocations",
        "--data-dir",
        dataDir,
      ]),
    ]);

    // Assess: the summaries add up, the second one counted nothing
    expect(first).toMatchObject({ counted: invocations, duplicates: 0, notCounted: 0, sharedStart: null, chaos: null });
    expect(first.read).toBe((first.counted as number) + (first.duplicates as number) + (first.quarantined as number) + (first.dropped as number));
    expect(second).toMatchObject({
      read: first.read,
      counted: 0,
      duplicates: invocations,
      quarantined: first.quarantined,
      dropped: first.dropped,
      notCounted: 0,
    });
    expect(counted(spendOnce)).toEqual(top);
    // The forecast moves with the clock, which runs on between the two reads
    expect(counted(spendTwice)).toEqual(counted(spendOnce));
    expect(lake.rows).toEqual([{ n: invocations, distinct_ids: invocations }]);
    expect(first).toMatchObject({ months: [top.period], currentMonth: "2026-11" });

    // The report across tenants ranks the top tenant first, with its exact cost, and counts every invocation once
    const report = await cliJson<{ groups: { key: string; invocations: number; costUsd: string }[]; nextCursor: string | null }>([
      "spend",
      "--group-by",
      "tenant",
      "--month",
      top.period,
      "--data-dir",
      dataDir,
    ]);
    expect(report.groups[0]).toMatchObject({ key: top.tenantId, costUsd: top.costUsd, invocations: top.invocations });
    expect(report.groups.reduce((sum, group) => sum + group.invocations, 0)).toBe(
      spends.size > 0 ? [...spends.values()].reduce((sum, spend) => sum + spend.invocations, 0) : 0,
    );
    expect(report.nextCursor).toBeNull();
    const page = await cli(["spend", "--group-by", "tenant", "--month", top.period, "--limit", "1", "--data-dir", dataDir]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain(top.tenantId);
    expect(page.stderr).toMatch(/more groups follow: add --cursor \S+/);
    // `report` prints the same ranking: --top N is the first N groups, the next page named on stderr.
    const [topOne, table] = await Promise.all([
      cliJson<typeof report>(["report", "--month", top.period, "--group-by", "tenant", "--top", "1", "--data-dir", dataDir]),
      cli(["report", "--month", top.period, "--top", "2", "--data-dir", dataDir]),
    ]);
    expect(topOne.groups).toStrictEqual(report.groups.slice(0, 1));
    expect(topOne.nextCursor).not.toBeNull();
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(new RegExp(`^${top.period}, by tenant \\(as of \\S+Z\\)$`));
    expect(table.stdout).toMatch(new RegExp(`\\n1 +${top.tenantId} .* ${top.costUsd.replace(".", "\\.")}\\n`));
    expect(table.stderr).toMatch(/more groups follow: add --cursor \S+/);
    // The data dir's table was created with its rank marker at 0: every month ranks from its entries.
    expect(await cliJson(["ranks", "status", "--month", top.period, "--data-dir", dataDir])).toStrictEqual({
      since: "1970-01-01T00:00:00.000Z",
      month: top.period,
      complete: true,
    });
    const unknown = await cli(["spend", "--group-by", "colour", "--month", top.period, "--data-dir", dataDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--group-by: .*tenant/);
    expect(javaOf(dataDir)).toEqual([]);

    // A newcomer months later: ingest and spend say which month the samples are in.
    const later = "2027-06-15T09:00:00Z";
    const [againLater, spendLater] = await Promise.all([
      cli(["ingest", join(SAMPLES, "cloudwatch/filter-log-events.json"), "--data-dir", join(tempDir(), "later")], later),
      cli(["spend", "--tenant", top.tenantId, "--data-dir", dataDir, "--json"], later),
    ]);
    expect(againLater.code, againLater.stderr).toBe(0);
    expect(againLater.stdout).toContain(`invocations of ${top.period} (the current month is 2027-06: spend --month ${top.period})`);
    expect(JSON.parse(spendLater.stdout)).toMatchObject({ period: "2027-06", invocations: 0 });
    expect(spendLater.stderr).toContain(`has no usage in 2027-06 (the current month); its latest month with usage is ${top.period}: add --month ${top.period}`);
  }, 300_000);

  it("with --chaos 0.3, twice, still gives the same spend", async () => {
    // Prepare
    const dataDir = tempDir();
    const { spends, invocations } = await truthPromise;
    const [top] = topTenants(spends, 1) as [Spend];

    // Act
    const first = await cliJson(["ingest", SAMPLES, "--profiles", PROFILES, "--chaos", "0.3", "--data-dir", dataDir]);
    const second = await cliJson(["ingest", SAMPLES, "--profiles", PROFILES, "--chaos", "0.3", "--data-dir", dataDir]);
    const spend = await cliJson<Spend>(["spend", "--tenant", top.tenantId, "--month", top.period, "--data-dir", dataDir]);

    // Assess: faults happened, exactly once held
    const chaos = first.chaos as { rate: number; throttled: number; crashesAfterWrite: number; duplicatedBatches: number; duplicatedPayloads: number };
    expect(chaos.rate).toBe(0.3);
    expect(chaos.throttled + chaos.crashesAfterWrite + chaos.duplicatedBatches + chaos.duplicatedPayloads).toBeGreaterThan(0);
    expect(first).toMatchObject({ counted: invocations, notCounted: 0 });
    expect(second).toMatchObject({ counted: 0, duplicates: invocations, notCounted: 0 });
    expect(counted(spend)).toEqual(top);
  }, 300_000);
});

describe("bedrock-spend prices every billing dimension and catalog correction the same on every path", () => {
  const DIMENSIONS = [
    "converse-latency-optimized",
    "invoke-model-latency-header",
    "converse-cache-ttl-1h-5m",
    "invoke-model-cache-creation-1h",
    "converse-service-tier-flex",
    "converse-service-tier-priority",
    "converse-stream-events",
  ];
  /** Calls the corrected catalog prices differently from the one it replaced, one tenant each. */
  const corrections = [
    // Sonnet 5 after the cancelled increase: the standard 2 / 10 (global), 2.20 / 11 (geo).
    ["sonnet5-global", "2026-10-15T09:00:00Z", "global.anthropic.claude-sonnet-5", "us-east-1", "3.000000"],
    ["sonnet5-us", "2026-10-15T09:00:00Z", "us.anthropic.claude-sonnet-5", "us-east-1", "3.300000"],
    ["sonnet5-before", "2026-08-15T09:00:00Z", "global.anthropic.claude-sonnet-5", "us-east-1", "3.000000"],
  ] as const;
  const correctionRecord = ([tenantId, timestamp, modelId, region]: readonly string[]) =>
    JSON.stringify({
      schemaType: "ModelInvocationLog",
      schemaVersion: "1.0",
      timestamp,
      accountId: "123456789012",
      identity: { arn: "arn:aws:sts::123456789012:assumed-role/app/worker" },
      region,
      requestId: `correction-${tenantId}`,
      operation: "Converse",
      modelId,
      requestMetadata: { tenantId },
      input: { inputContentType: "application/json", inputTokenCount: 1_000_000 },
      output: { outputContentType: "application/json", outputTokenCount: 100_000 },
    });

  it("gives the same cost through price, ingest (the aggregates) and the Firehose transform (the lake)", async () => {
    // Arrange: the dimension fixtures and the corrections, as one JSON Lines file
    const dir = tempDir();
    const fixtures = join(root, "packages/core/test/fixtures/valid");
    const lines = [
      ...DIMENSIONS.map((name) => JSON.stringify(JSON.parse(readFileSync(join(fixtures, `${name}.json`), "utf8")))),
      ...corrections.map(correctionRecord),
    ];
    const input = join(dir, "dimensions.jsonl");
    writeFileSync(input, `${lines.join("\n")}\n`);
    const dataDir = join(dir, "data");

    // Act
    const priced = await cli(["price", input]);
    const ingested = await cliJson(["ingest", input, "--data-dir", dataDir]);
    const lake = await cliJson<{ rows: Array<Record<string, unknown>> }>([
      "query",
      "SELECT request_id, CAST(cost_usd AS VARCHAR) AS cost, status, latency, service_tier, cache_write_1h_tokens FROM invocations ORDER BY request_id",
      "--data-dir",
      dataDir,
    ]);

    // Assess: price's answer, with the corrections at the standard rate
    expect(priced.code, priced.stderr).toBe(0);
    const byPrice = priced.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { requestId: string; tenantId: string; timestamp: string; costUsd: string | null; status: string });
    expect(byPrice).toHaveLength(lines.length);
    for (const [tenantId, , , , cost] of corrections) expect(byPrice.find((line) => line.tenantId === tenantId)?.costUsd).toBe(cost);
    expect(
      byPrice
        .filter((line) => line.status === "unpriced")
        .map((line) => line.requestId)
        .sort(),
    ).toEqual([DIMENSIONS[5], DIMENSIONS[6]].map((name) => JSON.parse(readFileSync(join(fixtures, `${name}.json`), "utf8")).requestId).sort());
    expect(ingested).toMatchObject({ counted: lines.length, notCounted: 0 });

    // The lake (written by the transform) holds each record with the same cost and its dimensions.
    expect(lake.rows.map((row) => [row.request_id, row.cost === null ? null : formatUsd(parseUsd(String(row.cost)) as bigint), row.status])).toEqual(
      byPrice
        .map((line) => [line.requestId, line.costUsd === null ? null : formatUsd(parseUsd(line.costUsd) as bigint), line.status])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(lake.rows.filter((row) => row.latency === "optimized")).toHaveLength(2);
    expect(
      lake.rows
        .map((row) => row.service_tier)
        .filter(Boolean)
        .sort(),
    ).toEqual(["flex", "priority", "priority"]);
    expect(lake.rows.map((row) => Number(row.cache_write_1h_tokens ?? 0)).reduce((sum, value) => sum + value, 0)).toBe(12_000 + 9_120 + 2_048);

    // The aggregates: every tenant's month is the sum of price's costs.
    const expected = new Map<string, bigint>();
    for (const line of byPrice) {
      const key = `${line.tenantId}|${line.timestamp.slice(0, 7)}`;
      expected.set(key, (expected.get(key) ?? 0n) + (line.costUsd === null ? 0n : (parseUsd(line.costUsd) as bigint)));
    }
    const spends = await limited(
      3,
      [...expected.keys()].map(
        (key) => () => cliJson<Spend>(["spend", "--tenant", key.split("|")[0] as string, "--month", key.split("|")[1] as string, "--data-dir", dataDir]),
      ),
    );
    expect(spends.map((spend) => [`${spend.tenantId}|${spend.period}`, spend.costUsd])).toEqual([...expected].map(([key, pico]) => [key, formatUsd(pico)]));
  }, 300_000);
});

/** A spawned `start`, with its output so far. */
interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Spawns `start` in a process group of its own, killed with its JVM when the test finishes, failed or not. */
function spawnStart(args: string[], now: string = SAMPLES_NOW): Started {
  const child = spawnTracked(process.execPath, [...cliCommand().args, "start", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...cliCommand().env, BEDROCK_SPEND_NOW: now },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, started?: Started): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}${started ? `\nstdout:\n${started.stdout()}\nstderr:\n${started.stderr()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("bedrock-spend start", () => {
  it("shares its stack: ingest, spend, budgets, alerts and query use it; Ctrl-C stops it cleanly", async () => {
    // Prepare: a start without traffic
    const dataDir = tempDir();
    const { spends, invocations } = await truthPromise;
    const [top, second] = topTenants(spends, 2) as [Spend, Spend];
    const started = spawnStart(["--port", "0", "--no-traffic", "--data-dir", dataDir, "--json"]);
    try {
      const ready = await waitFor(
        "the ready line",
        () => {
          const line = started.stdout().split("\n")[0];
          return line ? (JSON.parse(line) as { url: string; pid: number }) : undefined;
        },
        60_000,
        started,
      );

      // Act: ingest through it, then read through it
      const ingest = await cliJson(["ingest", SAMPLES, "--profiles", PROFILES, "--data-dir", dataDir]);
      const [spend, spendByModel, api] = await Promise.all([
        cliJson<Spend>(["spend", "--tenant", top.tenantId, "--month", top.period, "--data-dir", dataDir]),
        cliJson<Spend>(["spend", "--tenant", second.tenantId, "--month", second.period, "--by", "model", "--data-dir", dataDir]),
        fetch(`${ready.url}v1/tenants/${encodeURIComponent(top.tenantId)}/spend?month=${top.period}`).then((response) => response.json()),
      ]);
      const set = await cliJson(["budgets", "set", "--tenant", top.tenantId, "--monthly-usd", "0.10", "--thresholds", "50,100", "--data-dir", dataDir]);
      const listed = await cliJson<unknown[]>(["budgets", "list", "--data-dir", dataDir]);
      const alerts = await waitFor(
        "the budget's alerts",
        async () => {
          const fired = await cliJson<{ tenantId: string; threshold: number | null }[]>(["alerts", "--tenant", top.tenantId, "--data-dir", dataDir]);
          return fired.filter((alert) => alert.threshold !== null).length >= 2 ? fired : undefined;
        },
        60_000,
      );
      const removed = await cliJson(["budgets", "rm", "--tenant", top.tenantId, "--data-dir", dataDir]);
      const removedAgain = await cliJson(["budgets", "rm", "--tenant", top.tenantId, "--data-dir", dataDir]);
      const listedAfter = await cliJson<unknown[]>(["budgets", "list", "--data-dir", dataDir]);
      const busy = await cli(["start", "--port", "0", "--data-dir", dataDir]);
      started.child.kill("SIGINT");
      const code = await started.exit;

      // Assess
      expect(ingest).toMatchObject({ counted: invocations, notCounted: 0, sharedStart: { pid: ready.pid } });
      expect(counted(spend)).toEqual(top);
      expect(counted(api as Spend)).toEqual(top);
      expect(spendByModel).toMatchObject({ ...second, breakdown: expect.any(Array) });
      expect(set).toEqual({ tenantId: top.tenantId, budget: { monthlyUsd: "0.10", thresholds: [50, 100] }, source: "tenant" });
      expect(listed).toEqual([{ tenantId: top.tenantId, budget: { monthlyUsd: "0.10", thresholds: [50, 100] }, updatedAt: expect.any(String) }]);
      const thresholds = alerts.flatMap((alert) => (alert.threshold === null ? [] : [alert.threshold]));
      expect(thresholds.sort((a, b) => a - b)).toEqual([50, 100]);
      expect(removed).toEqual({ tenantId: top.tenantId, removed: true });
      expect(removedAgain).toEqual({ tenantId: top.tenantId, removed: false });
      expect(listedAfter).toEqual([]);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toMatch(new RegExp(`bedrock-spend start is already running on .* \\(pid ${ready.pid}\\)`));
      expect(code).toBe(0);
      expect(JSON.parse(started.stdout().trim().split("\n").at(-1) as string)).toMatchObject({ event: "stopped" });
      expect(javaOf(dataDir)).toEqual([]);
      expect(existsSync(join(dataDir, ".lock"))).toBe(false);
    } finally {
      killTree(started.child.pid as number);
    }
  }, 240_000);

  it("with --duration prints the dashboard URL, serves the dashboard and the spend API while it runs, exits 0 and leaves no JVM", async () => {
    // Prepare
    const dataDir = tempDir();
    expect(javaOf(dataDir)).toEqual([]);
    const started = spawnStart(["--duration", "8", "--port", "0", "--data-dir", dataDir, "--rate", "20", "--tenants", "5", "--no-history"]);
    try {
      // Act: wait for the URL, then for the first generated traffic to show
      const url = await waitFor("the dashboard URL", () => /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(started.stdout())?.[1], 60_000, started);
      const readyAt = performance.now();
      const readySeconds = Number(/ready in ([\d.]+) s/.exec(started.stdout())?.[1]);
      const javaWhileRunning = javaOf(dataDir);
      const filters = await waitFor(
        "generated traffic on the dashboard",
        async () => {
          const body = (await (await fetch(`${url}api/filters`)).json()) as { tenants: string[]; months: string[] };
          return body.tenants.length > 0 ? body : undefined;
        },
        7_000,
        started,
      );
      const trafficSeconds = (performance.now() - readyAt) / 1000;
      const tenant = filters.tenants[0] as string;
      const response = await fetch(`${url}v1/tenants/${encodeURIComponent(tenant)}/spend?month=${filters.months[0]}`);
      const spend = (await response.json()) as Spend;
      const code = await started.exit;

      // Assess: ready and fresh within generous bounds: how fast is for `pnpm bench` to measure; this
      // only catches a start that hangs (a JVM start takes ~4 s idle, 20 s when other jobs load the machine).
      expect(readySeconds).toBeLessThan(45);
      expect(trafficSeconds).toBeLessThan(6);
      expect(javaWhileRunning).toHaveLength(1);
      expect(response.status).toBe(200);
      expect(spend).toMatchObject({ tenantId: tenant, period: filters.months[0], budget: null });
      // The generated traffic follows the clock.
      expect(filters.months).toEqual(["2026-11"]);
      expect(spend.invocations).toBeGreaterThan(0);
      expect(code).toBe(0);
      expect(started.stdout()).toMatch(/stopped after 0:\d\d: counted \d/);
      expect(javaOf(dataDir)).toEqual([]);
    } finally {
      killTree(started.child.pid as number);
    }
  }, 120_000);
});
