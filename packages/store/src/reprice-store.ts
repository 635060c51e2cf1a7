/**
 * The aggregates table's side of a reprice (docs/reprice.md):
 *
 * - the registry (`P#PRICING` / `REPRICES`): the catalogs reprices registered for their months, read
 *   by the live consumers so that new traffic of a repriced month is priced as the reprice priced
 *   history (the switch-over);
 * - the audit trail (`P#REPRICE` / `<id>`): one record per reprice, written before the first
 *   aggregate changes;
 * - the two ways a correction is applied exactly once: per aggregate item with the reprice's id
 *   added to the item in the same update (settled months), and per invocation against its dedup
 *   marker, which holds what the invocation was counted at (open months).
 */
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import {
  BedrockSpendError,
  type CatalogSource,
  type Clock,
  catalogFrom,
  type MonthKey,
  monthBounds,
  type Pricer,
  systemClock,
  type UsageRecord,
} from "@bedrock-spend/core";
import { dedupKey, monthSk, tenantPk } from "./keys";
import { COUNTER_ATTRIBUTES, MARKER_ATTRIBUTES, PK, REPRICES_ATTRIBUTE, SK, TTL_ATTRIBUTE } from "./layout";
import { allPages, batchGetAll } from "./pages";
import { isRetryableWriteError, MAX_TRANSACTION_ACTIONS, markerExpiry } from "./usage-writer";

/** Partition of the pricing registry. */
export const PRICING_PK = "P#PRICING";
/** Sort key of the registry item. */
export const REGISTRY_SK = "REPRICES";
/** Partition of the reprice audit records (sort key: the reprice id, which sorts by start time). */
export const REPRICE_PK = "P#REPRICE";

/** A catalog source as stored: the shipped catalog, or a user's file over it or alone. */
export type StoredCatalogSource = CatalogSource;

/** A reprice's catalog, registered for its months. */
export interface RegisteredReprice {
  id: string;
  from: MonthKey;
  to: MonthKey;
  /** Version of the catalog (what lake rows and markers are stamped with). */
  priceVersion: string;
  source: StoredCatalogSource;
  registeredAt: string;
}

/** The pricing registry: every registered reprice, oldest first (later ones win where months overlap). */
export async function readRegistry(client: DynamoDBClient, tableName: string): Promise<RegisteredReprice[]> {
  return entriesOf(await getRegistryItem(client, tableName));
}

async function getRegistryItem(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await client.send(new GetItemCommand({ TableName: tableName, Key: registryKey(), ConsistentRead: true }))).Item;
}

function entriesOf(item: Record<string, AttributeValue> | undefined): RegisteredReprice[] {
  const packed = item?.entries?.B;
  return packed ? (JSON.parse(gunzipSync(packed).toString("utf8")) as RegisteredReprice[]) : [];
}

/**
 * Adds a reprice to the registry (no-op when its id is there): the switch-over point of its months.
 * Optimistic: the write is conditional on the registry read, and retried when another reprice
 * registered in between.
 */
export async function registerReprice(client: DynamoDBClient, tableName: string, entry: RegisteredReprice): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await getRegistryItem(client, tableName);
    const entries = entriesOf(current);
    if (entries.some((existing) => existing.id === entry.id)) return;
    const revision = Number(current?.revision?.N ?? "0");
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...registryKey(), entries: { B: gzipSync(JSON.stringify([...entries, entry])) }, revision: { N: String(revision + 1) } },
          ConditionExpression: "attribute_not_exists(#pk) OR revision = :revision",
          ExpressionAttributeNames: { "#pk": PK },
          ExpressionAttributeValues: { ":revision": { N: String(revision) } },
        }),
      );
      return;
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException" || attempt >= 10) throw error;
    }
  }
}

function registryKey(): Record<string, AttributeValue> {
  return { [PK]: { S: PRICING_PK }, [SK]: { S: REGISTRY_SK } };
}

/** A pricer like `base` whose registered reprices price their months. */
export function pricerWithRegistry(base: Pricer, entries: readonly RegisteredReprice[]): Pricer {
  if (entries.length === 0) return base;
  const periods = entries.map((entry) => ({ from: monthBounds(entry.from).start, to: monthBounds(entry.to).end, catalog: catalogFrom(entry.source) }));
  return base.withCatalogs(base.catalog, periods);
}

/** Options of `RegistryPricing`. */
export interface RegistryPricingOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The deployment's pricer (its catalog prices every month no reprice registered). */
  base: Pricer;
  /** How long a read of the registry is used (default 60 s): the longest a consumer prices a repriced month the old way. */
  ttlMs?: number;
  now?: Clock;
}

/**
 * The pricer of a live consumer: the deployment's, with the registered reprices laid over their
 * months, re-read at most every `ttlMs`. A failed read keeps the last pricer (and is retried on the
 * next call), so that the registry being unreachable never stops counting.
 */
export class RegistryPricing {
  private pricer: Pricer;
  private readAt = Number.NEGATIVE_INFINITY;
  private signature = "";
  private readonly ttlMs: number;
  private readonly now: Clock;

  constructor(private readonly options: RegistryPricingOptions) {
    this.pricer = options.base;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? systemClock;
  }

  /** The pricer to use now. */
  async current(): Promise<Pricer> {
    const now = this.now();
    if (now - this.readAt < this.ttlMs) return this.pricer;
    try {
      const entries = await readRegistry(this.options.client, this.options.tableName);
      const signature = entries.map((entry) => entry.id).join(",");
      if (signature !== this.signature) {
        this.pricer = pricerWithRegistry(this.options.base, entries);
        this.signature = signature;
      }
      this.readAt = now;
    } catch {
      // Kept: the last registry read. The next call tries again.
    }
    return this.pricer;
  }
}

/** Where a reprice is. */
export type RepriceStatus = "running" | "applied" | "failed";

/** One reprice, as the audit trail records it. */
export interface RepriceAudit {
  id: string;
  status: RepriceStatus;
  /** What was last done: `registered` (switch-over), `aggregates`, `lake`, `done`. */
  stage: "registered" | "aggregates" | "lake" | "done";
  from: MonthKey;
  to: MonthKey;
  /** The catalog applied: its version and where it came from (the file's name, not its content). */
  priceVersion: string;
  catalog: { kind: CatalogSource["kind"]; origin: string };
  /** Price versions the repriced invocations were counted at before. */
  versionsBefore: string[];
  /** Who ran it: the caller's ARN on AWS, the user and host locally. */
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  /** Counted cost of the months' invocations before and after, USD (null until planned). */
  totalsBefore: string | null;
  totalsAfter: string | null;
  invocations: number;
  changed: number;
  /** Tenant-months whose cost changes. */
  tenantMonths: number;
  /** Tenant-months left alone because the lake and the aggregates disagree on what was counted. */
  unreconciled: { tenantId: string; month: MonthKey; lakeInvocations: number; countedInvocations: number }[];
  error: string | null;
}

/** Writes (creates or replaces) an audit record. */
export async function putRepriceAudit(client: DynamoDBClient, tableName: string, audit: RepriceAudit): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        [PK]: { S: REPRICE_PK },
        [SK]: { S: audit.id },
        kind: { S: "reprice" },
        status: { S: audit.status },
        record: { S: JSON.stringify(audit) },
      },
    }),
  );
}

/** Every audit record, newest first. */
export async function listRepriceAudits(client: DynamoDBClient, tableName: string): Promise<RepriceAudit[]> {
  const items = await allPages((start) =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": PK },
        ExpressionAttributeValues: { ":pk": { S: REPRICE_PK } },
        ScanIndexForward: false,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    ),
  );
  return items.map((item) => JSON.parse(item.record?.S ?? "{}") as RepriceAudit);
}

/** What the table says an invocation was counted at. */
export type CountedState =
  /** A marker that says its cost (written since reprices exist). */
  | { kind: "marker"; costPico: bigint | null; priceVersion: string }
  /** A marker without its cost (written before): counted at what the lake row says. */
  | { kind: "legacy" }
  /** No marker: not counted yet, or counted so long ago that its marker expired. */
  | { kind: "absent" };

/** Reads the dedup markers of `requestIds` (strongly consistent). */
export async function readCountedStates(client: DynamoDBClient, tableName: string, requestIds: Iterable<string>): Promise<Map<string, CountedState>> {
  const states = new Map<string, CountedState>();
  const byPk = new Map<string, string>();
  for (const requestId of requestIds) {
    byPk.set(dedupKey(requestId).pk, requestId);
    states.set(requestId, { kind: "absent" });
  }
  const keys = [...byPk.keys()].map((pk) => ({ [PK]: { S: pk }, [SK]: { S: "R" } }));
  for (const item of await batchGetAll(client, tableName, keys)) {
    const requestId = byPk.get(item[PK]?.S ?? "");
    if (requestId === undefined) continue;
    const cost = item[MARKER_ATTRIBUTES.costPico]?.N;
    const version = item[MARKER_ATTRIBUTES.priceVersion]?.S;
    if (cost === undefined || version === undefined) states.set(requestId, { kind: "legacy" });
    else states.set(requestId, { kind: "marker", costPico: item[MARKER_ATTRIBUTES.status]?.S === "unpriced" ? null : BigInt(cost), priceVersion: version });
  }
  return states;
}

/** The invocations counted on tenant-months' month items (0 when there is none). */
export async function readMonthInvocations(
  client: DynamoDBClient,
  tableName: string,
  tenantMonths: Iterable<{ tenantId: string; month: MonthKey }>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const ids = new Map<string, string>();
  const keys: Record<string, AttributeValue>[] = [];
  for (const { tenantId, month } of tenantMonths) {
    const id = tenantMonthId(tenantId, month);
    if (counts.has(id)) continue;
    counts.set(id, 0);
    ids.set(`${tenantPk(tenantId)}\u0000${monthSk(month)}`, id);
    keys.push({ [PK]: { S: tenantPk(tenantId) }, [SK]: { S: monthSk(month) } });
  }
  const projection = { expression: "#pk, #sk, #n", names: { "#pk": PK, "#sk": SK, "#n": COUNTER_ATTRIBUTES.invocations } };
  for (const item of await batchGetAll(client, tableName, keys, projection)) {
    const id = ids.get(`${item[PK]?.S}\u0000${item[SK]?.S}`);
    if (id !== undefined) counts.set(id, Number(item[COUNTER_ATTRIBUTES.invocations]?.N ?? "0"));
  }
  return counts;
}

/** Identifier of a tenant-month in maps: never ambiguous (a month never holds the separator). */
export function tenantMonthId(tenantId: string, month: MonthKey): string {
  return `${month}\u0000${tenantId}`;
}

/** Adds a cost change to the correction of one item in `corrections` (by key), creating it at the first. */
export function addItemCorrection(corrections: Map<string, ItemCorrection>, key: { pk: string; sk: string }, costPico: bigint, unpriced: number): void {
  const id = `${key.pk}\u0000${key.sk}`;
  const correction = corrections.get(id);
  if (correction) {
    correction.costPico += costPico;
    correction.unpriced += unpriced;
  } else corrections.set(id, { pk: key.pk, sk: key.sk, costPico, unpriced });
}

/** A correction of one aggregate item. */
export interface ItemCorrection {
  pk: string;
  sk: string;
  /** Pico-dollars to add (signed). */
  costPico: bigint;
  /** Unpriced invocations to add (signed). */
  unpriced: number;
}

/** A correction of one counted invocation, with the items it was counted on. */
export interface InvocationCorrection {
  requestId: string;
  record: UsageRecord;
  /** What the invocation was counted at (the marker, or the lake row for a legacy or expired marker). */
  counted: CountedState;
  oldCostPico: bigint | null;
  newCostPico: bigint | null;
  newPriceVersion: string;
  /** Items of the invocation: `aggregateKeysOf(record)`. */
  items: readonly { pk: string; sk: string }[];
}

/** What applying corrections did. */
export interface ApplyOutcome {
  transactions: number;
  /** Write units by DynamoDB's rule for transactions: 2 per item (every item here is under 1 KB). */
  writeUnits: number;
  /** Items (or invocations) skipped: already corrected by this reprice. */
  alreadyApplied: number;
  /** Invocations whose marker changed under the reprice: read again and corrected again by the caller. */
  conflicts: InvocationCorrection[];
  /** Items the table does not have (the lake holds an invocation the aggregates never counted). */
  missing: { pk: string; sk: string }[];
}

/** Applies reprice corrections to the aggregates table, each exactly once. */
export class RepriceWriter {
  private readonly now: Clock;
  private readonly retentionSeconds: number;
  private readonly transactionsInFlight: number;

  /**
   * @param options.transactionsInFlight item corrections' transactions sent at once (default 4):
   *   round trips overlap on AWS, and DynamoDB Local always has the next one queued while the
   *   caller's event loop is busy.
   */
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: { now?: Clock; dedupRetentionDays?: number; transactionsInFlight?: number } = {},
  ) {
    this.now = options.now ?? systemClock;
    this.retentionSeconds = Math.round((options.dedupRetentionDays ?? 35) * 86_400);
    this.transactionsInFlight = options.transactionsInFlight ?? 4;
    if (!Number.isInteger(this.transactionsInFlight) || this.transactionsInFlight < 1)
      throw new RangeError(`transactionsInFlight must be a positive integer, got ${this.transactionsInFlight}`);
  }

  /**
   * Settled months: adds each item's correction and the reprice's id to the item in one update,
   * conditional on the id not being there yet, so that a resumed or retried reprice never applies
   * a correction twice. Items are written up to 100 per transaction; an item already corrected by
   * this reprice is left out and the rest retried.
   */
  async applyItemCorrections(repriceId: string, corrections: readonly ItemCorrection[]): Promise<ApplyOutcome> {
    const outcome: ApplyOutcome = { transactions: 0, writeUnits: 0, alreadyApplied: 0, conflicts: [], missing: [] };
    const now = String(Math.floor(this.now() / 1000));
    const work = corrections.filter((correction) => correction.costPico !== 0n || correction.unpriced !== 0);
    const chunks: ItemCorrection[][] = [];
    for (let start = 0; start < work.length; start += MAX_TRANSACTION_ACTIONS) chunks.push(work.slice(start, start + MAX_TRANSACTION_ACTIONS));
    // The items of one call are distinct, so its transactions never touch the same item: they can be in flight together.
    let next = 0;
    let failed = false;
    const sender = async () => {
      while (!failed && next < chunks.length) {
        try {
          await this.correctItems(repriceId, chunks[next++] as ItemCorrection[], now, outcome);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(this.transactionsInFlight, chunks.length) }, sender));
    // Every sender has stopped before the first failure is thrown: nothing of this call is still writing.
    const rejected = settled.find((entry): entry is PromiseRejectedResult => entry.status === "rejected");
    if (rejected) throw rejected.reason;
    return outcome;
  }

  /** One transaction of item corrections (up to 100), those already applied or missing left out. */
  private async correctItems(repriceId: string, chunk: readonly ItemCorrection[], now: string, outcome: ApplyOutcome): Promise<void> {
    let pending = chunk;
    await this.transact(
      () =>
        pending.map(
          (correction): TransactWriteItem => ({
            Update: {
              TableName: this.tableName,
              Key: { [PK]: { S: correction.pk }, [SK]: { S: correction.sk } },
              UpdateExpression: "ADD #cost :cost, #unpriced :unpriced, #reprices :ids SET updatedAt = :now",
              ConditionExpression: "attribute_exists(#pk) AND NOT contains(#reprices, :id)",
              ExpressionAttributeNames: {
                "#pk": PK,
                "#cost": COUNTER_ATTRIBUTES.costPico,
                "#unpriced": COUNTER_ATTRIBUTES.unpricedInvocations,
                "#reprices": REPRICES_ATTRIBUTE,
              },
              ExpressionAttributeValues: {
                ":cost": { N: correction.costPico.toString() },
                ":unpriced": { N: String(correction.unpriced) },
                ":ids": { SS: [repriceId] },
                ":id": { S: repriceId },
                ":now": { N: now },
              },
            },
          }),
        ),
      async (failed) => {
        // Each failed condition is an item already corrected (skip it) or one that does not exist.
        const items = await this.getItems(failed.map((index) => pending[index] as ItemCorrection));
        for (const index of failed) {
          const correction = pending[index] as ItemCorrection;
          const item = items.get(`${correction.pk}\u0000${correction.sk}`);
          if (item === undefined) outcome.missing.push({ pk: correction.pk, sk: correction.sk });
          else outcome.alreadyApplied++;
        }
        const drop = new Set(failed);
        pending = pending.filter((_, index) => !drop.has(index));
        return pending.length;
      },
      outcome,
      () => pending.length * 2,
    );
  }

  /**
   * Open months: corrects each invocation against its dedup marker in the same transaction as the
   * items it was counted on. The marker update is conditional on the marker still saying what the
   * correction was computed from (or, for an expired marker, on there being none: the marker is put
   * back with the new cost), so that live writes and other reprices can never make a correction
   * count twice. Conflicting invocations are returned for the caller to read again.
   */
  async applyInvocationCorrections(corrections: readonly InvocationCorrection[]): Promise<ApplyOutcome> {
    const outcome: ApplyOutcome = { transactions: 0, writeUnits: 0, alreadyApplied: 0, conflicts: [], missing: [] };
    const groups: InvocationCorrection[][] = [];
    let group: InvocationCorrection[] = [];
    let keys = new Set<string>();
    for (const correction of corrections) {
      const fresh = correction.items.filter((item) => !keys.has(`${item.pk}\u0000${item.sk}`));
      if (group.length > 0 && group.length + keys.size + 1 + fresh.length > MAX_TRANSACTION_ACTIONS) {
        groups.push(group);
        group = [];
        keys = new Set();
      }
      group.push(correction);
      for (const item of correction.items) keys.add(`${item.pk}\u0000${item.sk}`);
    }
    if (group.length > 0) groups.push(group);
    for (const initial of groups) {
      let pending = initial;
      await this.transact(
        () => this.invocationTransaction(pending),
        async (failed) => {
          // Items come first in marker order: a failed index below pending.length is a marker.
          const conflicted = new Set(failed.filter((index) => index < pending.length));
          outcome.conflicts.push(...pending.filter((_, index) => conflicted.has(index)));
          pending = pending.filter((_, index) => !conflicted.has(index));
          return conflicted.size === 0 ? -1 : pending.length;
        },
        outcome,
        () => this.invocationTransaction(pending).length * 2,
      );
    }
    return outcome;
  }

  private invocationTransaction(corrections: readonly InvocationCorrection[]): TransactWriteItem[] {
    const nowSeconds = Math.floor(this.now() / 1000);
    const items: TransactWriteItem[] = [];
    const deltas = new Map<string, ItemCorrection>();
    for (const correction of corrections) {
      const key = dedupKey(correction.requestId);
      const costText = (correction.newCostPico ?? 0n).toString();
      const status = correction.newCostPico === null ? "unpriced" : "priced";
      const names: Record<string, string> = {
        "#cost": MARKER_ATTRIBUTES.costPico,
        "#status": MARKER_ATTRIBUTES.status,
        "#version": MARKER_ATTRIBUTES.priceVersion,
      };
      if (correction.counted.kind === "absent") {
        items.push({
          Put: {
            TableName: this.tableName,
            Item: {
              [PK]: { S: key.pk },
              [SK]: { S: key.sk },
              [MARKER_ATTRIBUTES.tenantId]: { S: correction.record.tenant_id },
              [MARKER_ATTRIBUTES.eventTime]: { S: correction.record.event_time },
              countedAt: { N: String(nowSeconds) },
              [MARKER_ATTRIBUTES.costPico]: { N: costText },
              [MARKER_ATTRIBUTES.status]: { S: status },
              [MARKER_ATTRIBUTES.priceVersion]: { S: correction.newPriceVersion },
              [TTL_ATTRIBUTE]: { N: String(markerExpiry(correction.record, nowSeconds, this.retentionSeconds)) },
            },
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": PK },
          },
        });
      } else {
        const values: Record<string, AttributeValue> = { ":cost": { N: costText }, ":status": { S: status }, ":version": { S: correction.newPriceVersion } };
        let condition = "attribute_exists(#pk) AND attribute_not_exists(#cost)";
        if (correction.counted.kind === "legacy") names["#pk"] = PK;
        else {
          condition = "#cost = :oldCost AND #status = :oldStatus AND #version = :oldVersion";
          values[":oldCost"] = { N: (correction.counted.costPico ?? 0n).toString() };
          values[":oldStatus"] = { S: correction.counted.costPico === null ? "unpriced" : "priced" };
          values[":oldVersion"] = { S: correction.counted.priceVersion };
        }
        items.push({
          Update: {
            TableName: this.tableName,
            Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } },
            UpdateExpression: "SET #cost = :cost, #status = :status, #version = :version",
            ConditionExpression: condition,
            // DynamoDB refuses a name the expressions do not use: #pk only in the legacy marker's condition.
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        });
      }
      const cost = (correction.newCostPico ?? 0n) - (correction.oldCostPico ?? 0n);
      const unpriced = (correction.newCostPico === null ? 1 : 0) - (correction.oldCostPico === null ? 1 : 0);
      for (const item of correction.items) addItemCorrection(deltas, item, cost, unpriced);
    }
    for (const delta of deltas.values()) {
      if (delta.costPico === 0n && delta.unpriced === 0) continue;
      items.push({
        Update: {
          TableName: this.tableName,
          Key: { [PK]: { S: delta.pk }, [SK]: { S: delta.sk } },
          UpdateExpression: "ADD #cost :cost, #unpriced :unpriced SET updatedAt = :now",
          ExpressionAttributeNames: { "#cost": COUNTER_ATTRIBUTES.costPico, "#unpriced": COUNTER_ATTRIBUTES.unpricedInvocations },
          ExpressionAttributeValues: {
            ":cost": { N: delta.costPico.toString() },
            ":unpriced": { N: String(delta.unpriced) },
            ":now": { N: String(nowSeconds) },
          },
        },
      });
    }
    return items;
  }

  /**
   * Runs one transaction until it commits: retryable cancellations and errors back off and retry;
   * failed conditions go to `onConditions`, which returns how many actions are left (0: done, -1:
   * the failure is not a condition it can resolve).
   */
  private async transact(
    build: () => TransactWriteItem[],
    onConditions: (failed: number[]) => Promise<number>,
    outcome: ApplyOutcome,
    units: () => number,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const items = build();
      if (items.length === 0) return;
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        outcome.transactions++;
        outcome.writeUnits += units();
        return;
      } catch (error) {
        if (error instanceof TransactionCanceledException || (error as Error).name === "TransactionCanceledException") {
          const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
          const failed = reasons.flatMap((reason, index) => (reason.Code === "ConditionalCheckFailed" ? [index] : []));
          if (failed.length > 0) {
            const left = await onConditions(failed);
            if (left === 0) return;
            if (left > 0) {
              attempt = 0;
              continue;
            }
          }
          const retryable = reasons.some((reason) => reason.Code === "TransactionConflict" || reason.Code === "ThrottlingError");
          if (!retryable || attempt >= 10)
            throw new RepriceWriteError(`transaction cancelled: ${reasons.map((reason) => reason.Code).join(", ")}`, { cause: error });
        } else if (!isRetryableWriteError(error) || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 25 * 2 ** attempt)));
      }
    }
  }

  private async getItems(corrections: readonly ItemCorrection[]): Promise<Map<string, Record<string, AttributeValue>>> {
    const found = new Map<string, Record<string, AttributeValue>>();
    for (const correction of corrections) {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { [PK]: { S: correction.pk }, [SK]: { S: correction.sk } }, ConsistentRead: true }),
      );
      if (result.Item) found.set(`${correction.pk}\u0000${correction.sk}`, result.Item);
    }
    return found;
  }
}

/** A reprice write that could not be made (not a condition: an error of the table). */
export class RepriceWriteError extends BedrockSpendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RepriceWriteError";
  }
}
