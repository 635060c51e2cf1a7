/**
 * cdk-nag's `AwsSolutions` and `Serverless` rule packs. Every configuration an infrastructure test
 * synthesizes is held to them by `synthesize` (test/infra/synth.ts), which throws on any
 * unsuppressed error or warning, or any suppression without a sourced reason: between them the
 * tests synthesize the defaults, every option at once (validate.test.ts), an existing log group
 * with Bedrock logging off, both CUR export formats, QuickSight and profile resolution off. The
 * suppressions, each with its reason, are in stacks/nag-suppressions.ts, one function per stack.
 * Here: the check itself can fail.
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { NagSuppressions } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { assertNagClean, NagFindingsError, nagConstruct } from "./nag";
import type { SynthesizedApp } from "./synth";

/** A throwaway app of one stack, shaped as `synthesize` returns it. */
function throwaway(build: (stack: Stack) => void): SynthesizedApp {
  const stack = new Stack(new App(), "Throwaway");
  build(stack);
  return { stacks: [{ name: "Throwaway", stack, template: Template.fromStack(stack) }] } as unknown as SynthesizedApp;
}

describe("cdk-nag checks can fail", () => {
  it("reports an unsuppressed finding: a bucket without access logs or TLS enforcement", () => {
    const stack = new Stack(new App(), "Throwaway");
    new s3.Bucket(stack, "Unlogged");
    const rules = nagConstruct(stack, "Throwaway").map((finding) => `${finding.rule} ${finding.path}`);
    expect(rules).toContain("AwsSolutions-S1 Throwaway/Unlogged/Resource");
    expect(rules).toContain("AwsSolutions-S10 Throwaway/Unlogged/Resource");
  });

  it("refuses an app with an unsuppressed finding, naming rule and construct", () => {
    const app = throwaway((stack) => new s3.Bucket(stack, "Unlogged"));
    expect(() => assertNagClean(app, "throwaway")).toThrow(NagFindingsError);
    expect(() => assertNagClean(app, "throwaway")).toThrow(/AwsSolutions-S1 {2}Throwaway\/Unlogged\/Resource/);
  });

  it("refuses a suppression whose reason names no source, and accepts one that does", () => {
    const suppressed = (reason: string) =>
      throwaway((stack) => {
        const bucket = new s3.Bucket(stack, "Suppressed", { enforceSSL: true });
        NagSuppressions.addResourceSuppressions(bucket, [{ id: "AwsSolutions-S1", reason }]);
      });
    expect(() => assertNagClean(suppressed("We do not want access logs here, trust us."), "throwaway")).toThrow(/1 suppression\(s\) without a sourced reason/);
    expect(() =>
      assertNagClean(
        suppressed("Access is audited with CloudTrail data events (docs.aws.amazon.com/AmazonS3/latest/userguide/logging-with-S3.html)."),
        "throwaway",
      ),
    ).not.toThrow();
  });
});
