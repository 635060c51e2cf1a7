import { ConverseCommand, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { MAX_METADATA_ENTRIES, metadataKeyProblem, metadataValueProblem } from "@bedrock-spend/core/request-metadata";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  checkRequestMetadata,
  InvalidOptionsError,
  MAX_REQUEST_METADATA_HEADER_LENGTH,
  MissingTenantError,
  RequestMetadataError,
  runWithTenant,
  type SanitizeReport,
  type SdkWarning,
  sanitizeMetadataText,
  sanitizeRequestMetadata,
  tenantMetadata,
  withMetadata,
} from "../src/index";
import { type CapturedRequest, useBedrockServer } from "./helpers/bedrock-server";

const MODEL = "us.amazon.nova-lite-v1:0";
const HEADER = "x-amzn-bedrock-request-metadata";
const converseInput = { modelId: MODEL, messages: [{ role: "user" as const, content: [{ text: "hi" }] }] };
const invokeInput = { modelId: MODEL, body: "{}" };

/** Bedrock's Smithy pattern, written independently of the shared module: `\s` is Java's ASCII whitespace. */
const SMITHY_KEY = /^[a-zA-Z0-9 \t\n\u000b\f\r:_@$#=/+,\-.]{1,256}$/;
const SMITHY_VALUE = /^[a-zA-Z0-9 \t\n\u000b\f\r:_@$#=/+,\-.]{0,256}$/;
const ALPHABET = [..."abcxyzABCXYZ0189 \t\n\v\f\r:_@$#=/+,-."];
const REFUSED = ["|", "%", "é", "\u00a0", "\u2028", "😀", "\ud800", "\u0000", '"', "\\", "<", "~", "*"];

const capture = useBedrockServer();
const only = () => capture.only();

function bodyMetadata(request: CapturedRequest): Record<string, string> | undefined {
  return (JSON.parse(request.body) as { requestMetadata?: Record<string, string> }).requestMetadata;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("Function: tenantMetadata() policy strict", () => {
  it("refuses a disallowed character before anything is sent, naming the key, the character and its index", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    const error = await rejection(runWithTenant({ tenantId: "acme|corp" }, () => client.send(new ConverseCommand(converseInput))));

    // Assess
    expect(error).toBeInstanceOf(RequestMetadataError);
    expect(error).toMatchObject({
      name: "RequestMetadataError",
      reason: "disallowed-character",
      key: "tenantId",
      value: "acme|corp",
      part: "value",
      character: "|",
      index: 4,
    });
    expect((error as Error).message).toBe(
      'requestMetadata value of key "tenantId" has the character "|" (U+007C) at index 4, which Bedrock refuses (allowed: a-z A-Z 0-9 whitespace (space, tab, line breaks) : _ @ $ # = / + , - .)',
    );
    expect(capture.server.requests).toHaveLength(0);
  });

  it("reports an astral character as one character, and Unicode spaces as refused", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    const emoji = await rejection(runWithTenant({ tenantId: "acme", userId: "ab😀" }, () => client.send(new InvokeModelCommand(invokeInput))));
    const nbsp = await rejection(runWithTenant({ tenantId: "acme\u00a0corp" }, () => client.send(new InvokeModelCommand(invokeInput))));

    // Assess
    expect(emoji).toMatchObject({ key: "userId", character: "😀", index: 2 });
    expect((emoji as Error).message).toContain('"😀" (U+1F600) at index 2');
    expect(nbsp).toMatchObject({ key: "tenantId", character: "\u00a0", index: 4 });
    expect(capture.server.requests).toHaveLength(0);
  });

  it("accepts ASCII whitespace and every punctuation of the class", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    const value = "a b\tc\nd:e_f@g$h#i=j/k+l,m-n.o";

    // Act
    await runWithTenant({ tenantId: value }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(bodyMetadata(only())).toEqual({ tenantId: value });
  });

  it("refuses more than 16 entries, long keys and values, empty keys and non-strings", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    const send = (metadata: Record<string, unknown>) =>
      rejection(
        runWithTenant({ tenantId: "acme" }, () => client.send(new ConverseCommand({ ...converseInput, requestMetadata: metadata as Record<string, string> }))),
      );
    const many = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`k${index}`, "v"]));

    // Act
    const tooMany = await send(many);
    const longKey = await send({ ["k".repeat(257)]: "v" });
    const longValue = await send({ note: "v".repeat(257) });
    const emptyKey = await send({ "": "v" });
    const notString = await send({ count: 3 });

    // Assess
    expect(tooMany).toMatchObject({ reason: "too-many-entries", length: 17 });
    expect(longKey).toMatchObject({ reason: "key-too-long", part: "key", length: 257 });
    expect(longValue).toMatchObject({ reason: "value-too-long", key: "note", part: "value", length: 257 });
    expect(emptyKey).toMatchObject({ reason: "empty-key", key: "" });
    expect(notString).toMatchObject({ reason: "not-a-string", key: "count", value: 3 });
    expect(capture.server.requests).toHaveLength(0);
  });

  it("refuses InvokeModel metadata whose header JSON exceeds 8,500 characters", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    // Vertical tabs are allowed but JSON-escaped to six characters each.
    const metadata = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`k${index}`, "\v".repeat(256)]));

    // Act
    const error = await rejection(runWithTenant({ tenantId: "acme" }, () => withMetadata(metadata, () => client.send(new InvokeModelCommand(invokeInput)))));
    await runWithTenant({ tenantId: "acme" }, () => withMetadata(metadata, () => client.send(new ConverseCommand(converseInput))));

    // Assess
    expect(error).toMatchObject({ name: "RequestMetadataError", reason: "header-too-long" });
    expect(only().operation).toBe("Converse");
  });

  it("refuses a requestMetadata of the call that is not a map, whatever the policy", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ policy: "sanitize" }));

    // Act
    const array = await rejection(
      runWithTenant({ tenantId: "acme" }, () =>
        client.send(new ConverseCommand({ ...converseInput, requestMetadata: ["x"] as unknown as Record<string, string> })),
      ),
    );
    const badJson = await rejection(
      runWithTenant({ tenantId: "acme" }, () => client.send(new InvokeModelCommand({ ...invokeInput, requestMetadata: "{oops" }))),
    );

    // Assess
    expect(array).toMatchObject({ reason: "not-a-map" });
    expect(badJson).toMatchObject({ reason: "not-a-map" });
    expect(capture.server.requests).toHaveLength(0);
  });
});

describe("Function: tenantMetadata() policy sanitize", () => {
  it("replaces each refused character with _ (an emoji is one), reports it and sends the result", async () => {
    // Prepare
    const reports: SanitizeReport[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ policy: "sanitize", onSanitize: (report) => reports.push(report) }));

    // Act
    await runWithTenant({ tenantId: "acme|corp", userId: "zoë😀!" }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(bodyMetadata(only())).toEqual({ tenantId: "acme_corp", userId: "zo___" });
    expect(reports).toEqual([
      {
        operation: "Converse",
        changes: [
          { key: "tenantId", sentKey: "tenantId", keyChanged: false, valueChanged: true, reasons: ["disallowed-character"] },
          { key: "userId", sentKey: "userId", keyChanged: false, valueChanged: true, reasons: ["disallowed-character"] },
        ],
      },
    ]);
  });

  it("truncates to 256 characters and keeps 16 entries: the tenant key, the named keys, then the rest sorted", async () => {
    // Prepare
    const reports: SanitizeReport[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ policy: "sanitize", onSanitize: (report) => reports.push(report) }));
    const extra = Object.fromEntries(Array.from({ length: 14 }, (_, index) => [`x${String(index).padStart(2, "0")}`, "v"]));

    // Act
    await runWithTenant({ tenantId: "t".repeat(300), userId: "u", metadata: extra }, () => client.send(new InvokeModelCommand(invokeInput)));

    // Assess
    const sent = JSON.parse(only().headers[HEADER] as string) as Record<string, string>;
    expect(Object.keys(sent)).toEqual(["tenantId", "userId", ...Object.keys(extra).slice(0, 14)]);
    expect(sent.tenantId).toBe("t".repeat(256));
    expect(reports[0]?.changes).toEqual([{ key: "tenantId", sentKey: "tenantId", keyChanged: false, valueChanged: true, reasons: ["value-too-long"] }]);

    // Act: two more entries than fit
    capture.server.requests.length = 0;
    reports.length = 0;
    await runWithTenant({ tenantId: "acme", userId: "u", metadata: { ...extra, zz: "1", aa: "2" } }, () => client.send(new InvokeModelCommand(invokeInput)));

    // Assess: aa sorts first and stays; x13 and zz are the last two
    const second = JSON.parse(only().headers[HEADER] as string) as Record<string, string>;
    expect(Object.keys(second)).toHaveLength(16);
    expect(Object.keys(second).slice(0, 3)).toEqual(["tenantId", "userId", "aa"]);
    expect(reports[0]?.changes.map((change) => [change.key, change.sentKey, change.reasons])).toEqual([
      ["x13", null, ["too-many-entries"]],
      ["zz", null, ["too-many-entries"]],
    ]);
  });

  it("drops a key that collides with a higher-priority one once sanitized", async () => {
    // Prepare
    const reports: SanitizeReport[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ policy: "sanitize", onSanitize: (report) => reports.push(report) }));

    // Act
    await runWithTenant({ tenantId: "acme", metadata: { "a|b": "pipe", a_b: "underscore" } }, () => client.send(new ConverseCommand(converseInput)));

    // Assess
    expect(bodyMetadata(only())).toEqual({ tenantId: "acme", a_b: "underscore" });
    expect(reports[0]?.changes).toEqual([
      { key: "a|b", sentKey: null, keyChanged: true, valueChanged: false, reasons: ["disallowed-character", "duplicate-key"] },
    ]);
  });

  it("drops the lowest-priority entries until the InvokeModel header fits, never the tenant", async () => {
    // Prepare
    const reports: SanitizeReport[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ policy: "sanitize", onSanitize: (report) => reports.push(report) }));
    const metadata = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`k${index}`, "\v".repeat(256)]));

    // Act
    await runWithTenant({ tenantId: "acme" }, () => withMetadata(metadata, () => client.send(new InvokeModelCommand(invokeInput))));

    // Assess
    const header = only().headers[HEADER] as string;
    expect(header.length).toBeLessThanOrEqual(MAX_REQUEST_METADATA_HEADER_LENGTH);
    const sent = JSON.parse(header) as Record<string, string>;
    expect(Object.keys(sent)).toEqual(["tenantId", "k0", "k1", "k2", "k3", "k4"]);
    expect(reports[0]?.changes.map((change) => [change.key, change.reasons])).toEqual([
      ["k7", ["header-too-long"]],
      ["k6", ["header-too-long"]],
      ["k5", ["header-too-long"]],
    ]);
  });

  it("turns numbers into strings and drops other non-strings", () => {
    // Act
    const result = sanitizeRequestMetadata([
      ["tenantId", "acme"],
      ["count", 3],
      ["nested", { a: 1 }],
    ]);

    // Assess
    expect(result.metadata).toEqual({ tenantId: "acme", count: "3" });
    expect(result.changes.map((change) => [change.key, change.sentKey, change.reasons])).toEqual([
      ["count", "count", ["not-a-string"]],
      ["nested", null, ["not-a-string"]],
    ]);
  });
});

describe("Function: tenantMetadata() missing tenant", () => {
  it("require (the default) throws MissingTenantError before sending", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ metadata: { applicationId: "bot" } }));

    // Act
    const outside = await rejection(client.send(new ConverseCommand(converseInput)));
    const blank = await rejection(runWithTenant({ tenantId: "   " }, () => client.send(new InvokeModelCommand(invokeInput))));

    // Assess
    expect(outside).toBeInstanceOf(MissingTenantError);
    expect(outside).toMatchObject({ name: "MissingTenantError", operation: "Converse", tenantKey: "tenantId" });
    expect(blank).toMatchObject({ name: "MissingTenantError", operation: "InvokeModel" });
    expect(capture.server.requests).toHaveLength(0);
  });

  it("require accepts a tenant given by the call's own metadata", async () => {
    // Prepare
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());

    // Act
    await withMetadata({ tenantId: "from-call" }, () => client.send(new InvokeModelCommand(invokeInput)));

    // Assess
    expect(JSON.parse(only().headers[HEADER] as string)).toEqual({ tenantId: "from-call" });
  });

  it("warn tells onWarning and sends the call without a tenant", async () => {
    // Prepare
    const warnings: SdkWarning[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ missingTenant: "warn", metadata: { applicationId: "bot" }, onWarning: (warning) => warnings.push(warning) }));

    // Act
    await client.send(new ConverseCommand(converseInput));

    // Assess
    expect(warnings).toEqual([{ code: "missing-tenant", operation: "Converse", message: expect.stringContaining("without a tenant") }]);
    expect(bodyMetadata(only())).toEqual({ applicationId: "bot" });
  });

  it("warn defaults to console.warn", async () => {
    // Prepare
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ missingTenant: "warn" }));

    try {
      // Act
      await client.send(new InvokeModelCommand(invokeInput));

      // Assess
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("InvokeModel called without a tenant"));
      expect(only().headers[HEADER]).toBeUndefined();
    } finally {
      warn.mockRestore();
    }
  });

  it("allow sends silently, with no requestMetadata at all when there is nothing to send", async () => {
    // Prepare
    const warnings: SdkWarning[] = [];
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata({ missingTenant: "allow", onWarning: (warning) => warnings.push(warning) }));

    // Act
    await client.send(new ConverseCommand(converseInput));
    await client.send(new InvokeModelCommand(invokeInput));

    // Assess
    expect(warnings).toEqual([]);
    expect(capture.server.requests).toHaveLength(2);
    expect(bodyMetadata(capture.server.requests[0] as CapturedRequest)).toBeUndefined();
    expect(capture.server.requests[1]?.headers[HEADER]).toBeUndefined();
  });
});

describe("Function: tenantMetadata() options", () => {
  it.each([
    [{ policy: "lenient" }, "policy"],
    [{ missingTenant: "ignore" }, "missingTenant"],
    [{ keys: { tenantId: "tenant|id" } }, "keys.tenantId"],
    [{ keys: { tenantId: "" } }, "keys.tenantId"],
    [{ keys: { tenantId: "id", userId: "id" } }, "keys"],
    [{ keys: { customerId: "c" } }, "keys.customerId"],
    [{ metadata: { env: "prod!" } }, "metadata"],
    [{ metadata: "env=prod" }, "metadata"],
    [{ onSanitize: "log" }, "onSanitize"],
    [{ budgetGuard: { source: {} } }, "budgetGuard.source"],
  ])("refuses %j at construction (%s)", (options, option) => {
    // Act
    const act = () => tenantMetadata(options as never);

    // Assess
    expect(act).toThrow(InvalidOptionsError);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ name: "InvalidOptionsError", option });
    }
  });

  it("accepts static metadata that only sanitize can send, under sanitize", () => {
    expect(() => tenantMetadata({ policy: "sanitize", metadata: { env: "prod!" } })).not.toThrow();
  });
});

const character = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...ALPHABET) },
  { weight: 2, arbitrary: fc.constantFrom(...REFUSED) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const text = (minLength: number) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.array(character, { minLength, maxLength: 12 }).map((parts) => parts.join("")) },
    { weight: 1, arbitrary: fc.array(character, { minLength: 250, maxLength: 262 }).map((parts) => parts.join("")) },
  );
const metadataMap = fc.dictionary(text(0), text(0), { minKeys: 0, maxKeys: 20 });

function smithyAccepts(metadata: Record<string, string>): boolean {
  const entries = Object.entries(metadata);
  return entries.length <= MAX_METADATA_ENTRIES && entries.every(([key, value]) => SMITHY_KEY.test(key) && SMITHY_VALUE.test(value));
}

describe("Properties: strict and sanitize against the shared validator", () => {
  it("sanitize output always satisfies the shared validator and Smithy's pattern", () => {
    fc.assert(
      fc.property(metadataMap, (metadata) => {
        const { metadata: sent } = sanitizeRequestMetadata(Object.entries(metadata));
        const entries = Object.entries(sent);
        expect(entries.length).toBeLessThanOrEqual(MAX_METADATA_ENTRIES);
        for (const [key, value] of entries) {
          expect(metadataKeyProblem(key)).toBeUndefined();
          expect(metadataValueProblem(value)).toBeUndefined();
        }
        expect(smithyAccepts(sent)).toBe(true);
        expect(() => checkRequestMetadata(entries)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("sanitize is idempotent and leaves valid metadata unchanged", () => {
    fc.assert(
      fc.property(metadataMap, (metadata) => {
        const once = sanitizeRequestMetadata(Object.entries(metadata));
        const twice = sanitizeRequestMetadata(Object.entries(once.metadata));
        expect(twice.metadata).toEqual(once.metadata);
        expect(Object.keys(twice.metadata)).toEqual(Object.keys(once.metadata));
        expect(twice.changes).toEqual([]);
        if (smithyAccepts(metadata) && Object.keys(metadata).length > 0) expect(once.changes).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("sanitizing one text maps each code point to itself or _, then cuts at 256", () => {
    fc.assert(
      fc.property(text(0), (value) => {
        const points = [...value];
        const expected = points
          .slice(0, 256)
          .map((point) => (SMITHY_VALUE.test(point) ? point : "_"))
          .join("");
        expect(sanitizeMetadataText(value).text).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("strict accepts exactly what the validator accepts", () => {
    fc.assert(
      fc.property(metadataMap, (metadata) => {
        let accepted = true;
        try {
          checkRequestMetadata(Object.entries(metadata));
        } catch (error) {
          expect(error).toBeInstanceOf(RequestMetadataError);
          accepted = false;
        }
        expect(accepted).toBe(smithyAccepts(metadata));
      }),
      { numRuns: 500 },
    );
  });

  it("through the real client, strict either refuses before sending or sends the tenant exactly", async () => {
    const client = capture.server.client();
    client.middlewareStack.use(tenantMetadata());
    await fc.assert(
      fc.asyncProperty(text(1), async (tenantId) => {
        capture.server.requests.length = 0;
        const valid = SMITHY_VALUE.test(tenantId) && tenantId.trim().length > 0;
        try {
          await runWithTenant({ tenantId }, () => client.send(new ConverseCommand(converseInput)));
        } catch (error) {
          expect(valid).toBe(false);
          expect(error).toBeInstanceOf(tenantId.trim().length === 0 ? MissingTenantError : RequestMetadataError);
          expect(capture.server.requests).toHaveLength(0);
          return;
        }
        expect(valid).toBe(true);
        expect(bodyMetadata(only())).toEqual({ tenantId });
      }),
      { numRuns: 40 },
    );
  });
});
