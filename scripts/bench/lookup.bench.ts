/**
 * lookup: spend API latency with 1,000,000 tenants in the aggregates table.
 *
 * DynamoDB Local (local mode's DynamoDB, in memory here) gets the real table (packages/store's
 * `createAggregatesTable`) and, through BatchWriteItem, one month-total item per tenant in the usage
 * writer's shape (keys from packages/core), budgets for some tenants and day x model items for the
 * largest ones. The spend API then answers over HTTP from the local server (the dashboard server of
 * `pnpm start`, `/v1/` handled by the real `handleSpendApi` over the real `AggregatesStore`).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  UpdateTableCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { handleSpendApi } from "@bedrock-spend/api";
import { createDashboardServer, type DashboardServer } from "@bedrock-spend/dashboard";
import { createMemoryDashboardData } from "@bedrock-spend/dashboard/reference";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { AggregatesStore, BUDGET_SK, createAggregatesTable, dayModelSk, monthSk, tenantPk } from "@bedrock-spend/store";
import { modelMix, Prng, tenantAt, ZipfSampler } from "@bedrock-spend/traffic";
import type { BenchContext, Benchmark, Figures } from "./types";

const TABLE = "bedrock-spend-aggregates";
/** The month every tenant has a total for (the reference workload's month). */
const MONTH = "2026-11";
/** Days of the month so far: day x model items exist for days 1..DAYS. */
const DAYS = 27;
/** One tenant in this many has a budget of its own. */
const BUDGET_EVERY = 50;
/** BatchWriteItem requests in flight while loading (DynamoDB Local writes on one thread: more does not help). */
const LOAD_CONCURRENCY = 8;
/** Java heap of DynamoDB Local for this benchmark (local mode's default is 1g). */
const JAVA_HEAP = "2g";
/** Requests slower than this are listed in the details, with when they happened. */
const SLOW_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;
const grouped = (value: number) => value.toLocaleString("en-US");

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** CPU seconds used so far by DynamoDB Local (the Java child of this process), and its resident memory; null where /proc is not there. */
function dynamoDbLocalUsage(): { cpuSeconds: number; rssMib: number } | null {
  try {
    const pid = execFileSync("pgrep", ["-P", String(process.pid), "java"], { encoding: "utf8" })
      .trim()
      .split("\n")[0];
    const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, rssMib: Math.round(Number(rss?.[1] ?? 0) / 1024) };
  } catch {
    return null;
  }
}

/** Distinct base models of the reference mix, most called first. */
function models(): string[] {
  const weights = new Map<string, number>();
  for (const spec of modelMix("123456789012", "us-east-1")) weights.set(spec.model, (weights.get(spec.model) ?? 0) + spec.weight);
  return [...weights.entries()].sort((a, b) => b[1] - a[1]).map(([model]) => model);
}

/** Models a tenant of this rank calls: all of them for the largest, one for the long tail. */
function modelsOf(rank: number, all: readonly string[]): number {
  return Math.max(1, Math.min(all.length, Math.round(all.length / (1 + rank / 25))));
}

/** Tenants below this rank have day x model items: the ones a month of reference traffic reaches. */
function dayModelTenants(population: number): number {
  return Math.min(1000, Math.max(20, Math.round(population / 1000)));
}

/** Counters as the usage writer leaves them (ADD of each counter, SET of updatedAt). */
function counters(invocations: number, rng: Prng): Record<string, AttributeValue> {
  const input = invocations * (200 + rng.int(1800));
  const output = invocations * (50 + rng.int(600));
  const cacheRead = rng.chance(0.15) ? Math.floor(input / 3) : 0;
  const costPico = BigInt(input) * 3_000_000n + BigInt(output) * 15_000_000n;
  return {
    invocations: { N: String(invocations) },
    unpriced: { N: "0" },
    inputTokens: { N: String(input) },
    outputTokens: { N: String(output) },
    cacheReadTokens: { N: String(cacheRead) },
    cacheWriteTokens: { N: "0" },
    costPico: { N: costPico.toString() },
    updatedAt: { N: "1795000000" },
  };
}

/** Every item of one tenant, in the shape the usage writer and the budget API write them. */
function itemsOf(rank: number, population: number, all: readonly string[], rng: Prng): Record<string, AttributeValue>[] {
  const tenantId = tenantAt(rank, population).tenantId;
  const pk = { S: tenantPk(tenantId) };
  // Zipf(1.1)-shaped monthly volume: ~2 M invocations for the largest tenant, one for the tail.
  const monthInvocations = Math.max(1, Math.round(2_000_000 / (rank + 1) ** 1.1));
  const items: Record<string, AttributeValue>[] = [
    { pk, sk: { S: monthSk(MONTH) }, ...counters(monthInvocations, rng), tenantId: { S: tenantId }, period: { S: MONTH }, kind: { S: "month" } },
  ];
  if (rank % BUDGET_EVERY === 0) {
    items.push({
      pk,
      sk: { S: BUDGET_SK },
      tenantId: { S: tenantId },
      kind: { S: "budget" },
      monthlyUsd: { S: `${100 + (rank % 50) * 100}.00` },
      thresholds: { L: [{ N: "50" }, { N: "80" }, { N: "100" }] },
      updatedAt: { S: "2026-11-01T00:00:00.000Z" },
    });
  }
  if (rank < dayModelTenants(population)) {
    const used = modelsOf(rank, all);
    const perItem = Math.max(1, Math.round(monthInvocations / (DAYS * used)));
    for (let day = 1; day <= DAYS; day++) {
      const date = `${MONTH}-${String(day).padStart(2, "0")}`;
      for (const model of all.slice(0, used)) {
        items.push({
          pk,
          sk: { S: dayModelSk(date, model) },
          ...counters(perItem, rng),
          tenantId: { S: tenantId },
          period: { S: date },
          model: { S: model },
          kind: { S: "day-model" },
        });
      }
    }
  }
  return items;
}

interface LoadResult {
  /** Month-total items acknowledged: one per tenant. */
  tenants: number;
  items: number;
  budgets: number;
  dayModelItems: number;
  seconds: number;
  itemsPerSecond: number;
  requests: number;
  unprocessedRetries: number;
  dynamoDbLocalCores: number | null;
  nodeCores: number;
  dynamoDbLocalRssMib: number | null;
}

/**
 * Loads the table with BatchWriteItem (25 items a request, `LOAD_CONCURRENCY` in flight), retrying
 * UnprocessedItems until every item is written; counts the items DynamoDB acknowledged, by kind.
 */
async function load(context: BenchContext, client: DynamoDBClient, population: number): Promise<LoadResult> {
  const all = models();
  const rng = new Prng("lookup-load");
  let rank = 0;
  let buffered: Record<string, AttributeValue>[] = [];
  const next = (): WriteRequest[] | undefined => {
    while (buffered.length < 25 && rank < population) buffered.push(...itemsOf(rank++, population, all, rng));
    if (buffered.length === 0) return undefined;
    const batch = buffered.slice(0, 25);
    buffered = buffered.slice(25);
    return batch.map((Item) => ({ PutRequest: { Item } }));
  };
  const keyOf = (entry: WriteRequest) => `${entry.PutRequest?.Item?.pk?.S}\u0000${entry.PutRequest?.Item?.sk?.S}`;
  const counts = { items: 0, tenants: 0, budgets: 0, dayModelItems: 0, requests: 0, unprocessedRetries: 0 };
  const before = { java: dynamoDbLocalUsage(), node: process.cpuUsage() };
  const started = performance.now();
  let lastLog = started;
  const worker = async () => {
    for (let batch = next(); batch; batch = next()) {
      let pending: WriteRequest[] = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        counts.requests++;
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: pending } }));
        const unprocessed = result.UnprocessedItems?.[TABLE] ?? [];
        const left = new Set(unprocessed.map(keyOf));
        for (const entry of pending) {
          if (left.has(keyOf(entry))) continue;
          counts.items++;
          const sk = entry.PutRequest?.Item?.sk?.S ?? "";
          if (sk.startsWith("M#")) counts.tenants++;
          else if (sk === BUDGET_SK) counts.budgets++;
          else counts.dayModelItems++;
        }
        pending = unprocessed;
        if (pending.length > 0) {
          counts.unprocessedRetries++;
          await sleep(Math.min(1000, 20 * 2 ** attempt));
        }
      }
      const now = performance.now();
      if (now - lastLog > 30_000) {
        lastLog = now;
        context.log(
          `lookup: ${grouped(counts.tenants)} tenants, ${grouped(counts.items)} items written (${Math.round(counts.items / ((now - started) / 1000))}/s)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const after = dynamoDbLocalUsage();
  const node = process.cpuUsage(before.node);
  return {
    ...counts,
    seconds,
    itemsPerSecond: Math.round(counts.items / seconds),
    dynamoDbLocalCores: after && before.java ? round2((after.cpuSeconds - before.java.cpuSeconds) / seconds) : null,
    nodeCores: round2((node.user + node.system) / 1e6 / seconds),
    dynamoDbLocalRssMib: after?.rssMib ?? null,
  };
}

/** Tenants in the table by a Scan counting month-total items (minutes for 1M items on DynamoDB Local: quick runs only). */
async function scanTenants(client: DynamoDBClient): Promise<number> {
  let tenants = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: TABLE,
        Select: "COUNT",
        FilterExpression: "begins_with(sk, :month)",
        ExpressionAttributeValues: { ":month": { S: monthSk(MONTH) } },
        ExclusiveStartKey: start,
      }),
    );
    tenants += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return tenants;
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; bytes: number; rows: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: "127.0.0.1", port, path, method: "GET" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        const rows = response.statusCode === 200 ? ((JSON.parse(body.toString("utf8")) as { breakdown?: unknown[] }).breakdown?.length ?? 0) : 0;
        resolve({ status: response.statusCode ?? 0, bytes: body.length, rows });
      });
      response.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

interface Scenario {
  key: string;
  name: string;
  query: "month" | "model";
  tenants: "uniform" | "zipf";
  concurrency: number;
  requests: number;
}

interface ScenarioResult {
  scenario: Scenario;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
  statuses: Record<string, number>;
  meanBytes: number;
  meanRows: number;
  /** Requests slower than SLOW_MS: seconds into the scenario and ms. */
  slow: [number, number][];
}

async function runScenario(port: number, population: number, scenario: Scenario, seed: string): Promise<ScenarioResult> {
  const rng = new Prng(seed);
  const zipf = scenario.tenants === "zipf" ? new ZipfSampler(population, 1.1) : undefined;
  const paths: string[] = [];
  for (let index = 0; index < scenario.requests; index++) {
    const tenantId = tenantAt(zipf ? zipf.sample(rng) : rng.int(population), population).tenantId;
    paths.push(`/v1/tenants/${encodeURIComponent(tenantId)}/spend?month=${MONTH}${scenario.query === "model" ? "&by=model" : ""}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: scenario.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const slow: [number, number][] = [];
  let bytes = 0;
  let rows = 0;
  let cursor = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: scenario.concurrency }, async () => {
      while (cursor < paths.length) {
        const path = paths[cursor++] as string;
        const sent = performance.now();
        const response = await get(agent, port, path);
        const ms = performance.now() - sent;
        latencies.push(ms);
        if (ms > SLOW_MS) slow.push([round1((sent - started) / 1000), Math.round(ms)]);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        bytes += response.bytes;
        rows += response.rows;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    maxMs: round2(latencies.at(-1) ?? Number.NaN),
    requestsPerSecond: Math.round(paths.length / seconds),
    statuses,
    meanBytes: Math.round(bytes / paths.length),
    meanRows: round1(rows / paths.length),
    slow,
  };
}

/** The floor under the API: one GetItem of a random tenant's month total, from this process, sequentially. */
async function getItemFloor(client: DynamoDBClient, population: number, requests: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const rng = new Prng("lookup-floor");
  const latencies: number[] = [];
  for (let index = 0; index < requests; index++) {
    const key = { pk: { S: tenantPk(tenantAt(rng.int(population), population).tenantId) }, sk: { S: monthSk(MONTH) } };
    const sent = performance.now();
    await client.send(new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
    latencies.push(performance.now() - sent);
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: round2(percentile(latencies, 50)), p99Ms: round2(percentile(latencies, 99)) };
}

const lookup: Benchmark = {
  key: "lookup",
  title: "Spend API lookup latency, 1,000,000 tenants",
  async run(context) {
    const population = context.quick ? 2_000 : 1_000_000;
    const monthRequests = context.quick ? 200 : 3_000;
    const modelRequests = context.quick ? 100 : 600;
    const started = performance.now();
    const dynamo = await startDynamoDbLocal({ heap: JAVA_HEAP });
    const startSeconds = (performance.now() - started) / 1000;
    const client = localDynamoDbClient(dynamo.endpoint);
    let server: DashboardServer | undefined;
    try {
      await createAggregatesTable(client, TABLE);
      // The stream is off during the bulk load (a table filled by an S3 import gets no stream records either), on again after.
      await client.send(new UpdateTableCommand({ TableName: TABLE, StreamSpecification: { StreamEnabled: false } }));
      context.log(`lookup: DynamoDB Local up in ${startSeconds.toFixed(1)} s; loading ${grouped(population)} tenants`);
      const loaded = await load(context, client, population);
      context.log(`lookup: wrote ${grouped(loaded.items)} items in ${loaded.seconds.toFixed(1)} s (${loaded.itemsPerSecond}/s)`);
      await client.send(new UpdateTableCommand({ TableName: TABLE, StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } }));
      // DynamoDB Local counts the items live (AWS refreshes ItemCount about every 6 hours).
      const itemCount = (await client.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.ItemCount ?? -1;
      if (itemCount !== loaded.items) throw new Error(`DescribeTable counts ${itemCount} items, the load acknowledged ${loaded.items}`);
      const scanned = context.quick ? await scanTenants(client) : undefined;
      if (scanned !== undefined && scanned !== loaded.tenants) throw new Error(`a Scan counts ${scanned} tenants, the load acknowledged ${loaded.tenants}`);
      context.log(`lookup: DescribeTable ItemCount ${grouped(itemCount)}${scanned === undefined ? "" : `, Scan ${grouped(scanned)} tenants`}`);

      const store = new AggregatesStore(client, TABLE);
      server = createDashboardServer({
        data: createMemoryDashboardData(),
        spendApi: (apiRequest) => handleSpendApi(apiRequest, { store, defaultBudget: null, allowUnauthenticated: true }),
      });
      const { port } = await server.listen(0, "127.0.0.1");
      // Warm-up (JIT of DynamoDB Local and of this process, connections): not measured.
      const warmUpStarted = performance.now();
      for (const query of ["month", "model"] as const) {
        const requests = context.quick ? 100 : query === "month" ? 2_000 : 500;
        await runScenario(port, population, { key: "warmUp", name: "warm-up", query, tenants: "zipf", concurrency: 4, requests }, `warm-up-${query}`);
      }
      const warmUpSeconds = (performance.now() - warmUpStarted) / 1000;
      const floor = await getItemFloor(client, population, context.quick ? 200 : 2_000);
      const scenarios: Scenario[] = [
        { key: "monthUniform", name: "month total, uniform tenants, sequential", query: "month", tenants: "uniform", concurrency: 1, requests: monthRequests },
        { key: "monthZipf", name: "month total, Zipf tenants, sequential", query: "month", tenants: "zipf", concurrency: 1, requests: monthRequests },
        {
          key: "monthUniformC8",
          name: "month total, uniform tenants, concurrency 8",
          query: "month",
          tenants: "uniform",
          concurrency: 8,
          requests: monthRequests,
        },
        { key: "monthZipfC8", name: "month total, Zipf tenants, concurrency 8", query: "month", tenants: "zipf", concurrency: 8, requests: monthRequests },
        { key: "byModelZipf", name: "by=model, Zipf tenants, sequential", query: "model", tenants: "zipf", concurrency: 1, requests: modelRequests },
        { key: "byModelZipfC8", name: "by=model, Zipf tenants, concurrency 8", query: "model", tenants: "zipf", concurrency: 8, requests: modelRequests },
      ];
      const results: ScenarioResult[] = [];
      const load0 = loadavg()[0] ?? 0;
      for (const [index, scenario] of scenarios.entries()) {
        const result = await runScenario(port, population, scenario, `lookup-${index}`);
        results.push(result);
        context.log(`lookup: ${scenario.name}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, ${result.requestsPerSecond}/s`);
      }
      const headline = results[0] as ScenarioResult;
      const uniformFound = headline.statuses["200"] ?? 0;
      if (uniformFound !== headline.scenario.requests) throw new Error(`${headline.scenario.requests - uniformFound} random tenants were not found`);
      const figures: Figures = {
        p50Ms: headline.p50Ms,
        p99Ms: headline.p99Ms,
        maxMs: headline.maxMs,
        requestsPerSecond: headline.requestsPerSecond,
        tenants: loaded.tenants,
        items: itemCount,
        loadSeconds: Math.round(loaded.seconds),
        loadItemsPerSecond: loaded.itemsPerSecond,
        getItemP50Ms: floor.p50Ms,
        getItemP99Ms: floor.p99Ms,
      };
      for (const result of results.slice(1))
        figures[result.scenario.key] = { p50Ms: result.p50Ms, p99Ms: result.p99Ms, maxMs: result.maxMs, requestsPerSecond: result.requestsPerSecond };
      const context2 = { population, startSeconds, warmUpSeconds, floor, loadAverage: round1(Math.max(load0, loadavg()[0] ?? 0)) };
      return {
        figures,
        markdown: markdownOf(loaded, itemCount, results, context2),
        details: { ...context2, loaded, itemCount, scannedTenants: scanned ?? null, javaHeap: JAVA_HEAP, results },
      };
    } finally {
      await server?.close().catch(() => undefined);
      client.destroy();
      await dynamo.stop();
    }
  },
};

function markdownOf(
  loaded: LoadResult,
  itemCount: number,
  results: ScenarioResult[],
  run: { population: number; startSeconds: number; warmUpSeconds: number; floor: { p50Ms: number; p99Ms: number }; loadAverage: number },
): string {
  const [monthUniform, monthZipf, monthUniformC8, monthZipfC8, byModel] = results as [
    ScenarioResult,
    ScenarioResult,
    ScenarioResult,
    ScenarioResult,
    ScenarioResult,
  ];
  const slow = results.flatMap((result) => result.slow.map(([, ms]) => ms)).sort((a, b) => b - a);
  const spikes = slow.filter((ms) => ms >= 500).length;
  return [
    `**Workload.** ${grouped(run.population)} tenants (ids of the reference generator's population) in the aggregates table of DynamoDB Local: one month-total item each for ${MONTH} (the usage writer's attributes: 7 counters, updatedAt, tenantId, period, kind), a budget for one tenant in ${BUDGET_EVERY} (${grouped(loaded.budgets)}), and day x model items for the ${grouped(dayModelTenants(run.population))} largest (${DAYS} days x 1-19 models: ${grouped(loaded.dayModelItems)} items), ${grouped(itemCount)} items in all (DescribeTable ItemCount, equal to the writes DynamoDB acknowledged; every uniformly drawn tenant below was found). Requests draw tenants uniformly or by Zipf(1.1) over the 1M ranks.`,
    "",
    `**How measured.** DynamoDB Local in memory (\`-inMemory\`, Java heap ${JAVA_HEAP} for this benchmark, resident ${loaded.dynamoDbLocalRssMib ?? "-"} MiB after the load), started in ${round1(run.startSeconds)} s, the table made by \`createAggregatesTable\`. Loaded with BatchWriteItem, 25 items a request, ${LOAD_CONCURRENCY} in flight, UnprocessedItems retried (${loaded.unprocessedRetries} retries), with the table's stream off during the load and on again after. The spend API served by the dashboard server of local mode on 127.0.0.1 (\`handleSpendApi\` over \`AggregatesStore\`), called over HTTP with keep-alive from this process; ${round1(run.warmUpSeconds)} s of warm-up requests first, not measured. A month total is \`GET /v1/tenants/{tenantId}/spend?month=${MONTH}\` (GetItem of the budget and of the month total, in parallel); \`by=model\` adds \`&by=model\` (a Query of the month's day x model items, plus the budget). Latency is from sending the request to the end of the response.`,
    "",
    "| requests | count | p50 ms | p99 ms | max ms | requests/s | rows / response |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (result) =>
        `| ${result.scenario.name} | ${grouped(result.scenario.requests)} | ${result.p50Ms} | ${result.p99Ms} | ${result.maxMs} | ${result.requestsPerSecond} | ${result.scenario.query === "model" ? result.meanRows : "-"} |`,
    ),
    `| GetItem of a month total from this process (SDK, no API), sequential | - | ${run.floor.p50Ms} | ${run.floor.p99Ms} | - | - | - |`,
    "",
    `Load: ${grouped(loaded.items)} items in ${round1(loaded.seconds)} s (${grouped(loaded.itemsPerSecond)} items/s; DynamoDB Local used ${loaded.dynamoDbLocalCores ?? "-"} cores, this process ${loaded.nodeCores}).`,
    "",
    "**What limits these figures.**",
    "",
    `- A month total is two GetItems on DynamoDB Local: one alone takes ${run.floor.p50Ms} ms at the median from this process (p99 ${run.floor.p99Ms} ms), and the API adds HTTP, routing, validation and JSON around two of them in parallel (${monthUniform.p50Ms} ms at the median, p99 ${monthUniform.p99Ms} ms). A GetItem is a B-tree lookup in DynamoDB Local's SQLite: uniformly drawn tenants (nearly all read once, cold) answer like Zipf-drawn ones (the same few hot tenants): p99 ${monthUniform.p99Ms} and ${monthZipf.p99Ms} ms.`,
    `- With 8 requests in flight the latency is queueing: DynamoDB Local serves every read on one SQLite thread, and this machine's 2 cores are shared by it, the API server and the clients, so 8 in flight give ${Math.min(monthUniformC8.requestsPerSecond, monthZipfC8.requestsPerSecond)}-${Math.max(monthUniformC8.requestsPerSecond, monthZipfC8.requestsPerSecond)} requests/s against ${monthUniform.requestsPerSecond} one at a time, and each request waits for the ones ahead.`,
    `- by=model queries the tenant's day x model items of the month and sums them by model: ${byModel.meanRows} models per response on average for Zipf-drawn tenants, from ${DAYS} days of items each (${DAYS * 19} items for the largest tenant). Its time grows with the items DynamoDB Local returns and the SDK parses.`,
    `- ${spikes > 0 ? `${spikes} requests took 0.5 s or more (the slowest ${grouped(slow[0] ?? 0)} ms), a few in each of ${results.filter((result) => result.slow.some(([, ms]) => ms >= 500)).length} scenarios: stalls of the machine or of DynamoDB Local (load average ${run.loadAverage}, other work included; not pinned down further). They set the max, not the p99.` : `No request took 0.5 s or more (load average ${run.loadAverage}).`}`,
    `- The load time is DynamoDB Local's: it applies every write on one SQLite thread (the JVM used ${loaded.dynamoDbLocalCores ?? "-"} cores in all, HTTP and JSON included; this process ${loaded.nodeCores}), so ${grouped(loaded.itemsPerSecond)} items/s; trials with 2, 4, 8 and 16 requests in flight, and file-backed instead of in-memory tables, were no faster (on disk much slower). Writing every item through the API is most of this benchmark's run time.`,
  ].join("\n");
}

export default lookup;
