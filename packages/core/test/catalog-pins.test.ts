/**
 * Pins of the shipped catalog's corrected and contested prices (catalog version 2026-12-01): each
 * choice is priced through the real Pricer from a real-shaped invocation log record, on both sides
 * of every dated change. Expected costs are worked by hand from the rates, USD per million tokens.
 */
import { describe, expect, it } from "vitest";
import type { PriceEntryJson } from "../src/catalog";
import { defaultCatalog } from "../src/defaults";
import { parseInvocationLog } from "../src/invocation";
import { Pricer } from "../src/pricer";

const pricer = new Pricer({ catalog: defaultCatalog() });
const M = 1_000_000;

interface Call {
  modelId: string;
  /** UTC date; the call is logged at 12:00 that day. */
  day: string;
  region?: string;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** Of cacheWrite, the tokens written with a 1-hour TTL (the response's usage.cacheDetails). */
  cacheWrite1h?: number;
  /** performanceConfig.latency of the response. */
  latency?: "standard" | "optimized";
  /** serviceTier.type of the response. */
  serviceTier?: "default" | "flex" | "priority";
}

/** A Converse invocation log record as Bedrock writes it (schema 1.0). */
function bedrockLog(call: Call): Record<string, unknown> {
  const region = call.region ?? "us-east-1";
  return {
    schemaType: "ModelInvocationLog",
    schemaVersion: "1.0",
    timestamp: `${call.day}T12:00:00Z`,
    accountId: "123456789012",
    identity: { arn: "arn:aws:sts::123456789012:assumed-role/AppRole/session-1" },
    region,
    requestId: "0b6f1c2a-9e8b-4d7c-9f21-3c2d4e5f6a7b",
    operation: "Converse",
    modelId: call.modelId,
    requestMetadata: { tenantId: "acme" },
    input: {
      inputContentType: "application/json",
      inputTokenCount: call.input ?? 0,
      cacheReadInputTokenCount: call.cacheRead ?? 0,
      cacheWriteInputTokenCount: call.cacheWrite ?? 0,
    },
    output: { outputContentType: "application/json", outputBodyJson: responseBody(call), outputTokenCount: call.output ?? 0 },
  };
}

/** The Converse response body: where Bedrock logs the latency, the service tier and the 1-hour writes. */
function responseBody(call: Call): Record<string, unknown> {
  const body: Record<string, unknown> = { stopReason: "end_turn", metrics: { latencyMs: 420 } };
  const usage: Record<string, unknown> = { inputTokens: call.input ?? 0, outputTokens: call.output ?? 0 };
  if (call.cacheWrite1h !== undefined) {
    const fiveMinutes = (call.cacheWrite ?? 0) - call.cacheWrite1h;
    usage.cacheWriteInputTokens = call.cacheWrite ?? 0;
    usage.cacheDetails = [{ ttl: "1h", inputTokens: call.cacheWrite1h }, ...(fiveMinutes > 0 ? [{ ttl: "5m", inputTokens: fiveMinutes }] : [])];
  }
  body.usage = usage;
  if (call.latency) body.performanceConfig = { latency: call.latency };
  if (call.serviceTier) body.serviceTier = { type: call.serviceTier };
  return body;
}

function price(call: Call) {
  const parsed = parseInvocationLog(bedrockLog(call));
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.reason}`);
  return pricer.price(parsed.log).record;
}

function cost(call: Call): string | null {
  const record = price(call);
  if (record.status !== "priced") throw new Error(`${call.modelId} on ${call.day} is ${record.status}: ${record.reason}`);
  return record.cost_usd;
}

describe("Default catalog: Claude Sonnet 5 stays at $2/$10 after 2026-09-01 (the rise to $3/$15 was cancelled)", () => {
  it("prices 1M input + 1M output via global. at 2 + 10 on 2026-10-15", () => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-5", day: "2026-10-15", input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe("12.000000");
  });

  it("prices the same call via us. at the geo rate 2.20 + 11", () => {
    // Arrange
    const call = { modelId: "us.anthropic.claude-sonnet-5", day: "2026-10-15", input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe("13.200000");
  });

  it.each([
    ["2026-08-31", "12.000000"],
    ["2026-09-01", "12.000000"],
  ])("charges the same on %s as before the cancelled change", (day, expected) => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-5", day, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices global cache tokens at 0.20 read + 2.50 five-minute write", () => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-5", day: "2026-10-15", cacheRead: M, cacheWrite: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe("2.700000");
  });
});

describe("Default catalog: Claude 3.5 Sonnet v2 public extended access at 2x", () => {
  it.each([
    ["2025-11-30", "18.000000"],
    ["2025-12-01", "36.000000"],
  ])("prices an in-Region us-east-1 call on %s at %s", (day, expected) => {
    // Arrange
    const call = { modelId: "anthropic.claude-3-5-sonnet-20241022-v2:0", day, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices extended-access cache tokens at 0.60 read + 7.50 write", () => {
    // Arrange
    const call = { modelId: "us.anthropic.claude-3-5-sonnet-20241022-v2:0", day: "2026-01-15", cacheRead: M, cacheWrite: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe("8.100000");
  });

  it.each([
    ["2026-02-01", "18.000000"],
    ["2026-04-29", "18.000000"],
    ["2026-04-30", "36.000000"],
  ])("keeps Tokyo (ap-northeast-1) at the standard rate until its own extended access on 2026-04-30: %s", (day, expected) => {
    // Arrange
    const call = { modelId: "apac.anthropic.claude-3-5-sonnet-20241022-v2:0", day, region: "ap-northeast-1", input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });
});

describe("Default catalog: Llama, Mistral and Claude 3.5 Haiku price cuts are dated, launch rates kept before them", () => {
  it.each([
    ["meta.llama3-1-405b-instruct-v1:0", "2024-12-01", "21.320000"],
    ["meta.llama3-1-405b-instruct-v1:0", "2024-12-02", "4.800000"],
    ["meta.llama3-1-405b-instruct-v1:0", "2026-05-01", "4.800000"],
    ["meta.llama3-1-70b-instruct-v1:0", "2024-12-01", "1.980000"],
    ["meta.llama3-1-70b-instruct-v1:0", "2024-12-02", "1.440000"],
    ["meta.llama3-2-11b-instruct-v1:0", "2024-12-01", "0.700000"],
    ["meta.llama3-2-11b-instruct-v1:0", "2024-12-02", "0.320000"],
    ["meta.llama3-2-90b-instruct-v1:0", "2024-12-01", "4.000000"],
    ["meta.llama3-2-90b-instruct-v1:0", "2024-12-02", "1.440000"],
    ["mistral.mistral-large-2402-v1:0", "2024-12-16", "32.000000"],
    ["mistral.mistral-large-2402-v1:0", "2024-12-17", "16.000000"],
    ["anthropic.claude-3-5-haiku-20241022-v1:0", "2024-12-01", "6.000000"],
    ["anthropic.claude-3-5-haiku-20241022-v1:0", "2024-12-02", "4.800000"],
  ])("prices 1M input + 1M output of %s on %s at %s", (modelId, day, expected) => {
    // Arrange
    const call = { modelId, day, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("resolves the Llama 3.1 405B conflict to 2.40/2.40 (AWS) over 5.32/16 (launch) and 2.50/10 (third party)", () => {
    // Arrange
    const call = { modelId: "us.meta.llama3-1-405b-instruct-v1:0", day: "2026-03-01", region: "us-east-2", input: 500_000, output: 250_000 };

    // Act
    const usd = cost(call);

    // Assess: 0.5 x 2.40 + 0.25 x 2.40
    expect(usd).toBe("1.800000");
  });
});

describe("Default catalog: Opus 4.6 and Sonnet 4.6 long context above 200K tokens until 2026-03-13", () => {
  it.each([
    ["global.anthropic.claude-opus-4-6-v1", "2026-03-12", "3.375000"], // 0.3M x 10 + 0.01M x 37.50
    ["global.anthropic.claude-opus-4-6-v1", "2026-03-13", "1.750000"], // 0.3M x 5 + 0.01M x 25
    ["us.anthropic.claude-sonnet-4-6", "2026-03-12", "2.227500"], // 0.3M x 6.60 + 0.01M x 24.75
    ["us.anthropic.claude-sonnet-4-6", "2026-03-13", "1.155000"], // 0.3M x 3.30 + 0.01M x 16.50
  ])("prices 300K input + 10K output of %s on %s at %s", (modelId, day, expected) => {
    // Arrange
    const call = { modelId, day, input: 300_000, output: 10_000 };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("keeps exactly 200,000 prompt tokens at the standard rate", () => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-4-6", day: "2026-03-01", input: 200_000 };

    // Act
    const usd = cost(call);

    // Assess: 0.2M x 3.00
    expect(usd).toBe("0.600000");
  });

  it("counts cache reads toward the threshold and then prices every class at the long-context rate", () => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-4-6", day: "2026-03-01", input: 100_000, cacheRead: 150_000 };

    // Act
    const usd = cost(call);

    // Assess: 0.1M x 6.00 + 0.15M x 0.60
    expect(usd).toBe("0.690000");
  });
});

describe("Default catalog: Regional prices by source Region", () => {
  it.each([
    ["us-east-1", "2.470000"],
    ["ap-northeast-1", "2.960000"],
    ["ap-south-1", "2.960000"],
    ["sa-east-1", "2.960000"],
    ["ap-southeast-3", "2.960000"],
    ["eu-north-1", "2.960000"],
    ["ap-southeast-2", "2.544100"],
  ])("prices DeepSeek V3.2 1M input + 1M output called in %s at %s", (region, expected) => {
    // Arrange
    const call = { modelId: "deepseek.v3.2", day: "2026-10-01", region, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it.each([
    ["mistral.mistral-large-3-675b-instruct", "ap-south-1", "2.350000"],
    ["mistral.mistral-large-3-675b-instruct", "us-west-2", "2.000000"],
    ["mistral.devstral-2-123b", "eu-central-1", "2.880000"],
    ["mistral.devstral-2-123b", "us-east-1", "2.400000"],
  ])("prices %s in %s at %s", (modelId, region, expected) => {
    // Arrange
    const call = { modelId, day: "2026-10-01", region, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it.each([
    ["eu.amazon.nova-micro-v1:0", "eu-central-1", "0.230000"],
    ["apac.amazon.nova-micro-v1:0", "ap-southeast-2", "0.185000"],
    ["us.amazon.nova-micro-v1:0", "us-east-1", "0.175000"],
  ])("prices Nova Micro %s from %s at %s", (modelId, region, expected) => {
    // Arrange
    const call = { modelId, day: "2026-10-01", region, input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });
});

describe("Default catalog: Claude in AWS GovCloud (US) at 1.2x the base rate", () => {
  // 100K input keeps every call under the 200K long-context threshold
  it.each([
    ["us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov-west-1", "18.360000"], // 0.1 x 3.60 + 18
    ["us-gov.anthropic.claude-haiku-4-5-20251001-v1:0", "us-gov-east-1", "6.120000"], // 0.1 x 1.20 + 6
    ["us-gov.anthropic.claude-3-7-sonnet-20250219-v1:0", "us-gov-east-1", "18.360000"],
    ["us-gov.anthropic.claude-3-haiku-20240307-v1:0", "us-gov-west-1", "1.530000"], // 0.1 x 0.30 + 1.50
    ["anthropic.claude-3-haiku-20240307-v1:0", "us-gov-west-1", "1.530000"],
    ["anthropic.claude-3-haiku-20240307-v1:0", "us-east-1", "1.275000"], // commercial: 0.1 x 0.25 + 1.25
  ])("prices %s from %s at %s for 100K input + 1M output", (modelId, region, expected) => {
    // Arrange
    const call = { modelId, day: "2026-05-01", region, input: 100_000, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices Sonnet 4.5 in GovCloud above 200K input at its long-context rate", () => {
    // Arrange
    const call = { modelId: "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", day: "2026-05-01", region: "us-gov-west-1", input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess: 7.20 + 27.00
    expect(usd).toBe("34.200000");
  });
});

describe("Default catalog: real launch dates instead of placeholders", () => {
  it.each([
    ["global.anthropic.claude-opus-4-6-v1", "2026-02-04", "2026-02-05"],
    ["global.anthropic.claude-sonnet-4-6", "2026-02-16", "2026-02-17"],
    ["global.anthropic.claude-opus-4-7", "2026-04-15", "2026-04-16"],
    ["global.anthropic.claude-opus-4-8", "2026-05-27", "2026-05-28"],
    ["global.anthropic.claude-sonnet-5", "2026-06-29", "2026-06-30"],
    ["global.anthropic.claude-opus-5", "2026-07-23", "2026-07-24"],
    ["global.anthropic.claude-opus-5-5", "2026-09-21", "2026-09-22"],
    ["global.anthropic.claude-sonnet-5-5", "2026-09-27", "2026-09-28"],
  ])("leaves %s unpriced on %s and prices it from %s", (modelId, dayBefore, launch) => {
    // Arrange
    const before = { modelId, day: dayBefore, input: 1000, output: 100 };
    const after = { modelId, day: launch, input: 1000, output: 100 };

    // Act
    const [early, onLaunch] = [price(before), price(after)];

    // Assess
    expect(early.status).toBe("unpriced");
    expect(early.reason).toContain(`effective on ${dayBefore}`);
    expect(onLaunch.status).toBe("priced");
  });
});

describe("Default catalog: models added in 2026-12-01", () => {
  it.each([
    ["global.anthropic.claude-opus-5-5", "2026-10-15", M, M, 0, "24.000000"],
    ["us.anthropic.claude-opus-5-5", "2026-10-15", M, M, 0, "26.400000"],
    ["global.anthropic.claude-opus-5-5", "2026-10-15", 0, 0, M, "0.200000"], // cache read 0.05x input
    ["global.anthropic.claude-sonnet-5-5", "2026-10-06", 0, 0, M, "0.200000"],
    ["global.anthropic.claude-sonnet-5-5", "2026-10-07", 0, 0, M, "0.100000"], // cache read cut
    ["us.anthropic.claude-sonnet-5-5", "2026-10-07", 0, 0, M, "0.110000"],
    ["us.amazon.nova-2-pro-v1:0", "2026-10-15", M, M, 0, "12.375000"],
    ["moonshotai.kimi-k2.5", "2026-10-15", M, M, 0, "3.600000"],
    ["minimax.minimax-m2", "2026-10-15", M, M, 0, "1.500000"],
    ["zai.glm-4.7", "2026-10-15", M, M, 0, "2.800000"],
    ["qwen.qwen3-235b-a22b-2507-v1:0", "2026-10-15", M, M, 0, "1.100000"],
    ["us.writer.palmyra-x5-v1:0", "2026-10-15", M, M, 0, "6.600000"],
    ["openai.gpt-oss-120b", "2026-10-15", M, M, 0, "0.750000"], // bedrock-mantle id
  ])("prices %s on %s (%d in, %d out, %d cache read) at %s", (modelId, day, input, output, cacheRead, expected) => {
    // Arrange
    const call = { modelId, day, input, output, cacheRead };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices GLM 5 only where its rate is known (us-east-1)", () => {
    // Arrange
    const east = { modelId: "zai.glm-5", day: "2026-10-15", region: "us-east-1", input: M, output: M };
    const west = { modelId: "zai.glm-5", day: "2026-10-15", region: "us-west-2", input: M, output: M };

    // Act
    const [known, unknown] = [price(east), price(west)];

    // Assess
    expect(known.cost_usd).toBe("4.200000");
    expect(unknown.status).toBe("unpriced");
  });
});

describe("Default catalog: OpenAI GPT-5.x on Bedrock and its 2026 cuts", () => {
  // 100K input stays under the 272K long-context threshold
  it.each([
    ["openai.gpt-5.6-terra", "2026-07-29", "16.775000"], // launch 1.1x list: 0.1 x 2.75 + 16.50
    ["openai.gpt-5.6-terra", "2026-07-30", "13.420000"], // -20%: 0.1 x 2.20 + 13.20
    ["global.openai.gpt-5.6-terra", "2026-07-30", "12.200000"], // list: 0.1 x 2 + 12
    ["openai.gpt-5.6-luna", "2026-07-29", "6.710000"], // 0.1 x 1.10 + 6.60
    ["openai.gpt-5.6-luna", "2026-07-30", "1.342000"], // -80%: 0.1 x 0.22 + 1.32
    ["openai.gpt-5.6-sol", "2026-08-20", "33.550000"], // 0.1 x 5.50 + 33
    ["openai.gpt-5.6-sol", "2026-08-21", "22.440000"], // promo: 0.1 x 4.40 + 22
    ["us.openai.gpt-5.6-sol", "2026-11-30", "22.440000"], // geo = in-Region rate
    ["openai.gpt-5.5", "2026-10-15", "33.550000"], // 0.1 x 5.50 + 33
    ["openai.gpt-5.4", "2026-10-15", "16.775000"], // 0.1 x 2.75 + 16.50
  ])("prices 100K input + 1M output of %s on %s at %s", (modelId, day, expected) => {
    // Arrange
    const call = { modelId, day, input: 100_000, output: M };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices GPT-5.4 in AWS GovCloud (US-West) at its own rate", () => {
    // Arrange
    const call = { modelId: "openai.gpt-5.4", day: "2026-10-15", region: "us-gov-west-1", input: M, output: M };

    // Act
    const usd = cost(call);

    // Assess: 3.30 + 19.80
    expect(usd).toBe("23.100000");
  });

  it.each([
    [272_000, "1.088000"], // 0.272M x 4.00, standard
    [300_000, "2.700000"], // 0.3M x 8.00 + 0.01M x 30.00, long context
  ])("prices GPT-5.6 Sol via global. with %d input tokens and 10K output at %s", (input, expected) => {
    // Arrange
    const call = { modelId: "global.openai.gpt-5.6-sol", day: "2026-09-01", input, output: input > 272_000 ? 10_000 : 0 };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });
});

describe("Default catalog: billing dimensions (1-hour cache writes, latency-optimized, service tiers)", () => {
  it.each([
    ["global.anthropic.claude-sonnet-4-6", M, "6.000000"], // 1h write 2x input: 6.00
    ["us.anthropic.claude-sonnet-4-6", M, "6.600000"],
    ["global.anthropic.claude-sonnet-4-6", 400_000, "4.650000"], // 0.4M x 6.00 + 0.6M x 3.75
    ["global.anthropic.claude-haiku-4-5-20251001-v1:0", M, "2.000000"],
    ["global.anthropic.claude-sonnet-5", M, "4.000000"],
    ["global.anthropic.claude-opus-5-5", M, "8.000000"],
    ["eu.anthropic.claude-opus-5-5", M, "8.800000"],
  ])("prices 1M cache-write tokens of %s, %d of them 1-hour, at %s", (modelId, oneHour, expected) => {
    // Arrange
    const call = { modelId, day: "2026-10-15", region: modelId.startsWith("eu.") ? "eu-west-1" : "us-east-1", cacheWrite: M, cacheWrite1h: oneHour };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("prices 1-hour writes above 200K at Sonnet 4.5's long-context 1-hour rate", () => {
    // Arrange
    const call = { modelId: "global.anthropic.claude-sonnet-4-5-20250929-v1:0", day: "2026-10-15", input: 300_000, cacheWrite: 100_000, cacheWrite1h: 100_000 };

    // Act
    const usd = cost(call);

    // Assess: 0.3M x 6.00 + 0.1M x 12.00
    expect(usd).toBe("3.000000");
  });

  it("leaves 1-hour writes unpriced on a model Bedrock caches for 5 minutes only (Claude 3.7 Sonnet)", () => {
    // Arrange
    const call = { modelId: "us.anthropic.claude-3-7-sonnet-20250219-v1:0", day: "2026-03-01", cacheWrite: 1000, cacheWrite1h: 1000 };

    // Act
    const record = price(call);

    // Assess
    expect(record.status).toBe("unpriced");
  });

  it.each([
    ["us.amazon.nova-pro-v1:0", "optimized", "5.000000"], // 1.00 + 4.00
    ["us.amazon.nova-pro-v1:0", "standard", "4.000000"], // 0.80 + 3.20
    ["us.meta.llama3-1-405b-instruct-v1:0", "optimized", "6.000000"], // 3.00 + 3.00
    ["us.meta.llama3-1-70b-instruct-v1:0", "optimized", "1.800000"], // 0.90 + 0.90
    ["us.anthropic.claude-3-5-haiku-20241022-v1:0", "optimized", "6.000000"], // 1.00 + 5.00
  ] as const)("prices 1M input + 1M output of %s at %s latency at %s", (modelId, latency, expected) => {
    // Arrange
    const call = { modelId, day: "2026-03-01", region: "us-east-2", input: M, output: M, latency };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it.each([
    ["global.amazon.nova-2-lite-v1:0", "flex", "1.400000"], // 0.15 + 1.25
    ["global.amazon.nova-2-lite-v1:0", "priority", "4.900000"], // 0.525 + 4.375
    ["us.amazon.nova-2-lite-v1:0", "flex", "1.540000"], // 0.165 + 1.375
    ["us.amazon.nova-2-lite-v1:0", "priority", "5.390000"], // 0.5775 + 4.8125
  ] as const)("prices 1M input + 1M output of %s on the %s tier at %s", (modelId, serviceTier, expected) => {
    // Arrange
    const call = { modelId, day: "2026-10-15", input: M, output: M, serviceTier };

    // Act
    const usd = cost(call);

    // Assess
    expect(usd).toBe(expected);
  });

  it("leaves a priority-tier GPT-5.6 call unpriced (the model cards list no Flex or Priority)", () => {
    // Arrange
    const call = { modelId: "global.openai.gpt-5.6-terra", day: "2026-10-15", input: 1000, output: 100, serviceTier: "priority" as const };

    // Act
    const record = price(call);

    // Assess
    expect(record.status).toBe("unpriced");
  });

  it("gives every entry a source URL, a checked date, a confidence and a note of at most 120 characters", () => {
    // Arrange
    const entries = defaultCatalog().entries.map((entry) => entry.json as PriceEntryJson & Record<string, unknown>);

    // Act
    const bad = entries.filter(
      (json) =>
        !/^https:\/\//.test(String(json.source)) ||
        !/^\d{4}-\d{2}-\d{2}$/.test(String(json.checked)) ||
        !["primary", "secondary"].includes(String(json.confidence)) ||
        (json.note !== undefined && String(json.note).length > 120),
    );

    // Assess
    expect(bad).toEqual([]);
    expect(defaultCatalog().version).toBe("2026-12-01");
  });
});
