/**
 * The page's money formatting (public/format.js, the module the page imports) against an
 * independent oracle (ICU's exact-decimal currency formatting): below $1, below $0.01, in the
 * thousands and the millions, and for any pico-dollar amount; drifts with their sign.
 */
import { formatUsd } from "@bedrock-spend/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactUsd, signedPercent, signedUsd, usd } from "../public/format.js";
import { expectedUsd } from "./helpers/usd-oracle";

describe("Function: usd() (the dashboard's money text)", () => {
  it.each([
    // below $1
    ["0.57", "$0.57"],
    ["0.565", "$0.57"],
    ["0.5649999", "$0.56"],
    ["0.1", "$0.10"],
    ["0.099999", "$0.10"],
    ["0.0995", "$0.0995"],
    // below $0.01
    ["0.005", "$0.005"],
    ["0.000320", "$0.00032"],
    ["0.00012345", "$0.000123"],
    ["0.00012355", "$0.000124"],
    ["0.000000000001", "$0.000000000001"],
    // thousands and millions
    ["1234.565", "$1,234.57"],
    ["999.995", "$1,000.00"],
    ["12345678.994999", "$12,345,678.99"],
    ["9999999.995", "$10,000,000.00"],
    ["0", "$0.00"],
    ["-12.345", "−$12.35"],
  ])("shows %s as %s, as the oracle does", (amount, shown) => {
    expect(usd(amount)).toBe(shown);
    expect(expectedUsd(amount)).toBe(shown);
  });

  it("agrees with the oracle on any pico-dollar amount, below $0.01 up to the millions", () => {
    const scales = [10n ** 10n, 10n ** 12n, 10n ** 15n, 10n ** 18n, 10n ** 21n]; // < $0.01, < $1, thousands, millions, billions
    fc.assert(
      fc.property(fc.constantFrom(...scales), fc.bigInt({ min: 0n, max: 10n ** 21n }), fc.boolean(), (scale, raw, negative) => {
        const pico = (raw % scale) * (negative ? -1n : 1n);
        const amount = formatUsd(pico);
        expect(usd(amount)).toBe(expectedUsd(amount));
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps the exact amount for the title, and a dash for none", () => {
    expect(exactUsd("0.000320123456")).toBe("Exact: $0.000320123456");
    expect(exactUsd("-3.5")).toBe("Exact: −$3.5");
    expect(usd(null)).toBe("–");
  });
});

describe("Function: signedUsd() and signedPercent() (a drift with its sign)", () => {
  it.each([
    ["1.030000", "+$1.03"],
    ["-0.220000", "−$0.22"],
    ["0.000000", "$0.00"],
    ["-0.000000", "$0.00"],
    ["0.000123", "+$0.000123"],
    ["-1234.565", "−$1,234.57"],
    [null, "–"],
  ])("shows the drift %s as %s", (amount, shown) => {
    expect(signedUsd(amount)).toBe(shown);
  });

  it("always shows the sign of a non-zero drift, and the same digits as usd()", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), (pico) => {
        const amount = formatUsd(pico);
        const shown = signedUsd(amount);
        if (pico > 0n) expect(shown).toBe(`+${usd(amount)}`);
        else expect(shown).toBe(usd(amount));
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ["12.80", "+12.80%"],
    ["-73.33", "−73.33%"],
    ["0.00", "0.00%"],
    ["-0.00", "0.00%"],
    [null, "–"],
  ])("shows the percentage %s as %s", (value, shown) => {
    expect(signedPercent(value)).toBe(shown);
  });
});
