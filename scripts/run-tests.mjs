#!/usr/bin/env node
// `pnpm test`: lint and format check, type check, then every test; ends with one plain
// "N passed, N failed" line that CI reads. Exits non-zero if any step fails.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

const steps = [
  ["lint and format", "pnpm", ["exec", "biome", "ci", "."]],
  ["type check", "pnpm", ["exec", "tsc", "--noEmit", "-p", "tsconfig.json"]],
  ["tests", "pnpm", ["exec", "vitest", "run", "--reporter=default", "--reporter=json", "--outputFile.json=test-output/vitest.json"]],
];

mkdirSync("test-output", { recursive: true });
let failedStep;
for (const [name, command, args] of steps) {
  process.stderr.write(`\n== ${name}: ${command} ${args.join(" ")}\n`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) {
    failedStep = name;
    process.stderr.write(`== ${name} failed (exit ${result.status ?? result.signal})\n`);
    if (name !== "tests") break;
  }
}

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync("test-output/vitest.json", "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  if ((report.numPendingTests ?? 0) + (report.numTodoTests ?? 0) > 0) {
    process.stderr.write(`== ${report.numPendingTests + report.numTodoTests} tests were skipped: skipped tests are defects here\n`);
    failedStep ??= "skipped tests";
  }
} catch {
  // No report: the tests did not run (an earlier step failed).
}
if (failedStep && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failedStep ? 1 : 0);
