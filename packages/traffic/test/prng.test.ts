import { describe, expect, it } from "vitest";
import { fnv1a, Prng, WeightedTable } from "../src/index";

describe("Prng (xoshiro128**)", () => {
  it("repeats its stream for the same seed and diverges for another", () => {
    const draw = (seed: number | string) => {
      const rng = new Prng(seed);
      return Array.from({ length: 64 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw("tenant-workload")).toEqual(draw("tenant-workload"));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
    expect(draw("a")).not.toEqual(draw("b"));
  });

  it("matches the xoshiro128** reference output for state (1, 2, 3, 4)", () => {
    const rng = Prng.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => rng.nextUint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it("is pinned: the stream of seed 1 never changes (runs compare across versions)", () => {
    const rng = new Prng(1);
    const first = Array.from({ length: 4 }, () => rng.nextUint32());
    // Recorded from this implementation; a change here changes every generated workload.
    expect(first).toMatchInlineSnapshot(`
      [
        1599694725,
        1712420748,
        1191534354,
        3820912405,
      ]
    `);
  });

  it("draws uniform floats in [0, 1) and integers in range", () => {
    const rng = new Prng(7);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      if (!(x >= 0 && x < 1)) outOfRange++;
      else buckets[Math.floor(x * 10)] = (buckets[Math.floor(x * 10)] ?? 0) + 1;
    }
    expect(outOfRange).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(rng.range(3, 8));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it("makes version 4 UUIDs", () => {
    const rng = new Prng(3);
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = rng.uuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it("rejects seeds that are not safe integers", () => {
    expect(() => new Prng(1.5)).toThrow(RangeError);
    expect(() => new Prng(Number.NaN)).toThrow(RangeError);
  });

  it("hashes strings with FNV-1a", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
  });
});

describe("WeightedTable", () => {
  it("draws items in proportion to their weights", () => {
    const table = new WeightedTable([
      ["a", 1],
      ["b", 3],
      ["c", 0],
      ["d", 6],
    ] as const);
    expect(table.probability(1)).toBeCloseTo(0.3, 12);
    const rng = new Prng(11);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    for (let i = 0; i < 100_000; i++) {
      const item = table.draw(rng);
      counts[item] = (counts[item] ?? 0) + 1;
    }
    expect(counts.c).toBe(0);
    expect((counts.a ?? 0) / 100_000).toBeCloseTo(0.1, 2);
    expect((counts.b ?? 0) / 100_000).toBeCloseTo(0.3, 2);
    expect((counts.d ?? 0) / 100_000).toBeCloseTo(0.6, 2);
  });

  it("refuses tables without a positive weight", () => {
    expect(() => new WeightedTable([["a", 0]])).toThrow(RangeError);
    expect(() => new WeightedTable([["a", -1]])).toThrow(RangeError);
  });
});
