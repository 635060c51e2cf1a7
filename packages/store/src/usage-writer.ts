/**
 * Exactly-once aggregation into DynamoDB.
 *
 * Each invocation is counted in the same atomic write that marks it counted: a transaction holds,
 * for a group of invocations, one conditional Put of a dedup item per invocation
 * (`attribute_not_exists`, keyed by Bedrock's `requestId`) and one `ADD` Update per aggregate item
 * with the group's pre-aggregated delta. Either the whole group is counted and marked, or nothing
 * is. A replay (retried batch, bisected batch, duplicate log event, re-ingested file, redrive) finds
 * the dedup items: the cancellation reasons name the invocations already counted, which are dropped
 * before the rest is retried. Marking before counting (OpenMeter #5118) or counting without a
 * marker (LiteLLM #28247) is what this avoids.
 *
 * Write cost: transactional writes cost 2 WCU per item (up to 1 KB). Grouping a tenant's
 * invocations shares the aggregate updates, so a batch of n invocations of t tenants costs about
 * 2 x (n + 2t) WCU instead of 2 x 3n for one transaction per invocation.
 */
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  type DynamoDBClient,
  IdempotentParameterMismatchException,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { type Clock, DEFAULT_SETTLE_DAYS, monthBounds, systemClock, type UsageRecord } from "@bedrock-spend/core";
import { type AggregateDelta, type AggregationOptions, aggregateKeysOf, type CountableInvocation, preAggregate } from "./aggregation";
import { dedupKey } from "./keys";
import { COUNTER_ATTRIBUTES, MARKER_ATTRIBUTES, PERIOD_INDEX, PK, SK, TTL_ATTRIBUTE } from "./layout";

/** DynamoDB's limit of actions per transaction. */
export const MAX_TRANSACTION_ACTIONS = 100;

/** Error codes after which the same transaction may succeed if retried. */
const RETRYABLE_CANCELLATIONS = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]);
const RETRYABLE_ERRORS = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "TransactionInProgressException",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
]);

/** Retry policy: full-jitter exponential backoff. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Options of the writer. */
export interface UsageWriterOptions extends AggregationOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Days a dedup item lives after it is written. Default 35: longer than every retry path (Kinesis 7 d, DLQ 14 d). */
  dedupRetentionDays?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Clock of the dedup items' `countedAt` and TTL, and of `updatedAt`, read once per transaction
   * token (retries under the token resend that time). Default the machine's.
   */
  now?: Clock;
}

/** An invocation to count, with the identifier of where it came from (e.g. a Kinesis sequence number). */
export interface InvocationToCount<Origin = string> extends CountableInvocation {
  origin: Origin;
}

/** What happened to each invocation. */
export interface WriteOutcome<Origin = string> {
  /** Counted by this call. */
  counted: InvocationToCount<Origin>[];
  /** Already counted (by an earlier delivery, or twice in this input). */
  duplicates: InvocationToCount<Origin>[];
  /** Not counted because their group failed after all retries; retry them later. */
  failed: { invocation: InvocationToCount<Origin>; error: Error }[];
  /** Transactions committed. */
  transactions: number;
  /** Write units of the committed transactions, by DynamoDB's rule: 2 per item per started KB. */
  writeUnits: number;
  /**
   * Write units the by-period index adds to them: DynamoDB writes an item's index entry whenever
   * a projected attribute changes (every counter update does), a standard write of 1 unit per
   * started KB; every entry here is under 1 KB.
   */
  indexWriteUnits: number;
  /** DynamoDB calls made, including those that failed. */
  calls: number;
}

/** One transaction and the token it is sent under: every send of the token sends these items. */
interface PreparedTransaction {
  token: string;
  items: TransactWriteItem[];
  size: number;
  indexUnits: number;
}

interface Group<Origin> {
  invocations: InvocationToCount<Origin>[];
  keys: Set<string>;
}

/** Writes usage to the aggregates table exactly once. */
export class UsageWriter {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly options: AggregationOptions;
  private readonly retentionSeconds: number;
  private readonly retry: RetryPolicy;
  private readonly now: Clock;

  constructor(options: UsageWriterOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.options = options.breakdowns ? { breakdowns: options.breakdowns } : {};
    this.retentionSeconds = Math.round((options.dedupRetentionDays ?? 35) * 86_400);
    this.retry = { maxAttempts: 8, baseDelayMs: 25, maxDelayMs: 2_000, ...options.retry };
    this.now = options.now ?? systemClock;
  }

  /**
   * Counts each distinct invocation (by request id) exactly once, across calls and processes.
   * Never throws for a write failure: failed groups are reported in `failed`, so that the caller
   * can report a partial batch failure and let the event source retry them.
   */
  async write<Origin>(invocations: readonly InvocationToCount<Origin>[]): Promise<WriteOutcome<Origin>> {
    const outcome: WriteOutcome<Origin> = { counted: [], duplicates: [], failed: [], transactions: 0, writeUnits: 0, indexWriteUnits: 0, calls: 0 };
    const unique: InvocationToCount<Origin>[] = [];
    const seen = new Set<string>();
    for (const invocation of invocations) {
      if (seen.has(invocation.record.request_id)) outcome.duplicates.push(invocation);
      else {
        seen.add(invocation.record.request_id);
        unique.push(invocation);
      }
    }
    for (const group of this.group(unique)) await this.writeGroup(group, outcome);
    return outcome;
  }

  /**
   * Packs invocations into groups that fit one transaction: one action per invocation plus one per
   * distinct aggregate item. A tenant's invocations go together so that they share updates; a
   * tenant that needs more than one transaction is cut into chunks, each with the keys it touches.
   * Chunks are then packed first-fit decreasing: every aggregate item is written once per batch
   * except where a single tenant overflows a transaction, which is what keeps the write units at
   * the minimum for the batch's distinct keys (the `aggregate` benchmark checks that ratio).
   */
  private group<Origin>(invocations: InvocationToCount<Origin>[]): Group<Origin>[] {
    const byTenant = new Map<string, InvocationToCount<Origin>[]>();
    for (const invocation of invocations) {
      const list = byTenant.get(invocation.record.tenant_id);
      if (list) list.push(invocation);
      else byTenant.set(invocation.record.tenant_id, [invocation]);
    }
    const chunks: Group<Origin>[] = [];
    for (const list of byTenant.values()) {
      let keyed = list.map((invocation) => ({ invocation, keys: aggregateKeysOf(invocation.record, this.options).map((key) => `${key.pk}\u0000${key.sk}`) }));
      // A tenant too big for one transaction is cut in key order, so that its chunks share as few
      // aggregate items as possible (mostly just the month item) and few items are written twice.
      if (new Set(keyed.flatMap((entry) => entry.keys)).size + keyed.length > MAX_TRANSACTION_ACTIONS) {
        keyed = keyed.map((entry) => ({ ...entry, order: entry.keys.join("\u0001") })).sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
      }
      let chunk: Group<Origin> = { invocations: [], keys: new Set() };
      for (const { invocation, keys } of keyed) {
        const fresh = keys.filter((key) => !chunk.keys.has(key));
        if (chunk.invocations.length > 0 && weight(chunk) + 1 + fresh.length > MAX_TRANSACTION_ACTIONS) {
          chunks.push(chunk);
          chunk = { invocations: [], keys: new Set(keys) };
        } else {
          for (const key of fresh) chunk.keys.add(key);
        }
        chunk.invocations.push(invocation);
      }
      if (chunk.invocations.length > 0) chunks.push(chunk);
    }
    // Stable sort: equal weights keep first-seen order, so grouping is deterministic.
    chunks.sort((a, b) => weight(b) - weight(a));
    const groups: Group<Origin>[] = [];
    for (const chunk of chunks) {
      // Keys of different tenants never coincide (the tenant is in the partition key), and two
      // chunks of one tenant never fit together, so a group's weight is the sum of its chunks'.
      const target = groups.find((group) => weight(group) + weight(chunk) <= MAX_TRANSACTION_ACTIONS);
      if (target) {
        target.invocations.push(...chunk.invocations);
        for (const key of chunk.keys) target.keys.add(key);
      } else {
        groups.push({ invocations: [...chunk.invocations], keys: new Set(chunk.keys) });
      }
    }
    return groups;
  }

  private async writeGroup<Origin>(group: Group<Origin>, outcome: WriteOutcome<Origin>): Promise<void> {
    let pending = group.invocations;
    let attempt = 0;
    // A token is fresh for each write and after each cancellation (a cancelled transaction did not
    // commit). After an ambiguous failure (timeout, 5xx) it is kept, so that a commit whose answer
    // was lost makes the retry a no-op instead of a second count. DynamoDB compares a retry with
    // the first request of its token, and answers IdempotentParameterMismatch if anything differs:
    // so the items are built once per token, at the time the token was drawn, and a retry resends
    // them as they were, even when the clock has moved on during the backoff. Across writes,
    // replays are caught by the dedup conditions, which also tell which invocations were duplicates.
    let prepared = this.prepare(pending);
    // Whether the next send repeats a request that DynamoDB may already have seen under its token.
    let resend = false;
    for (;;) {
      if (pending.length === 0) return;
      attempt++;
      outcome.calls++;
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: prepared.items, ClientRequestToken: prepared.token }));
        outcome.transactions++;
        // Computed by DynamoDB's rule rather than read from ConsumedCapacity: DynamoDB Local reports
        // 2 units for a whole transaction, whatever its size, which would make local figures lie.
        outcome.writeUnits += prepared.size;
        outcome.indexWriteUnits += prepared.indexUnits;
        outcome.counted.push(...pending);
        return;
      } catch (error) {
        if (error instanceof TransactionCanceledException || (error as Error).name === "TransactionCanceledException") {
          const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
          // Items are laid out as [dedup puts of pending..., updates...]: a failed condition on a
          // dedup put means that invocation was already counted.
          const already = new Set<number>();
          let retryable = false;
          let fatal: string | undefined;
          reasons.forEach((reason, index) => {
            const code = reason.Code ?? "None";
            if (code === "None") return;
            if (code === "ConditionalCheckFailed" && index < pending.length) already.add(index);
            else if (RETRYABLE_CANCELLATIONS.has(code)) retryable = true;
            else fatal ??= `${code}${reason.Message ? `: ${reason.Message}` : ""}`;
          });
          if (fatal !== undefined && already.size === 0) {
            this.fail(pending, outcome, new Error(`transaction cancelled: ${fatal}`, { cause: error }));
            return;
          }
          if (already.size > 0) {
            outcome.duplicates.push(...pending.filter((_, index) => already.has(index)));
            pending = pending.filter((_, index) => !already.has(index));
            prepared = this.prepare(pending);
            resend = false;
            // Progress was made: retry the rest at once, without counting an attempt.
            attempt--;
            continue;
          }
          if (!retryable) {
            this.fail(pending, outcome, error as Error);
            return;
          }
          prepared = this.prepare(pending);
          resend = false;
        } else if (resend && isIdempotentParameterMismatch(error)) {
          // The token's first request had other parameters. That does not prove it committed: DynamoDB
          // says only that it saw the token, not that the transaction succeeded, and taking it as
          // counted could lose the group. Resending under a new token is what is safe: the group's
          // dedup puts are in the same transaction as its counter updates, so if the first request
          // did commit, every put fails its condition, the transaction is cancelled as a whole and the
          // group is reported as duplicates, counted once; if it did not, this resend counts it.
          prepared = this.prepare(pending);
          resend = false;
        } else if (isRetryableWriteError(error)) {
          resend = true;
        } else {
          this.fail(pending, outcome, error as Error);
          return;
        }
        if (attempt >= this.retry.maxAttempts) {
          this.fail(pending, outcome, new Error(`gave up after ${attempt} attempts: ${(error as Error).message}`, { cause: error }));
          return;
        }
        await this.backoff(attempt);
      }
    }
  }

  private fail<Origin>(pending: InvocationToCount<Origin>[], outcome: WriteOutcome<Origin>, error: Error): void {
    for (const invocation of pending) outcome.failed.push({ invocation, error });
  }

  private async backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.floor((this.retry.random ?? Math.random)() * ceiling);
    await (this.retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(delay);
  }

  /** A group's transaction under a fresh token, built once, at the time the token is drawn. */
  private prepare(invocations: readonly CountableInvocation[]): PreparedTransaction {
    return { token: randomUUID(), ...this.transaction(invocations) };
  }

  /** Builds the transaction for a group: dedup puts first (their index is the invocation's), then updates. */
  private transaction(invocations: readonly CountableInvocation[]): { items: TransactWriteItem[]; size: number; indexUnits: number } {
    const nowSeconds = Math.floor(this.now() / 1000);
    const items: TransactWriteItem[] = [];
    let size = 0;
    let indexUnits = 0;
    for (const invocation of invocations) {
      const { pk, sk } = dedupKey(invocation.record.request_id);
      const item: Record<string, AttributeValue> = {
        [PK]: { S: pk },
        [SK]: { S: sk },
        tenantId: { S: invocation.record.tenant_id },
        eventTime: { S: invocation.record.event_time },
        countedAt: { N: String(nowSeconds) },
        // What it was counted at: a reprice of an open month corrects the invocation from here.
        [MARKER_ATTRIBUTES.costPico]: { N: (invocation.costPico ?? 0n).toString() },
        [MARKER_ATTRIBUTES.status]: { S: invocation.costPico === null ? "unpriced" : "priced" },
        [MARKER_ATTRIBUTES.priceVersion]: { S: invocation.record.price_version ?? "" },
        [TTL_ATTRIBUTE]: { N: String(markerExpiry(invocation.record, nowSeconds, this.retentionSeconds)) },
      };
      items.push({ Put: { TableName: this.tableName, Item: item, ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": PK } } });
      size += writeUnits(item);
    }
    for (const delta of preAggregate(invocations, this.options)) {
      const update = this.update(delta, nowSeconds);
      items.push({ Update: update.update });
      size += update.units;
      if (PERIOD_INDEX.partitionKey in delta.attributes) indexUnits++;
    }
    return { items, size, indexUnits };
  }

  private update(delta: AggregateDelta, nowSeconds: number): { update: NonNullable<TransactWriteItem["Update"]>; units: number } {
    // An aggregate item is ~200-300 bytes: 1 KB, i.e. 2 transactional write units.
    return { update: counterUpdate(this.tableName, delta, nowSeconds), units: 2 };
  }
}

/**
 * A whole aggregate item holding one delta: what `counterUpdate` makes of an item that does not
 * exist yet, attribute for attribute (every counter, zeros included, the descriptive attributes,
 * `updatedAt`), plus `extra`.
 */
export function counterItem(delta: AggregateDelta, nowSeconds: number, extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { [PK]: { S: delta.pk }, [SK]: { S: delta.sk } };
  for (const [field, attribute] of Object.entries(COUNTER_ATTRIBUTES))
    item[attribute] = { N: String(delta.counters[field as keyof typeof COUNTER_ATTRIBUTES]) };
  for (const [name, value] of Object.entries(delta.attributes)) item[name] = { S: value };
  item.updatedAt = { N: String(nowSeconds) };
  return { ...item, ...extra };
}

/** What a caller adds to a counter update: more `ADD` terms, a condition, their names and values. */
export interface CounterUpdateExtras {
  /** Terms appended to the `ADD` clause, e.g. `#backfills :tokens`. */
  add?: string;
  condition?: string;
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
}

/**
 * The update that adds a pre-aggregated delta to one aggregate item (creating it at the first),
 * and sets its descriptive attributes and `updatedAt`: what live counting, the backfill and the
 * tests write, so that every writer of the counters writes them alike.
 */
export function counterUpdate(
  tableName: string,
  delta: AggregateDelta,
  nowSeconds: number,
  extras: CounterUpdateExtras = {},
): NonNullable<TransactWriteItem["Update"]> {
  const values: Record<string, AttributeValue> = {
    ":invocations": { N: String(delta.counters.invocations) },
    ":unpriced": { N: String(delta.counters.unpricedInvocations) },
    ":input": { N: String(delta.counters.inputTokens) },
    ":output": { N: String(delta.counters.outputTokens) },
    ":cacheRead": { N: String(delta.counters.cacheReadTokens) },
    ":cacheWrite": { N: String(delta.counters.cacheWriteTokens) },
    ":cost": { N: delta.counters.costPico.toString() },
    ":now": { N: String(nowSeconds) },
    ...extras.values,
  };
  const names: Record<string, string> = {
    "#invocations": COUNTER_ATTRIBUTES.invocations,
    "#unpriced": COUNTER_ATTRIBUTES.unpricedInvocations,
    "#input": COUNTER_ATTRIBUTES.inputTokens,
    "#output": COUNTER_ATTRIBUTES.outputTokens,
    "#cacheRead": COUNTER_ATTRIBUTES.cacheReadTokens,
    "#cacheWrite": COUNTER_ATTRIBUTES.cacheWriteTokens,
    "#cost": COUNTER_ATTRIBUTES.costPico,
    "#updatedAt": "updatedAt",
    ...extras.names,
  };
  const sets = ["#updatedAt = :now"];
  Object.entries(delta.attributes).forEach(([name, value], index) => {
    names[`#a${index}`] = name;
    values[`:a${index}`] = { S: value };
    sets.push(`#a${index} = :a${index}`);
  });
  const add = `#invocations :invocations, #unpriced :unpriced, #input :input, #output :output, #cacheRead :cacheRead, #cacheWrite :cacheWrite, #cost :cost${extras.add ? `, ${extras.add}` : ""}`;
  return {
    TableName: tableName,
    Key: { [PK]: { S: delta.pk }, [SK]: { S: delta.sk } },
    UpdateExpression: `ADD ${add} SET ${sets.join(", ")}`,
    ...(extras.condition ? { ConditionExpression: extras.condition } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** Actions of a group's transaction: a dedup put per invocation and an update per aggregate item. */
function weight(group: Group<unknown>): number {
  return group.invocations.length + group.keys.size;
}

/** Transactional write units of one item: 2 per started KB. */
function writeUnits(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value.S ?? value.N ?? "");
  return 2 * Math.max(1, Math.ceil(bytes / 1024));
}

/**
 * When an invocation's dedup marker expires (epoch seconds): `retention` after counting, and never
 * before the invocation's month is settled plus a day, so that every invocation of an open month
 * keeps the cost it was counted at for a reprice to correct (docs/reprice.md).
 */
export function markerExpiry(record: Pick<UsageRecord, "year" | "month">, nowSeconds: number, retentionSeconds: number): number {
  const settled = Math.floor(monthBounds(`${record.year}-${record.month}`).end / 1000) + (DEFAULT_SETTLE_DAYS + 1) * 86_400;
  return Math.max(nowSeconds + retentionSeconds, settled);
}

/**
 * Whether DynamoDB refused a request because its client token was first used with other
 * parameters (TransactWriteItems' idempotency window is 10 minutes).
 */
export function isIdempotentParameterMismatch(error: unknown): boolean {
  return error instanceof IdempotentParameterMismatchException || (error as Error | undefined)?.name === "IdempotentParameterMismatchException";
}

/** Whether a DynamoDB error may go away if the same write is retried (throttling, 5xx, connection). */
export function isRetryableWriteError(error: unknown): boolean {
  const name = (error as Error).name;
  const code = (error as NodeJS.ErrnoException).code;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return RETRYABLE_ERRORS.has(name) || (code !== undefined && RETRYABLE_ERRORS.has(code)) || (metadata?.httpStatusCode ?? 0) >= 500;
}
