/**
 * The daily reconciliation with the bill in the synthesized templates: deployed only with a CUR
 * export configured; the Glue table over the export (partition projection by billing period,
 * Parquet by column name, CSV by its header's positions); the function, its name, environment and
 * every IAM statement; its daily schedule; the drift alarm; and the configuration's checks.
 */
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../functions/src/lib/contracts";
import { loadConfig } from "../../stacks/config";
import { Monitoring } from "../../stacks/Monitoring";
import { PRICING_PARTITION } from "../../stacks/pricing-registry";
import { CUR_PARQUET_COLUMNS, CUR_TABLE, curTableInput, RECONCILE_SCHEDULE, Reconcile } from "../../stacks/Reconcile";
import { environmentOf, flatten, functionWithHandler, only, resources, roleOfFunction, roleStatements } from "./helpers";
import { type SynthesizedApp, synthesize } from "./synth";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const CSV_HEADER =
  "bill_billing_entity,line_item_usage_start_date,line_item_product_code,line_item_usage_type,line_item_line_item_type,line_item_usage_amount,line_item_unblended_cost,product";

let synthesized: SynthesizedApp;
let template: Template;
beforeAll(async () => {
  synthesized = await synthesize({
    curBucket: "acme-cur-exports",
    curPrefix: "cur/bedrock-spend/data",
    curKmsKeyArn: KEY,
    reconcileDriftPercent: 2.5,
    reconcileDays: 5,
  });
  template = synthesized.template(Reconcile);
}, 300_000);

/** A statement's resources with cross-stack imports shortened to `<Stack.Kind>`. */
function readable(statement: { Sid?: string; Action?: unknown; Resource?: unknown; Condition?: unknown }) {
  const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((resource) =>
    flatten(resource).replace(/\$\{ImportValue:test-bedrock-spend-(\w+):ExportsOutput(Ref|FnGetAtt)([A-Za-z]+?)[0-9A-F]{8}\w*?\}/g, "<$1.$3>"),
  );
  return { Sid: statement.Sid, Action: statement.Action, Resource: resources, ...(statement.Condition ? { Condition: statement.Condition } : {}) };
}

describe("Stack: Reconcile — the CUR table", () => {
  it("lays a Parquet table over the export with partition projection on the billing period", () => {
    // Prepare
    const [, table] = only(template, "AWS::Glue::Table");
    const input = (
      table.Properties as { TableInput: Record<string, unknown> & { Parameters: Record<string, string>; StorageDescriptor: Record<string, unknown> } }
    ).TableInput;

    // Assess
    expect(input.Name).toBe(CUR_TABLE);
    expect(input.PartitionKeys).toStrictEqual([{ Name: "billing_period", Type: "string", Comment: "BILLING_PERIOD=YYYY-MM of the export's folders" }]);
    expect(input.Parameters).toStrictEqual({
      classification: "parquet",
      EXTERNAL: "TRUE",
      "projection.enabled": "true",
      "projection.billing_period.type": "date",
      "projection.billing_period.format": "yyyy-MM",
      "projection.billing_period.range": "2023-11,NOW",
      "projection.billing_period.interval": "1",
      "projection.billing_period.interval.unit": "MONTHS",
      "storage.location.template": `s3://acme-cur-exports/cur/bedrock-spend/data/BILLING_PERIOD=\${billing_period}/`,
    });
    expect(input.StorageDescriptor).toMatchObject({
      Location: "s3://acme-cur-exports/cur/bedrock-spend/data/",
      SerdeInfo: { SerializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" },
      Columns: CUR_PARQUET_COLUMNS.map((column) => ({ Name: column.name, Type: column.type })),
    });
  });

  it("declares a CSV export's whole header, in order, as text read by OpenCSVSerde past the header line", () => {
    // Act
    const input = curTableInput(
      loadConfig({ BEDROCK_SPEND_CUR_BUCKET: "acme-cur-exports", BEDROCK_SPEND_CUR_FORMAT: "csv", BEDROCK_SPEND_CUR_CSV_COLUMNS: CSV_HEADER }),
    );

    // Assess
    expect(input.parameters).toMatchObject({
      classification: "csv",
      "skip.header.line.count": "1",
      "storage.location.template": `s3://acme-cur-exports/BILLING_PERIOD=\${billing_period}/`,
    });
    const descriptor = input.storageDescriptor as { columns: { name: string; type: string }[]; serdeInfo: { serializationLibrary: string }; location: string };
    expect(descriptor.columns).toStrictEqual(CSV_HEADER.split(",").map((name) => ({ name, type: "string" })));
    expect(descriptor.serdeInfo.serializationLibrary).toBe("org.apache.hadoop.hive.serde2.OpenCSVSerde");
    expect(descriptor.location).toBe("s3://acme-cur-exports/");
  });
});

describe("Stack: Reconcile — the function", () => {
  it("is named for the CLI, and configured with the tables, the window and the results bucket", () => {
    // Prepare
    const fn = functionWithHandler(template, "functions/src/reconcile.handler");

    // Assess
    expect(resources(template, "AWS::Lambda::Function")[fn]?.Properties).toMatchObject({ FunctionName: "bedrock-spend-test-reconcile", Timeout: 900 });
    const environment = Object.fromEntries(Object.entries(environmentOf(template, fn)).map(([name, value]) => [name, flatten(value)]));
    expect(environment).toMatchObject({
      [ENV.glueDatabase]: "bedrock_spend_test",
      [ENV.glueTable]: "invocations",
      [ENV.curTable]: CUR_TABLE,
      [ENV.curFormat]: "parquet",
      [ENV.reconcileWindowDays]: "5",
    });
    expect(Object.keys(environment)).not.toContain(ENV.curCsvColumns);
  });

  it("may read the registry, query its workgroup, read the two tables and the two buckets, and write results only", () => {
    // Prepare
    const statements = roleStatements(template, roleOfFunction(template, functionWithHandler(template, "functions/src/reconcile.handler"))).map(readable);

    // Assess
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(bySid.PricingRegistry).toMatchObject({
      Action: "dynamodb:GetItem",
      Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [PRICING_PARTITION] } },
    });
    expect(bySid.GlueTables?.Resource).toStrictEqual([
      `arn:\${AWS::Partition}:glue:us-east-1:123456789012:catalog`,
      `arn:\${AWS::Partition}:glue:us-east-1:123456789012:database/bedrock_spend_test`,
      `arn:\${AWS::Partition}:glue:us-east-1:123456789012:table/bedrock_spend_test/invocations`,
      `arn:\${AWS::Partition}:glue:us-east-1:123456789012:table/bedrock_spend_test/cur`,
    ]);
    expect(bySid.CurList).toStrictEqual({
      Sid: "CurList",
      Action: "s3:ListBucket",
      Resource: [`arn:\${AWS::Partition}:s3:::acme-cur-exports`],
      Condition: { StringLike: { "s3:prefix": ["cur/bedrock-spend/data/*"] } },
    });
    expect(bySid.CurObjects).toStrictEqual({
      Sid: "CurObjects",
      Action: "s3:GetObject",
      Resource: [`arn:\${AWS::Partition}:s3:::acme-cur-exports/cur/bedrock-spend/data/*`],
    });
    expect(bySid.CurKey).toStrictEqual({
      Sid: "CurKey",
      Action: "kms:Decrypt",
      Resource: [KEY],
      Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
    });
    expect(bySid.LakeObjects?.Action).toBe("s3:GetObject");
    // Nothing of the lake, the CUR bucket or the table is writable: results are the only writes (X-Ray's traces aside).
    const writes = statements.filter((statement) =>
      [statement.Action].flat().some((action) => /Put|Delete|Update|Create/.test(String(action)) && !String(action).startsWith("xray:")),
    );
    expect(writes.map((statement) => statement.Sid)).toStrictEqual(["ResultsObjects"]);
  });

  it("runs every day at 06:30 UTC, retried twice", () => {
    // Prepare
    const [, rule] = only(template, "AWS::Events::Rule");

    // Assess
    expect(rule.Properties).toMatchObject({ ScheduleExpression: RECONCILE_SCHEDULE, State: "ENABLED" });
    expect((rule.Properties.Targets as { RetryPolicy: unknown }[])[0]?.RetryPolicy).toStrictEqual({ MaximumRetryAttempts: 2 });
    expect(RECONCILE_SCHEDULE).toBe("cron(30 6 * * ? *)");
  });
});

describe("Stack: Monitoring — the drift alarm", () => {
  it("alarms when the worst complete day of a run drifts more than the configured percentage", () => {
    // Prepare
    const monitoring = synthesized.template(Monitoring);
    const [, alarm] = only(monitoring, "AWS::CloudWatch::Alarm", { AlarmName: "bedrock-spend-test-ReconcileDrift" });

    // Assess
    expect(alarm.Properties).toMatchObject({
      MetricName: "ReconcileWorstAbsDriftPercent",
      Namespace: "BedrockSpend",
      Statistic: "Maximum",
      Period: 86_400,
      Threshold: 2.5,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
      Dimensions: [{ Name: "service", Value: "bedrock-spend" }],
    });
    expect(String(alarm.Properties.AlarmDescription)).toContain("more than 2.5%");
    // And the pipeline dashboard draws it, with the alarm's line.
    const [, board] = only(monitoring, "AWS::CloudWatch::Dashboard");
    const body = flatten(board.Properties.DashboardBody);
    expect(body).toContain('"title":"Bill vs logs: drift of the finished days (%)"');
    expect(body).toMatch(
      /"BedrockSpend","ReconcileWorstAbsDriftPercent","service","bedrock-spend",\{"label":"ReconcileWorstAbsDriftPercent","period":86400,"stat":"Maximum"\}/,
    );
    expect(body).toContain('{"value":2.5,"label":"alarm"');
  });
});

describe("Configuration of the reconciliation", () => {
  it("deploys nothing of it without a CUR export", async () => {
    const plain = await synthesize();
    expect(plain.stacks.map((stack) => stack.name)).not.toContain("Reconcile");
    expect(
      Object.keys(plain.template(Monitoring).findResources("AWS::CloudWatch::Alarm", { Properties: { AlarmName: "bedrock-spend-test-ReconcileDrift" } })),
    ).toHaveLength(0);
  }, 300_000);

  it("defaults to Parquet at the bucket's root, 3 days, a 1% alarm", () => {
    expect(loadConfig({ BEDROCK_SPEND_CUR_BUCKET: "acme-cur-exports", BEDROCK_SPEND_CUR_PREFIX: "/cur/data/" })).toMatchObject({
      curFormat: "parquet",
      curPrefix: "cur/data",
      reconcileDays: 3,
      reconcileDriftPercent: 1,
    });
  });

  it.each([
    [{ BEDROCK_SPEND_CUR_BUCKET: "Acme_CUR" }, "BEDROCK_SPEND_CUR_BUCKET: must be an S3 bucket name"],
    [{ BEDROCK_SPEND_CUR_BUCKET: "acme-cur", BEDROCK_SPEND_CUR_FORMAT: "csv" }, "BEDROCK_SPEND_CUR_CSV_COLUMNS: must be the CSV export's header"],
    [
      { BEDROCK_SPEND_CUR_BUCKET: "acme-cur", BEDROCK_SPEND_CUR_PREFIX: "cur/data/BILLING_PERIOD=2026-11" },
      "BEDROCK_SPEND_CUR_PREFIX: must end before the BILLING_PERIOD",
    ],
    [{ BEDROCK_SPEND_USAGE_TYPES: '{"models":{}}' }, "BEDROCK_SPEND_USAGE_TYPES: needs BEDROCK_SPEND_CUR_BUCKET"],
    [{ BEDROCK_SPEND_CUR_BUCKET: "acme-cur", BEDROCK_SPEND_USAGE_TYPES: '{"units":{"1K tokens":0}}' }, "BEDROCK_SPEND_USAGE_TYPES: "],
    [{ BEDROCK_SPEND_CUR_BUCKET: "acme-cur", BEDROCK_SPEND_RECONCILE_DAYS: "40" }, "BEDROCK_SPEND_RECONCILE_DAYS"],
    [{ BEDROCK_SPEND_CUR_BUCKET: "acme-cur", BEDROCK_SPEND_RECONCILE_DRIFT_PERCENT: "0" }, "BEDROCK_SPEND_RECONCILE_DRIFT_PERCENT"],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
