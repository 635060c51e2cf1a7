/**
 * The reprice job's logic, offline: its steps over the real `runReprice`, a table on DynamoDB
 * Local and a lake in memory. A job registers and waits the switch-over, then works in slices
 * that stop between lake days and resume from the table, until the audit says applied; retried
 * steps and steps after the end change nothing.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type CatalogSource, type DayKey, defaultCatalog, type MonthKey, Pricer, type UsageRecord } from "@bedrock-spend/core";
import { AggregatesStore, listRepriceAudits, readRegistry, UsageWriter } from "@bedrock-spend/store";
import { beforeEach, describe, expect, it } from "vitest";
import { freshTable, invocation } from "../../store/test/helpers";
import {
  jobRepriceId,
  type RepriceJobDeps,
  type RepriceJobEvent,
  RepriceJobInputError,
  type RepriceLake,
  type RepriceStepResult,
  runRepriceStep,
} from "../src/index";

const HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0";
const SWITCH_OVER_SECONDS = 600;

/** Haiku (global) at twice the shipped prices. */
const SOURCE: CatalogSource = {
  kind: "overlay",
  origin: "acme-prices.json",
  json: {
    version: "acme-2026-12",
    currency: "USD",
    unit: "per_million_tokens",
    models: [
      {
        model: "anthropic.claude-haiku-4-5-20251001-v1:0",
        profile: "global",
        region: "*",
        effectiveFrom: "2025-10-01",
        effectiveTo: null,
        input: "2.00",
        output: "10.00",
        cacheRead: "0.20",
        cacheWrite: "2.50",
        cacheWrite1h: "4.00",
        source: "acme contract",
        checked: "2026-12-01",
        confidence: "primary",
        note: "negotiated",
      },
    ],
  },
};

/** The lake in memory: day -> files of rows; a replacement swaps exactly the files read. */
class MemoryLake implements RepriceLake {
  readonly files = new Map<DayKey, Map<string, UsageRecord[]>>();
  readonly history: { day: DayKey; repriceId: string; files: string[] }[] = [];
  private next = 0;

  add(records: readonly UsageRecord[]): void {
    for (const record of records) {
      const day = record.event_time.slice(0, 10);
      const files = this.files.get(day) ?? new Map<string, UsageRecord[]>();
      files.set(`f${this.next++}`, [record]);
      this.files.set(day, files);
    }
  }

  async days(month: MonthKey): Promise<DayKey[]> {
    return [...this.files.keys()].filter((day) => day.startsWith(`${month}-`) && (this.files.get(day)?.size ?? 0) > 0).sort();
  }

  async readDay(day: DayKey): Promise<{ rows: UsageRecord[]; token: unknown }> {
    const files = this.files.get(day) ?? new Map();
    return { rows: [...files.values()].flat(), token: [...files.keys()] };
  }

  async replaceDay(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<void> {
    const files = this.files.get(day) as Map<string, UsageRecord[]>;
    for (const name of token as string[]) files.delete(name);
    files.set(`f${this.next++}`, [...rows]);
    this.history.push({ day, repriceId, files: token as string[] });
  }

  rows(): UsageRecord[] {
    return [...this.files.values()].flatMap((files) => [...files.values()].flat());
  }

  async invocationsByTenant(month: MonthKey): Promise<Map<string, number>> {
    const ids = new Map<string, Set<string>>();
    for (const row of this.rows()) if (row.event_time.startsWith(month)) ids.set(row.tenant_id, (ids.get(row.tenant_id) ?? new Set()).add(row.request_id));
    return new Map([...ids].map(([tenant, set]) => [tenant, set.size]));
  }
}

let client: DynamoDBClient;
let tableName: string;
let lake: MemoryLake;
let now: number;

const EXECUTION = { name: "5f0e8a8e-1c2d-4e3f-9a0b-1c2d3e4f5a6b", startTime: "2026-11-15T12:00:00.000Z" };

function deps(overrides: Partial<RepriceJobDeps> = {}): RepriceJobDeps {
  return {
    pricer: new Pricer({ catalog: defaultCatalog() }),
    lake,
    client,
    tableName,
    now: () => now,
    shouldStop: () => false,
    switchOverSeconds: SWITCH_OVER_SECONDS,
    ...overrides,
  };
}

function event(step: RepriceStepResult | null = null, input: Partial<RepriceJobEvent["input"]> = {}): RepriceJobEvent {
  return { input: { from: "2026-09", to: "2026-11", source: SOURCE, actor: "arn:aws:iam::123456789012:role/ops", ...input }, execution: EXECUTION, step };
}

/** A shouldStop that says stop the `asks`-th time it is asked (before each lake day but a slice's first). */
function stopEvery(asks: number): () => boolean {
  let asked = 0;
  return () => ++asked % asks === 0;
}

beforeEach(async () => {
  ({ client, tableName } = await freshTable());
  lake = new MemoryLake();
  now = Date.parse("2026-11-15T12:00:00Z");
  // Settled September (per aggregate item) and open November (per invocation), three days each.
  const counted = [
    invocation("s1", { timestamp: "2026-09-03T10:00:00Z", model: HAIKU }),
    invocation("s2", { timestamp: "2026-09-04T10:00:00Z", model: HAIKU, tenant: "globex" }),
    invocation("s3", { timestamp: "2026-09-05T10:00:00Z", model: HAIKU }),
    invocation("o1", { timestamp: "2026-11-03T10:00:00Z", model: HAIKU }),
    invocation("o2", { timestamp: "2026-11-04T10:00:00Z", model: HAIKU }),
    invocation("o3", { timestamp: "2026-11-05T10:00:00Z", model: HAIKU, tenant: "globex" }),
  ];
  const outcome = await new UsageWriter({ client, tableName }).write(counted);
  expect(outcome.counted).toHaveLength(counted.length);
  lake.add(counted.map((entry) => entry.record));
});

describe("Function: runRepriceStep()", () => {
  it("derives the reprice id from the execution: its start time (ids sort by start) and name", () => {
    expect(jobRepriceId(EXECUTION)).toBe("20261115T120000000Z-1c2d3e4f5a6b");
  });

  it("registers a new reprice and stops, asking the state machine to wait the switch-over", async () => {
    // Act
    const step = await runRepriceStep(event(), deps());

    // Assess
    expect(step).toMatchObject({ repriceId: jobRepriceId(EXECUTION), done: false, waitSeconds: SWITCH_OVER_SECONDS, status: "running", stage: "registered" });
    expect((await readRegistry(client, tableName)).map((entry) => [entry.id, entry.from, entry.to, entry.source])).toStrictEqual([
      [jobRepriceId(EXECUTION), "2026-09", "2026-11", SOURCE],
    ]);
    expect(lake.history).toStrictEqual([]);
  });

  it("waits the rest of the switch-over when a step runs early (a retried first step)", async () => {
    // Prepare
    await runRepriceStep(event(), deps());
    now += 100_000;

    // Act
    const step = await runRepriceStep(event(), deps());

    // Assess
    expect(step).toMatchObject({ done: false, waitSeconds: SWITCH_OVER_SECONDS - 100, stage: "registered" });
    expect(await listRepriceAudits(client, tableName)).toHaveLength(1);
  });

  it("works in slices that stop between lake days and resume from the table until the audit says applied", async () => {
    // Prepare
    const store = new AggregatesStore(client, tableName);
    const before = await store.monthTotal("acme", "2026-09");
    let step = await runRepriceStep(event(), deps());
    now += SWITCH_OVER_SECONDS * 1000;

    // Act
    const steps: RepriceStepResult[] = [];
    for (let slice = 0; !step.done && slice < 20; slice++) {
      step = await runRepriceStep(event(step), deps({ shouldStop: stopEvery(2) }));
      steps.push(step);
    }

    // Assess: slices of two days over six (the first one also planning and correcting, so one day),
    // each starting at the day the last one stopped at
    expect(steps.map((entry) => [entry.done, entry.stage, entry.lakeDaysRewritten, entry.lakeNextDay])).toStrictEqual([
      [false, "lake", 1, "2026-09-04"],
      [false, "lake", 2, "2026-11-03"],
      [false, "lake", 2, "2026-11-05"],
      [true, "done", 1, null],
    ]);
    expect(steps[0]).toMatchObject({ itemsCorrected: expect.any(Number), invocationsCorrected: 3 });
    expect(steps[0]?.itemsCorrected).toBeGreaterThan(0);
    expect(steps[1]).toMatchObject({ itemsCorrected: 0, invocationsCorrected: 0 });
    // The audit keeps what was planned, whatever slice wrote it last.
    expect(new Set(steps.map((entry) => `${entry.totalsBefore}->${entry.totalsAfter} ${entry.invocations}/${entry.changed}`)).size).toBe(1);
    expect(steps[3]).toMatchObject({ status: "applied", invocations: 6, changed: 6, tenantMonths: 4 });
    // Aggregates at the new prices, exactly twice the old (Haiku's price doubled), and the lake rewritten.
    const after = await store.monthTotal("acme", "2026-09");
    expect(after?.costPico).toBe((before?.costPico ?? 0n) * 2n);
    expect(lake.rows().map((row) => row.price_version)).toStrictEqual(Array(6).fill(lake.rows()[0]?.price_version));
    expect(lake.rows()[0]?.price_version).not.toBe(defaultCatalog().version);
    expect(lake.history.map((entry) => entry.day)).toStrictEqual(["2026-09-03", "2026-09-04", "2026-09-05", "2026-11-03", "2026-11-04", "2026-11-05"]);

    // A step after the end changes nothing.
    const again = await runRepriceStep(event(step), deps());
    expect(again).toMatchObject({ done: true, status: "applied", lakeDaysRewritten: 0 });
    expect((await store.monthTotal("acme", "2026-09"))?.costPico).toBe(after?.costPico);
  });

  it("resumes a reprice named in the input with its registered catalog and months, whatever else the input says", async () => {
    // Prepare
    const first = await runRepriceStep(event(), deps());
    now += SWITCH_OVER_SECONDS * 1000;

    // Act
    const step = await runRepriceStep(
      {
        input: { actor: "arn:aws:iam::123456789012:role/ops", resume: first.repriceId as string },
        execution: { name: "other", startTime: "2026-11-16T00:00:00Z" },
      },
      deps(),
    );

    // Assess
    expect(step).toMatchObject({ repriceId: first.repriceId, done: true, status: "applied", lakeDaysRewritten: 6 });
  });

  it("reports a dry run in one step, writes nothing, and stores the report", async () => {
    // Prepare
    const saved: { name: string; tenants: number }[] = [];

    // Act
    const step = await runRepriceStep(
      event(null, { dryRun: true }),
      deps({
        saveReport: async (name, report) => {
          saved.push({ name, tenants: report.tenants.length });
          return `s3://results/reprice/reports/${name}`;
        },
      }),
    );

    // Assess
    expect(step).toMatchObject({ repriceId: null, done: true, waitSeconds: 0, invocations: 6, changed: 6, tenantMonths: 4 });
    expect(step.reportLocation).toBe(`s3://results/reprice/reports/${EXECUTION.name}.json`);
    expect(saved).toStrictEqual([{ name: `${EXECUTION.name}.json`, tenants: 4 }]);
    expect(await listRepriceAudits(client, tableName)).toStrictEqual([]);
    expect(await readRegistry(client, tableName)).toStrictEqual([]);
  });

  it.each([
    ["months that are not YYYY-MM", { from: "2026-9" }, /YYYY-MM/],
    ["to before from", { from: "2026-11", to: "2026-09" }, /before/],
    ["no catalog", { source: undefined }, /source/],
    ["a reprice to resume that does not exist", { resume: "20260101T000000000Z-nope" }, /no reprice/],
  ])("refuses %s", async (_, input, message) => {
    // Act
    const failure = await runRepriceStep(event(null, input as Partial<RepriceJobEvent["input"]>), deps()).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RepriceJobInputError);
    expect((failure as Error).message).toMatch(message);
  });
});
