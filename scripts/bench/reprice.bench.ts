/**
 * reprice: `runReprice` (packages/pipeline) on a month of the reference workload, locally: the lake
 * a temp dir of Parquet written by the real lake writer, read and rewritten through
 * `LocalLakePartitions`; the aggregates table on DynamoDB Local, corrected by `RepriceWriter`.
 *
 * Settled month (the headline): 1,000,000 invocations of one month, the table loaded with the month
 * and day x model items the usage writer would have left (BatchWriteItem of `preAggregate`; a
 * settled month's reprice reads no dedup marker), then repriced with a catalog overlay that cuts
 * the price of three popular models, on a clock well after the month. Open month: the first
 * invocations of the same month counted through the real `UsageWriter` (markers present), repriced
 * on a clock inside the month. Both are checked after the run (exact costs against the lake and
 * against the records repriced in memory; a second reprice must change nothing) and the benchmark
 * fails if they are not right.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  type CatalogSource,
  catalogFrom,
  defaultCatalog,
  isSettledMonth,
  monthBounds,
  Pricer,
  parseInvocationLog,
  parseUsd,
  repriceRecord,
  StaticProfileMap,
  type UsageRecord,
} from "@bedrock-spend/core";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { DuckDbLakeWriter, LocalAthena, LocalLakePartitions } from "@bedrock-spend/local-lake";
import { type RepriceLake, type RepriceResult, runReprice } from "@bedrock-spend/pipeline";
import {
  type AggregateDelta,
  COUNTER_ATTRIBUTES,
  createAggregatesTable,
  type InvocationToCount,
  monthSk,
  PK,
  preAggregate,
  SK,
  tenantPk,
  UsageWriter,
} from "@bedrock-spend/store";
import { APPLICATION_PROFILES, generateTraffic } from "@bedrock-spend/traffic";
import type { BenchContext, Benchmark, BenchSection } from "./types";
import { generatorHash } from "./workload";

/** The month repriced (the reference workload's month). */
const MONTH = "2026-11";
const MONTH_START = "2026-11-01T00:00:00Z";
const MONTH_SECONDS = 30 * 86_400;
/** Settled-month clock: well after the month and its 22 settle days. */
const SETTLED_NOW = Date.parse("2027-01-15T00:00:00Z");
/** Open-month clock: the last second of the month. */
const OPEN_NOW = Date.parse("2026-11-30T23:59:59Z");
/** Lake files as Firehose writes them at its longest buffer interval (900 s): one per 15 minutes of traffic. */
const FLUSH_SECONDS = 900;
/** BatchWriteItem requests in flight while loading the table. */
const LOAD_CONCURRENCY = 8;
/** Day x model items checked against the lake after the run (every month item is checked). */
const DAY_MODEL_SAMPLE = 2_000;

/**
 * The new prices: 20% off Nova Micro, Nova Lite (its `us.` profile is priced by the `*` entry) and
 * Claude Haiku 4.5 (global profile) from the 1st of the month: 37% of the reference traffic.
 */
const OVERLAY = {
  version: "bench-reprice-2026-11",
  currency: "USD",
  unit: "per_million_tokens",
  models: [
    {
      model: "amazon.nova-micro-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-11-01",
      effectiveTo: null,
      input: "0.028",
      output: "0.112",
      cacheRead: "0.007",
    },
    {
      model: "amazon.nova-lite-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-11-01",
      effectiveTo: null,
      input: "0.048",
      output: "0.192",
      cacheRead: "0.012",
    },
    {
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-11-01",
      effectiveTo: null,
      input: "0.80",
      output: "4.00",
      cacheRead: "0.08",
      cacheWrite: "1.00",
      cacheWrite1h: "1.60",
    },
  ],
};
const SOURCE: CatalogSource = { kind: "overlay", json: OVERLAY, origin: "bench-overlay.json" };

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const grouped = (value: number) => value.toLocaleString("en-US");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function profiles(): StaticProfileMap {
  return StaticProfileMap.fromJson(APPLICATION_PROFILES);
}

/**
 * The first `count` valid invocations of a month of `monthTotal` invocations of the reference
 * workload (seed 1), spread evenly over `MONTH`, priced with the shipped catalog: what the live
 * pipeline counted and delivered.
 */
function monthOfInvocations(count: number, monthTotal: number): InvocationToCount[] {
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: profiles() });
  const end = monthBounds(MONTH).end;
  const invocations: InvocationToCount[] = [];
  // 1% more items than records: malformed lines (0.2%) make no record, and the month must hold them all.
  const ratePerSecond = (monthTotal * 1.01) / MONTH_SECONDS;
  for (const item of generateTraffic({ seed: 1, count: Number.POSITIVE_INFINITY, start: MONTH_START, ratePerSecond })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (!parsed.ok) continue;
    const priced = pricer.price(parsed.log);
    if (Date.parse(priced.record.event_time) >= end) throw new Error(`reprice: record ${priced.record.request_id} falls after ${MONTH}`);
    invocations.push({ record: priced.record, costPico: priced.costPico, origin: priced.record.request_id });
    if (invocations.length === count) break;
  }
  return invocations;
}

/** Writes the records through the real lake writer, one flush per `flushSeconds` of event time (a file per day partition of the flush). */
async function writeLake(lakeDir: string, invocations: readonly InvocationToCount[], flushSeconds: number): Promise<void> {
  // As local mode opens it (packages/local-mode/src/local-stack.ts): one DuckDB thread.
  const writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
  try {
    let batch: UsageRecord[] = [];
    let window = Number.NaN;
    for (const { record } of invocations) {
      const at = Math.floor(Date.parse(record.event_time) / 1000 / flushSeconds);
      if (at !== window && batch.length > 0) {
        await writer.write(batch);
        batch = [];
      }
      window = at;
      batch.push(record);
    }
    if (batch.length > 0) await writer.write(batch);
  } finally {
    await writer.close();
  }
}

function parquetFiles(dir: string): number {
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile() && entry.name.endsWith(".parquet")) files++;
  return files;
}

/**
 * The lake of a workload in `lakeDir`. A full run keeps the Parquet files it wrote in the temp dir,
 * keyed by everything they depend on (generator, pricing, lake writer, workload), and copies them
 * on the next run: writing thousands of files takes minutes and is not what is measured.
 */
async function lakeOf(
  context: BenchContext,
  lakeDir: string,
  invocations: readonly InvocationToCount[],
  workload: { count: number; monthTotal: number; flushSeconds: number },
): Promise<{ files: number; seconds: number; cached: boolean }> {
  const started = performance.now();
  if (context.quick) {
    await writeLake(lakeDir, invocations, workload.flushSeconds);
    return { files: parquetFiles(lakeDir), seconds: (performance.now() - started) / 1000, cached: false };
  }
  const hash = createHash("sha256")
    .update(generatorHash(context.root))
    .update(JSON.stringify({ MONTH, ...workload }));
  const core = join(context.root, "packages/core/src");
  for (const file of readdirSync(core).sort()) if (file.endsWith(".ts")) hash.update(readFileSync(join(core, file)));
  hash.update(readFileSync(join(core, "catalog/defaults.json")));
  hash.update(readFileSync(join(context.root, "packages/local-lake/src/writer.ts")));
  const cache = join(tmpdir(), "bedrock-spend-bench", `reprice-lake-${hash.digest("hex").slice(0, 16)}`);
  let cached = true;
  if (!existsSync(cache)) {
    cached = false;
    const partial = `${cache}.partial`;
    rmSync(partial, { recursive: true, force: true });
    await writeLake(partial, invocations, workload.flushSeconds);
    renameSync(partial, cache);
  }
  cpSync(cache, lakeDir, { recursive: true });
  return { files: parquetFiles(lakeDir), seconds: (performance.now() - started) / 1000, cached };
}

/** An aggregate item as the usage writer leaves it: the counters added, the attributes and `updatedAt` set. */
function aggregateItem(delta: AggregateDelta, updatedAt: number): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { [PK]: { S: delta.pk }, [SK]: { S: delta.sk }, updatedAt: { N: String(updatedAt) } };
  for (const [counter, attribute] of Object.entries(COUNTER_ATTRIBUTES)) {
    item[attribute] = { N: String(delta.counters[counter as keyof typeof COUNTER_ATTRIBUTES]) };
  }
  for (const [name, value] of Object.entries(delta.attributes)) item[name] = { S: value };
  return item;
}

/** Loads the aggregate items of a settled month with BatchWriteItem (25 a request, a few in flight). */
async function loadAggregates(client: DynamoDBClient, tableName: string, deltas: readonly AggregateDelta[]): Promise<void> {
  const updatedAt = Math.floor(monthBounds(MONTH).end / 1000);
  let next = 0;
  const worker = async () => {
    while (next < deltas.length) {
      const slice = deltas.slice(next, next + 25);
      next += 25;
      let pending: WriteRequest[] = slice.map((delta) => ({ PutRequest: { Item: aggregateItem(delta, updatedAt) } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 20) throw new Error(`reprice: BatchWriteItem left ${pending.length} items unprocessed`);
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
        pending = result.UnprocessedItems?.[tableName] ?? [];
        if (pending.length > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      }
    }
  };
  await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
}

/** Counts the invocations through the real exactly-once writer (markers with what each was counted at), in batches of 500. */
async function countThroughWriter(client: DynamoDBClient, tableName: string, invocations: readonly InvocationToCount[]): Promise<void> {
  const writer = new UsageWriter({ client, tableName, now: () => OPEN_NOW });
  for (let start = 0; start < invocations.length; start += 500) {
    const outcome = await writer.write(invocations.slice(start, start + 500));
    if (outcome.failed.length > 0) throw outcome.failed[0]?.error;
  }
}

type Phase = "plan" | "corrections" | "lake";
const PHASES: readonly Phase[] = ["plan", "corrections", "lake"];

/** CPU seconds used so far by DynamoDB Local (the Java child of this process); null where /proc or pgrep is not there. */
function javaCpuSeconds(): number | null {
  try {
    const pid = execFileSync("pgrep", ["-P", String(process.pid), "java"], { encoding: "utf8" })
      .trim()
      .split("\n")[0];
    const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function cpuNow(): { node: number; java: number | null } {
  const usage = process.cpuUsage();
  return { node: (usage.user + usage.system) / 1e6, java: javaCpuSeconds() };
}

/**
 * Where a reprice's time goes, by phase: wall time, CPU of this process (JS and DuckDB, which runs
 * in it) and of DynamoDB Local, and the time each kind of call of the lake and the client was in
 * flight (lake reads run ahead, so they overlap the rest).
 */
class Meter {
  phase: Phase = "plan";
  readonly seconds = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly wall: Record<Phase, number> = { plan: 0, corrections: 0, lake: 0 };
  readonly cpu: Record<Phase, { node: number; java: number | null }> = {
    plan: { node: 0, java: 0 },
    corrections: { node: 0, java: 0 },
    lake: { node: 0, java: 0 },
  };
  private mark = { at: performance.now(), ...cpuNow() };

  /** Ends the current phase and starts `next`. */
  enter(next: Phase): void {
    const now = { at: performance.now(), ...cpuNow() };
    const cpu = this.cpu[this.phase];
    this.wall[this.phase] += (now.at - this.mark.at) / 1000;
    cpu.node += now.node - this.mark.node;
    cpu.java = cpu.java === null || now.java === null || this.mark.java === null ? null : cpu.java + now.java - this.mark.java;
    this.mark = now;
    this.phase = next;
  }

  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const key = `${this.phase}.${name}`;
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.seconds.set(key, (this.seconds.get(key) ?? 0) + (performance.now() - started) / 1000);
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    }
  }

  /** Seconds in flight of the calls of `phase` whose name starts with `prefix`. */
  sum(phase: Phase, prefix: string): number {
    let total = 0;
    for (const [key, seconds] of this.seconds) if (key.startsWith(`${phase}.${prefix}`)) total += seconds;
    return total;
  }

  breakdown(): Record<Phase, { seconds: number; nodeCpu: number; dynamoDbLocalCpu: number | null; lakeRead: number; lakeWrite: number; dynamoDb: number }> {
    const of = (phase: Phase) => ({
      seconds: round(this.wall[phase], 1),
      nodeCpu: round(this.cpu[phase].node, 1),
      dynamoDbLocalCpu: this.cpu[phase].java === null ? null : round(this.cpu[phase].java as number, 1),
      lakeRead: round(this.sum(phase, "lake.readDay") + this.sum(phase, "lake.days") + this.sum(phase, "lake.invocationsByTenant"), 1),
      lakeWrite: round(
        this.sum(phase, "lake.replaceDay") + this.sum(phase, "lake.stageDay") + this.sum(phase, "lake.publishDay") + this.sum(phase, "lake.discardStaged"),
        1,
      ),
      dynamoDb: round(this.sum(phase, "ddb."), 1),
    });
    return { plan: of("plan"), corrections: of("corrections"), lake: of("lake") };
  }
}

/**
 * The lake adapter, timed. The lake phase starts with the first publication of a staged day (or,
 * without staging, with the second pass over the month's days).
 */
function timedLake(lake: LocalLakePartitions, meter: Meter): RepriceLake {
  let passes = 0;
  return {
    days: async (month) => {
      if (++passes === 2) meter.enter("lake");
      return meter.time("lake.days", () => lake.days(month));
    },
    readDay: (day) => meter.time("lake.readDay", () => lake.readDay(day)),
    replaceDay: (day, token, rows, repriceId) => meter.time("lake.replaceDay", () => lake.replaceDay(day, token, rows, repriceId)),
    invocationsByTenant: (month) => meter.time("lake.invocationsByTenant", () => lake.invocationsByTenant(month)),
    stageDay: (day, token, rows, repriceId) => meter.time("lake.stageDay", () => lake.stageDay(day, token, rows, repriceId)),
    publishDay: (day, staged, repriceId) => {
      if (meter.phase !== "lake") meter.enter("lake");
      return meter.time("lake.publishDay", () => lake.publishDay(day, staged, repriceId));
    },
    discardStaged: (repriceId) => meter.time("lake.discardStaged", () => lake.discardStaged(repriceId)),
  };
}

/** The client, with the time of each call by command. */
function timedClient(client: DynamoDBClient, meter: Meter): DynamoDBClient {
  const timed = Object.create(client) as DynamoDBClient;
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  timed.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) =>
    meter.time(`ddb.${command.constructor.name.replace(/Command$/, "")}`, () => send(command, ...rest))) as DynamoDBClient["send"];
  return timed;
}

interface Run {
  result: RepriceResult;
  seconds: number;
  meter: Meter;
}

interface Setup {
  client: DynamoDBClient;
  tableName: string;
  lake: LocalLakePartitions;
  pricer: Pricer;
  now: number;
}

/** One `runReprice` of the month, timed: plan (through the audit update), aggregate corrections, lake rewrite. */
async function reprice(context: BenchContext, name: string, setup: Setup): Promise<Run> {
  const meter = new Meter();
  const started = performance.now();
  const result = await runReprice({
    from: MONTH,
    to: MONTH,
    pricer: setup.pricer,
    source: SOURCE,
    lake: timedLake(setup.lake, meter),
    client: timedClient(setup.client, meter),
    tableName: setup.tableName,
    now: () => setup.now,
    actor: "bench@reprice",
    onProgress: (message) => {
      if (message.startsWith("planned;")) meter.enter("corrections");
      context.log(`reprice (${name}): ${message}`);
    },
  });
  meter.enter(meter.phase);
  return { result, seconds: (performance.now() - started) / 1000, meter };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`reprice: check failed: ${message}`);
}

/** Items of the table by key (BatchGetItem, 100 a request). */
async function getItems(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<Map<string, Record<string, AttributeValue>>> {
  const found = new Map<string, Record<string, AttributeValue>>();
  for (let start = 0; start < keys.length; start += 100) {
    let pending: Record<string, AttributeValue>[] | undefined = keys.slice(start, start + 100).map((key) => ({ [PK]: { S: key.pk }, [SK]: { S: key.sk } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt >= 20) throw new Error("reprice: BatchGetItem left keys unprocessed");
      const result: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[tableName] ?? []) found.set(`${item[PK]?.S}\u0000${item[SK]?.S}`, item);
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return found;
}

/** What the table must say after the reprice: every month item, and every n-th day x model item. */
interface Expected {
  invocations: number;
  months: AggregateDelta[];
  days: AggregateDelta[];
}

/**
 * Every record of the month priced with the new catalog, in memory (independently of the lake's
 * round trip), pre-aggregated onto its items; kept: the month items and a sample of day x model items.
 */
function expectedAggregates(invocations: readonly InvocationToCount[], pricer: Pricer, daySample: number): Expected {
  const deltas = preAggregate(invocations.map(({ record }) => ({ record, costPico: repriceRecord(record, pricer).costPico })));
  const days = deltas.filter((delta) => delta.sk.startsWith("D#"));
  const step = Math.max(1, Math.floor(days.length / daySample));
  return {
    invocations: invocations.length,
    months: deltas.filter((delta) => delta.sk.startsWith("M#")),
    days: days.filter((_, index) => index % step === 0),
  };
}

/**
 * Checks a reprice's outcome: the lake (one row per invocation, every row at the new price version,
 * each tenant-month's exact cost the in-memory repricing's), the table's month items and a sample
 * of its day x model items (exact costPico, invocations, unpriced), and nothing left unreconciled.
 */
async function verify(context: BenchContext, name: string, setup: Setup & { lakeDir: string }, expected: Expected, run: Run): Promise<void> {
  const { result } = run;
  check(result.audit?.status === "applied", `${name}: audit status ${result.audit?.status}`);
  check((result.audit?.unreconciled.length ?? 0) === 0, `${name}: ${result.audit?.unreconciled.length} tenant-months unreconciled`);
  check(result.report.invocations === expected.invocations, `${name}: planned ${result.report.invocations} of ${expected.invocations} invocations`);
  check(result.report.changed > 0 && result.tenantDaysChanged > 0, `${name}: nothing changed`);
  check(result.notYetCounted === 0, `${name}: ${result.notYetCounted} invocations not yet counted`);
  const byTenant = new Map(expected.months.map((delta) => [delta.pk, delta]));

  // The lake, summed by DuckDB (exact decimals).
  const athena = await LocalAthena.open({ lakeDir: setup.lakeDir, views: [] });
  try {
    const { rows } = await athena.query(
      "SELECT tenant_id, count(*) AS n, count(DISTINCT request_id) AS ids, CAST(coalesce(sum(cost_usd), 0) AS VARCHAR) AS cost, string_agg(DISTINCT price_version, ',') AS versions FROM invocations GROUP BY tenant_id",
    );
    let lakeRows = 0;
    for (const row of rows) {
      const tenantId = String(row.tenant_id);
      lakeRows += Number(row.n);
      check(row.n === row.ids, `${name}: lake holds duplicate rows for ${tenantId}`);
      check(row.versions === setup.pricer.catalog.version, `${name}: lake rows of ${tenantId} at versions ${row.versions}`);
      const want = byTenant.get(tenantPk(tenantId));
      check(want?.sk === monthSk(MONTH), `${name}: lake tenant ${tenantId} has no expected month item`);
      check(parseUsd(String(row.cost)) === want?.counters.costPico, `${name}: lake cost of ${tenantId} ${String(row.cost)} != ${want?.counters.costPico} pico`);
      check(Number(row.n) === want?.counters.invocations, `${name}: lake rows of ${tenantId} ${row.n} != ${want?.counters.invocations}`);
    }
    check(rows.length === expected.months.length, `${name}: lake has ${rows.length} tenants, ${expected.months.length} expected`);
    check(lakeRows === expected.invocations, `${name}: lake holds ${lakeRows} rows, ${expected.invocations} expected`);
  } finally {
    await athena.close();
  }

  // The table.
  const sample = [...expected.months, ...expected.days];
  const items = await getItems(setup.client, setup.tableName, sample);
  for (const delta of sample) {
    const item = items.get(`${delta.pk}\u0000${delta.sk}`);
    const what = `${name}: ${delta.pk} ${delta.sk}`;
    check(item !== undefined, `${what} missing`);
    check(BigInt(item?.[COUNTER_ATTRIBUTES.costPico]?.N ?? "-1") === delta.counters.costPico, `${what} costPico ${item?.[COUNTER_ATTRIBUTES.costPico]?.N}`);
    check(Number(item?.[COUNTER_ATTRIBUTES.invocations]?.N) === delta.counters.invocations, `${what} invocations ${item?.[COUNTER_ATTRIBUTES.invocations]?.N}`);
    check(
      Number(item?.[COUNTER_ATTRIBUTES.unpricedInvocations]?.N) === delta.counters.unpricedInvocations,
      `${what} unpriced ${item?.[COUNTER_ATTRIBUTES.unpricedInvocations]?.N}`,
    );
  }
  context.log(`reprice (${name}): verified the lake, ${expected.months.length} month items and ${expected.days.length} day x model items exactly`);
}

/**
 * DynamoDB Local's time per item update of a reprice correction, on the repriced table: the same
 * conditional update (`RepriceWriter`'s, adding nothing under another id) in transactions of 100,
 * one after another as the writer sends them, and as single UpdateItems, 8 in flight.
 */
async function probeItemWrites(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<{ transactionMs: number; updateItemMs: number }> {
  const update = (key: { pk: string; sk: string }, id: string) => ({
    TableName: tableName,
    Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } },
    UpdateExpression: "ADD #cost :cost, #unpriced :unpriced, #reprices :ids SET updatedAt = :now",
    ConditionExpression: "attribute_exists(#pk) AND NOT contains(#reprices, :id)",
    ExpressionAttributeNames: { "#pk": PK, "#cost": COUNTER_ATTRIBUTES.costPico, "#unpriced": COUNTER_ATTRIBUTES.unpricedInvocations, "#reprices": "reprices" },
    ExpressionAttributeValues: { ":cost": { N: "0" }, ":unpriced": { N: "0" }, ":ids": { SS: [id] }, ":id": { S: id }, ":now": { N: "0" } },
  });
  const half = Math.floor(keys.length / 200) * 100;
  let started = performance.now();
  for (let start = 0; start < half; start += 100) {
    await client.send(
      new TransactWriteItemsCommand({ TransactItems: keys.slice(start, start + 100).map((key) => ({ Update: update(key, "probe-transactions") })) }),
    );
  }
  const transactionMs = (performance.now() - started) / Math.max(1, half);
  const singles = keys.slice(half, 2 * half);
  let next = 0;
  started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < singles.length) await client.send(new UpdateItemCommand(update(singles[next++] as { pk: string; sk: string }, "probe-single")));
    }),
  );
  return { transactionMs: round(transactionMs, 2), updateItemMs: round((performance.now() - started) / Math.max(1, singles.length), 2) };
}

interface PathResult {
  invocations: number;
  run: Run;
  again: Run;
  expected: Expected;
  lakeFiles: number;
  setup: Record<string, number | boolean>;
  loadAverage: { before: number; after: number };
  /** DynamoDB Local's ms per item update, in transactions and as single UpdateItems (after the checks). */
  probe: { transactionMs: number; updateItemMs: number };
}

/**
 * One month through a reprice: settled (aggregates loaded, clock after the month) or open (counted
 * through the writer, clock inside it). `count` invocations, the first of a month of `monthTotal`.
 */
async function measurePath(context: BenchContext, kind: "settled" | "open", endpoint: string, count: number, monthTotal: number): Promise<PathResult> {
  const now = kind === "settled" ? SETTLED_NOW : OPEN_NOW;
  check(isSettledMonth(MONTH, now) === (kind === "settled"), `${kind}: clock ${new Date(now).toISOString()}`);
  const client = localDynamoDbClient(endpoint);
  const dir = join(context.scratch, `reprice-${kind}`);
  const lakeDir = join(dir, "lake");
  mkdirSync(dir, { recursive: true });
  const tableName = `bench-reprice-${kind}-${randomUUID().slice(0, 8)}`;
  const pricer = new Pricer({ catalog: catalogFrom(SOURCE), profiles: profiles() });
  let athena: LocalAthena | undefined;
  let writer: DuckDbLakeWriter | undefined;
  try {
    let started = performance.now();
    let invocations: InvocationToCount[] | undefined = monthOfInvocations(count, monthTotal);
    const setup: Record<string, number | boolean> = { generateSeconds: round((performance.now() - started) / 1000, 1) };
    context.log(`reprice (${kind}): ${grouped(invocations.length)} invocations of ${MONTH} generated and priced in ${setup.generateSeconds} s`);
    // The quick run writes a file per day: thousands of tiny files would take most of its seconds.
    const lake = await lakeOf(context, lakeDir, invocations, { count, monthTotal, flushSeconds: context.quick ? 86_400 : FLUSH_SECONDS });
    Object.assign(setup, { lakeSeconds: round(lake.seconds, 1), lakeCached: lake.cached });
    context.log(
      `reprice (${kind}): lake of ${grouped(lake.files)} Parquet files ${lake.cached ? "copied from the cache" : "written"} in ${setup.lakeSeconds} s`,
    );
    await createAggregatesTable(client, tableName);
    started = performance.now();
    if (kind === "settled") {
      const deltas = preAggregate(invocations);
      await loadAggregates(client, tableName, deltas);
      setup.aggregateItems = deltas.length;
    } else {
      await countThroughWriter(client, tableName, invocations);
    }
    setup.tableSeconds = round((performance.now() - started) / 1000, 1);
    context.log(
      `reprice (${kind}): table ${kind === "settled" ? `loaded with ${grouped(setup.aggregateItems as number)} aggregate items` : "counted through UsageWriter"} in ${setup.tableSeconds} s`,
    );
    const expected = expectedAggregates(invocations, pricer, kind === "settled" ? DAY_MODEL_SAMPLE : Number.POSITIVE_INFINITY);
    const total = invocations.length;
    // The reprice runs without the workload in memory, as the CLI would.
    invocations = undefined;

    // As the CLI runs it on a data dir: DuckDB (the local Athena) reads the lake, the lake writer rewrites it, one DuckDB thread each.
    athena = await LocalAthena.open({ lakeDir, views: [], threads: 1 });
    writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
    const partitions = new LocalLakePartitions(lakeDir, join(dir, "lake-history"), athena, writer);
    const options = { client, tableName, lake: partitions, pricer, now };
    const loadBefore = loadavg()[0] as number;
    const run = await reprice(context, kind, options);
    const loadAfter = loadavg()[0] as number;
    const { result } = run;
    context.log(
      `reprice (${kind}): ${round(run.seconds, 1)} s; ${grouped(result.report.changed)} changed, ${grouped(result.tenantDaysChanged)} tenant-days, ` +
        `${grouped(result.writeUnits)} write units, ${grouped(result.transactions)} transactions; load average ${round(loadBefore, 1)} -> ${round(loadAfter, 1)}`,
    );
    context.log(`reprice (${kind}): by phase ${JSON.stringify(run.meter.breakdown())}`);
    context.log(`reprice (${kind}): calls ${JSON.stringify(Object.fromEntries(run.meter.calls))}`);

    // A second reprice with the same prices finds nothing to change.
    const again = await reprice(context, `${kind}, again`, options);
    check(again.result.report.changed === 0, `${kind}: a second reprice changed ${again.result.report.changed} invocations`);
    check(again.result.writeUnits === 0 && again.result.lakeRowsRewritten === 0, `${kind}: a second reprice wrote ${again.result.writeUnits} units`);
    check(again.result.report.tenants.length === 0, `${kind}: a second reprice reports ${again.result.report.tenants.length} tenant-months`);
    await writer.close();
    writer = undefined;
    await verify(context, kind, { ...options, lakeDir }, expected, run);
    const probe = await probeItemWrites(client, tableName, expected.days);
    context.log(
      `reprice (${kind}): an item update on DynamoDB Local: ${probe.transactionMs} ms in transactions of 100, ${probe.updateItemMs} ms as UpdateItem (8 in flight)`,
    );
    return {
      invocations: total,
      run,
      again,
      expected,
      lakeFiles: lake.files,
      setup,
      loadAverage: { before: round(loadBefore, 1), after: round(loadAfter, 1) },
      probe,
    };
  } finally {
    await writer?.close();
    await athena?.close();
    client.destroy();
  }
}

const PHASE_LABELS: Record<Phase, string> = {
  plan: "plan, with the corrections and the lake's replacements behind it",
  corrections: "last corrections (month items)",
  lake: "lake replacements published",
};

async function run(context: BenchContext): Promise<BenchSection> {
  // The quick run: the first 600 invocations of a month of 10,000 (two days of the lake), 100 of them for the open month.
  const monthTotal = context.quick ? 10_000 : 1_000_000;
  const settledCount = context.quick ? 600 : monthTotal;
  const openCount = context.quick ? 100 : 20_000;
  let settled: PathResult;
  let open: PathResult;
  // A fresh DynamoDB Local per path (its in-memory database slows down as it fills), but in the quick run.
  let shared = context.quick ? await startDynamoDbLocal() : undefined;
  try {
    const first = shared ?? (await startDynamoDbLocal({ heap: "2g" }));
    try {
      settled = await measurePath(context, "settled", first.endpoint, settledCount, monthTotal);
    } finally {
      if (!shared) await first.stop();
    }
    const second = shared ?? (await startDynamoDbLocal());
    try {
      open = await measurePath(context, "open", second.endpoint, openCount, monthTotal);
    } finally {
      if (!shared) await second.stop();
    }
  } finally {
    await shared?.stop();
    shared = undefined;
  }

  const s = settled.run.result;
  const o = open.run.result;
  const sb = settled.run.meter.breakdown();
  const ob = open.run.meter.breakdown();
  const figures = {
    invocations: settled.invocations,
    monthSeconds: round(settled.run.seconds, 1),
    invocationsPerSec: Math.round(settled.invocations / settled.run.seconds),
    wcuPerChangedTenantDay: round(s.writeUnits / s.tenantDaysChanged, 2),
    tenantDaysChanged: s.tenantDaysChanged,
    tenantMonthsChanged: s.report.tenants.length,
    invocationsChanged: s.report.changed,
    itemsCorrected: s.itemsCorrected,
    itemUpdates: s.writeUnits / 2,
    writeUnits: s.writeUnits,
    transactions: s.transactions,
    lakeRowsRewritten: s.lakeRowsRewritten,
    lakeDaysRewritten: s.lakeDaysRewritten,
    planSeconds: sb.plan.seconds,
    correctionsSeconds: sb.corrections.seconds,
    lakeSeconds: sb.lake.seconds,
    noChangeSeconds: round(settled.again.seconds, 1),
    loadAverage: settled.loadAverage.before,
    open: {
      invocations: open.invocations,
      seconds: round(open.run.seconds, 1),
      invocationsPerSec: Math.round(open.invocations / open.run.seconds),
      wcuPerInvocation: round(o.writeUnits / open.invocations, 2),
      wcuPerChangedTenantDay: round(o.writeUnits / o.tenantDaysChanged, 2),
      invocationsCorrected: o.invocationsCorrected,
      transactions: o.transactions,
      correctionsSeconds: ob.corrections.seconds,
    },
  };

  const row = (label: string, settledValue: string | number, openValue: string | number) => `| ${label} | ${settledValue} | ${openValue} |`;
  const phaseCell = (phase: ReturnType<Meter["breakdown"]>[Phase]) =>
    `${phase.seconds} s: CPU ${phase.nodeCpu} Node + ${phase.dynamoDbLocalCpu ?? "?"} DynamoDB Local; in flight: lake read ${phase.lakeRead}, lake write ${phase.lakeWrite}, DynamoDB ${phase.dynamoDb}`;
  const perDay = (seconds: number) => round(seconds / Math.max(1, s.lakeDaysRewritten), 2);
  const markdown = [
    `**Workload.** One month (${MONTH}) of the reference workload (seed 1, 10,000 tenants, Zipf 1.1, 20 models), ${grouped(settled.invocations)} invocations spread evenly over its 30 days ` +
      `and priced with the shipped catalog. The lake is a temp dir of Parquet written by the real lake writer (\`DuckDbLakeWriter\`), one file per ${FLUSH_SECONDS / 60} minutes ` +
      `of traffic (Firehose's longest buffer interval): ${grouped(settled.lakeFiles)} files. The new prices are a catalog overlay (\`${OVERLAY.version}\`) that cuts Nova Micro, ` +
      "Nova Lite and Claude Haiku 4.5 (global) by 20% from the 1st: 37% of the invocations change cost, and every row changes price version, so every day of the lake is rewritten. " +
      `The open month is the first ${grouped(open.invocations)} invocations of the same month (its first hours: the same density and file sizes, ${grouped(open.lakeFiles)} of the files).`,
    "",
    "**How.** `runReprice` (packages/pipeline) as the CLI runs it on a data dir: `LocalLakePartitions` over the lake (the local Athena's DuckDB reads a day, the lake writer's " +
      "writes its replacement, one DuckDB thread each as the CLI opens them), the aggregates table (`createAggregatesTable`, stream on) on DynamoDB Local, a fresh in-memory instance per path, " +
      "`switchOver` omitted; the lake's files are kept in the temp dir between runs (keyed by the sources they depend on) and copied in. " +
      `Settled month: the table holds the ${grouped(Number(settled.setup.aggregateItems ?? 0))} month and day x model items the usage writer would have left ` +
      `(loaded with BatchWriteItem from \`preAggregate\`; a settled month's reprice reads no dedup marker), clock ${new Date(SETTLED_NOW).toISOString().slice(0, 10)}. ` +
      `Open month: its invocations counted through the real \`UsageWriter\` first (markers say what each was counted at), clock ${new Date(OPEN_NOW).toISOString()}. ` +
      "The whole `runReprice` is timed (audit, registry, plan, last corrections, publication), each phase on its own with the CPU this process (JS and DuckDB) and DynamoDB Local " +
      "used in it, and the time each kind of call was in flight (summed over calls in flight together, so it can exceed the phase). Write units are `RepriceWriter`'s, by DynamoDB's rule " +
      "for transactions (2 per item under 1 KB), over the tenant-days whose cost changed. Checked after each run, or the benchmark fails: one lake row per invocation, all at the new " +
      "version, each tenant-month's lake cost (exact decimal sum) equal to the records repriced in memory; every month item and " +
      `${grouped(settled.expected.days.length)} day x model items of the table (exact costPico, invocations, unpriced) equal to the same; a second reprice changes nothing. ` +
      `Load average when the settled run started: ${settled.loadAverage.before} on ${cpus().length} cores (other work on the machine slows every figure here).`,
    "",
    "| | settled month (headline) | open month |",
    "| --- | --- | --- |",
    row("invocations", grouped(settled.invocations), grouped(open.invocations)),
    row("**wall time of the reprice, s**", `**${figures.monthSeconds}**`, figures.open.seconds),
    row("**invocations/s**", `**${grouped(figures.invocationsPerSec)}**`, grouped(figures.open.invocationsPerSec)),
    row("invocations whose cost or version changed", grouped(s.report.changed), grouped(o.report.changed)),
    row(
      "tenant-months / tenant-days whose cost changed",
      `${grouped(s.report.tenants.length)} / ${grouped(s.tenantDaysChanged)}`,
      `${grouped(o.report.tenants.length)} / ${grouped(o.tenantDaysChanged)}`,
    ),
    row(
      "corrected (as `runReprice` reports it) / item updates written",
      `${grouped(s.itemsCorrected)} items / ${grouped(figures.itemUpdates)}`,
      `${grouped(o.invocationsCorrected)} invocations / -`,
    ),
    row("transactions", grouped(s.transactions), grouped(o.transactions)),
    row("write units", grouped(s.writeUnits), grouped(o.writeUnits)),
    row("**write units per changed tenant-day**", `**${figures.wcuPerChangedTenantDay}**`, figures.open.wcuPerChangedTenantDay),
    row("write units per invocation", round(s.writeUnits / settled.invocations, 3), figures.open.wcuPerInvocation),
    row("lake days / rows rewritten", `${s.lakeDaysRewritten} / ${grouped(s.lakeRowsRewritten)}`, `${o.lakeDaysRewritten} / ${grouped(o.lakeRowsRewritten)}`),
    ...PHASES.map((phase) => row(PHASE_LABELS[phase], phaseCell(sb[phase]), phaseCell(ob[phase]))),
    row("second reprice, nothing to change, s", figures.noChangeSeconds, round(open.again.seconds, 1)),
    "",
    "**What limits this figure.** The reprice reads the month from the lake once. As it plans a day (DuckDB reads the day's files, JS reprices each row and tallies the items " +
      "it touches), the day's corrections go to DynamoDB (four transactions of up to 100 item updates in flight) and the day's replacement is written aside by DuckDB (the " +
      "day's files joined with the new cost, status, reason and version by request id); the next day is read meanwhile. The replacements are published, by renames, only " +
      "after the last correction, so that a crash before then finds the old prices in the lake.",
    "",
    `- **Plan** (${sb.plan.seconds} s, the whole of the work): ${sb.plan.nodeCpu} CPU s of this process (JS, GC, DuckDB's threads: the reads, ` +
      `${grouped(Math.round(settled.lakeFiles / Math.max(1, s.lakeDaysRewritten)))} files a day, and the replacements, ${perDay(sb.plan.lakeWrite)} s a day in flight) and ` +
      `${sb.plan.dynamoDbLocalCpu ?? "?"} CPU s of DynamoDB Local on ${cpus().length} cores. DynamoDB Local does the ${grouped(figures.itemUpdates)} item updates on one core ` +
      `(measured on the repriced table after the run: ${settled.probe.transactionMs} ms an item in transactions of 100, ${settled.probe.updateItemMs} ms as UpdateItems 8 in flight), ` +
      `the plan and the lake writes the other; together they use ${round(((sb.plan.nodeCpu ?? 0) + (sb.plan.dynamoDbLocalCpu ?? 0)) / Math.max(0.1, sb.plan.seconds), 2)} of the ${cpus().length} cores on average. ` +
      `The small files cost a share of the reads: the second reprice, over the replaced lake (one file a day), plans in ${settled.again.meter.breakdown().plan.seconds} s.`,
    `- **Last corrections** (${sb.corrections.seconds} s): the month items, once the month is planned, and whatever of the day items was still queued.`,
    `- **Publication** (${sb.lake.seconds} s): ${s.lakeDaysRewritten} renames of a new file into its partition and of the replaced files into the history.`,
    "",
    (figures.monthSeconds > 120
      ? `The 2 minutes are missed on this run (${figures.monthSeconds} s): both cores are busy for the whole plan. `
      : `The 2 minutes are met: ${figures.monthSeconds} s. `) +
      "`runReprice` counts as corrected every item of a changed invocation, those whose correction is zero included (a new version only); the item updates written are the " +
      "transactions' items. " +
      "Write units: each changed tenant-day costs its day x model items whose cost changes (2 units each) and its share of the tenant's month item; an item whose cost does " +
      "not change (a new price version only) is not written. Before the plan, one DuckDB query counts each tenant's invocations in the month's lake and 100 BatchGetItems read " +
      "the month items they are checked against. " +
      `The open month corrects per invocation instead: each invocation's marker update is conditional on what the marker says it was counted at (so that live traffic ` +
      `and other reprices never make a correction count twice), in the same transaction as the items it was counted on, so ${figures.open.wcuPerInvocation} units and ` +
      `${round((1000 * (ob.plan.seconds + ob.corrections.seconds)) / open.invocations, 2)} ms an invocation (plan and corrections); ` +
      `every invocation whose price version changes gets its marker updated, whether its cost changes or not, and the plan reads every marker (BatchGetItem, ${ob.plan.dynamoDb} s in flight). ` +
      "Its write units per tenant-day are not comparable: its invocations are the month's first 14 hours, ten to a tenant-day.",
  ].join("\n");

  const detailsOf = (path: PathResult) => ({
    setup: path.setup,
    lakeFiles: path.lakeFiles,
    loadAverage: path.loadAverage,
    phases: path.run.meter.breakdown(),
    callSeconds: Object.fromEntries([...path.run.meter.seconds].map(([key, value]) => [key, round(value, 2)])),
    calls: Object.fromEntries(path.run.meter.calls),
    again: { seconds: round(path.again.seconds, 1), phases: path.again.meter.breakdown() },
    verified: { monthItems: path.expected.months.length, dayModelItems: path.expected.days.length },
    itemUpdateMs: path.probe,
  });
  return { figures, markdown, details: { settled: detailsOf(settled), open: detailsOf(open) } };
}

const benchmark: Benchmark = {
  key: "reprice",
  title: "Reprice a month locally: throughput and write units",
  run,
};

export default benchmark;
