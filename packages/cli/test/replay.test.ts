/**
 * `replay --stage`: a stage's invocation log events read back with FilterLogEvents and put into its
 * stream as subscription payloads. CloudWatch Logs, CloudFormation and STS have no local
 * implementation: their clients are mocked with the response shapes the APIs return. The stream
 * is kinesalite, read back and decoded with core's decoder; a partial PutRecords failure and the
 * request limits are checked on a mocked Kinesis client, which can answer what kinesalite never does.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import {
  AccessDeniedException,
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  type FilterLogEventsCommandOutput,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  KMSAccessDeniedException,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from "@aws-sdk/client-kinesis";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeBytes, logEventId, readSubscriptionPayload, type SubscriptionLogEvent, type SubscriptionPayload, utcDayOf } from "@bedrock-spend/core";
import { type Kinesalite, localKinesisClient, startKinesalite } from "@bedrock-spend/emulators";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { invocationLog } from "../../core/test/helpers/factories";
import {
  KINESIS_RECORD_LIMIT_BYTES,
  MAX_PAYLOAD_JSON_BYTES,
  PUT_RECORDS_LIMIT_BYTES,
  PUT_RECORDS_MAX_ENTRIES,
  REPLAY_SUBSCRIPTION_FILTER,
  ReplayError,
  type ReplayTarget,
  replayStage,
} from "../src/commands/replay";
import { CommandFailure, UsageError } from "../src/errors";
import { MAIN_HELP } from "../src/main";
import { cliCommand } from "./helpers/run-cli";
import { onlyTheOpsProfile, PROFILE, runStageCli, signingOf } from "./helpers/stage-cli";

const logsMock = mockClient(CloudWatchLogsClient);
const cfnMock = mockClient(CloudFormationClient);
const stsMock = mockClient(STSClient);
afterEach(() => {
  logsMock.reset();
  cfnMock.reset();
  stsMock.reset();
});

let kinesalite: Kinesalite;
beforeAll(async () => {
  kinesalite = await startKinesalite();
});
afterAll(async () => {
  await kinesalite.stop();
});

const ACCOUNT = "123456789012";
const LOG_GROUP = "/bedrock-spend/prod/model-invocations";
const BEDROCK_STREAM = "aws/bedrock/modelinvocations";
/** A second log stream in the group (a log group Bedrock shares with another writer). */
const OTHER_STREAM = "aws/bedrock/modelinvocations-eu";
/** The window, and the instant the replay runs at (fixed: nothing here reads the machine clock). */
const FROM = Date.parse("2026-11-27T23:00:00Z");
const TO = Date.parse("2026-11-28T01:00:00Z");
const NOW = Date.parse("2026-11-28T02:00:00Z");
const sleepless = { now: NOW, sleep: async () => {} };

/** A FilterLogEvents event: a real-shaped Bedrock invocation log record, its prompt `bodyBytes` long. */
function logEvent(sequence: number, logStreamName: string, timestamp: number, bodyBytes = 200) {
  const message = JSON.stringify(
    invocationLog({
      requestId: `req-${String(sequence).padStart(5, "0")}`,
      timestamp: new Date(timestamp).toISOString().replace(/\.\d{3}Z$/, "Z"),
      input: {
        inputContentType: "application/json",
        inputBodyJson: { messages: [{ role: "user", content: [{ text: `Ticket ${sequence}: ${"the printer is on fire again. ".repeat(bodyBytes / 30)}` }] }] },
        inputTokenCount: 120,
        cacheReadInputTokenCount: 0,
        cacheWriteInputTokenCount: 0,
      },
    }),
  );
  return { logStreamName, timestamp, message, ingestionTime: timestamp + 350, eventId: logEventId(timestamp, sequence) };
}

type FilteredEvent = ReturnType<typeof logEvent>;

/** Answers FilterLogEvents with `pages`, following nextToken (`t1`, `t2`, ...), as the API paginates; returns the requests as sent. */
function pagesOf(pages: FilteredEvent[][]): FilterLogEventsCommandInput[] {
  const requests: FilterLogEventsCommandInput[] = [];
  logsMock.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
    // A copy: the SDK's paginator sets the next token on the one input object it sends.
    requests.push({ ...input });
    const index = input.nextToken === undefined ? 0 : Number(input.nextToken.slice(1));
    const page: FilterLogEventsCommandOutput = { $metadata: {}, events: pages[index], searchedLogStreams: [] };
    if (index + 1 < pages.length) page.nextToken = `t${index + 1}`;
    return page;
  });
  return requests;
}

function stage(outputs: Record<string, string> = { InvocationLogGroup: LOG_GROUP, InvocationStream: "unused" }) {
  stsMock.on(GetCallerIdentityCommand).resolves({ UserId: "AROAEXAMPLE:ops", Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice` });
  cfnMock.on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Ingest" }).resolves({
    Stacks: [
      {
        StackName: "prod-bedrock-spend-Ingest",
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date("2026-11-27T22:00:00Z"),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

function clients(kinesis: KinesisClient) {
  return {
    logs: new CloudWatchLogsClient({ region: "eu-west-1" }),
    kinesis,
    cloudFormation: new CloudFormationClient({ region: "eu-west-1" }),
    sts: new STSClient({ region: "eu-west-1" }),
  };
}

/** Every record of a kinesalite stream, from every shard. */
async function readStream(kinesis: KinesisClient, streamName: string): Promise<Uint8Array[]> {
  const data: Uint8Array[] = [];
  for (const shard of (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? []) {
    let iterator = (
      await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId as string, ShardIteratorType: "TRIM_HORIZON" }))
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const record of page.Records ?? []) data.push(record.Data as Uint8Array);
      iterator = (page.Records ?? []).length > 0 ? page.NextShardIterator : undefined;
    }
  }
  return data;
}

/** A record's payload, read as the consumers read it: gunzip, JSON, core's subscription reader. */
function payloadOf(data: Uint8Array): { payload: SubscriptionPayload; jsonBytes: number } {
  const json = gunzipSync(data).toString("utf8");
  const payload = JSON.parse(json) as SubscriptionPayload;
  expect(readSubscriptionPayload(payload as unknown as Record<string, unknown>).kind).toBe("data");
  return { payload, jsonBytes: Buffer.byteLength(json) };
}

const asSubscriptionEvent = (event: FilteredEvent): SubscriptionLogEvent => ({ id: event.eventId, timestamp: event.timestamp, message: event.message });
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A mocked Kinesis client that accepts every record of every PutRecords: for the request-limit tests, which read the requests themselves. */
function acceptingKinesis() {
  const kinesis = new KinesisClient({ region: "eu-west-1" });
  const kinesisMock = mockClient(kinesis);
  kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: PutRecordsRequestEntry[] }) => ({
    FailedRecordCount: 0,
    Records: input.Records.map(() => ({ SequenceNumber: "49660000000000000000000000000000000000000000000000000001", ShardId: "shardId-000000000000" })),
  }));
  return { kinesis, kinesisMock };
}

describe("replay --stage", () => {
  it("puts every event of the window into the stream as subscription payloads, one log stream and one UTC day each, under 1 MiB", async () => {
    // Prepare: 400 events, 3 s apart from 23:45 UTC (so across midnight), alternating between two
    // log streams, ~10 KB each (so a log stream's day is more than one payload); two pages of
    // events with an empty page between them, as FilterLogEvents answers while it searches.
    const start = Date.parse("2026-11-27T23:45:00Z");
    const events = Array.from({ length: 400 }, (_, sequence) =>
      logEvent(sequence, sequence % 2 === 0 ? BEDROCK_STREAM : OTHER_STREAM, start + sequence * 3_000, 10_000),
    );
    const requests = pagesOf([events.slice(0, 250), [], events.slice(250)]);
    const kinesis = localKinesisClient(kinesalite.endpoint);
    const streamName = `prod-bedrock-spend-Ingest-Invocations-${randomUUID().slice(0, 8)}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
    while ((await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary?.StreamStatus !== "ACTIVE");
    stage({ InvocationLogGroup: LOG_GROUP, InvocationStream: streamName });

    // Act
    const summary = await replayStage({ stage: "prod", region: "eu-west-1" }, { from: FROM, to: TO, dryRun: false }, clients(kinesis), sleepless);

    // Assess: FilterLogEvents over [from, to) (its endTime is inclusive), page after page.
    expect(requests).toEqual([
      { logGroupName: LOG_GROUP, startTime: FROM, endTime: TO - 1 },
      { logGroupName: LOG_GROUP, startTime: FROM, endTime: TO - 1, nextToken: "t1" },
      { logGroupName: LOG_GROUP, startTime: FROM, endTime: TO - 1, nextToken: "t2" },
    ]);
    const data = await readStream(kinesis, streamName);
    kinesis.destroy();
    expect(summary).toEqual({
      stage: "prod",
      logGroup: LOG_GROUP,
      stream: streamName,
      from: "2026-11-27T23:00:00.000Z",
      to: "2026-11-28T01:00:00.000Z",
      dryRun: false,
      events: 400,
      logStreams: 2,
      records: data.length,
      bytes: data.reduce((sum, bytes) => sum + bytes.length, 0),
      putRequests: 1,
      retriedEntries: 0,
      tooLarge: [],
    });

    // Every record is a data payload of the log group, under the record limit, holding events of
    // one UTC day; together they hold exactly the events read, each once, under its log stream.
    const got = new Map<string, SubscriptionLogEvent[]>();
    const groups = new Map<string, { first: SubscriptionLogEvent; jsonBytes: number }[]>();
    for (const bytes of data) {
      expect(bytes.length).toBeLessThanOrEqual(KINESIS_RECORD_LIMIT_BYTES - 56);
      const { payload, jsonBytes } = payloadOf(bytes);
      expect(payload).toMatchObject({ messageType: "DATA_MESSAGE", owner: ACCOUNT, logGroup: LOG_GROUP, subscriptionFilters: [REPLAY_SUBSCRIPTION_FILTER] });
      expect(jsonBytes).toBeLessThanOrEqual(MAX_PAYLOAD_JSON_BYTES);
      const days = new Set(payload.logEvents.map((event) => utcDayOf(event.timestamp)));
      expect(days.size).toBe(1);
      got.set(payload.logStream, [...(got.get(payload.logStream) ?? []), ...payload.logEvents]);
      const group = `${payload.logStream} ${[...days][0]}`;
      groups.set(group, [...(groups.get(group) ?? []), { first: payload.logEvents[0] as SubscriptionLogEvent, jsonBytes }]);
      // The consumers' decoder finds one invocation record per event, with its event id and time.
      const items = decodeBytes(bytes);
      expect(items.map((item) => (item.kind === "record" ? [item.source.eventId, item.eventTimestamp, item.raw] : item.kind))).toEqual(
        payload.logEvents.map((event) => [event.id, event.timestamp, event.message]),
      );
    }
    for (const name of [BEDROCK_STREAM, OTHER_STREAM])
      expect((got.get(name) ?? []).sort(byId)).toEqual(
        events
          .filter((event) => event.logStreamName === name)
          .map(asSubscriptionEvent)
          .sort(byId),
      );
    expect(got.size).toBe(2);
    // Split by size, not more: a payload other than a group's last could not take the next event.
    expect(groups.size).toBe(4);
    for (const payloads of groups.values()) {
      payloads.sort((a, b) => byId(a.first, b.first));
      for (let index = 0; index + 1 < payloads.length; index++) {
        const next = Buffer.byteLength(JSON.stringify(payloads[index + 1]?.first));
        expect((payloads[index]?.jsonBytes ?? 0) + 1 + next).toBeGreaterThan(MAX_PAYLOAD_JSON_BYTES);
      }
    }
    expect(data.length).toBeGreaterThan(4);
  });

  it("retries the failed entries of a partial PutRecords failure, and only those, after a backoff", async () => {
    // Prepare: three log streams, one payload each; the shard of the second is over its rate once.
    pagesOf([[logEvent(1, "a", FROM + 1_000), logEvent(2, "b", FROM + 2_000), logEvent(3, "c", FROM + 3_000)]]);
    stage();
    const kinesis = new KinesisClient({ region: "eu-west-1" });
    const kinesisMock = mockClient(kinesis);
    kinesisMock
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [
          { SequenceNumber: "49660000000000000000000000000000000000000000000000000001", ShardId: "shardId-000000000000" },
          {
            ErrorCode: "ProvisionedThroughputExceededException",
            ErrorMessage: `Rate exceeded for shard shardId-000000000001 in stream Invocations under account ${ACCOUNT}.`,
          },
          { SequenceNumber: "49660000000000000000000000000000000000000000000000000002", ShardId: "shardId-000000000000" },
        ],
        EncryptionType: "KMS",
      })
      .resolves({
        FailedRecordCount: 0,
        Records: [{ SequenceNumber: "49660000000000000000000000000000000000000000000000000003", ShardId: "shardId-000000000001" }],
        EncryptionType: "KMS",
      });
    const sleeps: number[] = [];

    // Act
    const summary = await replayStage(
      { stage: "prod", stream: `arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/Invocations` },
      { from: FROM, to: TO, dryRun: false },
      clients(kinesis),
      { now: NOW, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    );

    // Assess
    const calls = kinesisMock.commandCalls(PutRecordsCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.StreamARN).toBe(`arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/Invocations`);
    expect(calls[0]?.Records?.map((record) => payloadOf(record.Data as Uint8Array).payload.logStream)).toEqual(["a", "b", "c"]);
    expect(calls[1]?.Records).toEqual([calls[0]?.Records?.[1]]);
    expect(sleeps).toEqual([50]);
    expect(summary).toMatchObject({ events: 3, logStreams: 3, records: 3, putRequests: 2, retriedEntries: 1 });
  });

  it("gives up on entries that still fail after the last attempt, naming the error and how many were put", async () => {
    // Prepare
    pagesOf([[logEvent(1, "a", FROM + 1_000), logEvent(2, "b", FROM + 2_000)]]);
    stage();
    const kinesis = new KinesisClient({ region: "eu-west-1" });
    const kinesisMock = mockClient(kinesis);
    kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: PutRecordsRequestEntry[] }) => ({
      FailedRecordCount: 1,
      Records: input.Records.map((_, index) =>
        index === input.Records.length - 1
          ? { ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure." }
          : { SequenceNumber: "49660000000000000000000000000000000000000000000000000001", ShardId: "shardId-000000000000" },
      ),
    }));
    const sleeps: number[] = [];

    // Act
    const failure = await replayStage({ stage: "prod", stream: "Invocations" }, { from: FROM, to: TO, dryRun: false }, clients(kinesis), {
      now: NOW,
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
      maxPutAttempts: 3,
    }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(ReplayError);
    expect(failure).toBeInstanceOf(CommandFailure);
    expect(failure).toMatchObject({ action: "PutRecords", resource: "Invocations", code: "InternalFailure" });
    expect((failure as Error).message).toBe(
      "PutRecords on Invocations: 1 of 2 records still failed after 3 requests (InternalFailure: Internal service failure.); 0 events were put before this batch: run the replay again (what was put is not counted twice)",
    );
    expect(kinesisMock.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records?.length)).toEqual([2, 1, 1]);
    expect(sleeps).toEqual([50, 100]);
  });

  it("cuts PutRecords requests at 500 records and at 5 MiB", async () => {
    // Prepare: 1,001 log streams of one small event (1,001 records), then 16 events of ~700 KB of
    // random text (gzip cannot shrink them much: a few records fill 5 MiB).
    let seed = 7;
    const noise = (length: number) => {
      const bytes = Buffer.alloc(length);
      for (let index = 0; index < length; index++) {
        seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
        bytes[index] = 33 + ((seed >>> 16) % 94);
      }
      return bytes.toString("latin1");
    };
    const small = Array.from({ length: 1_001 }, (_, index) => logEvent(index, `stream-${index}`, FROM + index));
    const large = Array.from({ length: 16 }, (_, index) => ({ ...logEvent(2_000 + index, "large", FROM + 10_000 + index), message: noise(700_000) }));
    pagesOf([small, large]);
    stage();
    const { kinesis, kinesisMock } = acceptingKinesis();

    // Act
    const summary = await replayStage(
      { stage: "prod", stream: "Invocations", logGroup: LOG_GROUP },
      { from: FROM, to: TO, dryRun: false },
      clients(kinesis),
      sleepless,
    );

    // Assess
    const requests = kinesisMock.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records ?? []);
    const size = (records: PutRecordsRequestEntry[]) =>
      records.reduce((sum, record) => sum + (record.Data?.length ?? 0) + Buffer.byteLength(record.PartitionKey ?? ""), 0);
    for (const records of requests) {
      expect(records.length).toBeLessThanOrEqual(PUT_RECORDS_MAX_ENTRIES);
      expect(size(records)).toBeLessThanOrEqual(PUT_RECORDS_LIMIT_BYTES);
    }
    expect(requests.flat()).toHaveLength(1_017);
    expect(requests.filter((records) => records.length === PUT_RECORDS_MAX_ENTRIES)).toHaveLength(2);
    // The large records (~9 MB in all) need two requests at least, each cut before 5 MiB.
    const withLarge = requests.filter((records) => records.some((record) => (record.Data?.length ?? 0) > 500_000));
    expect(withLarge.length).toBeGreaterThanOrEqual(2);
    expect(withLarge.slice(0, -1).every((records) => size(records) > PUT_RECORDS_LIMIT_BYTES - KINESIS_RECORD_LIMIT_BYTES)).toBe(true);
    expect(summary).toMatchObject({ events: 1_017, records: 1_017, putRequests: requests.length });
    // With both names given, the stack is not looked up.
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it("puts the rest, and names an event whose payload alone is over a Kinesis record", async () => {
    // Prepare: 1.4 MB of text gzip cannot shrink under 1 MiB. CloudWatch Logs takes events of up to
    // 1 MB, whose payload always fits: this is the guard should that limit grow.
    let seed = 11;
    const bytes = Buffer.alloc(1_400_000);
    for (let index = 0; index < bytes.length; index++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      bytes[index] = 33 + ((seed >>> 16) % 94);
    }
    const huge = { ...logEvent(2, BEDROCK_STREAM, FROM + 2_000), message: bytes.toString("latin1") };
    pagesOf([[logEvent(1, BEDROCK_STREAM, FROM + 1_000), huge, logEvent(3, BEDROCK_STREAM, FROM + 3_000)]]);
    stage();
    const { kinesis, kinesisMock } = acceptingKinesis();

    // Act
    const summary = await replayStage({ stage: "prod", stream: "Invocations" }, { from: FROM, to: TO, dryRun: false }, clients(kinesis), sleepless);

    // Assess
    const put = kinesisMock.commandCalls(PutRecordsCommand).flatMap((call) => call.args[0].input.Records ?? []);
    expect(put.map((record) => payloadOf(record.Data as Uint8Array).payload.logEvents.map((event) => event.id))).toEqual([
      [logEvent(1, BEDROCK_STREAM, FROM + 1_000).eventId],
      [logEvent(3, BEDROCK_STREAM, FROM + 3_000).eventId],
    ]);
    expect(summary).toMatchObject({ events: 3, records: 2, tooLarge: [huge.eventId] });
  });

  it("with --dry-run reads and packs the events, and puts nothing", async () => {
    // Prepare
    pagesOf([[logEvent(1, BEDROCK_STREAM, FROM + 1_000), logEvent(2, BEDROCK_STREAM, FROM + 2_000)], [logEvent(3, OTHER_STREAM, FROM + 3_000)]]);
    stage({ InvocationLogGroup: LOG_GROUP, InvocationStream: "prod-bedrock-spend-Ingest-InvocationsABC" });
    const kinesis = new KinesisClient({ region: "eu-west-1" });
    const kinesisMock = mockClient(kinesis);

    // Act
    const summary = await replayStage({ stage: "prod" }, { from: FROM, to: TO, dryRun: true }, clients(kinesis), sleepless);

    // Assess
    expect(kinesisMock.calls()).toHaveLength(0);
    expect(logsMock.commandCalls(FilterLogEventsCommand)).toHaveLength(2);
    expect(summary).toMatchObject({ dryRun: true, stream: "prod-bedrock-spend-Ingest-InvocationsABC", events: 3, logStreams: 2, records: 2, putRequests: 0 });
    expect(summary.bytes).toBeGreaterThan(0);
  });

  it("finds the names in the Ingest stack's outputs, and says what to pass when they are not there", async () => {
    const kinesis = new KinesisClient({ region: "eu-west-1" });
    const replay = (target: ReplayTarget) => replayStage(target, { from: FROM, to: TO, dryRun: true }, clients(kinesis), sleepless);

    stage({ InvocationLogGroup: LOG_GROUP });
    await expect(replay({ stage: "prod" })).rejects.toThrow(
      new UsageError("prod-bedrock-spend-Ingest has no InvocationStream output: name the stage's stream with --stream"),
    );
    pagesOf([[]]);
    await expect(replay({ stage: "prod", stream: "Invocations" })).resolves.toMatchObject({
      logGroup: LOG_GROUP,
      stream: "Invocations",
      events: 0,
      records: 0,
    });

    cfnMock.reset();
    cfnMock
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error("Stack with id staging-bedrock-spend-Ingest does not exist"), { name: "ValidationError", $metadata: {} }));
    const missing = replay({ stage: "staging" });
    await expect(missing).rejects.toBeInstanceOf(UsageError);
    await expect(missing).rejects.toThrow(
      "--stage staging: no stack staging-bedrock-spend-Ingest in this account and Region (deploy with sst deploy --stage staging)",
    );

    logsMock.on(FilterLogEventsCommand).rejects(new ResourceNotFoundException({ message: "The specified log group does not exist.", $metadata: {} }));
    const noGroup = replay({ stage: "prod", logGroup: "/aws/bedrock/elsewhere", stream: "Invocations" });
    await expect(noGroup).rejects.toBeInstanceOf(UsageError);
    await expect(noGroup).rejects.toThrow(
      "FilterLogEvents: /aws/bedrock/elsewhere does not exist in this account and Region (--log-group): The specified log group does not exist.",
    );
  });

  it("refuses a window whose dedup markers the aggregates may no longer hold, before any AWS call", async () => {
    // Markers live at least 15 days after counting, and until 23 days after the end of the month.
    const now = Date.parse("2027-01-20T00:00:00Z");
    const replay = (from: string) =>
      replayStage({ stage: "prod" }, { from: Date.parse(from), to: Date.parse(from) + 3_600_000, dryRun: true }, clients(new KinesisClient({})), { now });
    const old = replay("2026-11-29T00:00:00Z");
    await expect(old).rejects.toBeInstanceOf(UsageError);
    await expect(old).rejects.toThrow(
      "--from 2026-11-29T00:00:00.000Z is too long ago: the aggregates may drop the dedup markers of invocations logged then from 2026-12-24T00:00:00.000Z on",
    );
    expect(cfnMock.calls()).toHaveLength(0);
    expect(logsMock.calls()).toHaveLength(0);

    stage({ InvocationLogGroup: LOG_GROUP, InvocationStream: "Invocations" });
    pagesOf([[]]);
    // December's invocations keep their markers until 23 January.
    await expect(replay("2026-12-25T00:00:00Z")).resolves.toMatchObject({ events: 0 });
  });

  it("says which permission the caller lacks: the action refused, or the key's behind it", async () => {
    // Prepare: CloudWatch Logs' answer to a caller without logs:FilterLogEvents, and Kinesis's to one
    // whose PutRecords needs kms:GenerateDataKey on the stream's key
    const logsRefusal = `User: arn:aws:sts::${ACCOUNT}:assumed-role/ops/me is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${LOG_GROUP}:log-stream: because no identity-based policy allows the logs:FilterLogEvents action`;
    const keyRefusal = `User: arn:aws:sts::${ACCOUNT}:assumed-role/ops/me is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:GenerateDataKey action`;
    stage();
    const kinesis = new KinesisClient({ region: "eu-west-1" });
    mockClient(kinesis)
      .on(PutRecordsCommand)
      .rejects(new KMSAccessDeniedException({ $metadata: { httpStatusCode: 400 }, message: keyRefusal }));
    const replay = () =>
      replayStage({ stage: "prod", stream: "Invocations", logGroup: LOG_GROUP }, { from: FROM, to: TO, dryRun: false }, clients(kinesis), sleepless).catch(
        (error: unknown) => error,
      );

    // Act
    logsMock.on(FilterLogEventsCommand).rejects(new AccessDeniedException({ $metadata: { httpStatusCode: 400 }, message: logsRefusal }));
    const noRead = await replay();
    logsMock.reset();
    pagesOf([[logEvent(1, BEDROCK_STREAM, FROM + 1_000)]]);
    const noKey = await replay();

    // Assess
    expect(noRead).toBeInstanceOf(CommandFailure);
    expect((noRead as Error).message).toBe(`the caller lacks logs:FilterLogEvents on ${LOG_GROUP} (AccessDeniedException: ${logsRefusal})`);
    expect(noKey).toBeInstanceOf(CommandFailure);
    expect((noKey as Error).message).toBe(
      `the caller lacks kms:GenerateDataKey (for kinesis:PutRecords) on Invocations (KMSAccessDeniedException: ${keyRefusal})`,
    );
  });
});

describe("bedrock-spend replay (usage)", () => {
  /** Runs the command in this process, as main does, capturing what it writes; none of these reaches AWS. */
  const replay = (args: string[]) => runStageCli(["replay", ...args]);

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("exits 2 naming the option for a missing --stage, a bad instant, an empty or reversed window and a window too old", async () => {
    vi.stubEnv("BEDROCK_SPEND_NOW", "2026-11-28T02:00:00Z");
    const window = ["--from", "2026-11-28T00:00:00Z", "--to", "2026-11-28T01:00:00Z"];
    const results = [];
    for (const args of [
      window,
      ["--stage", "prod", "--from", "yesterday", "--to", "2026-11-28T01:00:00Z"],
      ["--stage", "prod", "--from", "2026-11-28T00:00:00Z", "--to", "2026-11-28"],
      ["--stage", "prod", "--to", "2026-11-28T01:00:00Z"],
      ["--stage", "prod", "--from", "2026-11-28T01:00:00Z", "--to", "2026-11-28T01:00:00Z"],
      ["--stage", "prod", "--from", "2026-11-28T01:00:00+01:00", "--to", "2026-11-27T23:00:00Z"],
      ["--stage", "prod", "--from", "2026-09-01T00:00:00Z", "--to", "2026-09-02T00:00:00Z"],
      ["--stage", "prod", ...window, "--data-dir", ".bedrock-spend"],
      ["--stage", "prod", ...window, "--streams", "x"],
    ])
      results.push(await replay(args));
    expect(results.map(({ stderr }) => stderr.split("\n")[0])).toEqual([
      "bedrock-spend: error: replay: --stage is required (the deployed stage whose logs to replay)",
      'bedrock-spend: error: --from must be an ISO 8601 instant with a time zone, e.g. 2026-11-27T10:00:00Z; got "yesterday"',
      'bedrock-spend: error: --to must be an ISO 8601 instant with a time zone, e.g. 2026-11-27T10:00:00Z; got "2026-11-28"',
      "bedrock-spend: error: replay: --from is required",
      "bedrock-spend: error: --to 2026-11-28T01:00:00.000Z must be after --from 2026-11-28T01:00:00.000Z",
      "bedrock-spend: error: --to 2026-11-27T23:00:00.000Z must be after --from 2026-11-28T00:00:00.000Z",
      expect.stringMatching(/^bedrock-spend: error: --from 2026-09-01T00:00:00\.000Z is too long ago: /),
      "bedrock-spend: error: replay: --data-dir does not apply: the stage's functions price what is replayed",
      "bedrock-spend: error: replay: unknown option --streams (did you mean --stream?)",
    ]);
    for (const { code, stdout } of results) {
      expect(code).toBe(2);
      expect(stdout).toBe("");
    }
    // The command's own checks show its help; the parser's errors are one line
    for (const { stderr } of results.slice(0, -1)) expect(stderr).toContain("Usage: bedrock-spend replay --stage NAME --from ISO --to ISO");
    expect(results.at(-1)?.stderr.split("\n")).toHaveLength(2);
  });

  it("prints the summary of a dry run, as text or JSON, with the stage's own clients", async () => {
    // The class mocks answer every client the command builds; a dry run builds a Kinesis client and never calls it.
    vi.stubEnv("BEDROCK_SPEND_NOW", "2026-11-28T02:00:00Z");
    stage({ InvocationLogGroup: LOG_GROUP, InvocationStream: "prod-bedrock-spend-Ingest-InvocationsABC" });
    pagesOf([[logEvent(1, BEDROCK_STREAM, FROM + 1_000), logEvent(2, OTHER_STREAM, FROM + 2_000)]]);
    const args = ["--stage", "prod", "--region", "eu-west-1", "--from", "2026-11-27T23:00:00Z", "--to", "2026-11-28T01:00:00Z", "--dry-run"];

    const text = await replay(args);
    const json = await replay([...args, "--json"]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^dry run on stage prod: 2 events of 2026-11-27T23:00:00.000Z to 2026-11-28T01:00:00.000Z in \/bedrock-spend\/prod\/model-invocations \(2 log streams\) would be 2 records, \d+ bytes into prod-bedrock-spend-Ingest-InvocationsABC; nothing was put\n$/,
    );
    expect(text.stderr).toBe(
      "bedrock-spend: reading /bedrock-spend/prod/model-invocations from 2026-11-27T23:00:00.000Z to 2026-11-28T01:00:00.000Z (dry run: nothing is put)\n",
    );
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout)).toMatchObject({ stage: "prod", dryRun: true, events: 2, logStreams: 2, records: 2, putRequests: 0, tooLarge: [] });
  });

  it("calls the stage with the credentials and the Region of the --profile", async () => {
    // Prepare: the profile's keys are the only credentials the SDK can find
    vi.stubEnv("BEDROCK_SPEND_NOW", "2026-11-28T02:00:00Z");
    onlyTheOpsProfile();
    stage({ InvocationLogGroup: LOG_GROUP, InvocationStream: "prod-bedrock-spend-Ingest-InvocationsABC" });
    const signing: { accessKeyId: string; region: string }[] = [];
    stsMock.on(GetCallerIdentityCommand).callsFake(async (_input, getClient) => {
      signing.push(await signingOf(getClient()));
      return { UserId: "AROAEXAMPLE:ops", Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice` };
    });
    pagesOf([[logEvent(1, BEDROCK_STREAM, FROM + 1_000)]]);

    // Act
    const result = await replay([
      "--stage",
      "prod",
      "--profile",
      PROFILE.name,
      "--from",
      "2026-11-27T23:00:00Z",
      "--to",
      "2026-11-28T01:00:00Z",
      "--dry-run",
      "--json",
    ]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ stage: "prod", dryRun: true, events: 1 });
    expect(signing).toEqual([{ accessKeyId: PROFILE.accessKeyId, region: PROFILE.region }]);
    expect(process.env.AWS_PROFILE).toBe(PROFILE.name);
  });

  it("exits 2 for an empty --profile or --region, and for --profile without the --stage it requires", async () => {
    vi.stubEnv("BEDROCK_SPEND_NOW", "2026-11-28T02:00:00Z");
    const window = ["--from", "2026-11-28T00:00:00Z", "--to", "2026-11-28T01:00:00Z"];
    const results = [];
    for (const args of [
      ["--stage", "prod", "--profile", "", ...window],
      ["--stage", "prod", "--region", " ", ...window],
      ["--profile", "ops", ...window],
    ])
      results.push(await replay(args));
    expect(results.map(({ code, stderr }) => [code, stderr.split("\n")[0]])).toEqual([
      [2, "bedrock-spend: error: --profile must not be empty"],
      [2, "bedrock-spend: error: --region must not be empty"],
      [2, "bedrock-spend: error: replay: --stage is required (the deployed stage whose logs to replay)"],
    ]);
    for (const { stderr } of results) expect(stderr).toContain("  --profile P       the AWS profile to call it with");
    expect([...cfnMock.calls(), ...logsMock.calls(), ...stsMock.calls()]).toHaveLength(0);
  });

  it("exits 2 as a process too, and is listed in the main help", async () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const child = spawn(process.execPath, [...cliCommand().args, "replay", "--from", "x"], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...cliCommand().env },
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toBe("bedrock-spend: error: replay: --stage is required (the deployed stage whose logs to replay)");
    expect(MAIN_HELP).toContain("replay --stage NAME     put a deployed stage's invocation logs of --from..--to into its stream");
  });
});
