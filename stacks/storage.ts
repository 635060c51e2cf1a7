/**
 * What the stacks' stores share: data is kept when the `prod` stage is removed and dropped with any
 * other stage, and a bucket is private, encrypted, TLS-only and owned by the account.
 */
import { RemovalPolicy } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/** `RETAIN` for the `prod` stage (its data outlives `sst remove`), `DESTROY` for the others. */
export function removalPolicyOf(stage: string): RemovalPolicy {
  return stage === "prod" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/**
 * A private bucket: public access blocked, SSE-S3 (or SSE-KMS with `encryptionKey`, with an S3
 * Bucket Key: one KMS call per data key period instead of one per object), TLS 1.2 or later only,
 * ACLs disabled, not versioned (its objects are derived or short-lived data, and an expiry must
 * delete for real); each caller gives its lifecycle rules.
 */
export function privateBucket(
  scope: Construct,
  id: string,
  { encryptionKey, ...props }: { removalPolicy: RemovalPolicy; lifecycleRules: s3.LifecycleRule[]; encryptionKey?: kms.IKey },
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    ...(encryptionKey ? { encryption: s3.BucketEncryption.KMS, encryptionKey, bucketKeyEnabled: true } : { encryption: s3.BucketEncryption.S3_MANAGED }),
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    ...props,
  });
}
