/**
 * Lake: the Parquet data lake. Firehose reads the Kinesis stream, the transform function turns each
 * CloudWatch Logs payload into priced usage records (no bodies) with year/month/day partition keys,
 * and Firehose converts them to Parquet through the Glue table, which is generated from
 * `USAGE_COLUMNS` and queried by Athena with partition projection (no crawler, no MSCK REPAIR).
 *
 * Decisions:
 * - SSE-S3, not KMS: Firehose writes and Athena/QuickSight read many small objects; SSE-S3 costs
 *   no KMS requests and needs no key-policy grants for QuickSight's role. Bodies are never stored.
 * - Versioning off: Firehose writes each object once under a unique key and never overwrites, and
 *   the retention rule must delete for real (with versioning, expired objects linger as
 *   noncurrent versions). Deletion is guarded by RETAIN in prod instead.
 * - Parquet SNAPPY: Firehose's Parquet serializer offers UNCOMPRESSED, SNAPPY and GZIP (no ZSTD);
 *   SNAPPY decodes fastest in Athena and the rows are small, so GZIP's ratio buys little.
 * - S3 buffering 128 MB / 300 s: the dashboards read the lake, the near-real-time answers come
 *   from the aggregates. 300 s keeps the lake under ~8 minutes behind (dynamic partitioning can
 *   add up to 1.5x the interval) while writing at most 288 objects per active day partition per
 *   day; at higher volume the 128 MB size flushes first and files only get bigger.
 * - Lambda processor buffer 0.5 MB: the request is base64 (4/3 of the buffer) and the response
 *   (uncompressed lake documents, base64) is ~1.4x the request at the reference workload; both are
 *   capped at 6 MB. 0.5 MB leaves room for payloads whose gzip ratio is many times the reference
 *   before the transform has to fail records as oversize.
 * - Transform timeout 60 s, 1024 MB: a 0.5 MB batch is gunzip + parse + price, well under a second.
 *   A hung invocation should fail fast and be retried by Firehose, not hold the shard for the
 *   5 minutes Firehose allows.
 */
import { Duration, type RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import * as firehose from "aws-cdk-lib/aws-kinesisfirehose";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Function as SstFunction, type StackContext, use } from "sst/constructs";
// By path, not "@bedrock-spend/core": SST bundles sst.config.ts with every package.json dependency
// external, and the workspace package exports TypeScript that Node cannot load.
import { ENV, LAKE_PROCESSING_FAILED_PREFIX, METRICS_NAMESPACE } from "../functions/src/lib/contracts";
import { dataColumns, glueType, partitionColumns } from "../packages/core/src/usage";
import { USAGE_TABLE } from "../packages/core/src/views";
import { config } from "./config";
import { Ingest, serviceOnlyKey } from "./Ingest";
import { lakeSuppressions } from "./nag-suppressions";
import { Processing } from "./Processing";
import { registryRead } from "./pricing-registry";
import { grantProfileResolution } from "./profile-resolution";
import { privateBucket, removalPolicyOf } from "./storage";

/** Key prefix of the Parquet usage records (the Glue table's location). */
export const USAGE_PREFIX = "usage/";
/** Key prefix of records Firehose could not process or convert. */
export const ERROR_PREFIX = "errors/";
/**
 * Days the error prefix keeps records Firehose could not convert or partition (lake documents, no
 * bodies), for someone to look at. Its `processing-failed/` part, raw records with their prompts
 * that the transform never answered, expires with the raw failures (`rawFailureRetentionDays`).
 */
export const ERROR_RETENTION_DAYS = 90;
/** Days before usage records move to S3 Intelligent-Tiering (dashboards mostly read the current month). */
export const INTELLIGENT_TIERING_AFTER_DAYS = 30;
/** Years partition projection covers. A query with no year filter lists every projected day, so the range stays short; extend it before 2041. */
export const PROJECTED_YEARS = { from: 2024, to: 2040 } as const;

/** Firehose's S3 prefix: the transform's partition keys, Hive style, so the Glue table's projection finds them. */
export const FIREHOSE_PREFIX = `${USAGE_PREFIX}${partitionColumns()
  .map((column) => `${column.name}=!{partitionKeyFromLambda:${column.name}}`)
  .join("/")}/`;
/** Firehose's error prefix: by error type (processing-failed, format-conversion-failed, ...) and arrival day. */
export const FIREHOSE_ERROR_PREFIX = `${ERROR_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`;
if (LAKE_PROCESSING_FAILED_PREFIX !== `${ERROR_PREFIX}processing-failed/`)
  throw new Error(`LAKE_PROCESSING_FAILED_PREFIX (${LAKE_PROCESSING_FAILED_PREFIX}) must be the processing-failed type under ${ERROR_PREFIX}`);

/** A Glue database name from the app and stage: lower case letters, digits and underscores (Athena-safe). */
export function glueDatabaseName(app: string, stage: string): string {
  return `${app}_${stage}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

/** Partition projection table parameters for the year/month/day partition columns. */
export function projectionParameters(location: string): Record<string, string> {
  const ranges: Record<string, { range: string; digits?: string }> = {
    year: { range: `${PROJECTED_YEARS.from},${PROJECTED_YEARS.to}` },
    month: { range: "1,12", digits: "2" },
    day: { range: "1,31", digits: "2" },
  };
  const parameters: Record<string, string> = { "projection.enabled": "true" };
  for (const column of partitionColumns()) {
    const projection = ranges[column.name];
    if (!projection) throw new Error(`no partition projection for partition column ${column.name}`);
    parameters[`projection.${column.name}.type`] = "integer";
    parameters[`projection.${column.name}.range`] = projection.range;
    if (projection.digits) parameters[`projection.${column.name}.digits`] = projection.digits;
  }
  parameters["storage.location.template"] = `${location}${partitionColumns()
    .map((column) => `${column.name}=\${${column.name}}`)
    .join("/")}/`;
  return parameters;
}

/**
 * The lifecycle rule of the usage prefix: Intelligent-Tiering after 30 days, expiry after
 * `lakeRetentionDays` when it is positive (0 keeps the lake forever). No transition when the data
 * expires within the 30 days (nothing would be gained, and S3 wants expiry after transition).
 */
export function usageLifecycleRule(lakeRetentionDays: number): s3.LifecycleRule {
  const tiering = lakeRetentionDays === 0 || lakeRetentionDays > INTELLIGENT_TIERING_AFTER_DAYS;
  return {
    id: "usage-tiering-and-retention",
    prefix: USAGE_PREFIX,
    ...(tiering
      ? { transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(INTELLIGENT_TIERING_AFTER_DAYS) }] }
      : {}),
    ...(lakeRetentionDays > 0 ? { expiration: Duration.days(lakeRetentionDays) } : {}),
  };
}

/**
 * Read access to the lake for a function that queries it through Athena: the Glue catalog, database
 * and these tables (the usage table, and any other the function reads), the bucket's location, the
 * listing of `usage/` and its objects (GetObject only).
 */
export function lakeReadStatements(stack: Stack, bucket: s3.IBucket, databaseName: string, tableNames: readonly string[]): iam.PolicyStatement[] {
  const glueArn = (resource: string, resourceName?: string) => stack.formatArn({ service: "glue", resource, ...(resourceName ? { resourceName } : {}) });
  return [
    new iam.PolicyStatement({
      sid: "GlueTables",
      actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
      resources: [glueArn("catalog"), glueArn("database", databaseName), ...tableNames.map((name) => glueArn("table", `${databaseName}/${name}`))],
    }),
    new iam.PolicyStatement({ sid: "LakeBucket", actions: ["s3:GetBucketLocation"], resources: [bucket.bucketArn] }),
    new iam.PolicyStatement({
      sid: "LakeList",
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${USAGE_PREFIX}*`] } },
    }),
    new iam.PolicyStatement({ sid: "LakeObjects", actions: ["s3:GetObject"], resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`)] }),
  ];
}

export function Lake({ stack, app }: StackContext) {
  const { stream } = use(Ingest);
  const { table: aggregates } = use(Processing);
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);

  const bucket = privateBucket(stack, "LakeBucket", {
    removalPolicy,
    lifecycleRules: [
      { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      { id: "errors-retention", prefix: ERROR_PREFIX, expiration: Duration.days(ERROR_RETENTION_DAYS) },
      // Raw records with their prompts (what the transform never answered): as short-lived as the raw failures.
      { id: "raw-errors-retention", prefix: LAKE_PROCESSING_FAILED_PREFIX, expiration: Duration.days(settings.rawFailureRetentionDays) },
      usageLifecycleRule(settings.lakeRetentionDays),
    ],
  });
  const location = `s3://${bucket.bucketName}/${USAGE_PREFIX}`;

  const databaseName = glueDatabaseName(app.name, app.stage);
  const database = new glue.CfnDatabase(stack, "LakeDatabase", {
    catalogId: stack.account,
    databaseInput: { name: databaseName, description: "bedrock-spend: priced Bedrock usage records (one row per invocation)" },
  });

  const table = new glue.CfnTable(stack, "UsageTable", {
    catalogId: stack.account,
    databaseName,
    tableInput: {
      name: USAGE_TABLE,
      description: "Usage records, one per Bedrock invocation, written by Firehose as Parquet (columns from USAGE_COLUMNS)",
      tableType: "EXTERNAL_TABLE",
      parameters: {
        classification: "parquet",
        "parquet.compression": "SNAPPY",
        EXTERNAL: "TRUE",
        ...projectionParameters(location),
      },
      partitionKeys: partitionColumns().map((column) => ({ name: column.name, type: glueType(column), comment: column.doc })),
      storageDescriptor: {
        columns: dataColumns().map((column) => ({ name: column.name, type: glueType(column), comment: column.doc })),
        location,
        inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        compressed: false,
        storedAsSubDirectories: false,
        serdeInfo: {
          serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
          parameters: { "serialization.format": "1" },
        },
      },
    },
  });
  table.addDependency(database);

  const { rawFailures, rawFailuresKey } = rawFailureBucket(stack, app.stage, removalPolicy, settings.rawFailureRetentionDays);

  const transform = new SstFunction(stack, "Transform", {
    handler: "functions/src/transform.handler",
    timeout: 60,
    memorySize: 1024,
    // TABLE_NAME: the transform prices repriced months with the catalog the registry holds for them.
    environment: { [ENV.tableName]: aggregates.tableName, [ENV.metricsNamespace]: METRICS_NAMESPACE, [ENV.rawFailureBucket]: rawFailures.bucketName },
  });
  transform.addToRolePolicy(registryRead(aggregates.tableArn));
  grantProfileResolution(transform, settings);
  // Writes raw failures, no reading them back: SSE-KMS PutObject asks KMS for a data key.
  transform.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:PutObject"], resources: [rawFailures.arnForObjects("*")] }));
  transform.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey"], resources: [rawFailuresKey.keyArn] }));

  const deliveryLogs = new logs.LogGroup(stack, "DeliveryLogs", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy });
  const deliveryLogStream = new logs.LogStream(stack, "DeliveryLogStream", { logGroup: deliveryLogs, logStreamName: "DestinationDelivery", removalPolicy });

  const catalogArn = stack.formatArn({ service: "glue", resource: "catalog" });
  const databaseArn = stack.formatArn({ service: "glue", resource: "database", resourceName: databaseName });
  const tableArn = stack.formatArn({ service: "glue", resource: "table", resourceName: `${databaseName}/${USAGE_TABLE}` });

  const streamStatements = [
    new iam.PolicyStatement({
      sid: "ReadSourceStream",
      actions: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"],
      resources: [stream.streamArn],
    }),
  ];
  if (stream.encryptionKey) {
    streamStatements.push(new iam.PolicyStatement({ sid: "DecryptSourceStream", actions: ["kms:Decrypt"], resources: [stream.encryptionKey.keyArn] }));
  }

  // Inline policies: they are part of the role resource, so they exist before Firehose first assumes it.
  const deliveryRole = new iam.Role(stack, "DeliveryRole", {
    assumedBy: new iam.ServicePrincipal("firehose.amazonaws.com", { conditions: { StringEquals: { "sts:ExternalId": stack.account } } }),
    description: "Firehose: read the invocation stream, invoke the transform, read the Glue schema, write the lake",
    inlinePolicies: {
      delivery: new iam.PolicyDocument({
        statements: [
          ...streamStatements,
          new iam.PolicyStatement({
            sid: "LakeBucket",
            actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources: [bucket.bucketArn],
          }),
          new iam.PolicyStatement({
            sid: "LakeObjects",
            actions: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`), bucket.arnForObjects(`${ERROR_PREFIX}*`)],
          }),
          new iam.PolicyStatement({
            sid: "GlueSchema",
            actions: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources: [catalogArn, databaseArn, tableArn],
          }),
          new iam.PolicyStatement({
            sid: "Transform",
            actions: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
            resources: [transform.functionArn, `${transform.functionArn}:*`],
          }),
          new iam.PolicyStatement({
            sid: "DeliveryLogs",
            actions: ["logs:PutLogEvents"],
            resources: [deliveryLogs.logGroupArn],
          }),
        ],
      }),
    },
  });

  // The destination of both delivery streams: the stream-fed one, and the redrive's (Direct PUT).
  const destination: firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty = {
    bucketArn: bucket.bucketArn,
    roleArn: deliveryRole.roleArn,
    prefix: FIREHOSE_PREFIX,
    errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
    // Format conversion needs at least 64 MB; Firehose compresses the Parquet itself.
    bufferingHints: { sizeInMBs: 128, intervalInSeconds: 300 },
    compressionFormat: "UNCOMPRESSED",
    s3BackupMode: "Disabled",
    cloudWatchLoggingOptions: { enabled: true, logGroupName: deliveryLogs.logGroupName, logStreamName: deliveryLogStream.logStreamName },
    processingConfiguration: {
      enabled: true,
      processors: [
        {
          type: "Lambda",
          parameters: [
            { parameterName: "LambdaArn", parameterValue: transform.functionArn },
            { parameterName: "BufferSizeInMBs", parameterValue: "0.5" },
            { parameterName: "BufferIntervalInSeconds", parameterValue: "60" },
            { parameterName: "NumberOfRetries", parameterValue: "3" },
          ],
        },
      ],
    },
    dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
    dataFormatConversionConfiguration: {
      enabled: true,
      // Case-sensitive: a case-insensitive SerDe lowercases JSON keys, and metadata map keys (costCenter) must keep
      // their case. Every column name the transform writes is lowercase already.
      inputFormatConfiguration: { deserializer: { openXJsonSerDe: { caseInsensitive: false } } },
      outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
      schemaConfiguration: {
        catalogId: stack.account,
        databaseName,
        tableName: USAGE_TABLE,
        region: stack.region,
        roleArn: deliveryRole.roleArn,
        versionId: "LATEST",
      },
    },
  };
  const deliveryStream = new firehose.CfnDeliveryStream(stack, "DeliveryStream", {
    deliveryStreamType: "KinesisStreamAsSource",
    kinesisStreamSourceConfiguration: { kinesisStreamArn: stream.streamArn, roleArn: deliveryRole.roleArn },
    extendedS3DestinationConfiguration: destination,
  });
  deliveryStream.addDependency(table);
  // A Kinesis-sourced delivery stream takes no PutRecord: the lake redrive puts raw failures here,
  // through the same transform into the same lake, and never through the aggregate path.
  const redriveStream = new firehose.CfnDeliveryStream(stack, "RedriveDeliveryStream", {
    deliveryStreamType: "DirectPut",
    // A Direct PUT stream keeps records at rest until it delivers them: encrypted (cdk-nag AwsSolutions-KDF1).
    deliveryStreamEncryptionConfigurationInput: { keyType: "AWS_OWNED_CMK" },
    extendedS3DestinationConfiguration: destination,
  });
  redriveStream.addDependency(table);

  const lakeRedrive = new SstFunction(stack, "LakeRedrive", {
    handler: "functions/src/lake-redrive.handler",
    // Named, so that `bedrock-spend redrive --lake-errors --stage NAME` finds it.
    functionName: `${app.name}-${app.stage}-lake-redrive`,
    description: "Sends the lake's raw failures (the raw failure bucket, Firehose's processing-failed output) back through the transform",
    timeout: 900,
    memorySize: 1024,
    environment: {
      [ENV.rawFailureBucket]: rawFailures.bucketName,
      [ENV.lakeBucket]: bucket.bucketName,
      [ENV.lakeRedriveStream]: redriveStream.ref,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    },
  });
  lakeRedrive.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [rawFailures.bucketArn] }));
  lakeRedrive.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:GetObject", "s3:DeleteObject"], resources: [rawFailures.arnForObjects("*")] }));
  lakeRedrive.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:Decrypt"], resources: [rawFailuresKey.keyArn] }));
  lakeRedrive.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${LAKE_PROCESSING_FAILED_PREFIX}*`] } },
    }),
  );
  lakeRedrive.addToRolePolicy(
    new iam.PolicyStatement({ actions: ["s3:GetObject", "s3:DeleteObject"], resources: [bucket.arnForObjects(`${LAKE_PROCESSING_FAILED_PREFIX}*`)] }),
  );
  lakeRedrive.addToRolePolicy(new iam.PolicyStatement({ actions: ["firehose:PutRecordBatch"], resources: [redriveStream.attrArn] }));

  lakeSuppressions(stack, { bucket, rawFailures, deliveryStream, deliveryRole, transform, lakeRedrive });
  stack.addOutputs({
    LakeBucket: bucket.bucketName,
    DeliveryStream: deliveryStream.ref,
    GlueDatabase: databaseName,
    GlueTable: USAGE_TABLE,
    RawFailureBucket: rawFailures.bucketName,
    LakeRedriveFunction: lakeRedrive.functionName,
  });
  return {
    bucket,
    deliveryStream,
    redriveStream,
    transform,
    lakeRedrive,
    rawFailures,
    rawFailuresKey,
    database,
    table,
    databaseName,
    tableName: USAGE_TABLE,
    deliveryRole,
  };
}

/**
 * Where the transform keeps the records it cannot turn into lake rows, whole prompts included: a
 * bucket of their own under a customer-managed key usable only through S3 (kms:ViaService), by
 * the roles granted it (the transform writes, the lake redrive reads), expiring objects after
 * `retentionDays`. Not versioned, so that the expiry deletes for real.
 */
function rawFailureBucket(stack: Stack, stage: string, removalPolicy: RemovalPolicy, retentionDays: number) {
  const rawFailuresKey = serviceOnlyKey(stack, "RawFailuresKey", {
    description: `Encrypts the raw failures of the bedrock-spend ${stage} lake (invocation records with prompts and responses)`,
    service: "s3",
    actions: ["kms:GenerateDataKey", "kms:Decrypt"],
    removalPolicy,
  });
  const rawFailures = privateBucket(stack, "RawFailures", {
    encryptionKey: rawFailuresKey,
    removalPolicy,
    lifecycleRules: [
      { id: "raw-failures-retention", expiration: Duration.days(retentionDays) },
      { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
  });
  return { rawFailures, rawFailuresKey };
}
