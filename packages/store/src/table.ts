/**
 * The aggregates table's definition, shared by the CDK stack, local mode and the tests, and the
 * attribute encoding of counters.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { emptyCounters, type UsageCounters } from "@bedrock-spend/core";
import { PK, SK, TTL_ATTRIBUTE } from "./table-attributes";

export { PK, SK, TTL_ATTRIBUTE } from "./table-attributes";

/** Counter attribute names, in `UsageCounters` order. */
export const COUNTER_ATTRIBUTES = {
  invocations: "invocations",
  unpricedInvocations: "unpriced",
  inputTokens: "inputTokens",
  outputTokens: "outputTokens",
  cacheReadTokens: "cacheReadTokens",
  cacheWriteTokens: "cacheWriteTokens",
  costPico: "costPico",
} as const satisfies Record<keyof UsageCounters, string>;

/** Reads counters from a DynamoDB item (absent attributes are zero). */
export function countersFromItem(item: Record<string, AttributeValue> | undefined): UsageCounters {
  const counters = emptyCounters();
  if (!item) return counters;
  const number = (name: string): number => Number(item[name]?.N ?? "0");
  counters.invocations = number(COUNTER_ATTRIBUTES.invocations);
  counters.unpricedInvocations = number(COUNTER_ATTRIBUTES.unpricedInvocations);
  counters.inputTokens = number(COUNTER_ATTRIBUTES.inputTokens);
  counters.outputTokens = number(COUNTER_ATTRIBUTES.outputTokens);
  counters.cacheReadTokens = number(COUNTER_ATTRIBUTES.cacheReadTokens);
  counters.cacheWriteTokens = number(COUNTER_ATTRIBUTES.cacheWriteTokens);
  // Cost is an integer count of pico-dollars: parsed as bigint, never as a float.
  counters.costPico = BigInt(item[COUNTER_ATTRIBUTES.costPico]?.N ?? "0");
  return counters;
}

/**
 * Creates the table (on-demand, stream with new and old images, TTL on dedup items), as the CDK
 * stack does on AWS. For DynamoDB Local and tests.
 */
export async function createAggregatesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: "S" },
        { AttributeName: SK, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: PK, KeyType: "HASH" },
        { AttributeName: SK, KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
}
