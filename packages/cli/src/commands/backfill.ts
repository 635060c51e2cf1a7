/**
 * `bedrock-spend backfill s3://BUCKET/PREFIX|DIR [--from DAY] [--to DAY]`: Bedrock's own S3
 * invocation logs of past hours into the data dir's aggregates and lake, each invocation exactly
 * once, resumably (docs/backfill.md). Open months go through the pipeline's stream like live
 * traffic; settled months are counted against the lake, a day at a time.
 */
import { createHash } from "node:crypto";
import { AthenaClient } from "@aws-sdk/client-athena";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  BedrockProfileSource,
  type DayRange,
  DirectoryInvocationLogSource,
  FileDeadLetterQueue,
  type InvocationLogSource,
  parseS3Url,
  S3InvocationLogSource,
  SqsDeadLetterQueue,
} from "@bedrock-spend/adapters";
import { CachingProfileResolver, formatSource, formatUsd, type InvalidOutcome, utcMonthOf } from "@bedrock-spend/core";
import { type BackfillProgress, type BackfillResult, runBackfill } from "@bedrock-spend/pipeline";
import { BackfillStore, countBackfillDeltas, countedRequestIds, pricerWithRegistry, readRegistry } from "@bedrock-spend/store";
import { parseCommandArgs, priceFileOf } from "../args";
import { clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { awsCallFailure, STAGE_OPTIONS, stageOf } from "../deployment";
import { strictVerdict, UsageError } from "../errors";
import { asCliError, dataDirOf, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf } from "../local";
import { dataDirLayout, LOCAL_TABLE_NAME, LocalBackfillLake, type PackStats, subscriptionPayloadsOf } from "../local-mode";
import { openLocalPipeline } from "../pipeline-sink";
import { formatDuration, Progress, type ProgressMode } from "../progress";
import { StageBackfillLake, stageBackfillResources, stageLiveSink } from "../stage-backfill";

export const BACKFILL_HELP = `Usage: bedrock-spend backfill s3://BUCKET/PREFIX|DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD] [options]
       bedrock-spend backfill s3://BUCKET/PREFIX|DIR --stage NAME [--region R] [--profile P] [options]

Counts the invocation logs Bedrock delivered to S3 before bedrock-spend was deployed (or while it
was not) into the data dir, or a deployed stage: the aggregates (spend, budgets) and the lake. Reads Bedrock's layout,
AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/*.json.gz, from the bucket or
from a local copy of it (DIR), listing only the hours of the days in range (UTC, both included).
The source may name any level of the layout: the prefix above AWSLogs/, an account, a Region.

Each invocation is counted exactly once, including the ones live traffic or an earlier backfill
already counted: a month still open goes through the pipeline's stream, whose consumers count
each request id once; a settled month (22 days after its end) is counted against the lake, which
holds every invocation counted. Every hour is checkpointed in the table: run the same command
again after an interruption (Ctrl-C stops after the current hour) and it continues where it
stopped; a finished backfill run again reads nothing.

Options:
  --from YYYY-MM-DD first UTC day, included (default: the oldest in the source)
  --to YYYY-MM-DD   last UTC day, included (default: the newest)
  --prices FILE     price file laid over the shipped catalog
  --prices-only FILE  price file used as the whole catalog
  --profiles FILE   application-inference-profile map
  --aliases FILE    metadata key aliases
  --stage NAME      the deployed stage to count into (its stacks' outputs name the table, stream,
                    lake bucket, Glue table and Athena workgroup); give the prices, profiles and
                    aliases the stage was deployed with
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the named profile of the AWS config files (default: AWS_PROFILE or the SDK's chain)
  --max-hours N     read at most N hours in this run, then stop with everything checkpointed (a
                    long backfill in bounded runs: run it again to go on)
  --max-warnings N  invalid records described on stderr (default 20)
  --strict          exit 3 when records this run read were invalid (quarantined) or counted
                    unpriced (after the summary)
${LOCAL_OPTIONS_HELP}

S3 access uses the AWS SDK's credentials and Region (AWS_PROFILE, AWS_REGION, ...; AWS_ENDPOINT_URL_S3
for an S3-compatible server) and needs s3:ListBucket on the bucket and s3:GetObject on its keys.
With --stage it also needs: cloudformation:DescribeStacks on the stage's stacks, sts:GetCallerIdentity,
dynamodb:Query, GetItem, BatchGetItem, PutItem, BatchWriteItem, UpdateItem on the table;
kinesis:PutRecords on the stream (and kms:GenerateDataKey on its key); athena:StartQueryExecution,
GetQueryExecution, GetQueryResults on the workgroup, glue:GetTable, GetPartitions on the database,
s3:GetObject on the lake and read-write on the Athena results bucket; s3:PutObject and GetObject
under the lake bucket's usage/ prefix; sqs:SendMessage on the dead-letter queue. Open months put
on the stage's stream are counted by its consumers after the command ends (within seconds).
Shows a progress bar on a terminal (hours, objects, records/s, ETA), plain lines otherwise. The
summary adds up: read = counted + already counted + quarantined + dropped (+ not counted, when
the pipeline gave a batch up). Exit status: 0 when every hour in range was done, 1 when
interrupted (or stopped by --max-hours) or when the pipeline could not count everything, 2 for
usage errors and a source that cannot be read.`;

/** A day option. */
function dayOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const day = value.trim();
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== day)
    throw new UsageError(`--${name} must be a UTC day, YYYY-MM-DD, got "${value}"`, { help: BACKFILL_HELP });
  return day;
}

/** An S3 client; a custom endpoint (an S3-compatible server) is addressed by path, as such servers expect. */
function s3ClientOf(config: { region?: string }): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({ ...config, followRegionRedirects: true, ...(endpoint ? { forcePathStyle: true } : {}) });
}

/** The source of a positional: `s3://...` or a directory. */
export function logSourceOf(location: string): InvocationLogSource {
  if (location.startsWith("s3://")) {
    const { bucket, prefix } = parseS3Url(location);
    return new S3InvocationLogSource({ client: s3ClientOf({}), bucket, prefix });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new UsageError(`backfill reads s3://BUCKET/PREFIX or a local directory, got "${location}"`);
  return new DirectoryInvocationLogSource({ directory: location });
}

/** The id of a source in the checkpoints: its description hashed (the same source is the same backfill). */
export function sourceIdOf(description: string): string {
  return createHash("sha256").update(description).digest("hex").slice(0, 16);
}

/** What `backfill --json` prints. */
export interface BackfillSummary {
  source: string;
  sourceId: string;
  dataDir: string;
  from: string | null;
  to: string | null;
  hours: number;
  hoursRead: number;
  hoursResumed: number;
  objects: number;
  bytes: number;
  read: number;
  counted: number;
  alreadyCounted: number;
  quarantined: number;
  dropped: number;
  notCounted: number;
  /** Of `counted`: through the stream (open months), and into the lake and aggregates directly (settled months). */
  countedLive: number;
  countedSettled: number;
  unpriced: number;
  costUsd: string;
  applications: number;
  applicationsResumed: number;
  itemsUpdated: number;
  interrupted: boolean;
  /** Whether the open months' invocations were seen counted (locally), or left to a stage's consumers. */
  liveVerified: boolean;
  months: string[];
  currentMonth: string;
  seconds: number;
  recordsPerSecond: number;
}

function summaryOf(result: BackfillResult, dataDir: string, seconds: number, currentMonth: string): BackfillSummary {
  const { tally } = result;
  return {
    source: result.source,
    sourceId: result.sourceId,
    dataDir,
    from: result.range.from ?? null,
    to: result.range.to ?? null,
    hours: result.hours,
    hoursRead: result.hoursRead,
    hoursResumed: result.hoursResumed,
    objects: tally.objects,
    bytes: tally.bytes,
    read: tally.read,
    counted: tally.counted,
    alreadyCounted: tally.alreadyCounted,
    quarantined: tally.quarantined,
    dropped: tally.dropped,
    notCounted: result.notCounted,
    countedLive: result.countedLive,
    countedSettled: result.countedSettled,
    unpriced: tally.unpriced,
    costUsd: formatUsd(tally.costPico),
    applications: result.applications,
    applicationsResumed: result.applicationsResumed,
    itemsUpdated: result.itemsUpdated,
    interrupted: result.interrupted,
    liveVerified: result.liveVerified,
    months: result.months,
    currentMonth,
    seconds,
    recordsPerSecond: seconds > 0 ? Math.round(tally.read / seconds) : 0,
  };
}

/** The readable summary. */
export function formatBackfillSummary(summary: BackfillSummary, quarantine: string): string {
  const width = Math.max(
    ...[summary.counted, summary.alreadyCounted, summary.quarantined, summary.dropped, summary.notCounted].map((value) => grouped(value).length),
  );
  const n = (value: number) => grouped(value).padStart(width);
  const range = `${summary.from ?? "the oldest day"} to ${summary.to ?? "the newest"}`;
  const lines = [
    `backfill of ${summary.source}, ${range}, into ${summary.dataDir}: ${grouped(summary.hoursRead)} of ${grouped(summary.hours)} hours read (${grouped(summary.hoursResumed)} done before), ${grouped(summary.objects)} objects, ${grouped(summary.read)} records in ${summary.seconds} s (${grouped(summary.recordsPerSecond)} records/s):`,
    `  counted          ${n(summary.counted)}  new invocations, ${summary.costUsd} USD${summary.unpriced > 0 ? ` (${grouped(summary.unpriced)} unpriced: tokens counted, no cost)` : ""}: ${grouped(summary.countedSettled)} of settled months, ${grouped(summary.countedLive)} through the stream`,
    `  already counted  ${n(summary.alreadyCounted)}  counted before (live traffic, an earlier backfill) or repeated in the source`,
    `  quarantined      ${n(summary.quarantined)}  invalid records, kept with the reason in ${quarantine}`,
    `  dropped          ${n(summary.dropped)}  control messages and permission-check lines`,
  ];
  if (!summary.liveVerified && summary.countedLive > 0)
    lines.push(
      `the ${grouped(summary.countedLive)} invocations of open months are on the stage's stream: its consumers count them (spend shows them within seconds)`,
    );
  if (summary.notCounted > 0) lines.push(`  NOT COUNTED      ${n(summary.notCounted)}  the pipeline gave their batches up (see quarantine/)`);
  if (summary.months.length > 0) {
    const latest = summary.months[summary.months.length - 1] as string;
    const note = summary.months.includes(summary.currentMonth) ? "" : ` (the current month is ${summary.currentMonth}: spend --month ${latest})`;
    lines.push(`invocations of ${summary.months.join(", ")}${note}`);
  }
  if (summary.interrupted) lines.push("interrupted: run the same command again to continue where it stopped");
  return `${lines.join("\n")}\n`;
}

/** The progress line's text: hours, the hour being read and its objects. */
function progressPhase(progress: BackfillProgress, elapsedSeconds: number): string {
  const read = progress.hoursDone - progress.hoursResumed;
  const left = progress.hours - progress.hoursDone;
  const eta = read > 0 && left > 0 ? `, ETA ${formatDuration((elapsedSeconds / read) * left)}` : "";
  const hour = /^\d{12}|\//.test(progress.phase) ? `${progress.phase} (object ${progress.hourObjectsDone}/${progress.hourObjects})` : progress.phase;
  return `hour ${grouped(progress.hoursDone)}/${grouped(progress.hours)}, ${grouped(progress.objects)} objects${eta}: ${hour}`;
}

export async function backfillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      from: { type: "string" },
      to: { type: "string" },
      profiles: { type: "string" },
      aliases: { type: "string" },
      "max-warnings": { type: "string" },
      "max-hours": { type: "string" },
      strict: { type: "boolean" },
      ...STAGE_OPTIONS,
    },
    BACKFILL_HELP,
  );
  if (values.help) {
    process.stdout.write(`${BACKFILL_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? "backfill: name the logs, s3://BUCKET/PREFIX or a directory" : `backfill: one source at a time, got ${positionals.length}`,
      { help: BACKFILL_HELP },
    );
  const range: DayRange = {};
  const from = dayOption("from", values.from);
  const to = dayOption("to", values.to);
  if (from !== undefined) range.from = from;
  if (to !== undefined) range.to = to;
  if (from !== undefined && to !== undefined && from > to) throw new UsageError(`--from ${from} is after --to ${to}`, { help: BACKFILL_HELP });
  const maxWarnings = values["max-warnings"] === undefined ? 20 : Number(values["max-warnings"]);
  if (!Number.isInteger(maxWarnings) || maxWarnings < 0) throw new UsageError(`--max-warnings must be a non-negative integer, got "${values["max-warnings"]}"`);
  const maxHours = values["max-hours"] === undefined ? undefined : Number(values["max-hours"]);
  if (maxHours !== undefined && (!Number.isInteger(maxHours) || maxHours < 1))
    throw new UsageError(`--max-hours must be a positive integer, got "${values["max-hours"]}"`, { help: BACKFILL_HELP });
  const target = stageOf(values, BACKFILL_HELP);
  const clock = clockFromEnv();
  const mode: ProgressMode = process.stderr.isTTY ? "bar" : values.json ? "off" : "lines";
  const progress = new Progress(process.stderr, mode, undefined, "backfill");
  const started = performance.now();
  let warned = 0;
  const common = {
    range,
    clock,
    onProgress: (state: BackfillProgress) =>
      progress.update({ bytes: state.bytes, records: state.records, phase: progressPhase(state, (performance.now() - started) / 1000) }),
    onInvalid: (outcome: InvalidOutcome) => {
      if (warned++ < maxWarnings) progress.line(`warning: ${formatSource(outcome.source)}: invalid record, quarantined: ${outcome.reason}`);
    },
    ...(maxHours !== undefined ? { maxHours } : {}),
  };
  /** Runs the backfill with Ctrl-C stopping it after the current hour, and prints the summary. */
  const backfill = async (run: (signal: AbortSignal) => Promise<BackfillResult>, where: string, quarantine: string): Promise<number> => {
    const controller = new AbortController();
    const interrupt = () => {
      if (controller.signal.aborted) {
        progress.line("bedrock-spend: still finishing the current hour (its records are being checkpointed)");
        return;
      }
      progress.line("bedrock-spend: stopping after the current hour (what is read is checkpointed first)");
      controller.abort();
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
    try {
      progress.begin();
      const result = await run(controller.signal);
      progress.finish();
      if (warned > maxWarnings) process.stderr.write(`warning: ... ${warned - maxWarnings} more invalid records not described\n`);
      const seconds = Math.round((performance.now() - started) / 10) / 100;
      const summary = summaryOf(result, where, seconds, utcMonthOf(clock()));
      process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatBackfillSummary(summary, quarantine));
      if (summary.notCounted > 0) {
        process.stderr.write(`bedrock-spend: ${summary.notCounted} invocations were not counted; their batches are in ${quarantine}\n`);
        return 1;
      }
      if (summary.interrupted) return 1;
      return values.strict ? strictVerdict({ invalid: summary.quarantined, unpriced: summary.unpriced }, values.json === true) : 0;
    } finally {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
      progress.finish();
    }
  };
  const ownPricer = () => loadPricer({ ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases });

  if (target) {
    const source = logSourceOf(positionals[0] as string);
    const config = target.region ? { region: target.region } : {};
    const resources = await stageBackfillResources(target, new CloudFormationClient(config));
    const dynamoDb = new DynamoDBClient(config);
    const kinesis = new KinesisClient({ ...config, maxAttempts: 10, retryMode: "adaptive" });
    const identity = await new STSClient(config).send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
      throw awsCallFailure("sts:GetCallerIdentity", "the caller", error);
    });
    const lake = await StageBackfillLake.open({ athena: new AthenaClient(config), s3: s3ClientOf(config), resources });
    const table = resources.tableName;
    try {
      // Settled months are priced here: application profiles resolve as the stage's functions resolve them.
      const own = await ownPricer();
      const resolver = new CachingProfileResolver(new BedrockProfileSource(config), {
        ...(own.profileLookup ? { fallback: own.profileLookup } : {}),
      });
      const pricer = pricerWithRegistry(own.withProfiles(resolver), await readRegistry(dynamoDb, table));
      return await backfill(
        (signal) =>
          runBackfill({
            ...common,
            source,
            store: new BackfillStore(dynamoDb, table, sourceIdOf(source.description), { now: clock }),
            pricer,
            live: stageLiveSink(kinesis, resources.stream, identity.Account ?? "", `backfill/${sourceIdOf(source.description)}`),
            lake,
            markers: (requestIds) => countedRequestIds(dynamoDb, table, requestIds),
            count: (token, deltas) => countBackfillDeltas(dynamoDb, table, token, deltas, { now: clock }),
            quarantine: new SqsDeadLetterQueue(new SQSClient(config), resources.deadLetterQueue),
            signal,
          }),
        `stage ${target.stage}`,
        `the dead-letter queue ${resources.deadLetterQueue}`,
      );
    } catch (error) {
      // A source that cannot be read is a usage error; AWS's refusals name the permission they lack.
      const mapped = asCliError(error);
      throw mapped === error ? awsCallFailure("the backfill's calls", `stage ${target.stage}`, error) : mapped;
    } finally {
      await lake.close();
      dynamoDb.destroy();
      kinesis.destroy();
    }
  }

  const dataDir = dataDirOf(values["data-dir"]);
  const pricing = pricingOf(values);
  return localCommand(async () => {
    const source = logSourceOf(positionals[0] as string);
    const { sink, pricer } = await openLocalPipeline({
      dataDir,
      role: "backfill",
      pricing,
      pricer: await ownPricer(),
      chaos: 0,
      clock,
      json: values.json === true,
      progress,
      // Ctrl-C stops the backfill after the current hour; then the stack is stopped.
      stopOnSignal: false,
    });
    const lake = await LocalBackfillLake.open(dataDirLayout(dataDir).lake);
    const packStats: PackStats = { items: 0, events: 0, payloads: 0, controlMessages: 0 };
    try {
      const registered = pricerWithRegistry(pricer, await readRegistry(sink.client, LOCAL_TABLE_NAME));
      return await backfill(
        (signal) =>
          runBackfill({
            ...common,
            source,
            store: new BackfillStore(sink.client, LOCAL_TABLE_NAME, sourceIdOf(source.description), { now: clock }),
            pricer: registered,
            live: {
              put: async (items) => {
                const payloads: Uint8Array[] = [];
                for await (const payload of subscriptionPayloadsOf(items, packStats)) payloads.push(payload);
                await sink.put(payloads);
                await sink.step();
              },
              finish: async (requestIds) => {
                if (requestIds.size === 0) return new Set();
                await sink.finish((phase) => progress.update({ bytes: 0, records: 0, phase }));
                return countedRequestIds(sink.client, LOCAL_TABLE_NAME, requestIds);
              },
            },
            lake,
            markers: (requestIds) => countedRequestIds(sink.client, LOCAL_TABLE_NAME, requestIds),
            // DynamoDB Local on the data dir's disk commits a transaction of 100 faster than 100 puts.
            count: (token, deltas) => countBackfillDeltas(sink.client, LOCAL_TABLE_NAME, token, deltas, { now: clock, createWithPuts: false }),
            quarantine: new FileDeadLetterQueue(dataDirLayout(dataDir).quarantine),
            signal,
          }),
        dataDir,
        dataDirLayout(dataDir).quarantine,
      );
    } finally {
      await lake.close();
      await sink.close();
    }
  });
}
