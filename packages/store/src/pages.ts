/** Paging through DynamoDB results (Query, Scan): every page until there is no `LastEvaluatedKey`. */
import { type AttributeValue, BatchGetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

type Key = Record<string, AttributeValue>;

/** The items of every page `fetch` returns, each page asked for from the last one's `LastEvaluatedKey`. */
export async function allPages(fetch: (start: Key | undefined) => Promise<{ Items?: Key[] | undefined; LastEvaluatedKey?: Key | undefined }>): Promise<Key[]> {
  const items: Key[] = [];
  let start: Key | undefined;
  do {
    const page = await fetch(start);
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Every item of `keys` that exists (strongly consistent unless `consistentRead` is false: half the
 * read units), by BatchGetItem in chunks of 100, the unprocessed keys of each chunk asked again
 * with a growing pause (10 attempts).
 */
export async function batchGetAll(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Key[],
  projection?: { expression: string; names: Record<string, string> },
  { consistentRead = true }: { consistentRead?: boolean } = {},
): Promise<Key[]> {
  const items: Key[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let batch: Key[] | undefined = keys.slice(start, start + 100);
    for (let attempt = 1; batch && batch.length > 0; attempt++) {
      const result: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tableName]: {
              Keys: batch,
              ConsistentRead: consistentRead,
              ...(projection ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names } : {}),
            },
          },
        }),
      );
      items.push(...(result.Responses?.[tableName] ?? []));
      batch = result.UnprocessedKeys?.[tableName]?.Keys;
      if (batch && batch.length > 0) {
        if (attempt >= 10) throw new Error(`BatchGetItem left ${batch.length} keys unprocessed after ${attempt} attempts`);
        await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
      }
    }
  }
  return items;
}
