/**
 * `bedrock-spend backfill s3://...` as users run it, against an S3-compatible server on loopback
 * holding Bedrock's S3 layout (settled and open months, malformed lines, the permission line, an
 * offloaded body under data/, an object whose first line was cut off): part of the history ingested live first, a run stopped after a few
 * hours, a second run that continues, a third that reads nothing; spend and the lake agree with
 * the ground truth over distinct request ids.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { decodeText, defaultCatalog, formatUsd, Pricer, priceItems, recordCostPico, type UsageRecord, utcMonthOf } from "@bedrock-spend/core";
import { localDynamoDbClient, type S3Loopback, startS3Loopback } from "@bedrock-spend/emulators";
import { LOCAL_TABLE_NAME } from "@bedrock-spend/local-mode";
import { generateTraffic, itemLine, s3LogObjects, type TrafficItem } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceIdOf } from "../src/commands/backfill";
import { runCli, startCli } from "./helpers/run-cli";

const NOW = "2026-12-02T09:00:00Z";
const cli = (args: string[], env: Record<string, string>) => runCli(args, NOW, env);

describe("bedrock-spend backfill against an S3-compatible server", () => {
  let s3: S3Loopback;
  let root: string;
  let env: Record<string, string>;
  const items: TrafficItem[] = [
    ...generateTraffic({
      seed: 21,
      count: 600,
      tenants: 25,
      start: "2026-09-30T18:00:00Z",
      ratePerSecond: 600 / (12 * 3600),
      bodyBytes: 200,
      malformedFraction: 0.01,
    }),
    ...generateTraffic({
      seed: 22,
      count: 120,
      tenants: 25,
      start: "2026-11-30T10:00:00Z",
      ratePerSecond: 120 / (3 * 3600),
      bodyBytes: 200,
      permissionsLine: false,
    }),
  ];
  // An object whose first line was cut off: the lines after it are records all the same.
  const afterCut = [
    ...generateTraffic({ seed: 23, count: 2, tenants: 25, start: "2026-09-30T20:10:00Z", bodyBytes: 200, malformedFraction: 0, permissionsLine: false }),
  ];
  const cutObject = `{"schemaType":"ModelInvocationLog","requestId":"cut-off\n${afterCut.map(itemLine).join("\n")}\n`;
  const pricer = new Pricer({ catalog: defaultCatalog() });
  const usage: UsageRecord[] = priceItems(
    [...items, ...afterCut].flatMap((item) => decodeText(itemLine(item))),
    pricer,
  ).usage.map((outcome) => outcome.usage.record);
  const distinct = new Map(usage.map((record) => [record.request_id, record]));

  beforeAll(async () => {
    s3 = await startS3Loopback({ buckets: ["bedrock-logs"] });
    for (const object of s3LogObjects(items, { prefix: "logs/", linesPerObject: 50 })) s3.put("bedrock-logs", object.key, object.body);
    s3.put("bedrock-logs", "logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/09/30/19/data/offloaded.json", '{"not":"a record"}');
    s3.put("bedrock-logs", "logs/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/09/30/20/20260930T201000000Z_cut.json.gz", gzipSync(cutObject));
    root = await mkdtemp(join(tmpdir(), "backfill-cli-"));
    env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_REGION: "us-east-1" };
  });
  afterAll(async () => {
    await s3?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("counts history once around what live traffic counted, stops after --max-hours, continues, and then reads nothing", async () => {
    const dataDir = join(root, "data");
    // Live traffic counted a sample of both months before the backfill.
    const live = items.filter((item, index) => item.kind === "record" && index % 6 === 0);
    const liveFile = join(root, "live.jsonl");
    await writeFile(liveFile, `${live.map(itemLine).join("\n")}\n`);
    const ingested = await cli(["ingest", liveFile, "--data-dir", dataDir, "--json"], env);
    expect(ingested.code, ingested.stderr).toBe(0);
    const liveCounted = JSON.parse(ingested.stdout).counted as number;
    expect(liveCounted).toBe(live.length);

    const source = "s3://bedrock-logs/logs/";
    const first = await cli(["backfill", source, "--data-dir", dataDir, "--max-hours", "4", "--json"], env);
    expect(first.code, first.stderr).toBe(1);
    const one = JSON.parse(first.stdout);
    expect(one).toMatchObject({ interrupted: true, hoursRead: 4, hoursResumed: 0 });
    expect(one.read).toBe(one.counted + one.alreadyCounted + one.quarantined + one.dropped + one.notCounted);

    const second = await cli(["backfill", source, "--data-dir", dataDir, "--json"], env);
    expect(second.code, second.stderr).toBe(0);
    const two = JSON.parse(second.stdout);
    expect(two).toMatchObject({ interrupted: false, hoursResumed: 4, notCounted: 0 });
    expect(two.hoursRead + two.hoursResumed).toBe(two.hours);
    expect(two.read).toBe(two.counted + two.alreadyCounted + two.quarantined + two.dropped);
    // Every record read once over the two runs; what live traffic counted is "already counted".
    expect(one.read + two.read).toBe(items.length + 1 + afterCut.length);
    expect(one.counted + two.counted).toBe(distinct.size - liveCounted);
    expect(one.quarantined + two.quarantined).toBe(items.filter((item) => item.kind === "malformed").length + 1);
    expect(one.dropped + two.dropped).toBe(1);
    expect(two.countedSettled + one.countedSettled).toBeGreaterThan(0);
    expect(two.countedLive + one.countedLive).toBeGreaterThan(0);

    // The aggregates and the lake hold each invocation once, at its price.
    const byTenantMonth = new Map<string, bigint>();
    for (const record of distinct.values()) {
      const key = `${record.tenant_id}|${utcMonthOf(Date.parse(record.event_time))}`;
      byTenantMonth.set(key, (byTenantMonth.get(key) ?? 0n) + (recordCostPico(record) ?? 0n));
    }
    const [tenantMonth, costPico] = [...byTenantMonth].sort((a, b) => (a[1] > b[1] ? -1 : 1))[0] as [string, bigint];
    const [tenant, month] = tenantMonth.split("|") as [string, string];
    const spend = await cli(["spend", "--tenant", tenant, "--month", month, "--data-dir", dataDir, "--json"], env);
    expect(spend.code, spend.stderr).toBe(0);
    expect(JSON.parse(spend.stdout).costUsd).toBe(formatUsd(costPico));
    const lake = await cli(["query", "SELECT count(*) AS n, count(DISTINCT request_id) AS ids FROM invocations", "--data-dir", dataDir, "--json"], env);
    expect(lake.code, lake.stderr).toBe(0);
    const [row] = JSON.parse(lake.stdout).rows as { n: number | string; ids: number | string }[];
    expect(Number(row?.n)).toBe(distinct.size);
    expect(Number(row?.ids)).toBe(distinct.size);

    const third = await cli(["backfill", source, "--data-dir", dataDir, "--json"], env);
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ hoursRead: 0, read: 0, counted: 0, itemsUpdated: 0 });
  }, 240_000);

  it("stops after the current hour on Ctrl-C, with that hour checkpointed, and the next run finishes the rest", async () => {
    // 3,000 records over 300 hours of a settled month, in a local copy of the layout.
    const tree = join(root, "ctrl-c-logs");
    const history = [
      ...generateTraffic({
        seed: 41,
        count: 3000,
        tenants: 30,
        start: "2026-08-01T00:00:00Z",
        ratePerSecond: 3000 / (300 * 3600),
        bodyBytes: 100,
        malformedFraction: 0,
      }),
    ];
    for (const object of s3LogObjects(history, { linesPerObject: 20 })) {
      await mkdir(dirname(join(tree, object.key)), { recursive: true });
      await writeFile(join(tree, object.key), object.body);
    }
    const dataDir = join(root, "ctrl-c");
    const started = startCli(["backfill", tree, "--data-dir", dataDir, "--json"], NOW, env);
    // Ctrl-C once the run has checkpointed a few hours (read from its own DynamoDB Local, which the lock names).
    const pk = `P#BACKFILL#${sourceIdOf(resolve(tree))}`;
    let staged = 0;
    for (let attempt = 0; attempt < 1200 && staged < 3; attempt++) {
      await sleep(50);
      const lock = await readFile(join(dataDir, ".lock"), "utf8").catch(() => "");
      const endpoint = lock ? (JSON.parse(lock) as { endpoints?: { dynamodb?: string } }).endpoints?.dynamodb : undefined;
      if (!endpoint) continue;
      const client = localDynamoDbClient(endpoint);
      try {
        const page = await client.send(
          new QueryCommand({
            TableName: LOCAL_TABLE_NAME,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :h)",
            ExpressionAttributeValues: { ":pk": { S: pk }, ":h": { S: "H#" } },
          }),
        );
        staged = page.Count ?? 0;
      } catch {
        // The table is not there yet.
      } finally {
        client.destroy();
      }
    }
    expect(staged).toBeGreaterThanOrEqual(3);
    started.child.kill("SIGINT");
    const stopped = await started.done;
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain("stopping after the current hour");
    const one = JSON.parse(stopped.stdout);
    expect(one.interrupted).toBe(true);
    expect(one.hoursRead).toBeGreaterThanOrEqual(3);
    expect(one.hoursRead).toBeLessThan(one.hours);

    const rest = await cli(["backfill", tree, "--data-dir", dataDir, "--json"], env);
    expect(rest.code, rest.stderr).toBe(0);
    const two = JSON.parse(rest.stdout);
    expect(two.hoursResumed).toBe(one.hoursRead);
    expect(one.counted + two.counted).toBe(history.filter((item) => item.kind === "record").length);
    expect(one.read + two.read).toBe(history.length);
  }, 240_000);

  it("says what is wrong with a source or an option, before anything starts", async () => {
    const dataDir = join(root, "errors");
    const missing = await cli(["backfill", "s3://no-such-bucket/logs/", "--data-dir", dataDir], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-bucket/);
    const day = await cli(["backfill", "s3://bedrock-logs/logs/", "--from", "2026-02-30", "--data-dir", dataDir], env);
    expect(day.code).toBe(2);
    expect(day.stderr).toContain('--from must be a UTC day, YYYY-MM-DD, got "2026-02-30"');
    const scheme = await cli(["backfill", "gs://bucket/logs", "--data-dir", dataDir], env);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain("backfill reads s3://BUCKET/PREFIX or a local directory");
  }, 120_000);
});
