/**
 * Factories for the transform Lambda's tests: Firehose transformation events whose source is a
 * Kinesis stream fed by a CloudWatch Logs subscription, shaped as Firehose sends them.
 */
import { createHash } from "node:crypto";
import {
  controlMessagePayload,
  encodeKinesisData,
  generateTraffic,
  gzipStable,
  type SubscriptionPayload,
  type TrafficItem,
  type TrafficOptions,
  toSubscriptionPayloads,
} from "@bedrock-spend/traffic";
import type { Context, FirehoseTransformationEvent } from "aws-lambda";

const ACCOUNT = "123456789012";
const ARRIVAL_MS = Date.parse("2026-11-27T10:00:05Z");

/** Traffic items of the generator, and the subscription payloads that carry them. */
export function trafficPayloads(options: TrafficOptions, eventsPerPayload = 25): { items: TrafficItem[]; payloads: SubscriptionPayload[] } {
  const items = [...generateTraffic(options)];
  return { items, payloads: [...toSubscriptionPayloads(items, { eventsPerPayload })] };
}

/** The record data of the control message CloudWatch Logs sends when the subscription is created. */
export function controlMessageData(): string {
  return encodeKinesisData(controlMessagePayload(ARRIVAL_MS));
}

/**
 * A Firehose transformation event, source a Kinesis stream: one record per data string, with
 * Firehose-style record ids (the Kinesis sequence number and a subsequence) and `kinesisRecordMetadata`.
 */
export function firehoseEvent(datas: readonly string[]): FirehoseTransformationEvent {
  return {
    invocationId: "2b4d1ad9-2f48-94bd-a088-767c317e994a",
    deliveryStreamArn: `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/bedrock-spend-lake`,
    sourceKinesisStreamArn: `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/bedrock-spend-invocations`,
    region: "us-east-1",
    records: datas.map((data, index) => {
      const sequenceNumber = (49_656_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(index) * 2n ** 20n).toString();
      const arrival = ARRIVAL_MS + index * 40;
      return {
        recordId: `${sequenceNumber}000000000000`,
        approximateArrivalTimestamp: arrival,
        data,
        kinesisRecordMetadata: {
          shardId: `shardId-00000000000${index % 4}`,
          // CloudWatch Logs with distribution Random puts a random partition key on each record.
          partitionKey: createHash("sha256").update(String(index)).digest("hex").slice(0, 32),
          approximateArrivalTimestamp: arrival,
          sequenceNumber,
          subsequenceNumber: "0",
        },
      };
    }),
  };
}

/** A Lambda context for handlers wrapped in Powertools' middleware. */
export function lambdaContext(functionName = "bedrock-spend-transform"): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/27/[$LATEST]abcdef0123456789",
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as Context;
}

/**
 * The unreadable records a transform meets, as record data: not base64, a gzip cut short (the
 * first 200 bytes of `sample`, a real payload), gzip of text that is not JSON (a Lambda timeout line).
 */
export function unreadableData(sample: string): { badBase64: string; truncatedGzip: string; notJson: string } {
  return {
    badBase64: "H4sIAAAAAAAA/this is not base64",
    truncatedGzip: Buffer.from(sample, "base64").subarray(0, 200).toString("base64"),
    notJson: gzipStable("Task timed out after 3.00 seconds").toString("base64"),
  };
}
