/**
 * The performance columns of the usage record (latency_ms, performance_tier, stop_reason,
 * profile_tags): what the pricer writes from a validated invocation, and that an odd value is null,
 * never a reason to refuse the record.
 */
import { describe, expect, it } from "vitest";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { StaticProfileMap } from "../src/model";
import { Pricer } from "../src/pricer";
import { invocationLogOfRecord, repriceRecord } from "../src/reprice";
import { UsageRecordSchema } from "../src/usage";
import { invocationLog } from "./helpers/factories";

const AIP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
const pricer = new Pricer({ catalog: defaultCatalog() });

function recordOf(value: Record<string, unknown>, using = pricer) {
  const parsed = parseInvocationLog(JSON.parse(JSON.stringify(value)));
  if (!parsed.ok) throw new Error(parsed.reason);
  return using.price(parsed.log).record;
}

describe("Usage record: performance columns", () => {
  it("takes latency_ms and stop_reason from a Converse response, and performance_tier from performanceConfig.latency", () => {
    // Act
    const record = recordOf(invocationLog({ performanceConfig: { latency: "optimized" } }));

    // Assess
    expect(record).toMatchObject({ latency_ms: 812, stop_reason: "end_turn", latency: "optimized", performance_tier: "optimized", profile_tags: {} });
    expect(UsageRecordSchema.parse(record)).toEqual(record);
  });

  it("takes them from a logged ConverseStream's messageStop and last metadata event", () => {
    // Prepare
    const events = [
      { messageStart: { role: "assistant" } },
      { contentBlockDelta: { delta: { text: "Refund " }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: "requested." }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: "max_tokens" } },
      { metadata: { usage: { inputTokens: 120, outputTokens: 40, totalTokens: 160 }, metrics: { latencyMs: 1534 } } },
    ];

    // Act
    const record = recordOf(
      invocationLog({ operation: "ConverseStream", output: { outputContentType: "application/json", outputBodyJson: events, outputTokenCount: 40 } }),
    );

    // Assess
    expect(record).toMatchObject({ latency_ms: 1534, stop_reason: "max_tokens", performance_tier: null });
  });

  it("takes the stop reason of a native InvokeModel body, and no latency", () => {
    // Prepare
    const anthropic = { id: "msg_1", type: "message", content: [{ type: "text", text: "ok" }], stop_reason: "tool_use", usage: { input_tokens: 120 } };
    const titan = { inputTextTokenCount: 120, results: [{ tokenCount: 40, outputText: "ok", completionReason: "LENGTH" }] };
    const mistral = { choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] };
    const invoke = (body: unknown) =>
      recordOf(invocationLog({ operation: "InvokeModel", output: { outputContentType: "application/json", outputBodyJson: body, outputTokenCount: 40 } }));

    // Assess
    expect(invoke(anthropic)).toMatchObject({ latency_ms: null, stop_reason: "tool_use" });
    expect(invoke(titan)).toMatchObject({ latency_ms: null, stop_reason: "LENGTH" });
    expect(invoke(mistral)).toMatchObject({ latency_ms: null, stop_reason: "stop" });
    expect(invoke({ generation: "ok" })).toMatchObject({ latency_ms: null, stop_reason: null });
  });

  it.each([
    ["negative", { latencyMs: -1 }],
    ["a string", { latencyMs: "812" }],
    ["above 2^53 - 1", { latencyMs: 2 ** 53 }],
    ["a fraction", { latencyMs: 0.5 }],
    ["absent", {}],
  ])("keeps a record whose latency is %s, with latency_ms null", (_label, metrics) => {
    // Prepare
    const value = invocationLog();
    const output = value.output as { outputBodyJson: Record<string, unknown> };
    output.outputBodyJson = { ...output.outputBodyJson, metrics };

    // Act
    const record = recordOf(value);

    // Assess
    expect(record.latency_ms).toBeNull();
    expect(record.status).toBe("priced");
  });

  it("fills profile_tags from the application inference profile the call went through", () => {
    // Prepare
    const tags = { team: "ml", project: "support-bot" };
    const withProfiles = new Pricer({
      catalog: defaultCatalog(),
      profiles: StaticProfileMap.fromJson({ [AIP]: { model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", tags } }),
    });

    // Act
    const record = recordOf(invocationLog({ modelId: AIP }), withProfiles);

    // Assess
    expect(record.profile_tags).toEqual(tags);
    expect(recordOf(invocationLog(), withProfiles).profile_tags).toEqual({});
    expect(UsageRecordSchema.parse(record)).toEqual(record);
  });

  it("keeps the performance columns through a reprice", () => {
    // Prepare
    const record = recordOf(invocationLog({ performanceConfig: { latency: "standard" } }));

    // Act
    const repriced = repriceRecord(record, pricer).record;

    // Assess
    expect(invocationLogOfRecord(record)).toMatchObject({ latencyMs: 812, stopReason: "end_turn", latency: "standard" });
    expect(repriced).toMatchObject({ latency_ms: 812, stop_reason: "end_turn", performance_tier: "standard", profile_tags: {} });
  });
});
