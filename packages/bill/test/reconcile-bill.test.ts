/**
 * Synthetic CUR 2.0 bills of generated traffic, written as Parquet and gzip CSV, read back by
 * DuckDB and reconciled with the same traffic's logs: each injected drift (a rate 10% higher, an
 * hour of missing logs, a tier mismatch, a day the bill has not finished) is found on its rows,
 * Marketplace rows reconcile once their unit is known, and the quirks (credits, tax, EDP, a usage
 * type no map knows) land where they belong.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  defaultCatalog,
  LogUsageTally,
  logUsageOf,
  Pricer,
  parseInvocationLog,
  parseSignedDecimal,
  reconcile,
  StaticProfileMap,
  type UsageRecord,
  usageTypeMap,
} from "@bedrock-spend/core";
import { APPLICATION_PROFILES, generateBill, generateTraffic } from "@bedrock-spend/traffic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CurReadError, readCur, writeCurFiles } from "../src/index";

const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });
const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA_LITE = "amazon.nova-lite-v1:0";
const NOVA_MICRO = "amazon.nova-micro-v1:0";
const MISSING_HOUR = "2026-11-11T09";

function records(): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (const item of generateTraffic({ seed: "bill", count: 6000, start: "2026-11-10T00:00:00Z", ratePerSecond: 0.025, bodyBytes: 32 })) {
    if (item.kind !== "record") continue;
    const parsed = parseInvocationLog(item.record);
    if (parsed.ok) out.push(pricer.price(parsed.log).record);
  }
  return out;
}

let dir: string;
let traffic: UsageRecord[];
let logSide: ReturnType<LogUsageTally["usages"]>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bedrock-spend-bill-test-"));
  traffic = records();
  const tally = new LogUsageTally();
  // The logs lost an hour of Nova Lite.
  for (const record of traffic) if (!(record.model === NOVA_LITE && record.event_time.startsWith(MISSING_HOUR))) tally.add(logUsageOf(record, pricer));
  logSide = tally.usages();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a synthetic bill reconciled with the logs", () => {
  it.each(["parquet", "csv.gz"] as const)("finds each injected drift on its rows, from %s", async (format) => {
    // Prepare
    const lastDay = traffic
      .map((record) => record.event_time.slice(0, 10))
      .sort()
      .at(-1) as string;
    const bill = generateBill(traffic, pricer, {
      marketplaceModels: [HAIKU],
      rateDrifts: [{ model: NOVA_MICRO, tokenClass: "output", percent: 10 }],
      tierDrifts: [{ model: "amazon.nova-pro-v1:0", from: "standard", to: "global" }],
      creditUsd: "5",
      taxUsd: "0.75",
      edpPercent: 3,
      unknownUsageUsd: "0.42",
      openDayUntilHour: 14,
    });
    const files = await writeCurFiles(bill, join(dir, format), { format });

    // Act
    const read = await readCur([join(dir, format)]);
    const report = reconcile(read.groups, logSide, { map: usageTypeMap({ units: { Units: 1_000_000 } }) });

    // Assess
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/BILLING_PERIOD=2026-11\//);
    expect(read.lineItems).toBe(bill.length);
    const rows = (filter: (row: (typeof report.rows)[number]) => boolean) => report.rows.filter(filter);
    // A rate 10% above the catalog's on Nova Micro's output: tokens equal, cost 10% more (to the pico-dollar of each hour's line).
    const micro = rows((row) => row.model === NOVA_MICRO && row.tokenClass === "output" && row.day < lastDay);
    expect(micro.length).toBeGreaterThan(0);
    for (const row of micro) {
      expect(row.billTokens).toBe(row.logTokens);
      expect(row.likelyCause).toMatch(/^a rate different from the catalog: the bill's rate is/);
      const log = parseSignedDecimal(row.logCostUsd, 12);
      const drift = parseSignedDecimal(row.driftUsd, 12);
      expect(drift * 10n <= log).toBe(true);
      expect(drift * 10n > log - 10n * 24n).toBe(true);
    }
    // The missing hour of Nova Lite: the bill has its tokens, the logs do not.
    const lost = traffic.filter((record) => record.model === NOVA_LITE && record.event_time.startsWith(MISSING_HOUR));
    expect(lost.length).toBeGreaterThan(0);
    const liteInput = rows((row) => row.model === NOVA_LITE && row.tokenClass === "input" && row.day === MISSING_HOUR.slice(0, 10) && row.tier === "standard");
    expect(liteInput).toHaveLength(1);
    expect((liteInput[0]?.billTokens ?? 0) - (liteInput[0]?.logTokens ?? 0)).toBe(
      lost
        .flatMap((record) => logUsageOf(record, pricer))
        .filter((usage) => usage.tokenClass === "input" && usage.tier === "standard")
        .reduce((sum, usage) => sum + usage.tokens, 0),
    );
    expect(liteInput[0]?.likelyCause).toMatch(/^missing log records/);
    // The tier mismatch: Nova Pro's in-Region usage billed as global.
    const pro = rows((row) => row.model === "amazon.nova-pro-v1:0" && row.day < lastDay && row.driftUsd !== "0.000000");
    expect(pro.length).toBeGreaterThan(0);
    for (const row of pro) expect(row.likelyCause).toMatch(/^tier or cross-Region mismatch/);
    // The last day is open: the bill stops at 14:00.
    const open = rows((row) => row.day === lastDay && row.logTokens > row.billTokens);
    expect(open.length).toBeGreaterThan(0);
    for (const row of open) expect(row.likelyCause).toMatch(/^a day the bill has not finished/);
    // Marketplace Haiku reconciles (its unit given), outside the open day.
    const haiku = rows((row) => row.model === HAIKU && row.day < lastDay && row.day !== MISSING_HOUR.slice(0, 10));
    expect(haiku.length).toBeGreaterThan(0);
    for (const row of haiku) expect([row.billTokens, row.driftUsd]).toStrictEqual([row.logTokens, "0.000000"]);
    // The usage type no map knows, and the adjustments.
    const image = report.unmapped.filter((line) => line.usageType === "USE1-Nova2.0Pro-input-image-token-count-cross-region-global");
    const days = new Set(read.groups.map((group) => group.day)).size;
    expect(image.map((line) => [line.reason, line.billCostUsd])).toStrictEqual([
      ["not a text token usage type (input, output, cache read or cache write tokens)", (0.42 * days).toFixed(6)],
    ]);
    // Models the map has no billing name for are listed, never dropped, and add up to the unmapped total.
    for (const line of report.unmapped.filter((entry) => entry !== image[0])) expect(line.reason).toMatch(/^unknown billing model name/);
    expect(report.unmapped.reduce((sum, line) => sum + parseSignedDecimal(line.billCostUsd, 12), 0n)).toBe(
      parseSignedDecimal(report.totals.unmappedCostUsd, 12),
    );
    const usage = parseSignedDecimal(report.totals.billCostUsd, 12);
    const net = parseSignedDecimal(report.totals.netBillCostUsd, 12);
    const edp = read.groups.filter((group) => group.lineItemType === "EdpDiscount").reduce((sum, group) => sum + group.netCostPico, 0n);
    expect(edp).toBeLessThan(0n);
    expect(net).toBe(usage - 5_000_000_000_000n + edp);
  });

  it("lists the Marketplace rows as unmapped while their unit is unknown, with their cost", async () => {
    // Prepare
    const bill = generateBill(traffic, pricer, { marketplaceModels: [HAIKU] });
    await writeCurFiles(bill, join(dir, "mp"), { format: "parquet" });

    // Act
    const report = reconcile((await readCur([join(dir, "mp")])).groups, logSide, { map: usageTypeMap() });

    // Assess
    const haiku = report.unmapped.filter((line) => line.productName === "Claude Haiku 4.5 (Amazon Bedrock Edition)");
    expect(haiku.length).toBeGreaterThan(0);
    for (const line of haiku) expect(line.reason).toBe('unknown pricing_unit "Units": add it to the units of --usage-types');
    expect(report.rows.filter((row) => row.model === HAIKU && row.billTokens > 0)).toEqual([]);
  });

  it("reads only the days asked for", async () => {
    // Prepare
    await writeCurFiles(generateBill(traffic, pricer), join(dir, "range"), { format: "csv.gz" });

    // Act
    const read = await readCur([join(dir, "range")], { from: "2026-11-11", to: "2026-11-11" });

    // Assess
    expect(new Set(read.groups.map((group) => group.day))).toStrictEqual(new Set(["2026-11-11"]));
  });

  it("says which path is not a CUR export", async () => {
    // Prepare
    const text = join(dir, "notes.txt");
    await writeFile(text, "hello");
    const csv = join(dir, "other.csv");
    await writeFile(csv, "a,b\n1,2\n");

    // Act
    const errors = await Promise.all([readCur([text]), readCur([join(dir, "missing")]), readCur([csv])].map((read) => read.catch((error: unknown) => error)));

    // Assess
    for (const error of errors) expect(error).toBeInstanceOf(CurReadError);
    expect((errors[0] as Error).message).toMatch(/notes\.txt: not a CUR file/);
    expect((errors[1] as Error).message).toMatch(/missing: no such file or directory/);
    expect((errors[2] as Error).message).toMatch(/not a CUR 2\.0 export: no column line_item_usage_start_date/);
  });
});
