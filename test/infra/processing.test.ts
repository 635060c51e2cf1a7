import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { SQS_DEFAULT_MESSAGE_BYTES } from "../../packages/adapters/src/sqs-dead-letter";
import { PERIOD_INDEX } from "../../packages/store/src/layout";
import { Processing } from "../../stacks/Processing";
import { functionWithHandler, list, resources, roleOfFunction, roleStatements } from "./helpers";
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

  it("indexes the alert markers fired and not yet published in a sparse GSI (undelivered, by firedAt, with leaseUntil), and the aggregate items by period for the report across tenants", () => {
    const template = synthesized.template(Processing);
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: "undelivered", AttributeType: "S" },
        { AttributeName: "firedAt", AttributeType: "S" },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: "undelivered-alerts",
          KeySchema: [
            { AttributeName: "undelivered", KeyType: "HASH" },
            { AttributeName: "firedAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["leaseUntil"] },
        },
        {
          IndexName: "by-period",
          KeySchema: [
            { AttributeName: "period", KeyType: "HASH" },
            { AttributeName: "pk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...PERIOD_INDEX.projected] },
        },
      ],
    });
  });

  it("grants the aggregate and redrive functions their writes on the table alone, not on its index", () => {
    const template = synthesized.template(Processing);
    const [tableId] = Object.keys(resources(template, "AWS::DynamoDB::Table"));
    for (const handler of ["functions/src/aggregate.handler", "functions/src/redrive.handler"]) {
      const writes = roleStatements(template, roleOfFunction(template, functionWithHandler(template, handler))).filter((statement) =>
        list(statement.Action).includes("dynamodb:TransactWriteItems"),
      );
      expect(writes, handler).toEqual([
        {
          Effect: "Allow",
          Action: ["dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
          Resource: { "Fn::GetAtt": [tableId, "Arn"] },
        },
      ]);
    }
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
    // As long as the stream keeps the records its on-failure messages point at (14 days), at the size the adapter batches for.
    template.hasResourceProperties("AWS::SQS::Queue", {
      MessageRetentionPeriod: 1_209_600,
      MaximumMessageSize: SQS_DEFAULT_MESSAGE_BYTES,
      SqsManagedSseEnabled: true,
    });
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
