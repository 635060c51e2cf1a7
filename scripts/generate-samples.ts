/**
 * Writes the shipped sample logs under samples/: the same small multi-tenant workload in every
 * input format bedrock-spend reads, plus the application-profile map and a price overlay.
 * Deterministic: running it again rewrites the same files.
 *
 *   pnpm exec tsx scripts/generate-samples.ts     (or: pnpm samples)
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  APPLICATION_PROFILES,
  controlMessagePayload,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_REGION,
  encodeKinesisData,
  generateTraffic,
  gzipStable,
  type TrafficItem,
  type TrafficOptions,
  toFilterLogEventsOutput,
  toJsonLines,
  toSubscriptionPayloads,
} from "../packages/traffic/src/index";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const samples = join(root, "samples");
const logs = join(samples, "logs");

/** The sample workload: 40 tenants, smaller bodies than the reference 2 KB so the samples stay small. */
const WORKLOAD: TrafficOptions = {
  tenants: 40,
  bodyBytes: 900,
  // Higher than the reference fractions so that each file shows a few unpriced and invalid lines.
  malformedFraction: 0.004,
  unpricedFraction: 0.005,
};
const LINES_PER_S3_FILE = 380;

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Bedrock's S3 delivery: gzipped JSON Lines under AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/. */
function writeS3(items: TrafficItem[]): void {
  const byHour = new Map<string, TrafficItem[]>();
  for (const item of items) {
    const hour = new Date(item.timestampMs).toISOString().slice(0, 13).replace(/[-T]/g, "/");
    const list = byHour.get(hour) ?? [];
    list.push(item);
    byHour.set(hour, list);
  }
  const prefix = join(logs, "s3", "AWSLogs", DEFAULT_ACCOUNT_ID, "BedrockModelInvocationLogs", DEFAULT_REGION);
  for (const [hour, hourItems] of byHour) {
    for (let part = 0; part * LINES_PER_S3_FILE < hourItems.length; part++) {
      const chunk = hourItems.slice(part * LINES_PER_S3_FILE, (part + 1) * LINES_PER_S3_FILE);
      write(join(prefix, hour, `part-${String(part + 1).padStart(4, "0")}.json.gz`), gzipStable(toJsonLines(chunk)));
    }
  }
}

/** A Kinesis stream fed by a subscription filter: one base64(gzip(payload)) per record, the control message first. */
function writeKinesis(items: TrafficItem[], startMs: number): void {
  const lines = [encodeKinesisData(controlMessagePayload(startMs - 60_000))];
  for (const payload of toSubscriptionPayloads(items, { eventsPerPayload: 50 })) lines.push(encodeKinesisData(payload));
  write(join(logs, "kinesis", "records.b64"), `${lines.join("\n")}\n`);
}

function main(): void {
  rmSync(logs, { recursive: true, force: true });

  // The log group's first events: logging was just enabled, so the permissions line comes first.
  const cloudwatchStart = Date.parse("2026-11-27T09:30:00Z");
  const cloudwatch = [...generateTraffic({ ...WORKLOAD, seed: 202611271, start: cloudwatchStart, ratePerSecond: 0.2, count: 100 })];
  write(join(logs, "cloudwatch", "filter-log-events.json"), `${JSON.stringify(toFilterLogEventsOutput(cloudwatch), null, 4)}\n`);

  const s3 = [...generateTraffic({ ...WORKLOAD, seed: 202611272, start: "2026-11-27T10:00:00Z", ratePerSecond: 0.21, count: 1500, permissionsLine: false })];
  writeS3(s3);

  const kinesisStart = Date.parse("2026-11-27T12:05:00Z");
  const kinesis = [...generateTraffic({ ...WORKLOAD, seed: 202611273, start: kinesisStart, ratePerSecond: 0.5, count: 400, permissionsLine: false })];
  writeKinesis(kinesis, kinesisStart);

  write(join(samples, "profiles.json"), json(APPLICATION_PROFILES));
  write(
    join(samples, "prices-overlay.json"),
    json({
      version: "acme-negotiated-2026-11",
      currency: "USD",
      unit: "per_million_tokens",
      models: [
        {
          model: "anthropic.claude-haiku-4-5-20251001-v1:0",
          profile: "global",
          region: "*",
          effectiveFrom: "2026-11-01",
          effectiveTo: null,
          input: "0.85",
          output: "4.25",
          cacheRead: "0.085",
          cacheWrite: "1.0625",
          cacheWrite1h: "1.70",
          source: "https://example.com/acme-aws-private-pricing-addendum",
          checked: "2026-11-01",
          confidence: "secondary",
          note: "Example agreement: 15% off global on-demand from 2026-11-01; the shipped rates apply before",
        },
      ],
    }),
  );

  const all = [...cloudwatch, ...s3, ...kinesis];
  const count = (kind: TrafficItem["kind"]) => all.filter((item) => item.kind === kind).length;
  const unpriced = all.filter((item) => item.kind === "record" && !item.priced).length;
  const defects = all.flatMap((item) => (item.kind === "malformed" ? [item.defect] : [])).join(", ");
  let bytes = 0;
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        bytes += statSync(path).size;
        files.push(`${relative(root, path)} (${statSync(path).size} bytes)`);
      }
    }
  };
  walk(samples);
  process.stdout.write(
    `${files.join("\n")}\n` +
      `${all.length} items: ${count("record")} records (${unpriced} unpriced), ${count("malformed")} malformed (${defects}), ` +
      `${count("permissions-line")} permissions line, plus 1 control message; samples/ is ${bytes} bytes\n`,
  );
}

main();
