/** Paging through DynamoDB results (Query, Scan): every page until there is no `LastEvaluatedKey`. */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

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
