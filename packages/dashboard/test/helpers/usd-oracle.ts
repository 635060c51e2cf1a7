/**
 * How the dashboard should show an exact USD amount, computed independently of the page's own
 * code: ICU's currency formatting (`Intl.NumberFormat`, which reads a string as an exact decimal)
 * with half-up rounding, two decimals from $0.10 up, three significant digits below.
 */
import { parseUsd } from "@bedrock-spend/core";

const TWO_DECIMALS = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  roundingMode: "halfExpand",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const THREE_SIGNIFICANT = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", roundingMode: "halfExpand", maximumSignificantDigits: 3 });
/** $0.10 in pico-dollars. */
const TEN_CENTS = 100_000_000_000n;

/** The expected text of `amount` (an exact decimal string, pico-dollar precision at most). */
export function expectedUsd(amount: string): string {
  const pico = parseUsd(amount.replace(/^-/, ""));
  if (pico === undefined) throw new Error(`not a decimal amount: ${amount}`);
  const negative = amount.startsWith("-");
  if (pico === 0n) return "$0.00";
  const text = pico < TEN_CENTS ? THREE_SIGNIFICANT.format(amount as `${number}`) : TWO_DECIMALS.format(amount as `${number}`);
  // ICU drops trailing zeros with significant digits ($0.1 for 0.09995): money shows at least cents.
  const padded = text.replace(/\.(\d)$/, ".$10");
  // The page writes a true minus sign.
  return negative ? padded.replace("-", "−") : padded;
}
