/**
 * reprice: `runReprice` (packages/pipeline) on a month of the reference workload, locally: the lake
 * a temp dir of Parquet written by the real lake writer, read and rewritten through
 * `LocalLakePartitions`; the aggregates table on DynamoDB Local, corrected by `RepriceWriter`.
 *
 * Settled month (the headline): 1,000,000 invocations of one month, the table loaded with the month
 * and day x model items the usage writer would have left (BatchWriteItem of `preAggregate`; a
 * settled month's reprice reads no dedup marker), then repriced with a catalog overlay that cuts
 * the price of three popular models, on a clock well after the month. Open month: a smaller month
 * counted through the real `UsageWriter` (markers present), repriced on a clock inside the month.
 * Both are checked after the run (exact costs against the lake and against the records repriced in
 * memory; a second reprice must change nothing) and the benchmark fails if they are not right.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type DynamoDBClient,
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
 * `count` valid invocations of the reference workload (seed 1) spread over one month (`MONTH`),
 * priced with the shipped catalog: what the live pipeline counted and delivered.
 */
function monthOfInvocations(count: number): InvocationToCount[] {
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: profiles() });
  const end = monthBounds(MONTH).end;
  const invocations: InvocationToCount[] = [];
  // 1% more items than records: malformed lines (0.2%) make no record, and the month must hold them all.
  const ratePerSecond = (count * 1.01) / MONTH_SECONDS;
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
async function writeLake(lakeDir: string, invocations: readonly InvocationToCount[], flushSeconds: number): Promise<{ files: number; seconds: number }> {
  const started = performance.now();
  const writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
  let files = 0;
  try {
    let batch: UsageRecord[] = [];
    let window = Number.NaN;
    for (const { record } of invocations) {
      const at = Math.floor(Date.parse(record.event_time) / 1000 / flushSeconds);
      if (at !== window && batch.length > 0) {
        files += (await writer.write(batch)).files.length;
        batch = [];
      }
      window = at;
      batch.push(record);
    }
    if (batch.length > 0) files += (await writer.write(batch)).files.length;
  } finally {
    await writer.close();
  }
  return { files, seconds: (performance.now() - started) / 1000 };
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
async function loadAggregates(client: DynamoDBClient, tableName: string, deltas: readonly AggregateDelta[]): Promise<{ items: number; seconds: number }> {
  const started = performance.now();
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
  return { items: deltas.length, seconds: (performance.now() - started) / 1000 };
}

/** Counts the invocations through the real exactly-once writer (markers with what each was counted at), in batches of 500. */
async function countThroughWriter(client: DynamoDBClient, tableName: string, invocations: readonly InvocationToCount[]): Promise<{ seconds: number }> {
  const started = performance.now();
  const writer = new UsageWriter({ client, tableName, now: () => OPEN_NOW });
  for (let start = 0; start < invocations.length; start += 500) {
    const outcome = await writer.write(invocations.slice(start, start + 500));
    if (outcome.failed.length > 0) throw outcome.failed[0]?.error;
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/** Time spent in each kind of call by the adapters and the client a reprice is given, by phase of the reprice. */
class Meter {
  /** `plan` (through the audit update), `corrections` (aggregates), `lake` (rewrite). */
  phase: Phase = "plan";
  readonly seconds = new Map<string, number>();
  readonly calls = new Map<string, number>();

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

  /** Seconds of the calls of `phase` whose name starts with `prefix`. */
  sum(phase: Phase, prefix: string): number {
    let total = 0;
    for (const [key, seconds] of this.seconds) if (key.startsWith(`${phase}.${prefix}`)) total += seconds;
    return total;
  }
}

type Phase = "plan" | "corrections" | "lake";

/** The lake adapter, timed; its second pass over the month is the lake rewrite. */
function timedLake(lake: RepriceLake, meter: Meter, passes: number[]): RepriceLake {
  return {
    days: async (month) => {
      passes.push(performance.now());
      if (passes.length === 2) meter.phase = "lake";
      return meter.time("lake.days", () => lake.days(month));
    },
    readDay: (day) => meter.time("lake.readDay", () => lake.readDay(day)),
    replaceDay: (day, token, rows, repriceId) => meter.time("lake.replaceDay", () => lake.replaceDay(day, token, rows, repriceId)),
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
  /** Wall seconds of the plan (through the audit update), the aggregate corrections and the lake rewrite. */
  phases: Record<Phase, number>;
  meter: Meter;
}

async function reprice(
  context: BenchContext,
  name: string,
  setup: { client: DynamoDBClient; tableName: string; lake: LocalLakePartitions; pricer: Pricer; now: number },
): Promise<Run> {
  const meter = new Meter();
  const passes: number[] = [];
  let correcting = Number.NaN;
  const started = performance.now();
  const result = await runReprice({
    from: MONTH,
    to: MONTH,
    pricer: setup.pricer,
    source: SOURCE,
    lake: timedLake(setup.lake, meter, passes),
    client: timedClient(setup.client, meter),
    tableName: setup.tableName,
    now: () => setup.now,
    actor: "bench@reprice",
    onProgress: (message) => {
      if (message.startsWith("correcting ")) {
        correcting = performance.now();
        meter.phase = "corrections";
      }
      context.log(`reprice (${name}): ${message}`);
    },
  });
  const ended = performance.now();
  const lakeStart = passes[1] ?? ended;
  const phases = {
    plan: ((Number.isNaN(correcting) ? lakeStart : correcting) - started) / 1000,
    corrections: Number.isNaN(correcting) ? 0 : (lakeStart - correcting) / 1000,
    lake: (ended - lakeStart) / 1000,
  };
  return { result, seconds: (ended - started) / 1000, phases, meter };
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

/**
 * What the table must say after the reprice: every record of the month priced with the new
 * catalog, in memory (independently of the lake's round trip), pre-aggregated onto its items.
 */
function expectedAggregates(invocations: readonly InvocationToCount[], pricer: Pricer): Map<string, AggregateDelta> {
  const repriced = invocations.map(({ record }) => ({ record, costPico: repriceRecord(record, pricer).costPico }));
  return new Map(preAggregate(repriced).map((delta) => [`${delta.pk}\u0000${delta.sk}`, delta]));
}

/**
 * Checks a reprice's outcome: the lake (every row at the new price version, each tenant-month's
 * exact cost the in-memory repricing's), every month item and a sample of day x model items of the
 * table (exact costPico and invocations), and nothing left unreconciled.
 */
async function verify(
  context: BenchContext,
  name: string,
  setup: { client: DynamoDBClient; tableName: string; lakeDir: string; pricer: Pricer },
  invocations: readonly InvocationToCount[],
  run: Run,
  daySample: number,
): Promise<{ monthItems: number; dayModelItems: number }> {
  const { result } = run;
  check(result.audit?.status === "applied", `${name}: audit status ${result.audit?.status}`);
  check((result.audit?.unreconciled.length ?? 0) === 0, `${name}: ${result.audit?.unreconciled.length} tenant-months unreconciled`);
  check(result.report.invocations === invocations.length, `${name}: planned ${result.report.invocations} of ${invocations.length} invocations`);
  check(result.report.changed > 0 && result.tenantDaysChanged > 0, `${name}: nothing changed`);
  check(result.notYetCounted === 0, `${name}: ${result.notYetCounted} invocations not yet counted`);
  const expected = expectedAggregates(invocations, setup.pricer);

  // The lake: one row per invocation, all at the new version, per tenant-month cost as expected (exact decimals summed by DuckDB).
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
      const want = expected.get(`${tenantPk(tenantId)}\u0000${monthSk(MONTH)}`);
      check(want !== undefined, `${name}: lake tenant ${tenantId} has no expected month item`);
      const cost = parseUsd(String(row.cost));
      check(cost === want?.counters.costPico, `${name}: lake cost of ${tenantId} ${String(row.cost)} != ${want?.counters.costPico} pico`);
      check(Number(row.n) === want?.counters.invocations, `${name}: lake rows of ${tenantId} ${row.n} != ${want?.counters.invocations}`);
    }
    check(lakeRows === invocations.length, `${name}: lake holds ${lakeRows} rows, ${invocations.length} expected`);
  } finally {
    await athena.close();
  }

  // The table: every month item, and every n-th day x model item, exactly.
  const all = [...expected.values()];
  const months = all.filter((delta) => delta.sk.startsWith("M#"));
  const days = all.filter((delta) => delta.sk.startsWith("D#"));
  const step = Math.max(1, Math.floor(days.length / daySample));
  const sample = [...months, ...days.filter((_, index) => index % step === 0)];
  const items = await getItems(setup.client, setup.tableName, sample);
  for (const delta of sample) {
    const item = items.get(`${delta.pk}\u0000${delta.sk}`);
    check(item !== undefined, `${name}: item ${delta.pk} ${delta.sk} missing`);
    const cost = BigInt(item?.[COUNTER_ATTRIBUTES.costPico]?.N ?? "x");
    check(cost === delta.counters.costPico, `${name}: ${delta.pk} ${delta.sk} costPico ${cost} != ${delta.counters.costPico}`);
    check(
      Number(item?.[COUNTER_ATTRIBUTES.invocations]?.N) === delta.counters.invocations,
      `${name}: ${delta.pk} ${delta.sk} invocations ${item?.[COUNTER_ATTRIBUTES.invocations]?.N}`,
    );
    check(
      Number(item?.[COUNTER_ATTRIBUTES.unpricedInvocations]?.N) === delta.counters.unpricedInvocations,
      `${name}: ${delta.pk} ${delta.sk} unpriced ${item?.[COUNTER_ATTRIBUTES.unpricedInvocations]?.N}`,
    );
  }
  const dayModelItems = sample.length - months.length;
  context.log(`reprice (${name}): verified the lake, ${months.length} month items and ${dayModelItems} day x model items exactly`);
  return { monthItems: months.length, dayModelItems };
}

interface PathFigures {
  invocations: number;
  seconds: number;
  invocationsPerSec: number;
  phases: { plan: number; corrections: number; lake: number };
  run: Run;
  again: Run;
  verified: { monthItems: number; dayModelItems: number };
  setup: Record<string, number>;
  lakeFiles: number;
}

/** One month through a reprice: settled (aggregates loaded, clock after the month) or open (counted through the writer, clock inside it). */
async function measurePath(context: BenchContext, kind: "settled" | "open", count: number, endpoint: string): Promise<PathFigures> {
  const now = kind === "settled" ? SETTLED_NOW : OPEN_NOW;
  check(isSettledMonth(MONTH, now) === (kind === "settled"), `${kind}: clock ${new Date(now).toISOString()}`);
  const client = localDynamoDbClient(endpoint);
  const dir = join(context.scratch, `reprice-${kind}`);
  const lakeDir = join(dir, "lake");
  mkdirSync(dir, { recursive: true });
  const tableName = `bench-reprice-${kind}-${randomUUID().slice(0, 8)}`;
  let athena: LocalAthena | undefined;
  let writer: DuckDbLakeWriter | undefined;
  try {
    let started = performance.now();
    const invocations = monthOfInvocations(count);
    const generateSeconds = (performance.now() - started) / 1000;
    context.log(`reprice (${kind}): ${grouped(invocations.length)} invocations of ${MONTH} generated and priced in ${round(generateSeconds, 1)} s`);
    // The quick run writes a file per day: thousands of tiny files would take most of its seconds.
    const lake = await writeLake(lakeDir, invocations, context.quick ? 86_400 : FLUSH_SECONDS);
    context.log(`reprice (${kind}): lake of ${grouped(lake.files)} Parquet files written in ${round(lake.seconds, 1)} s`);
    await createAggregatesTable(client, tableName);
    const setup: Record<string, number> = { generateSeconds: round(generateSeconds, 1), lakeWriteSeconds: round(lake.seconds, 1) };
    if (kind === "settled") {
      started = performance.now();
      const deltas = preAggregate(invocations);
      const loaded = await loadAggregates(client, tableName, deltas);
      setup.aggregateItems = loaded.items;
      setup.loadSeconds = round((performance.now() - started) / 1000, 1);
      context.log(`reprice (${kind}): ${grouped(loaded.items)} aggregate items loaded in ${setup.loadSeconds} s`);
    } else {
      const counted = await countThroughWriter(client, tableName, invocations);
      setup.countSeconds = round(counted.seconds, 1);
      context.log(`reprice (${kind}): counted through UsageWriter in ${setup.countSeconds} s`);
    }

    // As the CLI runs it on a data dir: DuckDB (the local Athena) reads the lake, the lake writer rewrites it.
    athena = await LocalAthena.open({ lakeDir });
    writer = await DuckDbLakeWriter.open({ lakeDir, threads: 1 });
    const partitions = new LocalLakePartitions(lakeDir, join(dir, "lake-history"), athena, writer);
    const pricer = new Pricer({ catalog: catalogFrom(SOURCE), profiles: profiles() });
    const run = await reprice(context, kind, { client, tableName, lake: partitions, pricer, now });
    const { result } = run;
    context.log(
      `reprice (${kind}): ${round(run.seconds, 1)} s (plan ${round(run.phases.plan, 1)}, corrections ${round(run.phases.corrections, 1)}, lake ${round(run.phases.lake, 1)}); ` +
        `${grouped(result.report.changed)} changed, ${grouped(result.tenantDaysChanged)} tenant-days, ${grouped(result.writeUnits)} write units, ${grouped(result.transactions)} transactions`,
    );
    context.log(
      `reprice (${kind}): seconds by call ${JSON.stringify(Object.fromEntries([...run.meter.seconds].map(([key, value]) => [key, round(value, 2)])))}`,
    );
    context.log(`reprice (${kind}): calls ${JSON.stringify(Object.fromEntries(run.meter.calls))}`);

    // A second reprice with the same prices finds nothing to change.
    const again = await reprice(context, `${kind}, again`, { client, tableName, lake: partitions, pricer, now });
    check(again.result.report.changed === 0, `${kind}: a second reprice changed ${again.result.report.changed} invocations`);
    check(again.result.writeUnits === 0 && again.result.lakeRowsRewritten === 0, `${kind}: a second reprice wrote ${again.result.writeUnits} units`);
    check(again.result.report.tenants.length === 0, `${kind}: a second reprice reports ${again.result.report.tenants.length} tenant-months`);
    await writer.close();
    writer = undefined;
    const verified = await verify(
      context,
      kind,
      { client, tableName, lakeDir, pricer },
      invocations,
      run,
      kind === "settled" ? DAY_MODEL_SAMPLE : Number.POSITIVE_INFINITY,
    );
    return {
      invocations: invocations.length,
      seconds: run.seconds,
      invocationsPerSec: Math.round(invocations.length / run.seconds),
      phases: run.phases,
      run,
      again,
      verified,
      setup,
      lakeFiles: lake.files,
    };
  } finally {
    await writer?.close();
    await athena?.close();
    client.destroy();
  }
}

/** Where a path's time went, by phase: wall, lake reads (DuckDB and the rows as records), lake writes, DynamoDB calls, and the rest (JS). */
function breakdown(path: PathFigures): Record<Phase, { seconds: number; lakeRead: number; lakeWrite: number; dynamoDb: number; js: number }> {
  const { meter, phases } = path.run;
  const of = (phase: Phase) => {
    const lakeRead = meter.sum(phase, "lake.readDay") + meter.sum(phase, "lake.days");
    const lakeWrite = meter.sum(phase, "lake.replaceDay");
    const dynamoDb = meter.sum(phase, "ddb.");
    return {
      seconds: round(phases[phase], 2),
      lakeRead: round(lakeRead, 2),
      lakeWrite: round(lakeWrite, 2),
      dynamoDb: round(dynamoDb, 2),
      js: round(phases[phase] - lakeRead - lakeWrite - dynamoDb, 2),
    };
  };
  return { plan: of("plan"), corrections: of("corrections"), lake: of("lake") };
}

const PHASE_LABELS: Record<Phase, string> = { plan: "plan", corrections: "aggregate corrections", lake: "lake rewrite" };

function phaseCell(phase: { seconds: number; lakeRead: number; lakeWrite: number; dynamoDb: number; js: number }): string {
  return `${phase.seconds} (${phase.lakeRead} / ${phase.lakeWrite} / ${phase.dynamoDb} / ${phase.js})`;
}

async function run(context: BenchContext): Promise<BenchSection> {
  const settledCount = context.quick ? 2_000 : 1_000_000;
  const openCount = context.quick ? 300 : 20_000;
  let shared = context.quick ? await startDynamoDbLocal() : undefined;
  let settled: PathFigures;
  let open: PathFigures;
  try {
    // A fresh DynamoDB Local per path (its in-memory database slows down as it fills), but in the quick run.
    const local = shared ?? (await startDynamoDbLocal({ heap: "2g" }));
    try {
      settled = await measurePath(context, "settled", settledCount, local.endpoint);
    } finally {
      if (!shared) await local.stop();
    }
    const second = shared ?? (await startDynamoDbLocal());
    try {
      open = await measurePath(context, "open", openCount, second.endpoint);
    } finally {
      if (!shared) await second.stop();
    }
  } finally {
    await shared?.stop();
    shared = undefined;
  }

  const s = settled.run.result;
  const o = open.run.result;
  const settledBreakdown = breakdown(settled);
  const openBreakdown = breakdown(open);
  const figures = {
    invocations: settled.invocations,
    monthSeconds: round(settled.seconds, 1),
    invocationsPerSec: settled.invocationsPerSec,
    wcuPerChangedTenantDay: round(s.writeUnits / s.tenantDaysChanged, 2),
    tenantDaysChanged: s.tenantDaysChanged,
    tenantMonthsChanged: s.report.tenants.length,
    invocationsChanged: s.report.changed,
    itemsCorrected: s.itemsCorrected,
    writeUnits: s.writeUnits,
    transactions: s.transactions,
    lakeRowsRewritten: s.lakeRowsRewritten,
    lakeDaysRewritten: s.lakeDaysRewritten,
    planSeconds: round(settled.phases.plan, 1),
    correctionsSeconds: round(settled.phases.corrections, 1),
    lakeSeconds: round(settled.phases.lake, 1),
    noChangeSeconds: round(settled.again.seconds, 1),
    open: {
      invocations: open.invocations,
      seconds: round(open.seconds, 1),
      invocationsPerSec: open.invocationsPerSec,
      wcuPerInvocation: round(o.writeUnits / open.invocations, 2),
      wcuPerChangedTenantDay: round(o.writeUnits / o.tenantDaysChanged, 2),
      invocationsCorrected: o.invocationsCorrected,
      transactions: o.transactions,
    },
  };

  const row = (label: string, settledValue: string | number, openValue: string | number) => `| ${label} | ${settledValue} | ${openValue} |`;
  const markdown = [
    `**Workload.** One month (${MONTH}) of the reference workload (seed 1, 10,000 tenants, Zipf 1.1, 20 models), spread evenly over its 30 days and priced with the shipped catalog: ` +
      `${grouped(settled.invocations)} invocations for the settled month, ${grouped(open.invocations)} for the open month. The lake is a temp dir of Parquet written by the real lake writer ` +
      `(\`DuckDbLakeWriter\`), one file per ${FLUSH_SECONDS / 60} minutes of traffic (Firehose's longest buffer interval): ${grouped(settled.lakeFiles)} files for the settled month. ` +
      `The new prices are a catalog overlay (\`${OVERLAY.version}\`) that cuts Nova Micro, Nova Lite and Claude Haiku 4.5 (global) by 20% from the 1st: 37% of the invocations change cost; ` +
      "every row changes price version, so every day of the lake is rewritten.",
    "",
    `**How.** \`runReprice\` (packages/pipeline) as the CLI runs it on a data dir: \`LocalLakePartitions\` over the lake (the local Athena's DuckDB reads a day, the lake writer writes it back), ` +
      "the aggregates table on DynamoDB Local (a fresh in-memory instance per path), `switchOver` omitted. " +
      `Settled month: the table holds the ${grouped(settled.setup.aggregateItems ?? 0)} month and day x model items the usage writer would have left (loaded with BatchWriteItem from \`preAggregate\`; ` +
      `a settled month's reprice reads no dedup marker), clock ${new Date(SETTLED_NOW).toISOString().slice(0, 10)}. ` +
      `Open month: the invocations counted through the real \`UsageWriter\` first (markers say what each was counted at), clock ${new Date(OPEN_NOW).toISOString()}. ` +
      "The whole reprice is timed (audit, registry, plan, aggregate corrections, lake rewrite), each phase on its own, and each lake and DynamoDB call. " +
      "Write units are `RepriceWriter`'s, by DynamoDB's rule for transactions (2 per item under 1 KB), over the tenant-days whose cost changed. " +
      "Checked after each run, or the benchmark fails: every lake row at the new version and each tenant-month's lake cost (exact decimal sum) equal to the records repriced in memory; " +
      `every month item and ${grouped(settled.verified.dayModelItems)} day x model items of the table (exact costPico, invocations, unpriced) equal to the same; a second reprice changes nothing.`,
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
    row("corrected", `${grouped(s.itemsCorrected)} items`, `${grouped(o.invocationsCorrected)} invocations`),
    row("transactions", grouped(s.transactions), grouped(o.transactions)),
    row("write units", grouped(s.writeUnits), grouped(o.writeUnits)),
    row("**write units per changed tenant-day**", `**${figures.wcuPerChangedTenantDay}**`, figures.open.wcuPerChangedTenantDay),
    row("write units per invocation", round(s.writeUnits / settled.invocations, 3), figures.open.wcuPerInvocation),
    row("lake days / rows rewritten", `${s.lakeDaysRewritten} / ${grouped(s.lakeRowsRewritten)}`, `${o.lakeDaysRewritten} / ${grouped(o.lakeRowsRewritten)}`),
    ...(["plan", "corrections", "lake"] as const).map((phase) =>
      row(`${PHASE_LABELS[phase]}: s (lake read / lake write / DynamoDB / JS)`, phaseCell(settledBreakdown[phase]), phaseCell(openBreakdown[phase])),
    ),
    row("second reprice, nothing to change: s", figures.noChangeSeconds, round(open.again.seconds, 1)),
    "",
    "**What limits this figure.** TODO",
  ].join("\n");

  return {
    figures,
    markdown,
    details: {
      settled: {
        setup: settled.setup,
        lakeFiles: settled.lakeFiles,
        breakdown: settledBreakdown,
        calls: Object.fromEntries(settled.run.meter.calls),
        verified: settled.verified,
      },
      open: {
        setup: open.setup,
        lakeFiles: open.lakeFiles,
        breakdown: openBreakdown,
        calls: Object.fromEntries(open.run.meter.calls),
        verified: open.verified,
      },
    },
  };
}

const benchmark: Benchmark = {
  key: "reprice",
  title: "Reprice a month locally: throughput and write units",
  run,
};

export default benchmark;
