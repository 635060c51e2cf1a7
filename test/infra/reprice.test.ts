/**
 * The reprice job in the synthesized templates: the state machine's loop, the step function and
 * its environment, every IAM statement it gets (resources and conditions exactly), the live
 * consumers' new read of the pricing registry, and the Reprice template through the same
 * CloudFormation validator as validate.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../functions/src/lib/contracts";
import { dedupKey, tenantPk } from "../../packages/store/src/keys";
import { PRICING_PK, REPRICE_PK } from "../../packages/store/src/reprice-store";
import { Lake } from "../../stacks/Lake";
import { Processing } from "../../stacks/Processing";
import { PRICING_PARTITION, REPRICE_PARTITION } from "../../stacks/pricing-registry";
import { REPRICE_LEADING_KEYS, Reprice, SLICE_SECONDS, SWITCH_OVER_SECONDS } from "../../stacks/Reprice";
import { environmentOf, flatten, functionWithHandler, only, roleOfFunction, roleStatements, type Statement } from "./helpers";
import { type SynthesizedApp, synthesize } from "./synth";

let synthesized: SynthesizedApp;
let template: Template;
beforeAll(async () => {
  synthesized = await synthesize();
  template = synthesized.template(Reprice);
}, 300_000);

const PROCESSING_EXPORT = /^\$\{ImportValue:test-bedrock-spend-Processing:ExportsOutput/;

/** A statement with its resources as Fn::Sub strings, cross-stack imports shortened to the export's stack and kind. */
function readable(statement: Statement): Record<string, unknown> {
  const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((resource) =>
    flatten(resource).replace(/\$\{ImportValue:test-bedrock-spend-(\w+):ExportsOutput(Ref|FnGetAtt)([A-Za-z]+?)[0-9A-F]{8}\w*?\}/g, "<$1.$3.$2>"),
  );
  return {
    Sid: statement.Sid,
    Action: statement.Action,
    Resource: resources,
    ...(statement.Condition ? { Condition: statement.Condition } : {}),
  };
}

describe("Stack: Reprice — the job", () => {
  it("is a standard state machine that prepares, runs the step, and loops through a wait until the step says done", () => {
    // Prepare
    const [, machine] = only(template, "AWS::StepFunctions::StateMachine");
    const definition = JSON.parse(flatten(machine.Properties.DefinitionString)) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
      TimeoutSeconds: number;
    };
    const stepFunction = functionWithHandler(template, "functions/src/reprice.handler");

    // Assess
    expect(machine.Properties).toMatchObject({ StateMachineType: "STANDARD", StateMachineName: "bedrock-spend-test-reprice" });
    expect(definition.StartAt).toBe("Prepare");
    expect(definition.TimeoutSeconds).toBe(7 * 86_400);
    expect(definition.States.Prepare).toStrictEqual({ Type: "Pass", Parameters: { "input.$": "$", step: {} }, Next: "Step" });
    expect(definition.States.Step).toMatchObject({
      Type: "Task",
      Resource: `\${${stepFunction}.Arn}`,
      Parameters: { "input.$": "$.input", execution: { "name.$": "$$.Execution.Name", "startTime.$": "$$.Execution.StartTime" }, "step.$": "$.step" },
      ResultPath: "$.step",
      Next: "Done?",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
    });
    expect(definition.States.Step?.Retry).toContainEqual({
      ErrorEquals: ["Sandbox.Timedout", "States.Timeout", "Lambda.TooManyRequestsException"],
      IntervalSeconds: 30,
      MaxAttempts: 4,
      BackoffRate: 2,
    });
    expect(definition.States["Done?"]).toStrictEqual({
      Type: "Choice",
      Choices: [{ Variable: "$.step.done", BooleanEquals: true, Next: "Applied" }],
      Default: "Wait",
    });
    expect(definition.States.Wait).toStrictEqual({ Type: "Wait", SecondsPath: "$.step.waitSeconds", Next: "Step" });
    expect(definition.States.Applied).toStrictEqual({ Type: "Succeed" });
    expect(definition.States.Failed).toStrictEqual({ Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" });
  });

  it("lets Step Functions assume its role for this account only, invoke the step function, and deliver its logs and traces", () => {
    // Prepare
    const [, machine] = only(template, "AWS::StepFunctions::StateMachine");
    const role = (machine.Properties.RoleArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const stepFunction = functionWithHandler(template, "functions/src/reprice.handler");

    // Assess
    expect((template.toJSON().Resources[role].Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement).toStrictEqual([
      {
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Principal: { Service: "states.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
    expect(roleStatements(template, role).map(readable)).toStrictEqual([
      { Sid: undefined, Action: "lambda:InvokeFunction", Resource: [`\${${stepFunction}.Arn}`, `\${${stepFunction}.Arn}:*`] },
      // The execution log (level ALL) and X-Ray tracing: these actions have no resource type.
      {
        Sid: undefined,
        Action: [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ],
        Resource: ["*"],
      },
      { Sid: undefined, Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], Resource: ["*"] },
    ]);
  });

  it("runs the real handler for 15 minutes with 2 GB, starting lake days for 10 of them", () => {
    // Prepare
    const [, fn] = only(template, "AWS::Lambda::Function", { Handler: "functions/src/reprice.handler" });

    // Assess
    expect(fn.Properties).toMatchObject({ Runtime: "nodejs24.x", Timeout: 900, MemorySize: 2048, Architectures: ["arm64"] });
    expect(SLICE_SECONDS).toBeLessThanOrEqual(900 - 300);
  });

  it("configures the step with the table, the lake, the workgroup, its results bucket and the job's timing", () => {
    // Prepare
    const variables = environmentOf(template, functionWithHandler(template, "functions/src/reprice.handler"));

    // Assess
    const { AWS_NODEJS_CONNECTION_REUSE_ENABLED: _reuse, SST_APP: _app, SST_STAGE: _stage, SST_SSM_PREFIX: _prefix, ...own } = variables;
    expect(Object.keys(own).sort()).toStrictEqual(
      [
        ENV.tableName,
        ENV.aggregateBreakdowns,
        ENV.lakeBucket,
        ENV.glueDatabase,
        ENV.glueTable,
        ENV.athenaWorkGroup,
        ENV.athenaResultsBucket,
        ENV.repriceSliceSeconds,
        ENV.repriceSwitchOverSeconds,
        ENV.metricsNamespace,
        ENV.profileResolution,
        ENV.profileCacheSeconds,
      ].sort(),
    );
    expect(flatten(own[ENV.tableName])).toMatch(/^\$\{ImportValue:test-bedrock-spend-Processing:ExportsOutputRefAggregates/);
    expect(flatten(own[ENV.lakeBucket])).toMatch(/^\$\{ImportValue:test-bedrock-spend-Lake:ExportsOutputRefLakeBucket/);
    expect(flatten(own[ENV.athenaResultsBucket])).toMatch(/^\$\{ImportValue:test-bedrock-spend-Analytics:ExportsOutputRefAthenaResults/);
    expect(own).toMatchObject({
      [ENV.glueDatabase]: "bedrock_spend_test",
      [ENV.glueTable]: "invocations",
      [ENV.athenaWorkGroup]: "bedrock-spend-test",
      [ENV.repriceSliceSeconds]: "600",
      [ENV.repriceSwitchOverSeconds]: String(SWITCH_OVER_SECONDS),
      [ENV.profileResolution]: "bedrock",
      [ENV.profileCacheSeconds]: "3600",
    });
    // The registry TTL (60 s), the transform's buffer (60 s), Firehose's 300 s x 1.5, a minute of margin.
    expect(SWITCH_OVER_SECONDS).toBe(630);
  });
});

describe("Stack: Reprice — IAM of the step, exactly", () => {
  it("touches the aggregates table's tenant, marker, registry and audit partitions, the workgroup, the usage table and its reprice_* staging tables, the lake's usage/ and history/, and the results bucket", () => {
    // Prepare
    const role = roleOfFunction(template, functionWithHandler(template, "functions/src/reprice.handler"));
    const statements = roleStatements(template, role).filter((statement) => !String(statement.Action).startsWith("xray:"));
    const glue = (rest: string) => `arn:\${AWS::Partition}:glue:us-east-1:123456789012:${rest}`;

    // Assess
    expect(statements.every((statement) => statement.Effect === "Allow")).toBe(true);
    expect(statements.map(readable)).toStrictEqual([
      {
        Sid: "AggregatesTable",
        Action: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
        Resource: ["<Processing.Aggregates.FnGetAtt>"],
        Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["T#*", "R#*", "P#PRICING", "P#REPRICE"] } },
      },
      {
        Sid: "AthenaWorkGroup",
        Action: ["athena:GetWorkGroup", "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"],
        Resource: [`arn:\${AWS::Partition}:athena:us-east-1:123456789012:workgroup/bedrock-spend-test`],
      },
      {
        Sid: "GlueUsageTable",
        Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
        Resource: [glue("catalog"), glue("database/bedrock_spend_test"), glue("table/bedrock_spend_test/invocations")],
      },
      {
        Sid: "GlueStagingTables",
        Action: ["glue:CreateTable", "glue:DeleteTable", "glue:GetTable"],
        Resource: [glue("catalog"), glue("database/bedrock_spend_test"), glue("table/bedrock_spend_test/reprice_*")],
      },
      { Sid: "LakeBucket", Action: "s3:GetBucketLocation", Resource: ["<Lake.LakeBucket.FnGetAtt>"] },
      {
        Sid: "LakeList",
        Action: "s3:ListBucket",
        Resource: ["<Lake.LakeBucket.FnGetAtt>"],
        Condition: { StringLike: { "s3:prefix": ["usage/*", "history/*"] } },
      },
      {
        Sid: "LakeObjects",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: ["<Lake.LakeBucket.FnGetAtt>/usage/*", "<Lake.LakeBucket.FnGetAtt>/history/*"],
      },
      {
        Sid: "ResultsBucket",
        Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
        Resource: ["<Analytics.AthenaResults.FnGetAtt>"],
      },
      {
        Sid: "ResultsObjects",
        Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: ["<Analytics.AthenaResults.FnGetAtt>/*"],
      },
      {
        Sid: "ApplicationProfiles",
        Action: ["bedrock:GetInferenceProfile", "bedrock:ListTagsForResource"],
        Resource: [`arn:\${AWS::Partition}:bedrock:us-east-1:123456789012:application-inference-profile/*`],
      },
    ]);
  });

  it("names the partitions as the store and the keys do", () => {
    expect([PRICING_PARTITION, REPRICE_PARTITION]).toStrictEqual([PRICING_PK, REPRICE_PK]);
    expect(REPRICE_LEADING_KEYS).toStrictEqual([`${tenantPk("")}*`, `${dedupKey("").pk}*`, PRICING_PK, REPRICE_PK]);
    expect(REPRICE_LEADING_KEYS.slice(0, 2)).toStrictEqual(["T#*", "R#*"]);
  });
});

describe("Live consumers: the pricing registry", () => {
  const REGISTRY_READ = {
    Sid: "PricingRegistry",
    Effect: "Allow",
    Action: "dynamodb:GetItem",
    Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["P#PRICING"] } },
  };

  it("gives the transform TABLE_NAME and GetItem on the aggregates table's registry partition only", () => {
    // Prepare
    const lake = synthesized.template(Lake);
    const transform = functionWithHandler(lake, "functions/src/transform.handler");

    // Act
    const reads = roleStatements(lake, roleOfFunction(lake, transform)).filter((statement) => String(statement.Action).startsWith("dynamodb:"));

    // Assess
    expect(flatten(environmentOf(lake, transform)[ENV.tableName])).toMatch(/^\$\{ImportValue:test-bedrock-spend-Processing:ExportsOutputRefAggregates/);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject(REGISTRY_READ);
    expect(flatten(reads[0]?.Resource)).toMatch(PROCESSING_EXPORT);
  });

  it("gives the aggregate and redrive functions the same registry read", () => {
    // Prepare
    const processing = synthesized.template(Processing);

    for (const handler of ["functions/src/aggregate.handler", "functions/src/redrive.handler"]) {
      // Act
      const statements = roleStatements(processing, roleOfFunction(processing, functionWithHandler(processing, handler)));

      // Assess
      const registry = statements.filter((statement) => statement.Sid === "PricingRegistry");
      expect(registry, handler).toHaveLength(1);
      expect(registry[0]).toMatchObject(REGISTRY_READ);
    }
  });
});

describe("Stack: Reprice — CloudFormation validation", () => {
  interface Diagnostic {
    severity: string;
    ruleId: string;
    message: string;
  }
  const { RegoEngine, TemplateFile } = createRequire(import.meta.url)("@aws/cloudformation-validate") as {
    RegoEngine: new () => { validateStandard(file: unknown): { diagnostics: Diagnostic[] }; free(): void };
    TemplateFile: new (path: string) => unknown;
  };
  const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-reprice-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("has no ERROR or FATAL diagnostic", () => {
    // Prepare
    const file = join(directory, "Reprice.template.json");
    writeFileSync(file, JSON.stringify(template.toJSON(), null, 2));
    const engine = new RegoEngine();

    // Act
    const diagnostics = (() => {
      try {
        return engine.validateStandard(new TemplateFile(file)).diagnostics;
      } finally {
        engine.free();
      }
    })();

    // Assess
    const errors = diagnostics.filter((d) => d.severity === "ERROR" || d.severity === "FATAL");
    expect(errors.map((d) => `${d.ruleId}: ${d.message}`)).toStrictEqual([]);
  });
});
