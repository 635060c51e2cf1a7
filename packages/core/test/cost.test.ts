import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PriceCatalog, type PriceEntry, TOKEN_CLASSES } from "../src/catalog";
import { computeCost, type TokenCounts } from "../src/cost";
import { formatUsd } from "../src/money";
import { catalogJson, priceEntry } from "./helpers/catalogs";

function entryOf(overrides: Parameters<typeof priceEntry>[0] = {}): PriceEntry {
  return PriceCatalog.fromJson(catalogJson([priceEntry(overrides)]), "test").entries[0] as PriceEntry;
}

const tokens = (counts: Partial<TokenCounts>): TokenCounts => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, ...counts });
const sonnet45Regional = entryOf({
  model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
  input: "3.30",
  output: "16.50",
  cacheRead: "0.33",
  cacheWrite: "4.125",
  longContext: { aboveInputTokens: 200_000, input: "6.60", output: "24.75", cacheRead: "0.66", cacheWrite: "8.25" },
});

describe("Function: computeCost()", () => {
  it("prices each token class at its own rate, exactly", () => {
    // Prepare: 120 in, 40 out, 800 cache read, 2,000 cache write at 1.10 / 5.50 / 0.11 / 1.375 per million
    const result = computeCost(entryOf(), tokens({ input: 120, output: 40, cacheRead: 800, cacheWrite: 2000 }));

    // Assess: 132 + 220 + 88 + 2750 = 3190 micro-dollars
    expect(result.priced && formatUsd(result.costPico)).toBe("0.003190");
    expect(result.priced && result.byClass).toEqual({ input: 132_000_000n, output: 220_000_000n, cacheRead: 88_000_000n, cacheWrite: 2_750_000_000n });
  });

  it("keeps sub-micro-dollar precision instead of rounding", () => {
    const nova = entryOf({ model: "amazon.nova-micro-v1:0", input: "0.035", output: "0.14", cacheRead: "0.00875", cacheWrite: undefined });
    const result = computeCost(nova, tokens({ input: 1, cacheRead: 1 }));
    expect(result.priced && formatUsd(result.costPico)).toBe("0.00000004375");
  });

  it("switches every class to the long-context rates above the threshold, counting cache tokens", () => {
    const below = computeCost(sonnet45Regional, tokens({ input: 1000, cacheRead: 199_000, output: 10 }));
    const above = computeCost(sonnet45Regional, tokens({ input: 1000, cacheRead: 199_001, output: 10 }));
    expect(below).toMatchObject({ priced: true, longContext: false });
    expect(above).toMatchObject({ priced: true, longContext: true });
    // 1000 x 6.60 + 199,001 x 0.66 + 10 x 24.75 = 6600 + 131340.66 + 247.5 micro-dollars
    expect(above.priced && formatUsd(above.costPico)).toBe("0.13818816");
  });

  it("makes an invocation unpriced, never free, when a class with tokens has no price", () => {
    const noCache = entryOf({ cacheRead: undefined, cacheWrite: undefined });
    expect(computeCost(noCache, tokens({ input: 10, cacheWrite: 5 }))).toEqual({ priced: false, missing: ["cacheWrite"], longContext: false });
    expect(computeCost(noCache, tokens({ input: 10 })).priced).toBe(true);
  });

  it("costs zero only when there are no tokens", () => {
    const result = computeCost(entryOf(), tokens({}));
    expect(result).toMatchObject({ priced: true, costPico: 0n });
  });

  const counts = fc.record({
    input: fc.integer({ min: 0, max: 2_000_000 }),
    output: fc.integer({ min: 0, max: 200_000 }),
    cacheRead: fc.integer({ min: 0, max: 2_000_000 }),
    cacheWrite: fc.integer({ min: 0, max: 2_000_000 }),
  });
  const price = fc.bigInt({ min: 0n, max: 100_000_000n }).map((micro) => formatUsd(micro * 1_000_000n, 0));
  const entries = fc
    .record({ input: price, output: price, cacheRead: price, cacheWrite: price, long: fc.boolean() })
    .map(({ long, ...rates }) => entryOf({ ...rates, ...(long ? { longContext: { aboveInputTokens: 200_000, ...rates } } : {}) }));

  it("is additive over token classes and never negative", () => {
    fc.assert(
      fc.property(entries, counts, (entry, counts) => {
        const whole = computeCost(entry, counts);
        expect(whole.priced).toBe(true);
        if (!whole.priced) return;
        expect(whole.costPico >= 0n).toBe(true);
        let sum = 0n;
        for (const tokenClass of TOKEN_CLASSES) {
          const alone = computeCost(entry, tokens({ [tokenClass]: counts[tokenClass] }));
          // A class alone never crosses the long-context threshold unless the whole did with it alone
          if (alone.priced && alone.longContext === whole.longContext) sum += alone.costPico;
          else sum += whole.byClass[tokenClass];
        }
        expect(sum).toBe(whole.costPico);
        expect(whole.byClass.input + whole.byClass.output + whole.byClass.cacheRead + whole.byClass.cacheWrite).toBe(whole.costPico);
      }),
    );
  });

  it("is linear in tokens: twice the tokens cost exactly twice as much below the threshold", () => {
    fc.assert(
      fc.property(counts, (counts) => {
        // Doubled, input + cache classes stay at or under 180,000: below the 200,000 threshold
        const small = tokens({
          input: counts.input % 30_000,
          output: counts.output % 30_000,
          cacheRead: counts.cacheRead % 30_000,
          cacheWrite: counts.cacheWrite % 30_000,
        });
        const double = tokens({ input: small.input * 2, output: small.output * 2, cacheRead: small.cacheRead * 2, cacheWrite: small.cacheWrite * 2 });
        const a = computeCost(sonnet45Regional, small);
        const b = computeCost(sonnet45Regional, double);
        expect(a.priced && b.priced && b.costPico === a.costPico * 2n).toBe(true);
      }),
    );
  });
});
