import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PriceCatalog, type PriceQuery } from "../src/catalog";
import { CatalogValidationError } from "../src/errors";
import { catalogJson, priceEntry } from "./helpers/catalogs";

const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const day = (text: string) => Date.parse(`${text}T00:00:00Z`);

function issuesOf(json: unknown): string[] {
  try {
    PriceCatalog.fromJson(json, "prices.json");
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogValidationError);
    return (error as CatalogValidationError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error("expected the catalog to be refused");
}

describe("Function: PriceCatalog.fromJson() validation", () => {
  it("accepts a well-formed catalog and keeps its version", () => {
    const catalog = PriceCatalog.fromJson(catalogJson([priceEntry()], "2026-11-27"), "prices.json");
    expect(catalog.version).toBe("2026-11-27");
    expect(catalog.entries).toHaveLength(1);
  });

  it("reads the provenance and the rate blocks of an entry", () => {
    const [entry] = PriceCatalog.fromJson(
      catalogJson([
        priceEntry({
          cacheWrite1h: "2.20",
          latencyOptimized: { input: "1.40", output: "7" },
          tiers: { flex: { input: "0.55", output: "2.75" } },
          source: "https://aws.amazon.com/bedrock/pricing/",
          checked: "2026-12-01",
          confidence: "primary",
          note: "read off the page",
        }),
      ]),
      "prices.json",
    ).entries;
    expect(entry?.rates.cacheWrite1h).toBe(2_200_000n);
    expect(entry?.latencyOptimized).toEqual({ input: 1_400_000n, output: 7_000_000n });
    expect(entry?.tiers).toEqual({ flex: { input: 550_000n, output: 2_750_000n } });
    expect(entry?.provenance).toEqual({
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-12-01",
      confidence: "primary",
      note: "read off the page",
    });
    expect(entry?.path).toBe("models[0]");
  });

  it("refuses a file in another unit instead of misreading it", () => {
    const issues = issuesOf({ ...catalogJson([priceEntry()]), unit: "per_thousand_tokens" });
    expect(issues).toEqual([expect.stringMatching(/^unit: must be "per_million_tokens".*per_thousand_tokens/)]);
  });

  it.each([
    [{ input: "1,00" }, "models[0].input: must be a decimal string with at most 6 fractional digits"],
    [{ input: 3 as unknown as string }, "models[0].input: must be a decimal string"],
    [{ output: "-1.00" }, "models[0].output: must not be negative"],
    [{ cacheRead: "0.0000001" }, "models[0].cacheRead: must be a decimal string with at most 6 fractional digits"],
    [{ output: undefined as unknown as string }, "models[0].output: is missing"],
    [{ profile: "mars" }, "models[0].profile: must be one of"],
    [{ region: "moon-1" }, "models[0].region: must be an AWS Region"],
    [{ effectiveFrom: "2025-02-30" }, "models[0].effectiveFrom: must be a YYYY-MM-DD date"],
    [{ effectiveTo: "2025-01-01" }, "models[0].effectiveTo: must be after effectiveFrom"],
    [{ model: `us.${HAIKU}` }, "models[0].model: must be a base model id without a profile prefix"],
    [{ model: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}` }, "models[0].model: must be a base model id, not an ARN"],
    [{ inputt: "1" } as never, "models[0].inputt: is not a known field"],
    [{ cacheWrite1h: "2.2.0" }, "models[0].cacheWrite1h: must be a decimal string"],
    [{ latencyOptimized: { input: "1" } } as never, "models[0].latencyOptimized.output: is missing"],
    [{ latencyOptimized: "fast" } as never, "models[0].latencyOptimized: must be an object of rates"],
    [{ latencyOptimized: { input: "1", output: "5", speed: "2" } } as never, "models[0].latencyOptimized.speed: is not a known field"],
    [{ tiers: { turbo: { input: "1", output: "2" } } } as never, "models[0].tiers.turbo: is not a service tier with its own rates (flex, priority, reserved"],
    [{ tiers: { default: { input: "1", output: "2" } } } as never, "models[0].tiers.default: is not a service tier with its own rates"],
    [{ tiers: { flex: { input: "-1", output: "2" } } } as never, "models[0].tiers.flex.input: must not be negative"],
    [{ tiers: [] } as never, "models[0].tiers: must be an object keyed by service tier"],
    [{ checked: "last week" }, 'models[0].checked: must be the YYYY-MM-DD date the source was read, got "last week"'],
    [{ confidence: "high" } as never, 'models[0].confidence: must be "primary" or "secondary" or "bill", got "high"'],
    [{ source: "" }, "models[0].source: must be a non-empty string"],
    [
      { cacheWrite1h: "2.2", longContext: { aboveInputTokens: 200_000, input: "2", output: "7.5", cacheRead: "0.2", cacheWrite: "2.5" } } as never,
      "models[0].longContext.cacheWrite1h: is missing",
    ],
    [
      { longContext: { aboveInputTokens: 200_000, input: "2", output: "7.5", cacheRead: "0.2" } } as never,
      "models[0].longContext.cacheWrite: is missing: the entry prices cacheWrite",
    ],
    [
      { longContext: { aboveInputTokens: 0, input: "2", output: "7.5", cacheRead: "0.2", cacheWrite: "2.5" } } as never,
      "models[0].longContext.aboveInputTokens",
    ],
  ])("refuses %j, naming the entry and the field", (overrides, message) => {
    const issues = issuesOf(catalogJson([priceEntry(overrides)]));
    expect(issues.some((issue) => issue.startsWith(message))).toBe(true);
  });

  it("names the entry in the error message", () => {
    try {
      PriceCatalog.fromJson(catalogJson([priceEntry(), priceEntry({ model: "meta.llama3-1-8b-instruct-v1:0", output: "x" })]), "prices.json");
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain("prices.json: models[1].output (meta.llama3-1-8b-instruct-v1:0, profile *, region *, from 2025-10-01)");
    }
  });

  it("refuses overlapping effective ranges for one selector, naming both entries", () => {
    const issues = issuesOf(catalogJson([priceEntry({ effectiveTo: "2026-01-01" }), priceEntry({ effectiveFrom: "2025-12-01" })]));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/overlaps .*2025-10-01 to 2026-01-01/);
  });

  it("accepts adjacent ranges and the same range for different selectors", () => {
    const json = catalogJson([
      priceEntry({ effectiveTo: "2026-01-01" }),
      priceEntry({ effectiveFrom: "2026-01-01" }),
      priceEntry({ profile: "global" }),
      priceEntry({ region: "eu-west-1" }),
    ]);
    expect(PriceCatalog.fromJson(json, "prices.json").entries).toHaveLength(4);
  });

  it("collects every problem, not just the first", () => {
    expect(issuesOf(catalogJson([priceEntry({ input: "x" }), priceEntry({ model: "m2", output: "-2" })]))).toHaveLength(2);
  });
});

describe("Method: PriceCatalog.overlay()", () => {
  const base = PriceCatalog.fromJson(
    catalogJson([priceEntry(), priceEntry({ model: "amazon.nova-lite-v1:0", input: "0.06", output: "0.24" })], "base"),
    "defaults",
  );

  it("replaces an entry with the same model, profile, region and effectiveFrom", () => {
    const merged = base.overlay(PriceCatalog.fromJson(catalogJson([priceEntry({ input: "0.90" })], "acme"), "acme.json"));
    expect(merged.version).toBe("base+acme");
    expect(merged.entries).toHaveLength(2);
    const entry = merged.lookup({ model: HAIKU, pricingProfile: "us", region: "us-east-1", timestamp: day("2026-11-27") });
    expect(entry?.json.input).toBe("0.90");
    expect(entry?.origin).toBe("acme.json");
  });

  it("adds entries for new models and new tiers", () => {
    const merged = base.overlay(
      PriceCatalog.fromJson(catalogJson([priceEntry({ model: "acme.custom-v1" }), priceEntry({ profile: "eu", input: "1.20" })]), "acme.json"),
    );
    expect(merged.entries).toHaveLength(4);
    expect(merged.lookup({ model: HAIKU, pricingProfile: "eu", region: null, timestamp: day("2026-11-27") })?.json.input).toBe("1.20");
    expect(merged.lookup({ model: HAIKU, pricingProfile: "us", region: null, timestamp: day("2026-11-27") })?.json.input).toBe("1.10");
  });

  it("lets a dated overlay entry win from its date on, the default before it, without touching the default", () => {
    // Arrange: the natural case, a negotiated rate from 2026-10-01 on a default open since 2025-10-01
    const overlay = PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2026-10-01", input: "0.80" })], "acme"), "acme.json");

    // Act
    const merged = base.overlay(overlay);
    const price = (date: string) => merged.lookup({ model: HAIKU, pricingProfile: "none", region: "us-east-1", timestamp: day(date) });

    // Assess
    expect(price("2026-09-30")?.json.input).toBe("1.10");
    expect(price("2026-09-30")?.origin).toBe("defaults");
    expect(price("2026-10-01")?.json.input).toBe("0.80");
    expect(price("2031-01-01")?.origin).toBe("acme.json");
    const cut = merged.entries.find((entry) => entry.origin === "defaults" && entry.model === HAIKU);
    expect(cut).toMatchObject({
      effectiveFrom: day("2025-10-01"),
      effectiveTo: day("2026-10-01"),
      declared: { effectiveFrom: day("2025-10-01"), effectiveTo: null },
    });
  });

  it("cuts a default in two around a closed overlay range, and drops a default the overlay covers whole", () => {
    const base2 = PriceCatalog.fromJson(
      catalogJson([priceEntry({ effectiveTo: "2026-01-01" }), priceEntry({ effectiveFrom: "2026-01-01", input: "1.20" })], "base"),
      "defaults",
    );
    const merged = base2.overlay(
      PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2025-09-01", effectiveTo: "2026-01-01", input: "0.70" })]), "acme.json"),
    );
    expect(merged.entries.map((entry) => [entry.origin, entry.json.input, entry.effectiveFrom, entry.effectiveTo])).toEqual([
      ["defaults", "1.20", day("2026-01-01"), null],
      ["acme.json", "0.70", day("2025-09-01"), day("2026-01-01")],
    ]);
    const middle = base.overlay(
      PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2026-03-01", effectiveTo: "2026-04-01", input: "0.50" })]), "promo.json"),
    );
    const at = (date: string) => middle.lookup({ model: HAIKU, pricingProfile: "none", region: null, timestamp: day(date) })?.json.input;
    expect([at("2026-02-28"), at("2026-03-01"), at("2026-03-31"), at("2026-04-01")]).toEqual(["1.10", "0.50", "0.50", "1.10"]);
  });

  it("keeps the most specific selector first: a default for the exact profile beats an overlay for any profile", () => {
    const withGlobal = PriceCatalog.fromJson(catalogJson([priceEntry(), priceEntry({ profile: "global", input: "1.00" })], "base"), "defaults");
    const merged = withGlobal.overlay(PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2026-10-01", input: "0.80" })]), "acme.json"));
    const at = (pricingProfile: "global" | "us") => merged.lookup({ model: HAIKU, pricingProfile, region: null, timestamp: day("2026-11-01") })?.json.input;
    expect(at("global")).toBe("1.00");
    expect(at("us")).toBe("0.80");
  });

  it("still refuses overlapping ranges inside one file", () => {
    expect(() =>
      PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2026-06-01" }), priceEntry({ effectiveFrom: "2026-09-01" })]), "acme.json"),
    ).toThrow(/acme\.json.*overlaps/);
  });

  it("prices as 'the overlay where it covers, the defaults elsewhere', for random ranges (property)", () => {
    // Ranges as day offsets from 2025-01-01; a file's ranges are built end to end so that they never overlap.
    const epoch = day("2025-01-01");
    const DAY = 86_400_000;
    const file = fc
      .array(fc.record({ gap: fc.integer({ min: 0, max: 40 }), length: fc.integer({ min: 1, max: 60 }), input: fc.integer({ min: 1, max: 999 }) }), {
        minLength: 0,
        maxLength: 5,
      })
      .chain((ranges) => fc.tuple(fc.constant(ranges), fc.boolean()));
    const entriesOf = ([ranges, openEnded]: [Array<{ gap: number; length: number; input: number }>, boolean]) => {
      let cursor = 0;
      return ranges.map((range, index) => {
        const from = cursor + range.gap;
        cursor = from + range.length;
        const open = openEnded && index === ranges.length - 1;
        return { from, to: open ? null : cursor, input: `${range.input}` };
      });
    };
    const toJson = (entries: Array<{ from: number; to: number | null; input: string }>) =>
      entries.map((entry) =>
        priceEntry({
          effectiveFrom: new Date(epoch + entry.from * DAY).toISOString().slice(0, 10),
          effectiveTo: entry.to === null ? null : new Date(epoch + entry.to * DAY).toISOString().slice(0, 10),
          input: entry.input,
        }),
      );
    const covering = (entries: Array<{ from: number; to: number | null; input: string }>, dayIndex: number) =>
      entries.find((entry) => dayIndex >= entry.from && (entry.to === null || dayIndex < entry.to));
    fc.assert(
      fc.property(file, file, (defaultsFile, overlayFile) => {
        const defaults = entriesOf(defaultsFile);
        const overlay = entriesOf(overlayFile);
        const merged = PriceCatalog.fromJson(catalogJson(toJson(defaults), "d"), "defaults").overlay(
          PriceCatalog.fromJson(catalogJson(toJson(overlay), "o"), "overlay.json"),
        );
        for (let dayIndex = 0; dayIndex < 520; dayIndex += 3) {
          const expected = covering(overlay, dayIndex) ?? covering(defaults, dayIndex);
          const found = merged.lookup({ model: HAIKU, pricingProfile: "none", region: null, timestamp: epoch + dayIndex * DAY + 3_600_000 });
          expect(found?.json.input).toBe(expected?.input);
          if (expected) expect(found?.origin).toBe(covering(overlay, dayIndex) ? "overlay.json" : "defaults");
        }
        // The merged entries of one selector never overlap: exactly one applies at any instant.
        const ranges = merged.entries.map((entry) => [entry.effectiveFrom, entry.effectiveTo ?? Number.POSITIVE_INFINITY] as const).sort((a, b) => a[0] - b[0]);
        for (let index = 1; index < ranges.length; index++) expect(ranges[index]?.[0]).toBeGreaterThanOrEqual(ranges[index - 1]?.[1] as number);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Method: PriceCatalog.explain()", () => {
  const base = PriceCatalog.fromJson(catalogJson([priceEntry(), priceEntry({ profile: "us-gov", input: "1.32" })], "base"), "defaults");
  const merged = base.overlay(PriceCatalog.fromJson(catalogJson([priceEntry({ effectiveFrom: "2026-10-01", input: "0.80" })], "acme"), "acme.json"));

  it("names the entry that applies, with its file and position, and why every other entry does not", () => {
    const explanation = merged.explain({ model: HAIKU, pricingProfile: "us", region: "us-east-1", timestamp: day("2026-10-15") });
    expect(explanation.entry).toMatchObject({ origin: "acme.json", path: "models[0]" });
    expect(explanation.considered.filter((entry) => !entry.applies).map((entry) => [entry.entry.origin, entry.entry.path, entry.reason])).toEqual([
      ["defaults", "models[0]", "an overlay covers 2026-10-15 for this selector (this entry applies 2025-10-01 to 2026-10-01)"],
      ["defaults", "models[1]", "profile us-gov is not us"],
    ]);
  });

  it("says when nothing applies and why", () => {
    const explanation = merged.explain({ model: HAIKU, pricingProfile: "us", region: null, timestamp: day("2024-01-01") });
    expect(explanation.entry).toBeUndefined();
    expect(explanation.considered.map((entry) => entry.reason)).toEqual([
      "not in effect on 2024-01-01 (2025-10-01 to 2026-10-01)",
      "profile us-gov is not us",
      "not in effect on 2024-01-01 (2026-10-01 to open)",
    ]);
    expect(merged.explain({ model: "acme.unknown", pricingProfile: "us", region: null, timestamp: day("2026-01-01") }).considered).toEqual([]);
  });
});

describe("Method: PriceCatalog.lookup()", () => {
  const catalog = PriceCatalog.fromJson(
    catalogJson([
      priceEntry({ input: "1.10" }),
      priceEntry({ profile: "global", input: "1.00" }),
      priceEntry({ region: "eu-central-1", input: "1.20" }),
      priceEntry({ profile: "us-gov", region: "us-gov-west-1", input: "1.50" }),
      priceEntry({ profile: "us", effectiveTo: "2026-09-01", input: "2.00" }),
      priceEntry({ profile: "us", effectiveFrom: "2026-09-01", input: "3.00" }),
    ]),
    "prices.json",
  );
  const at = (query: Partial<PriceQuery>) =>
    catalog.lookup({ model: HAIKU, pricingProfile: "none", region: "us-east-1", timestamp: day("2026-11-27"), ...query })?.json.input;

  it("prefers an exact profile over an exact region (profile before region)", () => {
    expect(at({ pricingProfile: "global", region: "eu-central-1" })).toBe("1.00");
  });

  it("prefers an exact region over the wildcard", () => {
    expect(at({ region: "eu-central-1" })).toBe("1.20");
    expect(at({ region: "us-east-1" })).toBe("1.10");
    expect(at({ region: null })).toBe("1.10");
  });

  it("honours effective dates: from inclusive, to exclusive, in UTC", () => {
    expect(at({ pricingProfile: "us", timestamp: Date.parse("2026-08-31T23:59:59.999Z") })).toBe("2.00");
    expect(at({ pricingProfile: "us", timestamp: Date.parse("2026-09-01T00:00:00Z") })).toBe("3.00");
    expect(at({ timestamp: Date.parse("2025-09-30T23:59:59Z") })).toBeUndefined();
  });

  it("finds nothing for an unknown model", () => {
    expect(at({ model: "acme.unknown" })).toBeUndefined();
  });

  it("is deterministic and always returns the most specific live entry", () => {
    const profiles = ["none", "global", "us", "eu", "us-gov"] as const;
    const regions = [null, "us-east-1", "eu-central-1", "us-gov-west-1"];
    fc.assert(
      fc.property(
        fc.constantFrom(...profiles),
        fc.constantFrom(...regions),
        fc.integer({ min: day("2025-01-01"), max: day("2027-12-31") }),
        (profile, region, timestamp) => {
          const query = { model: HAIKU, pricingProfile: profile, region, timestamp };
          const first = catalog.lookup(query);
          expect(catalog.lookup(query)).toBe(first);
          const live = catalog.entries.filter(
            (entry) =>
              entry.effectiveFrom <= timestamp &&
              (entry.effectiveTo === null || timestamp < entry.effectiveTo) &&
              (entry.profile === "*" || entry.profile === profile) &&
              (entry.region === "*" || entry.region === region),
          );
          if (live.length === 0) {
            expect(first).toBeUndefined();
            return;
          }
          const score = (entry: (typeof live)[number]) => (entry.profile === profile ? 2 : 0) + (entry.region === region ? 1 : 0);
          expect(first).toBeDefined();
          expect(score(first as (typeof live)[number])).toBe(Math.max(...live.map(score)));
        },
      ),
    );
  });
});
