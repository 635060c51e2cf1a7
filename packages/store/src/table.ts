/**
 * The aggregates table's definition for DynamoDB Local and the tests; the CDK stack
 * (stacks/Processing.ts) declares the same keys, index, stream and TTL from `layout.ts`.
 */

import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ScanCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { ALERT_ATTRIBUTES, KIND_ATTRIBUTE, PERIOD_INDEX, PK, SK, TTL_ATTRIBUTE, UNDELIVERED_ALERTS_INDEX } from "./layout";
import { allPages } from "./pages";

/** The key attributes of the undelivered-alerts index, as a table declares them. */
const INDEX_ATTRIBUTES: AttributeDefinition[] = [
  { AttributeName: UNDELIVERED_ALERTS_INDEX.partitionKey, AttributeType: "S" },
  { AttributeName: UNDELIVERED_ALERTS_INDEX.sortKey, AttributeType: "S" },
];

/** The undelivered-alerts index (`UNDELIVERED_ALERTS_INDEX`), on-demand like its table. */
const UNDELIVERED_INDEX: GlobalSecondaryIndex = {
  IndexName: UNDELIVERED_ALERTS_INDEX.name,
  KeySchema: [
    { AttributeName: UNDELIVERED_ALERTS_INDEX.partitionKey, KeyType: "HASH" },
    { AttributeName: UNDELIVERED_ALERTS_INDEX.sortKey, KeyType: "RANGE" },
  ],
  Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...UNDELIVERED_ALERTS_INDEX.projected] },
};

/** The by-period index (`PERIOD_INDEX`) of the cross-tenant report, on-demand like its table. */
const PERIOD_GSI: GlobalSecondaryIndex = {
  IndexName: PERIOD_INDEX.name,
  KeySchema: [
    { AttributeName: PERIOD_INDEX.partitionKey, KeyType: "HASH" },
    { AttributeName: PERIOD_INDEX.sortKey, KeyType: "RANGE" },
  ],
  Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...PERIOD_INDEX.projected] },
};

/**
 * Creates the table (on-demand, stream with new and old images, TTL on dedup items, the
 * undelivered-alerts and by-period indexes), as the CDK stack does on AWS. For DynamoDB Local and tests.
 */
export async function createAggregatesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: PK, AttributeType: "S" },
        { AttributeName: SK, AttributeType: "S" },
        ...INDEX_ATTRIBUTES,
        { AttributeName: PERIOD_INDEX.partitionKey, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: PK, KeyType: "HASH" },
        { AttributeName: SK, KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
      GlobalSecondaryIndexes: [UNDELIVERED_INDEX, PERIOD_GSI],
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
}

/**
 * How long an index being added may stay CREATING before giving up, in polling time. DynamoDB
 * Local fills a new index from the table's items before it is ACTIVE: seconds on a quiet machine,
 * more than 30 on a loaded one (measured), with two indexes to add to an older table.
 */
const INDEX_WAIT_MS = 120_000;

/**
 * Adds the undelivered-alerts index to a table created without it (a local data dir of an earlier
 * version), lists in it the alerts that table holds fired and not yet published (a scan of the
 * table, once: fine locally, not how a deployed table is migrated), and waits until the index is
 * active (30 s at most). Returns whether the index was added.
 */
export async function ensureUndeliveredAlertsIndex(client: DynamoDBClient, tableName: string, pollMs = 100): Promise<boolean> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if ((table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === UNDELIVERED_ALERTS_INDEX.name)) return false;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: INDEX_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: UNDELIVERED_INDEX }],
      }),
    );
  } catch (error) {
    // Another process is adding it: wait for it below.
    if ((error as Error).name !== "ResourceInUseException") throw error;
  }
  // DynamoDB Local reports the index CREATING for a second or two, and fails writes to the table meanwhile.
  await waitForActiveIndex(client, tableName, UNDELIVERED_ALERTS_INDEX.name, pollMs);
  const undelivered = await allPages((start) =>
    client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "#kind = :alert AND attribute_not_exists(#published) AND attribute_not_exists(#undelivered)",
        ExpressionAttributeNames: {
          "#kind": KIND_ATTRIBUTE,
          "#published": ALERT_ATTRIBUTES.publishedAt,
          "#undelivered": ALERT_ATTRIBUTES.undelivered,
          "#pk": PK,
          "#sk": SK,
        },
        ExpressionAttributeValues: { ":alert": { S: "alert" } },
        ProjectionExpression: "#pk, #sk",
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
  for (const key of undelivered) {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: "SET #undelivered = :partition",
          ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(#published)",
          ExpressionAttributeNames: { "#undelivered": ALERT_ATTRIBUTES.undelivered, "#pk": PK, "#published": ALERT_ATTRIBUTES.publishedAt },
          ExpressionAttributeValues: { ":partition": { S: UNDELIVERED_ALERTS_INDEX.partition } },
        }),
      );
    } catch (error) {
      // Published since the scan read it: nothing to list.
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }
  return true;
}

/**
 * Adds the by-period index to a table created without it (a local data dir of an earlier
 * version) and waits until it is active (60 s at most): DynamoDB fills a new index from the items
 * the table holds. Returns whether the index was added.
 */
export async function ensurePeriodIndex(client: DynamoDBClient, tableName: string, pollMs = 100): Promise<boolean> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if ((table?.GlobalSecondaryIndexes ?? []).some((index) => index.IndexName === PERIOD_INDEX.name)) return false;
  try {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: PERIOD_INDEX.partitionKey, AttributeType: "S" },
          { AttributeName: PK, AttributeType: "S" },
        ],
        GlobalSecondaryIndexUpdates: [{ Create: PERIOD_GSI }],
      }),
    );
  } catch (error) {
    // Another process is adding it: wait for it below.
    if ((error as Error).name !== "ResourceInUseException") throw error;
  }
  await waitForActiveIndex(client, tableName, PERIOD_INDEX.name, pollMs);
  return true;
}

/**
 * Polls DescribeTable until the index is ACTIVE (INDEX_WAIT_MS at most). A 500 on a poll is taken
 * as "not yet": DynamoDB Local answers DescribeTable InternalFailure now and then while it fills a
 * new index, after the SDK's own retries.
 */
async function waitForActiveIndex(client: DynamoDBClient, tableName: string, indexName: string, pollMs: number): Promise<void> {
  let status = "missing";
  for (let attempt = 1; ; attempt++) {
    try {
      const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
      status = table?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === indexName)?.IndexStatus ?? "missing";
      if (status === "ACTIVE") return;
    } catch (error) {
      if (((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0) < 500) throw error;
      status = `unknown (DescribeTable answered ${(error as Error).name})`;
    }
    if (attempt * pollMs >= INDEX_WAIT_MS) throw new Error(`${tableName}: the index ${indexName} is still ${status}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
