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
    expect(computeCost(noCache, tokens({ input: 10, cacheWrite: 5 }))).toEqual({
      priced: false,
      missing: ["cacheWrite"],
      longContext: false,
      block: null,
      noBlock: false,
    });
    expect(computeCost(noCache, tokens({ input: 10 })).priced).toBe(true);
  });

  it("bills 1-hour cache writes at their own rate and the rest of the writes at the 5-minute rate", () => {
    // Arrange: Sonnet 4.5 global, 3 / 15 / 0.30 / 3.75, 1-hour writes 6.00 (2x input)
    const sonnet = entryOf({ input: "3", output: "15", cacheRead: "0.30", cacheWrite: "3.75", cacheWrite1h: "6" });

    // Act: 10,000 writes of which 4,000 with a 1-hour lifetime
    const result = computeCost(sonnet, tokens({ cacheWrite: 10_000, cacheWrite1h: 4_000 }));

    // Assess: 6,000 x 3.75 + 4,000 x 6 = 22,500 + 24,000 micro-dollars, all of it cache write
    expect(result.priced && formatUsd(result.costPico)).toBe("0.046500");
    expect(result.priced && result.byClass.cacheWrite).toBe(46_500_000_000n);
    expect(computeCost(entryOf(), tokens({ cacheWrite: 10_000, cacheWrite1h: 4_000 }))).toEqual({
      priced: false,
      missing: ["cacheWrite1h"],
      longContext: false,
      block: null,
      noBlock: false,
    });
  });

  it("bills latency-optimized calls and service tiers from their own blocks, and leaves a call unpriced when the entry has none", () => {
    const haiku35 = entryOf({
      model: "anthropic.claude-3-5-haiku-20241022-v1:0",
      input: "0.80",
      output: "4",
      latencyOptimized: { input: "1", output: "5" },
      tiers: { flex: { input: "0.40", output: "2" }, priority: { input: "1.40", output: "7" } },
    });
    const call = tokens({ input: 1_000_000, output: 100_000 });
    const usd = (result: ReturnType<typeof computeCost>) => (result.priced ? formatUsd(result.costPico) : result);
    expect(usd(computeCost(haiku35, call, { latency: "standard", serviceTier: "default" }))).toBe("1.200000");
    expect(usd(computeCost(haiku35, call, { latency: "optimized", serviceTier: null }))).toBe("1.500000");
    expect(usd(computeCost(haiku35, call, { latency: null, serviceTier: "flex" }))).toBe("0.600000");
    expect(usd(computeCost(haiku35, call, { latency: null, serviceTier: "priority" }))).toBe("2.100000");
    expect(computeCost(haiku35, call, { latency: null, serviceTier: "reserved" })).toEqual({
      priced: false,
      missing: [],
      longContext: false,
      block: "reserved tier",
      noBlock: true,
    });
    expect(computeCost(haiku35, call, { latency: "optimized", serviceTier: "flex" })).toMatchObject({ priced: false, block: "latency-optimized flex tier" });
    expect(computeCost(entryOf(), call, { latency: "optimized", serviceTier: null })).toMatchObject({
      priced: false,
      block: "latency-optimized",
      noBlock: true,
    });
  });

  it("does not bill a long-context call at a tier's base rates", () => {
    const tiered = entryOf({
      longContext: { aboveInputTokens: 200_000, input: "2.20", output: "8.25", cacheRead: "0.22", cacheWrite: "2.75" },
      tiers: { flex: { input: "0.55", output: "2.75", cacheRead: "0.055", cacheWrite: "0.6875" } },
    });
    expect(computeCost(tiered, tokens({ input: 300_000 }), { latency: null, serviceTier: "flex" })).toMatchObject({
      priced: false,
      longContext: true,
      block: "long-context flex tier",
    });
  });

  it("costs the same when 1-hour writes are split out at the 5-minute rate, for any counts (property)", () => {
    const same = entryOf({ cacheWrite1h: "1.375" });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 0, max: 5_000_000 }), (writes, share) => {
        const oneHour = Math.min(share, writes);
        const split = computeCost(same, tokens({ input: 7, cacheWrite: writes, cacheWrite1h: oneHour }));
        const whole = computeCost(same, tokens({ input: 7, cacheWrite: writes }));
        expect(split.priced && whole.priced && split.costPico === whole.costPico).toBe(true);
      }),
    );
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
