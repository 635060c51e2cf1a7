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
