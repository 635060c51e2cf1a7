/**
 * Ingest: the Kinesis stream everything flows through. (The log group, Bedrock invocation logging
 * and the subscription filter are added by the infrastructure work.)
 */
import { Duration } from "aws-cdk-lib";
import * as kinesis from "aws-cdk-lib/aws-kinesis";
import type { StackContext } from "sst/constructs";

export function Ingest({ stack }: StackContext) {
  const stream = new kinesis.Stream(stack, "Invocations", {
    streamMode: kinesis.StreamMode.ON_DEMAND,
    encryption: kinesis.StreamEncryption.MANAGED,
    retentionPeriod: Duration.hours(168),
  });
  return { stream };
}
