/**
 * What the "Bill vs logs" panel shows of a reconciliation: its rows summed by day and by model,
 * exactly (pico-dollar bigints; no floating point touches an amount). Pure.
 */
import { byCodeUnit, formatUsd, parseSignedDecimal, percentOf, type ReconcileRow } from "@bedrock-spend/core";
import type { DayDriftRow, DriftSums, ModelDriftRow, ReconcileSnapshot, ReconcileSummary } from "./types";

/** Fractional digits of a pico-dollar. */
const PICO_DIGITS = 12;

/** An exact decimal USD string as pico-dollars (the reconciliation never has more than 12 decimals). */
export function picoOf(usd: string): bigint {
  return parseSignedDecimal(usd, PICO_DIGITS);
}

interface Accumulator {
  logPico: bigint;
  billPico: bigint;
  driftPico: bigint;
  logTokens: number;
  billTokens: number;
  rows: number;
}

function accumulate(groups: Map<string, Accumulator>, key: string, row: ReconcileRow): void {
  let sums = groups.get(key);
  if (!sums) {
    sums = { logPico: 0n, billPico: 0n, driftPico: 0n, logTokens: 0, billTokens: 0, rows: 0 };
    groups.set(key, sums);
  }
  sums.logPico += picoOf(row.logCostUsd);
  sums.billPico += picoOf(row.billCostUsd);
  sums.driftPico += picoOf(row.driftUsd);
  sums.logTokens += row.logTokens;
  sums.billTokens += row.billTokens;
  sums.rows += 1;
}

function driftSums(sums: Accumulator): DriftSums {
  return {
    logCostUsd: formatUsd(sums.logPico),
    billCostUsd: formatUsd(sums.billPico),
    driftUsd: formatUsd(sums.driftPico),
    // The reconciliation's own rounding, so that a day of one row shows that row's percentage.
    driftPct: percentOf(sums.driftPico, sums.billPico),
    logTokens: sums.logTokens,
    billTokens: sums.billTokens,
    rows: sums.rows,
  };
}

const absolute = (value: bigint) => (value < 0n ? -value : value);

/**
 * The panel's figures of a reconciliation: its totals (as the file has them, plus the bill of the
 * placed usage), the drift by day (chronological) and by model (largest absolute drift first),
 * and the unmapped usage. Each row's drift is summed as written, not recomputed, so that a day's
 * drift is the sum of the drifts its rows show.
 */
export function summarizeReconciliation(snapshot: ReconcileSnapshot, location: string): ReconcileSummary {
  const days = new Map<string, Accumulator>();
  const models = new Map<string, Accumulator>();
  for (const row of snapshot.rows) {
    accumulate(days, row.day, row);
    accumulate(models, row.model, row);
  }
  const finished = new Map((snapshot.days ?? []).map((entry) => [entry.day, entry.complete]));
  const byDay: DayDriftRow[] = [...days.entries()]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([day, sums]) => ({ day, ...driftSums(sums), complete: finished.get(day) ?? null }));
  const byModel: ModelDriftRow[] = [...models.entries()]
    .sort(([modelA, a], [modelB, b]) => {
      const larger = absolute(b.driftPico) - absolute(a.driftPico);
      return larger !== 0n ? (larger > 0n ? 1 : -1) : byCodeUnit(modelA, modelB);
    })
    .map(([model, sums]) => ({ model, ...driftSums(sums) }));
  const { totals } = snapshot;
  return {
    loaded: true,
    location,
    from: snapshot.from,
    to: snapshot.to,
    cur: snapshot.cur,
    rows: snapshot.rows.length,
    totals: { ...totals, mappedBillCostUsd: formatUsd(picoOf(totals.billCostUsd) - picoOf(totals.unmappedCostUsd)) },
    byDay,
    byModel,
    unmapped: { costUsd: totals.unmappedCostUsd, lines: snapshot.unmapped },
  };
}
