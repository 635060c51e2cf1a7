/**
 * Reconcile: the AWS bill against the lake, every day. Deployed when the configuration names an
 * existing CUR 2.0 export (`BEDROCK_SPEND_CUR_BUCKET`, `_PREFIX`, `_FORMAT`): AWS Data Exports
 * writes it under `s3://<bucket>/<prefix>/BILLING_PERIOD=YYYY-MM/`, and this stack
 *
 * - lays a Glue table over it (`cur`, in the lake's database), with partition projection on the
 *   billing period, so that a query names the months it reads and no crawler or partition
 *   maintenance is needed. A Parquet export declares only the columns the reconciliation reads
 *   (Parquet is read by column name); a CSV export must declare its whole header
 *   (`BEDROCK_SPEND_CUR_CSV_COLUMNS`): OpenCSVSerde maps columns by position and reads text only;
 * - runs the reconcile function (functions/src/reconcile.ts) every day at 06:30 UTC over the days
 *   ending yesterday (`BEDROCK_SPEND_RECONCILE_DAYS`, default 3: CUR lags up to a day and
 *   restates recent days); the function publishes the drift metrics the alarm of
 *   stacks/Monitoring.ts watches, and keeps each report in the Athena results bucket under
 *   `reconcile/reports/`;
 * - names the function `<app>-<stage>-reconcile`, which `bedrock-spend reconcile --stage` invokes.
 *
 * Decisions:
 * - The CUR bucket is read-only to the function (GetObject under the prefix, ListBucket limited to
 *   it); the export stays the account's own. A bucket in another account needs its bucket policy
 *   to allow the function's role: not done here.
 * - The export should overwrite its files (Data Exports' "overwrite" setting): a "create new
 *   version" export keeps every delivery, and the table would count each line item once per
 *   delivery.
 */
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not by package name: see Lake.ts.
import { ENV, METRICS_NAMESPACE } from "../functions/src/lib/contracts";
import { Analytics, resultsAccess, workGroupAccess } from "./Analytics";
import { type Config, config } from "./config";
import { Lake, lakeReadStatements } from "./Lake";
import { reconcileSuppressions } from "./nag-suppressions";
import { Processing } from "./Processing";
import { registryRead } from "./pricing-registry";

/** The Glue table over the CUR export, in the lake's database. */
export const CUR_TABLE = "cur";

/** When the daily reconciliation runs: after CUR's daily refresh has usually landed. */
export const RECONCILE_SCHEDULE = "cron(30 6 * * ? *)";

/** First billing period the table projects; Data Exports (CUR 2.0) began in 2023. */
export const FIRST_BILLING_PERIOD = "2023-11";

/** The Parquet export's columns the reconciliation reads, with CUR 2.0's types (rates are strings there, amounts and costs doubles). */
export const CUR_PARQUET_COLUMNS: readonly { name: string; type: string }[] = [
  { name: "bill_billing_entity", type: "string" },
  { name: "line_item_line_item_type", type: "string" },
  { name: "line_item_net_unblended_cost", type: "double" },
  { name: "line_item_product_code", type: "string" },
  { name: "line_item_unblended_cost", type: "double" },
  { name: "line_item_unblended_rate", type: "string" },
  { name: "line_item_usage_amount", type: "double" },
  { name: "line_item_usage_start_date", type: "timestamp" },
  { name: "line_item_usage_type", type: "string" },
  { name: "pricing_unit", type: "string" },
  { name: "product", type: "map<string,string>" },
];

/** `s3://<bucket>/<prefix>/` of the export. */
export function curLocation(settings: Pick<Config, "curBucket" | "curPrefix">): string {
  return `s3://${settings.curBucket}/${settings.curPrefix ? `${settings.curPrefix}/` : ""}`;
}

/** The Glue table input over the export: its format's SerDe, its columns, partition projection by billing period. */
export function curTableInput(settings: Config): glue.CfnTable.TableInputProperty {
  const location = curLocation(settings);
  const projection = {
    "projection.enabled": "true",
    "projection.billing_period.type": "date",
    "projection.billing_period.format": "yyyy-MM",
    "projection.billing_period.range": `${FIRST_BILLING_PERIOD},NOW`,
    "projection.billing_period.interval": "1",
    "projection.billing_period.interval.unit": "MONTHS",
    "storage.location.template": `${location}BILLING_PERIOD=\${billing_period}/`,
  };
  const parquet = settings.curFormat === "parquet";
  return {
    name: CUR_TABLE,
    description: `The account's CUR 2.0 export (${settings.curFormat}) at ${location}, read by the daily reconciliation`,
    tableType: "EXTERNAL_TABLE",
    parameters: {
      classification: parquet ? "parquet" : "csv",
      EXTERNAL: "TRUE",
      ...(parquet ? {} : { "skip.header.line.count": "1", compressionType: "gzip" }),
      ...projection,
    },
    partitionKeys: [{ name: "billing_period", type: "string", comment: "BILLING_PERIOD=YYYY-MM of the export's folders" }],
    storageDescriptor: {
      columns: parquet ? CUR_PARQUET_COLUMNS.map((column) => ({ ...column })) : (settings.curCsvColumns ?? []).map((name) => ({ name, type: "string" })),
      location,
      ...(parquet
        ? {
            inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            serdeInfo: { serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", parameters: { "serialization.format": "1" } },
          }
        : {
            inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
            outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            serdeInfo: {
              serializationLibrary: "org.apache.hadoop.hive.serde2.OpenCSVSerde",
              parameters: { separatorChar: ",", quoteChar: '"', escapeChar: "\\" },
            },
          }),
      compressed: !parquet,
      storedAsSubDirectories: false,
    },
  };
}

export function Reconcile({ stack, app }: StackContext) {
  const settings = config();
  if (!settings.curBucket) throw new Error("Reconcile: BEDROCK_SPEND_CUR_BUCKET is not set (sst.config.ts adds this stack only when it is)");
  const { table } = use(Processing);
  const { bucket, databaseName, tableName, database } = use(Lake);
  const { workGroup, results } = use(Analytics);
  const workGroupName = workGroup.name;

  const curTable = new glue.CfnTable(stack, "CurTable", { catalogId: stack.account, databaseName, tableInput: curTableInput(settings) });
  curTable.node.addDependency(database);

  const fn = new SstFunction(stack, "Reconcile", {
    handler: "functions/src/reconcile.handler",
    functionName: `${app.name}-${app.stage}-reconcile`,
    timeout: 900,
    memorySize: 1024,
    environment: {
      [ENV.tableName]: table.tableName,
      [ENV.glueDatabase]: databaseName,
      [ENV.glueTable]: tableName,
      [ENV.curTable]: CUR_TABLE,
      [ENV.curFormat]: settings.curFormat,
      ...(settings.curFormat === "csv" ? { [ENV.curCsvColumns]: (settings.curCsvColumns ?? []).join(",") } : {}),
      ...(settings.usageTypes ? { [ENV.usageTypes]: settings.usageTypes } : {}),
      [ENV.reconcileWindowDays]: String(settings.reconcileDays),
      [ENV.athenaWorkGroup]: workGroupName,
      [ENV.athenaResultsBucket]: results.bucketName,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    },
  });

  const curBucketArn = `arn:${stack.partition}:s3:::${settings.curBucket}`;
  const statements = [
    registryRead(table.tableArn),
    workGroupAccess(stack, workGroupName),
    ...lakeReadStatements(stack, bucket, databaseName, [tableName, CUR_TABLE]),
    new iam.PolicyStatement({ sid: "CurBucket", actions: ["s3:GetBucketLocation"], resources: [curBucketArn] }),
    new iam.PolicyStatement({
      sid: "CurList",
      actions: ["s3:ListBucket"],
      resources: [curBucketArn],
      conditions: { StringLike: { "s3:prefix": [settings.curPrefix ? `${settings.curPrefix}/*` : "*"] } },
    }),
    new iam.PolicyStatement({
      sid: "CurObjects",
      actions: ["s3:GetObject"],
      resources: [`${curBucketArn}/${settings.curPrefix ? `${settings.curPrefix}/` : ""}*`],
    }),
    ...resultsAccess(results),
  ];
  if (settings.curKmsKeyArn)
    statements.push(
      new iam.PolicyStatement({
        sid: "CurKey",
        actions: ["kms:Decrypt"],
        resources: [settings.curKmsKeyArn],
        conditions: { StringEquals: { "kms:ViaService": `s3.${stack.region}.amazonaws.com` } },
      }),
    );
  for (const statement of statements) fn.addToRolePolicy(statement);

  const schedule = new events.Rule(stack, "DailyReconciliation", {
    description: "bedrock-spend: reconcile the days ending yesterday with the CUR 2.0 export",
    schedule: events.Schedule.expression(RECONCILE_SCHEDULE),
  });
  // A failed run is retried twice by the target; its errors are alarmed with every function's (stacks/Monitoring.ts).
  schedule.addTarget(new targets.LambdaFunction(fn, { retryAttempts: 2 }));

  stack.addOutputs({ ReconcileFunction: fn.functionName, CurTable: `${databaseName}.${CUR_TABLE}` });
  reconcileSuppressions(stack, { fn, schedule, curBucket: settings.curBucket });
  return { fn, curTable, schedule };
}
