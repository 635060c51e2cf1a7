/**
 * The contract between `scripts/bench.ts` (the runner) and one benchmark module. Each module
 * measures one section of `pnpm bench --json` and says in Markdown what it measured, on what
 * workload, and what limits the figure; the runner checks the targets and writes BENCHMARKS.md.
 */

/** What the runner hands every benchmark. */
export interface BenchContext {
  /** `--quick`: a seconds-long smoke run for CI. Figures are not representative and never written to BENCHMARKS.md. */
  quick: boolean;
  /** Repository root (absolute, trailing slash). */
  root: string;
  /** A scratch directory for this run (inputs, data dirs); removed by nobody, reused by nobody. */
  scratch: string;
  /** Progress on stderr; stdout is reserved for `--json`. */
  log: (message: string) => void;
}

/** A figure: a number (rates, ratios, bytes, ms, USD as numbers for display only) or a nested group. */
export type Figures = { [key: string]: number | string | boolean | null | Figures };

/** What one benchmark returns. */
export interface BenchSection {
  /** Figures under this section's key of `pnpm bench --json`, e.g. `{ recordsPerSec, floorRatio }`. */
  figures: Figures;
  /** Markdown for BENCHMARKS.md (no top-level heading): workload, how measured, table, what limits the figure. */
  markdown: string;
  /** Anything else worth keeping in bench-results/<key>.json (raw samples, per-configuration rows). */
  details?: unknown;
}

/** A benchmark module's default export. */
export interface Benchmark {
  /** Section key in `--json` and file name in bench-results/. */
  key: string;
  /** Title of the BENCHMARKS.md section. */
  title: string;
  run: (context: BenchContext) => Promise<BenchSection>;
}

/** A target of issue 7: `path` into the JSON object (dot separated), compared with `limit`. */
export interface Target {
  path: string;
  op: "<=" | ">=";
  limit: number;
  /** How the target reads in BENCHMARKS.md. */
  label: string;
}
