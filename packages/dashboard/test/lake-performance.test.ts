/**
 * The "Model performance" panel's data over the local lake (SQL through LocalAthena, on Parquet
 * the lake writer wrote) against the reference over the same records in memory: the same rows,
 * to the millisecond and the ratio, for every selection.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDbLakeWriter, LocalAthena } from "@bedrock-spend/local-lake";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalDashboardData, type DashboardData, type DashboardFilters } from "../src/index";
import { MODELS, memoryStack, usage, workload } from "./helpers/fixtures";

const NOW = new Date("2026-11-20T15:30:00.000Z");
const RECORDS = [
  ...workload({ now: NOW, count: 1500 }),
  // A model that never resolved, and a call Bedrock timed at 0 ms.
  { ...usage("unresolved-1", { tenant: "acme", time: "2026-11-10T10:00:00.000Z", latencyMs: 900 }), model: null, model_id: "arn:aws:bedrock:x" },
  usage("zero-1", { tenant: "acme", time: "2026-11-11T10:00:00.000Z", model: MODELS[4].model, latencyMs: 0 }),
];

describe("Model performance over the local lake", () => {
  let dir: string;
  let athena: LocalAthena;
  let lake: DashboardData;
  const reference = memoryStack({ now: () => NOW.getTime(), records: RECORDS }).data;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bedrock-spend-dashboard-performance-"));
    const lakeDir = join(dir, "lake");
    const writer = await DuckDbLakeWriter.open({ lakeDir });
    try {
      await writer.write(RECORDS);
    } finally {
      await writer.close();
    }
    athena = await LocalAthena.open({ lakeDir });
    lake = createLocalDashboardData({ athena, alerts: () => [], now: () => NOW.getTime() });
  });

  afterAll(async () => {
    await athena.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each<[string, DashboardFilters]>([
    ["everything", { year: null, month: null, tenant: null, model: null }],
    ["a month", { year: 2026, month: 11, tenant: null, model: null }],
    ["a tenant", { year: null, month: null, tenant: "globex", model: null }],
    ["a model", { year: 2026, month: 10, tenant: null, model: MODELS[1].model }],
    ["nothing", { year: 2025, month: 1, tenant: null, model: null }],
  ])("gives the reference's rows for %s", async (_label, filters) => {
    // Act
    const rows = await lake.performance(filters);

    // Assess
    expect(rows).toEqual(await reference.performance(filters));
  });

  it("has throttles, untimed calls and tokens per second to compare", async () => {
    // Act
    const rows = await lake.performance({ year: null, month: null, tenant: null, model: null });

    // Assess
    expect(rows.length).toBe(MODELS.length + 1);
    expect(rows.every((row) => row.throttles > 0 || row.invocations < 50)).toBe(true);
    expect(rows.some((row) => row.timedInvocations < row.invocations)).toBe(true);
    expect(rows.find((row) => row.model === "unresolved:arn:aws:bedrock:x")).toMatchObject({ latencyP50Ms: 900, invocations: 1 });
    for (const row of rows.filter((candidate) => candidate.invocations > 50)) expect(row.outputTokensPerSecond).toBeGreaterThan(5);
  });
});
