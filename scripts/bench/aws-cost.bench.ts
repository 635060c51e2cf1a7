/**
 * `awsCost`: the modeled AWS bill per million invocations of the deployed pipeline against the
 * batch design it replaces (the AWS sample: a Glue job every 3 hours on 10 G.8X workers and three
 * crawlers on the same schedule), at 1M and 100M invocations a month. The model is
 * scripts/bench/cost-model.ts; its inputs come from the other benchmarks' last full run
 * (bench-results/) where they exist, from README's cost table otherwise, and each says which.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CostInputs, type CostLine, formatPico, HOURS_PER_MONTH, modelMonth, PRICES, type PriceId, picoToNumber, quantityValue } from "./cost-model";
import type { BenchContext, Benchmark, BenchSection } from "./types";

const VOLUMES = [
  { key: "1M", invocations: 1_000_000 },
  { key: "100M", invocations: 100_000_000 },
] as const;

/** Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion to memory below that. */
const LAMBDA_FULL_VCPU_MB = 1769;
const LAMBDA_MEMORY_MB = 1024;
/** Firehose buffers the transform's input up to 60 s or 0.5 MiB (stacks/Lake.ts). */
const TRANSFORM_BUFFER_SECONDS = 60;
/** The aggregate mapping: up to 100 Kinesis records (of up to 50 events) per batch, 1 s batching window (stacks/Processing.ts). */
const AGGREGATE_BATCH_WINDOW_SECONDS = 1;
const AGGREGATE_MAX_RECORDS = 100 * 50;

interface Sourced {
  value: number;
  source: string;
}

function readFigures(root: string, key: string): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, "bench-results", `${key}.json`), "utf8")) as { figures?: Record<string, unknown> }).figures;
  } catch {
    return undefined;
  }
}

function measured(figures: Record<string, unknown> | undefined, name: string, file: string, fallback: number, fallbackSource: string): Sourced {
  const value = figures?.[name];
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? { value, source: `measured: bench-results/${file}.json \`${name}\`` }
    : { value: fallback, source: fallbackSource };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function run(context: BenchContext): Promise<BenchSection> {
  const transform = readFigures(context.root, "transform");
  const lake = readFigures(context.root, "lake");
  const aggregate = readFigures(context.root, "aggregate");

  const raw = measured(lake, "rawBytesPerRecord", "lake", 2800, "README (~2.8 KB per record)");
  const gzip = measured(lake, "cloudWatchGzipBytesPerRecord", "lake", 560, "README (gzip ~5:1 of 2.8 KB)");
  const documents = measured(lake, "documentBytesPerRecord", "lake", 700, "assumed (~700 B lake document)");
  // Firehose writes Snappy Parquet (stacks/Lake.ts): the lake benchmark's Snappy figure, not the local writer's ZSTD one.
  const parquet = measured(lake, "snappyBytesPerRecord", "lake", 100, "README (~100 B per row)");
  const wru = measured(aggregate, "wruPerRecord", "aggregate", 4.6, "README (~4.6 write units per invocation)");
  const transformUs = measured(transform, "handlerUsPerRecord", "transform", 630, "README (~0.5 s per 0.5 MB of payloads)");
  const transformBatch = measured(transform, "recordsPerInvocation", "transform", 790, "README (0.5 MB processor buffer)");
  // The benchmark measures CPU on one core of this machine; at 1,024 MB Lambda gives 1024/1769 of a vCPU.
  const lambdaCpuFactor = LAMBDA_FULL_VCPU_MB / LAMBDA_MEMORY_MB;

  const base = {
    rawBytesPerRecord: raw.value,
    gzipBytesPerRecord: gzip.value,
    documentBytesPerRecord: documents.value,
    parquetBytesPerRecord: parquet.value,
    wruPerRecord: wru.value,
    transformUsPerRecord: transformUs.value * lambdaCpuFactor,
    // README: ~2 s per 5,000 invocations (a full batch, DynamoDB waits included); 20 ms fixed per invocation (assumed: its transactions' round trips).
    aggregateUsPerRecord: 400,
    aggregateFixedMsPerInvocation: 20,
    lambdaMemoryMb: LAMBDA_MEMORY_MB,
    dedupMarkerBytes: 150,
    dedupRetentionDays: 35,
    alarms: 12,
    dashboards: 1,
    customMetrics: 20,
    kmsKeys: 1,
    glueWorkers: 10,
    glueDpuPerWorker: 8,
    glueIntervalHours: 3,
    glueCrawlers: 3,
    glueCrawlerDpu: 2,
    glueCrawlerMinutes: 10,
  };

  const months = VOLUMES.map((volume) => {
    const perSecond = volume.invocations / (HOURS_PER_MONTH * 3600);
    const runs = HOURS_PER_MONTH / base.glueIntervalHours;
    const rawGbPerRun = (volume.invocations * raw.value) / runs / 1024 ** 3;
    const inputs: CostInputs = {
      ...base,
      // Batches fill to their limits at volume; at low volume the buffer interval and the batching window end them first.
      transformRecordsPerInvocation: Math.max(1, Math.min(transformBatch.value, Math.round(perSecond * TRANSFORM_BUFFER_SECONDS))),
      aggregateRecordsPerInvocation: Math.max(1, Math.min(AGGREGATE_MAX_RECORDS, Math.round(perSecond * AGGREGATE_BATCH_WINDOW_SECONDS))),
      // Assumed: 3 minutes of Spark start-up and fixed work per run, plus 2 minutes per GB of raw logs read.
      glueRunMinutes: 3 + 2 * rawGbPerRun,
    };
    return { volume, inputs, rawGbPerRun, ...modelMonth(inputs, volume.invocations) };
  });

  const byKey = Object.fromEntries(months.map((month) => [month.volume.key, month])) as Record<"1M" | "100M", (typeof months)[number]>;
  const ratio = (key: "1M" | "100M") => round(Number(byKey[key].totals.pipeline) / Number(byKey[key].totals.glueBatch), 3);
  const figures = {
    perMillion: {
      pipeline: { "1M": picoToNumber(byKey["1M"].perMillion.pipeline), "100M": picoToNumber(byKey["100M"].perMillion.pipeline) },
      glueBatch: { "1M": picoToNumber(byKey["1M"].perMillion.glueBatch), "100M": picoToNumber(byKey["100M"].perMillion.glueBatch) },
    },
    pipelineVsGlue1M: ratio("1M"),
    pipelineVsGlue100M: ratio("100M"),
  };

  // How much the comparison leans on the assumed Glue run time: the ratio if every run took the
  // 1-minute billing minimum, and the run time at which the two bills would be equal.
  const sensitivity = months.map((month) => {
    const atMinimum = modelMonth({ ...month.inputs, glueRunMinutes: 1 }, month.volume.invocations);
    const [job, ...rest] = month.lines.glueBatch;
    const perRunMinutePico = Number(job?.costPico ?? 0n) / month.inputs.glueRunMinutes;
    const others = Number(rest.reduce((sum, line) => sum + line.costPico, 0n));
    return {
      volume: month.volume.key,
      ratioAtOneMinuteRuns: round(Number(atMinimum.totals.pipeline) / Number(atMinimum.totals.glueBatch), 3),
      ratioAtOneMinuteRunsWithoutCrawlers: round(
        Number(atMinimum.totals.pipeline) / Number((atMinimum.lines.glueBatch[0]?.costPico ?? 0n) + (atMinimum.lines.glueBatch[2]?.costPico ?? 0n)),
        3,
      ),
      breakEvenRunMinutes: round(Math.max(0, Number(month.totals.pipeline) - others) / perRunMinutePico, 2),
    };
  });

  const usd = (pico: bigint) => `$${formatPico(pico, 2)}`;
  const lineRow = (line: CostLine, other?: CostLine) =>
    `| ${line.item} | ${line.formula}${other ? ` / ${other.formula}` : ""} | $${PRICES[line.price].usd} per ${PRICES[line.price].unit} | ${usd(line.costPico)} | ${other ? usd(other.costPico) : "-"} |`;
  const table = (design: "pipeline" | "glueBatch" | "common") => {
    const small = byKey["1M"].lines[design];
    const large = byKey["100M"].lines[design];
    return small.map((line, index) => lineRow(line, large[index]));
  };
  const priceIds = [
    ...new Set(months.flatMap((month) => [...month.lines.pipeline, ...month.lines.glueBatch, ...month.lines.common].map((line) => line.price))),
  ] as PriceId[];

  const markdown = [
    "**Model.** Monthly infrastructure cost at us-east-1 list prices, on demand, for the deployed pipeline (stacks/) and for the batch design of the AWS sample " +
      "(anchors.md: a Glue job every 3 hours on 10 G.8X workers, plus its logs, metadata and pricing crawlers on the same schedule), at 1M and 100M invocations a month " +
      `(${HOURS_PER_MONTH}-hour month; GB = 2^30 bytes). Both designs read the same invocation logs: CloudWatch Logs ingestion is shown apart and left out of both totals and the ratios. ` +
      "Athena queries and QuickSight are per query and per user in both designs, and left out. The model is scripts/bench/cost-model.ts (exact pico-dollar arithmetic; test/bench/cost-model.test.ts).",
    "",
    "**Inputs.**",
    "",
    "| input | value | source |",
    "| --- | --- | --- |",
    `| raw log record | ${round(raw.value, 1)} B | ${raw.source} |`,
    `| gzipped payload share (Kinesis and Firehose ingest) | ${round(gzip.value, 1)} B | ${gzip.source} |`,
    `| lake document (Firehose converts and partitions) | ${round(documents.value, 1)} B | ${documents.source} |`,
    `| Parquet in S3 (Snappy, as Firehose writes it) | ${round(parquet.value, 1)} B | ${parquet.source} |`,
    `| DynamoDB write units per invocation | ${wru.value} | ${wru.source} |`,
    `| transform CPU per record | ${round(transformUs.value, 1)} µs here, x ${round(lambdaCpuFactor, 2)} on Lambda = ${round(base.transformUsPerRecord, 1)} µs | ${transformUs.source}; Lambda gives 1024/1769 of a vCPU at 1,024 MB (arm64 assumed as fast per core as this machine) |`,
    `| transform records per invocation | ${months.map((month) => `${month.inputs.transformRecordsPerInvocation} at ${month.volume.key}`).join(", ")} | ${transformBatch.source}, fewer when the 60 s buffer interval ends the batch first |`,
    `| aggregate duration | 400 µs per record + 20 ms per invocation; records per invocation: ${months.map((month) => `${month.inputs.aggregateRecordsPerInvocation} at ${month.volume.key}`).join(", ")} | README (~2 s per 5,000 invocations); 20 ms fixed assumed; batch of up to 100 Kinesis records of 50 events, 1 s window |`,
    "| dedup markers | 150 B, 35 days | README |",
    "| monitoring | 12 alarms, 1 dashboard, 20 EMF metrics, 1 KMS key | README |",
    `| Glue job duration | ${months.map((month) => `${round(month.inputs.glueRunMinutes, 2)} min at ${month.volume.key} (${round(month.rawGbPerRun, 3)} GB of logs a run)`).join(", ")} | assumed: 3 min of Spark start-up and fixed work per run + 2 min per GB read; billed per second, 1-minute minimum |`,
    "| Glue crawlers | 3 crawlers x 2 DPU x 10 min (their billing minimum) per run | anchors.md (3 crawlers on the 3-hour cron); 2 DPU per crawl assumed |",
    "",
    "**Prices.**",
    "",
    "| price | USD | per | source |",
    "| --- | --- | --- | --- |",
    ...priceIds.map((id) => `| \`${id}\` | ${PRICES[id].usd} | ${PRICES[id].unit} | ${PRICES[id].source} |`),
    "",
    "**Pipeline** (formula at 1M / at 100M):",
    "",
    "| item | quantity | price | 1M a month | 100M a month |",
    "| --- | --- | --- | --- | --- |",
    ...table("pipeline"),
    `| **total** | | | **${usd(byKey["1M"].totals.pipeline)}** | **${usd(byKey["100M"].totals.pipeline)}** |`,
    "",
    "**Glue batch design**:",
    "",
    "| item | quantity | price | 1M a month | 100M a month |",
    "| --- | --- | --- | --- | --- |",
    ...table("glueBatch"),
    `| **total** | | | **${usd(byKey["1M"].totals.glueBatch)}** | **${usd(byKey["100M"].totals.glueBatch)}** |`,
    "",
    "**Both** (not in the totals):",
    "",
    "| item | quantity | price | 1M a month | 100M a month |",
    "| --- | --- | --- | --- | --- |",
    ...table("common"),
    "",
    "**Result.**",
    "",
    "| | pipeline per million | Glue batch per million | pipeline / Glue |",
    "| --- | --- | --- | --- |",
    ...months.map(
      (month) =>
        `| ${month.volume.key} a month | $${formatPico(month.perMillion.pipeline, 4)} | $${formatPico(month.perMillion.glueBatch, 4)} | **${ratio(month.volume.key)}** |`,
    ),
    "",
    "How much the ratio leans on the assumed Glue run time:",
    "",
    "| | pipeline / Glue if every run took the 1-minute billing minimum | the same, crawlers not counted | Glue run time at which the bills are equal |",
    "| --- | --- | --- | --- |",
    ...sensitivity.map(
      (entry) =>
        `| ${entry.volume} a month | ${entry.ratioAtOneMinuteRuns} | ${entry.ratioAtOneMinuteRunsWithoutCrawlers} | ${entry.breakEvenRunMinutes > 0 ? `${entry.breakEvenRunMinutes} min per run` : "none: the crawlers alone cost more than the pipeline"} |`,
    ),
    "",
    "**What limits these figures.** At 1M a month both bills are fixed costs: the pipeline's Kinesis stream-hours " +
      `(${usd(byKey["1M"].lines.pipeline[0]?.costPico ?? 0n)}) and monitoring, against 243 Glue runs of 80 DPU a month, which cost nearly the same whatever the volume ` +
      "(a run is start-up-bound), and the crawlers. At 100M the pipeline is DynamoDB writes: " +
      `${usd(byKey["100M"].lines.pipeline.find((line) => line.item === "DynamoDB on-demand writes")?.costPico ?? 0n)} of ${usd(byKey["100M"].totals.pipeline)}, ` +
      "i.e. the write units per invocation the aggregate benchmark measures, and the ratio is only as good as the Glue run time, which is assumed, not measured: " +
      `if the 10-worker job finished each run in under ${sensitivity.find((entry) => entry.volume === "100M")?.breakEvenRunMinutes} minutes (start-up included), the batch design would cost less at 100M a month. ` +
      "The pipeline also buys what the batch design lacks: spend visible in seconds rather than up to 3 hours later, budgets, alerts and an API.",
  ].join("\n");

  const monthly = (month: (typeof months)[number]) => ({
    invocations: month.volume.invocations,
    totalsUsd: {
      pipeline: formatPico(month.totals.pipeline, 4),
      glueBatch: formatPico(month.totals.glueBatch, 4),
      logIngestion: formatPico(month.totals.common, 4),
    },
    lines: [...month.lines.pipeline, ...month.lines.glueBatch, ...month.lines.common].map((line) => ({
      design: line.design,
      item: line.item,
      formula: line.formula,
      quantity: round(quantityValue(line.quantity), 6),
      price: line.price,
      usd: formatPico(line.costPico, 6),
    })),
    inputs: month.inputs,
  });

  return {
    figures,
    markdown,
    details: {
      sources: { raw, gzip, documents, parquet, wru, transformUs, transformBatch },
      sensitivity,
      monthly: Object.fromEntries(months.map((month) => [month.volume.key, monthly(month)])),
    },
  };
}

const benchmark: Benchmark = {
  key: "awsCost",
  title: "Modeled AWS cost: pipeline against the Glue batch design",
  run,
};

export default benchmark;
