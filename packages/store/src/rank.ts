/**
 * The tenants of a month ranked by cost, without a write on the aggregate path.
 *
 * A month total (`T#<tenant>` / `M#<month>`) is listed in its month's rank partition
 * (`K#<month>`) by a small entry whose sort key is `<bucket>#<tenant pk>`: the bucket is a coarse,
 * monotone function of the total's cost (`rankBucket`: four buckets per doubling). A Query of the
 * partition in descending order gives the tenants bucket by bucket, costliest first; the report
 * then reads the exact totals of the buckets it needs (BatchGetItem) and ranks them exactly. No
 * total outside those buckets can rank above them, because the bucket never decreases as the cost
 * grows.
 *
 * Entries are kept by the consumer of the table's change stream (the budget-alert function, and
 * local mode's mapping), from each month total's new image: only when the total's bucket changes,
 * which for a tenant happens a few dozen times a month, not once per counter update. The month
 * item records the sort key of its entry (`rank`), so that a move deletes the old entry in the
 * same transaction that puts the new one. The aggregate writer never touches either, so counting
 * costs no more than it did; the price is a ranking that lags the totals by the stream's delay
 * (the amounts themselves are read from the totals when the report is asked).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { BedrockSpendError, isMonthKey, mapLimited, monthBounds, type UsageCounters } from "@bedrock-spend/core";
import { costPicoOfItem, countersFromItem, type Item } from "./items";
import { monthSk, tenantFromPk, tenantPk } from "./keys";
import { KIND_ATTRIBUTE, PK, SK } from "./layout";
import { batchGetAll } from "./pages";

/** Attribute of a month total holding the sort key of its rank entry. */
export const RANK_ATTRIBUTE = "rank";

/** `kind` of a rank entry. */
export const RANK_KIND = "rank";

/** `kind` of the marker saying since when the rank entries follow every change of the month totals. */
export const RANK_SINCE_KIND = "rank-since";

/**
 * Key of that marker. `K#since` cannot be a month's rank partition (a month is `YYYY-MM`); the
 * stream consumer writes it once, if absent, and nothing ever changes it. The same partition
 * holds one item per month made complete by `syncMonth` (sort key `M#<month>`).
 */
export const RANK_SINCE_KEY = { pk: "K#since", sk: "since" } as const;

/** Buckets per doubling of the cost: finer buckets mean more moves a month, fewer totals read per report. */
const BUCKETS_PER_DOUBLING = 4;
/** Digits of a bucket in a sort key: costs up to 2^2499 pico-dollars, far beyond any total. */
const BUCKET_DIGITS = 4;

/** Partition key of a month's rank entries. */
export function rankPk(month: string): string {
  return `K#${month}`;
}

/**
 * The rank bucket of a cost in pico-dollars: 0 for nothing, else 1 + 4 x (bit length - 1) + the
 * next two bits below the leading one. Monotone (a larger cost never has a smaller bucket), and
 * exact (integer arithmetic only).
 */
export function rankBucket(costPico: bigint): number {
  if (costPico <= 0n) return 0;
  const bits = costPico.toString(2);
  const next = bits.length > 1 ? Number.parseInt(bits.slice(1, 3).padEnd(2, "0"), 2) : 0;
  return 1 + BUCKETS_PER_DOUBLING * (bits.length - 1) + next;
}

/** Sort key of a tenant's rank entry in its month's partition. */
export function rankSk(bucket: number, pk: string): string {
  return `${String(bucket).padStart(BUCKET_DIGITS, "0")}#${pk}`;
}

/** The key of the rank marker, as a DynamoDB key. */
function sinceKey(): Record<string, AttributeValue> {
  return { [PK]: { S: RANK_SINCE_KEY.pk }, [SK]: { S: RANK_SINCE_KEY.sk } };
}

/** The key of the item recording that a month's entries were synced. */
function syncedMonthKey(month: string): Record<string, AttributeValue> {
  return { [PK]: { S: RANK_SINCE_KEY.pk }, [SK]: { S: monthSk(month) } };
}

/** The bucket a rank entry's sort key names. */
export function bucketOfRankSk(sk: string): number {
  return Number(sk.slice(0, BUCKET_DIGITS));
}

/** A month total whose rank entry may have to move, as a stream record shows it. */
export interface RankChange {
  month: string;
  tenantId: string;
  /** The entry's sort key the total now calls for; undefined when the total was removed. */
  wanted: string | undefined;
  /** The entry's sort key the total records (its `rank`); undefined when it has none yet. */
  current: string | undefined;
}

/**
 * What a change of the table means for the ranking: a month total inserted, modified or removed,
 * from the record's keys and images; undefined for anything else, and for a total whose entry is
 * already where its cost puts it.
 */
export function rankChangeOf(
  eventName: string | undefined,
  keys: Item | undefined,
  newImage: Item | undefined,
  oldImage: Item | undefined,
): RankChange | undefined {
  const pk = keys?.[PK]?.S ?? "";
  const tenantId = tenantFromPk(pk);
  const sk = keys?.[SK]?.S ?? "";
  const month = sk.slice(monthSk("").length);
  if (tenantId === undefined || !sk.startsWith(monthSk("")) || !isMonthKey(month)) return undefined;
  if (eventName === "REMOVE") {
    const current = oldImage?.[RANK_ATTRIBUTE]?.S;
    return current === undefined ? undefined : { month, tenantId, wanted: undefined, current };
  }
  // Without a new image (a KEYS_ONLY stream) the total is read by `syncRank` instead.
  if (!newImage) return undefined;
  const wanted = rankSk(rankBucket(costPicoOfItem(newImage) ?? 0n), pk);
  const current = newImage[RANK_ATTRIBUTE]?.S;
  return wanted === current ? undefined : { month, tenantId, wanted, current };
}

/** A month total as the report reads it: its counters and when they last changed (epoch seconds). */
export interface RankedTotal {
  tenantId: string;
  counters: UsageCounters;
  updatedAt: number | undefined;
}

/** A rank entry could not be moved for a reason other than a newer move. */
export class RankMoveError extends BedrockSpendError {
  readonly tenantId: string;
  readonly month: string;

  constructor(tenantId: string, month: string, cause: unknown) {
    super(`rank entry of ${JSON.stringify(tenantId)} for ${month}: ${(cause as Error).message}`, { cause });
    this.name = "RankMoveError";
    this.tenantId = tenantId;
    this.month = month;
  }
}

/** A month's rank entries could not be synced. */
export class RankSyncError extends BedrockSpendError {
  readonly month: string;

  constructor(month: string, reason: string, options?: ErrorOptions) {
    super(`rank entries of ${month} not synced: ${reason}`, options);
    this.name = "RankSyncError";
    this.month = month;
  }
}

/** The rank entries of a month, and the reads of the totals they point at. */
export class TenantRanking {
  /** The marker's value once read (it never changes). */
  private knownSince: number | undefined;
  /** Months found synced (`syncMonth`): that never changes either. */
  private readonly syncedMonths = new Set<string>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Moves a total's entry: puts the wanted entry, deletes the current one, and records the wanted
   * sort key on the total, in one transaction conditioned on the total still recording `current`.
   * Returns false when that condition failed: another move (a retried batch, a later record) came
   * first, and the total's next change moves it from there. Transactional writes: 2 units per item.
   */
  async move(change: RankChange): Promise<boolean> {
    const pk = tenantPk(change.tenantId);
    const total = { [PK]: { S: pk }, [SK]: { S: monthSk(change.month) } };
    const entryKey = (sk: string) => ({ [PK]: { S: rankPk(change.month) }, [SK]: { S: sk } });
    const items: TransactWriteItem[] = [];
    if (change.current !== undefined && change.current !== change.wanted) items.push({ Delete: { TableName: this.tableName, Key: entryKey(change.current) } });
    if (change.wanted === undefined) {
      return this.send(items, change);
    }
    items.push({
      Put: {
        TableName: this.tableName,
        Item: { ...entryKey(change.wanted), tenantId: { S: change.tenantId }, [KIND_ATTRIBUTE]: { S: RANK_KIND } },
      },
    });
    items.push({
      Update: {
        TableName: this.tableName,
        Key: total,
        UpdateExpression: "SET #rank = :wanted",
        // The total must exist (never create one from here) and still record the entry this move replaces.
        ConditionExpression: change.current === undefined ? "attribute_exists(#pk) AND attribute_not_exists(#rank)" : "#rank = :current",
        ExpressionAttributeNames: { "#rank": RANK_ATTRIBUTE, ...(change.current === undefined ? { "#pk": PK } : {}) },
        ExpressionAttributeValues: { ":wanted": { S: change.wanted }, ...(change.current === undefined ? {} : { ":current": { S: change.current } }) },
      },
    });
    return this.send(items, change);
  }

  /**
   * Puts a total's entry where its cost calls for, reading the total (strongly consistent): for a
   * total no stream record will move (written before rank entries existed, or seen on a stream
   * without images). Returns whether it moved.
   */
  async sync(tenantId: string, month: string): Promise<boolean> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [PK]: { S: tenantPk(tenantId) }, [SK]: { S: monthSk(month) } }, ConsistentRead: true }),
    );
    if (!result.Item) return false;
    const change = rankChangeOf("MODIFY", result.Item, result.Item, undefined);
    return change ? this.move(change) : false;
  }

  /**
   * The tenants of a month's highest buckets, whole buckets, from `startBucket` down (from the top
   * when undefined) until they hold at least `enough` tenants (not counting the first bucket when
   * `startBucket` is given: a cursor's bucket also holds groups before it), or the month has no
   * more. Every tenant not returned has a lower bucket, hence a lower cost, than every tenant
   * returned. Eventually consistent reads of the partition, half a unit per 4 KB.
   */
  async candidates(month: string, enough: number, startBucket?: number): Promise<{ tenantIds: string[]; buckets: number }> {
    const tenantIds: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    let firstBucket: number | undefined;
    let lastBucket: number | undefined;
    let pastFirst = 0;
    let buckets = 0;
    const upper = startBucket === undefined ? undefined : rankSk(startBucket + 1, "");
    for (;;) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: upper === undefined ? "#pk = :pk" : "#pk = :pk AND #sk < :upper",
          ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
          ExpressionAttributeValues: { ":pk": { S: rankPk(month) }, ...(upper === undefined ? {} : { ":upper": { S: upper } }) },
          ProjectionExpression: "#sk, tenantId",
          ScanIndexForward: false,
          Limit: Math.min(1000, Math.max(100, enough + 1)),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const bucket = bucketOfRankSk(item[SK]?.S ?? "");
        if (bucket !== lastBucket) {
          // A bucket is complete once one below it appears: stop there if enough are sure to follow
          // the cursor (with one, the first bucket may also hold groups before it).
          if (lastBucket !== undefined && (startBucket === undefined ? tenantIds.length : pastFirst) >= enough) return { tenantIds, buckets };
          lastBucket = bucket;
          buckets++;
        }
        firstBucket ??= bucket;
        const tenantId = item.tenantId?.S;
        if (tenantId === undefined) continue;
        tenantIds.push(tenantId);
        if (bucket !== firstBucket) pastFirst++;
      }
      start = page.LastEvaluatedKey;
      if (!start) return { tenantIds, buckets };
    }
  }

  /**
   * The month totals of these tenants that exist, read by BatchGetItem in chunks of 100, up to 8
   * chunks at once; eventually consistent (half a unit per item under 4 KB).
   */
  async totals(month: string, tenantIds: readonly string[]): Promise<RankedTotal[]> {
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let index = 0; index < tenantIds.length; index += 100)
      chunks.push(tenantIds.slice(index, index + 100).map((tenantId) => ({ [PK]: { S: tenantPk(tenantId) }, [SK]: { S: monthSk(month) } })));
    const pages = await mapLimited(chunks, 8, (keys) => batchGetAll(this.client, this.tableName, keys, undefined, { consistentRead: false }));
    const totals: RankedTotal[] = [];
    for (const item of pages.flat()) {
      const tenantId = tenantFromPk(item[PK]?.S ?? "");
      if (tenantId === undefined) continue;
      const updatedAt = Number(item.updatedAt?.N);
      totals.push({ tenantId, counters: countersFromItem(item), updatedAt: Number.isFinite(updatedAt) ? updatedAt : undefined });
    }
    return totals;
  }

  /**
   * Since when (epoch seconds) the table's stream consumer has moved the entry of every month
   * total that changed, from its marker; undefined until the consumer has run. Once read it is
   * kept: the marker never changes.
   */
  async since(): Promise<number | undefined> {
    if (this.knownSince !== undefined) return this.knownSince;
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: sinceKey(), ConsistentRead: true }));
    const since = Number(result.Item?.since?.N);
    if (result.Item && Number.isSafeInteger(since)) this.knownSince = since;
    return this.knownSince;
  }

  /**
   * Writes the marker unless it exists (the first consumer to run wins; a concurrent one reads the
   * winner's), and returns the marker's value.
   */
  async markSince(seconds: number): Promise<number> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...sinceKey(), since: { N: String(seconds) }, [KIND_ATTRIBUTE]: { S: RANK_SINCE_KIND } },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": PK },
        }),
      );
      this.knownSince = seconds;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === "ConditionalCheckFailedException")) throw error;
    }
    const since = await this.since();
    if (since === undefined) throw new Error(`the rank marker of ${this.tableName} is neither absent nor readable`);
    return since;
  }

  /**
   * Whether a month's entries list every total of the month: the consumer followed every change
   * since before the month began, or `syncMonth` put all its totals in place. A month that began
   * earlier (counted, at least in part, before this version ran) has entries only for the totals
   * that changed since, until it is synced.
   */
  async complete(month: string): Promise<boolean> {
    const since = await this.since();
    if (since !== undefined && since * 1000 <= monthBounds(month).start) return true;
    if (this.syncedMonths.has(month)) return true;
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: syncedMonthKey(month), ConsistentRead: true }));
    if (result.Item) this.syncedMonths.add(month);
    return result.Item !== undefined;
  }

  /**
   * Puts the entry of every total of a month where its cost calls for, then records the month as
   * complete (`syncedAt`: epoch seconds). For a month that began before the rank marker: once the
   * marker exists, every later change reaches the entries through the stream, so a scan started
   * after it finds every total the stream will not move. A total that changes during the scan is
   * safe too: each move rewrites the total's `rank`, whose stream record carries the latest cost
   * and moves the entry again if it has to. A parallel Scan of the whole table (its read units are
   * the table's size, whatever the filter keeps), `segments` at once.
   * @throws RankSyncError when the stream consumer has not written the marker yet
   */
  async syncMonth(month: string, nowSeconds: number, segments = 4): Promise<{ totals: number; moved: number }> {
    if ((await this.since()) === undefined)
      throw new RankSyncError(month, "the table's stream consumer (the budget-alert function) has not run since this version was deployed: no rank marker yet");
    const counts = { totals: 0, moved: 0 };
    const scanSegment = async (segment: number) => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: "#sk = :sk AND begins_with(#pk, :tenant)",
            ExpressionAttributeNames: { "#pk": PK, "#sk": SK },
            ExpressionAttributeValues: { ":sk": { S: monthSk(month) }, ":tenant": { S: tenantPk("") } },
            Segment: segment,
            TotalSegments: segments,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          counts.totals++;
          const change = rankChangeOf("MODIFY", item, item, undefined);
          if (change && (await this.move(change))) counts.moved++;
        }
        start = page.LastEvaluatedKey;
      } while (start);
    };
    await Promise.all(Array.from({ length: segments }, (_, segment) => scanSegment(segment)));
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...syncedMonthKey(month), syncedAt: { N: String(nowSeconds) }, totals: { N: String(counts.totals) }, [KIND_ATTRIBUTE]: { S: RANK_SINCE_KIND } },
      }),
    );
    this.syncedMonths.add(month);
    return counts;
  }

  /** The table's item count as DescribeTable gives it (AWS refreshes it about every six hours); undefined when it gives none. */
  async approximateItemCount(): Promise<number | undefined> {
    return (await this.client.send(new DescribeTableCommand({ TableName: this.tableName }))).Table?.ItemCount;
  }

  private async send(items: TransactWriteItem[], change: RankChange): Promise<boolean> {
    if (items.length === 0) return false;
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const conditionFailed = reasons.some((reason) => reason.Code === "ConditionalCheckFailed");
      if ((error instanceof TransactionCanceledException || (error as Error).name === "TransactionCanceledException") && conditionFailed) return false;
      throw new RankMoveError(change.tenantId, change.month, error);
    }
  }
}
