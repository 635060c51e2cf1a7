import { syncBuiltinESMExports } from "node:module";
import zlib, { createGzip, gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_INFLATED_BYTES, RAW_KEEP_BYTES } from "../src/decode/classify";
import { decodeBytes, decodeStream, decodeText } from "../src/decode/decode";
import type { DecodedItem } from "../src/decode/items";
import { chunked, collect, invocationLog, subscriptionPayload } from "./helpers/factories";

/** Every in-memory inflation the decoder asks zlib for: the cap it set and what it got. */
const inflations: { maxOutputLength: number | undefined; outputBytes: number | undefined }[] = [];
const originalGunzipSync = zlib.gunzipSync;

/** Watches `gunzipSync` for every module that imports it (node:zlib's named exports follow the module object once synced). */
function watchGunzipSync(): void {
  zlib.gunzipSync = (buffer: zlib.InputType, options?: zlib.ZlibOptions) => {
    const call: (typeof inflations)[number] = { maxOutputLength: options?.maxOutputLength, outputBytes: undefined };
    inflations.push(call);
    const output = originalGunzipSync(buffer, options);
    call.outputBytes = output.length;
    return output;
  };
  syncBuiltinESMExports();
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Small limits, for bombs that need not be large. */
const LIMITS = { maxInflatedBytes: MiB, maxTotalInflatedBytes: 4 * MiB };

/** gzip of `bytes` of ASCII zeros, compressed as it is produced so that the bomb never sits inflated in this process. */
async function zeroBomb(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on("data", (part: Buffer) => parts.push(part));
  const ended = new Promise<void>((resolve) => gzip.on("end", () => resolve()));
  const chunk = Buffer.alloc(MiB, 0x30);
  for (let written = 0; written < bytes; written += chunk.length) {
    if (!gzip.write(chunk)) await new Promise<void>((resolve) => gzip.once("drain", () => resolve()));
  }
  gzip.end();
  await ended;
  return Buffer.concat(parts);
}

/** `levels` more layers of gzip of base64 around `bomb`: what each level of the decoder inflates. */
function nest(bomb: Buffer, levels: number): Buffer {
  let layer = bomb;
  for (let level = 0; level < levels; level++) layer = gzipSync(layer.toString("base64"), { level: 9 });
  return layer;
}

/** Peak resident memory of this process so far, in bytes (a high-water mark: it sees a peak that is gone by the time the call returns). */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function onlyInvalid(items: DecodedItem[]): Extract<DecodedItem, { kind: "invalid" }> {
  expect(items).toHaveLength(1);
  const [item] = items;
  if (item?.kind !== "invalid") throw new Error(`expected one invalid item, got ${item?.kind}`);
  return item;
}

/** Reasons name limits, fields and positions; nothing of the input (no digit runs of its zeros, no base64 of it, no brackets of it). */
function expectNoContent(reason: string): void {
  expect(reason).not.toMatch(/0{6}|H4sI|\[\[|\{"|1,1|\]\]/);
}

const MESSAGE_DEPTH_LIMIT = 512;

describe("Decompression bombs", () => {
  /** 1 GiB of zeros, about 1 MB of gzip, under three more layers of base64-of-gzip: about 5 KB in all. */
  let gigabyteBomb: Buffer;
  /** 64 MiB of zeros (about 64 KB of gzip), for the tests run with small limits. */
  let smallBomb: Buffer;

  beforeAll(async () => {
    gigabyteBomb = await zeroBomb(GiB);
    smallBomb = await zeroBomb(64 * MiB);
    watchGunzipSync();
  }, 120_000);

  afterAll(() => {
    zlib.gunzipSync = originalGunzipSync;
    syncBuiltinESMExports();
  });

  afterEach(() => {
    inflations.length = 0;
  });

  it("refuses a nested gzip bomb (gzip of base64 of gzip, at every level the decoder inflates) as one invalid item naming the limit, in bounded memory", () => {
    // Prepare
    const record = nest(gigabyteBomb, 3);
    expect(record.length).toBeLessThan(16 * 1024);
    const before = peakRss();

    // Act
    const items = decodeBytes(record);

    // Assess
    const growth = peakRss() - before;
    const item = onlyInvalid(items);
    expect(item.field).toBe("gzip");
    expect(item.reason).toBe(`base64 data inflates to more than ${DEFAULT_MAX_INFLATED_BYTES} bytes, the limit on one payload (maxInflatedBytes)`);
    expectNoContent(item.reason);
    // Four inflations, the innermost stopped at the limit: zlib is never let past it.
    expect(inflations).toHaveLength(4);
    for (const call of inflations) expect(call.maxOutputLength).toBeLessThanOrEqual(DEFAULT_MAX_INFLATED_BYTES);
    expect(inflations.at(-1)?.outputBytes).toBeUndefined();
    // The bomb is 1 GiB inflated; the decoder's peak stays within a few payload limits of it.
    expect(growth).toBeLessThan(256 * MiB);
    console.info(`nested 1 GiB gzip bomb (${record.length} bytes): peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  it.each([
    ["a Kinesis record's gzip data (decodeBytes)", () => decodeBytes(smallBomb, LIMITS), "gzip data"],
    ["a base64 line of a file", () => decodeText(smallBomb.toString("base64"), LIMITS), "base64 data"],
    ["an awslogs event's data", () => decodeText(JSON.stringify({ awslogs: { data: smallBomb.toString("base64") } }), LIMITS), "awslogs data"],
    [
      "a Kinesis event's record data",
      () => decodeText(JSON.stringify({ Records: [{ kinesis: { data: smallBomb.toString("base64") } }] }), LIMITS),
      "kinesis data",
    ],
    ["gzip of base64 of the bomb", () => decodeBytes(nest(smallBomb, 1), LIMITS), "base64 data"],
    ["gzip of base64 of gzip of base64 of the bomb", () => decodeBytes(nest(smallBomb, 2), LIMITS), "base64 data"],
    [
      "an awslogs event's data, gzip of base64 of the bomb",
      () => decodeText(JSON.stringify({ awslogs: { data: nest(smallBomb, 1).toString("base64") } }), LIMITS),
      "base64 data",
    ],
  ])("refuses a bomb in %s at the configured per-payload limit, never asking zlib for more", (_, decode, what) => {
    // Act
    const item = onlyInvalid(decode());

    // Assess
    expect(item.field).toBe("gzip");
    expect(item.reason).toBe(`${what} inflates to more than ${LIMITS.maxInflatedBytes} bytes, the limit on one payload (maxInflatedBytes)`);
    expectNoContent(item.reason);
    expect(inflations.length).toBeGreaterThan(0);
    for (const call of inflations) {
      expect(call.maxOutputLength).toBeLessThanOrEqual(LIMITS.maxInflatedBytes);
      expect(call.outputBytes ?? 0).toBeLessThanOrEqual(LIMITS.maxInflatedBytes);
    }
  });

  it("counts every payload of one input against the total limit, and refuses the rest once it is spent", () => {
    // Prepare: ten lines of base64 of gzip, each a record inflating to about 0.6 MiB
    const line = gzipSync(JSON.stringify(invocationLog({ requestId: "big", padding: "x".repeat(0.6 * MiB) }))).toString("base64");
    const text = Array.from({ length: 10 }, () => line).join("\n");

    // Act
    const items = decodeText(text, { maxInflatedBytes: MiB, maxTotalInflatedBytes: 2 * MiB });

    // Assess
    expect(items.map((item) => item.kind)).toEqual(["record", "record", "record", ...Array(7).fill("invalid")]);
    const refused = items.slice(3) as Extract<DecodedItem, { kind: "invalid" }>[];
    for (const item of refused) {
      expect(item.field).toBe("gzip");
      expect(item.reason).toMatch(
        /^base64 data would take the input past 2097152 inflated bytes, the limit on one input \(maxTotalInflatedBytes; \d+ bytes inflated before it\)$/,
      );
    }
    // The fourth was stopped at what was left; the others were never inflated.
    expect(inflations).toHaveLength(4);
    expect(inflations.reduce((sum, call) => sum + (call.outputBytes ?? call.maxOutputLength ?? 0), 0)).toBe(2 * MiB);
  });

  it("gives each decodeBytes call its own total, and decodes a real payload as before", () => {
    const payload = gzipSync(JSON.stringify(subscriptionPayload([JSON.stringify(invocationLog({ requestId: "a" }))])));
    for (let i = 0; i < 3; i++) expect(decodeBytes(payload, { maxTotalInflatedBytes: payload.length * 20 }).map((item) => item.kind)).toEqual(["record"]);
  });

  it("refuses a nested bomb on one line of a streamed file as one invalid item and reads the lines after it", async () => {
    // Prepare
    const good = JSON.stringify(invocationLog({ requestId: "after" }));
    const file = Buffer.from(`${nest(gigabyteBomb, 1).toString("base64")}\n${good}\n`);
    const before = peakRss();

    // Act
    const items = await collect(decodeStream(chunked(file, [64 * 1024]), { file: "bomb.txt" }));

    // Assess
    const growth = peakRss() - before;
    expect(items.map((item) => item.kind)).toEqual(["invalid", "record"]);
    expect(items[0]).toMatchObject({
      field: "gzip",
      reason: `base64 data inflates to more than ${DEFAULT_MAX_INFLATED_BYTES} bytes, the limit on one payload (maxInflatedBytes)`,
    });
    expect(growth).toBeLessThan(256 * MiB);
  });

  it("stops a gzip stream that inflates past maxStreamInflatedBytes with one invalid item, and closes the source", async () => {
    // Prepare
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(smallBomb, [4096]);
      } finally {
        closed = true;
      }
    }

    // Act
    const items = await collect(decodeStream(source(), { file: "bomb.json.gz", maxStreamInflatedBytes: 4 * MiB }));

    // Assess
    const item = onlyInvalid(items);
    expect(item.field).toBe("gzip");
    expect(item.reason).toBe(`gzip stream inflates to more than ${4 * MiB} bytes, the limit on one stream (maxStreamInflatedBytes); decoding stopped there`);
    expect(item.source).toEqual({ file: "bomb.json.gz", line: 1 });
    expect(item.raw.length).toBeLessThanOrEqual(4 * MiB);
    expect(closed).toBe(true);
  });
});

/** A subscription payload (as its JSON text) holding `message` as its first log event, and a valid record after it. */
function payloadWith(message: string): string {
  return JSON.stringify(subscriptionPayload([message, JSON.stringify(invocationLog({ requestId: "next" }))]));
}

describe("Nesting and fan-out inside log event messages", () => {
  it.each([
    ["arrays", "[".repeat(100_000) + "]".repeat(100_000)],
    ["objects", `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`],
    ["unclosed brackets", "[".repeat(100_000)],
  ])("refuses a message of 100,000 nested %s as one invalid item naming the depth limit, without throwing", (_, message) => {
    // Act
    const items = decodeText(payloadWith(message));
    const viaKinesis = decodeBytes(gzipSync(payloadWith(message)));

    // Assess
    expect(items.map((item) => item.kind)).toEqual(["invalid", "record"]);
    expect(items[0]).toMatchObject({
      kind: "invalid",
      field: "logEvents[0].message",
      reason: `log event message nests JSON more than ${MESSAGE_DEPTH_LIMIT} levels deep, the limit (maxDepth)`,
      source: { line: 1, index: 0 },
    });
    expectNoContent((items[0] as { reason: string }).reason);
    expect((items[0] as { raw: string }).raw.length).toBeLessThan(RAW_KEEP_BYTES + 100);
    expect(viaKinesis).toEqual(items);
  });

  it("applies the depth limit to messages exactly as to top-level input, counting brackets outside strings only", () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"requestId":"deep"}${"}".repeat(depth - 1)}`;
    expect(decodeText(payloadWith(nested(512))).map((item) => item.kind)).toEqual(["record", "record"]);
    expect(decodeText(payloadWith(nested(513))).map((item) => item.kind)).toEqual(["invalid", "record"]);
    expect(decodeText(nested(513)).map((item) => item.kind)).toEqual(["invalid"]);
    expect(decodeText(payloadWith(nested(40)), { maxDepth: 39 }).map((item) => item.kind)).toEqual(["invalid", "record"]);
    // Brackets inside strings are text, not nesting: a prompt full of them is a record.
    const bracketsInText = JSON.stringify(invocationLog({ requestId: "text", note: `${"[{".repeat(5000)}\\"${"]}".repeat(10)}` }));
    expect(decodeText(payloadWith(bracketsInText)).map((item) => item.kind)).toEqual(["record", "record"]);
  });

  it("never throws on a message of any nesting, and refuses it exactly when it is deeper than the limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.constantFrom("[", '{"k":'), fc.boolean(), (depth, open, inString) => {
        const close = open === "[" ? "]" : "}";
        const inner = inString ? '"[[[{{{"' : "1";
        const message = open.repeat(depth) + inner + close.repeat(depth);
        const items = decodeText(payloadWith(message));
        expect(items.at(-1)?.kind).toBe("record");
        const first = items[0];
        if (depth > MESSAGE_DEPTH_LIMIT) expect(first).toMatchObject({ kind: "invalid", field: "logEvents[0].message" });
        else expect(first?.kind === "invalid" ? first.reason : "").not.toMatch(/maxDepth/);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a message that is an array of 100,000 numbers as one invalid item naming the limit", () => {
    // Prepare
    const message = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => i % 10));

    // Act
    const items = decodeText(payloadWith(message));

    // Assess
    expect(items.map((item) => item.kind)).toEqual(["invalid", "record"]);
    expect(items[0]).toMatchObject({
      field: "logEvents[0].message",
      reason: "log event message is a JSON array of 100000 elements, more than the 10000 allowed (maxMessageArrayElements)",
      rawClipped: { originalBytes: message.length },
    });
    expectNoContent((items[0] as { reason: string }).reason);
  });

  it.each([
    ["short array of numbers", [1, 2, 3], "log event message is a JSON array whose element 0 is a number, expected log records (objects)"],
    [
      "array with one nested array",
      [invocationLog({ requestId: "a" }), [invocationLog({ requestId: "b" })]],
      "log event message is a JSON array whose element 1 is an array, expected log records (objects)",
    ],
    [
      "array of 10,001 objects",
      Array.from({ length: 10_001 }, () => ({})),
      "log event message is a JSON array of 10001 elements, more than the 10000 allowed (maxMessageArrayElements)",
    ],
  ])("refuses a message that is a %s as one invalid item", (_, value, reason) => {
    const items = decodeText(payloadWith(JSON.stringify(value)));
    expect(items.map((item) => item.kind)).toEqual(["invalid", "record"]);
    expect(items[0]).toMatchObject({ field: "logEvents[0].message", reason });
  });

  it("still reads a short array of records in one message, and takes maxMessageArrayElements", () => {
    const message = JSON.stringify([invocationLog({ requestId: "a" }), invocationLog({ requestId: "b" })]);
    expect(decodeText(payloadWith(message)).map((item) => item.kind)).toEqual(["record", "record", "record"]);
    expect(decodeText(payloadWith(message), { maxMessageArrayElements: 1 }).map((item) => item.kind)).toEqual(["invalid", "record"]);
  });
});

function invalidOf(items: DecodedItem[]): Extract<DecodedItem, { kind: "invalid" }>[] {
  return items.filter((item): item is Extract<DecodedItem, { kind: "invalid" }> => item.kind === "invalid");
}

describe("Fan-out inside one input", () => {
  it.each([
    [
      "a Kinesis record whose data is a root array of 100,000 numbers",
      () => decodeBytes(gzipSync(JSON.stringify(Array.from({ length: 100_000 }, (_, i) => i)))),
    ],
    [
      "a subscription payload whose 100,000 log events are numbers",
      () => decodeBytes(gzipSync(JSON.stringify({ ...subscriptionPayload([]), logEvents: Array.from({ length: 100_000 }, (_, i) => i) }))),
    ],
  ])("gives %s at most 100 invalid items, the last counting and keeping the rest", (_, decode) => {
    // Act
    const items = decode();

    // Assess
    const invalid = invalidOf(items);
    expect(invalid).toHaveLength(100);
    const last = invalid[99];
    expect(last?.reason).toMatch(
      /^99901 invalid items of one input kept as one \(fields (record|logEvents); the first: .*\): more than the 100 allowed per input \(maxInvalidItems\)/,
    );
    // Nothing is lost: the collapsed item's raw begins with the raw texts of the items it replaced, one per line.
    expect(last?.raw.startsWith("99\n100\n101\n")).toBe(true);
    expect(last?.raw.length).toBeLessThan(RAW_KEEP_BYTES + 100);
  });

  it("keeps the records between invalid items, in order, and takes maxInvalidItems", () => {
    // Arrange: record, 5 numbers, record
    const text = JSON.stringify([invocationLog({ requestId: "a" }), 1, 2, 3, 4, 5, invocationLog({ requestId: "b" })]);

    // Act
    const items = decodeText(text, { maxInvalidItems: 2 });

    // Assess
    expect(items.map((item) => item.kind)).toEqual(["record", "invalid", "invalid", "record"]);
    expect(items[2]).toMatchObject({ field: "record", raw: "2\n3\n4\n5" });
    expect((items[2] as { reason: string }).reason).toMatch(/^4 invalid items of one input/);
    expect(decodeText(text).map((item) => item.kind)).toEqual(["record", "invalid", "invalid", "invalid", "invalid", "invalid", "record"]);
  });

  it("never yields more invalid items per input than the limit, and never loses a record (property)", () => {
    const element = fc.oneof(fc.integer(), fc.constant("x"), fc.constant(null), fc.constant("record"));
    fc.assert(
      fc.property(fc.array(element, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (elements, limit) => {
        const values = elements.map((value, i) => (value === "record" ? invocationLog({ requestId: `r${i}` }) : value));
        const items = decodeText(JSON.stringify(values), { maxInvalidItems: limit });
        const records = values.filter((value) => typeof value === "object" && value !== null).length;
        expect(items.filter((item) => item.kind === "record")).toHaveLength(records);
        expect(invalidOf(items).length).toBe(Math.min(limit, values.length - records));
      }),
    );
  });
});

describe("Reasons never quote content", () => {
  const secret = "my secret prompt";

  it.each([
    ["a text line", secret],
    ["broken JSON", `{"prompt": "${secret}", oops}`],
    ["a broken JSON message", undefined],
  ])("names %s by position or length only", (_, line) => {
    const items = line === undefined ? decodeText(payloadWith(`{"prompt": "${secret}" oops}`)) : decodeText(line);
    const reasons = invalidOf(items).map((item) => item.reason);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).not.toContain("secret");
    expect(reasons[0]).not.toContain("prompt");
    expect(reasons[0]).toMatch(/position \d+|\d+ characters/);
  });
});
