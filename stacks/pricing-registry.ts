/**
 * The aggregates table's reprice partitions as the stacks grant them: the pricing registry, which
 * the live consumers read (aggregate, redrive, transform), and the audit records the reprice job
 * writes (stacks/Reprice.ts).
 */
import * as iam from "aws-cdk-lib/aws-iam";

/**
 * Partitions of the pricing registry and of the audit records. The same strings as `PRICING_PK`
 * and `REPRICE_PK` of packages/store/src/reprice-store.ts, which imports workspace packages at run
 * time and so cannot be imported here (stacks/README.md); test/infra/reprice.test.ts holds them equal.
 */
export const PRICING_PARTITION = "P#PRICING";
export const REPRICE_PARTITION = "P#REPRICE";

/**
 * Reading the pricing registry (`P#PRICING` / `REPRICES`) and nothing else of the table: what a
 * live consumer needs to price a repriced month with the reprice's catalog.
 */
export function registryRead(tableArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "PricingRegistry",
    actions: ["dynamodb:GetItem"],
    resources: [tableArn],
    conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [PRICING_PARTITION] } },
  });
}
