/**
 * `pnpm bench`: measured figures, written to bench-results/. Tests assert correctness; this
 * measures speed and memory, on named workloads, so that claims in the README are numbers from a run.
 *
 *   pnpm bench                      every benchmark at its default size
 *   pnpm bench --only price         one benchmark
 *   pnpm bench --sizes 100,1024     input sizes in MiB for the price benchmark
 *
 * price: `bedrock-spend price` over JSON Lines of the reference workload (DESIGN.md: 10,000 tenants,
 * Zipf 1.1, 20 models, 15% cache, ~2 KB bodies), stdout to /dev/null, as a child process. Peak RSS
 * is the child's VmHWM; running two sizes shows whether memory stays flat as the input grows.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { aggregateKeysOf, dedupKey, defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap } from "@bedrock-spend/core";
import { localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/local";
import { createAggregatesTable, type InvocationToCount, UsageWriter } from "@bedrock-spend/store";
import { APPLICATION_PROFILES, generateTraffic, itemLine } from "@bedrock-spend/traffic";

const { values } = parseArgs({
  options: { only: { type: "string" }, sizes: { type: "string", default: "100,1024" }, out: { type: "string", default: "bench-results" } },
});

const root = new URL("..", import.meta.url).pathname;
const outDir = join(root, values.out);
mkdirSync(outDir, { recursive: true });

/** Writes (once, cached in the temp dir) a reference-workload JSON Lines file of about `mib` MiB. */
async function referenceInput(mib: number): Promise<{ path: string; bytes: number; lines: number }> {
  const dir = join(tmpdir(), "bedrock-spend-bench");
  mkdirSync(dir, { recursive: true });
  // The cache is keyed by the generator's source, so that a changed generator never reuses stale input.
  const sources = join(root, "packages/traffic/src");
  const hash = createHash("sha256");
  for (const file of readdirSync(sources).sort()) hash.update(readFileSync(join(sources, file)));
  const path = join(dir, `reference-${mib}mib-seed1-${hash.digest("hex").slice(0, 12)}.jsonl`);
  const meta = `${path}.meta.json`;
  if (existsSync(path) && existsSync(meta)) return JSON.parse(readFileSync(meta, "utf8"));
  const target = mib * 1024 * 1024;
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  let bytes = 0;
  let lines = 0;
  for (const item of generateTraffic({ seed: 1, count: Number.POSITIVE_INFINITY, ratePerSecond: 2000 })) {
    const line = `${itemLine(item)}\n`;
    bytes += Buffer.byteLength(line);
    lines++;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    if (bytes >= target) break;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  renameSync(partial, path);
  const info = { path, bytes, lines };
  writeFileSync(meta, JSON.stringify(info));
  return info;
}

function peakRssKib(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the CLI as a child, stdout to /dev/null; returns wall time, the stderr summary and peak RSS. */
async function runPrice(input: string): Promise<{ seconds: number; summary: Record<string, unknown>; peakRssMib: number }> {
  const profiles = join(tmpdir(), "bedrock-spend-bench", "profiles.json");
  writeFileSync(profiles, JSON.stringify(APPLICATION_PROFILES));
  const started = process.hrtime.bigint();
  const args = ["--import", "tsx", join(root, "packages/cli/src/main.ts"), "price", input, "--profiles", profiles, "--json", "--max-warnings", "0"];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ["ignore", openSync("/dev/null", "w"), "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, peakRssKib(child.pid ?? -1) ?? 0);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`price exited ${code}: ${stderr}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = JSON.parse(stderr.trim().split("\n").at(-1) ?? "{}");
  return { seconds, summary, peakRssMib: Math.round(peak / 1024) };
}

async function benchPrice(): Promise<Record<string, unknown>[]> {
  const results: Record<string, unknown>[] = [];
  for (const mib of values.sizes.split(",").map(Number)) {
    const input = await referenceInput(mib);
    process.stderr.write(`price: ${input.path} (${(input.bytes / 1048576).toFixed(0)} MiB, ${input.lines} lines)\n`);
    const run = await runPrice(input.path);
    const read = Number(run.summary.read);
    const result = {
      benchmark: "price",
      workload: `reference workload JSON Lines, ${mib} MiB (seed 1: 10,000 tenants, Zipf 1.1, ~2 KB bodies, 15% cache)`,
      inputBytes: statSync(input.path).size,
      records: read,
      priced: run.summary.priced,
      unpriced: run.summary.unpriced,
      invalid: run.summary.invalid,
      skipped: run.summary.skipped,
      seconds: Number(run.seconds.toFixed(2)),
      recordsPerSecond: Math.round(read / run.seconds),
      mibPerSecond: Number((input.bytes / 1048576 / run.seconds).toFixed(1)),
      peakRssMib: run.peakRssMib,
    };
    process.stderr.write(`  ${JSON.stringify(result)}\n`);
    results.push(result);
  }
  return results;
}

/**
 * aggregate-wcu: DynamoDB write units per invocation of the exactly-once writer at several batch
 * sizes, next to a naive design (one transaction per invocation: its dedup put and its aggregate
 * updates). The transactions really run on DynamoDB Local; units are counted by DynamoDB's rule
 * (2 per item per started KB) because DynamoDB Local reports 2 units per transaction whatever its size.
 */
async function benchAggregateWcu(): Promise<Record<string, unknown>[]> {
  const total = 10_000;
  const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
  const invocationsOf = (tenants: number): InvocationToCount[] => {
    const invocations: InvocationToCount[] = [];
    for (const item of generateTraffic({ seed: 7, count: total * 2, tenants, ratePerSecond: 200, malformedFraction: 0 })) {
      if (item.kind !== "record") continue;
      const parsed = parseInvocationLog(item.record);
      if (!parsed.ok) continue;
      const priced = pricer.price(parsed.log);
      invocations.push({ record: priced.record, costPico: priced.costPico, origin: priced.record.request_id });
      if (invocations.length === total) break;
    }
    return invocations;
  };
  // A fresh DynamoDB Local per configuration: its in-memory database slows down as it fills.
  let local = await startDynamoDbLocal();
  let client = localDynamoDbClient(local.endpoint);
  const results: Record<string, unknown>[] = [];
  try {
    for (const tenants of [10_000, 100]) {
      const invocations = invocationsOf(tenants);
      for (const batchSize of [100, 500, 2_000]) {
        client.destroy();
        await local.stop();
        local = await startDynamoDbLocal();
        client = localDynamoDbClient(local.endpoint);
        const tableName = `wcu-${randomUUID()}`;
        await createAggregatesTable(client, tableName);
        const writer = new UsageWriter({ client, tableName });
        let writeUnits = 0;
        let transactions = 0;
        let distinctTenants = 0;
        const started = process.hrtime.bigint();
        for (let offset = 0; offset < invocations.length; offset += batchSize) {
          const batch = invocations.slice(offset, offset + batchSize);
          distinctTenants += new Set(batch.map((invocation) => invocation.record.tenant_id)).size;
          const outcome = await writer.write(batch);
          if (outcome.failed.length > 0) throw outcome.failed[0]?.error;
          writeUnits += outcome.writeUnits;
          transactions += outcome.transactions;
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const batches = Math.ceil(invocations.length / batchSize);
        const result = {
          benchmark: "aggregate-wcu",
          design: "grouped transactions (this writer)",
          workload: `${invocations.length} invocations, ${tenants.toLocaleString("en-US")} tenants (Zipf 1.1, reference workload otherwise), batches of ${batchSize}`,
          tenants,
          batchSize,
          writeUnitsPerInvocation: Number((writeUnits / invocations.length).toFixed(3)),
          transactionsPerBatch: Number((transactions / batches).toFixed(1)),
          tenantsPerBatch: Number((distinctTenants / batches).toFixed(1)),
          invocationsPerSecondOnDynamoDbLocal: Math.round(invocations.length / seconds),
        };
        process.stderr.write(`  ${JSON.stringify(result)}\n`);
        results.push(result);
      }
    }
    // Naive: one transaction per invocation (a per-invocation cost, independent of batch size).
    const tableName = `wcu-naive-${randomUUID()}`;
    await createAggregatesTable(client, tableName);
    const sample = invocationsOf(10_000).slice(0, 2_000);
    let writeUnits = 0;
    for (const invocation of sample) {
      const { pk, sk } = dedupKey(invocation.record.request_id);
      const keys = aggregateKeysOf(invocation.record);
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: {
                  pk: { S: pk },
                  sk: { S: sk },
                  tenantId: { S: invocation.record.tenant_id },
                  eventTime: { S: invocation.record.event_time },
                  countedAt: { N: "1" },
                  expiresAt: { N: "1" },
                },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            ...keys.map((key) => ({
              Update: {
                TableName: tableName,
                Key: { pk: { S: key.pk }, sk: { S: key.sk } },
                UpdateExpression: "ADD invocations :one, inputTokens :in, outputTokens :out, costPico :cost",
                ExpressionAttributeValues: {
                  ":one": { N: "1" },
                  ":in": { N: String(invocation.record.input_tokens) },
                  ":out": { N: String(invocation.record.output_tokens) },
                  ":cost": { N: String(invocation.costPico ?? 0n) },
                },
              },
            })),
          ],
        }),
      );
      // Every item is under 1 KB: 2 units per item of the transaction.
      writeUnits += 2 * (1 + keys.length);
    }
    const naive = {
      benchmark: "aggregate-wcu",
      design: "naive: one transaction per invocation",
      workload: `${sample.length} invocations of the 10,000-tenant workload`,
      batchSize: 1,
      writeUnitsPerInvocation: Number((writeUnits / sample.length).toFixed(3)),
    };
    process.stderr.write(`  ${JSON.stringify(naive)}\n`);
    results.push(naive);
  } finally {
    client.destroy();
    await local.stop();
  }
  return results;
}

const benchmarks: Record<string, () => Promise<Record<string, unknown>[]>> = { price: benchPrice, "aggregate-wcu": benchAggregateWcu };
const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGib: Math.round(totalmem() / 2 ** 30) };
for (const [name, bench] of Object.entries(benchmarks)) {
  if (values.only && values.only !== name) continue;
  const results = await bench();
  const file = join(outDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ ranAt: new Date().toISOString(), machine, results }, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
}
