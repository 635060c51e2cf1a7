/**
 * The sweep of budget alerts fired but never published: shared by the alert-sweep Lambda (on an
 * EventBridge schedule, every 15 minutes) and local mode (every minute while `start` runs).
 *
 * The stream path (`budget-alerts.ts`) delivers an alert when its tenant's month is evaluated: a
 * publish that fails is retried with the stream records, and any later evaluation of that month
 * takes the undelivered marker over. When the publish keeps failing until the stream's retries run
 * out, and the tenant's month never changes again (no spend, no budget change), nothing evaluates
 * it again: the sweep is what delivers it then.
 *
 * Finding them: the undelivered-alerts index (`UNDELIVERED_ALERTS_INDEX`, a sparse GSI of the
 * aggregates table) lists exactly the markers fired and not yet published, by `firedAt`. One
 * Query of its single partition, for those fired between `windowMs` and `graceMs` ago, costs half a
 * read unit per 4 KB of index entries (~100 bytes each, read eventually consistent), so half a
 * unit when nothing is undelivered, however large the table is; a Scan would read every dedup
 * marker of the table on every run.
 *
 * Delivering them: each one is taken over with the stream path's conditional update of its lease
 * (`takeUndeliveredAlert`), so of a sweep, a second sweep and stream evaluations running at once
 * exactly one takes it; the taker publishes it through the same publisher and records it with the
 * same write as the stream path (`deliverAlert`). The grace period (default the firer's lease, 15
 * minutes) leaves a fresh alert to the stream consumer that fired it; a claim still held past it
 * (the stream path redelivering) is skipped too. The notification is still at least once, not
 * exactly once: a publish that succeeded but whose recording failed is published again once its
 * lease lapses, and subscribers drop repeats by `alertId`.
 *
 * Nothing here logs or measures: the sweep returns counts and reports what a log would say through
 * `onEvent`.
 */

import type { AlertPublisher } from "@bedrock-spend/adapters";
import { BedrockSpendError, type BudgetAlert, type Clock } from "@bedrock-spend/core";
import { type AggregatesStore, ALERT_SK_PREFIX, alertIdOf, DEFAULT_DELIVERY_LEASE_MS, escapeKeyComponent } from "@bedrock-spend/store";
import { type AlertDeliveryEvent, deliverAlert } from "./alert-delivery";

/** Default of `AlertSweepDependencies.graceMs`: the firer's claim on its alert. */
export const ALERT_SWEEP_GRACE_MS = DEFAULT_DELIVERY_LEASE_MS;

/** Default of `AlertSweepDependencies.windowMs`: 35 days, a month's alerts and the days after it (alert markers do not expire). */
export const ALERT_SWEEP_WINDOW_MS = 35 * 86_400_000;

/** Default of `AlertSweepDependencies.maxAlerts`: at ~100 ms a delivery, well within a run of the Lambda (5 minutes). */
export const ALERT_SWEEP_MAX_ALERTS = 500;

/** The part of the aggregates store the sweep uses; `AggregatesStore` is one. */
export type AlertSweepStore = Pick<AggregatesStore, "undeliveredAlerts" | "takeUndeliveredAlert" | "confirmAlertDelivery" | "releaseAlertClaim">;

/** What the sweep reports for the caller to log, each about one alert (and its tenant's month). */
export type AlertSweepEvent = { tenantId: string; month: string } & ({ type: "alert-redelivering"; alert: BudgetAlert } | AlertDeliveryEvent);

/** What the sweep needs. */
export interface AlertSweepDependencies {
  store: AlertSweepStore;
  publisher: AlertPublisher;
  /** Clock, epoch ms. */
  now: Clock;
  /** Alerts fired less than this long ago (ms) are left to the stream path. Default `ALERT_SWEEP_GRACE_MS`. */
  graceMs?: number;
  /** Alerts fired longer ago than this (ms) are not swept. Default `ALERT_SWEEP_WINDOW_MS`. */
  windowMs?: number;
  /** Alerts swept at most in one run, oldest first; the rest wait for the next. Default `ALERT_SWEEP_MAX_ALERTS`. */
  maxAlerts?: number;
  /** Told what happened, for logs; must not throw. */
  onEvent?: (event: AlertSweepEvent) => void;
}

/** Counts of one sweep. */
export interface AlertSweepStats {
  /** Undelivered alerts past the grace period that the index listed. */
  found: number;
  /** Of those, taken over for delivery (the others were still claimed, or delivered since the index saw them). */
  taken: number;
  /** Alerts published. */
  published: number;
  /** Alerts not delivered because their publish, or the store, failed: the next sweep tries again. */
  failures: number;
}

/** What one sweep did. */
export interface AlertSweepResult {
  stats: AlertSweepStats;
  /** Set when an alert could not be delivered. */
  error: AlertSweepError | undefined;
}

/** Alerts the sweep could not deliver; they stay undelivered for the next sweep. */
export class AlertSweepError extends BedrockSpendError {
  /** The `alertId` of each, in the order of `errors`. */
  readonly alertIds: readonly string[];
  readonly errors: readonly Error[];

  constructor(failures: readonly { alertId: string; error: Error }[]) {
    super(`${failures.length} undelivered alert(s) not delivered: ${failures.map(({ alertId, error }) => `${alertId}: ${error.message}`).join("; ")}`, {
      cause: failures[0]?.error,
    });
    this.name = "AlertSweepError";
    this.alertIds = failures.map(({ alertId }) => alertId);
    this.errors = failures.map(({ error }) => error);
  }
}

/**
 * Delivers the alerts fired `graceMs` to `windowMs` ago and not yet published, oldest first. Throws
 * only when the index cannot be read; an alert that could not be delivered is counted and named in
 * `error`, and the others are still delivered.
 */
export async function sweepUndeliveredAlerts(deps: AlertSweepDependencies): Promise<AlertSweepResult> {
  const stats: AlertSweepStats = { found: 0, taken: 0, published: 0, failures: 0 };
  const failures: { alertId: string; error: Error }[] = [];
  const now = deps.now();
  const refs = await deps.store.undeliveredAlerts({
    firedFrom: now - (deps.windowMs ?? ALERT_SWEEP_WINDOW_MS),
    firedUntil: now - (deps.graceMs ?? ALERT_SWEEP_GRACE_MS),
    limit: deps.maxAlerts ?? ALERT_SWEEP_MAX_ALERTS,
  });
  stats.found = refs.length;
  for (const ref of refs) {
    let alert: BudgetAlert | undefined;
    try {
      const taken = await deps.store.takeUndeliveredAlert(ref, deps.now());
      if (!taken) continue;
      alert = taken.alert;
      stats.taken++;
      const { tenantId, month } = alert;
      const emit = (event: DistributiveOmit<AlertSweepEvent, "tenantId" | "month">) => deps.onEvent?.({ tenantId, month, ...event } as AlertSweepEvent);
      emit({ type: "alert-redelivering", alert });
      await deliverAlert(alert, taken.leaseUntil, { store: deps.store, publisher: deps.publisher, clock: deps.now, emit });
      stats.published++;
    } catch (error) {
      stats.failures++;
      // The marker's sort key is `A#` and the rest of its alert id.
      failures.push({
        alertId: alert ? alertIdOf(alert) : `${escapeKeyComponent(ref.tenantId)}#${ref.sk.slice(ALERT_SK_PREFIX.length)}`,
        error: error as Error,
      });
    }
  }
  return { stats, error: failures.length > 0 ? new AlertSweepError(failures) : undefined };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
