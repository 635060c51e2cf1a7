import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatUsd, PICO_PER_USD, parseUsd, picoPerTokenToPricePerMillion, pricePerMillionToPicoPerToken } from "../src/money";

describe("Function: pricePerMillionToPicoPerToken()", () => {
  it.each([
    ["1.00", 1_000_000n],
    ["3", 3_000_000n],
    ["0.00875", 8_750n],
    ["0.000001", 1n],
    ["16.50", 16_500_000n],
  ])("converts %s USD per million tokens to %s pico-dollars per token", (text, expected) => {
    expect(pricePerMillionToPicoPerToken(text)).toBe(expected);
  });

  it.each(["", "-1", "1e-3", "1,00", " 1.0", "1.", ".5", "0.0000001", "NaN", "0x10", "+1"])("refuses %j", (text) => {
    expect(pricePerMillionToPicoPerToken(text)).toBeUndefined();
  });
});

describe("Function: picoPerTokenToPricePerMillion()", () => {
  it.each([
    [1_000_000n, "1"],
    [8_750n, "0.00875"],
    [1n, "0.000001"],
    [16_500_000n, "16.5"],
    [0n, "0"],
  ])("writes %s pico-dollars per token as %s USD per million tokens", (rate, expected) => {
    expect(picoPerTokenToPricePerMillion(rate)).toBe(expected);
  });

  it("is the inverse of pricePerMillionToPicoPerToken for any rate (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (rate) => {
        expect(pricePerMillionToPicoPerToken(picoPerTokenToPricePerMillion(rate))).toBe(rate);
      }),
    );
  });
});

describe("Function: formatUsd()", () => {
  it.each([
    [320_000_000n, "0.000320"],
    [35_000n, "0.000000035"],
    [0n, "0.000000"],
    [PICO_PER_USD * 12n + 345_600_000_000n, "12.345600"],
    [1n, "0.000000000001"],
    [-320_000_000n, "-0.000320"],
  ])("formats %s pico-dollars as %s", (pico, expected) => {
    expect(formatUsd(pico)).toBe(expected);
  });

  it("round-trips every amount exactly through parseUsd", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (pico) => {
        expect(parseUsd(formatUsd(pico))).toBe(pico);
      }),
    );
  });

  it("honours a smaller minimum of fraction digits without rounding", () => {
    expect(formatUsd(100n * PICO_PER_USD, 2)).toBe("100.00");
    expect(formatUsd(123_456_789_012n, 2)).toBe("0.123456789012");
  });
});
