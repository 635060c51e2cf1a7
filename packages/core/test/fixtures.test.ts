/**
 * The fixture corpus: real-shaped Bedrock inputs in every container format, and more than thirty
 * kinds of malformed input, each with the outcome the pricer must produce (fixtures/manifest.json).
 */
import { createReadStream, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeStream } from "../src/decode/decode";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { StaticProfileMap } from "../src/model";
import { toPriceLine } from "../src/price-line";
import { type PriceOutcome, Pricer } from "../src/pricer";
// @ts-expect-error -- plain ESM helper script without types
import { generateHugeLine } from "./fixtures/make-fixtures.mjs";
import { chunked, collect } from "./helpers/factories";

interface ExpectedItem {
  status: "priced" | "unpriced" | "invalid" | "skipped";
  field?: string;
  skip?: string;
  [key: string]: unknown;
}
interface ManifestEntry {
  file?: string;
  generate?: string;
  name?: string;
  description: string;
  withProfiles?: boolean;
  expect: ExpectedItem[];
}

const fixtures = (path: string) => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
const manifest = JSON.parse(readFileSync(fixtures("manifest.json"), "utf8")) as ManifestEntry[];
const profiles = StaticProfileMap.fromJson(JSON.parse(readFileSync(fixtures("profiles.json"), "utf8")));
const plain = new Pricer({ catalog: defaultCatalog() });
const withProfiles = new Pricer({ catalog: defaultCatalog(), profiles });

async function outcomesOf(entry: ManifestEntry): Promise<PriceOutcome[]> {
  const pricer = entry.withProfiles ? withProfiles : plain;
  const label = entry.file ?? entry.name ?? "generated";
  const source = entry.file ? createReadStream(fixtures(entry.file), { highWaterMark: 4096 }) : chunked(generateHugeLine() as Buffer, [1 << 20]);
  return (await collect(decodeStream(source, { file: label }))).map((item) => pricer.priceItem(item));
}

function describeOutcome(outcome: PriceOutcome): Record<string, unknown> {
  if (outcome.kind === "skipped") return { status: "skipped", skip: outcome.skip };
  const line = toPriceLine(outcome);
  if (outcome.kind === "invalid") return { ...line, field: outcome.field };
  // The billing dimensions, as the validated record that was priced carries them.
  const parsed = parseInvocationLog(JSON.parse(outcome.raw));
  const dimensions = parsed.ok
    ? { latency: parsed.log.latency, serviceTier: parsed.log.serviceTier, cacheWrite1hTokens: parsed.log.cacheWrite1hTokens }
    : undefined;
  // The performance fields, as the usage record carries them.
  const performance = outcome.kind === "usage" ? { latencyMs: outcome.usage.record.latency_ms, stopReason: outcome.usage.record.stop_reason } : undefined;
  return { ...line, dimensions, performance };
}

describe("Fixture corpus", () => {
  it("covers every shape the issue lists and at least 25 kinds of malformed input", () => {
    expect(manifest.filter((entry) => (entry.file ?? entry.name ?? "").startsWith("malformed/")).length).toBeGreaterThanOrEqual(30);
    const fields = new Set(manifest.flatMap((entry) => entry.expect.filter((item) => item.status === "invalid").map((item) => item.field)));
    for (const field of ["gzip", "base64", "json", "record", "requestId", "modelId", "timestamp", "input.inputTokenCount", "requestMetadata.tenantId"]) {
      expect(fields).toContain(field);
    }
  });

  it("covers every billing dimension, said and unsaid", () => {
    const items = manifest.flatMap((entry) => entry.expect);
    const said = (key: string, value: unknown) => items.some((item) => (item.dimensions as Record<string, unknown> | undefined)?.[key] === value);
    for (const [key, value] of [
      ["latency", "optimized"],
      ["serviceTier", "flex"],
      ["serviceTier", "priority"],
      ["cacheWrite1hTokens", 12000],
      ["cacheWrite1hTokens", null],
    ] as const) {
      expect(said(key, value), `${key} ${value}`).toBe(true);
    }
  });

  it("covers the performance fields: read from Converse, a logged stream and a native body, and null when absent or out of shape", () => {
    const items = manifest.flatMap((entry) => entry.expect);
    const said = (key: string, value: unknown) => items.some((item) => (item.performance as Record<string, unknown> | undefined)?.[key] === value);
    for (const [key, value] of [
      ["latencyMs", 812],
      ["latencyMs", 2210],
      ["latencyMs", 0],
      ["latencyMs", null],
      ["stopReason", "end_turn"],
      ["stopReason", "max_tokens"],
      ["stopReason", null],
    ] as const) {
      expect(said(key, value), `${key} ${value}`).toBe(true);
    }
    // Out of shape is never a reason to refuse a record.
    const odd = manifest.find((entry) => entry.file === "valid/performance-odd-values.jsonl");
    expect(odd?.expect.map((item) => item.status)).toEqual(Array(9).fill("priced"));
  });

  it.each(manifest.map((entry) => [`${entry.file ?? entry.name}${entry.withProfiles ? " (with profiles)" : ""}`, entry] as const))("%s", async (_, entry) => {
    // Act
    const outcomes = (await outcomesOf(entry)).map(describeOutcome);

    // Assess
    expect(outcomes.map((outcome) => outcome.status)).toEqual(entry.expect.map((item) => item.status));
    entry.expect.forEach((expected, index) => {
      const actual = outcomes[index] as Record<string, unknown>;
      const { status, field, skip, ...fields } = expected;
      if (status === "invalid") {
        expect(actual.field, `item ${index}: ${String(actual.reason)}`).toBe(field);
        expect(String(actual.reason).startsWith(`${field}: `)).toBe(true);
        expect(String(actual.reason)).toContain(`(at ${entry.file ?? entry.name}`);
        if (fields.requestId !== undefined) expect(actual.requestId).toBe(fields.requestId);
        return;
      }
      if (status === "skipped") {
        expect(actual.skip).toBe(skip);
        return;
      }
      for (const [key, value] of Object.entries(fields)) {
        if (key === "description") continue;
        expect(actual[key], `item ${index} ${key}`).toEqual(value);
      }
      if (status === "priced") {
        expect(actual.costUsd).toMatch(/^\d+\.\d{6,12}$/);
        expect(actual.reason).toBeUndefined();
      } else {
        expect(actual.costUsd).toBeNull();
        expect(String(actual.reason).length).toBeGreaterThan(10);
      }
      expect(actual.priceVersion).toBe(defaultCatalog().version);
    });
  });
});
