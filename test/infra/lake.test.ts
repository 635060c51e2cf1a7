import { Duration } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { dataColumns, glueType, partitionColumns, USAGE_COLUMNS } from "../../packages/core/src/usage";
import { USAGE_TABLE } from "../../packages/core/src/views";
import { Lake, PROJECTED_YEARS, usageLifecycleRule } from "../../stacks/Lake";
import { synthesize } from "./synth";

let template: Template;
let lake: ReturnType<typeof Lake>;
beforeAll(async () => {
  const synthesized = await synthesize();
  template = synthesized.template(Lake);
  lake = (await import("sst/constructs")).use(Lake);
}, 300_000);

/** The delivery stream that reads the Ingest stream (the other one is the redrive's, Direct PUT). */
function streamFedDelivery(): Record<string, unknown> {
  const found = Object.values(template.findResources("AWS::KinesisFirehose::DeliveryStream", { Properties: { DeliveryStreamType: "KinesisStreamAsSource" } }));
  expect(found).toHaveLength(1);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
}

/** The single resource of a type, by its properties. */
function only(type: string): Record<string, unknown> {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return (resources[0] as { Properties: Record<string, unknown> }).Properties;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's partition projection placeholders, not a JavaScript template.
const PROJECTION_TEMPLATE = "/usage/year=${year}/month=${month}/day=${day}/";
const bucketArn = { "Fn::GetAtt": [Match.stringLikeRegexp("^LakeBucket"), "Arn"] };
const objectsArn = (prefix: string) => ({ "Fn::Join": ["", [bucketArn, `/${prefix}`]] });
const transformArn = { "Fn::GetAtt": [Match.stringLikeRegexp("^Transform"), "Arn"] };

describe("Stack: Lake — bucket", () => {
  it("blocks public access, enforces TLS 1.2+, encrypts with SSE-S3, owner-enforced, unversioned", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: Match.objectLike({ Rules: Match.arrayWith([Match.objectLike({ Prefix: "usage/" })]) }),
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      VersioningConfiguration: Match.absent(),
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } } }),
        ]),
      },
    });
  });

  it("aborts incomplete uploads, expires errors/ after 90 days and its raw processing-failed/ after 14, tiers usage/ after 30 days and keeps it by default", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: [
          { Id: "abort-incomplete-multipart-uploads", Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          { Id: "errors-retention", Status: "Enabled", Prefix: "errors/", ExpirationInDays: 90 },
          { Id: "raw-errors-retention", Status: "Enabled", Prefix: "errors/processing-failed/", ExpirationInDays: 14 },
          {
            Id: "usage-tiering-and-retention",
            Status: "Enabled",
            Prefix: "usage/",
            Transitions: [{ StorageClass: "INTELLIGENT_TIERING", TransitionInDays: 30 }],
            ExpirationInDays: Match.absent(),
          },
        ],
      },
    });
  });

  it("expires usage/ after lakeRetentionDays when positive, without a transition it would not outlive", () => {
    const tiering = [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) }];
    expect(usageLifecycleRule(0)).toEqual({ id: "usage-tiering-and-retention", prefix: "usage/", transitions: tiering });
    expect(usageLifecycleRule(400)).toEqual({ id: "usage-tiering-and-retention", prefix: "usage/", transitions: tiering, expiration: Duration.days(400) });
    expect(usageLifecycleRule(14)).toEqual({ id: "usage-tiering-and-retention", prefix: "usage/", expiration: Duration.days(14) });
  });
});

describe("Stack: Lake — Glue table", () => {
  it("the Glue columns equal the usage-record schema: names, order, types; partition keys year/month/day", () => {
    const table = only("AWS::Glue::Table") as { TableInput: { StorageDescriptor: { Columns: unknown[] }; PartitionKeys: unknown[] } };
    expect(table.TableInput.StorageDescriptor.Columns).toEqual(
      dataColumns().map((column) => ({ Name: column.name, Type: glueType(column), Comment: column.doc })),
    );
    expect(table.TableInput.PartitionKeys).toEqual(partitionColumns().map((column) => ({ Name: column.name, Type: "string", Comment: column.doc })));
    // Together they are USAGE_COLUMNS, in order, each exactly once.
    const names = [...table.TableInput.StorageDescriptor.Columns, ...table.TableInput.PartitionKeys].map((column) => (column as { Name: string }).Name);
    expect(names).toEqual(USAGE_COLUMNS.map((column) => column.name));
    expect(partitionColumns().map((column) => column.name)).toEqual(["year", "month", "day"]);
    expect(glueType(USAGE_COLUMNS.find((column) => column.name === "cost_usd") ?? USAGE_COLUMNS[0])).toBe("decimal(38,12)");
  });

  it("is an external Parquet table under s3://<lake>/usage/ in the stage's database", () => {
    template.hasResourceProperties("AWS::Glue::Database", { DatabaseInput: { Name: "bedrock_spend_test" } });
    template.hasResourceProperties("AWS::Glue::Table", {
      DatabaseName: "bedrock_spend_test",
      TableInput: {
        Name: USAGE_TABLE,
        TableType: "EXTERNAL_TABLE",
        Parameters: Match.objectLike({ classification: "parquet" }),
        StorageDescriptor: {
          Location: { "Fn::Join": ["", ["s3://", { Ref: Match.stringLikeRegexp("^LakeBucket") }, "/usage/"]] },
          InputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
          OutputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
          SerdeInfo: { SerializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" },
        },
      },
    });
    template.hasResource("AWS::Glue::Table", { DependsOn: [Match.stringLikeRegexp("^LakeDatabase")] });
  });

  it("projects year/month/day partitions as zero-padded integers at the paths Firehose writes", () => {
    template.hasResourceProperties("AWS::Glue::Table", {
      TableInput: {
        Parameters: Match.objectLike({
          "projection.enabled": "true",
          "projection.year.type": "integer",
          "projection.year.range": `${PROJECTED_YEARS.from},${PROJECTED_YEARS.to}`,
          "projection.year.digits": Match.absent(),
          "projection.month.type": "integer",
          "projection.month.range": "1,12",
          "projection.month.digits": "2",
          "projection.day.type": "integer",
          "projection.day.range": "1,31",
          "projection.day.digits": "2",
          "storage.location.template": { "Fn::Join": ["", ["s3://", { Ref: Match.stringLikeRegexp("^LakeBucket") }, PROJECTION_TEMPLATE]] },
        }),
      },
    });
  });
});

describe("Stack: Lake — transform and Firehose", () => {
  it("bundles the real transform handler with the pricing environment, 60 s and 1024 MB", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Handler: "functions/src/transform.handler",
      Runtime: "nodejs24.x",
      Timeout: 60,
      MemorySize: 1024,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: "BedrockSpend" }) },
    });
  });

  it("reads the Ingest stream and writes Parquet partitioned by the transform's year/month/day keys", () => {
    template.hasResourceProperties("AWS::KinesisFirehose::DeliveryStream", {
      DeliveryStreamType: "KinesisStreamAsSource",
      KinesisStreamSourceConfiguration: {
        KinesisStreamARN: { "Fn::ImportValue": Match.stringLikeRegexp("Ingest.*Invocations") },
        RoleARN: { "Fn::GetAtt": [Match.stringLikeRegexp("^DeliveryRole"), "Arn"] },
      },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: bucketArn,
        Prefix: "usage/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/",
        ErrorOutputPrefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
        CompressionFormat: "UNCOMPRESSED",
        BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 300 },
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        CloudWatchLoggingOptions: { Enabled: true, LogGroupName: { Ref: Match.stringLikeRegexp("^DeliveryLogs") }, LogStreamName: Match.anyValue() },
      }),
    });
    // The prefix's partition keys are the partition columns, in path order.
    const prefix = (streamFedDelivery() as { ExtendedS3DestinationConfiguration: { Prefix: string } }).ExtendedS3DestinationConfiguration.Prefix;
    expect([...prefix.matchAll(/(\w+)=!\{partitionKeyFromLambda:(\w+)\}/g)].map((match) => [match[1], match[2]])).toEqual(
      partitionColumns().map((column) => [column.name, column.name]),
    );
  });

  it("invokes the transform with a 0.5 MB buffer, so its response stays under Lambda's 6 MB", () => {
    template.hasResourceProperties("AWS::KinesisFirehose::DeliveryStream", {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: "Lambda",
              Parameters: [
                { ParameterName: "LambdaArn", ParameterValue: transformArn },
                { ParameterName: "BufferSizeInMBs", ParameterValue: "0.5" },
                { ParameterName: "BufferIntervalInSeconds", ParameterValue: "60" },
                { ParameterName: "NumberOfRetries", ParameterValue: "3" },
              ],
            },
          ],
        },
      }),
    });
  });

  it("converts the OpenX JSON documents to SNAPPY Parquet with the Glue table's latest schema", () => {
    template.hasResourceProperties("AWS::KinesisFirehose::DeliveryStream", {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        DataFormatConversionConfiguration: {
          Enabled: true,
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: false } } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: "SNAPPY" } } },
          SchemaConfiguration: {
            CatalogId: "123456789012",
            DatabaseName: "bedrock_spend_test",
            TableName: USAGE_TABLE,
            Region: "us-east-1",
            RoleARN: { "Fn::GetAtt": [Match.stringLikeRegexp("^DeliveryRole"), "Arn"] },
            VersionId: "LATEST",
          },
        },
      }),
    });
    template.hasResource("AWS::KinesisFirehose::DeliveryStream", { DependsOn: Match.arrayWith([Match.stringLikeRegexp("^UsageTable")]) });
  });

  it("gives Firehose a least-privilege role of its own, inline so it exists before the stream", () => {
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Principal: { Service: "firehose.amazonaws.com" },
            Condition: { StringEquals: { "sts:ExternalId": "123456789012" } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: "delivery",
          PolicyDocument: {
            Statement: [
              {
                Sid: "ReadSourceStream",
                Effect: "Allow",
                Action: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"],
                Resource: { "Fn::ImportValue": Match.stringLikeRegexp("Ingest.*Invocations") },
              },
              {
                Sid: "DecryptSourceStream",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: { "Fn::ImportValue": Match.stringLikeRegexp("Ingest.*InvocationStreamKey") },
              },
              {
                Sid: "LakeBucket",
                Effect: "Allow",
                Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                Resource: bucketArn,
              },
              {
                Sid: "LakeObjects",
                Effect: "Allow",
                Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                Resource: [objectsArn("usage/*"), objectsArn("errors/*")],
              },
              {
                Sid: "GlueSchema",
                Effect: "Allow",
                Action: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                Resource: [
                  { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":glue:us-east-1:123456789012:catalog"]] },
                  { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":glue:us-east-1:123456789012:database/bedrock_spend_test"]] },
                  { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, `:glue:us-east-1:123456789012:table/bedrock_spend_test/${USAGE_TABLE}`]] },
                ],
              },
              {
                Sid: "Transform",
                Effect: "Allow",
                Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                Resource: [transformArn, { "Fn::Join": ["", [transformArn, ":*"]] }],
              },
              {
                Sid: "DeliveryLogs",
                Effect: "Allow",
                Action: "logs:PutLogEvents",
                Resource: { "Fn::GetAtt": [Match.stringLikeRegexp("^DeliveryLogs"), "Arn"] },
              },
            ],
          },
        },
      ],
    });
    // No separate policy resource that Firehose could race.
    const policies = Object.values(template.findResources("AWS::IAM::Policy")) as { Properties: { Roles: { Ref: string }[] } }[];
    expect(policies.flatMap((policy) => policy.Properties.Roles.map((role) => role.Ref)).filter((ref) => ref.startsWith("DeliveryRole"))).toEqual([]);
  });

  it("exports what Monitoring and Analytics use", () => {
    expect(Object.keys(lake)).toEqual(expect.arrayContaining(["bucket", "deliveryStream", "transform", "database", "table", "databaseName"]));
    expect(lake.databaseName).toBe("bedrock_spend_test");
    expect(lake.deliveryStream.cfnResourceType).toBe("AWS::KinesisFirehose::DeliveryStream");
  });
});
