/**
 * A reconciliation summed by day and by model, the figures a deployment watches every day: the
 * drift of each day (and whether the bill has finished it), of each model over the finished days,
 * and the worst finished day. Exact: money is summed in pico-dollars.
 */
import { formatUsd } from "../money";
import type { DayKey } from "../periods";
import { type BillGroup, parseSignedDecimal, percentOf, type ReconcileReport, USAGE_LINE_ITEM_TYPES } from "./reconcile";

/** The logs and the bill of one day, or one model. */
export interface DriftTotals {
  logCostUsd: string;
  billCostUsd: string;
  /** `billCostUsd - logCostUsd`. */
  driftUsd: string;
  /** The drift in percent of the bill, two decimals; null when the bill is 0. */
  driftPct: string | null;
}

/** One day of a reconciliation. */
export interface DayDrift extends DriftTotals {
  day: DayKey;
  /** The bill has line items of a later day: CUR has finished this one (it may still restate it). */
  complete: boolean;
}

/** One model over the complete days of a reconciliation. */
export interface ModelDrift extends DriftTotals {
  model: string;
}

/** The daily figures of a reconciliation. */
export interface DriftSummary {
  days: DayDrift[];
  /** Over the complete days only: an unfinished day's drift is the bill's lag, not a difference. */
  models: ModelDrift[];
  /** The latest complete day, null when none. */
  lastCompleteDay: DayKey | null;
  /** The complete day with the largest absolute drift in percent, null when none has a bill. */
  worstDay: DayDrift | null;
}

interface Sums {
  logPico: bigint;
  billPico: bigint;
}

const usd = (pico: bigint) => (pico < 0n ? `-${formatUsd(-pico)}` : formatUsd(pico));

function totals({ logPico, billPico }: Sums): DriftTotals {
  return { logCostUsd: usd(logPico), billCostUsd: usd(billPico), driftUsd: usd(billPico - logPico), driftPct: percentOf(billPico - logPico, billPico) };
}

/**
 * Sums the report's rows by day and by model. A day is complete when the bill (`bill`, the groups
 * the report was made from) has usage of a later day.
 */
export function summarizeDrift(report: ReconcileReport, bill: readonly BillGroup[]): DriftSummary {
  let lastBillDay: DayKey | undefined;
  for (const group of bill)
    if ((USAGE_LINE_ITEM_TYPES as readonly string[]).includes(group.lineItemType) && (lastBillDay === undefined || group.day > lastBillDay))
      lastBillDay = group.day;
  const complete = (day: DayKey) => lastBillDay !== undefined && day < lastBillDay;
  const byDay = new Map<DayKey, Sums>();
  const byModel = new Map<string, Sums>();
  const add = (map: Map<string, Sums>, key: string, logPico: bigint, billPico: bigint) => {
    const sums = map.get(key) ?? { logPico: 0n, billPico: 0n };
    sums.logPico += logPico;
    sums.billPico += billPico;
    map.set(key, sums);
  };
  for (const row of report.rows) {
    const logPico = parseSignedDecimal(row.logCostUsd, 12);
    const billPico = parseSignedDecimal(row.billCostUsd, 12);
    add(byDay, row.day, logPico, billPico);
    if (complete(row.day)) add(byModel, row.model, logPico, billPico);
  }
  const days = [...byDay].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, sums]): DayDrift => ({ day, ...totals(sums), complete: complete(day) }));
  const finished = days.filter((day) => day.complete);
  let worstDay: DayDrift | null = null;
  for (const day of finished) {
    if (day.driftPct === null) continue;
    if (worstDay === null || Math.abs(Number(day.driftPct)) > Math.abs(Number(worstDay.driftPct))) worstDay = day;
  }
  return {
    days,
    models: [...byModel]
      .map(([model, sums]): ModelDrift & { abs: bigint } => {
        const drift = sums.billPico - sums.logPico;
        return { model, ...totals(sums), abs: drift < 0n ? -drift : drift };
      })
      .sort((a, b) => (b.abs > a.abs ? 1 : b.abs < a.abs ? -1 : a.model < b.model ? -1 : 1))
      .map(({ abs: _abs, ...model }) => model),
    lastCompleteDay: finished.at(-1)?.day ?? null,
    worstDay,
  };
}
