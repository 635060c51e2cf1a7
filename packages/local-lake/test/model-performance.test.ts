/**
 * The `model_performance_daily` view in its DuckDB dialect, over Parquet the local lake wrote:
 * invocations with known latencies, errors, output tokens and latency settings, and the figures
 * the view must give for them, to the millisecond and the ratio.
 */
import { join } from "node:path";
import type { UsageRecord } from "@bedrock-spend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDbLakeWriter, LocalAthena } from "../src/index";
import { tempLake } from "./helpers";

const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";
const AIP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";

let serial = 0;
function row(day: string, fields: Partial<UsageRecord>): UsageRecord {
  serial++;
  const eventTime = `2026-11-${day}T10:00:${String(serial % 60).padStart(2, "0")}Z`;
  return {
    request_id: `perf-${serial}`,
    event_time: eventTime,
    account_id: "123456789012",
    region: "us-east-1",
    inference_region: null,
    operation: "Converse",
    model_id: `global.${HAIKU}`,
    model: HAIKU,
    profile: "global",
    tenant_id: "acme",
    tenant_group: null,
    department_id: null,
    user_id: null,
    application_id: null,
    principal_arn: null,
    metadata: {},
    input_tokens: 100,
    output_tokens: 50,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: "0.000350",
    price_version: "2026-11-27",
    status: "priced",
    reason: null,
    error_code: null,
    cache_write_1h_tokens: null,
    latency: null,
    service_tier: null,
    latency_ms: null,
    performance_tier: null,
    stop_reason: "end_turn",
    profile_tags: {},
    input_cost_usd: null,
    output_cost_usd: null,
    cache_read_cost_usd: null,
    cache_write_cost_usd: null,
    year: "2026",
    month: "11",
    day,
    ...fields,
  };
}

const RECORDS: UsageRecord[] = [
  // The 27th, Haiku: ten timed calls of 50 output tokens, 100 ms to 1,000 ms, two of them latency-optimized.
  ...Array.from({ length: 10 }, (_, index) =>
    row("27", { latency_ms: (index + 1) * 100, ...(index < 2 ? { latency: "optimized", performance_tier: "optimized" } : {}) }),
  ),
  // A throttled call and another failure: no latency, no output.
  row("27", { error_code: "ThrottlingException", output_tokens: 0, stop_reason: null }),
  row("27", { error_code: "ValidationException", output_tokens: 0, stop_reason: null }),
  // An InvokeModel call: no latency in the log, its output tokens are not in the throughput.
  row("27", { operation: "InvokeModel", model_id: HAIKU, profile: "none", output_tokens: 999 }),
  // An unresolved application profile: counted under its model key, nothing timed.
  row("27", {
    model_id: AIP,
    model: null,
    profile: "application",
    status: "unpriced",
    cost_usd: null,
    reason: "unknown profile",
    profile_tags: { team: "ml" },
  }),
  // The 28th, Haiku: one call Bedrock timed at 0 ms.
  row("28", { latency_ms: 0, output_tokens: 5 }),
];

describe("model_performance_daily over the local lake (DuckDB dialect, Parquet)", () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let athena: LocalAthena;

  beforeAll(async () => {
    lake = await tempLake();
    const lakeDir = join(lake.dir, "lake");
    const writer = await DuckDbLakeWriter.open({ lakeDir });
    try {
      await writer.write(RECORDS);
    } finally {
      await writer.close();
    }
    athena = await LocalAthena.open({ lakeDir });
  });

  afterAll(async () => {
    await athena.close();
    await lake.remove();
  });

  it("gives invocations, errors, throttles, exact latency percentiles, throughput and the optimized share per day and model", async () => {
    // Act
    const { rows } = await athena.query("SELECT * EXCLUDE (usage_date) FROM model_performance_daily ORDER BY day, model");

    // Assess
    expect(rows).toEqual([
      {
        year: "2026",
        month: "11",
        day: "27",
        model: HAIKU,
        invocations: 13,
        errors: 2,
        throttles: 1,
        error_rate: 2 / 13,
        throttle_rate: 1 / 13,
        timed_invocations: 10,
        // QUANTILE_DISC: an observed latency, by nearest rank (the ceil(n x p)-th smallest of the ten).
        latency_p50_ms: 500,
        latency_p90_ms: 900,
        latency_p99_ms: 1000,
        // 10 x 50 output tokens over 5,500 ms; the untimed InvokeModel call's 999 tokens are left out.
        output_tokens_per_second: (500 * 1000) / 5500,
        optimized_share: 2 / 13,
      },
      {
        year: "2026",
        month: "11",
        day: "27",
        model: `unresolved:${AIP}`,
        invocations: 1,
        errors: 0,
        throttles: 0,
        error_rate: 0,
        throttle_rate: 0,
        timed_invocations: 0,
        latency_p50_ms: null,
        latency_p90_ms: null,
        latency_p99_ms: null,
        output_tokens_per_second: null,
        optimized_share: 0,
      },
      {
        year: "2026",
        month: "11",
        day: "28",
        model: HAIKU,
        invocations: 1,
        errors: 0,
        throttles: 0,
        error_rate: 0,
        throttle_rate: 0,
        timed_invocations: 1,
        latency_p50_ms: 0,
        latency_p90_ms: 0,
        latency_p99_ms: 0,
        // Latencies adding up to 0 ms give no throughput, not a division by zero.
        output_tokens_per_second: null,
        optimized_share: 0,
      },
    ]);
  });

  it("reads the new columns back as written: latency, stop reason, performance tier and profile tags", async () => {
    // Act
    const { rows } = await athena.query(
      "SELECT latency_ms, performance_tier, stop_reason, profile_tags FROM invocations WHERE request_id IN ('perf-1', 'perf-11', 'perf-14') ORDER BY request_id",
    );

    // Assess
    expect(rows).toEqual([
      { latency_ms: 100, performance_tier: "optimized", stop_reason: "end_turn", profile_tags: {} },
      { latency_ms: null, performance_tier: null, stop_reason: null, profile_tags: {} },
      { latency_ms: null, performance_tier: null, stop_reason: "end_turn", profile_tags: { team: "ml" } },
    ]);
  });
});
