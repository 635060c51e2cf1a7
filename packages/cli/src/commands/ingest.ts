/**
 * `bedrock-spend ingest <path>...`: invocation logs through the full local pipeline. The logs are
 * decoded (every format `price` reads), repackaged as CloudWatch Logs subscription payloads and put
 * on the local Kinesis stream; the aggregate mapping counts them exactly once in DynamoDB Local,
 * the local Firehose writes them to the Parquet lake, the budget-alert mapping fires alerts, and
 * invalid records end in the quarantine. Re-ingesting the same logs changes nothing.
 *
 * With a `bedrock-spend start` running on the data dir, the records go into its stream and this
 * command waits until its pipeline has handled them; else it runs the stack itself.
 *
 * The summary is exact whatever runs the pipeline: a request id is "counted" by this run when its
 * dedup marker was absent before and present after (the marker is written in the transaction that
 * counts it), a "duplicate" when it was counted before or repeated in the input.
 */
import { stat } from "node:fs/promises";
import { type DecodedItem, decodeStream, escapeControlChars, formatSource, formatUsd, type Pricer, preparedPriceItems, utcMonthOf } from "@bedrock-spend/core";
import { countedRequestIds } from "@bedrock-spend/store";
import { parseCommandArgs, priceFileOf } from "../args";
import { clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { strictVerdict, UsageError } from "../errors";
import { expandInputPaths, openInput, STDIN_PATH } from "../io";
import { dataDirOf, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf } from "../local";
import { dataDirLayout, LOCAL_TABLE_NAME, type PackStats, type StackStats, subscriptionPayloadsOf } from "../local-mode";
import { openLocalPipeline, type PipelineSink } from "../pipeline-sink";
import { Progress, type ProgressMode } from "../progress";

export const INGEST_HELP = `Usage: bedrock-spend ingest <path>... [options]

Runs invocation logs through the full local pipeline into the data dir: the Kinesis stream, the
aggregate handler (exactly-once counts in DynamoDB Local), the Firehose transform (Parquet lake),
budget alerts, and the quarantine for invalid records. Re-ingesting the same logs changes nothing.
Reads what "price" reads (files and directories, recursively; "-" is standard input).

With "bedrock-spend start" running on the data dir, the records go through its pipeline (and its
prices); otherwise ingest starts DynamoDB Local and kinesalite itself (Java, a few seconds).

Options:
  --prices FILE     price file laid over the shipped catalog (USD per million tokens): its
                    entries win at the dates they cover
  --prices-only FILE  price file used as the whole catalog instead of the shipped one
  --profiles FILE   application-inference-profile map
  --aliases FILE    metadata key aliases
  --profile-tags FILE  tag keys of application inference profiles per dimension
  --chaos RATE      inject faults at RATE (0-1): DynamoDB throttling, handler crashes right after
                    a committed write, duplicate deliveries; the counts stay exact
  --max-warnings N  invalid records described on stderr (default 20)
  --strict          exit 3 when any record read was invalid (quarantined) or unpriced, counted
                    now or before (after counting everything and printing the summary)
${LOCAL_OPTIONS_HELP}

Shows a progress bar on a terminal (records/s, ETA), plain lines otherwise. The summary adds up:
read = counted + duplicates + quarantined + dropped. Exit status: 0 when the input was processed
(even with quarantined records), 2 for usage errors and unreadable inputs, 1 if the pipeline
could not count everything (the batches are kept in quarantine/), 3 with --strict when records
were invalid or unpriced.`;

/** What an ingest did. `read = counted + duplicates + quarantined + dropped + notCounted`. */
export interface IngestSummary {
  dataDir: string;
  files: number;
  read: number;
  /** Invocations this run counted (not counted before). */
  counted: number;
  /** Invocations counted before, or repeated in the input. */
  duplicates: number;
  /** Invalid records, kept with the reason in `quarantine/`. */
  quarantined: number;
  /** Control messages and permissions lines. */
  dropped: number;
  /** Invocations the pipeline did not count (its failed batches are in `quarantine/`). */
  notCounted: number;
  /** Of `counted`, those without a price (tokens counted, no cost). */
  unpriced: number;
  /** Exact cost of what this run counted. */
  costUsd: string;
  /** UTC months of the invocations read (counted now or before), oldest first. */
  months: string[];
  /** The current UTC month (of the clock), which `spend` defaults to. */
  currentMonth: string;
  seconds: number;
  /** The running `start` whose pipeline was used, if any. */
  sharedStart: { pid: number } | null;
  chaos: (NonNullable<StackStats["chaos"]> & { rate: number }) | null;
}

const CHUNK_ITEMS = 2_000;

function parseRate(text: string | undefined): number {
  if (text === undefined) return 0;
  const rate = Number(text);
  if (text.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new UsageError(`--chaos must be a rate between 0 and 1, got "${text}"`, { help: INGEST_HELP });
  return rate;
}

export async function ingestCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      profiles: { type: "string" },
      aliases: { type: "string" },
      "profile-tags": { type: "string" },
      chaos: { type: "string" },
      "max-warnings": { type: "string" },
      strict: { type: "boolean" },
    },
    INGEST_HELP,
  );
  if (values.help) {
    process.stdout.write(`${INGEST_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("ingest: no input paths given", { help: INGEST_HELP });
  const chaos = parseRate(values.chaos);
  const maxWarnings = values["max-warnings"] === undefined ? 20 : Number(values["max-warnings"]);
  if (!Number.isInteger(maxWarnings) || maxWarnings < 0) throw new UsageError(`--max-warnings must be a non-negative integer, got "${values["max-warnings"]}"`);
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  const files = await expandInputPaths(positionals);
  let pricer = await loadPricer({ ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases, profileTags: values["profile-tags"] });
  const pricing = pricingOf(values);
  let totalBytes: number | undefined = 0;
  for (const file of files) {
    if (file === STDIN_PATH) totalBytes = undefined;
    else if (totalBytes !== undefined) totalBytes += (await stat(file)).size;
  }
  const mode: ProgressMode = process.stderr.isTTY ? "bar" : values.json ? "off" : "lines";
  const progress = new Progress(process.stderr, mode, totalBytes);
  const started = Date.now();

  return localCommand(async () => {
    const opened = await openLocalPipeline({ dataDir, role: "ingest", pricing, pricer, chaos, clock, json: values.json === true, progress });
    const { sink, found } = opened;
    pricer = opened.pricer;
    try {
      progress.begin();
      const summary = await run(files, pricer, sink, progress, maxWarnings);
      await sink.finish((phase) => progress.update({ bytes: summary.bytes, records: summary.read, phase }));
      const counted = await countedRequestIds(sink.client, LOCAL_TABLE_NAME, summary.fresh.keys());
      progress.finish();
      let costPico = 0n;
      let unpriced = 0;
      for (const requestId of counted) {
        const cost = summary.fresh.get(requestId);
        if (cost === null || cost === undefined) unpriced++;
        else costPico += cost;
      }
      const stats = sink.stats();
      const result: IngestSummary = {
        dataDir,
        files: files.length,
        read: summary.read,
        counted: counted.size,
        duplicates: summary.duplicates,
        quarantined: summary.quarantined,
        dropped: summary.dropped,
        notCounted: summary.fresh.size - counted.size,
        unpriced,
        costUsd: formatUsd(costPico),
        months: [...summary.months].sort(),
        currentMonth: utcMonthOf(clock()),
        seconds: Math.round((Date.now() - started) / 10) / 100,
        sharedStart: found.kind === "shared" ? { pid: found.holder.pid } : null,
        chaos: stats?.chaos ? { rate: chaos, ...stats.chaos } : null,
      };
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatIngestSummary(result));
      if (result.notCounted > 0) {
        process.stderr.write(`bedrock-spend: ${result.notCounted} invocations were not counted; their batches are in ${dataDirLayout(dataDir).quarantine}\n`);
        return 1;
      }
      return values.strict ? strictVerdict({ invalid: summary.quarantined, unpriced: summary.unpricedRead }, values.json === true) : 0;
    } finally {
      progress.finish();
      await sink.close();
    }
  });
}

/** Reads, classifies and puts every input; returns the counts and the request ids not counted before (with their cost). */
async function run(files: readonly string[], pricer: Pricer, sink: PipelineSink, progress: Progress, maxWarnings: number) {
  const state = {
    read: 0,
    bytes: 0,
    duplicates: 0,
    quarantined: 0,
    dropped: 0,
    /** Unpriced invocations read (each request id once), counted now or before: what --strict looks at. */
    unpricedRead: 0,
    fresh: new Map<string, bigint | null>(),
    months: new Set<string>(),
  };
  const seen = new Set<string>();
  const packStats: PackStats = { items: 0, events: 0, payloads: 0, controlMessages: 0 };
  let warned = 0;
  let chunk: DecodedItem[] = [];

  const flush = async () => {
    if (chunk.length === 0) return;
    // What the pipeline will make of the chunk, to report exact counts: the same decode-and-price step.
    const priced = await preparedPriceItems(chunk, pricer);
    state.dropped += priced.skipped;
    state.quarantined += priced.invalid.length;
    for (const outcome of priced.invalid) {
      if (warned++ < maxWarnings) progress.line(escapeControlChars(`warning: ${formatSource(outcome.source)}: invalid record, quarantined: ${outcome.reason}`));
    }
    const chunkCosts = new Map<string, bigint | null>();
    for (const { usage } of priced.usage) {
      const requestId = usage.record.request_id;
      state.months.add(usage.record.event_time.slice(0, 7));
      if (seen.has(requestId)) state.duplicates++;
      else {
        seen.add(requestId);
        chunkCosts.set(requestId, usage.costPico);
        if (usage.costPico === null) state.unpricedRead++;
      }
    }
    const before = await countedRequestIds(sink.client, LOCAL_TABLE_NAME, chunkCosts.keys());
    for (const [requestId, cost] of chunkCosts) {
      if (before.has(requestId)) state.duplicates++;
      else state.fresh.set(requestId, cost);
    }
    const payloads: Uint8Array[] = [];
    for await (const payload of subscriptionPayloadsOf(chunk, packStats)) payloads.push(payload);
    chunk = [];
    if (payloads.length > 0) await sink.put(payloads);
    await sink.step();
  };

  for (const file of files) {
    const label = file === STDIN_PATH ? "<stdin>" : file;
    const counting = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const bytes of source) {
        state.bytes += bytes.length;
        yield bytes;
      }
    };
    for await (const item of decodeStream(counting(openInput(file)), { file: label })) {
      state.read++;
      chunk.push(item);
      if (chunk.length >= CHUNK_ITEMS) await flush();
      progress.update({ bytes: state.bytes, records: state.read });
    }
  }
  await flush();
  if (warned > maxWarnings) progress.line(`warning: ... ${warned - maxWarnings} more invalid records not described`);
  return state;
}

/** The readable summary. */
export function formatIngestSummary(summary: IngestSummary): string {
  const plural = (count: number, word: string, words = `${word}s`) => `${grouped(count)} ${count === 1 ? word : words}`;
  const width = Math.max(
    ...[summary.counted, summary.duplicates, summary.quarantined, summary.dropped, summary.notCounted].map((value) => grouped(value).length),
  );
  const n = (value: number) => grouped(value).padStart(width);
  const lines = [
    `ingested ${plural(summary.read, "record")} from ${plural(summary.files, "file")} into ${summary.dataDir} in ${summary.seconds} s${summary.sharedStart ? ` (through the running start, pid ${summary.sharedStart.pid})` : ""}:`,
    `  counted      ${n(summary.counted)}  new invocations, ${summary.costUsd} USD${summary.unpriced > 0 ? ` (${grouped(summary.unpriced)} unpriced: tokens counted, no cost)` : ""}`,
    `  duplicates   ${n(summary.duplicates)}  counted already (an earlier ingest, or repeated in the input)`,
    `  quarantined  ${n(summary.quarantined)}  invalid records, kept with the reason in ${dataDirLayout(summary.dataDir).quarantine}`,
    `  dropped      ${n(summary.dropped)}  control messages and permissions lines`,
  ];
  if (summary.notCounted > 0) lines.push(`  NOT COUNTED  ${n(summary.notCounted)}  the pipeline gave their batches up (see quarantine/)`);
  if (summary.months.length > 0) {
    const latest = summary.months[summary.months.length - 1] as string;
    // spend and the dashboard's lookup default to the current month: logs of earlier months need --month.
    const note = summary.months.includes(summary.currentMonth) ? "" : ` (the current month is ${summary.currentMonth}: spend --month ${latest})`;
    lines.push(`invocations of ${summary.months.join(", ")}${note}`);
  }
  if (summary.chaos) {
    const chaos = summary.chaos;
    lines.push(
      `chaos ${chaos.rate}: ${plural(chaos.throttled, "throttled write")}, ${plural(chaos.crashesAfterWrite, "crash", "crashes")} right after a committed write, ` +
        `${plural(chaos.duplicatedBatches, "duplicated batch", "duplicated batches")}, ${plural(chaos.duplicatedPayloads, "duplicated payload")}, ` +
        `${plural(chaos.firehoseRedeliveries, "Firehose redelivery", "Firehose redeliveries")}: ${summary.notCounted === 0 ? "every invocation counted exactly once" : "see above"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
