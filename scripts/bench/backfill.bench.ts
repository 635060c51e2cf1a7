/**
 * backfill: `bedrock-spend backfill DIR --data-dir D --json` (the CLI as a child process) over a
 * directory tree in Bedrock's S3 layout (gzip JSON Lines objects of 500 lines under
 * AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/), generated from the
 * reference workload over a settled month (September 2026, the clock at 2026-12-02): every record
 * goes through the settled path (the lake as the ledger, the aggregate items counted by
 * applications: docs/backfill.md). Two configurations: the reference workload's 10,000 tenants, and the same records
 * over 50 tenants (far fewer aggregate items per record), to show how the figure depends on
 * DynamoDB Local's item writes. The read side alone (decode and price of the same objects,
 * in-process, one core) is measured as a floor.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DecodedItem, decodeStream, defaultCatalog, emptyCounters, Pricer, priceItems } from "@bedrock-spend/core";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { type AggregateKey, aggregateKeysOf, countBackfillDeltas, createAggregatesTable } from "@bedrock-spend/store";
import { generateTraffic, s3LogObjects } from "@bedrock-spend/traffic";
import type { BenchContext, Benchmark, BenchSection } from "./types";
import { generatorHash } from "./workload";

/** The settled month backfilled, and the CLI's clock (September is settled from 2026-10-23; its markers are past their horizon on 2026-11-30). */
const MONTH_START = "2026-09-01T00:00:00Z";
const NOW = "2026-12-02T09:00:00Z";
const LINES_PER_OBJECT = 500;
/** The issue's target, reported (not enforced): records/s from local files. */
const TARGET_RECORDS_PER_SECOND = 20_000;
/** Items decoded per `priceItems` call in the floor (the backfill's chunk). */
const CHUNK_ITEMS = 2_000;
/**
 * The full run: the first 300,000 items of a month of 1,000,000 (its first 9 days, at the month's
 * density, so that each day brings the items a day of the whole month would). The whole month would
 * take the benchmark over 10 minutes at the figure measured here.
 */
const FULL = { count: 300_000, monthTotal: 1_000_000 };
/** The local data dir's aggregates table (packages/local-mode, LOCAL_TABLE_NAME) and DynamoDB Local's files under it. */
const LOCAL_TABLE_NAME = "bedrock-spend-aggregates";
const DYNAMODB_DIR = "dynamodb";
/** Items the probe of DynamoDB Local writes, each way (after as many to warm it up). */
const PROBE_ITEMS = 5_000;
/** How often the child processes' CPU is sampled. */
const SAMPLE_MS = 500;

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const grouped = (value: number) => value.toLocaleString("en-US");

/** One workload: the first `count` generator items (records, malformed lines) of a month of `monthTotal` spread evenly over its 30 days. */
interface Workload {
  name: string;
  tenants: number;
  count: number;
  monthTotal: number;
}

/** Days of the month the first `count` items of `workload` cover. */
const daysOf = (workload: Workload) => (30 * workload.count) / workload.monthTotal;

/** A workload written as Bedrock's S3 layout. */
interface Tree {
  dir: string;
  objects: number;
  /** gzip bytes on disk. */
  bytes: number;
  /** Lines of the objects: records, malformed lines and the permission line. */
  lines: number;
  records: number;
  malformed: number;
  hours: number;
  seconds: number;
  cached: boolean;
}

function writeTree(dir: string, workload: Workload): Omit<Tree, "seconds" | "cached" | "dir"> {
  const ratePerSecond = workload.monthTotal / (30 * 86_400);
  const traffic = generateTraffic({ seed: 1, count: workload.count, tenants: workload.tenants, start: MONTH_START, ratePerSecond });
  let records = 0;
  let malformed = 0;
  const counted = (function* () {
    for (const item of traffic) {
      if (item.kind === "record") records++;
      else if (item.kind === "malformed") malformed++;
      yield item;
    }
  })();
  let objects = 0;
  let bytes = 0;
  let lines = 0;
  const hours = new Set<string>();
  for (const object of s3LogObjects(counted, { linesPerObject: LINES_PER_OBJECT })) {
    const path = join(dir, object.key);
    const hour = dirname(path);
    if (!hours.has(hour)) {
      mkdirSync(hour, { recursive: true });
      hours.add(hour);
    }
    writeFileSync(path, object.body);
    objects++;
    bytes += object.body.length;
    lines += object.lines;
  }
  return { objects, bytes, lines, records, malformed, hours: hours.size };
}

/**
 * The tree of a workload. A full run keeps it in the temp dir, keyed by the generator's source and
 * the workload (generating and gzipping a million records takes a minute and is not what is measured).
 */
function treeOf(context: BenchContext, workload: Workload): Tree {
  const started = performance.now();
  if (context.quick) {
    const dir = join(context.scratch, `backfill-logs-${workload.name}`);
    const written = writeTree(dir, workload);
    return { dir, ...written, seconds: (performance.now() - started) / 1000, cached: false };
  }
  const key = createHash("sha256")
    .update(generatorHash(context.root))
    .update(JSON.stringify({ MONTH_START, LINES_PER_OBJECT, ...workload }))
    .digest("hex")
    .slice(0, 16);
  const dir = join(tmpdir(), "bedrock-spend-bench", `backfill-logs-${key}`);
  const meta = `${dir}.meta.json`;
  let cached = true;
  if (!existsSync(dir) || !existsSync(meta)) {
    cached = false;
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    const written = writeTree(partial, workload);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    writeFileSync(meta, JSON.stringify(written));
  }
  const written = JSON.parse(readFileSync(meta, "utf8")) as Omit<Tree, "seconds" | "cached" | "dir">;
  return { dir, ...written, seconds: (performance.now() - started) / 1000, cached };
}

function objectFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json.gz"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

interface Floor {
  read: number;
  usage: number;
  invalid: number;
  skipped: number;
  seconds: number;
  cpuSeconds: number;
  recordsPerSecond: number;
  /** Distinct aggregate items of the records (month and day x model): the fewest writes that count them. */
  distinctItems: number;
  /** Distinct (day, item) pairs: the writes of one application per day (a month item once a day); more than that is a bug. */
  dayItems: number;
  /** Distinct items of the records (the first 2 x PROBE_ITEMS), for the probe. */
  probeKeys: AggregateKey[];
}

/**
 * The read side alone, in this process: every object of the tree decoded (`decodeStream`, JSON
 * Lines, gzip inflated) and priced (`priceItems`) in chunks of 2,000 as the backfill does; nothing
 * written. The records' aggregate items are tallied on the side (untimed) to check `itemsUpdated`.
 */
async function measureFloor(tree: Tree): Promise<Floor> {
  const pricer = new Pricer({ catalog: defaultCatalog() });
  const floor = { read: 0, usage: 0, invalid: 0, skipped: 0 };
  const keys = new Set<string>();
  const dayKeys = new Set<string>();
  const probeKeys = new Map<string, AggregateKey>();
  let aside = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const handle = (chunk: DecodedItem[]) => {
    const priced = priceItems(chunk, pricer);
    floor.usage += priced.usage.length;
    floor.invalid += priced.invalid.length;
    floor.skipped += priced.skipped;
    const mark = performance.now();
    for (const { usage } of priced.usage) {
      const day = `${usage.record.year}-${usage.record.month}-${usage.record.day}`;
      for (const key of aggregateKeysOf(usage.record)) {
        const id = `${key.pk}\u0000${key.sk}`;
        keys.add(id);
        dayKeys.add(`${day}\u0000${id}`);
        if (probeKeys.size < 2 * PROBE_ITEMS) probeKeys.set(id, key);
      }
    }
    aside += performance.now() - mark;
  };
  for (const file of objectFiles(tree.dir)) {
    let chunk: DecodedItem[] = [];
    for await (const item of decodeStream(createReadStream(file), { file, jsonLines: true })) {
      floor.read++;
      chunk.push(item);
      if (chunk.length >= CHUNK_ITEMS) {
        handle(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) handle(chunk);
  }
  const seconds = (performance.now() - started - aside) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6 - aside / 1000;
  return {
    ...floor,
    seconds,
    cpuSeconds,
    recordsPerSecond: Math.round(floor.read / seconds),
    distinctItems: keys.size,
    dayItems: dayKeys.size,
    probeKeys: [...probeKeys.values()],
  };
}

/** CPU seconds (user + system) of every process below `root`, by command name, from /proc (Linux). */
function descendantsCpu(root: number): Map<number, { comm: string; seconds: number }> {
  const parents = new Map<number, number>();
  const info = new Map<number, { comm: string; seconds: number }>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return info;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      const pid = Number(entry);
      parents.set(pid, Number(fields[1]));
      info.set(pid, { comm: stat.slice(open + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // Gone since the listing.
    }
  }
  const below = new Map<number, { comm: string; seconds: number }>();
  for (const [pid, value] of info) {
    for (let parent = parents.get(pid); parent !== undefined && parent > 1; parent = parents.get(parent)) {
      if (parent === root) {
        below.set(pid, value);
        break;
      }
    }
  }
  const own = info.get(root);
  if (own) below.set(root, own);
  return below;
}

/** DynamoDB Local's ms per aggregate item written by `countBackfillDeltas`, to items that do not exist yet and to items that do. */
interface ItemProbe {
  items: number;
  newItemMs: number;
  existingItemMs: number;
}

/**
 * Times `countBackfillDeltas` (the backfill's own write of an application's deltas, as the CLI
 * calls it) on `tableName`: the items of `keys` under a partition key of their own, so that they
 * do not exist yet; then the same items again under another token (they exist). Half the keys warm
 * the JVM up first, both ways; the other half is timed.
 */
async function probeItemWrites(client: DynamoDBClient, tableName: string, keys: readonly AggregateKey[]): Promise<ItemProbe> {
  const deltas = (from: number, to: number) => keys.slice(from, to).map((key) => ({ ...key, pk: `${key.pk}#bench-probe`, counters: emptyCounters() }));
  const half = Math.floor(keys.length / 2);
  const write = async (token: string, batch: ReturnType<typeof deltas>) => {
    const started = performance.now();
    const outcome = await countBackfillDeltas(client, tableName, token, batch);
    if (outcome.items !== batch.length) throw new Error(`backfill: the probe wrote ${outcome.items} of ${batch.length} items`);
    return (performance.now() - started) / Math.max(1, batch.length);
  };
  const warm = deltas(0, half);
  await write("bench-warm-up-1", warm);
  await write("bench-warm-up-2", warm);
  const timed = deltas(half, 2 * half);
  const newItemMs = await write("bench-probe-1", timed);
  const existingItemMs = await write("bench-probe-2", timed);
  return { items: timed.length, newItemMs: round(newItemMs, 2), existingItemMs: round(existingItemMs, 2) };
}

/**
 * The probe on the backfilled data dir's own database (DynamoDB Local started again on its files,
 * as the CLI left them), and on a fresh in-memory DynamoDB Local (the tests' and other benchmarks').
 */
async function probeDynamoDbLocal(dataDir: string, keys: readonly AggregateKey[]): Promise<{ onDisk: ItemProbe; inMemory: ItemProbe }> {
  const probe = async (dbPath: string | undefined) => {
    const local = await startDynamoDbLocal(dbPath ? { dbPath } : {});
    const client = localDynamoDbClient(local.endpoint);
    try {
      if (!dbPath) await createAggregatesTable(client, LOCAL_TABLE_NAME);
      return await probeItemWrites(client, LOCAL_TABLE_NAME, keys);
    } finally {
      client.destroy();
      await local.stop();
    }
  };
  return { onDisk: await probe(join(dataDir, DYNAMODB_DIR)), inMemory: await probe(undefined) };
}

/** What `backfill --json` prints (the fields read here). */
interface Summary {
  hours: number;
  hoursRead: number;
  objects: number;
  bytes: number;
  read: number;
  counted: number;
  alreadyCounted: number;
  quarantined: number;
  dropped: number;
  notCounted: number;
  countedLive: number;
  countedSettled: number;
  applications: number;
  itemsUpdated: number;
  interrupted: boolean;
  months: string[];
  seconds: number;
  recordsPerSecond: number;
}

/** CPU seconds used so far by the CLI's processes (Node) and DynamoDB Local (Java), `seconds` after the spawn. */
interface CpuSample {
  seconds: number;
  node: number;
  java: number;
}

interface CliRun {
  summary: Summary;
  /** Spawn to exit. */
  wallSeconds: number;
  /** Spawn to the summary on stdout; the rest is the local stack's stop. */
  summarySeconds: number;
  /** CPU seconds of the CLI's processes (Node: the CLI, its in-process Kinesalite and DuckDB, tsx) and of DynamoDB Local (Java), sampled every 0.5 s. */
  nodeCpu: number;
  dynamoDbLocalCpu: number;
  /** Of those, after the summary was printed (the stack's stop). */
  afterSummary: { node: number; java: number };
  /** Seconds up to the summary in which the CLI's processes, and DynamoDB Local, used at least half a core (between samples). */
  busySeconds: { node: number; java: number };
  samples: CpuSample[];
  loadAverage: number;
}

/** `bedrock-spend backfill <tree> --data-dir <fresh dir> --json`, timed from spawn to exit. */
async function runBackfillCli(context: BenchContext, tree: Tree, dataDir: string): Promise<CliRun> {
  const args = [
    join(context.root, "node_modules/tsx/dist/cli.mjs"),
    join(context.root, "packages/cli/src/main.ts"),
    "backfill",
    tree.dir,
    "--data-dir",
    dataDir,
    "--json",
  ];
  const loadAverage = loadavg()[0] as number;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const child = spawn(process.execPath, args, { cwd: context.root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BEDROCK_SPEND_NOW: NOW } });
  let stdout = "";
  let stderr = "";
  let summarySeconds: number | undefined;
  child.stdout.on("data", (chunk) => {
    summarySeconds ??= elapsed();
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const seen = new Map<number, { comm: string; seconds: number }>();
  const samples: CpuSample[] = [];
  const sample = () => {
    if (child.pid === undefined) return;
    for (const [pid, value] of descendantsCpu(child.pid)) seen.set(pid, value);
    let node = 0;
    let java = 0;
    for (const { comm, seconds } of seen.values()) {
      if (comm === "java") java += seconds;
      else node += seconds;
    }
    samples.push({ seconds: round(elapsed(), 2), node: round(node, 2), java: round(java, 2) });
  };
  const poll = setInterval(sample, SAMPLE_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  clearInterval(poll);
  const wallSeconds = elapsed();
  if (code !== 0) throw new Error(`backfill: the CLI exited ${code}: ${stderr.slice(-4000)}`);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Summary;
  const last = samples.at(-1) ?? { seconds: wallSeconds, node: 0, java: 0 };
  const atSummary = [...samples].reverse().find((entry) => entry.seconds <= (summarySeconds ?? wallSeconds)) ?? last;
  const busy = { node: 0, java: 0 };
  for (let index = 1; index < samples.length; index++) {
    const [before, after] = [samples[index - 1] as CpuSample, samples[index] as CpuSample];
    const span = after.seconds - before.seconds;
    if (span <= 0 || after.seconds > (summarySeconds ?? wallSeconds)) continue;
    if ((after.node - before.node) / span >= 0.5) busy.node += span;
    if ((after.java - before.java) / span >= 0.5) busy.java += span;
  }
  return {
    summary,
    wallSeconds,
    summarySeconds: round(summarySeconds ?? wallSeconds, 1),
    nodeCpu: round(last.node, 1),
    dynamoDbLocalCpu: round(last.java, 1),
    afterSummary: { node: round(last.node - atSummary.node, 1), java: round(last.java - atSummary.java, 1) },
    busySeconds: { node: round(busy.node, 1), java: round(busy.java, 1) },
    samples,
    loadAverage: round(loadAverage, 1),
  };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`backfill: check failed: ${message}`);
}

/** The summary adds up, every record was counted through the settled path, once. */
function verify(name: string, tree: Tree, run: CliRun, items: { distinctItems: number; dayItems: number } | undefined): void {
  const s = run.summary;
  check(!s.interrupted && s.hoursRead === s.hours && s.hours === tree.hours, `${name}: ${s.hoursRead} of ${s.hours} hours read, ${tree.hours} in the tree`);
  check(s.objects === tree.objects, `${name}: ${s.objects} objects read, ${tree.objects} written`);
  check(s.read === tree.lines, `${name}: read ${s.read}, ${tree.lines} lines written`);
  check(s.read === s.counted + s.alreadyCounted + s.quarantined + s.dropped + s.notCounted, `${name}: the summary does not add up`);
  check(
    s.counted === tree.records && s.countedSettled === s.counted && s.countedLive === 0,
    `${name}: counted ${s.counted} (${s.countedSettled} settled) of ${tree.records}`,
  );
  check(s.alreadyCounted === 0 && s.notCounted === 0, `${name}: ${s.alreadyCounted} already counted, ${s.notCounted} not counted`);
  check(s.quarantined === tree.malformed, `${name}: quarantined ${s.quarantined}, ${tree.malformed} malformed lines`);
  const months = tree.records > 0 ? [MONTH_START.slice(0, 7)] : [];
  check(s.months.join(",") === months.join(","), `${name}: months ${s.months.join(",")}`);
  if (items !== undefined)
    check(
      s.itemsUpdated >= items.distinctItems && s.itemsUpdated <= items.dayItems,
      `${name}: ${s.itemsUpdated} items written, not between the ${items.distinctItems} distinct items and the ${items.dayItems} (day, item) pairs of the records`,
    );
}

interface Row {
  name: string;
  tenants: number;
  records: number;
  objects: number;
  gzipMib: number;
  hours: number;
  applications: number;
  itemsUpdated: number;
  itemsPerRecord: number;
  /** The CLI's own figure: records read / its seconds (from before the local stack starts to the summary). */
  recordsPerSecond: number;
  cliSeconds: number;
  /** Spawn to exit: Node and tsx start-up, the local stack's start and stop included. */
  wallSeconds: number;
  wallRecordsPerSecond: number;
  /** Spawn to the summary on stdout, and from there to the exit (the stack's stop). */
  summarySeconds: number;
  stopSeconds: number;
  /** CPU seconds up to the summary: the CLI's processes, DynamoDB Local. */
  nodeCpu: number;
  dynamoDbLocalCpu: number;
  /** CPU seconds after the summary (the stack's stop). */
  stopCpu: { node: number; java: number };
  /** Seconds up to the summary in which the CLI's processes, and DynamoDB Local, used at least half a core. */
  busySeconds: { node: number; java: number };
  loadAverage: number;
}

function rowOf(workload: Workload, tree: Tree, run: CliRun): Row {
  const s = run.summary;
  return {
    name: workload.name,
    tenants: workload.tenants,
    records: tree.records,
    objects: tree.objects,
    gzipMib: round(tree.bytes / 2 ** 20, 1),
    hours: s.hours,
    applications: s.applications,
    itemsUpdated: s.itemsUpdated,
    itemsPerRecord: round(s.itemsUpdated / s.counted, 3),
    recordsPerSecond: s.recordsPerSecond,
    cliSeconds: s.seconds,
    wallSeconds: round(run.wallSeconds, 1),
    wallRecordsPerSecond: Math.round(s.read / run.wallSeconds),
    summarySeconds: run.summarySeconds,
    stopSeconds: round(run.wallSeconds - run.summarySeconds, 1),
    nodeCpu: round(run.nodeCpu - run.afterSummary.node, 1),
    dynamoDbLocalCpu: round(run.dynamoDbLocalCpu - run.afterSummary.java, 1),
    stopCpu: run.afterSummary,
    busySeconds: run.busySeconds,
    loadAverage: run.loadAverage,
  };
}

/** DynamoDB Local's ms per item update in transactions of 100, as the reprice benchmark last measured it (bench-results/reprice.json), if it ran. */
function repriceProbe(root: string): { transactionMs: number; ranAt: string } | undefined {
  try {
    const saved = JSON.parse(readFileSync(join(root, "bench-results/reprice.json"), "utf8")) as {
      ranAt: string;
      details?: { settled?: { itemUpdateMs?: { transactionMs?: number } } };
    };
    const ms = saved.details?.settled?.itemUpdateMs?.transactionMs;
    return typeof ms === "number" ? { transactionMs: ms, ranAt: saved.ranAt } : undefined;
  } catch {
    return undefined;
  }
}

async function run(context: BenchContext): Promise<BenchSection> {
  // Quick: ~2,000 records over the month's first 2 days. Full: see FULL.
  const { count, monthTotal } = context.quick ? { count: 2_000, monthTotal: 30_000 } : FULL;
  const workloads: Workload[] = [
    { name: "reference", tenants: 10_000, count, monthTotal },
    { name: "50 tenants", tenants: 50, count, monthTotal },
  ];
  const days = daysOf(workloads[0] as Workload);

  // The fixed cost: a backfill of the permission line alone (the local stack's start and stop, one hour, one application).
  let fixed: CliRun | undefined;
  if (!context.quick) {
    const workload: Workload = { name: "fixed cost", tenants: 10_000, count: 0, monthTotal };
    const tree = treeOf(context, workload);
    const dataDir = join(context.scratch, "backfill-data-fixed");
    fixed = await runBackfillCli(context, tree, dataDir);
    verify(workload.name, tree, fixed, { distinctItems: 0, dayItems: 0 });
    rmSync(dataDir, { recursive: true, force: true });
    context.log(`backfill: fixed cost (the permission line alone): ${fixed.summary.seconds} s in the CLI, ${round(fixed.wallSeconds, 1)} s spawn to exit`);
  }

  const rows: Row[] = [];
  const trees: Tree[] = [];
  /** CPU samples of each run, one every 2 s. */
  const series: Record<string, CpuSample[]> = {};
  let floor: Floor | undefined;
  let itemProbe: { onDisk: ItemProbe; inMemory: ItemProbe } | undefined;
  for (const workload of workloads) {
    const tree = treeOf(context, workload);
    trees.push(tree);
    context.log(
      `backfill (${workload.name}): ${grouped(tree.records)} records, ${grouped(tree.objects)} objects in ${grouped(tree.hours)} hours, ` +
        `${round(tree.bytes / 2 ** 20, 1)} MiB gzip, ${tree.cached ? "cached" : "written"} in ${round(tree.seconds, 1)} s`,
    );
    if (!floor) {
      floor = await measureFloor(tree);
      context.log(
        `backfill: read side (decode + price, in-process) ${grouped(floor.read)} items in ${round(floor.seconds, 1)} s, ${grouped(floor.recordsPerSecond)} records/s, ` +
          `${round(floor.cpuSeconds, 1)} CPU s; ${grouped(floor.distinctItems)} distinct aggregate items, ${grouped(floor.dayItems)} (day, item) pairs`,
      );
      check(floor.read === tree.lines && floor.usage === tree.records && floor.invalid === tree.malformed, "the floor did not read the tree's lines");
    }
    const dataDir = join(context.scratch, `backfill-data-${workload.name.replace(/\W+/g, "-")}`);
    const cli = await runBackfillCli(context, tree, dataDir);
    verify(workload.name, tree, cli, workload === workloads[0] ? floor : undefined);
    const row = rowOf(workload, tree, cli);
    rows.push(row);
    series[workload.name] = cli.samples.filter((_, index) => index % 4 === 3);
    context.log(`backfill (${workload.name}): ${JSON.stringify(row)}`);
    if (!itemProbe) {
      itemProbe = await probeDynamoDbLocal(dataDir, floor.probeKeys);
      context.log(`backfill: ms per item written by countBackfillDeltas on DynamoDB Local: ${JSON.stringify(itemProbe)}`);
    }
    // The data dir's lake and DynamoDB files are not kept.
    rmSync(dataDir, { recursive: true, force: true });
  }

  const reference = rows[0] as Row;
  const few = rows[1] as Row;
  const read = floor as Floor;
  const probes = itemProbe as { onDisk: ItemProbe; inMemory: ItemProbe };
  const repriced = repriceProbe(context.root);
  const met = reference.recordsPerSecond >= TARGET_RECORDS_PER_SECOND;
  const fixedSeconds = fixed?.summary.seconds;
  /** CPU seconds of the fixed cost up to its summary (the stack's start: DynamoDB Local's JVM, the CLI's modules). */
  const fixedCpu = fixed ? { node: fixed.nodeCpu - fixed.afterSummary.node, java: fixed.dynamoDbLocalCpu - fixed.afterSummary.java } : { node: 0, java: 0 };
  /** Records/s of the run without the fixed cost (the stack's start). */
  const steady = (row: Row) => (fixedSeconds === undefined ? null : Math.round(row.records / Math.max(0.1, row.cliSeconds - fixedSeconds)));
  const msPerRecord = (row: Row) => round((1000 * row.cliSeconds) / row.records, 3);
  /** CPU ms per record, beyond the fixed cost: DynamoDB Local's, the CLI's processes'. */
  const javaMsPerRecord = (row: Row) => round((1000 * Math.max(0, row.dynamoDbLocalCpu - fixedCpu.java)) / row.records, 3);
  const nodeMsPerRecord = (row: Row) => round((1000 * Math.max(0, row.nodeCpu - fixedCpu.node)) / row.records, 3);
  /** DynamoDB Local's CPU ms per item written (all its work beyond its start, over the items). */
  const javaMsPerItem = (row: Row) => round((1000 * Math.max(0, row.dynamoDbLocalCpu - fixedCpu.java)) / Math.max(1, row.itemsUpdated), 2);
  const readMsPerRecord = round(1000 / read.recordsPerSecond, 3);
  /** Whether the CLI's busy time and DynamoDB Local's add up to the run (one after the other) or overlap. */
  const phasesText = (row: Row) => (row.busySeconds.node + row.busySeconds.java <= 1.15 * row.summarySeconds ? "one after the other" : "overlapping");
  const limitOf = (row: Row) => (javaMsPerRecord(row) >= nodeMsPerRecord(row) ? "DynamoDB Local" : "the CLI's process");
  const figures = {
    records: reference.records,
    recordsPerSecond: reference.recordsPerSecond,
    steadyRecordsPerSecond: steady(reference),
    wallSeconds: reference.wallSeconds,
    wallRecordsPerSecond: reference.wallRecordsPerSecond,
    stopSeconds: reference.stopSeconds,
    applications: reference.applications,
    itemsUpdated: reference.itemsUpdated,
    itemsPerRecord: reference.itemsPerRecord,
    targetRecordsPerSecond: TARGET_RECORDS_PER_SECOND,
    vsTarget: round(reference.recordsPerSecond / TARGET_RECORDS_PER_SECOND, 3),
    readFloorRecordsPerSecond: read.recordsPerSecond,
    dynamoDbLocalCpuMsPerItem: javaMsPerItem(reference),
    dynamoDbLocalCpuMsPerRecord: javaMsPerRecord(reference),
    cliCpuMsPerRecord: nodeMsPerRecord(reference),
    fixedSeconds: fixedSeconds ?? null,
    itemWriteMs: {
      onDiskNew: probes.onDisk.newItemMs,
      onDiskExisting: probes.onDisk.existingItemMs,
      inMemoryNew: probes.inMemory.newItemMs,
      inMemoryExisting: probes.inMemory.existingItemMs,
    },
    fiftyTenants: {
      recordsPerSecond: few.recordsPerSecond,
      steadyRecordsPerSecond: steady(few),
      wallSeconds: few.wallSeconds,
      itemsUpdated: few.itemsUpdated,
      itemsPerRecord: few.itemsPerRecord,
      dynamoDbLocalCpuMsPerRecord: javaMsPerRecord(few),
      cliCpuMsPerRecord: nodeMsPerRecord(few),
    },
  };

  const cell = (label: string, pick: (row: Row) => string | number | null) => `| ${label} | ${rows.map(pick).join(" | ")} |`;
  const share = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;
  const probeText = (probe: ItemProbe) => `${probe.newItemMs} ms a new item, ${probe.existingItemMs} ms an existing one`;
  const ceiling = (ms: number) => grouped(Math.round(1000 / Math.max(0.001, ms)));
  const markdown = [
    `**Workload.** The reference workload (seed 1, Zipf 1.1, 20 models, ~2 KB of bodies per record) over a settled month: the first ${grouped(count)} generator items ` +
      `of a month of ${grouped(monthTotal)} spread evenly over September 2026, i.e. its first ${round(days, 1)} days at the month's density ` +
      `(${grouped(Math.round(monthTotal / 30))} records a day, so that each day brings the aggregate items a day of the whole month would), ` +
      `${grouped(reference.records)} records (malformed lines and the permission line are the rest), ` +
      `written as Bedrock delivers them to S3 by \`s3LogObjects\` (packages/traffic): gzip JSON Lines objects of ${LINES_PER_OBJECT} lines at most under ` +
      "`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`, " +
      `${grouped(reference.objects)} objects in ${grouped(reference.hours)} hour folders, ${reference.gzipMib} MiB on local disk (in the page cache). ` +
      `Two configurations of the same records: the reference workload's 10,000 tenants, and ${few.tenants} tenants (fewer aggregate items per record).` +
      (context.quick
        ? ""
        : ` Not the whole month: at the rates measured here its ${grouped(monthTotal)} records would keep the two backfills alone busy ` +
          `~${Math.round((monthTotal * (1 / reference.wallRecordsPerSecond + 1 / few.wallRecordsPerSecond)) / 60)} minutes, and the benchmark over 10.`),
    "",
    "**How.** `bedrock-spend backfill DIR --data-dir D --json` as users run it (`node tsx packages/cli/src/main.ts`, clock `BEDROCK_SPEND_NOW=" +
      `${NOW}\`), a fresh data dir each time: the CLI starts the local stack (DynamoDB Local on the data dir's files, Kinesalite, DuckDB) and reads the tree hour by hour; ` +
      "September is settled on that clock (and past the dedup markers' horizon, so no marker is looked up), so every record takes the settled path (docs/backfill.md): " +
      "checked against the lake's request ids of its day, written to the lake (a Parquet file per hour), the hour checkpointed, and the new rows pre-aggregated into " +
      "one delta per aggregate item (the tenant's month item, a day x model item per tenant and model) and application, counted in the table by `countBackfillDeltas`. " +
      "`records/s` is the CLI's own figure (records read / its seconds, from before the local stack starts to the summary); items written are the summary's `itemsUpdated`. " +
      "Spawn to exit adds Node's and tsx's start and, after the summary, the stack's stop. " +
      (fixedSeconds === undefined
        ? ""
        : `The fixed cost is a backfill of the permission line alone (${fixedSeconds} s in the CLI, ${round((fixed as CliRun).wallSeconds, 1)} s spawn to exit, ` +
          `${round(fixedCpu.java, 1)} CPU s of DynamoDB Local and ${round(fixedCpu.node, 1)} of the CLI's processes up to the summary); "without the fixed cost" subtracts it. `) +
      "CPU by process (DynamoDB Local's JVM; the CLI's Node processes, with DuckDB and Kinesalite in them) is sampled from /proc every 0.5 s. " +
      "Checked, or the benchmark fails: every line read, every record counted once through the settled path, the malformed lines quarantined, and, for the reference " +
      "configuration, the items written between the records' distinct aggregate items and their distinct (day, item) pairs (computed in memory). " +
      "The read side alone (the floor): every object of the reference tree decoded by `decodeStream` (`jsonLines: true`, gzip inflated) and priced by `priceItems` with the shipped catalog, " +
      "in chunks of 2,000 as the backfill does, in the benchmark's own process (one core), nothing written. " +
      `Item writes: after the reference run, \`countBackfillDeltas\` timed on ${grouped(probes.onDisk.items)} items that do not exist yet, then on the same items again ` +
      "(they exist), after as many both ways to warm the JVM up: on the data dir's own database (DynamoDB Local started again on its files) and on a fresh in-memory " +
      "DynamoDB Local (the tests' and the other benchmarks').",
    "",
    `| | ${rows.map((row) => `${grouped(row.tenants)} tenants`).join(" | ")} |`,
    `| --- | ${rows.map(() => "---").join(" | ")} |`,
    cell("records", (row) => grouped(row.records)),
    cell("**records/s (the CLI's summary)**", (row) => `**${grouped(row.recordsPerSecond)}**`),
    ...(fixedSeconds === undefined ? [] : [cell("records/s without the fixed cost", (row) => grouped(steady(row) ?? 0))]),
    cell("records/s spawn to exit", (row) => grouped(row.wallRecordsPerSecond)),
    cell("seconds: CLI / spawn to summary / stack's stop after it", (row) => `${row.cliSeconds} / ${row.summarySeconds} / ${row.stopSeconds}`),
    cell("applications", (row) => grouped(row.applications)),
    cell("aggregate items written", (row) => grouped(row.itemsUpdated)),
    cell("**items per record**", (row) => `**${row.itemsPerRecord}**`),
    cell("ms per record (CLI)", msPerRecord),
    cell("CPU s to the summary: CLI processes / DynamoDB Local", (row) => `${row.nodeCpu} / ${row.dynamoDbLocalCpu}`),
    cell("CPU ms per record beyond the fixed cost: CLI processes / DynamoDB Local", (row) => `${nodeMsPerRecord(row)} / ${javaMsPerRecord(row)}`),
    cell("DynamoDB Local CPU ms per item written", javaMsPerItem),
    cell("seconds to the summary using >= half a core: CLI processes / DynamoDB Local", (row) => `${row.busySeconds.node} / ${row.busySeconds.java}`),
    cell("CPU s in the stack's stop: CLI processes / DynamoDB Local", (row) => `${row.stopCpu.node} / ${row.stopCpu.java}`),
    cell("load average at the start", (row) => `${row.loadAverage} on ${cpus().length} cores`),
    "",
    `Read side alone (decode + price, one core, the ${grouped(read.read)} lines of the reference tree): **${grouped(read.recordsPerSecond)} records/s**, ` +
      `${readMsPerRecord} ms a record (${round(read.seconds, 1)} s, ${round(read.cpuSeconds, 1)} CPU s). ` +
      `Item writes by \`countBackfillDeltas\`, 5,000 at a time: DynamoDB Local on the data dir's files ${probeText(probes.onDisk)}; ` +
      `in memory ${probeText(probes.inMemory)}` +
      (repriced ? ` (the reprice benchmark's transactional update in memory: ${repriced.transactionMs} ms, ${repriced.ranAt.slice(0, 10)}).` : "."),
    "",
    `**The target, >= ${grouped(TARGET_RECORDS_PER_SECOND)} records/s from local files, is ${met ? "met" : "not met"}**: ` +
      `${grouped(reference.recordsPerSecond)} records/s on the reference workload (${grouped(reference.wallRecordsPerSecond)} spawn to exit), ` +
      (met
        ? `${round(reference.recordsPerSecond / TARGET_RECORDS_PER_SECOND, 2)} times the target.`
        : `${share(reference.recordsPerSecond, TARGET_RECORDS_PER_SECOND)} of it, ${round(TARGET_RECORDS_PER_SECOND / reference.recordsPerSecond, 1)} times short; ` +
          `${grouped(few.recordsPerSecond)} records/s with ${few.tenants} tenants. ` +
          (read.recordsPerSecond < TARGET_RECORDS_PER_SECOND
            ? `Even the read side alone, ${grouped(read.recordsPerSecond)} records/s on one core, is under it.`
            : `The read side alone, ${grouped(read.recordsPerSecond)} records/s on one core, would meet it: what misses it is the rest of the backfill.`)),
    "",
    `**What limits the figure.** ${
      limitOf(reference) === "DynamoDB Local"
        ? "DynamoDB Local's CPU, by the workload's aggregate items per record; then the CLI's own process."
        : "The CLI's own process; then DynamoDB Local's CPU, by the workload's aggregate items per record."
    } ` +
      `Up to the summary (${reference.summarySeconds} s from the spawn) the reference run had the CLI's processes busy (at least half a core) for ${reference.busySeconds.node} s ` +
      `and DynamoDB Local for ${reference.busySeconds.java} s, ${phasesText(reference)}: ` +
      `reading, pricing and writing the lake goes at ~${grouped(Math.round(reference.records / Math.max(1, reference.busySeconds.node)))} records per busy second of the CLI, ` +
      `while the ${grouped(reference.itemsUpdated)} aggregate items (${reference.itemsPerRecord} per record, in ${grouped(reference.applications)} applications: the month item ` +
      `of every tenant and an item per tenant, day and model it used) cost DynamoDB Local ${javaMsPerItem(reference)} CPU ms each beyond its start (all its work over ` +
      `the items: checkpoints, reads and writes), ${javaMsPerRecord(reference)} ms per record: a ceiling of ${ceiling(javaMsPerRecord(reference))} records/s on its one ` +
      `busy core, against ${nodeMsPerRecord(reference)} CPU ms per record in the CLI's processes (ceiling ${ceiling(nodeMsPerRecord(reference))}), of which decoding ` +
      `and pricing are ${readMsPerRecord} (the floor) and the rest the lake's Parquet writes and request ids, the deltas and the SDK's requests. ` +
      `With ${few.tenants} tenants the same records write ${few.itemsPerRecord} items per record (${grouped(few.itemsUpdated)}): DynamoDB Local's share falls to ` +
      `${javaMsPerRecord(few)} CPU ms per record, the CLI's is ${nodeMsPerRecord(few)}, and the backfill runs at ${grouped(few.recordsPerSecond)} records/s` +
      (fixedSeconds === undefined ? "" : ` (${grouped(steady(few) ?? 0)} without the fixed cost of ${fixedSeconds} s)`) +
      `, ${round(few.recordsPerSecond / Math.max(1, reference.recordsPerSecond), 1)} times the reference, limited by ${limitOf(few)}. ` +
      "Items per record fall as records per tenant-day grow: a busier month of the same tenants writes fewer per record. " +
      `After the summary the CLI stops the local stack, which runs a last round of its consumers (the table stream -> budget-alert mapping among them) before ` +
      `DynamoDB Local stops: ${reference.stopSeconds} s after the reference run (${reference.stopCpu.node} CPU s of the CLI's processes, ${reference.stopCpu.java} of ` +
      `DynamoDB Local), ${few.stopSeconds} s after the ${few.tenants}-tenant one` +
      (fixed ? `, ${round(fixed.wallSeconds - fixed.summarySeconds, 1)} s after the fixed cost's` : "") +
      ": it grows with the items written, and the CLI's own records/s leaves it out. " +
      `DynamoDB Local on the data dir's files (\`-dbPath\`, as the CLI runs it) took ${round(probes.onDisk.newItemMs / Math.max(0.01, probes.inMemory.newItemMs), 1)} ` +
      "times the in-memory time per new item in the probe: figures from an in-memory DynamoDB Local (the tests, the other benchmarks) do not carry over to the CLI.",
  ].join("\n");

  return {
    figures,
    markdown,
    details: {
      rows,
      fixed: fixed ? { summary: fixed.summary, wallSeconds: round(fixed.wallSeconds, 1), cpuToSummary: fixedCpu, afterSummary: fixed.afterSummary } : null,
      trees: trees.map((tree) => ({ ...tree, dir: undefined, seconds: round(tree.seconds, 1) })),
      floor: { ...read, probeKeys: undefined },
      itemProbe: probes,
      repriceItemMs: repriced ?? null,
      cpuSamples: series,
      commit: commitOf(context.root),
    },
  };
}

/** The checked-out commit (the backfill's code is what it was there, unless the tree was dirty). */
function commitOf(root: string): string | null {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "packages"], { cwd: root, encoding: "utf8" }).trim();
    return dirty ? `${head} (packages/ modified)` : head;
  } catch {
    return null;
  }
}

const benchmark: Benchmark = {
  key: "backfill",
  title: "Backfill from Bedrock's S3 layout on local files",
  run,
};

export default benchmark;
