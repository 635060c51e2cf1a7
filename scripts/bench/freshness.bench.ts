/**
 * freshness: local mode end to end, from a log event put on the stream to the spend visible through
 * the spend API.
 *
 * The real local stack (`LocalStack` with the dashboard server and the spend API, what `pnpm start`
 * runs, with its traffic generator off) on a scratch data dir. CloudWatch subscription payloads of
 * the reference workload are put on kinesalite with PutRecords at the target rate, as the
 * subscription filter would; for sampled tenants of each payload, the spend API is read over HTTP
 * on 127.0.0.1 until the tenant's invocation count reaches what was put. Latency = time the count
 * was seen - time the payload's PutRecords was sent.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { handleSpendApi } from "@bedrock-spend/api";
import { defaultCatalog, Pricer, StaticProfileMap } from "@bedrock-spend/core";
import { createDashboardServer } from "@bedrock-spend/dashboard";
import { APPLICATION_PROFILES, generateTraffic, gzipStable, type TrafficItem, tenantAt, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { type ConsumerRound, LocalStack } from "../../packages/local-mode/src/index";
import type { Benchmark, Figures } from "./types";

/** Reference workload population (docs/architecture.md). */
const TENANTS = 10_000;
/** A subscription payload holds at most 50 log events (the reference workload's payloads) ... */
const EVENTS_PER_PAYLOAD = 50;
/** ... and CloudWatch Logs sends it at the latest about a second after its first event. */
const FLUSH_MS = 1000;
/** Each pending tenant is read again this long after its last read: the resolution of the measurement. */
const POLL_INTERVAL_MS = 50;
/** Concurrent readers of the spend API. */
const POLL_WORKERS = 4;
/** Cap on spend API reads, so that measuring stays a small part of the load. */
const MAX_READS_PER_SECOND = 100;
/** After the last put, how long to wait for the last probes before counting them as not seen. */
const SETTLE_MS = 10_000;

interface PhaseSpec {
  name: string;
  rate: number;
  seconds: number;
  seed: string;
  /** Probe tenants per payload (the rarest tenants of the payload); 0 for a warm-up. */
  probesPerPayload: number;
}

/** A payload ready to put, with its probes. */
interface PlannedPayload {
  /** Offset from the phase start when CloudWatch would send it (its 50th event, or 1 s after its first). */
  dueMs: number;
  data: Buffer;
  events: number;
  /** Tenants with records in the payload. */
  tenants: Set<string>;
  probes: Probe[];
  putAt?: number;
  shardId?: string;
}

interface Probe {
  tenantId: string;
  month: string;
  /** The tenant's invocation count for the month once this payload and every earlier one are counted. */
  expected: number;
  payload: PlannedPayload;
  visibleAt?: number;
  /** Time between the read that saw the count and the read before it (the resolution of this sample). */
  gapMs?: number;
}

interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

interface PhaseResult {
  spec: PhaseSpec;
  payloads: number;
  eventsPut: number;
  /** Latencies, ms, ascending; probes not seen by the end count at their lower bound (censored). */
  latencies: number[];
  censored: number;
  /** Probes that a later payload on the other shard could have satisfied (left out). */
  ambiguous: number;
  reads: number;
  readErrors: number;
  readMs: Distribution;
  resolutionMs: Distribution;
  putMs: Distribution;
  /** How late puts were against their schedule. */
  lateMs: Distribution;
  seconds: number;
  counted: number;
  transactions: number;
  writeUnits: number;
  rounds: { aggregate: RoundStats; firehose: RoundStats; alerts: RoundStats };
  cpu: { dynamoDbLocalCores: number | null; nodeCores: number; otherCores: number | null; loadAverage: number };
  /** Delay of this process's event loop (the stack, the API server and the benchmark share it), ms. */
  eventLoopDelayMs: Distribution;
}

interface RoundStats {
  rounds: number;
  busyShare: number;
  ms: Distribution;
  recordsPerRound: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round1(percentile(sorted, 50)), p99: round1(percentile(sorted, 99)), max: round1(sorted.at(-1) ?? Number.NaN) };
}

/** Rank of every tenant of the population (0 = largest): the rarest tenants make the cleanest probes. */
function rankOf(): Map<string, number> {
  const ranks = new Map<string, number>();
  for (let rank = 0; rank < TENANTS; rank++) ranks.set(tenantAt(rank, TENANTS).tenantId, rank);
  return ranks;
}

/**
 * The phase's payloads, generated and gzipped before the clock starts (generating is not the
 * pipeline's work). `counts` carries each tenant's invocation count per month across phases.
 */
function planPhase(spec: PhaseSpec, counts: Map<string, number>, ranks: Map<string, number>): PlannedPayload[] {
  // Event times are the wall clock of the run (the current month), as Bedrock would log them.
  const origin = Date.now();
  const items = generateTraffic({
    seed: spec.seed,
    count: Math.round(spec.rate * spec.seconds),
    tenants: TENANTS,
    ratePerSecond: spec.rate,
    start: origin,
    permissionsLine: false,
  });
  // Batched as CloudWatch Logs sends a subscription: a payload goes at 50 events or 1 s after its first event.
  const groups: { items: TrafficItem[]; dueMs: number }[] = [];
  let current: TrafficItem[] = [];
  const close = (dueMs: number) => {
    groups.push({ items: current, dueMs });
    current = [];
  };
  for (const item of items) {
    const first = current[0];
    if (first && item.timestampMs - first.timestampMs >= FLUSH_MS) close(first.timestampMs - origin + FLUSH_MS);
    current.push(item);
    if (current.length === EVENTS_PER_PAYLOAD) close(item.timestampMs - origin);
  }
  const last = current[0];
  if (last) close(last.timestampMs - origin + FLUSH_MS);

  let sequence = 0;
  return groups.map((group) => {
    const [payload] = [...toSubscriptionPayloads(group.items, { eventsPerPayload: EVENTS_PER_PAYLOAD, firstSequence: sequence })];
    sequence += group.items.length;
    const tenants = new Set<string>();
    const expected = new Map<string, { month: string; count: number }>();
    for (const item of group.items) {
      const tenantId = item.kind === "record" ? item.record.requestMetadata?.tenantId : undefined;
      if (!tenantId) continue; // malformed lines are quarantined, untagged records go to "unattributed"
      tenants.add(tenantId);
      const month = new Date(item.timestampMs).toISOString().slice(0, 7);
      const key = `${tenantId}\u0000${month}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      expected.set(tenantId, { month, count });
    }
    const planned: PlannedPayload = { dueMs: group.dueMs, data: gzipStable(JSON.stringify(payload)), events: group.items.length, tenants, probes: [] };
    const rarest = [...expected.keys()].sort((a, b) => (ranks.get(b) ?? 0) - (ranks.get(a) ?? 0)).slice(0, spec.probesPerPayload);
    for (const tenantId of rarest) {
      const { month, count } = expected.get(tenantId) as { month: string; count: number };
      planned.probes.push({ tenantId, month, expected: count, payload: planned });
    }
    return planned;
  });
}

/** A tenant's invocation count for a month, read through the spend API (0 while the tenant is unknown: 404). */
function readInvocations(agent: Agent, port: number, tenantId: string, month: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: "127.0.0.1", port, path: `/v1/tenants/${encodeURIComponent(tenantId)}/spend?month=${month}`, method: "GET" },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (response.statusCode === 404) resolve(0);
          else if (response.statusCode === 200) resolve(Number((JSON.parse(body) as { invocations: number }).invocations));
          else reject(new Error(`spend API answered ${response.statusCode}: ${body}`));
        });
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface Pending {
  probes: Probe[];
  nextAt: number;
  lastAt: number;
  inFlight: boolean;
}

/**
 * Reads the spend of tenants with pending probes: each tenant again `POLL_INTERVAL_MS` after its
 * last read, by `POLL_WORKERS` concurrent readers, never more than `MAX_READS_PER_SECOND` in all
 * (when more tenants are pending, each is read less often: the resolution is reported).
 */
class Poller {
  private readonly pending = new Map<string, Pending>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: POLL_WORKERS });
  private stopped = false;
  private workers: Promise<void>[] = [];
  private nextSlot = 0;
  reads = 0;
  errors = 0;
  readonly readMs: number[] = [];

  constructor(private readonly port: number) {}

  get size(): number {
    return this.pending.size;
  }

  add(probe: Probe, now: number): void {
    const key = `${probe.tenantId}\u0000${probe.month}`;
    const entry = this.pending.get(key);
    if (entry) entry.probes.push(probe);
    else this.pending.set(key, { probes: [probe], nextAt: now + POLL_INTERVAL_MS, lastAt: now, inFlight: false });
  }

  start(): void {
    for (let index = 0; index < POLL_WORKERS; index++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    this.agent.destroy();
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      let pick: [string, Pending] | undefined;
      for (const entry of this.pending) if (!entry[1].inFlight && (!pick || entry[1].nextAt < pick[1].nextAt)) pick = entry;
      let now = Date.now();
      if (!pick || pick[1].nextAt > now) {
        await sleep(pick ? Math.min(10, pick[1].nextAt - now) : 10);
        continue;
      }
      const [key, entry] = pick;
      entry.inFlight = true;
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + 1000 / MAX_READS_PER_SECOND;
      if (slot > now) await sleep(slot - now);
      const probe = entry.probes[0] as Probe;
      const sent = performance.now();
      let invocations: number | undefined;
      try {
        invocations = await readInvocations(this.agent, this.port, probe.tenantId, probe.month);
        this.readMs.push(performance.now() - sent);
        this.reads++;
      } catch {
        this.errors++;
      }
      now = Date.now();
      if (invocations !== undefined) {
        for (const waiting of entry.probes)
          if (waiting.expected <= invocations) {
            waiting.visibleAt = now;
            waiting.gapMs = now - entry.lastAt;
          }
        entry.probes = entry.probes.filter((waiting) => waiting.visibleAt === undefined);
        entry.lastAt = now;
      }
      entry.inFlight = false;
      entry.nextAt = now + POLL_INTERVAL_MS;
      if (entry.probes.length === 0) this.pending.delete(key);
    }
  }
}

/** CPU seconds the whole machine has spent busy so far (all cores), from /proc/stat; null elsewhere. */
function machineBusySeconds(): number | null {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return (total - idle) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by DynamoDB Local (the Java child of this process), or null where /proc is not there. */
function dynamoDbLocalCpuSeconds(): number | null {
  try {
    const pids = execFileSync("pgrep", ["-P", String(process.pid), "java"], { encoding: "utf8" })
      .trim()
      .split("\n");
    let total = 0;
    for (const pid of pids) {
      const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    }
    return total;
  } catch {
    return null;
  }
}

function roundStats(rounds: ConsumerRound[], seconds: number): RoundStats {
  const busy = rounds.reduce((sum, round) => sum + round.ms, 0) / 1000;
  const records = rounds.reduce((sum, round) => sum + round.records, 0);
  return {
    rounds: rounds.length,
    busyShare: round2(busy / seconds),
    ms: distribution(rounds.map((round) => round.ms)),
    recordsPerRound: round1(records / Math.max(1, rounds.length)),
  };
}

async function runPhase(stack: LocalStack, port: number, spec: PhaseSpec, payloads: PlannedPayload[], rounds: ConsumerRound[]): Promise<PhaseResult> {
  const poller = new Poller(port);
  poller.start();
  const before = {
    counted: stack.stats.counted,
    transactions: stack.stats.transactions,
    writeUnits: stack.stats.writeUnits,
    rounds: rounds.length,
    java: dynamoDbLocalCpuSeconds(),
    node: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const late: number[] = [];
  const putMs: number[] = [];
  const start = Date.now() + 100;
  let eventsPut = 0;
  for (const payload of payloads) {
    const wait = start + payload.dueMs - Date.now();
    if (wait > 0) await sleep(wait);
    const putAt = Date.now();
    late.push(putAt - (start + payload.dueMs));
    const began = performance.now();
    const [receipt] = await stack.putPayloads([payload.data]);
    putMs.push(performance.now() - began);
    eventsPut += payload.events;
    payload.putAt = putAt;
    payload.shardId = receipt?.shardId ?? "";
    for (const probe of payload.probes) poller.add(probe, putAt);
  }
  const putDone = Date.now();
  while (poller.size > 0 && Date.now() - putDone < SETTLE_MS) await sleep(20);
  const end = Date.now();
  await poller.stop();
  const seconds = (end - start) / 1000;
  const javaAfter = dynamoDbLocalCpuSeconds();
  const nodeCpu = process.cpuUsage(before.node);
  const machineAfter = machineBusySeconds();
  loopDelay.disable();
  const javaSeconds = javaAfter === null || before.java === null ? null : javaAfter - before.java;
  const nodeSeconds = (nodeCpu.user + nodeCpu.system) / 1e6;

  // Shards are each read in order, not with each other: a later payload with the same tenant on
  // the other shard, put before the probe was seen, could have raised the count alone. Such probes
  // are left out (the rarest tenants of each payload are probed, so they are few).
  const byTenant = new Map<string, PlannedPayload[]>();
  for (const payload of payloads)
    for (const tenantId of payload.tenants) {
      const list = byTenant.get(tenantId);
      if (list) list.push(payload);
      else byTenant.set(tenantId, [payload]);
    }
  let ambiguous = 0;
  let censored = 0;
  const latencies: number[] = [];
  const gaps: number[] = [];
  for (const probe of payloads.flatMap((payload) => payload.probes)) {
    const putAt = probe.payload.putAt as number;
    if (probe.visibleAt === undefined) {
      censored++;
      latencies.push(end - putAt);
      continue;
    }
    const visibleAt = probe.visibleAt;
    const clash = (byTenant.get(probe.tenantId) ?? []).some(
      (other) => other !== probe.payload && (other.putAt ?? 0) > putAt && (other.putAt ?? 0) <= visibleAt && other.shardId !== probe.payload.shardId,
    );
    if (clash) {
      ambiguous++;
      continue;
    }
    latencies.push(visibleAt - putAt);
    gaps.push(probe.gapMs ?? 0);
  }
  latencies.sort((a, b) => a - b);
  const phaseRounds = rounds.slice(before.rounds);
  const of = (consumer: ConsumerRound["consumer"]) =>
    roundStats(
      phaseRounds.filter((round) => round.consumer === consumer),
      seconds,
    );
  return {
    spec,
    payloads: payloads.length,
    eventsPut,
    latencies,
    censored,
    ambiguous,
    reads: poller.reads,
    readErrors: poller.errors,
    readMs: distribution(poller.readMs),
    resolutionMs: distribution(gaps),
    putMs: distribution(putMs),
    lateMs: distribution(late),
    seconds: round1(seconds),
    counted: stack.stats.counted - before.counted,
    transactions: stack.stats.transactions - before.transactions,
    writeUnits: stack.stats.writeUnits - before.writeUnits,
    rounds: { aggregate: of("aggregate"), firehose: of("firehose"), alerts: of("alerts") },
    cpu: {
      dynamoDbLocalCores: javaSeconds === null ? null : round2(javaSeconds / seconds),
      nodeCores: round2(nodeSeconds / seconds),
      otherCores:
        machineAfter === null || before.machine === null || javaSeconds === null
          ? null
          : round2(Math.max(0, machineAfter - before.machine - javaSeconds - nodeSeconds) / seconds),
      loadAverage: round1(loadavg()[0] ?? 0),
    },
    eventLoopDelayMs: { p50: round1(loopDelay.percentile(50) / 1e6), p99: round1(loopDelay.percentile(99) / 1e6), max: round1(loopDelay.max / 1e6) },
  };
}

function phaseFigures(result: PhaseResult): Figures {
  const { latencies } = result;
  return {
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    events: latencies.length,
    censored: result.censored,
    eventsPut: result.eventsPut,
    rate: result.spec.rate,
    seconds: result.spec.seconds,
    countedPerSecond: Math.round(result.counted / result.seconds),
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}

const freshness: Benchmark = {
  key: "freshness",
  title: "Freshness: log event on the stream -> spend visible through the API (local mode)",
  async run(context) {
    const phases: PhaseSpec[] = context.quick
      ? [
          { name: "warm-up", rate: 20, seconds: 1, seed: "freshness-warm-up", probesPerPayload: 0 },
          { name: "200/s", rate: 20, seconds: 3, seed: "freshness-200", probesPerPayload: 3 },
          { name: "1000/s", rate: 100, seconds: 2, seed: "freshness-1000", probesPerPayload: 2 },
        ]
      : [
          { name: "warm-up", rate: 200, seconds: 45, seed: "freshness-warm-up", probesPerPayload: 0 },
          { name: "200/s", rate: 200, seconds: 60, seed: "freshness-200", probesPerPayload: 2 },
          { name: "1000/s", rate: 1000, seconds: 20, seed: "freshness-1000", probesPerPayload: 1 },
        ];
    const ranks = rankOf();
    const counts = new Map<string, number>();
    const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES, "the generated traffic's profile map") });
    const rounds: ConsumerRound[] = [];
    const dataDir = join(context.scratch, "freshness");
    const startedAt = performance.now();
    const stack = await LocalStack.start({
      dataDir,
      pricer,
      role: "bench",
      handleSignals: false,
      onLog: (log) => context.log(`freshness: stack ${log.level}: ${log.message}`),
      onRound: (round) => rounds.push(round),
    });
    const startSeconds = (performance.now() - startedAt) / 1000;
    const server = createDashboardServer({
      data: stack.dashboardData(),
      spendApi: (apiRequest) => handleSpendApi(apiRequest, { store: stack.store, defaultBudget: null, allowUnauthenticated: true }),
    });
    const results: PhaseResult[] = [];
    let drainSeconds = 0;
    try {
      const { port } = await server.listen(0, "127.0.0.1");
      // What `pnpm start` runs: the consumers in the background, the API on the dashboard's port.
      stack.loop(200);
      context.log(`freshness: local stack up in ${startSeconds.toFixed(1)} s, spend API on 127.0.0.1:${port}`);
      let records = 0;
      for (const spec of phases) {
        const payloads = planPhase(spec, counts, ranks);
        // A phase starts with the pipeline caught up: every record put so far read and counted.
        const drainStarted = performance.now();
        while (stack.stats.streamRecords < records && performance.now() - drainStarted < 120_000) await sleep(100);
        if (spec.probesPerPayload > 0 && results.length === 0) drainSeconds = (performance.now() - drainStarted) / 1000;
        records += payloads.length;
        context.log(`freshness: ${spec.name}: ${spec.rate} events/s for ${spec.seconds} s (${payloads.length} payloads)`);
        const result = await runPhase(stack, port, spec, payloads, rounds);
        if (spec.probesPerPayload === 0) continue;
        results.push(result);
        const l = result.latencies;
        context.log(
          `freshness: ${spec.name}: p50 ${percentile(l, 50)} ms, p99 ${percentile(l, 99)} ms, max ${l.at(-1)} ms; ${l.length} events (${result.censored} not seen), ${result.counted} counted, ${result.reads} API reads, DynamoDB Local ${result.cpu.dynamoDbLocalCores} cores, aggregate busy ${result.rounds.aggregate.busyShare}`,
        );
      }
    } finally {
      await server.close().catch(() => undefined);
      await stack.stop();
      // ~150 MB of DynamoDB Local, kinesalite and lake files: nothing reads them afterwards.
      await rm(dataDir, { recursive: true, force: true });
    }
    const [at200, at1000] = results as [PhaseResult, PhaseResult];
    const figures: Figures = { ...phaseFigures(at200), at1000: phaseFigures(at1000) };
    return {
      figures,
      markdown: markdownOf(results, phases[0] as PhaseSpec, startSeconds, drainSeconds),
      details: { startSeconds, drainSeconds, phases: results.map(({ latencies, ...rest }) => ({ ...rest, latencies: distribution(latencies) })) },
    };
  },
};

function markdownOf(results: PhaseResult[], warmUp: PhaseSpec, startSeconds: number, drainSeconds: number): string {
  const [at200, at1000] = results as [PhaseResult, PhaseResult];
  const ms = (value: number) => Math.round(value).toLocaleString("en-US");
  const rate = (result: PhaseResult) => result.spec.rate.toLocaleString("en-US");
  const countedPerSecond = (result: PhaseResult) => Math.round(result.counted / result.seconds);
  const itemsPerInvocation = (result: PhaseResult) => round2(result.writeUnits / 2 / Math.max(1, result.counted));
  const row = (result: PhaseResult) => {
    const l = result.latencies;
    const measured = `${l.length}${result.censored ? ` (${result.censored} not seen in time)` : ""}`;
    return `| ${rate(result)} | ${result.spec.seconds} | ${result.eventsPut.toLocaleString("en-US")} | ${measured} | ${ms(percentile(l, 50))} | ${ms(percentile(l, 99))} | ${ms(l.at(-1) ?? Number.NaN)} | ${countedPerSecond(result)} |`;
  };
  const stackRow = (result: PhaseResult) => {
    const a = result.rounds.aggregate;
    const perTransaction = result.transactions ? round1(result.writeUnits / 2 / result.transactions) : 0;
    const cpu = result.cpu;
    return `| ${rate(result)} | ${a.busyShare} | ${a.ms.p50} / ${a.ms.p99} | ${a.recordsPerRound} | ${result.transactions} x ~${perTransaction} | ${itemsPerInvocation(result)} | ${cpu.dynamoDbLocalCores ?? "-"} | ${cpu.nodeCores} | ${cpu.otherCores ?? "-"} | ${result.eventLoopDelayMs.p99} | ${cpu.loadAverage} |`;
  };
  const saturated = countedPerSecond(at1000) < at1000.spec.rate * 0.95;
  const busyMsPerTransaction = Math.round((at200.rounds.aggregate.busyShare * at200.seconds * 1000) / Math.max(1, at200.transactions));
  return [
    "**Workload.** The reference generator (10,000 tenants, Zipf 1.1, ~2 KB bodies, a few malformed and unpriced records) as CloudWatch Logs subscription payloads: gzipped, at most 50 log events each, sent at the 50th event or one second after the first (as CloudWatch batches a subscription), each put with PutRecords (random partition key) on the local stream (kinesalite, 2 shards). At 200 events/s that is one payload of 50 events every 250 ms; at 1,000 events/s one every 50 ms.",
    "",
    `**How measured.** The real local stack as \`pnpm start\` runs it: \`LocalStack.start\` on a scratch data dir (DynamoDB Local on disk, kinesalite, the Firehose writing Parquet, the budget-alert mapping), \`loop(200)\`, and the dashboard server with the spend API on 127.0.0.1; its traffic generator off. Started in ${round1(startSeconds)} s. First ${warmUp.seconds} s at ${warmUp.rate} events/s of the same traffic, not measured: DynamoDB Local's JIT compiler needs about that long, and the first minute after a cold start is several times slower. Then ${drainSeconds ? `${round1(drainSeconds)} s until the pipeline had caught up, then ` : ""}each rate in turn. For the ${at200.spec.probesPerPayload} rarest tenants of every payload (${at1000.spec.probesPerPayload} at 1,000/s) the benchmark knows the tenant's month invocation count once that payload is counted; ${POLL_WORKERS} concurrent readers GET \`/v1/tenants/{tenantId}/spend?month=YYYY-MM\` for each pending tenant every ${POLL_INTERVAL_MS} ms (at most ${MAX_READS_PER_SECOND} reads/s in all) until the count is reached. Latency = arrival of that response - sending of the payload's PutRecords. Probes that a later payload on the other shard could have satisfied are left out (${at200.ambiguous} and ${at1000.ambiguous}); probes not seen ${SETTLE_MS / 1000} s after the last put count at their lower bound, which makes a percentile that includes them a lower bound.`,
    "",
    "| events/s | seconds | events put | events measured | p50 ms | p99 ms | max ms | invocations counted/s |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    row(at200),
    row(at1000),
    "",
    `Resolution: a probe is seen at most one read interval after it became visible; at 200 events/s the median gap between a probe's last two reads was ${at200.resolutionMs.p50} ms and an API read took ${at200.readMs.p50} ms (p99 ${at200.readMs.p99} ms). The benchmark's reads were ${Math.round(at200.reads / at200.seconds)}/s at 200 events/s (${Math.round(at1000.reads / at1000.seconds)}/s at 1,000), two GetItems each, against ~${Math.round((at200.writeUnits / 2 + at200.transactions) / at200.seconds)} transactional item writes/s. Puts took ${at200.putMs.p50} ms (p99 ${at200.putMs.p99} ms) and went out at most ${ms(Math.max(at200.lateMs.max, at1000.lateMs.max))} ms late.`,
    "",
    "**What limits this figure.** The stack during each phase: aggregate busy = share of the phase the Kinesis -> aggregate mapping spent in rounds; its round durations and records per round; the aggregate writer's DynamoDB transactions (count x items); CPU in cores of this 2-core machine for DynamoDB Local, this Node process (stack, API server, benchmark) and every other process on the machine; this process's event-loop delay:",
    "",
    "| events/s | aggregate busy | round p50 / p99 ms | records / round | transactions | items / invocation | DynamoDB Local cores | Node cores | other processes cores | event-loop delay p99 ms | load avg |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    stackRow(at200),
    stackRow(at1000),
    "",
    `- The aggregate handler's DynamoDB transactions on DynamoDB Local are the time. Each invocation costs ${itemsPerInvocation(at200)} transactional items (its dedup marker and its share of the month and day x model updates); at 200 events/s the mapping was busy ${Math.round(at200.rounds.aggregate.busyShare * 100)}% of the phase, ~${busyMsPerTransaction} ms per transaction. DynamoDB Local runs every read and write on one SQLite thread and writes a stream record with old and new images for each item, so two shards in parallel (as Lambda runs them) do not raise its throughput, and the alert mapping's and the API's reads queue behind the transactions too.`,
    `- ${saturated ? `At 1,000 events/s the pipeline cannot keep up on this machine: ${countedPerSecond(at1000)} invocations/s counted, so the backlog and the latency grow through the phase (${at1000.censored} of the ${at1000.latencies.length} probes were not seen within ${SETTLE_MS / 1000} s of the last put). With that backlog, rounds take many records at once and share more updates (${itemsPerInvocation(at1000)} items per invocation), so this is the most the local path does, not what it does at 200 events/s.` : "At 1,000 events/s the pipeline kept up."}`,
    `- At 200 events/s a payload arrives every 250 ms and an aggregate round takes ${at200.rounds.aggregate.ms.p50} ms at the median but ${at200.rounds.aggregate.ms.p99} ms at p99: a payload that arrives during a long round waits for it, then for its own. That queueing, not the work of one payload, makes the p99.`,
    `- The machine is shared with other work: during the 200 events/s phase other processes used ${at200.cpu.otherCores ?? "-"} of the 2 cores on average (load average ${at200.cpu.loadAverage}) and DynamoDB Local ${at200.cpu.dynamoDbLocalCores ?? "-"}. The less CPU DynamoDB Local gets, the longer the rounds and the queue behind them.`,
    `- The emulator adds no wait of its own while records are pending: each consumer goes again at once while it finds records, and polls every 200 ms when idle. The Kinesis -> aggregate mapping, the Firehose and the budget-alert mapping run in their own loops, as on AWS, so the aggregates never wait for a Firehose delivery or an alert evaluation (budget-alert rounds took up to ${ms(at200.rounds.alerts.ms.max || 0)} ms in this run; Firehose rounds up to ${ms(at200.rounds.firehose.ms.max)} ms).`,
    "- On AWS, Lambda polls an idle shard about once a second and waits up to the configured batching window (1 s, stacks/Processing.ts) for a fuller batch, and DynamoDB's on-demand capacity takes these writes without queueing: the same path is expected to take about 0.5-2 s there, most of it polling and batching, at either rate.",
  ].join("\n");
}

export default freshness;
