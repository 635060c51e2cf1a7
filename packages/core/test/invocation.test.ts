import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTimestamp, MAX_TOKENS_PER_CLASS, parseInvocationLog, parseIsoTimestamp } from "../src/invocation";
import { invocationLog, withTokens } from "./helpers/factories";

function expectInvalid(value: unknown, field: string) {
  const result = parseInvocationLog(value);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.field).toBe(field);
  expect(result.reason.startsWith(`${field}: `)).toBe(true);
  return result;
}

describe("Function: parseInvocationLog()", () => {
  it("reads the fields bedrock-spend uses and drops the bodies", () => {
    // Act
    const result = parseInvocationLog(withTokens(invocationLog(), { input: 120, output: 40, cacheRead: 800, cacheWrite: 28_857 }));

    // Assess
    expect(result).toEqual({
      ok: true,
      log: {
        requestId: "6f1c2a9e-8b7d-4c3e-9f21-0a1b2c3d4e5f",
        timestamp: Date.UTC(2026, 10, 27, 10),
        modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        operation: "Converse",
        accountId: "123456789012",
        region: "us-east-1",
        inferenceRegion: null,
        errorCode: null,
        principalArn: "arn:aws:sts::123456789012:assumed-role/AppRole/session-1",
        metadata: { tenantId: "acme", departmentId: "sales", userId: "u-17" },
        inputTokens: 120,
        outputTokens: 40,
        cacheReadTokens: 800,
        cacheWriteTokens: 28_857,
        latency: null,
        serviceTier: null,
        cacheWrite1hTokens: null,
        latencyMs: 812,
        stopReason: "end_turn",
      },
    });
  });

  it("accepts integral numeric strings as token counts", () => {
    const result = parseInvocationLog(withTokens(invocationLog(), { input: "25", output: " 7 " }));
    expect(result).toMatchObject({ ok: true, log: { inputTokens: 25, outputTokens: 7 } });
  });

  it("defaults missing output and cache counts to zero, as embeddings log them", () => {
    const record = invocationLog({ operation: "InvokeModel", modelId: "amazon.titan-embed-text-v2:0", input: { inputTokenCount: 9 }, output: {} });
    expect(parseInvocationLog(record)).toMatchObject({ ok: true, log: { inputTokens: 9, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } });
  });

  it("accepts a failed invocation without token counts", () => {
    const record = invocationLog({ errorCode: "ThrottlingException", input: { inputContentType: "application/json" }, output: undefined });
    expect(parseInvocationLog(record)).toMatchObject({ ok: true, log: { errorCode: "ThrottlingException", inputTokens: 0, outputTokens: 0 } });
  });

  it("accepts requestMetadata given as a JSON string (InvokeModel header form)", () => {
    const result = parseInvocationLog(invocationLog({ requestMetadata: '{"tenantId":"acme"}' }));
    expect(result).toMatchObject({ ok: true, log: { metadata: { tenantId: "acme" } } });
  });

  it("ignores unknown fields and key order", () => {
    const { requestId, ...rest } = invocationLog();
    expect(parseInvocationLog({ performanceConfig: { latency: "optimized" }, ...rest, requestId }).ok).toBe(true);
  });

  it.each([
    ["a negative count", { input: -1 }, "input.inputTokenCount"],
    ["a fractional count", { input: 2.5 }, "input.inputTokenCount"],
    ["a fractional string", { input: "2.5" }, "input.inputTokenCount"],
    ["a non-numeric string", { input: "abc" }, "input.inputTokenCount"],
    ["a boolean", { output: true }, "output.outputTokenCount"],
    ["null", { cacheRead: null }, "input.cacheReadInputTokenCount"],
    ["an implausible count", { cacheWrite: MAX_TOKENS_PER_CLASS + 1 }, "input.cacheWriteInputTokenCount"],
    ["a count above 2^53", { output: "9007199254740993" }, "output.outputTokenCount"],
  ])("refuses %s as a token count, naming the field", (_, tokens, field) => {
    expectInvalid(withTokens(invocationLog(), tokens), field);
  });

  it("requires inputTokenCount when the invocation did not fail", () => {
    const record = invocationLog({ input: { inputContentType: "application/json" } });
    expect(expectInvalid(record, "input.inputTokenCount")?.reason).toContain("required unless the record has an errorCode");
  });

  it.each([
    ["missing requestId", { requestId: undefined }, "requestId"],
    ["empty requestId", { requestId: "" }, "requestId"],
    ["a requestId with a newline", { requestId: "a\nb" }, "requestId"],
    ["missing modelId", { modelId: undefined }, "modelId"],
    ["a numeric modelId", { modelId: 42 }, "modelId"],
    ["missing timestamp", { timestamp: undefined }, "timestamp"],
    ["a numeric timestamp", { timestamp: 1_795_000_000 }, "timestamp"],
    ["an impossible date", { timestamp: "2026-13-45T99:00:00Z" }, "timestamp"],
    ["February 30th", { timestamp: "2026-02-30T00:00:00Z" }, "timestamp"],
    ["a timestamp without a zone", { timestamp: "2026-11-27T10:00:00" }, "timestamp"],
    ["a word for a timestamp", { timestamp: "yesterday" }, "timestamp"],
    ["another schemaType", { schemaType: "CloudTrail" }, "schemaType"],
    ["a short account id", { accountId: "1234" }, "accountId"],
    ["a region with spaces", { region: "us east 1" }, "region"],
    ["identity as a string", { identity: "arn:aws:iam::1:role/x" }, "identity"],
    ["input as an array", { input: [1, 2] }, "input"],
    ["requestMetadata as an array", { requestMetadata: ["tenantId"] }, "requestMetadata"],
    ["requestMetadata as a non-JSON string", { requestMetadata: "tenant=acme" }, "requestMetadata"],
    ["a metadata value over 256 characters", { requestMetadata: { tenantId: "a".repeat(257) } }, "requestMetadata.tenantId"],
    ["a metadata value with a pipe", { requestMetadata: { tenantId: "acme|evil" } }, "requestMetadata.tenantId"],
    ["a metadata value with quotes", { requestMetadata: { tenantId: "'; DROP TABLE x;--" } }, "requestMetadata.tenantId"],
    ["a non-ASCII metadata value", { requestMetadata: { tenantId: "café" } }, "requestMetadata.tenantId"],
    ["a no-break space in metadata", { requestMetadata: { tenantId: "a\u00a0b" } }, "requestMetadata.tenantId"],
    ["a script tag in metadata", { requestMetadata: { tenantId: "<script>" } }, "requestMetadata.tenantId"],
    ["a numeric metadata value", { requestMetadata: { tenantId: 42 } }, "requestMetadata.tenantId"],
    ["an object metadata value", { requestMetadata: { tenantId: { id: "a" } } }, "requestMetadata.tenantId"],
    ["more than 16 metadata entries", { requestMetadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "requestMetadata"],
    ["a metadata key with a percent sign", { requestMetadata: { "tenant%": "a" } }, "requestMetadata"],
  ])("refuses %s, naming the field", (_, overrides, field) => {
    expectInvalid(invocationLog(overrides), field);
  });

  it("reports the first problem and counts the others", () => {
    const result = expectInvalid({ ...invocationLog({ requestId: undefined, modelId: undefined }) }, "requestId");
    expect(result?.reason).toBe("requestId: is missing (and 1 more problem)");
  });

  it("keeps the identifying fields it could read from an invalid record", () => {
    const result = parseInvocationLog(withTokens(invocationLog(), { input: -5 }));
    expect(result).toMatchObject({
      ok: false,
      partial: { requestId: "6f1c2a9e-8b7d-4c3e-9f21-0a1b2c3d4e5f", modelId: "global.anthropic.claude-haiku-4-5-20251001-v1:0" },
    });
  });

  it("accepts every metadata value Bedrock accepts and refuses the rest", () => {
    const allowed = fc.stringMatching(/^[a-zA-Z0-9 :_@$#=/+,\-.]{0,256}$/);
    fc.assert(
      fc.property(allowed, (value) => {
        expect(parseInvocationLog(invocationLog({ requestMetadata: { tenantId: value } })).ok).toBe(true);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((value) => /[^a-zA-Z0-9 \t\n\v\f\r:_@$#=/+,\-.]/.test(value)),
        (value) => {
          expect(parseInvocationLog(invocationLog({ requestMetadata: { tenantId: value } })).ok).toBe(false);
        },
      ),
    );
  });

  it("never throws on arbitrary JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(typeof parseInvocationLog(value).ok).toBe("boolean");
      }),
    );
  });
});

describe("Function: parseIsoTimestamp()", () => {
  it.each([
    ["2026-11-27T10:00:00Z", Date.UTC(2026, 10, 27, 10)],
    ["2026-11-27T10:00:00.123Z", Date.UTC(2026, 10, 27, 10, 0, 0, 123)],
    ["2026-11-27T10:00:00.123456789Z", Date.UTC(2026, 10, 27, 10, 0, 0, 123)],
    ["2026-11-27T12:00:00+02:00", Date.UTC(2026, 10, 27, 10)],
    ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)],
  ])("parses %s", (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });

  it.each(["2025-02-29T00:00:00Z", "2026-11-27 10:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T10:00:00+15:00", ""])("refuses %j", (text) => {
    expect(parseIsoTimestamp(text)).toBeUndefined();
  });

  it("round-trips through formatTimestamp", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (millis) => {
        expect(parseIsoTimestamp(formatTimestamp(millis))).toBe(millis);
      }),
    );
  });
});

describe("Edge cases of dates and metadata keys", () => {
  it("refuses years before 1970 and instants past year 9999", () => {
    expect(parseIsoTimestamp("0026-11-27T10:00:00Z")).toBeUndefined();
    expect(parseIsoTimestamp("1969-12-31T23:59:59Z")).toBeUndefined();
    expect(parseIsoTimestamp("9999-12-31T23:30:00-14:00")).toBeUndefined();
    expect(parseIsoTimestamp("9999-12-31T09:00:00Z")).toBe(Date.UTC(9999, 11, 31, 9));
  });

  it("keeps a metadata key named __proto__ as data", () => {
    const result = parseInvocationLog(JSON.parse(JSON.stringify(invocationLog()).replace('"requestMetadata":{', '"requestMetadata":{"__proto__":"x",')));
    expect(result.ok && Object.entries(result.log.metadata)).toContainEqual(["__proto__", "x"]);
  });
});

describe("Billing dimensions", () => {
  /** A Converse record whose request and response bodies are `request` and `response` (absent: the factory's). */
  function converse(overrides: { request?: unknown; response?: unknown; cacheWrite?: number; top?: Record<string, unknown> } = {}) {
    const base = withTokens(invocationLog(overrides.top), { cacheWrite: overrides.cacheWrite ?? 0 });
    const input = base.input as Record<string, unknown>;
    const output = base.output as Record<string, unknown>;
    if ("request" in overrides) input.inputBodyJson = overrides.request;
    if ("response" in overrides) output.outputBodyJson = overrides.response;
    return base;
  }
  const dimensionsOf = (value: unknown) => {
    const result = parseInvocationLog(value);
    if (!result.ok) throw new Error(result.reason);
    const { latency, serviceTier, cacheWrite1hTokens } = result.log;
    return { latency, serviceTier, cacheWrite1hTokens };
  };
  const usage = (extra: Record<string, unknown>) => ({ inputTokens: 12, outputTokens: 40, totalTokens: 52, ...extra });

  it("says nothing of a record whose log does not say", () => {
    // Act
    const dimensions = dimensionsOf(invocationLog());

    // Assess
    expect(dimensions).toEqual({ latency: null, serviceTier: null, cacheWrite1hTokens: null });
  });

  it("reads the latency of an InvokeModel request from the log's top-level performanceConfig", () => {
    // Arrange
    const record = invocationLog({ operation: "InvokeModel", performanceConfig: { latency: "optimized" } });

    // Act
    const { latency } = dimensionsOf(record);

    // Assess
    expect(latency).toBe("optimized");
  });

  it("reads the latency of a Converse request from its body", () => {
    // Arrange
    const record = converse({ request: { messages: [], performanceConfig: { latency: "optimized" } } });

    // Act
    const { latency } = dimensionsOf(record);

    // Assess
    expect(latency).toBe("optimized");
  });

  it("takes the latency that served the request from the response, over the log's field and the request", () => {
    // Arrange: an optimized request served at standard latency (out of latency-optimized quota).
    const record = converse({
      top: { performanceConfig: { latency: "optimized" } },
      request: { messages: [], performanceConfig: { latency: "optimized" } },
      response: { stopReason: "end_turn", usage: usage({}), performanceConfig: { latency: "standard" } },
    });

    // Act
    const { latency } = dimensionsOf(record);

    // Assess
    expect(latency).toBe("standard");
  });

  it("prefers the log's top-level latency to the request body's", () => {
    // Arrange
    const record = converse({ top: { performanceConfig: { latency: "standard" } }, request: { messages: [], performanceConfig: { latency: "optimized" } } });

    // Assess
    expect(dimensionsOf(record).latency).toBe("standard");
  });

  it.each([
    ["the response's tier over the request's", { serviceTier: { type: "priority" } }, { serviceTier: { type: "default" } }, "default"],
    ["the request's tier when the response does not say", { serviceTier: { type: "flex" } }, { stopReason: "end_turn" }, "flex"],
    ["the response's tier alone", { messages: [] }, { serviceTier: { type: "reserved" } }, "reserved"],
  ])("reads %s", (_, request, response, expected) => {
    // Act
    const { serviceTier } = dimensionsOf(converse({ request, response }));

    // Assess
    expect(serviceTier).toBe(expected);
  });

  it("reads a top-level serviceTier after the response's and before the request's", () => {
    // Arrange
    const top = { serviceTier: { type: "priority" } };

    // Assess
    expect(dimensionsOf(converse({ top, request: { serviceTier: { type: "flex" } } })).serviceTier).toBe("priority");
    expect(dimensionsOf(converse({ top, response: { serviceTier: { type: "default" } } })).serviceTier).toBe("default");
  });

  it("sums the 1-hour entries of a Converse response's cacheDetails", () => {
    // Arrange: one entry per cache checkpoint, sorted 1h first.
    const cacheDetails = [
      { ttl: "1h", inputTokens: 1500 },
      { ttl: "1h", inputTokens: 250 },
      { ttl: "5m", inputTokens: 6000 },
    ];
    const record = converse({ cacheWrite: 7750, response: { usage: usage({ cacheWriteInputTokens: 7750, cacheDetails }) } });

    // Act
    const { cacheWrite1hTokens } = dimensionsOf(record);

    // Assess
    expect(cacheWrite1hTokens).toBe(1750);
  });

  it("reads empty cacheDetails as no 1-hour writes, and an entry without its TTL as not saying", () => {
    // Assess
    expect(dimensionsOf(converse({ response: { usage: usage({ cacheDetails: [] }) } })).cacheWrite1hTokens).toBe(0);
    expect(dimensionsOf(converse({ cacheWrite: 90, response: { usage: usage({ cacheDetails: [{ inputTokens: 90 }] }) } })).cacheWrite1hTokens).toBeNull();
  });

  it("reads the 1-hour writes of an Anthropic Messages body (InvokeModel)", () => {
    // Arrange
    const response = {
      type: "message",
      usage: { input_tokens: 3, cache_creation_input_tokens: 4000, cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 3000 } },
    };
    const record = converse({ top: { operation: "InvokeModel" }, cacheWrite: 4000, response });

    // Act
    const { cacheWrite1hTokens } = dimensionsOf(record);

    // Assess
    expect(cacheWrite1hTokens).toBe(3000);
  });

  it("reads a ConverseStream response logged as events from its metadata event", () => {
    // Arrange
    const events = [
      { messageStart: { role: "assistant" } },
      { contentBlockDelta: { delta: { text: "Hi" }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: "end_turn" } },
      {
        metadata: {
          usage: usage({ cacheWriteInputTokens: 2048, cacheDetails: [{ ttl: "1h", inputTokens: 2048 }] }),
          metrics: { latencyMs: 900 },
          performanceConfig: { latency: "optimized" },
          serviceTier: { type: "priority" },
        },
      },
    ];

    // Act
    const dimensions = dimensionsOf(converse({ top: { operation: "ConverseStream" }, cacheWrite: 2048, response: events }));

    // Assess
    expect(dimensions).toEqual({ latency: "optimized", serviceTier: "priority", cacheWrite1hTokens: 2048 });
  });

  it("reads an Anthropic response stream's 1-hour writes from message_delta, else from message_start", () => {
    // Arrange
    const start = (hour: number) => ({
      type: "message_start",
      message: { usage: { input_tokens: 3, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: hour } } },
    });
    const deltaWith = (extra: Record<string, unknown>) => ({
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: 9, ...extra },
    });
    const events = (first: unknown, delta: unknown) => [
      first,
      { type: "content_block_delta", index: 0, delta: { text: "a" } },
      delta,
      { type: "message_stop" },
    ];
    const record = (body: unknown) => converse({ top: { operation: "InvokeModelWithResponseStream" }, cacheWrite: 500, response: body });

    // Assess
    expect(dimensionsOf(record(events(start(400), deltaWith({})))).cacheWrite1hTokens).toBe(400);
    expect(dimensionsOf(record(events(start(400), deltaWith({ cache_creation: { ephemeral_1h_input_tokens: 500 } })))).cacheWrite1hTokens).toBe(500);
  });

  it("looks for a stream's usage only among its last six events", () => {
    // Arrange: a metadata event followed by six more events is not read.
    const metadata = { metadata: { usage: usage({}), serviceTier: { type: "flex" } } };
    const after = (count: number) => Array.from({ length: count }, () => ({ messageStop: {} }));

    // Assess
    expect(dimensionsOf(converse({ response: [metadata, ...after(5)] })).serviceTier).toBe("flex");
    expect(dimensionsOf(converse({ response: [metadata, ...after(6)] })).serviceTier).toBeNull();
  });

  it("parses a short body logged as a JSON string, and leaves long, cut and unrelated ones unread", () => {
    // Arrange
    const response = { stopReason: "end_turn", serviceTier: { type: "flex" } };
    const text = JSON.stringify(response);

    // Assess
    expect(dimensionsOf(converse({ response: text })).serviceTier).toBe("flex");
    expect(dimensionsOf(converse({ response: text.slice(0, -4) })).serviceTier).toBeNull();
    expect(dimensionsOf(converse({ response: JSON.stringify({ ...response, text: "x".repeat(8192) }) })).serviceTier).toBeNull();
    expect(
      dimensionsOf(converse({ response: JSON.stringify({ ...response, serviceTier: { type: "turbo" } }).replace("serviceTier", "tier") })).serviceTier,
    ).toBeNull();
  });

  it("says nothing of bodies offloaded to S3 or of the wrong shape", () => {
    // Arrange
    const offloaded = invocationLog({
      input: { inputContentType: "application/json", inputBodyS3Path: "s3://logs/data/in.json.gz", inputTokenCount: 5, cacheWriteInputTokenCount: 9 },
      output: { outputContentType: "application/json", outputBodyS3Path: "s3://logs/data/out.json.gz", outputTokenCount: 2 },
    });
    const odd = converse({
      request: { performanceConfig: "optimized", serviceTier: ["flex"] },
      response: { usage: "lots", serviceTier: "flex", performanceConfig: null },
    });

    // Assess
    expect(dimensionsOf(offloaded)).toEqual({ latency: null, serviceTier: null, cacheWrite1hTokens: null });
    expect(dimensionsOf(odd)).toEqual({ latency: null, serviceTier: null, cacheWrite1hTokens: null });
    expect(dimensionsOf(converse({ request: null, response: 42 }))).toEqual({ latency: null, serviceTier: null, cacheWrite1hTokens: null });
  });

  it.each([
    ["an unknown top-level tier", invocationLog({ serviceTier: { type: "batch" } }), "serviceTier.type", 'got "batch"'],
    [
      "an unknown tier in the response",
      converse({ response: { serviceTier: { type: "turbo" } } }),
      "output.outputBodyJson.serviceTier.type",
      'must be "default", "priority", "flex" or "reserved", got "turbo"',
    ],
    [
      "an unknown tier in the request, though the response says",
      converse({ request: { serviceTier: { type: "standard" } }, response: { serviceTier: { type: "flex" } } }),
      "input.inputBodyJson.serviceTier.type",
      'got "standard"',
    ],
    [
      "an unknown top-level latency",
      invocationLog({ performanceConfig: { latency: "fast" } }),
      "performanceConfig.latency",
      'must be "standard" or "optimized", got "fast"',
    ],
    [
      "a latency that is not a string",
      converse({ request: { performanceConfig: { latency: 1 } } }),
      "input.inputBodyJson.performanceConfig.latency",
      "got number 1",
    ],
    [
      "an unknown cache TTL",
      converse({ cacheWrite: 10, response: { usage: usage({ cacheDetails: [{ ttl: "10m", inputTokens: 10 }] }) } }),
      "output.outputBodyJson.usage.cacheDetails.0.ttl",
      'must be "5m" or "1h", got "10m"',
    ],
    [
      "a negative cache-detail count",
      converse({ cacheWrite: 10, response: { usage: usage({ cacheDetails: [{ ttl: "5m", inputTokens: -10 }] }) } }),
      "output.outputBodyJson.usage.cacheDetails.0.inputTokens",
      "must be a non-negative integer, got -10",
    ],
    [
      "a fractional 1-hour count",
      converse({ cacheWrite: 10, response: { usage: { cache_creation: { ephemeral_1h_input_tokens: 2.5 } } } }),
      "output.outputBodyJson.usage.cache_creation.ephemeral_1h_input_tokens",
      "got 2.5",
    ],
    [
      "1-hour writes above the cache writes",
      converse({ cacheWrite: 100, response: { usage: usage({ cacheDetails: [{ ttl: "1h", inputTokens: 101 }] }) } }),
      "output.outputBodyJson.usage.cacheDetails",
      "has 101 1-hour cache-write tokens, more than input.cacheWriteInputTokenCount (100)",
    ],
    [
      "1-hour writes without cache writes",
      converse({ response: { usage: { cache_creation: { ephemeral_1h_input_tokens: 1 } } } }),
      "output.outputBodyJson.usage.cache_creation.ephemeral_1h_input_tokens",
      "(0)",
    ],
    [
      "1-hour writes above the cache writes, in a stream",
      converse({ response: [{ metadata: { usage: usage({ cacheDetails: [{ ttl: "1h", inputTokens: 7 }] }) } }] }),
      "output.outputBodyJson.0.metadata.usage.cacheDetails",
      "has 7",
    ],
  ])("refuses %s, naming the field", (_, record, field, message) => {
    // Act
    const result = expectInvalid(record, field);

    // Assess
    expect(result?.reason).toContain(message);
  });

  it("accepts 1-hour writes equal to the cache writes", () => {
    // Arrange
    const record = converse({ cacheWrite: 100, response: { usage: usage({ cacheDetails: [{ ttl: "1h", inputTokens: 100 }] }) } });

    // Assess
    expect(dimensionsOf(record).cacheWrite1hTokens).toBe(100);
  });

  it("does not compare 1-hour writes with a cache-write count that is itself wrong", () => {
    // Arrange
    const record = withTokens(converse({ response: { usage: usage({ cacheDetails: [{ ttl: "1h", inputTokens: 7 }] }) } }), { cacheWrite: -1 });

    // Act
    const result = expectInvalid(record, "input.cacheWriteInputTokenCount");

    // Assess
    expect(result?.reason).not.toContain("more problem");
  });

  it("round-trips every dimension through a record", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("standard", "optimized", null),
        fc.constantFrom("default", "priority", "flex", "reserved", null),
        fc.option(fc.nat({ max: 50_000 }), { nil: null }),
        fc.nat({ max: 50_000 }),
        fc.boolean(),
        (latency, serviceTier, hour, fiveMinutes, anthropic) => {
          // Arrange
          const total = (hour ?? 0) + fiveMinutes;
          const split = anthropic
            ? { cache_creation: hour === null ? null : { ephemeral_5m_input_tokens: fiveMinutes, ephemeral_1h_input_tokens: hour } }
            : {
                cacheDetails:
                  hour === null
                    ? null
                    : [
                        { ttl: "1h", inputTokens: hour },
                        { ttl: "5m", inputTokens: fiveMinutes },
                      ],
              };
          const record = converse({
            cacheWrite: total,
            top: latency === null ? {} : { performanceConfig: { latency } },
            response: { usage: usage(split), ...(serviceTier === null ? {} : { serviceTier: { type: serviceTier } }) },
          });

          // Act
          const dimensions = dimensionsOf(JSON.parse(JSON.stringify(record)));

          // Assess
          expect(dimensions).toEqual({ latency, serviceTier, cacheWrite1hTokens: hour });
        },
      ),
    );
  });
});
