/**
 * Delivery of a fired alert whose claim the caller holds: the one way both the stream path
 * (`budget-alerts.ts`) and the sweep (`alert-sweep.ts`) publish, so that both record a delivery,
 * and give a failed one back, with the same conditional writes of the marker.
 */

import type { AlertPublisher } from "@bedrock-spend/adapters";
import type { BudgetAlert, Clock } from "@bedrock-spend/core";
import type { AggregatesStore } from "@bedrock-spend/store";

/** What a delivery reports, each about one alert. */
export type AlertDeliveryEvent =
  | { type: "alert-published"; alert: BudgetAlert }
  | { type: "alert-publish-failed"; alert: BudgetAlert; error: Error }
  /** The claim of a failed publish could not be given back: it lapses by itself after the lease. */
  | { type: "claim-release-failed"; alert: BudgetAlert; error: Error }
  /** Published, not recorded as published: published again once its claim lapses (at least once). */
  | { type: "delivery-confirm-failed"; alert: BudgetAlert; error: Error };

/** What a delivery needs. */
export interface AlertDelivery {
  store: Pick<AggregatesStore, "confirmAlertDelivery" | "releaseAlertClaim">;
  publisher: AlertPublisher;
  /** Epoch ms: when the publish and the release are recorded. */
  clock: Clock;
  /** Told what happened; must not throw. */
  emit: (event: AlertDeliveryEvent) => void;
}

/**
 * Publishes `alert`, then records it as published (`confirmAlertDelivery`, which also takes it out
 * of the undelivered-alerts index). When the publish fails, gives the claim back
 * (`releaseAlertClaim`: `leaseUntil` is the lease the caller took over, undefined for the firer's
 * own claim) so that the next evaluation or sweep delivers it at once, and throws the publisher's
 * error. A failed confirmation is reported, not thrown: the alert was published.
 */
export async function deliverAlert(alert: BudgetAlert, leaseUntil: number | undefined, delivery: AlertDelivery): Promise<void> {
  const { store, publisher, clock, emit } = delivery;
  try {
    await publisher.publish(alert);
  } catch (error) {
    emit({ type: "alert-publish-failed", alert, error: error as Error });
    await store.releaseAlertClaim(alert, leaseUntil, clock()).catch((releaseError: unknown) => {
      emit({ type: "claim-release-failed", alert, error: releaseError as Error });
    });
    throw error;
  }
  emit({ type: "alert-published", alert });
  await store.confirmAlertDelivery(alert, clock()).catch((error: unknown) => {
    // The marker stays undelivered and is published again once its claim lapses (at least once,
    // deduplicated by alertId downstream).
    emit({ type: "delivery-confirm-failed", alert, error: error as Error });
  });
}
