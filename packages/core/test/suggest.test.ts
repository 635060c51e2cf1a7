import { describe, expect, it } from "vitest";
import { catalogFrom, defaultCatalog, Pricer, parseInvocationLog, suggestPrices, usageTypeMap } from "../src/index";
import { billGroup } from "./helpers/bill";

const map = usageTypeMap();
const catalog = defaultCatalog();
const MICRO = "amazon.nova-micro-v1:0";

describe("Function: suggestPrices", () => {
  it("writes an overlay entry only where the bill disagrees, from the first day it does, with the catalog's rates for the other classes", () => {
    // Prepare: Nova Micro input at the catalog's 0.035 per million; output at 0.154 (10% above 0.14) from the 12th.
    const bill = [
      billGroup("2026-11-10", "USE1-NovaMicro-input-tokens", 120_000, "0.000035"),
      billGroup("2026-11-10", "USE1-NovaMicro-output-tokens", 9_000, "0.00014"),
      billGroup("2026-11-12", "USE1-NovaMicro-output-tokens", 8_000, "0.000154"),
      billGroup("2026-11-13", "USE1-NovaMicro-output-tokens", 7_000, "0.000154"),
    ];

    // Act
    const { overlay, skipped } = suggestPrices(bill, catalog, map, "2026-11");

    // Assess
    expect(skipped).toEqual([]);
    expect(overlay).toMatchObject({ version: "bill-2026-11", currency: "USD", unit: "per_million_tokens" });
    expect(overlay.models).toHaveLength(1);
    expect(overlay.models[0]).toMatchObject({
      model: MICRO,
      profile: "none",
      region: "us-east-1",
      effectiveFrom: "2026-11-12",
      effectiveTo: null,
      input: "0.035",
      output: "0.154",
      source: "CUR 2026-11",
      confidence: "bill",
    });
  });

  it("makes a catalog that prices the bill's way: laid over the shipped one, a call after the date costs the bill's rate, one before the catalog's", () => {
    // Prepare
    const { overlay } = suggestPrices([billGroup("2026-11-12", "USE1-NovaMicro-output-tokens", 8_000, "0.000154")], catalog, map, "2026-11");
    const pricer = new Pricer({ catalog: catalogFrom({ kind: "overlay", json: overlay, origin: "suggested.json" }) });
    const call = (timestamp: string) => {
      const parsed = parseInvocationLog({
        requestId: "r",
        timestamp,
        region: "us-east-1",
        modelId: MICRO,
        requestMetadata: { tenantId: "acme" },
        input: { inputTokenCount: 0 },
        output: { outputTokenCount: 1_000_000 },
      });
      if (!parsed.ok) throw new Error(parsed.reason);
      return pricer.price(parsed.log).record.cost_usd;
    };

    // Act / Assess
    expect(call("2026-11-12T10:00:00Z")).toBe("0.154000");
    expect(call("2026-11-11T10:00:00Z")).toBe("0.140000");
  });

  it("learns global cross-Region rates as the global profile, and skips other tiers, several rates in a day, and a rate the cost does not match", () => {
    // Act
    const { overlay, skipped } = suggestPrices(
      [
        billGroup("2026-11-10", "USE1-NovaMicro-input-tokens-cross-region-global", 100_000, "0.00004"),
        billGroup("2026-11-10", "USE1-NovaMicro-input-tokens-flex", 100_000, "0.00002"),
        billGroup("2026-11-10", "USE1-NovaMicro-output-tokens", 1_000, "0.00014", { rates: ["0.00014", "0.00015"] }),
        billGroup("2026-11-11", "USE1-NovaMicro-output-tokens", 1_000, "0.00015", { unblendedCostPico: 1n }),
      ],
      catalog,
      map,
      "2026-11",
    );

    // Assess
    expect(overlay.models.map((entry) => [entry.profile, entry.input])).toEqual([["global", "0.04"]]);
    expect(skipped.map((rate) => rate.reason)).toEqual([
      "tier flex is not learned (only in-Region and global usage)",
      "2 unit rates in one day",
      expect.stringMatching(/^cost 1 pico-dollars does not match 1 x 0\.00015$/),
    ]);
  });
});
