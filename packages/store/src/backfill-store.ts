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
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { BedrockSpendError, type Clock, systemClock } from "@bedrock-spend/core";
import type { AggregateDelta } from "./aggregation";
import { PK, SK } from "./layout";
import { counterUpdate, isRetryableWriteError, MAX_TRANSACTION_ACTIONS } from "./usage-writer";

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
  hours: string[];
  status: "applying" | "applied";
}

/** A source's backfill state as read at the start of a run. */
export interface BackfillState {
  description: string | undefined;
  hours: Map<string, HourCheckpoint>;
  applications: BackfillApplication[];
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
            hours: (item.hours?.L ?? []).map((value) => value.S ?? ""),
            status: item.status?.S === "applied" ? "applied" : "applying",
          });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return state;
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
      hours: { L: application.hours.map((hour) => ({ S: hour })) },
    });
  }

  /** The application counted everything: its hours are done. */
  async finishApplication(application: Omit<BackfillApplication, "status">, checkpoints: readonly HourCheckpoint[]): Promise<void> {
    const requests: WriteRequest[] = checkpoints.map((checkpoint) => ({
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
    for (let start = 0; start < requests.length; start += 25) {
      let pending: WriteRequest[] = requests.slice(start, start + 25);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = result.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length > 0) {
          if (attempt >= 10) throw new BackfillWriteError(`${pending.length} hour checkpoints still unprocessed after ${attempt} BatchWriteItem calls`);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 25 * 2 ** attempt)));
        }
      }
    }
    await this.put(`A#${application.id}`, {
      status: { S: "applied" },
      token: { S: application.token },
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
  /** Items updated (2 write units each: every aggregate item is under 1 KB). */
  items: number;
  /** Items the token was on already: counted by an earlier attempt of the same application. */
  alreadyApplied: number;
}

/**
 * Adds an application's deltas to the aggregate items, each exactly once: every update adds the
 * token to the item's `backfills` set, conditional on it not being there. Up to 100 items per
 * transaction, `inFlight` transactions at once (the deltas name distinct items).
 */
export async function countBackfillDeltas(
  client: DynamoDBClient,
  tableName: string,
  token: string,
  deltas: readonly AggregateDelta[],
  options: { now?: Clock; inFlight?: number } = {},
): Promise<CountOutcome> {
  const outcome: CountOutcome = { transactions: 0, items: 0, alreadyApplied: 0 };
  const nowSeconds = Math.floor((options.now ?? systemClock)() / 1000);
  const chunks: AggregateDelta[][] = [];
  for (let start = 0; start < deltas.length; start += MAX_TRANSACTION_ACTIONS) chunks.push(deltas.slice(start, start + MAX_TRANSACTION_ACTIONS));
  let next = 0;
  const sender = async () => {
    while (next < chunks.length) await countChunk(client, tableName, token, chunks[next++] as AggregateDelta[], nowSeconds, outcome);
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(options.inFlight ?? 4, chunks.length) }, sender));
  const rejected = settled.find((entry): entry is PromiseRejectedResult => entry.status === "rejected");
  if (rejected) throw rejected.reason;
  return outcome;
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
