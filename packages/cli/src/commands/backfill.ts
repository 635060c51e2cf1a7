/**
 * `bedrock-spend backfill s3://BUCKET/PREFIX|DIR [--from DAY] [--to DAY]`: Bedrock's own S3
 * invocation logs of past hours into the data dir's aggregates and lake, each invocation exactly
 * once, resumably (docs/backfill.md). Open months go through the pipeline's stream like live
 * traffic; settled months are counted against the lake, a day at a time.
 */
import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import {
  type DayRange,
  DirectoryInvocationLogSource,
  FileDeadLetterQueue,
  type InvocationLogSource,
  parseS3Url,
  S3InvocationLogSource,
} from "@bedrock-spend/adapters";
import { formatSource, formatUsd, utcMonthOf } from "@bedrock-spend/core";
import { type BackfillProgress, type BackfillResult, runBackfill } from "@bedrock-spend/pipeline";
import { BackfillStore, countBackfillDeltas, countedRequestIds } from "@bedrock-spend/store";
import { parseCommandArgs, priceFileOf } from "../args";
import { clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { UsageError } from "../errors";
import { dataDirOf, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf } from "../local";
import { dataDirLayout, LOCAL_TABLE_NAME, LocalBackfillLake, type PackStats, subscriptionPayloadsOf } from "../local-mode";
import { openLocalPipeline } from "../pipeline-sink";
import { formatDuration, Progress, type ProgressMode } from "../progress";

export const BACKFILL_HELP = `Usage: bedrock-spend backfill s3://BUCKET/PREFIX|DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD] [options]

Counts the invocation logs Bedrock delivered to S3 before bedrock-spend was deployed (or while it
was not) into the data dir: the aggregates (spend, budgets) and the lake. Reads Bedrock's layout,
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
  --max-hours N     read at most N hours in this run, then stop with everything checkpointed (a
                    long backfill in bounded runs: run it again to go on)
  --max-warnings N  invalid records described on stderr (default 20)
${LOCAL_OPTIONS_HELP}

S3 access uses the AWS SDK's credentials and Region (AWS_PROFILE, AWS_REGION, ...; AWS_ENDPOINT_URL_S3
for an S3-compatible server) and needs s3:ListBucket on the bucket and s3:GetObject on its keys.
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

/** The source of a positional: `s3://...` or a directory. */
export function logSourceOf(location: string): InvocationLogSource {
  if (location.startsWith("s3://")) {
    const { bucket, prefix } = parseS3Url(location);
    // A custom endpoint (an S3-compatible server) is addressed by path, as such servers expect.
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const client = new S3Client({ followRegionRedirects: true, ...(endpoint ? { forcePathStyle: true } : {}) });
    return new S3InvocationLogSource({ client, bucket, prefix });
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
    months: result.months,
    currentMonth,
    seconds,
    recordsPerSecond: seconds > 0 ? Math.round(tally.read / seconds) : 0,
  };
}

/** The readable summary. */
export function formatBackfillSummary(summary: BackfillSummary): string {
  const width = Math.max(
    ...[summary.counted, summary.alreadyCounted, summary.quarantined, summary.dropped, summary.notCounted].map((value) => grouped(value).length),
  );
  const n = (value: number) => grouped(value).padStart(width);
  const range = `${summary.from ?? "the oldest day"} to ${summary.to ?? "the newest"}`;
  const lines = [
    `backfill of ${summary.source}, ${range}, into ${summary.dataDir}: ${grouped(summary.hoursRead)} of ${grouped(summary.hours)} hours read (${grouped(summary.hoursResumed)} done before), ${grouped(summary.objects)} objects, ${grouped(summary.read)} records in ${summary.seconds} s (${grouped(summary.recordsPerSecond)} records/s):`,
    `  counted          ${n(summary.counted)}  new invocations, ${summary.costUsd} USD${summary.unpriced > 0 ? ` (${grouped(summary.unpriced)} unpriced: tokens counted, no cost)` : ""}: ${grouped(summary.countedSettled)} of settled months, ${grouped(summary.countedLive)} through the stream`,
    `  already counted  ${n(summary.alreadyCounted)}  counted before (live traffic, an earlier backfill) or repeated in the source`,
    `  quarantined      ${n(summary.quarantined)}  invalid records, kept with the reason in ${dataDirLayout(summary.dataDir).quarantine}`,
    `  dropped          ${n(summary.dropped)}  control messages and permission-check lines`,
  ];
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
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  const pricing = pricingOf(values);
  const mode: ProgressMode = process.stderr.isTTY ? "bar" : values.json ? "off" : "lines";
  const progress = new Progress(process.stderr, mode, undefined, "backfill");
  const started = performance.now();

  return localCommand(async () => {
    const source = logSourceOf(positionals[0] as string);
    const ownPricer = await loadPricer({ ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases });
    const { sink, pricer } = await openLocalPipeline({
      dataDir,
      role: "backfill",
      pricing,
      pricer: ownPricer,
      chaos: 0,
      clock,
      json: values.json === true,
      progress,
    });
    const lake = await LocalBackfillLake.open(dataDirLayout(dataDir).lake);
    const controller = new AbortController();
    const interrupt = () => {
      if (controller.signal.aborted) return;
      progress.line("bedrock-spend: stopping after the current hour (Ctrl-C again does not hurry it: what is read is checkpointed first)");
      controller.abort();
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
    const packStats: PackStats = { items: 0, events: 0, payloads: 0, controlMessages: 0 };
    let warned = 0;
    try {
      progress.begin();
      const result = await runBackfill({
        source,
        range,
        store: new BackfillStore(sink.client, LOCAL_TABLE_NAME, sourceIdOf(source.description), { now: clock }),
        pricer,
        clock,
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
        count: (token, deltas) => countBackfillDeltas(sink.client, LOCAL_TABLE_NAME, token, deltas, { now: clock }),
        quarantine: new FileDeadLetterQueue(dataDirLayout(dataDir).quarantine),
        onProgress: (state) =>
          progress.update({ bytes: state.bytes, records: state.records, phase: progressPhase(state, (performance.now() - started) / 1000) }),
        onInvalid: (outcome) => {
          if (warned++ < maxWarnings) progress.line(`warning: ${formatSource(outcome.source)}: invalid record, quarantined: ${outcome.reason}`);
        },
        signal: controller.signal,
        ...(maxHours !== undefined ? { maxHours } : {}),
      });
      progress.finish();
      if (warned > maxWarnings) process.stderr.write(`warning: ... ${warned - maxWarnings} more invalid records not described\n`);
      const seconds = Math.round((performance.now() - started) / 10) / 100;
      const summary = summaryOf(result, dataDir, seconds, utcMonthOf(clock()));
      process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatBackfillSummary(summary));
      if (summary.notCounted > 0) {
        process.stderr.write(`bedrock-spend: ${summary.notCounted} invocations were not counted; their batches are in ${dataDirLayout(dataDir).quarantine}\n`);
        return 1;
      }
      return summary.interrupted ? 1 : 0;
    } finally {
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
      progress.finish();
      await lake.close();
      await sink.close();
    }
  });
}
