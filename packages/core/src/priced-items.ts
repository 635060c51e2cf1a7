/**
 * The one decode-and-price step of every path that reads invocation logs: the aggregate batch,
 * the Firehose transform, the redrive and `bedrock-spend price`. It sorts what an input yields
 * by what happens to it, so that no caller has its own switch on the outcome kind.
 */
import { type DecodeOptions, decodeBytes, decodeText } from "./decode/decode";
import type { DecodedItem, SkipReason } from "./decode/items";
import type { PriceOutcome, Pricer } from "./pricer";

/** An invocation log record, validated and priced (or unpriced), with its raw text and location. */
export type UsageOutcome = Extract<PriceOutcome, { kind: "usage" }>;
/** An item that is not a readable invocation: its raw text, the field at fault, the reason and the location. */
export type InvalidOutcome = Extract<PriceOutcome, { kind: "invalid" }>;

/** What one input yields, decoded and priced, sorted by what happens to it. */
export interface PricedItems {
  /** Priced and unpriced invocations: counted, written to the lake, printed. */
  usage: UsageOutcome[];
  /** Items that are not readable invocations: quarantined (or printed) with the reason. */
  invalid: InvalidOutcome[];
  /** Control messages and permissions lines, dropped on purpose: how many of each. */
  skippedBy: Record<SkipReason, number>;
  /** Of the items, those skipped on purpose (the sum of `skippedBy`). */
  skipped: number;
  /** Every usage and invalid outcome, in input order (what `price` prints, line for line). */
  ordered: (UsageOutcome | InvalidOutcome)[];
}

/** Prices decoded items: `items = usage + invalid + skipped`. Never throws on bad input. */
export function priceItems(items: Iterable<DecodedItem>, pricer: Pricer): PricedItems {
  const priced: PricedItems = { usage: [], invalid: [], skippedBy: { "control-message": 0, "permissions-line": 0 }, skipped: 0, ordered: [] };
  for (const item of items) {
    const outcome = pricer.priceItem(item);
    if (outcome.kind === "skipped") {
      priced.skippedBy[outcome.skip]++;
      priced.skipped++;
      continue;
    }
    if (outcome.kind === "usage") priced.usage.push(outcome);
    else priced.invalid.push(outcome);
    priced.ordered.push(outcome);
  }
  return priced;
}

/**
 * Decodes one input (a Kinesis or Firehose record's data, a quarantined record's raw text, a
 * file's contents) and prices what it holds. Never throws on bad input.
 */
export function decodeAndPrice(data: Uint8Array | string, pricer: Pricer, options: DecodeOptions = {}): PricedItems {
  return priceItems(decodeInput(data, options), pricer);
}

/** `priceItems` after resolving ahead what the items need (`Pricer.prepare`): for callers that price a chunk at a time. */
export async function preparedPriceItems(items: readonly DecodedItem[], pricer: Pricer): Promise<PricedItems> {
  await pricer.prepare(items);
  return priceItems(items, pricer);
}

/** Decodes one input (bytes or text) into its items. Never throws on bad input. */
export function decodeInput(data: Uint8Array | string, options: DecodeOptions = {}): DecodedItem[] {
  return typeof data === "string" ? decodeText(data, options) : decodeBytes(data, options);
}

/**
 * Decodes a batch of inputs, resolves ahead what pricing them needs (`Pricer.prepare`: the
 * application inference profiles they name, once per batch), and prices each: what a consumer of
 * the stream does with one batch. Never throws on bad input.
 */
export async function decodeAndPriceBatch(inputs: readonly { data: Uint8Array | string; options?: DecodeOptions }[], pricer: Pricer): Promise<PricedItems[]> {
  const decoded = inputs.map((input) => decodeInput(input.data, input.options));
  await pricer.prepare(decoded.flat());
  return decoded.map((items) => priceItems(items, pricer));
}
