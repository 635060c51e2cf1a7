// Types of format.js (the page's formatting module, plain JavaScript served as is).

/** Compact number format for chart labels: 1.2K, 3.4M. */
export declare const compact: Intl.NumberFormat;
/**
 * An exact decimal USD string for reading, rounded half up without floating point: two decimals
 * from $0.10 up (thousands separated), three significant digits below, "–" for null.
 */
export declare function usd(text: string | null | undefined): string;
/** The exact amount, for a title attribute. */
export declare function exactUsd(text: string | null | undefined): string;
/** A number of dollars for chart axes and labels (drawing only). */
export declare function usdNumber(value: number): string;
/** A drift (exact decimal USD string) with its sign always shown: "+$1.03", "−$0.22", "$0.00"; "–" for null. */
export declare function signedUsd(text: string | null | undefined): string;
/** A percentage given as a decimal string with its sign always shown: "+12.80%", "−73.33%", "0.00%"; "–" for null. */
export declare function signedPercent(text: string | null | undefined): string;
/** An integer with thousands separators. */
export declare function count(value: number): string;
/** A percentage with `digits` decimals. */
export declare function percent(value: number, digits?: number): string;
