/**
 * The aggregates table's definition for DynamoDB Local and the tests; the CDK stack declares the
 * same keys, stream and TTL from `items.ts`.
 */

import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { PK, SK, TTL_ATTRIBUTE } from "./layout";

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
