/**
 * `bedrock-spend replay --stage NAME --from ISO --to ISO`: the backfill of the lake. Firehose reads
 * the invocation stream from LATEST, so what Bedrock logged before the delivery stream existed (a
 * first deploy, between the Ingest and Lake stacks) or while it was replaced never reaches the
 * lake, though the aggregate function (from TRIM_HORIZON) counted it. The replay reads the stage's
 * invocation log group over [from, to) with FilterLogEvents, packs the events as a CloudWatch Logs
 * subscription filter does (gzip JSON payloads, one log stream each) and puts them into the
 * stage's stream with PutRecords. Both consumers read them again: the transform delivers them to
 * the lake (at least once: an invocation the lake already had gets a second row, which exact
 * queries drop by request_id and the dashboard views do not), and the aggregate function drops
 * every invocation whose dedup marker it still holds, so counts are not doubled.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { CloudWatchLogsClient, type FilterLogEventsCommandInput, paginateFilterLogEvents } from "@aws-sdk/client-cloudwatch-logs";
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { encodeSubscriptionPayload, parseInstant, type SubscriptionLogEvent, type SubscriptionPayload, utcDayOf, utcMonthOf } from "@bedrock-spend/core";
import { markerExpiry } from "@bedrock-spend/store";
import { parseCommandArgs } from "../args";
import { CLOCK_ENV, clockFromEnv } from "../clock";
import { awsCallFailure, type DeploymentTarget, STAGE_OPTIONS, stageOf, stageStackName, stageStackOutputs } from "../deployment";
import { CommandFailure, UsageError } from "../errors";

export const REPLAY_HELP = `Usage: bedrock-spend replay --stage NAME --from ISO --to ISO [--region R] [--profile P] [--log-group NAME] [--stream NAME] [--dry-run] [--json]

Puts the invocation log events a deployed stage logged in [--from, --to) into its Kinesis stream
again, packed as its CloudWatch Logs subscription packs them. The backfill of the lake: Firehose
reads the stream from LATEST, so invocations logged before its delivery stream existed (the first
deploy) or while it was replaced are in the aggregates but not in the lake. The aggregates do not
count them twice (each request id is counted once). The lake gets a row for every event replayed,
a second one for an invocation it already had, which the dashboard views would count: replay
only the gap (up to when the delivery stream became active).

Options:
  --stage NAME      the deployed stage (its Ingest stack: ${stageStackName("NAME", "Ingest")})
  --from ISO        first instant, included (ISO 8601 with a zone, e.g. 2026-11-27T10:00:00Z)
  --to ISO          end instant, excluded
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
  --log-group NAME  the invocation log group (default: the Ingest stack's InvocationLogGroup output)
  --stream NAME     the stream, by name or ARN (default: the Ingest stack's InvocationStream output)
  --dry-run         read and pack the events, put nothing
  --json            print the summary as JSON
  -h, --help        show this help

Needs logs:FilterLogEvents on the log group, kinesis:PutRecords on the stream (and
kms:GenerateDataKey on its key if that is a customer-managed key) and
cloudformation:DescribeStacks on the Ingest stack unless --log-group and --stream are given.
A --from whose invocations may have lost their dedup markers (they would be counted again) is
refused: it must be less than 14 days ago, or in a month that ended less than 22 days ago (by the
machine's clock, or ${CLOCK_ENV}). Replaying the same window again changes no count.
With --json: {"stage","logGroup","stream","from","to","dryRun","events","logStreams","records",
"bytes","putRequests","retriedEntries","tooLarge"}. Exit status: 0, 1 when events could not be
put (run it again: a replay is harmless), 2 for usage errors.`;

/** The largest Kinesis record: data and partition key together (1 MiB). */
export const KINESIS_RECORD_LIMIT_BYTES = 1024 * 1024;
/** PutRecords takes at most 500 records a request... */
export const PUT_RECORDS_MAX_ENTRIES = 500;
/** ...and 5 MiB of data and partition keys. */
export const PUT_RECORDS_LIMIT_BYTES = 5 * 1024 * 1024;
/**
 * The largest payload JSON (before gzip) the replay packs several events into. gzip can grow a
 * text by at most ~0.03% plus 18 bytes, so a payload this size is still under the record limit
 * with its partition key. A single event larger than this travels alone.
 */
export const MAX_PAYLOAD_JSON_BYTES = 1_000_000;
/** The subscription filter name replayed payloads carry, so that they can be told from live ones. */
export const REPLAY_SUBSCRIPTION_FILTER = "bedrock-spend-replay";
/**
 * Days the aggregates keep a dedup marker at the least: the smallest DEDUP_RETENTION_DAYS the
 * aggregate function accepts (functions/src/lib/env.ts).
 */
export const MIN_DEDUP_RETENTION_DAYS = 15;
/** Room left between the replay and a marker's expiry, for a consumer that lags behind the stream. */
const MARKER_MARGIN_MS = 86_400_000;

/** A deployed stage to replay, with the names that override its Ingest stack's outputs. */
export interface ReplayTarget extends DeploymentTarget {
  logGroup?: string;
  stream?: string;
}

/** The window [from, to) (epoch ms) and whether to put anything. */
export interface ReplayRequest {
  from: number;
  to: number;
  dryRun: boolean;
}

/** The clients the replay uses (injectable for tests). */
export interface ReplayClients {
  logs: CloudWatchLogsClient;
  kinesis: KinesisClient;
  cloudFormation: CloudFormationClient;
  sts: STSClient;
}

/** How the replay waits, and what it says while it runs. */
export interface ReplayOptions {
  /** The current instant (epoch ms), for the dedup markers' lifetime. */
  now: number;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter of the backoff, in [0, 1). Default Math.random. */
  random?: () => number;
  /** PutRecords requests for one batch, the first included, before its failed entries are given up. Default 10. */
  maxPutAttempts?: number;
  onProgress?: (message: string) => void;
}

/** What a replay read and put (`replay --json`). */
export interface ReplaySummary {
  stage: string;
  logGroup: string;
  stream: string;
  /** The window, ISO 8601 UTC. */
  from: string;
  to: string;
  dryRun: boolean;
  /** Log events read. */
  events: number;
  /** Distinct log streams they came from. */
  logStreams: number;
  /** Kinesis records put (would be put, with --dry-run). */
  records: number;
  /** Their data bytes (gzipped payloads). */
  bytes: number;
  /** PutRecords requests sent, retries included. */
  putRequests: number;
  /** Entries sent again after a partial failure. */
  retriedEntries: number;
  /** Ids of events whose payload alone exceeds a Kinesis record: not put. */
  tooLarge: string[];
}

/** A replay that could not finish: the AWS call, the resource and what AWS answered. */
export class ReplayError extends CommandFailure {
  readonly action: string;
  readonly resource: string;
  /** AWS's error name or a PutRecords entry's error code. */
  readonly code: string;
  constructor(action: string, resource: string, code: string, message: string, options?: ErrorOptions) {
    super(`${action} on ${resource}: ${message}`, options);
    this.name = "ReplayError";
    this.action = action;
    this.resource = resource;
    this.code = code;
  }
}

/** The clients of a target, with the SDK's credential chain; the SDK's retries absorb throttling. */
export function replayClients(target: DeploymentTarget): ReplayClients {
  const region = target.region ? { region: target.region } : {};
  return {
    // FilterLogEvents has a low per-account rate: adaptive retries slow down when throttled.
    logs: new CloudWatchLogsClient({ ...region, maxAttempts: 10, retryMode: "adaptive" }),
    kinesis: new KinesisClient({ ...region, maxAttempts: 10, retryMode: "adaptive" }),
    cloudFormation: new CloudFormationClient(region),
    sts: new STSClient(region),
  };
}

/**
 * The instant (epoch ms) until which the aggregates surely hold the dedup marker of an invocation
 * logged at `eventTime`: it is written when the invocation is counted (at `eventTime` or later)
 * and lives the retention, and never less than until its month is settled (markerExpiry).
 */
export function markersKeptUntil(eventTime: number): number {
  const month = utcMonthOf(eventTime);
  return markerExpiry({ year: month.slice(0, 4), month: month.slice(5, 7) }, Math.floor(eventTime / 1000), MIN_DEDUP_RETENTION_DAYS * 86_400) * 1000;
}

/**
 * Checks a window before anything is read.
 * @throws UsageError naming --from or --to
 */
export function checkReplayWindow(request: Pick<ReplayRequest, "from" | "to">, now: number): void {
  if (request.from >= request.to)
    throw new UsageError(`--to ${new Date(request.to).toISOString()} must be after --from ${new Date(request.from).toISOString()}`, { help: REPLAY_HELP });
  const keptUntil = markersKeptUntil(request.from);
  if (keptUntil <= now + MARKER_MARGIN_MS)
    throw new UsageError(
      `--from ${new Date(request.from).toISOString()} is too long ago: the aggregates may drop the dedup markers of invocations logged then from ${new Date(keptUntil).toISOString()} on, and an invocation replayed after its marker is gone is counted twice; replay a later window`,
      { help: REPLAY_HELP },
    );
}

/** An event to pack: a FilterLogEvents event with the fields a subscription payload carries. */
export interface ReplayEvent {
  logStream: string;
  event: SubscriptionLogEvent;
}

/** A packed payload, as a PutRecords entry and what it holds. */
export interface PackedRecord {
  entry: PutRecordsRequestEntry & { Data: Uint8Array; PartitionKey: string };
  /** Data and partition key bytes: what counts toward the record and request limits. */
  size: number;
  events: SubscriptionLogEvent[];
}

/** An open payload of one log stream. */
interface OpenPayload {
  day: string;
  events: SubscriptionLogEvent[];
  /** Bytes of the payload's JSON with these events. */
  bytes: number;
}

const utf8Length = (text: string) => Buffer.byteLength(text, "utf8");

/**
 * Packs events into subscription payloads as a subscription filter does: one log stream per
 * payload, events in the order read. A payload is closed before its JSON would pass
 * `maxJsonBytes` and at a UTC day change: the transform files a record's rows under the day of
 * its first row, so a payload that straddled midnight would put rows under the wrong day.
 */
export class SubscriptionPacker {
  private readonly open = new Map<string, OpenPayload>();

  constructor(
    private readonly envelope: Pick<SubscriptionPayload, "owner" | "logGroup" | "subscriptionFilters">,
    private readonly maxJsonBytes: number,
  ) {}

  private payload(logStream: string, logEvents: SubscriptionLogEvent[]): SubscriptionPayload {
    return {
      messageType: "DATA_MESSAGE",
      owner: this.envelope.owner,
      logGroup: this.envelope.logGroup,
      logStream,
      subscriptionFilters: this.envelope.subscriptionFilters,
      logEvents,
    };
  }

  /** Adds an event; returns the payloads it closed. */
  add({ logStream, event }: ReplayEvent): PackedRecord[] {
    const closed: PackedRecord[] = [];
    const eventBytes = utf8Length(JSON.stringify(event));
    const day = utcDayOf(event.timestamp);
    let open = this.open.get(logStream);
    // The payload's JSON is its envelope, then its events separated by commas.
    if (open && (open.day !== day || open.bytes + 1 + eventBytes > this.maxJsonBytes)) {
      closed.push(this.close(logStream, open));
      open = undefined;
    }
    if (open) {
      open.events.push(event);
      open.bytes += 1 + eventBytes;
    } else {
      this.open.set(logStream, { day, events: [event], bytes: utf8Length(JSON.stringify(this.payload(logStream, []))) + eventBytes });
    }
    return closed;
  }

  /** Closes every open payload. */
  flush(): PackedRecord[] {
    return [...this.open].map(([logStream, open]) => this.close(logStream, open));
  }

  private close(logStream: string, open: OpenPayload): PackedRecord {
    this.open.delete(logStream);
    const data = encodeSubscriptionPayload(this.payload(logStream, open.events));
    // The first event's id: distinct per payload, and hashed by Kinesis over the shards as a
    // random key would be (the subscription's distribution is Random).
    const partitionKey = open.events[0]?.id as string;
    return { entry: { Data: data, PartitionKey: partitionKey }, size: data.length + utf8Length(partitionKey), events: open.events };
  }
}

/** AWS SDK errors carry `$metadata`; anything else is a bug and goes up as it is. */
function isAwsError(error: unknown): error is Error & { $metadata: unknown } {
  return error instanceof Error && "$metadata" in error;
}

/**
 * Turns an AWS error of `iamAction` (e.g. `logs:FilterLogEvents`) into what the CLI reports: a usage
 * error for a name that does not exist, what the caller lacks (awsCallFailure), a ReplayError otherwise.
 */
export function replayFailure(iamAction: string, resource: string, option: string, error: unknown): unknown {
  if (!isAwsError(error)) return error;
  const action = iamAction.slice(iamAction.indexOf(":") + 1);
  if (error.name === "ResourceNotFoundException")
    return new UsageError(`${action}: ${resource} does not exist in this account and Region (${option}): ${error.message}`, { cause: error });
  const lacking = awsCallFailure(iamAction, resource, error);
  if (lacking !== error) return lacking;
  return new ReplayError(action, resource, error.name, `${error.name}: ${error.message}`, { cause: error });
}

/** The stream as PutRecords names it: by ARN or by name. */
function streamOf(stream: string): { StreamARN: string } | { StreamName: string } {
  return stream.startsWith("arn:") ? { StreamARN: stream } : { StreamName: stream };
}

/** The log group and the stream: the ones given, else the Ingest stack's outputs. */
async function resolveNames(target: ReplayTarget, clients: ReplayClients): Promise<{ logGroup: string; stream: string }> {
  if (target.logGroup !== undefined && target.stream !== undefined) return { logGroup: target.logGroup, stream: target.stream };
  const outputs = await stageStackOutputs(target, "Ingest", clients.cloudFormation);
  const stackName = stageStackName(target.stage, "Ingest");
  const logGroup = target.logGroup ?? outputs.get("InvocationLogGroup");
  if (logGroup === undefined) throw new UsageError(`${stackName} has no InvocationLogGroup output: name the invocation log group with --log-group`);
  const stream = target.stream ?? outputs.get("InvocationStream");
  if (stream === undefined) throw new UsageError(`${stackName} has no InvocationStream output: name the stage's stream with --stream`);
  return { logGroup, stream };
}

/** The log events of [from, to), page after page. */
async function* logEventsOf(logs: CloudWatchLogsClient, logGroup: string, request: ReplayRequest): AsyncGenerator<ReplayEvent> {
  // FilterLogEvents' endTime is inclusive: the window's end is not.
  const input: FilterLogEventsCommandInput = { logGroupName: logGroup, startTime: request.from, endTime: request.to - 1 };
  try {
    for await (const page of paginateFilterLogEvents({ client: logs }, input)) {
      for (const event of page.events ?? []) {
        const { logStreamName, timestamp, message, eventId } = event;
        if (logStreamName === undefined || timestamp === undefined || message === undefined || eventId === undefined)
          throw new ReplayError(
            "FilterLogEvents",
            logGroup,
            "MalformedEvent",
            `an event lacks logStreamName, timestamp, message or eventId: ${JSON.stringify({ logStreamName, timestamp, eventId })}`,
          );
        yield { logStream: logStreamName, event: { id: eventId, timestamp, message } };
      }
    }
  } catch (error) {
    throw replayFailure("logs:FilterLogEvents", logGroup, "--log-group", error);
  }
}

/** Puts records in PutRecords batches; retries a partial failure's failed entries, only those, with backoff. */
export class RecordPutter {
  private batch: PackedRecord[] = [];
  private batchBytes = 0;
  readonly counts = { records: 0, bytes: 0, events: 0, putRequests: 0, retriedEntries: 0 };

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly stream: string,
    private readonly dryRun: boolean,
    private readonly options: Required<Pick<ReplayOptions, "sleep" | "random" | "maxPutAttempts">>,
  ) {}

  async add(record: PackedRecord): Promise<void> {
    if (this.batch.length === PUT_RECORDS_MAX_ENTRIES || this.batchBytes + record.size > PUT_RECORDS_LIMIT_BYTES) await this.flush();
    this.batch.push(record);
    this.batchBytes += record.size;
  }

  async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0) return;
    if (!this.dryRun) await this.put(batch);
    for (const record of batch) {
      this.counts.records++;
      this.counts.bytes += record.entry.Data.length;
      this.counts.events += record.events.length;
    }
  }

  private async put(batch: PackedRecord[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      let response: PutRecordsCommandOutput;
      try {
        this.counts.putRequests++;
        response = await this.kinesis.send(new PutRecordsCommand({ ...streamOf(this.stream), Records: pending.map((record) => record.entry) }));
      } catch (error) {
        throw replayFailure("kinesis:PutRecords", this.stream, "--stream", error);
      }
      if (!response.FailedRecordCount) return;
      // The answer lists one result per entry, in order: the failed ones carry an ErrorCode.
      const results = response.Records ?? [];
      const failed = pending.filter((_, index) => results[index]?.ErrorCode !== undefined || results[index] === undefined);
      if (attempt >= this.options.maxPutAttempts) {
        const first = results.find((result) => result.ErrorCode !== undefined);
        throw new ReplayError(
          "PutRecords",
          this.stream,
          first?.ErrorCode ?? "Unknown",
          `${failed.length} of ${batch.length} records still failed after ${attempt} requests (${first?.ErrorCode}: ${first?.ErrorMessage}); ${this.counts.events} events were put before this batch: run the replay again (what was put is not counted twice)`,
        );
      }
      this.counts.retriedEntries += failed.length;
      // Full jitter: the entries failed on a shard's write rate, which a spread-out retry relieves.
      await this.options.sleep(Math.floor(this.options.random() * Math.min(5_000, 100 * 2 ** (attempt - 1))));
      pending = failed;
    }
  }
}

/**
 * Replays a stage's invocation log events of [from, to) into its stream (reads only, with
 * `dryRun`), and returns what it read and put.
 * @throws UsageError for a window too old to replay safely, a stage or a name that does not exist
 * @throws ReplayError when AWS refuses a call, or entries still fail after the retries
 */
export async function replayStage(target: ReplayTarget, request: ReplayRequest, clients: ReplayClients, options: ReplayOptions): Promise<ReplaySummary> {
  checkReplayWindow(request, options.now);
  const { logGroup, stream } = await resolveNames(target, clients);
  const identity = await clients.sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
    throw awsCallFailure("sts:GetCallerIdentity", "STS", error);
  });
  const packer = new SubscriptionPacker({ owner: identity.Account ?? "", logGroup, subscriptionFilters: [REPLAY_SUBSCRIPTION_FILTER] }, MAX_PAYLOAD_JSON_BYTES);
  const putter = new RecordPutter(clients.kinesis, stream, request.dryRun, {
    sleep: options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    maxPutAttempts: options.maxPutAttempts ?? 10,
  });
  const from = new Date(request.from).toISOString();
  const to = new Date(request.to).toISOString();
  options.onProgress?.(`reading ${logGroup} from ${from} to ${to}${request.dryRun ? " (dry run: nothing is put)" : `, putting into ${stream}`}`);

  const logStreams = new Set<string>();
  const tooLarge: string[] = [];
  let events = 0;
  let reported = 0;
  const place = async (records: PackedRecord[]) => {
    for (const record of records) {
      if (record.size > KINESIS_RECORD_LIMIT_BYTES) tooLarge.push(...record.events.map((event) => event.id));
      else await putter.add(record);
    }
  };
  for await (const replayed of logEventsOf(clients.logs, logGroup, request)) {
    events++;
    logStreams.add(replayed.logStream);
    await place(packer.add(replayed));
    if (putter.counts.records - reported >= 1_000) {
      reported = putter.counts.records;
      options.onProgress?.(`${events} events read, ${putter.counts.records} records ${request.dryRun ? "packed" : "put"}`);
    }
  }
  await place(packer.flush());
  await putter.flush();
  const { records, bytes, putRequests, retriedEntries } = putter.counts;
  return {
    stage: target.stage,
    logGroup,
    stream,
    from,
    to,
    dryRun: request.dryRun,
    events,
    logStreams: logStreams.size,
    records,
    bytes,
    putRequests,
    retriedEntries,
    tooLarge,
  };
}

/** An ISO 8601 instant option. */
function instantOption(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`replay: --${name} is required`, { help: REPLAY_HELP });
  const instant = parseInstant(value.trim());
  if (instant === undefined)
    throw new UsageError(`--${name} must be an ISO 8601 instant with a time zone, e.g. 2026-11-27T10:00:00Z; got "${value}"`, { help: REPLAY_HELP });
  return instant;
}

function summaryText(summary: ReplaySummary): string {
  const streams = `${summary.logStreams} log stream${summary.logStreams === 1 ? "" : "s"}`;
  const window = `${summary.from} to ${summary.to}`;
  if (summary.dryRun)
    return `dry run on stage ${summary.stage}: ${summary.events} events of ${window} in ${summary.logGroup} (${streams}) would be ${summary.records} records, ${summary.bytes} bytes into ${summary.stream}; nothing was put\n`;
  return `stage ${summary.stage}: ${summary.events} events of ${window} from ${summary.logGroup} (${streams}) put into ${summary.stream}: ${summary.records} records, ${summary.bytes} bytes, ${summary.putRequests} PutRecords requests (${summary.retriedEntries} entries retried)\n`;
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...STAGE_OPTIONS,
      from: { type: "string" },
      to: { type: "string" },
      "log-group": { type: "string" },
      stream: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    REPLAY_HELP,
  );
  if (values.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`replay: unexpected argument "${positionals[0]}"`, { help: REPLAY_HELP });
  for (const option of ["prices", "prices-only", "data-dir"] as const)
    if (values[option] !== undefined)
      throw new UsageError(`replay: --${option} does not apply: the stage's functions price what is replayed`, { help: REPLAY_HELP });
  if (values.stage === undefined) throw new UsageError("replay: --stage is required (the deployed stage whose logs to replay)", { help: REPLAY_HELP });
  const deployed = stageOf(values, REPLAY_HELP) as DeploymentTarget;
  for (const option of ["log-group", "stream"] as const)
    if (values[option]?.trim() === "") throw new UsageError(`--${option} must not be empty`, { help: REPLAY_HELP });
  const from = instantOption("from", values.from);
  const to = instantOption("to", values.to);
  const now = clockFromEnv()();
  const request = { from, to, dryRun: values["dry-run"] === true };

  const target: ReplayTarget = {
    ...deployed,
    ...(values["log-group"] ? { logGroup: values["log-group"].trim() } : {}),
    ...(values.stream ? { stream: values.stream.trim() } : {}),
  };
  const json = values.json === true;
  const summary = await replayStage(target, request, replayClients(target), {
    now,
    onProgress: (message) => {
      if (!json) process.stderr.write(`bedrock-spend: ${message}\n`);
    },
  });
  process.stdout.write(json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
  if (summary.tooLarge.length > 0) {
    process.stderr.write(
      `bedrock-spend: error: ${summary.tooLarge.length} events are too large for a Kinesis record even alone, and were not put: ${summary.tooLarge.slice(0, 10).join(", ")}${summary.tooLarge.length > 10 ? ", ..." : ""}\n`,
    );
    return 1;
  }
  return 0;
}
