import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RAW_KEEP_BYTES } from "../src/decode/classify";
import { clipUtf8 } from "../src/decode/clip";
import { decodeText } from "../src/decode/decode";
import { invocationLog } from "./helpers/factories";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
const codePoint = (min: number, max: number) => fc.integer({ min, max }).map((point) => String.fromCodePoint(point));

/** Mostly non-ASCII text: CJK (3 bytes), emoji (4 bytes, a surrogate pair), accented Latin (2 bytes), some ASCII. */
const mostlyNonAscii = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: codePoint(0x4e00, 0x9fff) },
    { weight: 3, arbitrary: codePoint(0x1f300, 0x1faff) },
    { weight: 2, arbitrary: codePoint(0x00c0, 0x07ff) },
    { weight: 1, arbitrary: codePoint(0x20, 0x7e) },
  ),
  maxLength: 400,
});

describe("Function: clipUtf8()", () => {
  it("keeps the longest prefix whose UTF-8 fits the budget, without splitting a code point", () => {
    fc.assert(
      fc.property(mostlyNonAscii, fc.integer({ min: 0, max: 1_600 }), (text, budget) => {
        const clipped = clipUtf8(text, budget);
        const bytes = Buffer.from(clipped.text, "utf8");

        // Valid UTF-8 (a split surrogate pair would encode as U+FFFD and not decode back), within the budget, a prefix.
        expect(fatalUtf8.decode(bytes)).toBe(clipped.text);
        expect(bytes.length).toBeLessThanOrEqual(budget);
        expect(text.startsWith(clipped.text)).toBe(true);
        expect(clipped.bytes).toBe(bytes.length);
        expect(clipped.originalBytes).toBe(Buffer.byteLength(text, "utf8"));
        expect(clipped.clipped).toBe(clipped.originalBytes > budget);
        // Longest: the next code point would not have fitted.
        const next = text.slice(clipped.text.length).codePointAt(0);
        if (next !== undefined) expect(bytes.length + Buffer.byteLength(String.fromCodePoint(next), "utf8")).toBeGreaterThan(budget);
      }),
    );
  });

  it("cuts before an emoji whose pair would straddle the budget", () => {
    // "a" then emoji: 1 + 4k bytes; a budget of 7 fits "a" and one emoji (5 bytes), not half of the next
    const clipped = clipUtf8("a😀😀😀", 7);
    expect(clipped).toEqual({ text: "a😀", clipped: true, bytes: 5, originalBytes: 13 });
  });
});

describe("Function: decodeText() clipping raw content", () => {
  it("keeps at most RAW_KEEP_BYTES of UTF-8 of an enormous CJK record, and says how much there was", () => {
    // Prepare: 100,000 CJK characters, 300,000 bytes of UTF-8; 64K characters of it would be 192 KiB
    const big = JSON.stringify(invocationLog({ padding: "中".repeat(100_000) }));
    const originalBytes = Buffer.byteLength(big, "utf8");

    // Act
    const [item] = decodeText(big, { maxRecordChars: 100_000 });

    // Assess
    expect(item).toMatchObject({ kind: "invalid", field: "record" });
    const { raw, rawClipped } = item as { raw: string; rawClipped?: { keptBytes: number; originalBytes: number } };
    expect(rawClipped?.originalBytes).toBe(originalBytes);
    expect(rawClipped?.keptBytes).toBeLessThanOrEqual(RAW_KEEP_BYTES);
    expect(rawClipped?.keptBytes).toBeGreaterThan(RAW_KEEP_BYTES - 4);
    const kept = raw.slice(0, raw.indexOf("...[clipped:"));
    expect(Buffer.byteLength(kept, "utf8")).toBe(rawClipped?.keptBytes);
    expect(big.startsWith(kept)).toBe(true);
    expect(raw).toContain(`${originalBytes - (rawClipped?.keptBytes ?? 0)} more bytes, ${originalBytes} in all`);
  });

  it("never keeps half of a surrogate pair of an enormous emoji line", () => {
    // An odd prefix puts a pair across every even cut in UTF-16 code units
    const line = `x${"😀".repeat(60_000)}`;

    const [item] = decodeText(line);

    expect(item).toMatchObject({ kind: "invalid", field: "json" });
    const raw = (item as { raw: string }).raw;
    expect(fatalUtf8.decode(Buffer.from(raw, "utf8"))).toBe(raw);
    expect(Buffer.byteLength(raw, "utf8")).toBeLessThan(RAW_KEEP_BYTES + 100);
  });
});
