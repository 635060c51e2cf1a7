/**
 * Factories of the budget-alert handler's tests: the alert path's scenario
 * (`packages/pipeline/test/budget-factories.ts`: a fresh aggregates table on DynamoDB Local, usage
 * through the real writer, the real stream) with the handler fed the stream as Lambda events.
 */
import type { AlertPublisher } from "@bedrock-spend/adapters";
import { toDynamoDbStreamEvent } from "@bedrock-spend/emulators";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { budgetScenario as alertPathScenario, type ScenarioOptions } from "../../../packages/pipeline/test/budget-factories";
import { createBudgetAlertHandler } from "../../src/budget-alert";

export { budget, FailingPublisher, firedThresholds, invocationsCosting, type ScenarioOptions } from "../../../packages/pipeline/test/budget-factories";

/** A handler on a fresh aggregates table (stream on): write usage and budgets, read the real stream, feed the handler. */
export async function budgetScenario(options: ScenarioOptions = {}) {
  const scenario = await alertPathScenario(options);
  const handler = createBudgetAlertHandler(scenario.dependencies());
  return {
    ...scenario,
    /** A handler as another Lambda instance would have it: its own client, the same table. */
    newHandler: (publisher?: AlertPublisher) => createBudgetAlertHandler(scenario.dependencies({ publisher, ownClient: true })),
    /** The stream records written since the last call, as the Lambda event. */
    async nextEvent(): Promise<DynamoDBStreamEvent> {
      return toDynamoDbStreamEvent(await scenario.reader.poll());
    },
    /** Feeds the handler the stream records written since the last read (or `event`). */
    async handle(event?: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
      return handler(event ?? toDynamoDbStreamEvent(await scenario.reader.poll()));
    },
  };
}
