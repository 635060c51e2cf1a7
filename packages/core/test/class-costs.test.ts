/**
 * The per-class cost columns the pricer writes (input_cost_usd, output_cost_usd,
 * cache_read_cost_usd, cache_write_cost_usd): exact decimals, each the class's tokens times its
 * rate, summing to cost_usd to the pico-dollar; null, all of them, when the record is unpriced.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PriceCatalog } from "../src/catalog";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { parseUsd } from "../src/money";
import { Pricer } from "../src/pricer";
import { CLASS_COST_COLUMNS, UsageRecordSchema } from "../src/usage";
import { catalogJson, priceEntry } from "./helpers/catalogs";
import { invocationLog, withTokens } from "./helpers/factories";

const CLASS_COLUMNS = Object.values(CLASS_COST_COLUMNS);

function price(pricer: Pricer, record: Record<string, unknown>) {
  const parsed = parseInvocationLog(record);
  if (!parsed.ok) throw new Error(parsed.reason);
  return pricer.price(parsed.log);
}

const MODELS = [
  "global.anthropic.claude-haiku-4-5-20251001-v1:0",
  "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  "anthropic.claude-3-5-haiku-20241022-v1:0",
  "amazon.nova-micro-v1:0",
  "us.amazon.nova-premier-v1:0",
  "meta.llama3-3-70b-instruct-v1:0",
];

const tokens = fc.record({
  input: fc.integer({ min: 0, max: 2_000_000 }),
  output: fc.integer({ min: 0, max: 200_000 }),
  cacheRead: fc.integer({ min: 0, max: 500_000 }),
  cacheWrite: fc.integer({ min: 0, max: 500_000 }),
});

/** A USD-per-million rate with up to 6 decimals. */
const rate = fc
  .tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 999_999 }))
  .map(([units, micros]) => `${units}.${String(micros).padStart(6, "0")}`);

describe("Per-class cost columns", () => {
  it("sum exactly to cost_usd with the shipped catalog, and each is the class's own cost (property)", () => {
    const pricer = new Pricer({ catalog: defaultCatalog() });
    fc.assert(
      fc.property(fc.constantFrom(...MODELS), tokens, (modelId, counts) => {
        const priced = price(pricer, withTokens(invocationLog({ modelId }), counts));
        expect(UsageRecordSchema.parse(priced.record)).toEqual(priced.record);
        const { record } = priced;
        if (record.status !== "priced") {
          for (const column of CLASS_COLUMNS) expect(record[column]).toBeNull();
          return;
        }
        const parts = CLASS_COLUMNS.map((column) => parseUsd(record[column] as string));
        for (const part of parts) expect(part).toBeTypeOf("bigint");
        const sum = parts.reduce<bigint>((total, part) => total + (part as bigint), 0n);
        expect(sum).toBe(parseUsd(record.cost_usd as string));
        expect(sum).toBe(priced.costPico);
        // A class without tokens costs nothing.
        if (counts.input === 0) expect(parts[0]).toBe(0n);
        if (counts.output === 0) expect(parts[1]).toBe(0n);
        if (counts.cacheRead === 0) expect(parts[2]).toBe(0n);
        if (counts.cacheWrite === 0) expect(parts[3]).toBe(0n);
      }),
      { numRuns: 300 },
    );
  });

  it("are tokens x rate per class for any rates (property)", () => {
    fc.assert(
      fc.property(rate, rate, rate, rate, tokens, (input, output, cacheRead, cacheWrite, counts) => {
        const catalog = PriceCatalog.fromJson(catalogJson([priceEntry({ input, output, cacheRead, cacheWrite })]), "test");
        const pricer = new Pricer({ catalog });
        const { record, costPico } = price(pricer, withTokens(invocationLog({ modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0" }), counts));
        expect(record.status).toBe("priced");
        // USD per million tokens = pico-dollars per token x 10^-6: tokens x rate(USD/M) x 10^6 pico.
        const pico = (count: number, usd: string) => (BigInt(count) * (parseUsd(usd) as bigint)) / 1_000_000n;
        const expected = [pico(counts.input, input), pico(counts.output, output), pico(counts.cacheRead, cacheRead), pico(counts.cacheWrite, cacheWrite)];
        expect(CLASS_COLUMNS.map((column) => parseUsd(record[column] as string))).toEqual(expected);
        expect(expected.reduce((a, b) => a + b, 0n)).toBe(costPico);
      }),
      { numRuns: 200 },
    );
  });

  it("are null, all four, for an unpriced record", () => {
    const pricer = new Pricer({ catalog: defaultCatalog() });
    const { record } = price(pricer, withTokens(invocationLog({ modelId: "example.unknown-model-v1:0" }), { input: 10, output: 5 }));
    expect(record.status).toBe("unpriced");
    for (const column of CLASS_COLUMNS) expect(record[column]).toBeNull();
  });
});
