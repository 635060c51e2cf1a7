import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BillGroup,
  defaultCatalog,
  type InvocationLog,
  type LogUsage,
  LogUsageGroups,
  LogUsageTally,
  logUsageOf,
  logUsageOfGroup,
  longContextThresholds,
  PriceCatalog,
  Pricer,
  parseInvocationLog,
  parseSignedDecimal,
  parseUsd,
  reconcile,
  usageTypeMap,
} from "../src/index";
import { billGroup } from "./helpers/bill";
import { catalogJson } from "./helpers/catalogs";
import { invocationLog } from "./helpers/factories";

const map = usageTypeMap();
const DAY = "2026-11-12";
const SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0";

/** A usage group of the bill on DAY. */
function usage(usageType: string, tokens: number, ratePer1k: string, overrides: Partial<BillGroup> = {}): BillGroup {
  return billGroup(DAY, usageType, tokens, ratePer1k, overrides);
}

function logs(tokenClass: LogUsage["tokenClass"], tokens: number, ratePer1k: string, overrides: Partial<LogUsage> = {}): LogUsage {
  return {
    day: DAY,
    region: "us-east-1",
    model: SONNET,
    tokenClass,
    tier: "standard",
    tokens,
    costPico: (BigInt(tokens) * (parseUsd(ratePer1k) as bigint)) / 1000n,
    ...overrides,
  };
}

describe("Function: reconcile", () => {
  it("finds no drift where the bill and the logs agree, every class counted", () => {
    // Act
    const report = reconcile(
      [usage("USE1-Claude4.5Sonnet-input-tokens", 120_000, "0.003"), usage("USE1-Claude4.5Sonnet-cache-read-input-token-count", 40_000, "0.0003")],
      [logs("input", 120_000, "0.003"), logs("cacheRead", 40_000, "0.0003")],
      { map },
    );

    // Assess
    expect(report.rows).toHaveLength(2);
    for (const row of report.rows) expect(row).toMatchObject({ driftUsd: "0.000000", driftPct: "0.00", likelyCause: null });
    expect(report.totals).toStrictEqual({
      logCostUsd: "0.372000",
      billCostUsd: "0.372000",
      unmappedCostUsd: "0.000000",
      netBillCostUsd: "0.372000",
      driftUsd: "0.000000",
      driftPct: "0.00",
    });
  });

  it("names a rate 10% above the catalog's, with the bill's rate, to the pico-dollar", () => {
    // Act
    const report = reconcile([usage("USE1-Claude4.5Sonnet-output-tokens", 50_000, "0.0165")], [logs("output", 50_000, "0.015")], { map });

    // Assess
    expect(report.rows).toStrictEqual([
      {
        day: DAY,
        region: "us-east-1",
        model: SONNET,
        tokenClass: "output",
        tier: "standard",
        logTokens: 50_000,
        billTokens: 50_000,
        logCostUsd: "0.750000",
        billCostUsd: "0.825000",
        driftUsd: "0.075000",
        driftPct: "9.09",
        likelyCause: "a rate different from the catalog: the bill's rate is 0.0165 USD per 1K tokens",
      },
    ]);
  });

  it("names missing log records when the bill has more tokens (an hour of logs lost)", () => {
    // Act
    const report = reconcile([usage("USE1-Claude4.5Sonnet-input-tokens", 240_000, "0.003")], [logs("input", 230_000, "0.003")], { map });

    // Assess
    expect(report.rows[0]).toMatchObject({ billTokens: 240_000, logTokens: 230_000, driftUsd: "0.030000" });
    expect(report.rows[0]?.likelyCause).toBe("missing log records: the bill has 10000 tokens more than the logs");
  });

  it("names a tier mismatch on both rows: the logs in-Region, the bill global", () => {
    // Act
    const report = reconcile([usage("USE1-Claude4.5Sonnet-input-tokens-cross-region-global", 100_000, "0.003")], [logs("input", 100_000, "0.003")], { map });

    // Assess
    const causes = new Map(report.rows.map((row) => [row.tier, row.likelyCause]));
    expect(causes.get("global")).toMatch(/^tier or cross-Region mismatch: the logs count tokens of this day as standard/);
    expect(causes.get("standard")).toMatch(/^tier or cross-Region mismatch: the bill has tokens of this day as global/);
  });

  it("names a day the bill has not finished when the logs are ahead on its last day", () => {
    // Act
    const report = reconcile([usage("USE1-Claude4.5Sonnet-input-tokens", 50_000, "0.003", { lastHour: 14 })], [logs("input", 80_000, "0.003")], { map });

    // Assess
    expect(report.rows[0]?.likelyCause).toMatch(/^a day the bill has not finished/);
  });

  it("names cache tokens the logs do not show", () => {
    // Act
    const report = reconcile([usage("USE1-Claude4.5Sonnet-cache-write-input-token-count", 8_000, "0.00375")], [], { map });

    // Assess
    expect(report.rows[0]?.likelyCause).toBe("cache tokens: the bill has 8000 cacheWrite tokens the logs do not show");
  });

  it("lists what it cannot place, with the reason, and keeps credits, refunds and EDP in the net only, tax nowhere", () => {
    // Prepare
    const bill = [
      usage("USE1-Claude4.5Sonnet-input-tokens", 100_000, "0.003"),
      usage("USE1-Claude9Ultra-input-tokens", 1_000, "0.01"),
      usage("USE1-Claude9Ultra-input-tokens", 2_000, "0.01", { day: "2026-11-13" }),
      usage("USE1-Claude4.5Sonnet-input-tokens", 0, "0", {
        lineItemType: "Credit",
        unblendedCostPico: -100_000_000_000n,
        netCostPico: -100_000_000_000n,
        rates: [],
      }),
      usage("USE1-Claude4.5Sonnet-input-tokens", 0, "0", {
        lineItemType: "EdpDiscount",
        unblendedCostPico: -30_000_000_000n,
        netCostPico: -30_000_000_000n,
        rates: [],
      }),
      usage("USE1-Claude4.5Sonnet-input-tokens", 0, "0", { lineItemType: "Tax", unblendedCostPico: 50_000_000_000n, netCostPico: 50_000_000_000n, rates: [] }),
    ];

    // Act
    const report = reconcile(bill, [logs("input", 100_000, "0.003")], { map });

    // Assess
    expect(report.unmapped).toStrictEqual([
      {
        usageType: "USE1-Claude9Ultra-input-tokens",
        productCode: "AmazonBedrock",
        productName: "Amazon Bedrock",
        billCostUsd: "0.030000",
        usageAmount: "3",
        pricingUnit: "1K tokens",
        reason: 'unknown billing model name "Claude9Ultra": add it to the models of --usage-types',
      },
    ]);
    expect(report.totals).toStrictEqual({
      logCostUsd: "0.300000",
      billCostUsd: "0.330000",
      unmappedCostUsd: "0.030000",
      netBillCostUsd: "0.200000",
      driftUsd: "0.000000",
      driftPct: "0.00",
    });
  });

  it("sorts rows by absolute drift, largest first", () => {
    // Act
    const report = reconcile(
      [usage("USE1-Claude4.5Sonnet-input-tokens", 100_000, "0.003"), usage("USE1-Claude4.5Sonnet-output-tokens", 10_000, "0.015")],
      [logs("input", 10_000, "0.003"), logs("output", 40_000, "0.015")],
      { map },
    );

    // Assess
    expect(report.rows.map((row) => row.driftUsd)).toStrictEqual(["-0.450000", "0.270000"]);
  });

  it("balances exactly: the rows' drifts sum to the total drift, whatever the amounts", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ bill: fc.integer({ min: 0, max: 5_000_000 }), log: fc.integer({ min: 0, max: 5_000_000 }), klass: fc.constantFrom("input", "output") }),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (cells) => {
          const bill = cells.map((cell, index) =>
            usage(`USE1-Claude4.5Sonnet-${cell.klass}-tokens`, cell.bill, "0.003", { day: `2026-11-${String((index % 28) + 1).padStart(2, "0")}` }),
          );
          const log = cells.map((cell, index) =>
            logs(cell.klass as "input" | "output", cell.log, "0.003", { day: `2026-11-${String((index % 28) + 1).padStart(2, "0")}` }),
          );
          const report = reconcile(bill, log, { map });
          const sum = report.rows.reduce((total, row) => total + parseSignedDecimal(row.driftUsd, 12), 0n);
          expect(sum).toBe(parseSignedDecimal(report.totals.driftUsd, 12));
          expect(report.rows.reduce((total, row) => total + row.billTokens, 0)).toBe(cells.reduce((total, cell) => total + cell.bill, 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("Function: parseSignedDecimal", () => {
  it("reads what CUR writes: signs, plain decimals and exponents, exactly", () => {
    expect(parseSignedDecimal("-0.0000032", 12)).toBe(-3_200_000n);
    expect(parseSignedDecimal("1.5E-7", 12)).toBe(150_000n);
    expect(parseSignedDecimal("12", 3)).toBe(12_000n);
    expect(parseSignedDecimal("0.0005", 3)).toBe(1n);
    expect(() => parseSignedDecimal("abc", 3)).toThrow(RangeError);
  });

  it("round-trips any integer at any scale", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 15 }), (value, scale) => {
        const negative = value < 0n;
        const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
        const text = `${negative ? "-" : ""}${scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`}`;
        expect(parseSignedDecimal(text, scale)).toBe(value);
      }),
    );
  });
});

describe("Function: logUsageOf", () => {
  const pricer = new Pricer({ catalog: defaultCatalog() });
  const record = (modelId: string, extra: Record<string, unknown> = {}) => {
    const parsed = parseInvocationLog({
      requestId: "r-1",
      timestamp: "2026-11-12T10:00:00Z",
      region: "us-east-1",
      modelId,
      requestMetadata: { tenantId: "acme" },
      input: { inputTokenCount: 1200, cacheReadInputTokenCount: 300, cacheWriteInputTokenCount: 50 },
      output: { outputTokenCount: 400 },
      ...extra,
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    return pricer.price(parsed.log);
  };

  it("splits an invocation's tokens and exact cost by class, under its tier", () => {
    // Prepare
    const priced = record(`global.${SONNET}`);

    // Act
    const usages = logUsageOf(priced.record, pricer);

    // Assess
    expect(usages.map((entry) => [entry.tokenClass, entry.tokens, entry.tier, entry.model, entry.region, entry.day])).toStrictEqual([
      ["input", 1200, "global", SONNET, "us-east-1", DAY],
      ["output", 400, "global", SONNET, "us-east-1", DAY],
      ["cacheRead", 300, "global", SONNET, "us-east-1", DAY],
      ["cacheWrite", 50, "global", SONNET, "us-east-1", DAY],
    ]);
    expect(usages.reduce((total, entry) => total + entry.costPico, 0n)).toBe(priced.costPico);
  });

  it("counts the tokens of an invocation the catalog does not price, at no cost", () => {
    // Act
    const usages = logUsageOf(record("acme.inhouse-model-v1:0").record, pricer);

    // Assess
    expect(usages.map((entry) => entry.tokens)).toStrictEqual([1200, 400, 300, 50]);
    expect(usages.every((entry) => entry.costPico === 0n)).toBe(true);
  });

  it("sums usages by day, Region, model, class and tier", () => {
    // Prepare
    const tally = new LogUsageTally();

    // Act
    tally.add(logUsageOf(record(`global.${SONNET}`).record, pricer));
    tally.add(logUsageOf(record(`global.${SONNET}`).record, pricer));
    tally.add(logUsageOf(record(SONNET).record, pricer));

    // Assess
    const input = tally.usages().filter((entry) => entry.tokenClass === "input");
    expect(input.map((entry) => [entry.tier, entry.tokens])).toStrictEqual([
      ["global", 2400],
      ["standard", 1200],
    ]);
  });
});

describe("Function: logUsageOfGroup", () => {
  const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
  const OPUS = "anthropic.claude-opus-4-5-20251101-v1:0";
  const NOVA = "amazon.nova-lite-v1:0";
  // Two long-context thresholds, a flex tier, an optimized-latency block, a model without cache-write rates.
  const catalog = PriceCatalog.fromJson(
    catalogJson([
      {
        model: HAIKU,
        longContext: { aboveInputTokens: 1000, input: "2.20", output: "11.00", cacheRead: "0.22", cacheWrite: "2.75", cacheWrite1h: "4.40" },
        cacheWrite1h: "2.20",
        tiers: { flex: { input: "0.55", output: "2.75", cacheRead: "0.055", cacheWrite: "0.6875" } },
      },
      {
        model: OPUS,
        input: "5.00",
        output: "25.00",
        cacheRead: "0.50",
        cacheWrite: "6.25",
        longContext: { aboveInputTokens: 5000, input: "10.00", output: "37.50", cacheRead: "1.00", cacheWrite: "12.50" },
        latencyOptimized: { input: "6.00", output: "30.00", cacheRead: "0.60", cacheWrite: "7.50" },
      },
      { model: NOVA, input: "0.06", output: "0.24", cacheRead: "0.015", cacheWrite: undefined, effectiveFrom: "2026-11-03" },
    ]),
    "test catalog",
  );
  const pricer = new Pricer({ catalog });
  const base = parseInvocationLog(invocationLog());
  if (!base.ok) throw new Error(base.reason);

  const invocation = fc.record({
    day: fc.constantFrom("2026-11-02", "2026-11-03", "2026-11-30"),
    model: fc.constantFrom(HAIKU, `global.${HAIKU}`, `us.${HAIKU}`, OPUS, `global.${OPUS}`, NOVA, "acme.inhouse-v1:0"),
    region: fc.constantFrom("us-east-1", "eu-west-1", null),
    serviceTier: fc.constantFrom(null, "default", "flex", "priority"),
    latency: fc.constantFrom(null, "standard", "optimized"),
    input: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8000 })),
    output: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
    cacheRead: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6000 })),
    cacheWrite: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2000 })),
    oneHourShare: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  const sorted = (usages: readonly LogUsage[]) => [...usages].map((usage) => JSON.stringify({ ...usage, costPico: String(usage.costPico) })).sort();

  it("adds up, group by group, to exactly what the invocations add one by one", () => {
    const thresholds = longContextThresholds(pricer);
    expect(thresholds).toStrictEqual([1000, 5000]);
    fc.assert(
      fc.property(fc.array(invocation, { minLength: 1, maxLength: 60 }), (invocations) => {
        // Prepare
        const perInvocation = new LogUsageTally();
        const groups = new LogUsageGroups(thresholds);
        for (const [index, drawn] of invocations.entries()) {
          const cacheWrite1h = Math.floor(drawn.cacheWrite * drawn.oneHourShare);
          const { record } = pricer.price({
            ...base.log,
            requestId: `r-${index}`,
            timestamp: Date.parse(`${drawn.day}T12:00:00Z`),
            modelId: drawn.model,
            region: drawn.region,
            serviceTier: drawn.serviceTier as InvocationLog["serviceTier"],
            latency: drawn.latency as InvocationLog["latency"],
            inputTokens: drawn.input,
            outputTokens: drawn.output,
            cacheReadTokens: drawn.cacheRead,
            cacheWriteTokens: drawn.cacheWrite,
            cacheWrite1hTokens: cacheWrite1h > 0 ? cacheWrite1h : null,
          });
          perInvocation.add(logUsageOf(record, pricer));
          groups.add(record);
        }

        // Act
        const perGroup = new LogUsageTally();
        for (const group of groups.values()) perGroup.add(logUsageOfGroup(group, thresholds, pricer));

        // Assess
        expect(sorted(perGroup.usages())).toStrictEqual(sorted(perInvocation.usages()));
      }),
      { numRuns: 400 },
    );
  });

  it("keeps apart invocations on either side of a long-context threshold", () => {
    // Prepare: 900 + 900 input tokens are two short calls, not one long one.
    const thresholds = longContextThresholds(pricer);
    const groups = new LogUsageGroups(thresholds);
    for (const [requestId, input] of [
      ["a", 900],
      ["b", 900],
      ["c", 1500],
    ] as const)
      groups.add(
        pricer.price({ ...base.log, requestId, modelId: HAIKU, timestamp: Date.parse("2026-11-02T08:00:00Z"), inputTokens: input, outputTokens: 10 }).record,
      );

    // Act
    const tally = new LogUsageTally();
    for (const group of groups.values()) tally.add(logUsageOfGroup(group, thresholds, pricer));

    // Assess: 1,800 standard input tokens at $1.10/M, 1,500 long-context ones at $2.20/M.
    const input = tally.usages().filter((usage) => usage.tokenClass === "input");
    expect(input.map((usage) => [usage.tier, usage.tokens, usage.costPico])).toStrictEqual([
      ["standard", 1800, 1800n * 1_100_000n],
      ["long-context", 1500, 1500n * 2_200_000n],
    ]);
  });
});
