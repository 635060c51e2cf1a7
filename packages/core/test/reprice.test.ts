import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalogFrom, defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { Pricer } from "../src/pricer";
import { formatSignedUsd, invocationLogOfRecord, isSettledMonth, monthsBetween, recordCostPico, repriceRecord } from "../src/reprice";

const OVERLAY = {
  version: "corrected",
  currency: "USD",
  unit: "per_million_tokens",
  models: [
    {
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-11-10",
      effectiveTo: null,
      input: "0.85",
      output: "4.25",
      cacheRead: "0.085",
      cacheWrite: "1.0625",
    },
  ],
};
const base = new Pricer({ catalog: defaultCatalog() });
const corrected = base.withCatalogs(catalogFrom({ kind: "overlay", json: OVERLAY, origin: "corrected.json" }));

const logArbitrary = fc
  .record({
    model: fc.constantFrom("global.anthropic.claude-haiku-4-5-20251001-v1:0", "amazon.nova-lite-v1:0", "eu.amazon.nova-lite-v1:0", "acme.unknown-v1:0"),
    day: fc.integer({ min: 1, max: 30 }),
    millis: fc.integer({ min: 0, max: 86_399_999 }),
    input: fc.integer({ min: 0, max: 300_000 }),
    output: fc.integer({ min: 0, max: 10_000 }),
    cacheRead: fc.integer({ min: 0, max: 50_000 }),
    cacheWrite: fc.integer({ min: 0, max: 50_000 }),
    latency: fc.option(fc.constantFrom("standard", "optimized")),
    tier: fc.option(fc.constantFrom("default", "flex", "priority")),
    tenant: fc.stringMatching(/^[a-zA-Z0-9 :_@$#=/+,.-]{1,12}$/),
  })
  .map((fields) => {
    const parsed = parseInvocationLog({
      requestId: "r-1",
      timestamp: new Date(Date.UTC(2026, 10, fields.day) + fields.millis).toISOString(),
      region: "us-east-1",
      modelId: fields.model,
      requestMetadata: { tenantId: fields.tenant, departmentId: "sales" },
      input: { inputTokenCount: fields.input, cacheReadInputTokenCount: fields.cacheRead, cacheWriteInputTokenCount: fields.cacheWrite },
      output: { outputTokenCount: fields.output },
      ...(fields.latency ? { performanceConfig: { latency: fields.latency } } : {}),
      ...(fields.tier ? { serviceTier: fields.tier } : {}),
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.log;
  });

describe("repriceRecord", () => {
  it("with the catalog a record was priced with, changes nothing", () => {
    fc.assert(
      fc.property(logArbitrary, (log) => {
        const priced = base.price(log);
        const again = repriceRecord(priced.record, base);
        expect(again.changed).toBe(false);
        expect(again.record).toEqual(priced.record);
        expect(again.costPico).toBe(priced.costPico);
      }),
      { numRuns: 300 },
    );
  });

  it("gives the cost the new catalog gives the original log, and keeps everything but the price", () => {
    fc.assert(
      fc.property(logArbitrary, (log) => {
        const priced = base.price(log);
        const direct = corrected.price(log);
        const repriced = repriceRecord(priced.record, corrected);
        expect(repriced.costPico).toBe(direct.costPico);
        expect(repriced.record).toEqual({
          ...priced.record,
          cost_usd: direct.record.cost_usd,
          status: direct.record.status,
          reason: direct.record.reason,
          price_version: direct.record.price_version,
          input_cost_usd: direct.record.input_cost_usd,
          output_cost_usd: direct.record.output_cost_usd,
          cache_read_cost_usd: direct.record.cache_read_cost_usd,
          cache_write_cost_usd: direct.record.cache_write_cost_usd,
        });
        expect(repriced.changed).toBe(true);
        expect(recordCostPico(repriced.record)).toBe(direct.costPico);
      }),
      { numRuns: 300 },
    );
  });

  it("reads a record back as the log it came from", () => {
    fc.assert(
      fc.property(logArbitrary, (log) => {
        expect(invocationLogOfRecord(base.price(log).record)).toEqual({ ...log, metadata: log.metadata });
      }),
      { numRuns: 200 },
    );
  });
});

describe("Pricer periods", () => {
  it("prices a period's invocations with its catalog: from inclusive, to exclusive, the later period winning", () => {
    const other = catalogFrom({ kind: "overlay", json: OVERLAY, origin: "o" });
    const from = Date.UTC(2026, 10, 1);
    const to = Date.UTC(2026, 11, 1);
    const pricer = base.withCatalogs(base.catalog, [
      { from: 0, to: Number.MAX_SAFE_INTEGER, catalog: base.catalog },
      { from, to, catalog: other },
    ]);
    expect(pricer.catalogAt(from - 1)).toBe(base.catalog);
    expect(pricer.catalogAt(from)).toBe(other);
    expect(pricer.catalogAt(to - 1)).toBe(other);
    expect(pricer.catalogAt(to)).toBe(base.catalog);
  });
});

describe("months", () => {
  it("lists the months of a range across a year", () => {
    expect(monthsBetween("2026-11", "2027-02")).toEqual(["2026-11", "2026-12", "2027-01", "2027-02"]);
    expect(monthsBetween("2026-11", "2026-11")).toEqual(["2026-11"]);
    expect(monthsBetween("2026-11", "2026-10")).toEqual([]);
    expect(() => monthsBetween("2026-13", "2027-01")).toThrow(RangeError);
  });

  it("settles a month 22 days after its end, to the millisecond", () => {
    const settledAt = Date.UTC(2026, 11, 1) + 22 * 86_400_000;
    expect(isSettledMonth("2026-11", settledAt - 1)).toBe(false);
    expect(isSettledMonth("2026-11", settledAt)).toBe(true);
    expect(isSettledMonth("2026-11", Date.UTC(2026, 11, 2), 0)).toBe(true);
  });

  it("formats signed deltas exactly", () => {
    expect(formatSignedUsd(-120_000_000n)).toBe("-0.000120");
    expect(formatSignedUsd(0n)).toBe("0.000000");
    expect(formatSignedUsd(35n)).toBe("0.000000000035");
  });
});
