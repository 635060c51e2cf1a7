/** Test factories for the bill: a day's CUR line items of one usage type, summed as the reader sums them. */
import { type BillGroup, parseUsd } from "../../src/index";

/** `tokens` of `usageType` on `day` at `ratePer1k` USD per 1K tokens, the cost exactly amount x rate, every hour billed. */
export function billGroup(day: string, usageType: string, tokens: number, ratePer1k: string, overrides: Partial<BillGroup> = {}): BillGroup {
  const rate = parseUsd(ratePer1k);
  if (rate === undefined) throw new Error(`not a rate: ${ratePer1k}`);
  const cost = (BigInt(tokens) * rate) / 1000n;
  return {
    day,
    usageType,
    productCode: "AmazonBedrock",
    productName: "Amazon Bedrock",
    billingEntity: "AWS",
    lineItemType: "Usage",
    pricingUnit: "1K tokens",
    usageAmount: String(tokens / 1000),
    unblendedCostPico: cost,
    netCostPico: cost,
    rates: [ratePer1k],
    lastHour: 23,
    ...overrides,
  };
}
