/**
 * The generated traffic as the performance columns read it: Converse and ConverseStream records
 * carry a measured latency and a stop reason that the usage record takes over; InvokeModel records
 * have no latency (Bedrock logs none), and their native bodies say why the model stopped.
 */
import { describe, expect, it } from "vitest";
import { defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap, type UsageRecord } from "../../core/src/index";
import { APPLICATION_PROFILES, generateTraffic, type InvocationLogRecord, MODEL_MIX } from "../src/index";

const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });

const usage: { record: InvocationLogRecord; usage: UsageRecord }[] = [];
for (const item of generateTraffic({ seed: 20261128, count: 6_000 })) {
  if (item.kind !== "record" || !item.priced) continue;
  const parsed = parseInvocationLog(JSON.parse(JSON.stringify(item.record)));
  if (parsed.ok) usage.push({ record: item.record, usage: pricer.price(parsed.log).record });
}
const converse = usage.filter(({ record }) => record.operation === "Converse" || record.operation === "ConverseStream");
const invoke = usage.filter(({ record }) => record.operation.startsWith("InvokeModel"));

describe("generateTraffic: performance as the usage record reads it", () => {
  it("gives every Converse and ConverseStream call a latency and a stop reason", () => {
    // Assess
    expect(converse.length).toBeGreaterThan(1000);
    expect(converse.filter(({ record }) => record.operation === "ConverseStream").length).toBeGreaterThan(100);
    for (const { usage: row } of converse) {
      expect(row.latency_ms).toEqual(expect.any(Number));
      expect(row.stop_reason).toBe("end_turn");
    }
  });

  it("makes the latency plausible: a first byte, then about the model's speed per output token", () => {
    // Assess: tokens per second, per model, within a factor of two of 1000 / msPerOutputToken.
    let models = 0;
    for (const spec of MODEL_MIX) {
      const rows = converse.filter(({ usage: row }) => row.model_id === spec.modelId && row.output_tokens > 200).map(({ usage: row }) => row);
      if (rows.length < 5) continue;
      models++;
      const outputTokens = rows.reduce((sum, row) => sum + row.output_tokens, 0);
      const latency = rows.reduce((sum, row) => sum + (row.latency_ms ?? 0), 0);
      const perSecond = (outputTokens * 1000) / latency;
      expect(perSecond, spec.modelId).toBeLessThan(1000 / spec.msPerOutputToken);
      expect(perSecond, spec.modelId).toBeGreaterThan(1000 / spec.msPerOutputToken / 2);
    }
    expect(models).toBeGreaterThan(5);
    for (const { usage: row } of converse) expect(row.latency_ms).toBeGreaterThan(0);
  });

  it("logs no latency for InvokeModel calls, and takes the stop reason of the native body where it has one", () => {
    // Assess
    expect(invoke.length).toBeGreaterThan(500);
    expect(invoke.filter(({ usage: row }) => row.latency_ms !== null)).toEqual([]);
    const anthropic = invoke.filter(({ record }) => record.operation === "InvokeModel" && record.modelId.includes("anthropic"));
    expect(anthropic.length).toBeGreaterThan(50);
    for (const { usage: row } of anthropic) expect(row.stop_reason).toBe("end_turn");
  });
});
