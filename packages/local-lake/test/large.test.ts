import { DASHBOARD_VIEWS } from "@bedrock-spend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDbLakeWriter, LocalAthena } from "../src/index";
import { costPico, decimal12, listFiles, sumOf, tempLake, usageRecords } from "./helpers";

/** 50,000 records, correctness only (speeds are measured by test/bench.ts). */
describe("a lake of 50,000 usage records", () => {
  const COUNT = 50_000;
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let athena: LocalAthena;
  const records = usageRecords({ seed: "large", count: COUNT + 500, start: "2026-11-29T22:00:00Z", ratePerSecond: 5 }).slice(0, COUNT);

  beforeAll(async () => {
    lake = await tempLake();
    const writer = await DuckDbLakeWriter.open({ lakeDir: lake.dir });
    try {
      const whole = await writer.write(records.slice(0, 40_000));
      const rest = await writer.write(records.slice(40_000));
      expect(whole.rows + rest.rows).toBe(COUNT);
    } finally {
      await writer.close();
    }
    athena = await LocalAthena.open({ lakeDir: lake.dir });
  });

  afterAll(async () => {
    await athena.close();
    await lake.remove();
  });

  it("has every record once, with exact totals", async () => {
    expect(records).toHaveLength(COUNT);
    const { rows } = await athena.query(`SELECT count(*) AS n, count(DISTINCT request_id) AS ids, sum(cost_usd) AS cost,
      sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write
      FROM invocations`);
    expect(rows[0]).toEqual({
      n: COUNT,
      ids: COUNT,
      cost: decimal12(costPico(records)),
      input: sumOf(records, "input_tokens"),
      output: sumOf(records, "output_tokens"),
      cache_read: sumOf(records, "cache_read_tokens"),
      cache_write: sumOf(records, "cache_write_tokens"),
    });
    // 2026-11-29 22:00 + 10,000 s at 5 records/s: three days, one file per day per write.
    expect((await listFiles(lake.dir)).length).toBeLessThanOrEqual(6);
  });

  it("reads all rows back", async () => {
    const { rows } = await athena.query("SELECT request_id, cost_usd, event_time FROM invocations");
    expect(rows).toHaveLength(COUNT);
    const ids = new Set(records.map((record) => record.request_id));
    for (const row of rows) expect(ids.has(row.request_id as string)).toBe(true);
  });

  it("runs every view over it", async () => {
    for (const view of DASHBOARD_VIEWS) {
      const { rows } = await athena.query(`SELECT * FROM ${view.name}`);
      expect(rows.length, view.name).toBeGreaterThan(0);
      if (view.columns.some((column) => column.name === "invocations")) {
        expect(
          rows.reduce((sum, row) => sum + (row.invocations as number), 0),
          view.name,
        ).toBe(COUNT);
      }
    }
  });
});
