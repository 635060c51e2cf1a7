/**
 * cdk-nag's `AwsSolutions` and `Serverless` rule packs over every stack of the app, in every
 * configuration the infrastructure tests synthesize (together, the variants below switch on every
 * option those tests use): no unsuppressed error or warning. The suppressions, each with its
 * reason, are in stacks/nag-suppressions.ts, one function per stack.
 */
import { App, Stack } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { REQUIRED_CUR_COLUMNS } from "../../packages/core/src/bill/reconcile";
import type { Config } from "../../stacks/config";
import { formatFindings, nagConstruct, nagFindings } from "./nag";
import { type SynthesizedApp, synthesize } from "./synth";

const JWT = { jwtIssuer: "https://login.example.com/", jwtAudience: ["spend-api", "dashboard"], jwtTenantClaim: "org_id", jwtAdminScope: "spend:admin" };

/** The configurations of the infrastructure tests, by what they switch on. */
const VARIANTS: Record<string, Partial<Config>> = {
  defaults: {},
  "every option (JWT API with admin scope, e-mail on both topics, default budget, breakdowns, usage types)": {
    ...JWT,
    alertEmail: "finance@example.com",
    opsEmail: "oncall@example.com",
    defaultBudgetUsd: "100",
    defaultBudgetThresholds: "80,100",
    breakdowns: ["departmentId"],
    usageTypes: '{"models":{"AcmeModel":"acme.model-v1"}}',
    rawFailureRetentionDays: 3,
  },
  "existing log group, Bedrock logging off": { existingLogGroupName: "/aws/bedrock/shared-invocations", configureBedrockLogging: false },
  "reconciliation with a gzip CSV CUR export under a KMS key": {
    curBucket: "acme-cur-exports",
    curPrefix: "cur/bedrock-spend/data",
    curFormat: "csv",
    curCsvColumns: [...REQUIRED_CUR_COLUMNS],
    curKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    reconcileDriftPercent: 2.5,
    reconcileDays: 5,
  },
  "reconciliation with a Parquet CUR export at the bucket's root": { curBucket: "acme-cur-exports" },
  QuickSight: { quickSightPrincipalArn: "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst" },
  "profile resolution off": { resolveProfiles: false },
};

describe("cdk-nag checks can fail", () => {
  it("reports an unsuppressed finding: a bucket without access logs or TLS enforcement in a throwaway stack", () => {
    const stack = new Stack(new App(), "Throwaway");
    new s3.Bucket(stack, "Unlogged");
    const rules = nagConstruct(stack, "Throwaway").map((finding) => `${finding.rule} ${finding.path}`);
    expect(rules).toContain("AwsSolutions-S1 Throwaway/Unlogged/Resource");
    expect(rules).toContain("AwsSolutions-S10 Throwaway/Unlogged/Resource");
  });
});

for (const [variant, overrides] of Object.entries(VARIANTS)) {
  describe(`cdk-nag AwsSolutions and Serverless: ${variant}`, () => {
    let synthesized: SynthesizedApp;
    beforeAll(async () => {
      synthesized = await synthesize(overrides);
    }, 300_000);

    it("has no unsuppressed error or warning in any stack", () => {
      const findings = nagFindings(synthesized);
      expect(findings, `\n${formatFindings(findings)}`).toEqual([]);
    });

    it("gives every suppression a reason that names its source (AWS documentation or a design decision in the stacks)", () => {
      const unexplained: string[] = [];
      for (const { name, template } of synthesized.stacks) {
        for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>)) {
          const rules = (resource.Metadata?.cdk_nag as { rules_to_suppress?: Array<{ id: string; reason: string }> } | undefined)?.rules_to_suppress ?? [];
          for (const rule of rules) {
            if (!/docs\.aws\.amazon\.com|Service Authorization Reference|Design decision|stacks\/|SST|CDK/.test(rule.reason))
              unexplained.push(`${name}/${id} ${rule.id}: ${rule.reason}`);
          }
        }
      }
      expect(unexplained).toEqual([]);
    });
  });
}
