import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCanonicalBase64 } from "../src/base64";
import { classifySegment } from "../src/decode/classify";
import { decodeText } from "../src/decode/decode";
import { JsonSegmenter } from "../src/decode/segmenter";
import { type InvocationParseResult, parseInvocationLog, parseIsoTimestamp, validateInvocationLog } from "../src/invocation";
import { formatUsd, PICO_PER_USD } from "../src/money";
import { dimensionsByDefinition } from "./helpers/dimensions-reference";
import { invocationLog, subscriptionPayload } from "./helpers/factories";
import { InvocationLogSchema } from "./helpers/invocation-schema";
import { performanceByDefinition } from "./helpers/performance-reference";

/** The definition of canonical base64 the transform checks record data against. */
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe("Function: decodeCanonicalBase64()", () => {
  const nearBase64 = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString("base64")),
    fc.string({ unit: fc.constantFrom(..."AQZaz09+/=-_ \n!é"), maxLength: 16 }),
    fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 30 }), fc.nat(), fc.constantFrom("=", "-", "_", " ", "!", "\n", "é", "A"))
      .map(([bytes, at, character]) => {
        const text = Buffer.from(bytes).toString("base64");
        const index = at % text.length;
        return `${text.slice(0, index)}${character}${text.slice(index + 1)}`;
      }),
  );

  it("accepts exactly the canonical base64 texts, and decodes them as Buffer.from does", () => {
    fc.assert(
      fc.property(nearBase64, (text) => {
        // Act
        const bytes = decodeCanonicalBase64(text);

        // Assess
        expect(bytes !== undefined).toBe(CANONICAL_BASE64.test(text));
        if (bytes) expect(bytes.equals(Buffer.from(text, "base64"))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it.each(["", "QQ==", "QR==", "QUI=", "QUJD", "QUJ!", "AB=C", "A===", "====", "QU-D", "QU_D", "QU D", "QUJDé==="])(
    "agrees with the definition on %j",
    (text) => {
      // Assess
      expect(decodeCanonicalBase64(text) !== undefined).toBe(CANONICAL_BASE64.test(text));
    },
  );
});

describe("Function: parseInvocationLog()", () => {
  /** The record's cacheWriteInputTokenCount as validation reads it (absent: 0); undefined when that count is wrong. */
  function cacheWriteTotalOf(record: Record<string, unknown>): number | undefined {
    if (record.input === undefined) return 0;
    const input = record.input;
    if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined;
    const count = (input as Record<string, unknown>).cacheWriteInputTokenCount;
    if (count === undefined) return 0;
    const number = typeof count === "number" ? count : typeof count === "string" && /^\d+$/.test(count.trim()) ? Number(count.trim()) : Number.NaN;
    return Number.isInteger(number) && number >= 0 && number <= 100_000_000 ? number : undefined;
  }

  /**
   * What parseInvocationLog gave when it validated with the zod schema (helpers/invocation-schema.ts),
   * plus the billing dimensions by their definition (helpers/dimensions-reference.ts), whose problems
   * follow the schema's, and the performance fields by theirs (helpers/performance-reference.ts, never
   * a problem): the definition the hand-written validation and its fast path must match, problems
   * and wording included.
   */
  function bySchema(value: unknown): InvocationParseResult {
    const isRecord = typeof value === "object" && value !== null && !Array.isArray(value);
    const dimensions = isRecord ? dimensionsByDefinition(value as Record<string, unknown>, cacheWriteTotalOf(value as Record<string, unknown>)) : undefined;
    const fail = (issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): InvocationParseResult => {
      const first = issues[0];
      const field = first && first.path.length > 0 ? first.path.map(String).join(".") : "record";
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
      const result = parseInvocationLog(value);
      return {
        ok: false,
        field,
        reason: `${field}: ${first?.message ?? "is not a valid invocation log record"}${more}`,
        partial: result.ok ? {} : result.partial,
      };
    };
    const parsed = InvocationLogSchema.safeParse(value);
    if (!parsed.success) return fail([...parsed.error.issues, ...(dimensions?.issues ?? [])]);
    if (dimensions && dimensions.issues.length > 0) return fail(dimensions.issues);
    const record = parsed.data;
    const rawInput = (value as { input?: { inputTokenCount?: unknown } }).input;
    if (record.errorCode === undefined && rawInput?.inputTokenCount === undefined) {
      return fail([{ path: ["input", "inputTokenCount"], message: "is missing (required unless the record has an errorCode)" }]);
    }
    return {
      ok: true,
      log: {
        requestId: record.requestId,
        timestamp: parseIsoTimestamp(record.timestamp) as number,
        modelId: record.modelId,
        operation: record.operation ?? null,
        accountId: record.accountId ?? null,
        region: record.region ?? null,
        inferenceRegion: record.inferenceRegion ?? null,
        errorCode: record.errorCode ?? null,
        principalArn: record.identity?.arn ?? null,
        metadata: record.requestMetadata,
        inputTokens: record.input?.inputTokenCount ?? 0,
        outputTokens: record.output?.outputTokenCount ?? 0,
        cacheReadTokens: record.input?.cacheReadInputTokenCount ?? 0,
        cacheWriteTokens: record.input?.cacheWriteInputTokenCount ?? 0,
        latency: dimensions?.latency ?? null,
        serviceTier: dimensions?.serviceTier ?? null,
        cacheWrite1hTokens: dimensions?.cacheWrite1hTokens ?? null,
        ...performanceByDefinition(value as Record<string, unknown>),
      },
    };
  }

  const absent = fc.constant(undefined);
  // Includes values with a length that are not strings, and strings longer in UTF-16 units than in code points.
  const odd = fc.constantFrom(
    null,
    "",
    7,
    true,
    [],
    ["a", "b"],
    {},
    { length: 0 },
    { length: "x" },
    "x\u0001y",
    "a".repeat(300),
    "😀".repeat(150),
    "😀".repeat(1100),
    "\ud800",
  );
  /** Mostly a valid value, sometimes absent, a value of the right type that breaks the field's rule, or one of another type. */
  const field = <T>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown> = odd) =>
    fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: absent }, { weight: 1, arbitrary: wrong }, { weight: 1, arbitrary: odd });
  const count = field(fc.nat({ max: 5000 }), fc.constantFrom(-1, 1.5, "12", " 40 ", 100_000_001, "x"));
  const metadataText = fc.string({ unit: fc.constantFrom(..."aZ09 _-.:@/+=,#$\t"), maxLength: 12 });
  const metadata = fc.oneof(
    { weight: 30, arbitrary: fc.dictionary(metadataText, metadataText, { maxKeys: 6 }) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ unit: fc.constantFrom(..."aZ|é\u2003 "), maxLength: 4 }), fc.oneof(metadataText, odd), { maxKeys: 18 }) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, '{"tenantId":"acme"}', "not json", ["a"], { tenantId: "a".repeat(257) }) },
  );
  // Billing dimensions: mostly well-formed, sometimes a value out of its domain, sometimes a shape that says nothing.
  const said = <T>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: wrong }, { weight: 1, arbitrary: fc.constantFrom(undefined, null) });
  const latency = said(fc.constantFrom("standard", "optimized"), fc.constantFrom("turbo", "", "OPTIMIZED", 5));
  const tier = said(fc.constantFrom("default", "priority", "flex", "reserved"), fc.constantFrom("turbo", "standard", 2));
  const performanceConfig = fc.oneof({ weight: 10, arbitrary: fc.record({ latency }) }, { weight: 1, arbitrary: fc.constantFrom(null, "optimized", [], {}) });
  const serviceTier = fc.oneof({ weight: 10, arbitrary: fc.record({ type: tier }) }, { weight: 1, arbitrary: fc.constantFrom(null, "flex", {}) });
  const hourCount = said(fc.nat({ max: 3000 }), fc.constantFrom(-1, 2.5, "12", "x", true));
  const cacheDetail = fc.oneof(
    { weight: 20, arbitrary: fc.record({ ttl: said(fc.constantFrom("1h", "5m"), fc.constantFrom("10m", "1H", 60)), inputTokens: hourCount }) },
    { weight: 1, arbitrary: fc.constantFrom(null, "1h", []) },
  );
  const usage = fc.record(
    {
      inputTokens: fc.nat({ max: 5000 }),
      outputTokens: fc.nat({ max: 5000 }),
      cacheDetails: fc.oneof({ weight: 10, arbitrary: fc.array(cacheDetail, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(null, {}, "1h") }),
      cache_creation: fc.oneof(
        { weight: 10, arbitrary: fc.record({ ephemeral_5m_input_tokens: fc.nat({ max: 3000 }), ephemeral_1h_input_tokens: hourCount }) },
        { weight: 1, arbitrary: fc.constantFrom(null, 7) },
      ),
    },
    { requiredKeys: ["inputTokens", "outputTokens"] },
  );
  // Performance: best effort, so a value out of shape is null, never a problem.
  const latencyMs = said(fc.nat({ max: 120_000 }), fc.constantFrom(-1, 1.5, "812", 2 ** 53, 1e300, true, {}));
  const metrics = fc.oneof({ weight: 10, arbitrary: fc.record({ latencyMs }) }, { weight: 1, arbitrary: fc.constantFrom(null, 812, [], {}) });
  const stopReason = said(
    fc.constantFrom("end_turn", "max_tokens", "tool_use", "stop_sequence", "guardrail_intervened"),
    fc.constantFrom("", 5, "two words", "x".repeat(65), "_x", ["end_turn"], { reason: "end_turn" }),
  );
  const converseResponse = fc.record(
    {
      output: fc.constant({ message: { role: "assistant", content: [{ text: "ok" }] } }),
      stopReason,
      metrics,
      usage: fc.oneof({ weight: 10, arbitrary: usage }, { weight: 1, arbitrary: fc.constantFrom(null, "usage") }),
      performanceConfig,
      serviceTier,
    },
    { requiredKeys: ["output"] },
  );
  /** Native InvokeModel bodies: Anthropic, Titan, Cohere, Mistral / OpenAI-style, and one that says nothing. */
  const nativeResponse = fc.oneof(
    fc.record({ type: fc.constant("message"), stop_reason: stopReason, usage }, { requiredKeys: ["type"] }),
    fc.record({ results: fc.array(fc.record({ completionReason: stopReason, outputText: fc.constant("ok") }), { maxLength: 2 }) }),
    fc.record({ finish_reason: stopReason, text: fc.constant("ok") }),
    fc.record({ choices: fc.array(fc.record({ finish_reason: stopReason, stop_reason: stopReason }, { requiredKeys: [] }), { maxLength: 2 }) }),
    fc.constant({ generation: "ok" }),
  );
  const delta = fc.constantFrom(
    { contentBlockDelta: { delta: { text: "a" }, contentBlockIndex: 0 } },
    { type: "content_block_delta", index: 0, delta: { text: "a" } },
  );
  const streamEnd = fc.oneof(
    converseResponse.map(({ usage, performanceConfig, serviceTier, metrics }) => ({ metadata: { usage, performanceConfig, serviceTier, metrics } })),
    fc.tuple(usage, stopReason).map(([usage, stop_reason]) => ({ type: "message_delta", delta: { stop_reason }, usage })),
    stopReason.map((stopReason) => ({ messageStop: { stopReason } })),
    fc.constantFrom({ type: "message_stop" }, { metadata: null }, "chunk"),
  );
  const messageStart = fc.oneof(
    usage.map((usage) => ({ type: "message_start", message: { id: "msg_1", usage } })),
    fc.constantFrom({ messageStart: { role: "assistant" } }, { type: "message_start", message: null }),
  );
  const stream = fc
    .tuple(
      fc.option(messageStart, { nil: undefined }),
      fc.array(delta, { maxLength: 9 }),
      streamEnd,
      fc.array(fc.constantFrom({ type: "message_stop" }, { messageStop: {} }), { maxLength: 7 }),
    )
    .chain(([start, deltas, end, after]) =>
      // ConverseStream ends messageStop, then metadata: sometimes both, in that order.
      fc
        .option(
          stopReason.map((reason) => ({ messageStop: { stopReason: reason } })),
          { nil: undefined },
        )
        .map((stop) => [...(start ? [start] : []), ...deltas, ...(stop ? [stop] : []), end, ...after]),
    );
  const outputBody = fc.oneof(
    { weight: 8, arbitrary: converseResponse },
    { weight: 4, arbitrary: stream },
    { weight: 2, arbitrary: nativeResponse },
    { weight: 1, arbitrary: converseResponse.map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: converseResponse.map((body) => JSON.stringify(body).slice(0, -5)) },
    { weight: 1, arbitrary: converseResponse.map((body) => JSON.stringify({ ...body, padding: "x".repeat(8200) })) },
    { weight: 1, arbitrary: fc.constantFrom(null, 42, "plain text") },
  );
  const inputBody = fc.oneof(
    { weight: 8, arbitrary: fc.record({ messages: fc.constant([]), performanceConfig, serviceTier }, { requiredKeys: ["messages"] }) },
    { weight: 1, arbitrary: fc.record({ performanceConfig, serviceTier }).map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: fc.constantFrom(null, [], '{"serviceTier":{"type":"fl') },
  );
  const record = fc.record({
    schemaType: field(fc.constant("ModelInvocationLog"), fc.constant("Other")),
    requestId: field(fc.constantFrom("6f1c2a9e-8b7d-4c3e", "r-1"), fc.constant("id\u0007")),
    timestamp: field(
      fc.constantFrom("2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123+02:00"),
      fc.constantFrom("2026-02-30T10:00:00Z", "9999-12-31T23:30:00-14:00", "yesterday"),
    ),
    modelId: field(fc.constantFrom("us.anthropic.claude-3-5-haiku-20241022-v1:0", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc")),
    operation: field(fc.constantFrom("Converse", "InvokeModel"), fc.constant("Converse-Stream")),
    accountId: field(fc.constant("123456789012"), fc.constant("12345")),
    region: field(fc.constant("us-east-1"), fc.constant("US-EAST-1")),
    inferenceRegion: field(fc.constant("us-west-2")),
    errorCode: fc.oneof({ weight: 8, arbitrary: absent }, { weight: 1, arbitrary: fc.constantFrom("ThrottlingException", "", 5) }),
    identity: field(fc.record({ arn: field(fc.constant("arn:aws:sts::123456789012:assumed-role/App/s"), fc.constant("bad\u0000arn")) }), fc.constant([])),
    requestMetadata: metadata,
    input: field(
      fc.record(
        { inputBodyJson: inputBody, inputTokenCount: count, cacheReadInputTokenCount: count, cacheWriteInputTokenCount: count },
        { requiredKeys: ["inputTokenCount", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"] },
      ),
    ),
    output: field(fc.record({ outputBodyJson: outputBody, outputTokenCount: count }, { requiredKeys: ["outputTokenCount"] })),
    performanceConfig: fc.option(performanceConfig, { nil: undefined }),
    serviceTier: fc.option(serviceTier, { nil: undefined }),
  });

  it("gives what the schema gives, for valid and invalid records alike", () => {
    let valid = 0;
    const seen = { latency: 0, serviceTier: 0, cacheWrite1hTokens: 0, latencyMs: 0, stopReason: 0, dimensionProblems: 0 };
    fc.assert(
      fc.property(record, (value) => {
        // Prepare: as JSON.parse would hand it over (no undefined values).
        const parsedJson = JSON.parse(JSON.stringify(value)) as unknown;

        // Act
        const result = parseInvocationLog(parsedJson);

        // Assess
        expect(result).toEqual(bySchema(parsedJson));
        expect(validateInvocationLog(parsedJson)).toEqual(result);
        valid += result.ok ? 1 : 0;
        if (result.ok) {
          for (const key of ["latency", "serviceTier", "cacheWrite1hTokens", "latencyMs", "stopReason"] as const) seen[key] += result.log[key] === null ? 0 : 1;
        } else if (/Body|performanceConfig/.test(result.field)) {
          seen.dimensionProblems++;
        }
      }),
      { numRuns: 3000 },
    );
    // The dimensions were read from every kind of source, and refused, often enough to compare.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(60);
    // Both paths were exercised: many valid records (the fast path) and many invalid ones.
    expect(valid).toBeGreaterThan(300);
    expect(valid).toBeLessThan(2700);
  });

  it("keeps a metadata key named __proto__ as an own key", () => {
    // Prepare
    const value = JSON.parse(JSON.stringify(invocationLog()).replace('"tenantId":"acme"', '"__proto__":"p","tenantId":"acme"')) as unknown;

    // Act
    const result = parseInvocationLog(value);

    // Assess
    expect(result.ok && Object.keys(result.log.metadata)).toEqual(["__proto__", "tenantId", "departmentId", "userId"]);
    expect(result).toEqual(bySchema(value));
  });

  it.each([null, [], "record", 7, Number.NaN, true, undefined, 10n, new Date(0), Object.create(null)])(
    "words a record that is %s as the schema did",
    (value) => {
      // Assess
      expect(parseInvocationLog(value)).toEqual(bySchema(value));
    },
  );
});

describe("Function: decodeText()", () => {
  function bySegmenter(text: string) {
    const segmenter = new JsonSegmenter();
    return [...segmenter.push(text), ...segmenter.end()].flatMap((segment) => classifySegment(segment, "f"));
  }

  it.each([
    ["a subscription payload", JSON.stringify(subscriptionPayload([JSON.stringify(invocationLog())]))],
    ["a record after blank lines", `\n\n  ${JSON.stringify(invocationLog())}\n`],
    ["JSON Lines", `${JSON.stringify(invocationLog())}\n${JSON.stringify(invocationLog({ requestId: "r-2" }))}\n`],
    ["a byte-order mark", `\ufeff${JSON.stringify(invocationLog())}`],
    ["an object nested too deeply", `${"{".repeat(1)}"a":${"[".repeat(600)}${"]".repeat(600)}}`],
    [
      "a pretty-printed payload",
      JSON.stringify(subscriptionPayload([JSON.stringify(invocationLog()), "Permissions are correctly set for Amazon Bedrock logs."]), null, 2),
    ],
    ["a truncated object", JSON.stringify(invocationLog()).slice(0, -3)],
  ])("classifies %s as the segmenter does", (_label, text) => {
    // Assess
    expect(decodeText(text, { file: "f" })).toEqual(bySegmenter(text));
  });
});

describe("Function: formatUsd()", () => {
  it("formats as whole and fractional parts of pico-dollars do", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 }), (pico, digits) => {
        // Prepare: the definition, by division.
        const abs = pico < 0n ? -pico : pico;
        let fraction = (abs % PICO_PER_USD).toString().padStart(12, "0");
        let end = fraction.length;
        while (end > digits && fraction[end - 1] === "0") end--;
        fraction = fraction.slice(0, end);
        const whole = (abs / PICO_PER_USD).toString();
        const body = fraction.length > 0 ? `${whole}.${fraction}` : whole;

        // Assess
        expect(formatUsd(pico, digits)).toBe(pico < 0n ? `-${body}` : body);
      }),
    );
  });
});
