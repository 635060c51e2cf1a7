/**
 * Prompt bodies behind the stage's keys (issue: safe on AWS, item 2): the stream's customer-managed
 * key and who may use it, the raw failure bucket (its key, its expiry, who writes and reads it),
 * the lake's error prefix for raw records, and the lake redrive (its Direct PUT delivery stream and
 * its function), read from the synthesized templates.
 */
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { Ingest, KEY_ADMINISTRATION_ACTIONS } from "../../stacks/Ingest";
import { Lake } from "../../stacks/Lake";
import { environmentOf, exportOfRef, flatten, functionWithHandler, list, only, resources, roleOfFunction, roleStatements, type Statement } from "./helpers";
import { ACCOUNT, REGION, type SynthesizedApp, synthesize } from "./synth";

let app: SynthesizedApp;
let lake: Template;
beforeAll(async () => {
  app = await synthesize();
  lake = app.template(Lake);
}, 300_000);

/** The raw failure bucket: the one encrypted with a KMS key. */
function rawFailureBucket(): [string, Record<string, unknown>] {
  const buckets = Object.entries(resources(lake, "AWS::S3::Bucket")).filter(([, bucket]) =>
    JSON.stringify(bucket.Properties.BucketEncryption).includes("aws:kms"),
  );
  expect(buckets).toHaveLength(1);
  const [id, bucket] = buckets[0] as [string, { Properties: Record<string, unknown> }];
  return [id, bucket.Properties];
}

function rawFailuresKeyId(): string {
  const [, bucket] = rawFailureBucket();
  const rule = (bucket.BucketEncryption as { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { KMSMasterKeyID: unknown } }] })
    .ServerSideEncryptionConfiguration[0];
  return (rule.ServerSideEncryptionByDefault.KMSMasterKeyID as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

describe("The stream's key: only the pipeline's roles use it", () => {
  /** Every role statement of every stack on the stream's key (by reference in Ingest, by import elsewhere), as `stack/role: action`. */
  function keyUsers(): string[] {
    const ingest = app.template(Ingest);
    const [, stream] = only(ingest, "AWS::Kinesis::Stream");
    const keyId = (stream.Properties.StreamEncryption as { KeyId: { "Fn::GetAtt": [string, string] } }).KeyId["Fn::GetAtt"][0];
    const references = [JSON.stringify({ "Fn::GetAtt": [keyId, "Arn"] }), JSON.stringify({ "Fn::ImportValue": exportOfRef(ingest, keyId, "Arn") })];
    const users: string[] = [];
    for (const { name, template } of app.stacks)
      for (const roleId of Object.keys(resources(template, "AWS::IAM::Role")))
        for (const statement of roleStatements(template, roleId))
          if (list(statement.Resource).some((resource) => references.includes(JSON.stringify(resource))))
            users.push(`${name}/${roleId.replace(/[A-F0-9]{8}$/, "")}: ${list(statement.Action).join(",")}`);
    return users.sort();
  }

  it("grants kms:Decrypt to the consumers (aggregate, redrive, Firehose), kms:GenerateDataKey to the subscription, and nothing to any other role", () => {
    expect(keyUsers()).toEqual([
      "Ingest/SubscriptionRole: kms:GenerateDataKey",
      "Lake/DeliveryRole: kms:Decrypt",
      expect.stringMatching(/^Processing\/AggregateServiceRole\w*: kms:Decrypt$/),
      expect.stringMatching(/^Processing\/RedriveServiceRole\w*: kms:Decrypt$/),
    ]);
  });
});

describe("The raw failure bucket", () => {
  it("is private, TLS-only, unversioned and encrypted with a key of its own, with an S3 Bucket Key", () => {
    const [, bucket] = rawFailureBucket();
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }] },
    });
    expect(bucket.VersioningConfiguration).toBeUndefined();
    const key = lake.toJSON().Resources[rawFailuresKeyId()];
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it("expires raw failures after 14 days by default, by a lifecycle rule over the whole bucket", () => {
    const [, bucket] = rawFailureBucket();
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual([
      { Id: "raw-failures-retention", Status: "Enabled", ExpirationInDays: 14 },
      { Id: "abort-incomplete-multipart-uploads", Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it("lets its key be used only through S3 of this Region, administered by the account without kms:*", () => {
    const key = lake.toJSON().Resources[rawFailuresKeyId()];
    const statements = key.Properties.KeyPolicy.Statement as Statement[];
    expect(statements.map((statement) => ({ ...statement, Principal: flatten((statement.Principal as { AWS: unknown }).AWS) }))).toEqual([
      {
        Sid: "AdministerByTheAccount",
        Effect: "Allow",
        Principal: `arn:\${AWS::Partition}:iam::${ACCOUNT}:root`,
        Action: [...KEY_ADMINISTRATION_ACTIONS],
        Resource: "*",
      },
      {
        Sid: "UseThroughS3Only",
        Effect: "Allow",
        Principal: `arn:\${AWS::Partition}:iam::${ACCOUNT}:root`,
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT } },
      },
    ]);
  });

  it("is named to the transform, which may only put objects in it (and get a data key), and never read them back", () => {
    const [bucketId] = rawFailureBucket();
    const transform = functionWithHandler(lake, "functions/src/transform.handler");
    expect(environmentOf(lake, transform).RAW_FAILURE_BUCKET).toEqual({ Ref: bucketId });
    const statements = roleStatements(lake, roleOfFunction(lake, transform)).filter((statement) => JSON.stringify(statement).match(/RawFailures/));
    expect(statements.map(({ Action, Resource }) => ({ Action, Resource: flatten(Resource) }))).toEqual([
      { Action: "s3:PutObject", Resource: `\${${bucketId}.Arn}/*` },
      { Action: "kms:GenerateDataKey", Resource: `\${${rawFailuresKeyId()}.Arn}` },
    ]);
  });

  it("follows the configured retention", async () => {
    const template = (await synthesize({ rawFailureRetentionDays: 3 })).template(Lake);
    const lakeRules = Object.values(resources(template, "AWS::S3::Bucket")).flatMap(
      (bucket) => (bucket.Properties.LifecycleConfiguration as { Rules: { Id: string; ExpirationInDays?: number }[] }).Rules,
    );
    expect(lakeRules.find((rule) => rule.Id === "raw-failures-retention")?.ExpirationInDays).toBe(3);
    expect(lakeRules.find((rule) => rule.Id === "raw-errors-retention")?.ExpirationInDays).toBe(3);
  }, 300_000);
});

describe("The lake redrive", () => {
  it("has a Direct PUT delivery stream with the stream-fed one's destination: the same transform, prefixes and Parquet conversion", () => {
    const streams = Object.values(resources(lake, "AWS::KinesisFirehose::DeliveryStream"));
    expect(streams.map((stream) => stream.Properties.DeliveryStreamType).sort()).toEqual(["DirectPut", "KinesisStreamAsSource"]);
    const [fed, direct] = ["KinesisStreamAsSource", "DirectPut"].map(
      (type) => streams.find((stream) => stream.Properties.DeliveryStreamType === type)?.Properties,
    );
    expect(direct?.ExtendedS3DestinationConfiguration).toEqual(fed?.ExtendedS3DestinationConfiguration);
    expect(direct?.KinesisStreamSourceConfiguration).toBeUndefined();
  });

  it("runs a function that reads and deletes raw failures, and Firehose's processing-failed output only, and puts them on the redrive stream only", () => {
    const [bucketId] = rawFailureBucket();
    const [redriveStreamId] = only(lake, "AWS::KinesisFirehose::DeliveryStream", { DeliveryStreamType: "DirectPut" });
    const fn = functionWithHandler(lake, "functions/src/lake-redrive.handler");
    expect(environmentOf(lake, fn)).toMatchObject({
      RAW_FAILURE_BUCKET: { Ref: bucketId },
      LAKE_BUCKET: { Ref: expect.stringMatching(/^LakeBucket/) },
      LAKE_REDRIVE_STREAM: { Ref: redriveStreamId },
    });
    const statements = roleStatements(lake, roleOfFunction(lake, fn)).filter(
      (statement) => !list(statement.Action).some((action) => String(action).startsWith("xray:")),
    );
    const lakeBucket = Object.keys(resources(lake, "AWS::S3::Bucket")).find((id) => id.startsWith("LakeBucket")) as string;
    expect(statements.map(({ Action, Resource, Condition }) => ({ Action, Resource: flatten(Resource), ...(Condition ? { Condition } : {}) }))).toEqual([
      { Action: "s3:ListBucket", Resource: `\${${bucketId}.Arn}` },
      { Action: ["s3:GetObject", "s3:DeleteObject"], Resource: `\${${bucketId}.Arn}/*` },
      { Action: "kms:Decrypt", Resource: `\${${rawFailuresKeyId()}.Arn}` },
      { Action: "s3:ListBucket", Resource: `\${${lakeBucket}.Arn}`, Condition: { StringLike: { "s3:prefix": ["errors/processing-failed/*"] } } },
      { Action: ["s3:GetObject", "s3:DeleteObject"], Resource: `\${${lakeBucket}.Arn}/errors/processing-failed/*` },
      { Action: "firehose:PutRecordBatch", Resource: `\${${redriveStreamId}.Arn}` },
    ]);
  });

  it("outputs the raw failure bucket and the function to invoke", () => {
    lake.hasOutput("RawFailureBucket", {});
    lake.hasOutput("LakeRedriveFunction", {});
  });
});
