/**
 * A reader of a table's DynamoDB Stream on DynamoDB Local, turning stream records into the records
 * of the Lambda `DynamoDBStreamEvent`: what local mode's event-source-mapping poller feeds the
 * real handlers, and how tests get real stream records.
 *
 * DescribeTable -> LatestStreamArn -> DescribeStream (shards, parents first) -> GetShardIterator
 * (TRIM_HORIZON the first time, AFTER_SEQUENCE_NUMBER of the checkpoint afterwards) -> GetRecords.
 * The checkpoint is one sequence number per shard, so successive polls return only new records.
 */
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
  type Shard,
  type ShardIteratorType,
  type AttributeValue as StreamAttributeValue,
} from "@aws-sdk/client-dynamodb-streams";
import { BedrockSpendError } from "@bedrock-spend/core";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

/** A DynamoDB Streams client for a local endpoint (fake credentials, HTTP/1.1, like `localDynamoDbClient`). */
export function localDynamoDbStreamsClient(endpoint: string, accessKeyId = "local"): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    endpoint,
    region: "us-east-1",
    // Without -sharedDb, DynamoDB Local keeps one database per access key and region: these must
    // be the ones of the DynamoDB client that created the table.
    credentials: { accessKeyId, secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 1,
  });
}

/** Raised when the table has no stream, or the stream cannot be read. */
export class StreamReadError extends BedrockSpendError {
  readonly tableName: string;

  constructor(tableName: string, message: string, options?: ErrorOptions) {
    super(`${tableName}: ${message}`, options);
    this.name = "StreamReadError";
    this.tableName = tableName;
  }
}

/** Options of a `DynamoDbStreamReader`. */
export interface DynamoDbStreamReaderOptions {
  /** The client that owns the table (DescribeTable). */
  dynamoDb: DynamoDBClient;
  /** A streams client on the same endpoint and access key (see `localDynamoDbStreamsClient`). */
  streams: DynamoDBStreamsClient;
  tableName: string;
  /** Positions to resume from: shard id -> last sequence number handled (from `checkpoint()`). */
  checkpoint?: Readonly<Record<string, string>>;
  /** Records per GetRecords call (1-1000). Default 1000. */
  limit?: number;
  /** `eventSourceARN`'s region and `awsRegion` of the records. Default `us-east-1`. */
  region?: string;
}

/** Where to start reading a shard next time. */
type Position = { type: "AFTER_SEQUENCE_NUMBER" | "AT_SEQUENCE_NUMBER"; sequenceNumber: string };

/** Reads a table's stream from where it left off. Not safe for concurrent `poll()` calls. */
export class DynamoDbStreamReader {
  private readonly dynamoDb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private readonly tableName: string;
  private readonly limit: number;
  private readonly region: string;
  private readonly positions = new Map<string, Position>();
  /** Closed shards read to their end. */
  private readonly finished = new Set<string>();
  /** Shard of each record of the last poll that returned records, for `retryFrom`. */
  private readonly shardOf = new Map<string, string>();
  private streamArn: string | undefined;

  constructor(options: DynamoDbStreamReaderOptions) {
    this.dynamoDb = options.dynamoDb;
    this.streams = options.streams;
    this.tableName = options.tableName;
    this.limit = options.limit ?? 1000;
    this.region = options.region ?? "us-east-1";
    for (const [shardId, sequenceNumber] of Object.entries(options.checkpoint ?? {})) {
      this.positions.set(shardId, { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber });
    }
  }

  /**
   * The records written since the last poll (all of them the first time), in stream order per
   * shard, parent shards before their children, in the Lambda event's shape. Advances the checkpoint.
   */
  async poll(): Promise<DynamoDBRecord[]> {
    const streamArn = await this.latestStreamArn();
    const records: DynamoDBRecord[] = [];
    const shardOf = new Map<string, string>();
    for (const shard of parentsFirst(await this.shards(streamArn))) {
      const shardId = shard.ShardId;
      if (!shardId || this.finished.has(shardId)) continue;
      const position = this.positions.get(shardId);
      let iterator = await this.iterator(streamArn, shardId, position);
      while (iterator) {
        const page = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.limit }));
        const batch = page.Records ?? [];
        for (const record of batch) {
          const converted = toLambdaRecord(record, streamArn, this.region);
          records.push(converted);
          const sequenceNumber = converted.dynamodb?.SequenceNumber;
          if (sequenceNumber) {
            this.positions.set(shardId, { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber });
            shardOf.set(sequenceNumber, shardId);
          }
        }
        // No NextShardIterator: the shard is closed and read to its end.
        if (!page.NextShardIterator) this.finished.add(shardId);
        // An open shard answers an empty page once it is caught up.
        iterator = batch.length > 0 ? page.NextShardIterator : undefined;
      }
    }
    if (records.length > 0) {
      this.shardOf.clear();
      for (const [sequenceNumber, shardId] of shardOf) this.shardOf.set(sequenceNumber, shardId);
    }
    return records;
  }

  /**
   * Moves the checkpoint of a record's shard back so that the next poll returns that record again,
   * and the ones after it: what an event source mapping does with a batch item failure.
   * `sequenceNumber` must be one of the last batch of records returned.
   */
  retryFrom(sequenceNumber: string): void {
    const shardId = this.shardOf.get(sequenceNumber);
    if (!shardId) throw new StreamReadError(this.tableName, `sequence number ${sequenceNumber} was not in the last batch of records returned`);
    this.positions.set(shardId, { type: "AT_SEQUENCE_NUMBER", sequenceNumber });
    this.finished.delete(shardId);
  }

  /**
   * The checkpoint, shard id -> last sequence number handled, to persist and resume from.
   * A pending `retryFrom` position is not included.
   */
  checkpoint(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [shardId, position] of this.positions) if (position.type === "AFTER_SEQUENCE_NUMBER") result[shardId] = position.sequenceNumber;
    return result;
  }

  private async latestStreamArn(): Promise<string> {
    if (this.streamArn) return this.streamArn;
    let arn: string | undefined;
    try {
      const table = await this.dynamoDb.send(new DescribeTableCommand({ TableName: this.tableName }));
      arn = table.Table?.LatestStreamArn;
    } catch (error) {
      throw new StreamReadError(this.tableName, `DescribeTable failed: ${(error as Error).message}`, { cause: error });
    }
    if (!arn) throw new StreamReadError(this.tableName, "the table has no stream (StreamSpecification.StreamEnabled is off)");
    this.streamArn = arn;
    return arn;
  }

  private async shards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async iterator(streamArn: string, shardId: string, position: Position | undefined): Promise<string | undefined> {
    const type: ShardIteratorType = position?.type ?? "TRIM_HORIZON";
    const result = await this.streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: position?.sequenceNumber }),
    );
    return result.ShardIterator;
  }
}

/** The Lambda event of some records. */
export function toDynamoDbStreamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** Orders shards so that a parent comes before its children (records of an item follow its lineage). */
function parentsFirst(shards: Shard[]): Shard[] {
  const byId = new Map(shards.map((shard) => [shard.ShardId, shard]));
  const ordered: Shard[] = [];
  const placed = new Set<string | undefined>();
  const place = (shard: Shard): void => {
    if (placed.has(shard.ShardId)) return;
    placed.add(shard.ShardId);
    const parent = shard.ParentShardId ? byId.get(shard.ParentShardId) : undefined;
    if (parent) place(parent);
    ordered.push(shard);
  };
  for (const shard of shards) place(shard);
  return ordered;
}

/**
 * One stream record in the Lambda event's shape: `ApproximateCreationDateTime` in epoch seconds,
 * binary attributes base64, `userIdentity` with Lambda's lower-case keys, `eventSourceARN` the
 * stream ARN.
 */
export function toLambdaRecord(record: SdkStreamRecord, streamArn: string, region = "us-east-1"): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const result: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: record.eventSource ?? "aws:dynamodb",
    // DynamoDB Local reports its own region name ("ddblocal"); Lambda reports the table's region.
    awsRegion: region,
    dynamodb: {
      ...(stream.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...(stream.Keys ? { Keys: convertImage(stream.Keys) } : {}),
      ...(stream.NewImage ? { NewImage: convertImage(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: convertImage(stream.OldImage) } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
  if (record.userIdentity) result.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  return result;
}

function convertImage(image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  const result: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) result[name] = convertValue(value);
  return result;
}

function convertValue(value: StreamAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString("base64")) };
  if (value.L !== undefined) return { L: value.L.map(convertValue) };
  if (value.M !== undefined) return { M: convertImage(value.M) };
  throw new TypeError(`unsupported stream attribute value: ${Object.keys(value).join(", ")}`);
}
