/**
 * The last reconciliation as the CLI keeps it (`<data-dir>/reconcile/last.json`, written by
 * `bedrock-spend reconcile --data-dir DIR`): read from disk, checked field by field with zod, and
 * checked to add up (each row's drift is its bill minus its logs; the rows and the unmapped lines
 * sum to the totals), so that the panel never shows figures that disagree with each other.
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { BedrockSpendError, formatUsd, TOKEN_CLASSES } from "@bedrock-spend/core";
import { z } from "zod";
import { picoOf } from "./reconcile-summary";
import type { ReconcileSnapshot, ReconciliationSource } from "./types";

/** A reconciliation file that cannot be read or is not a reconciliation. */
export class ReconcileFileError extends BedrockSpendError {
  constructor(
    /** The file's path. */
    readonly file: string,
    /** The offending field as a path into the JSON (`rows[3].driftUsd`); undefined when the file as a whole is at fault. */
    readonly field: string | undefined,
    message: string,
  ) {
    super(`${file}: ${field === undefined ? "" : `${field}: `}${message}`);
    this.name = "ReconcileFileError";
  }
}

/** Where `bedrock-spend reconcile --data-dir DIR` keeps its last report. */
export function reconcileFileOf(dataDir: string): string {
  return resolve(dataDir, "reconcile", "last.json");
}

// The reconciliation writes pico-dollar amounts with 6 to 12 decimals; more would be rounded here.
const usd = z.string().regex(/^-?\d+(?:\.\d{1,12})?$/, "must be a decimal USD string with at most 12 decimals");
const percent = z
  .string()
  .regex(/^-?\d+\.\d{2}$/, "must be a percentage with two decimals")
  .nullable();
const day = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, "must be a UTC day YYYY-MM-DD");
const tokens = z.number().int().safe();

const rowSchema = z.object({
  day,
  region: z.string(),
  model: z.string().min(1),
  tokenClass: z.enum(TOKEN_CLASSES),
  tier: z.string(),
  logTokens: tokens,
  billTokens: tokens,
  logCostUsd: usd,
  billCostUsd: usd,
  driftUsd: usd,
  driftPct: percent,
  likelyCause: z.string().nullable(),
});

const unmappedSchema = z.object({
  usageType: z.string(),
  productCode: z.string(),
  productName: z.string().nullable(),
  billCostUsd: usd,
  usageAmount: z.string().regex(/^-?\d+(?:\.\d+)?$/, "must be a decimal number"),
  pricingUnit: z.string().nullable(),
  reason: z.string(),
});

/** The file's shape. Unknown fields are dropped, so that a newer CLI's additions do not break the page. */
const snapshotSchema = z.object({
  from: day.nullable(),
  to: day.nullable(),
  cur: z.array(z.string()),
  rows: z.array(rowSchema),
  unmapped: z.array(unmappedSchema),
  totals: z.object({
    logCostUsd: usd,
    billCostUsd: usd,
    unmappedCostUsd: usd,
    netBillCostUsd: usd,
    driftUsd: usd,
    driftPct: percent,
  }),
  /** Which days the bill had finished (written by the CLI since it keeps them; absent in older files). */
  days: z.array(z.object({ day, complete: z.boolean() })).optional(),
});

/** A field whose amount disagrees with the others. */
interface Mismatch {
  path: (string | number)[];
  message: string;
}

/** Where a well-formed reconciliation does not add up: each row's drift is its bill minus its logs, and the rows and unmapped lines sum to the totals. */
function mismatchesOf(snapshot: ReconcileSnapshot): Mismatch[] {
  const mismatches: Mismatch[] = [];
  let logPico = 0n;
  let billPico = 0n;
  let driftPico = 0n;
  snapshot.rows.forEach((row, index) => {
    const drift = picoOf(row.billCostUsd) - picoOf(row.logCostUsd);
    if (picoOf(row.driftUsd) !== drift)
      mismatches.push({ path: ["rows", index, "driftUsd"], message: `is ${row.driftUsd}, but billCostUsd - logCostUsd is ${formatUsd(drift)}` });
    logPico += picoOf(row.logCostUsd);
    billPico += picoOf(row.billCostUsd);
    driftPico += picoOf(row.driftUsd);
  });
  const unmappedPico = snapshot.unmapped.reduce((sum, line) => sum + picoOf(line.billCostUsd), 0n);
  const { totals } = snapshot;
  const check = (field: "logCostUsd" | "unmappedCostUsd" | "billCostUsd" | "driftUsd", pico: bigint, what: string) => {
    if (picoOf(totals[field]) !== pico) mismatches.push({ path: ["totals", field], message: `is ${totals[field]}, but ${what} sum to ${formatUsd(pico)}` });
  };
  check("logCostUsd", logPico, "the rows' logCostUsd");
  check("unmappedCostUsd", unmappedPico, "the unmapped lines' billCostUsd");
  check("billCostUsd", billPico + unmappedPico, "the rows' and the unmapped lines' billCostUsd");
  check("driftUsd", driftPico, "the rows' driftUsd");
  return mismatches;
}

/** `["rows", 3, "driftUsd"]` -> `rows[3].driftUsd`. */
function fieldPath(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
}

/**
 * Parses the text of a reconciliation file.
 * @throws ReconcileFileError naming `file` and the first offending field (and how many more there are)
 */
export function parseReconcileSnapshot(text: string, file: string): ReconcileSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReconcileFileError(file, undefined, `not JSON (${(error as Error).message}); run bedrock-spend reconcile again`);
  }
  const result = snapshotSchema.safeParse(json);
  const problems = result.success ? mismatchesOf(result.data) : result.error.issues;
  if (result.success && problems.length === 0) return result.data;
  const [first, ...others] = problems;
  const more = others.length === 0 ? "" : ` (and ${others.length} more ${others.length === 1 ? "problem" : "problems"})`;
  throw new ReconcileFileError(file, first === undefined ? undefined : fieldPath(first.path), `${first?.message ?? "not a reconciliation"}${more}`);
}

/**
 * Reads a reconciliation file now; undefined when it does not exist.
 * @throws ReconcileFileError when it cannot be read or is malformed
 */
export async function readReconcileFile(file: string): Promise<ReconcileSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new ReconcileFileError(file, undefined, `cannot be read (${code ?? (error as Error).message})`);
  }
  return parseReconcileSnapshot(text, file);
}

/**
 * The reconciliation kept in `file`, read on every request: the CLI rewrites it whenever the user
 * reconciles again. The last parse is reused while the file's size and modification time stay the
 * same (a whole month's report is megabytes, and the page asks every few seconds).
 */
export function reconcileFileSource(file: string): ReconciliationSource {
  let cached: { size: number; mtimeMs: number; snapshot: ReconcileSnapshot } | undefined;
  return {
    location: file,
    async read() {
      let size: number;
      let mtimeMs: number;
      try {
        ({ size, mtimeMs } = await stat(file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          cached = undefined;
          return undefined;
        }
        throw new ReconcileFileError(file, undefined, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached.snapshot;
      const snapshot = await readReconcileFile(file);
      cached = snapshot === undefined ? undefined : { size, mtimeMs, snapshot };
      return snapshot;
    },
  };
}
