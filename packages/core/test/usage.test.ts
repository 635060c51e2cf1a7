import { describe, expect, it } from "vitest";
import { dataColumns, duckDbType, glueType, partitionColumns, USAGE_COLUMNS, UsageRecordSchema } from "../src/usage";

const DESIGN_COLUMNS = [
  "request_id",
  "event_time",
  "account_id",
  "region",
  "inference_region",
  "operation",
  "model_id",
  "model",
  "profile",
  "tenant_id",
  "tenant_group",
  "department_id",
  "user_id",
  "application_id",
  "principal_arn",
  "metadata",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "cost_usd",
  "price_version",
  "status",
  "error_code",
  "cache_write_1h_tokens",
  "latency",
  "service_tier",
  "latency_ms",
  "performance_tier",
  "stop_reason",
  "profile_tags",
  "input_cost_usd",
  "output_cost_usd",
  "cache_read_cost_usd",
  "cache_write_cost_usd",
  "year",
  "month",
  "day",
];

describe("The usage record definition", () => {
  it("has every column of the usage record (docs/architecture.md), each once", () => {
    const names = USAGE_COLUMNS.map((column) => column.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of DESIGN_COLUMNS) expect(names).toContain(name);
  });

  it("partitions by year, month and day, and keeps them out of the data columns", () => {
    expect(partitionColumns().map((column) => column.name)).toEqual(["year", "month", "day"]);
    expect(dataColumns().some((column) => column.partition)).toBe(false);
  });

  it("maps every column to a Glue and a DuckDB type, cost as an exact decimal", () => {
    const cost = USAGE_COLUMNS.find((column) => column.name === "cost_usd");
    expect(cost && glueType(cost)).toBe("decimal(38,12)");
    expect(cost && duckDbType(cost)).toBe("DECIMAL(38,12)");
    const metadata = USAGE_COLUMNS.find((column) => column.name === "metadata");
    expect(metadata && glueType(metadata)).toBe("map<string,string>");
    for (const column of USAGE_COLUMNS) {
      expect(glueType(column)).toMatch(/^(string|timestamp|bigint|decimal\(38,12\)|map<string,string>)$/);
      expect(duckDbType(column)).toMatch(/^(VARCHAR|TIMESTAMP|BIGINT|DECIMAL\(38,12\)|MAP\(VARCHAR, VARCHAR\))$/);
    }
  });

  it("has no column for prompt or response bodies", () => {
    expect(USAGE_COLUMNS.filter((column) => /body|prompt|response|message/i.test(column.name))).toEqual([]);
  });
});

describe("Schema: UsageRecordSchema", () => {
  const record = {
    request_id: "r1",
    event_time: "2026-11-27T10:00:00Z",
    account_id: null,
    region: "us-east-1",
    inference_region: null,
    operation: "Converse",
    model_id: "global.x",
    model: "x",
    profile: "global",
    tenant_id: "acme",
    tenant_group: null,
    department_id: null,
    user_id: null,
    application_id: null,
    principal_arn: null,
    metadata: { tenantId: "acme" },
    input_tokens: 1,
    output_tokens: 2,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: "0.000001",
    price_version: "v",
    status: "priced",
    reason: null,
    error_code: null,
    cache_write_1h_tokens: null,
    latency: null,
    service_tier: null,
    latency_ms: null,
    performance_tier: null,
    stop_reason: null,
    profile_tags: {},
    input_cost_usd: "0.000001",
    output_cost_usd: "0",
    cache_read_cost_usd: "0",
    cache_write_cost_usd: "0",
    year: "2026",
    month: "11",
    day: "27",
  };

  it("accepts a well-formed record", () => {
    expect(UsageRecordSchema.parse(record)).toEqual(record);
  });

  it.each([
    ["a body field", { inputBodyJson: {} }],
    ["a float cost", { cost_usd: 0.1 }],
    ["a negative token count", { input_tokens: -1 }],
    ["an unknown status", { status: "invalid" }],
    ["a local timestamp", { event_time: "2026-11-27 10:00:00" }],
    ["a negative latency", { latency_ms: -1 }],
    ["a fractional latency", { latency_ms: 1.5 }],
    ["null profile tags (never null: empty)", { profile_tags: null }],
  ])("refuses %s", (_, change) => {
    expect(UsageRecordSchema.safeParse({ ...record, ...change }).success).toBe(false);
  });
});
