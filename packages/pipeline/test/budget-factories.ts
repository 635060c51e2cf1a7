/**
 * Factories of the budget-alert tests: a fresh aggregates table on DynamoDB Local with its stream
 * reader, usage of an exact dollar amount written through the real `UsageWriter`, the alert path
 * (`processBudgetStream`) fed the real stream records, and publishers that fail on purpose.
 * The budget-alert handler's tests build on it (`functions/test/helpers/budget-factories.ts`).
 */
import { randomUUID } from "node:crypto";
import { AlertPublishError, type AlertPublisher, MemoryAlertPublisher } from "@bedrock-spend/adapters";
import { type Budget, type BudgetAlert, defaultCatalog, Pricer, parseInvocationLog, parseUsd, validateBudget } from "@bedrock-spend/core";
import { DynamoDbStreamReader, localDynamoDbClient, localDynamoDbStreamsClient } from "@bedrock-spend/emulators";
import { AggregatesStore, alertIdOf, createAggregatesTable, type InvocationToCount, UsageWriter } from "@bedrock-spend/store";
import type { DynamoDBRecord } from "aws-lambda";
import { expect, inject } from "vitest";
import {
  type BudgetStreamDependencies,
  type BudgetStreamEvent,
  type BudgetStreamResult,
  type BudgetStreamStats,
  processBudgetStream,
} from "../src/budget-alerts";

const pricer = new Pricer({ catalog: defaultCatalog() });

/** The global Claude Haiku 4.5 profile: input at exactly 1.00 USD per million tokens, so one input token costs 1,000,000 pico-dollars. */
const ONE_USD_PER_MILLION = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
const PICO_PER_INPUT_TOKEN = 1_000_000n;
/** The parser's ceiling of tokens per class of one invocation: 100 USD of input at this price. */
const MAX_TOKENS_PER_INVOCATION = 100_000_000n;

/**
 * Priced invocations of `tenantId` at `timestamp` costing exactly `usd` in total (input tokens only,
 * split into invocations of at most 100 USD each).
 */
export function invocationsCosting(tenantId: string, usd: string, timestamp: string): InvocationToCount[] {
  const pico = parseUsd(usd);
  if (pico === undefined || pico % PICO_PER_INPUT_TOKEN !== 0n) throw new Error(`invocationsCosting: ${usd} is not a whole number of micro-dollars`);
  let tokens = pico / PICO_PER_INPUT_TOKEN;
  const invocations: InvocationToCount[] = [];
  while (tokens > 0n) {
    const chunk = tokens > MAX_TOKENS_PER_INVOCATION ? MAX_TOKENS_PER_INVOCATION : tokens;
    tokens -= chunk;
    const requestId = randomUUID();
    const parsed = parseInvocationLog({
      requestId,
      timestamp,
      region: "us-east-1",
      modelId: ONE_USD_PER_MILLION,
      requestMetadata: { tenantId },
      input: { inputTokenCount: Number(chunk), cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
      output: { outputTokenCount: 0 },
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    const priced = pricer.price(parsed.log);
    invocations.push({ record: priced.record, costPico: priced.costPico, origin: requestId });
  }
  return invocations;
}

/** A validated budget, e.g. `budget("100", [50, 80, 100])`. */
export function budget(monthlyUsd: string, thresholds?: number[]): Budget {
  const result = validateBudget({ monthlyUsd, ...(thresholds ? { thresholds } : {}) });
  if (!result.ok) throw new Error(`${result.field} ${result.reason}`);
  return result.budget;
}

/** Options of a scenario. */
export interface ScenarioOptions {
  defaultBudget?: Budget | null;
  /** Initial evaluation clock (epoch ms); `null` for none: records are evaluated at their own time. */
  now?: number | null;
  publisher?: AlertPublisher;
}

/** Counts of every batch processed so far: all zero. */
export function noStats(): BudgetStreamStats {
  return {
    records: 0,
    evaluations: 0,
    failedEvaluations: 0,
    fired: 0,
    forecasts: 0,
    suppressed: 0,
    redelivered: 0,
    published: 0,
    publishFailures: 0,
    invalidBudgets: 0,
  };
}

/**
 * The alert path on a fresh aggregates table (stream on) on the run's DynamoDB Local: write usage
 * and budgets, read the real stream, feed `processBudgetStream`. `totals` adds up the counts of
 * every batch processed, `events` keeps what was reported.
 */
export async function budgetScenario(options: ScenarioOptions = {}) {
  const endpoint = inject("dynamoDbEndpoint");
  const client = localDynamoDbClient(endpoint);
  const tableName = `budget-alerts-${randomUUID()}`;
  await createAggregatesTable(client, tableName);
  const store = new AggregatesStore(client, tableName);
  const writer = new UsageWriter({ client, tableName });
  const reader = new DynamoDbStreamReader({ dynamoDb: client, streams: localDynamoDbStreamsClient(endpoint), tableName });
  const published = new MemoryAlertPublisher();
  const clock = { now: options.now === undefined ? Date.UTC(2026, 10, 2) : options.now };
  const defaultBudget = options.defaultBudget ?? null;
  const totals = noStats();
  const events: BudgetStreamEvent[] = [];
  const fixedClock = clock.now === null ? {} : { now: () => clock.now as number };

  /**
   * Dependencies of the alert path: on the scenario's store, or (`ownClient`) as another instance
   * (Lambda or poller) would have them: its own client, the same table.
   */
  const dependencies = (
    choice: { publisher?: AlertPublisher | undefined; ownClient?: boolean } = {},
  ): BudgetStreamDependencies & { store: AggregatesStore } => ({
    store: choice.ownClient ? new AggregatesStore(localDynamoDbClient(endpoint), tableName) : store,
    publisher: choice.publisher ?? options.publisher ?? published,
    defaultBudget,
    ...fixedClock,
  });

  /** Runs the alert path on `records` with `deps`, adding its counts to `totals`. */
  const run = async (records: readonly DynamoDBRecord[], deps: BudgetStreamDependencies): Promise<BudgetStreamResult> => {
    const result = await processBudgetStream(records, { ...deps, onEvent: (event) => events.push(event) });
    for (const key of Object.keys(totals) as (keyof BudgetStreamStats)[]) totals[key] += result.stats[key];
    return result;
  };
  const deps = dependencies();

  return {
    client,
    tableName,
    store,
    reader,
    published,
    clock,
    totals,
    events,
    dependencies,
    /** The alert path as another instance would run it: its own client, the same table. */
    newProcessor(publisher?: AlertPublisher) {
      const own = dependencies({ publisher, ownClient: true });
      return (records: readonly DynamoDBRecord[]) => run(records, own);
    },
    /** Counts `usd` of usage for the tenant through the real writer (default: 1 November 2026). */
    async spend(tenantId: string, usd: string, timestamp = "2026-11-01T10:00:00Z"): Promise<void> {
      const outcome = await writer.write(invocationsCosting(tenantId, usd, timestamp));
      expect(outcome.failed).toEqual([]);
    },
    /** Sets the tenant's budget. */
    async setBudget(tenantId: string, monthlyUsd: string, thresholds?: number[]): Promise<void> {
      await store.putBudget(tenantId, budget(monthlyUsd, thresholds));
    },
    /** The stream records written since the last read. */
    async nextRecords(): Promise<DynamoDBRecord[]> {
      return reader.poll();
    },
    /** Feeds the alert path the stream records written since the last read (or `records`). */
    async handle(records?: readonly DynamoDBRecord[]): Promise<BudgetStreamResult> {
      return run(records ?? (await reader.poll()), deps);
    },
  };
}

/** `threshold` of the alerts, `F` for the forecast: a compact view for assertions. */
export function firedThresholds(alerts: readonly BudgetAlert[]): (number | "F")[] {
  return alerts.map((alert) => alert.threshold ?? "F");
}

/** A publisher that fails while `failing(alert)` holds, and otherwise keeps the alert. */
export class FailingPublisher implements AlertPublisher {
  readonly delivered = new MemoryAlertPublisher();
  /** Every alert it was asked to publish, failed or not. */
  readonly attempts: BudgetAlert[] = [];

  constructor(public failing: (alert: BudgetAlert) => boolean = () => true) {}

  get alerts(): BudgetAlert[] {
    return this.delivered.alerts;
  }

  async publish(alert: BudgetAlert): Promise<void> {
    this.attempts.push(alert);
    if (this.failing(alert)) {
      throw new AlertPublishError("topic unavailable", {
        publisher: "test",
        alertId: alertIdOf(alert),
        tenantId: alert.tenantId,
        month: alert.month,
        threshold: alert.threshold,
      });
    }
    await this.delivered.publish(alert);
  }
}
