/**
 * Alert publishers: where a fired budget alert is announced. On AWS an SNS topic (people: email,
 * chat) and an EventBridge bus (machines: rules that throttle a tenant, open a ticket); in local
 * mode and tests a list in memory.
 *
 * Firing is once per (tenant, month, threshold), guarded by a marker in the aggregates table;
 * delivery of the notification is at least once (a publish that fails is retried). Every
 * notification therefore carries `alertId`, the same for every delivery of one alert, so that a
 * subscriber can drop repeats.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { BedrockSpendError, type BudgetAlert } from "@bedrock-spend/core";
import { alertIdOf } from "@bedrock-spend/store/items";

/** Announces fired budget alerts. Throws (an `AlertPublishError`) when the alert was not delivered. */
export interface AlertPublisher {
  publish(alert: BudgetAlert): Promise<void>;
}

/** EventBridge `Source` of budget events. */
export const ALERT_EVENT_SOURCE = "bedrock-spend";

/** EventBridge `DetailType` of each kind of alert. */
export const ALERT_DETAIL_TYPES = {
  threshold: "Budget Threshold Reached",
  forecast: "Budget Forecast Exceeded",
} as const satisfies Record<BudgetAlert["kind"], string>;

/** What an `AlertPublishError` is about. */
export interface AlertPublishContext {
  /** Which publisher failed: `sns`, `eventbridge`, `fan-out`. */
  publisher: string;
  /** Topic ARN or event bus name; absent for the fan-out. */
  destination?: string;
  alertId: string;
  tenantId: string;
  month: string;
  threshold: number | null;
}

/** A rejected EventBridge entry. */
export interface RejectedEntry {
  detailType: string;
  errorCode: string;
  errorMessage: string;
}

/** An alert that could not be delivered. `cause` holds the SDK error when there was one. */
export class AlertPublishError extends BedrockSpendError {
  readonly context: AlertPublishContext;
  /** The EventBridge entry that was rejected (PutEvents answered 200 with FailedEntryCount 1). */
  readonly entry: RejectedEntry | undefined;
  /** For the fan-out: the error of each publisher that failed. */
  readonly errors: readonly Error[];

  constructor(message: string, context: AlertPublishContext, options: ErrorOptions & { entry?: RejectedEntry; errors?: readonly Error[] } = {}) {
    super(`${context.publisher}${context.destination ? ` ${context.destination}` : ""}: alert ${context.alertId}: ${message}`, options);
    this.name = "AlertPublishError";
    this.context = context;
    this.entry = options.entry;
    this.errors = options.errors ?? [];
  }
}

function contextOf(alert: BudgetAlert, publisher: string, destination?: string): AlertPublishContext {
  return {
    publisher,
    ...(destination === undefined ? {} : { destination }),
    alertId: alertIdOf(alert),
    tenantId: alert.tenantId,
    month: alert.month,
    threshold: alert.threshold,
  };
}

/**
 * SNS subjects are at most 100 printable ASCII characters, with no line breaks; tenant ids are
 * free text (Bedrock request metadata), so anything else is replaced and the subject clipped.
 */
function snsSubject(alert: BudgetAlert): string {
  const subject = (
    alert.kind === "threshold"
      ? `Budget ${alert.threshold}% reached: ${alert.tenantId} ${alert.month}`
      : `Budget forecast exceeded: ${alert.tenantId} ${alert.month}`
  )
    .replace(/[^\x20-\x7e]/g, "?")
    .trim();
  return subject.length > 100 ? `${subject.slice(0, 99)}~` : subject;
}

/** Publishes each alert to an SNS topic: the alert's JSON as the message, tenant and kind as attributes for filter policies. */
export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(alert: BudgetAlert): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: snsSubject(alert),
          Message: JSON.stringify(alert),
          MessageAttributes: {
            tenantId: { DataType: "String", StringValue: alert.tenantId },
            kind: { DataType: "String", StringValue: alert.kind },
            alertId: { DataType: "String", StringValue: alertIdOf(alert) },
          },
        }),
      );
    } catch (error) {
      throw new AlertPublishError(`Publish failed: ${(error as Error).message}`, contextOf(alert, "sns", this.topicArn), { cause: error });
    }
  }
}

/** The `detail` of a budget event on EventBridge. Money as exact decimal strings. */
export interface BudgetEventDetail {
  alertId: string;
  kind: BudgetAlert["kind"];
  tenantId: string;
  month: string;
  /** Percent of the budget; null for the forecast alert. */
  thresholdPercent: number | null;
  spendUsd: string;
  budgetUsd: string;
  /** Month-end spend projected linearly from the spend so far. */
  forecastMonthEndUsd: string;
}

/** The PutEvents entry of an alert. */
export function budgetEventEntry(alert: BudgetAlert, eventBusName: string): PutEventsRequestEntry {
  const detail: BudgetEventDetail = {
    alertId: alertIdOf(alert),
    kind: alert.kind,
    tenantId: alert.tenantId,
    month: alert.month,
    thresholdPercent: alert.threshold,
    spendUsd: alert.spendUsd,
    budgetUsd: alert.budgetUsd,
    forecastMonthEndUsd: alert.forecastUsd,
  };
  return { EventBusName: eventBusName, Source: ALERT_EVENT_SOURCE, DetailType: ALERT_DETAIL_TYPES[alert.kind], Detail: JSON.stringify(detail) };
}

/** Puts each alert on an EventBridge bus. PutEvents reports rejected entries in a 200 answer: those are failures too. */
export class EventBridgeAlertPublisher implements AlertPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(alert: BudgetAlert): Promise<void> {
    const entry = budgetEventEntry(alert, this.eventBusName);
    const context = contextOf(alert, "eventbridge", this.eventBusName);
    let result: PutEventsCommandOutput;
    try {
      result = await this.client.send(new PutEventsCommand({ Entries: [entry] }));
    } catch (error) {
      throw new AlertPublishError(`PutEvents failed: ${(error as Error).message}`, context, { cause: error });
    }
    if ((result.FailedEntryCount ?? 0) > 0) {
      const rejected = result.Entries?.[0];
      const detail: RejectedEntry = {
        detailType: entry.DetailType ?? "",
        errorCode: rejected?.ErrorCode ?? "Unknown",
        errorMessage: rejected?.ErrorMessage ?? "no error message",
      };
      throw new AlertPublishError(`PutEvents rejected entry 0 (${detail.detailType}): ${detail.errorCode}: ${detail.errorMessage}`, context, { entry: detail });
    }
  }
}

/**
 * Publishes to every publisher, concurrently; fails if any fails, after all have been tried. A
 * retry publishes to all of them again: the ones that had succeeded deliver a repeat, which
 * subscribers drop by `alertId`.
 */
export class FanOutAlertPublisher implements AlertPublisher {
  private readonly publishers: readonly AlertPublisher[];

  constructor(publishers: readonly AlertPublisher[]) {
    this.publishers = [...publishers];
  }

  async publish(alert: BudgetAlert): Promise<void> {
    const results = await Promise.allSettled(this.publishers.map((publisher) => publisher.publish(alert)));
    const errors = results.flatMap((result) =>
      result.status === "rejected" ? [result.reason instanceof Error ? result.reason : new Error(String(result.reason))] : [],
    );
    if (errors.length > 0) {
      const messages = errors.map((error) => error.message).join("; ");
      throw new AlertPublishError(`${errors.length} of ${this.publishers.length} publishers failed: ${messages}`, contextOf(alert, "fan-out"), {
        cause: errors[0],
        errors,
      });
    }
  }
}

/** Keeps the alerts in a list, in publish order: local mode and tests. */
export class MemoryAlertPublisher implements AlertPublisher {
  readonly alerts: BudgetAlert[] = [];

  async publish(alert: BudgetAlert): Promise<void> {
    this.alerts.push({ ...alert });
  }
}

/**
 * The publisher of a deployed handler: SNS when `topicArn` is set, EventBridge when `eventBusName`
 * is, both through a fan-out when both are, with SDK clients in the function's own Region.
 */
export function awsAlertPublisher(config: { topicArn?: string | undefined; eventBusName?: string | undefined }): AlertPublisher {
  const publishers: AlertPublisher[] = [];
  if (config.topicArn) publishers.push(new SnsAlertPublisher(new SNSClient({}), config.topicArn));
  if (config.eventBusName) publishers.push(new EventBridgeAlertPublisher(new EventBridgeClient({}), config.eventBusName));
  if (publishers.length === 0) throw new TypeError("awsAlertPublisher: a topicArn or an eventBusName is required");
  return publishers.length === 1 ? (publishers[0] as AlertPublisher) : new FanOutAlertPublisher(publishers);
}
