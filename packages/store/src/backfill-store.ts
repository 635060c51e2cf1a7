/**
 * The backfill's state in the aggregates table, and its exactly-once counting of settled months
 * (docs/backfill.md).
 *
 * - Checkpoints: `P#BACKFILL#<source id>` / `H#<hour key>`, one per hour prefix of the source, with
 *   what the hour held (the tally) and how far it went: `staged` (its live records are on the
 *   stream, its settled records in the lake under the hour's own file name) or `done` (its settled
 *   records counted in the aggregates too).
 * - Applications: `P#BACKFILL#<source id>` / `A#<application id>`, written before the aggregates
 *   are touched: the hours whose settled records one application counts, and its token. A crash
 *   leaves it `applying`; the next run applies it again, with the same token, from the same hours.
 * - Counting: each aggregate item is updated with the application's delta and its token added to
 *   the item's `backfills` set, conditional on the token not being there: an application applied
 *   twice (a resumed run) counts once.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { BedrockSpendError, type Clock, systemClock } from "@bedrock-spend/core";
import type { AggregateDelta } from "./aggregation";
import { PK, SK } from "./layout";
import { batchGetAll } from "./pages";
import { counterItem, counterUpdate, isRetryableWriteError, MAX_TRANSACTION_ACTIONS } from "./usage-writer";

/** Partition of a source's backfill state. */
export function backfillPk(sourceId: string): string {
  return `P#BACKFILL#${sourceId}`;
}

/** Attribute of an aggregate item listing the backfill applications counted on it (a string set of tokens). */
export const BACKFILLS_ATTRIBUTE = "backfills";

/** What one hour (or a whole run) held, by fate. `read = counted + alreadyCounted + quarantined + dropped`. */
export interface BackfillTally {
  objects: number;
  bytes: number;
  read: number;
  /** Invocations counted by the backfill. */
  counted: number;
  /** Invocations counted before (live, an earlier backfill, another source) or repeated in the source. */
  alreadyCounted: number;
  /** Invalid records, kept with the reason in the quarantine. */
  quarantined: number;
  /** Control messages and permission-check lines. */
  dropped: number;
  /** Of `counted`, priced in pico-dollars (exact), and how many had no price. */
  costPico: bigint;
  unpriced: number;
}

/** An empty tally. */
export function emptyTally(): BackfillTally {
  return { objects: 0, bytes: 0, read: 0, counted: 0, alreadyCounted: 0, quarantined: 0, dropped: 0, costPico: 0n, unpriced: 0 };
}

/** Adds `more` into `into`. */
export function addTally(into: BackfillTally, more: BackfillTally): void {
  into.objects += more.objects;
  into.bytes += more.bytes;
  into.read += more.read;
  into.counted += more.counted;
  into.alreadyCounted += more.alreadyCounted;
  into.quarantined += more.quarantined;
  into.dropped += more.dropped;
  into.costPico += more.costPico;
  into.unpriced += more.unpriced;
}

/** One hour's checkpoint. */
export interface HourCheckpoint {
  key: string;
  status: "staged" | "done";
  tally: BackfillTally;
  /** Whether the hour wrote settled records to the lake (then an application must count them). */
  settledRows: number;
  /** The day partitions (`YYYY-MM-DD`) its settled records were written to. */
  days: string[];
}

/** One application of settled records to the aggregates. */
export interface BackfillApplication {
  id: string;
  /** Added to each item's `backfills` set: what makes a second application a no-op. */
  token: string;
  /**
   * Which items of its hours it counts: the day x model items (`day`), the month and breakdown
   * items (`month`), or all of them (`all`).
   */
  kind: BackfillApplicationKind;
  hours: string[];
  status: "applying" | "applied";
}

/** What an application counts of its hours' rows. */
export type BackfillApplicationKind = "day" | "month" | "all";

/** A source's backfill state as read at the start of a run. */
export interface BackfillState {
  description: string | undefined;
  hours: Map<string, HourCheckpoint>;
  applications: BackfillApplication[];
}

/** Where the table's backfill lease is: one backfill at a time per table. */
export const BACKFILL_LEASE_KEY = { pk: "P#BACKFILL", sk: "LEASE" } as const;

/** How long a lease lasts without being renewed (a crashed backfill's lease frees itself). */
export const BACKFILL_LEASE_MS = 10 * 60 * 1000;

/** Another backfill holds the table: running two at once could put the same aggregate item twice. */
export class BackfillLeaseError extends BedrockSpendError {
  readonly holder: string;
  readonly expiresAt: number;
  constructor(holder: string, expiresAt: number) {
    super(
      `another backfill (of ${holder}) is running on this table until ${new Date(expiresAt).toISOString()} unless it renews its lease: backfills run one at a time; wait for it (or, if it crashed, for its lease to end)`,
    );
    this.name = "BackfillLeaseError";
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

/** A write of the backfill state or counts that failed for good. */
export class BackfillWriteError extends BedrockSpendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BackfillWriteError";
  }
}

const tallyFields = ["objects", "bytes", "read", "counted", "alreadyCounted", "quarantined", "dropped", "unpriced"] as const;

function tallyItem(tally: BackfillTally): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { costPico: { N: tally.costPico.toString() } };
  for (const field of tallyFields) item[field] = { N: String(tally[field]) };
  return item;
}

function tallyOf(item: Record<string, AttributeValue>): BackfillTally {
  const tally = emptyTally();
  for (const field of tallyFields) tally[field] = Number(item[field]?.N ?? "0");
  tally.costPico = BigInt(item.costPico?.N ?? "0");
  return tally;
}

/** The backfill state of one source in the aggregates table. */
export class BackfillStore {
  private readonly pk: string;
  private readonly now: Clock;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    readonly sourceId: string,
    options: { now?: Clock } = {},
  ) {
    this.pk = backfillPk(sourceId);
    this.now = options.now ?? systemClock;
  }

  /** Everything recorded for the source (one Query, paged). */
  async load(): Promise<BackfillState> {
    const state: BackfillState = { description: undefined, hours: new Map(), applications: [] };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":pk": { S: this.pk } },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = item[SK]?.S ?? "";
        if (sk === "SOURCE") state.description = item.description?.S;
        else if (sk.startsWith("H#")) {
          const key = sk.slice(2);
          state.hours.set(key, {
            key,
            status: item.status?.S === "done" ? "done" : "staged",
            tally: tallyOf(item),
            settledRows: Number(item.settledRows?.N ?? "0"),
            days: (item.days?.L ?? []).map((value) => value.S ?? ""),
          });
        } else if (sk.startsWith("A#"))
          state.applications.push({
            id: sk.slice(2),
            token: item.token?.S ?? "",
            kind: item.counts?.S === "day" || item.counts?.S === "month" ? item.counts.S : "all",
            hours: (item.hours?.L ?? []).map((value) => value.S ?? ""),
            status: item.status?.S === "applied" ? "applied" : "applying",
          });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return state;
  }

  /**
   * Takes the table's backfill lease for `runId`: refused while another source's backfill holds it
   * and its lease has not ended. The same source may take it back (a resumed run after a crash).
   * @throws BackfillLeaseError naming the holder
   */
  async acquireLease(runId: string, description: string): Promise<void> {
    const now = this.now();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [PK]: { S: BACKFILL_LEASE_KEY.pk },
            [SK]: { S: BACKFILL_LEASE_KEY.sk },
            sourceId: { S: this.sourceId },
            runId: { S: runId },
            description: { S: description },
            leaseUntil: { N: String(now + BACKFILL_LEASE_MS) },
          },
          ConditionExpression: "attribute_not_exists(#pk) OR leaseUntil < :now OR sourceId = :source",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":now": { N: String(now) }, ":source": { S: this.sourceId } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      const held = (error as { Item?: Record<string, AttributeValue> }).Item;
      throw new BackfillLeaseError(held?.description?.S ?? "another source", Number(held?.leaseUntil?.N ?? "0"));
    }
  }

  /**
   * Extends the lease of `runId`.
   * @throws BackfillLeaseError when another backfill took it (this one was stalled past its lease)
   */
  async renewLease(runId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: BACKFILL_LEASE_KEY.pk }, [SK]: { S: BACKFILL_LEASE_KEY.sk } },
          UpdateExpression: "SET leaseUntil = :until",
          ConditionExpression: "runId = :run",
          ExpressionAttributeValues: { ":until": { N: String(this.now() + BACKFILL_LEASE_MS) }, ":run": { S: runId } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      const held = (error as { Item?: Record<string, AttributeValue> }).Item;
      throw new BackfillLeaseError(held?.description?.S ?? "another source", Number(held?.leaseUntil?.N ?? "0"));
    }
  }

  /** Gives the lease back (if `runId` still holds it). */
  async releaseLease(runId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: BACKFILL_LEASE_KEY.pk }, [SK]: { S: BACKFILL_LEASE_KEY.sk } },
          ConditionExpression: "runId = :run",
          ExpressionAttributeValues: { ":run": { S: runId } },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }

  /** Records what the source is (once), so that its id can be told apart in the table. */
  async describe(description: string): Promise<void> {
    await this.put("SOURCE", { description: { S: description } });
  }

  /** The hour's records are on the stream or in the lake: a resumed run does not read it again. */
  async stageHour(checkpoint: Omit<HourCheckpoint, "status">): Promise<void> {
    await this.put(`H#${checkpoint.key}`, {
      status: { S: "staged" },
      settledRows: { N: String(checkpoint.settledRows) },
      days: { L: checkpoint.days.map((day) => ({ S: day })) },
      ...tallyItem(checkpoint.tally),
    });
  }

  /** Writes the application before it touches the aggregates. */
  async beginApplication(application: Omit<BackfillApplication, "status">): Promise<void> {
    await this.put(`A#${application.id}`, {
      status: { S: "applying" },
      token: { S: application.token },
      // Not `kind`: that attribute says what an item of the table is (scans filter on it).
      counts: { S: application.kind },
      hours: { L: application.hours.map((hour) => ({ S: hour })) },
    });
  }

  /**
   * The application counted everything. Its hours are done when it counted all of their items (a
   * `month` or `all` application: a day application comes before its hours' month application).
   */
  async finishApplication(application: Omit<BackfillApplication, "status">, checkpoints: readonly HourCheckpoint[]): Promise<void> {
    const done = application.kind === "day" ? [] : checkpoints;
    const requests: WriteRequest[] = done.map((checkpoint) => ({
      PutRequest: {
        Item: {
          [PK]: { S: this.pk },
          [SK]: { S: `H#${checkpoint.key}` },
          status: { S: "done" },
          settledRows: { N: String(checkpoint.settledRows) },
          days: { L: checkpoint.days.map((day) => ({ S: day })) },
          updatedAt: { N: String(Math.floor(this.now() / 1000)) },
          ...tallyItem(checkpoint.tally),
        },
      },
    }));
    for (let start = 0; start < requests.length; start += 25) await batchWrite(this.client, this.tableName, requests.slice(start, start + 25));
    await this.put(`A#${application.id}`, {
      status: { S: "applied" },
      token: { S: application.token },
      // Not `kind`: that attribute says what an item of the table is (scans filter on it).
      counts: { S: application.kind },
      hours: { L: application.hours.map((hour) => ({ S: hour })) },
    });
  }

  private async put(sk: string, attributes: Record<string, AttributeValue>): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { [PK]: { S: this.pk }, [SK]: { S: sk }, updatedAt: { N: String(Math.floor(this.now() / 1000)) }, ...attributes },
      }),
    );
  }
}

/** What counting an application did. */
export interface CountOutcome {
  transactions: number;
  /** Items written: created whole, or updated (2 write units each in a transaction, 1 when put). */
  items: number;
  /** Of `items`, created by a put (the item did not exist). */
  created: number;
  /** Items the token was on already: counted by an earlier attempt of the same application. */
  alreadyApplied: number;
}

/**
 * Adds an application's deltas to the aggregate items, each exactly once. The items are read
 * first (BatchGetItem, the token set only): an item that does not exist is put whole with the
 * token (BatchWriteItem, about a third of a transactional update's time on DynamoDB Local); an
 * item that exists without the token gets its delta and the token in one update conditional on
 * the token not being there (transactions of up to 100); an item with the token is left alone.
 *
 * `createWithPuts: false` sends every item through the conditional update instead: DynamoDB Local
 * on disk (a data dir) commits each put on its own, 2.3 ms an item against 1.6 in a transaction
 * of 100; on DynamoDB a put costs 1 write unit against 2 for a transactional update.
 *
 * The puts rely on nothing else creating these items meanwhile: they are items of settled months,
 * which live traffic no longer reaches and a reprice only updates; other backfills are kept out
 * by the table's backfill lease (`acquireBackfillLease`).
 */
export async function countBackfillDeltas(
  client: DynamoDBClient,
  tableName: string,
  token: string,
  deltas: readonly AggregateDelta[],
  options: { now?: Clock; inFlight?: number; createWithPuts?: boolean } = {},
): Promise<CountOutcome> {
  const outcome: CountOutcome = { transactions: 0, items: 0, created: 0, alreadyApplied: 0 };
  if (options.createWithPuts === false) {
    await runInFlight(
      chunksOf(deltas, MAX_TRANSACTION_ACTIONS).map(
        (chunk) => () => countChunk(client, tableName, token, chunk, Math.floor((options.now ?? systemClock)() / 1000), outcome),
      ),
      options.inFlight ?? 4,
    );
    return outcome;
  }
  const nowSeconds = Math.floor((options.now ?? systemClock)() / 1000);
  const existing = new Map<string, boolean>();
  const found = await batchGetAll(
    client,
    tableName,
    deltas.map((delta) => ({ [PK]: { S: delta.pk }, [SK]: { S: delta.sk } })),
    { expression: "#pk, #sk, #backfills", names: { "#pk": PK, "#sk": SK, "#backfills": BACKFILLS_ATTRIBUTE } },
  );
  for (const item of found) existing.set(`${item[PK]?.S}\u0000${item[SK]?.S}`, item[BACKFILLS_ATTRIBUTE]?.SS?.includes(token) === true);
  const absent: AggregateDelta[] = [];
  const present: AggregateDelta[] = [];
  for (const delta of deltas) {
    const applied = existing.get(`${delta.pk}\u0000${delta.sk}`);
    if (applied === undefined) absent.push(delta);
    else if (applied) outcome.alreadyApplied++;
    else present.push(delta);
  }
  const requests: WriteRequest[] = absent.map((delta) => ({
    PutRequest: { Item: counterItem(delta, nowSeconds, { [BACKFILLS_ATTRIBUTE]: { SS: [token] } }) },
  }));
  await runInFlight(
    Array.from({ length: Math.ceil(requests.length / 25) }, (_, index) => () => batchWrite(client, tableName, requests.slice(index * 25, index * 25 + 25))),
    options.inFlight ?? 4,
  );
  outcome.items += absent.length;
  outcome.created += absent.length;
  await runInFlight(
    chunksOf(present, MAX_TRANSACTION_ACTIONS).map((chunk) => () => countChunk(client, tableName, token, chunk, nowSeconds, outcome)),
    options.inFlight ?? 4,
  );
  return outcome;
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Runs the tasks, `limit` at a time; the first failure is thrown once every started task has ended. */
async function runInFlight(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tasks.length) {
      try {
        await (tasks[next++] as () => Promise<void>)();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  const rejected = settled.find((entry): entry is PromiseRejectedResult => entry.status === "rejected");
  if (rejected) throw rejected.reason;
}

/** One BatchWriteItem of up to 25 requests, its unprocessed items sent again with backoff. */
async function batchWrite(client: DynamoDBClient, tableName: string, requests: readonly WriteRequest[]): Promise<void> {
  let pending: WriteRequest[] = [...requests];
  for (let attempt = 1; pending.length > 0; attempt++) {
    let result: BatchWriteItemCommandOutput;
    try {
      result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
    } catch (error) {
      if (!isRetryableWriteError(error) || attempt >= 10)
        throw new BackfillWriteError(`writing ${pending.length} items failed: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 25 * 2 ** attempt)));
      continue;
    }
    pending = result.UnprocessedItems?.[tableName] ?? [];
    if (pending.length > 0) {
      if (attempt >= 10) throw new BackfillWriteError(`${pending.length} items still unprocessed after ${attempt} BatchWriteItem calls`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 25 * 2 ** attempt)));
    }
  }
}
async function countChunk(
  client: DynamoDBClient,
  tableName: string,
  token: string,
  chunk: readonly AggregateDelta[],
  nowSeconds: number,
  outcome: CountOutcome,
): Promise<void> {
  let pending = chunk;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const items: TransactWriteItem[] = pending.map((delta) => ({
      Update: counterUpdate(tableName, delta, nowSeconds, {
        add: "#backfills :tokens",
        condition: "NOT contains(#backfills, :token)",
        names: { "#backfills": BACKFILLS_ATTRIBUTE },
        values: { ":tokens": { SS: [token] }, ":token": { S: token } },
      }),
    }));
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      outcome.transactions++;
      outcome.items += pending.length;
      return;
    } catch (error) {
      if (error instanceof TransactionCanceledException || (error as Error).name === "TransactionCanceledException") {
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        // A failed condition is an item this application counted already: leave it out, send the rest.
        const applied = new Set(reasons.flatMap((reason, index) => (reason.Code === "ConditionalCheckFailed" ? [index] : [])));
        if (applied.size > 0) {
          outcome.alreadyApplied += applied.size;
          pending = pending.filter((_, index) => !applied.has(index));
          attempt = 0;
          continue;
        }
        const retryable = reasons.some((reason) => reason.Code === "TransactionConflict" || reason.Code === "ThrottlingError");
        if (!retryable || attempt >= 10)
          throw new BackfillWriteError(`transaction of ${pending.length} aggregate items cancelled: ${reasons.map((reason) => reason.Code).join(", ")}`, {
            cause: error,
          });
      } else if (!isRetryableWriteError(error) || attempt >= 10)
        throw new BackfillWriteError(`counting ${pending.length} aggregate items failed: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 25 * 2 ** attempt)));
    }
  }
}
