/**
 * `pnpm bench`: the figures of BENCHMARKS.md, measured on the reference workload (docs/architecture.md)
 * (deterministic from a seed). Tests assert correctness; this measures speed, units and bytes.
 *
 *   pnpm bench                       every benchmark; writes bench-results/<key>.json and BENCHMARKS.md
 *   pnpm bench --json                the same, and prints the figures as one JSON object on stdout
 *   pnpm bench --only transform,lake some benchmarks (BENCHMARKS.md keeps the others' last full run)
 *   pnpm bench --quick               seconds-long smoke run (CI): tiny workloads, nothing written
 *
 * Benchmarks are the modules scripts/bench/*.bench.ts (default export: a `Benchmark`).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BenchContext, Benchmark, Figures, Target } from "./bench/types";

/** Section order in `--json` and BENCHMARKS.md. */
const ORDER = ["transform", "aggregate", "freshness", "lake", "lookup", "report", "bundles", "awsCost", "price", "reprice", "backfill", "reconcile"];

/** Issue 7's targets, and later issues'. A missed target is marked so in BENCHMARKS.md; it never fails the run (a missing figure does). */
const TARGETS: Target[] = [
  { path: "transform.floorRatio", op: "<=", limit: 1.5, label: "transform time / floor (base64 + gunzip + JSON.parse)" },
  { path: "aggregate.wruPerRecord", op: "<=", limit: 4.5, label: "DynamoDB write units per record, batch 500" },
  { path: "aggregate.wruVsMinimum", op: "<=", limit: 1.05, label: "write units / minimum for the batch's distinct keys" },
  { path: "freshness.p99Ms", op: "<=", limit: 2000, label: "p99 log event on the stream -> spend visible through the API, 200 events/s" },
  { path: "lake.compressionRatio", op: ">=", limit: 20, label: "raw log bytes / Parquet bytes per record" },
  { path: "lookup.p99Ms", op: "<=", limit: 20, label: "p99 spend API latency, 1,000,000 tenants loaded" },
  { path: "report.p99Ms", op: "<=", limit: 200, label: "p99 top-100 tenants by cost of a month, 100,000 tenants (GET /v1/spend)" },
  { path: "bundles.maxBytes", op: "<=", limit: 500 * 1024, label: "largest Lambda bundle (bytes)" },
  { path: "bundles.maxImportMs", op: "<=", limit: 150, label: "slowest cold import of a Lambda bundle (ms)" },
  { path: "awsCost.pipelineVsGlue1M", op: "<=", limit: 1, label: "pipeline / Glue-batch cost per million invocations, 1M a month" },
  { path: "awsCost.pipelineVsGlue100M", op: "<=", limit: 1, label: "pipeline / Glue-batch cost per million invocations, 100M a month" },
  { path: "reprice.monthSeconds", op: "<=", limit: 120, label: "a month of 1,000,000 invocations repriced locally (s)" },
  { path: "backfill.recordsPerSecond", op: ">=", limit: 20_000, label: "backfill of a settled month from local files in Bedrock's S3 layout (records/s)" },
  { path: "reconcile.seconds", op: "<=", limit: 20, label: "1,000,000 CUR rows read and reconciled (s)" },
];

const { values } = parseArgs({
  strict: true,
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    out: { type: "string", default: "bench-results" },
  },
});

const root = new URL("..", import.meta.url).pathname;
const benchDir = join(root, "scripts/bench");
const available = new Map<string, Benchmark>();
for (const file of readdirSync(benchDir).filter((name) => name.endsWith(".bench.ts"))) {
  const module = (await import(join(benchDir, file))) as { default: Benchmark };
  available.set(module.default.key, module.default);
}
const selected = values.only ? values.only.split(",").map((key) => key.trim()) : [...available.keys()];
for (const key of selected) {
  if (!available.has(key)) {
    process.stderr.write(`bench: no benchmark "${key}" (have: ${[...available.keys()].join(", ")})\n`);
    process.exit(2);
  }
}
selected.sort((a, b) => rank(a) - rank(b));

const machine = {
  node: process.version,
  os: `${process.platform} ${release()}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memoryGib: Math.round(totalmem() / 2 ** 30),
};
const scratch = mkdtempSync(join(tmpdir(), "bedrock-spend-bench-"));
const context: BenchContext = { quick: values.quick, root, scratch, log: (message) => process.stderr.write(`${message}\n`) };
const outDir = values.quick ? join(scratch, "results") : join(root, values.out);
mkdirSync(outDir, { recursive: true });

interface SavedSection {
  key: string;
  title: string;
  ranAt: string;
  seconds: number;
  machine: typeof machine;
  figures: Figures;
  markdown: string;
  details?: unknown;
}

const ran: SavedSection[] = [];
let failures = 0;
for (const key of selected) {
  const bench = available.get(key) as Benchmark;
  context.log(`\n== ${key}${values.quick ? " (quick)" : ""}`);
  const started = process.hrtime.bigint();
  try {
    const section = await bench.run(context);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const saved: SavedSection = { key, title: bench.title, ranAt: new Date().toISOString(), seconds: round(seconds, 1), machine, ...section };
    writeFileSync(join(outDir, `${key}.json`), `${JSON.stringify(saved, null, 2)}\n`);
    context.log(`== ${key}: ${JSON.stringify(section.figures)} (${saved.seconds} s)`);
    ran.push(saved);
  } catch (error) {
    failures++;
    context.log(`== ${key} failed: ${(error as Error).stack ?? error}`);
  }
}

// Quick runs only prove that every benchmark runs and reports the figures the targets read.
const missing = TARGETS.filter((target) => selected.includes(target.path.split(".")[0] as string)).filter(
  (target) => typeof figureAt(Object.fromEntries(ran.map((section) => [section.key, section.figures])), target.path) !== "number",
);
for (const target of missing) context.log(`bench: no figure ${target.path}`);

// A quick run writes its Markdown next to its results, so that CI exercises the writer too.
const markdownPath = values.quick ? join(outDir, "BENCHMARKS.md") : join(root, "BENCHMARKS.md");
writeFileSync(markdownPath, benchmarksMarkdown(loadSaved()));
if (values.json) process.stdout.write(`${JSON.stringify({ machine, ...Object.fromEntries(ran.map((section) => [section.key, section.figures])) }, null, 2)}\n`);
context.log(`\nbench: ${ran.length} ran, ${failures} failed; wrote ${outDir} and ${markdownPath}`);
process.exit(failures > 0 || missing.length > 0 ? 1 : 0);

function rank(key: string): number {
  const index = ORDER.indexOf(key);
  return index === -1 ? ORDER.length : index;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function figureAt(figures: Figures, path: string): unknown {
  let value: unknown = figures;
  for (const part of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** Every section's last full run, from bench-results/ (so `--only` keeps the others). */
function loadSaved(): SavedSection[] {
  const sections: SavedSection[] = [];
  for (const key of [...available.keys()].sort((a, b) => rank(a) - rank(b))) {
    try {
      sections.push(JSON.parse(readFileSync(join(outDir, `${key}.json`), "utf8")) as SavedSection);
    } catch {
      // Never run on this checkout: reported as "not run".
    }
  }
  return sections;
}

function benchmarksMarkdown(sections: SavedSection[]): string {
  const all = Object.fromEntries(sections.map((section) => [section.key, section.figures]));
  const lines = [
    "# Benchmarks",
    "",
    "Written by `pnpm bench` (do not edit by hand). Every figure below is from the run named in its section, on the",
    "reference workload (docs/architecture.md) unless the section says otherwise: 10,000 tenants with Zipf(1.1) traffic, 8",
    "departments, 20 models (plain, `us.`, `global.` and an application inference profile), 15% of calls with cache",
    "tokens, ~2 KB of bodies per record, CloudWatch subscription payloads of 50 log events, Kinesis batches of 500",
    "records; generated by `packages/traffic` from a fixed seed, so runs compare.",
    "",
    "Rerun: `pnpm bench` (all, under 30 minutes on 2 cores, 10 of them the reprice benchmark, 4 the backfill), `pnpm bench --only <key>[,<key>]`, `pnpm bench --json`.",
    "CI runs `pnpm bench --quick`, a seconds-long smoke run whose figures are not kept.",
    "",
    "## Targets",
    "",
    "| target | limit | figure | |",
    "| --- | --- | --- | --- |",
  ];
  for (const target of TARGETS) {
    const value = figureAt(all, target.path);
    const status = typeof value !== "number" ? "not run" : (target.op === "<=" ? value <= target.limit : value >= target.limit) ? "met" : "**missed**";
    lines.push(`| ${target.label} (\`${target.path}\`) | ${target.op} ${target.limit} | ${typeof value === "number" ? value : "-"} | ${status} |`);
  }
  lines.push("");
  for (const section of sections) {
    lines.push(`## ${section.title} (\`${section.key}\`)`, "");
    lines.push(
      `Ran ${section.ranAt} in ${section.seconds} s on ${section.machine.cpus} x ${section.machine.cpuModel}, ${section.machine.memoryGib} GiB, Node ${section.machine.node}, ${section.machine.os}.`,
      "",
    );
    lines.push(section.markdown.trim(), "");
    lines.push("```json", JSON.stringify(section.figures, null, 2), "```", "");
  }
  return `${lines.join("\n")}\n`;
}
