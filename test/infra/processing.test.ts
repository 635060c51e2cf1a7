import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Processing } from "../../stacks/Processing";
import { type SynthesizedApp, synthesize } from "./synth";

let synthesized: SynthesizedApp;
beforeAll(async () => {
  synthesized = await synthesize();
}, 300_000);

describe("Stack: Processing", () => {
  it("creates the aggregates table on demand, with PITR, encryption, TTL and a new-and-old-images stream", () => {
    synthesized.template(Processing).hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
    });
  });

  it("maps the stream to the aggregate function with bisection, partial batch responses, finite retries and a DLQ", () => {
    const template = synthesized.template(Processing);
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties("AWS::SQS::Queue", { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
  });

  it("bundles the real handlers on nodejs24.x", () => {
    const functions = synthesized.template(Processing).findResources("AWS::Lambda::Function");
    const handlers = Object.values(functions).map((resource) => (resource as { Properties: { Handler: string; Runtime: string } }).Properties);
    expect(handlers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Handler: "functions/src/aggregate.handler", Runtime: "nodejs24.x" }),
        expect.objectContaining({ Handler: "functions/src/redrive.handler", Runtime: "nodejs24.x" }),
      ]),
    );
  });
});
