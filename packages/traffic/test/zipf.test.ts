import { describe, expect, it } from "vitest";
import { harmonic, Prng, ZipfSampler, zipfTopShare } from "../src/index";

describe("ZipfSampler", () => {
  it("gives the top tenant the share the formula predicts (10,000 tenants, s = 1.1)", () => {
    const n = 10_000;
    const s = 1.1;
    const expected = 1 / harmonic(n, s);
    // H(10000, 1.1) is about 6.6, so the largest tenant makes about 15% of the calls.
    expect(expected).toBeGreaterThan(0.14);
    expect(expected).toBeLessThan(0.16);
    const sampler = new ZipfSampler(n, s);
    const rng = new Prng(2026);
    const draws = 400_000;
    const counts = new Int32Array(n);
    for (let i = 0; i < draws; i++) {
      const rank = sampler.sample(rng);
      counts[rank] = (counts[rank] ?? 0) + 1;
    }
    const share = (rank: number): number => (counts[rank] ?? 0) / draws;
    const sigma = Math.sqrt((expected * (1 - expected)) / draws);
    expect(Math.abs(share(0) - expected)).toBeLessThan(5 * sigma);
    const second = 2 ** -s / harmonic(n, s);
    expect(Math.abs(share(1) - second)).toBeLessThan(5 * Math.sqrt((second * (1 - second)) / draws));
    let top100 = 0;
    for (let i = 0; i < 100; i++) top100 += share(i);
    expect(top100).toBeCloseTo(zipfTopShare(n, s, 100), 2);
  });

  it("draws ranks within the population, the first rank most often", () => {
    const sampler = new ZipfSampler(10_000, 1.1);
    const rng = new Prng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 200_000; i++) {
      const rank = sampler.sample(rng);
      expect(rank >= 0 && rank < 10_000).toBe(true);
      counts.set(rank, (counts.get(rank) ?? 0) + 1);
    }
    const first = counts.get(0) ?? 0;
    expect(Math.max(...counts.values())).toBe(first);
  });

  it("has probabilities that sum to 1 and decrease with rank", () => {
    const sampler = new ZipfSampler(40, 1.1);
    let total = 0;
    for (let rank = 0; rank < 40; rank++) {
      total += sampler.probability(rank);
      if (rank > 0) expect(sampler.probability(rank)).toBeLessThan(sampler.probability(rank - 1));
    }
    expect(total).toBeCloseTo(1, 12);
    expect(sampler.probability(40)).toBe(0);
  });

  it("is uniform for s = 0 and refuses bad parameters", () => {
    const uniform = new ZipfSampler(4, 0);
    expect(uniform.probability(0)).toBeCloseTo(0.25, 12);
    expect(uniform.probability(3)).toBeCloseTo(0.25, 12);
    expect(() => new ZipfSampler(0, 1)).toThrow(RangeError);
    expect(() => new ZipfSampler(10, -1)).toThrow(RangeError);
  });
});
