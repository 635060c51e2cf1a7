// Number and money formatting of the dashboard page, in its own module so that tests check it
// against an independent oracle. Money arrives as exact decimal strings and is rounded as text
// (BigInt), never through floating point; only chart axes format plain numbers.

const integer = new Intl.NumberFormat("en-US");
export const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const smallUsd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumSignificantDigits: 3 });

/** Thousands separators on a string of digits. */
function groupDigits(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Formats an exact decimal USD string for reading, rounding half up with BigInt (no float): two
 * decimals from $0.10 up, three significant digits below (so $0.000320 stays $0.00032), "$0.00" for 0.
 */
export function usd(text) {
  if (text === null || text === undefined) return "–";
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text));
  if (!match) return String(text);
  const [, sign, whole, fraction = ""] = match;
  let digits = 2;
  if (/^0+$/.test(whole)) {
    const first = fraction.search(/[1-9]/);
    if (first >= 1) digits = Math.min(first + 3, 12);
  }
  const scaled = BigInt(whole + fraction.padEnd(digits + 1, "0").slice(0, digits + 1));
  const rounded = (scaled + 5n) / 10n;
  let body = rounded.toString().padStart(digits + 1, "0");
  let fractionOut = body.slice(-digits);
  body = body.slice(0, -digits);
  if (digits > 2) fractionOut = fractionOut.replace(/0+$/, "").padEnd(2, "0");
  const negative = sign === "-" && rounded !== 0n;
  return `${negative ? "−" : ""}$${groupDigits(body)}.${fractionOut}`;
}

/** The exact amount, for a title attribute. */
export function exactUsd(text) {
  return text === null || text === undefined ? "" : `Exact: ${String(text).startsWith("-") ? `−$${String(text).slice(1)}` : `$${text}`}`;
}

/** A number of dollars for chart axes and labels (drawing only): $1.2K, $12.30, $0.30, $0.00032. */
export function usdNumber(value) {
  const abs = Math.abs(value);
  if (abs === 0) return "$0";
  if (abs >= 1000) return `$${compact.format(value)}`;
  if (abs >= 0.1) return `$${value.toFixed(2)}`;
  return smallUsd.format(value);
}

/** True when an exact decimal string is zero (any sign, any number of zeros). */
function isZero(text) {
  return /^-?0*(?:\.0*)?$/.test(text);
}

/**
 * A drift (an exact decimal USD string) with its sign always shown: "+$1.03" when positive,
 * "−$0.22" when negative, "$0.00" for zero; "–" for null.
 */
export function signedUsd(text) {
  if (text === null || text === undefined) return "–";
  const value = String(text);
  return value.startsWith("-") || isZero(value) ? usd(value) : `+${usd(value)}`;
}

/** A percentage given as a decimal string ("12.80", "-73.33") with its sign always shown: "+12.80%", "−73.33%"; "–" for null. */
export function signedPercent(text) {
  if (text === null || text === undefined) return "–";
  const value = String(text);
  if (value.startsWith("-")) return isZero(value) ? `${value.slice(1)}%` : `−${value.slice(1)}%`;
  return isZero(value) ? `${value}%` : `+${value}%`;
}

export function count(value) {
  return integer.format(value);
}

export function percent(value, digits = 1) {
  return `${value.toFixed(digits)}%`;
}
