/**
 * Exact money arithmetic.
 *
 * Every amount in bedrock-spend is a `bigint` count of pico-dollars (1e-12 USD). Prices in the
 * catalog are USD per million tokens with at most 6 fractional digits, so a per-token rate is an
 * integer number of pico-dollars and `tokens x rate` is exact. No binary floating point touches a
 * cost anywhere; amounts cross process boundaries as decimal strings.
 */

/** Pico-dollars per US dollar. */
export const PICO_PER_USD = 1_000_000_000_000n;

/** Fractional digits a catalog price (USD per million tokens) may have. */
export const MAX_PRICE_FRACTION_DIGITS = 6;

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a non-negative decimal string into an integer scaled by `10^scale`.
 * Returns `undefined` when the string is not a plain decimal (signs, exponents, commas, spaces)
 * or has more than `scale` fractional digits, because rounding a price would make costs inexact.
 */
export function parseScaledDecimal(text: string, scale: number): bigint | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > scale) return undefined;
  return BigInt(whole + fraction.padEnd(scale, "0"));
}

/**
 * Converts a catalog price, USD per million tokens, into pico-dollars per token.
 * 1 USD / 1e6 tokens = 1e6 pico-dollars per token, so the scale is exactly 6 digits.
 */
export function pricePerMillionToPicoPerToken(text: string): bigint | undefined {
  return parseScaledDecimal(text, MAX_PRICE_FRACTION_DIGITS);
}

/** The inverse of `pricePerMillionToPicoPerToken`: a rate in pico-dollars per token as the USD per million tokens a catalog writes, without trailing zeros. */
export function picoPerTokenToPricePerMillion(rate: bigint): string {
  // $1 per million tokens is 10^12 pico-dollars over 10^6 tokens: 10^6 pico-dollars per token.
  const whole = rate / 1_000_000n;
  const fraction = (rate % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** Parses a USD amount (e.g. a budget, "100.00") into pico-dollars; at most 12 fractional digits. */
export function parseUsd(text: string): bigint | undefined {
  return parseScaledDecimal(text, 12);
}

/**
 * Formats pico-dollars as an exact decimal USD string with at least `minFractionDigits` digits
 * and as many more as the value needs (never rounded): 320_000_000n -> "0.000320",
 * 35_000n -> "0.000000035".
 */
export function formatUsd(pico: bigint, minFractionDigits = 6): string {
  const negative = pico < 0n;
  const abs = negative ? -pico : pico;
  // The digits of the whole and fractional parts, from one conversion (no bigint division: this
  // formats the cost of every record).
  const digits = abs.toString();
  const whole = digits.length > 12 ? digits.slice(0, -12) : "0";
  let fraction = digits.length > 12 ? digits.slice(-12) : digits.padStart(12, "0");
  let end = fraction.length;
  while (end > minFractionDigits && fraction[end - 1] === "0") end--;
  fraction = fraction.slice(0, end);
  const body = fraction.length > 0 ? `${whole}.${fraction}` : whole;
  return negative ? `-${body}` : body;
}
