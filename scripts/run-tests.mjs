#!/usr/bin/env node
// `pnpm test`: lint and format check, type check, then every test; ends with one plain
// "N passed, N failed" line that CI reads. Exits non-zero if any step fails.
//
// The benchmarks run last in their seconds-long smoke mode (`pnpm bench --quick`).
//
// The suites that read the time (aggregation, alerts, forecasts, the dashboard, the API's default
// month) run a second time with the machine's clock itself moved to the first minute of a month
// by libfaketime: every test pins its own clock, so none may depend on the day CI runs.
//
// The infrastructure tests run in a vitest run of their own: synthesizing the SST app bundles
// every function with blocking child processes, which on two busy cores can starve the RPC
// between vitest's workers and its main process. Its syntheses share one directory of bundles for
// the run (BEDROCK_SPEND_SYNTH_BUNDLE_CACHE, stacks/synth.ts): a function is bundled once per set of
// build inputs, not once per synthesis. The directory is removed at the end.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const vitest = (name, args, report) => [
  name,
  "pnpm",
  ["exec", "vitest", "run", ...args, "--reporter=default", "--reporter=json", `--outputFile.json=test-output/${report}`],
  report,
];

/** Suites that aggregate, alert, forecast or render: re-run at a faked machine time. */
const DATE_SENSITIVE = [
  "packages/core/test/budget.test.ts",
  "packages/core/test/clock.test.ts",
  "packages/store/test/usage-writer.test.ts",
  "packages/pipeline/test/budget-alerts.test.ts",
  "packages/pipeline/test/alert-sweep.test.ts",
  // Not packages/pipeline/test/reprice.test.ts: its markers expire by its injected clock (November
  // 2026), and DynamoDB Local, which reads the machine's clock, treats them as expired in 2028.
  "packages/core/test/reprice.test.ts",
  "packages/api/test/spend-api.test.ts",
  "packages/dashboard/test",
  "packages/local-mode/test",
  "packages/sdk/test/guard.test.ts",
  "functions/test/budget-alert.test.ts",
  "functions/test/alert-sweep.test.ts",
];
/** The faked machine time (UTC): the first minute of a month, after a 29 February. */
const FAKE_TIME = process.env.BEDROCK_SPEND_FAKETIME ?? "2028-03-01 00:00:05";
const fakeClock = (name, args, report) => {
  const [, , vitestArgs] = vitest(name, args, report);
  return [name, "faketime", [FAKE_TIME, "pnpm", ...vitestArgs], report, { TZ: "UTC" }];
};

const bundleCache = mkdtempSync(join(tmpdir(), "bedrock-spend-synth-bundles-"));

const steps = [
  ["lint and format", "pnpm", ["exec", "biome", "ci", "."]],
  ["type check", "pnpm", ["exec", "tsc", "--noEmit", "-p", "tsconfig.json"]],
  vitest("tests", ["--exclude", "test/infra/**", "--exclude", "**/node_modules/**"], "vitest.json"),
  [...vitest("infrastructure tests", ["test/infra"], "vitest-infra.json"), { BEDROCK_SPEND_SYNTH_BUNDLE_CACHE: bundleCache }],
  fakeClock(`date-sensitive tests with the machine's clock at ${FAKE_TIME} UTC (faketime)`, DATE_SENSITIVE, "vitest-faketime.json"),
  // Benchmarks are not tests: CI only checks that each one runs and reports its figures.
  ["benchmark smoke run", "pnpm", ["bench", "--quick"]],
];

/** The first line of a failure message, without the colour codes. */
const firstLine = (message) =>
  (message ?? "no message")
    .replace(/\u001b\[[0-9;]*m/g, "")
    .split("\n")[0]
    .slice(0, 300);

mkdirSync("test-output", { recursive: true });
process.stderr.write(`== Node.js ${process.version} (${process.execPath})\n`);
process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
let failedStep;
let passed = 0;
let failed = 0;
/** Names of the failed tests, repeated at the end so that a log's last lines say what failed. */
const failures = [];
for (const [name, command, args, report, env] of steps) {
  process.stderr.write(`\n== ${name}: ${command} ${args.join(" ")}\n`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) {
    failedStep ??= name;
    const why = result.error ? `${command}: ${result.error.message} (scripts/setup.sh installs what the tests need)` : `exit ${result.status ?? result.signal}`;
    process.stderr.write(`== ${name} failed (${why})\n`);
    if (!report) break;
  }
  if (!report) continue;
  const failedBefore = failures.length;
  try {
    const summary = JSON.parse(readFileSync(`test-output/${report}`, "utf8"));
    passed += summary.numPassedTests ?? 0;
    // Vitest counts a describe block holding a failed test as a failed suite too, so suites are
    // counted only when a file failed with no failed test in it (an import or hook error).
    for (const file of summary.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((test) => test.status === "failed");
      for (const test of failedTests) failures.push(`${name}: ${file.name}: ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
      if (file.status === "failed" && failedTests.length === 0) failures.push(`${name}: ${file.name}: ${firstLine(file.message)}`);
    }
    failed += failures.length - failedBefore;
    if ((summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0) > 0) {
      process.stderr.write(`== ${summary.numPendingTests + summary.numTodoTests} tests were skipped: skipped tests are defects here\n`);
      failedStep ??= "skipped tests";
    }
  } catch {
    // No report: the run did not start.
  }
}
rmSync(bundleCache, { recursive: true, force: true });
if (failedStep && failed === 0) failed = 1;
for (const failure of failures) process.stdout.write(`\nFAILED ${failure}`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failedStep ? 1 : 0);
