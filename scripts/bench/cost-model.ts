/**
 * The modeled monthly AWS bill of the deployed pipeline and of the batch design it replaces (the
 * AWS sample: a Glue job every 3 hours on 10 G.8X workers, plus its three crawlers), for one
 * monthly invocation volume. Pure: prices and measured inputs in, cost lines out.
 *
 * Money is exact: prices are decimal strings turned into integer pico-dollars, quantities are
 * rationals of bigints, and each line's cost is rounded once, to the pico-dollar. Floating point
 * only enters through the measured inputs (bytes per record, microseconds per record), which are
 * turned into whole bytes and microsecond-GB first.
 */

/** One list price: a decimal USD amount per unit, and where it comes from. */
export interface Price {
  usd: string;
  unit: string;
  source: string;
}

/** Sources of the price table. */
const README = "README.md, What it costs to run (us-east-1 list prices)";
const GLUE =
  "AWS Glue pricing, us-east-1: $0.44 per DPU-hour; Spark jobs (Glue 2.0+) billed per second with a 1-minute minimum, crawlers with a 10-minute minimum";

/** us-east-1 list prices, on demand. */
export const PRICES = {
  cloudWatchLogsIngestGb: { usd: "0.50", unit: "GB ingested", source: README },
  kinesisStreamHour: { usd: "0.04", unit: "on-demand stream-hour", source: README },
  kinesisIngestGb: { usd: "0.08", unit: "GB written (on demand)", source: README },
  kinesisReadGb: { usd: "0.04", unit: "GB read per consumer (on demand)", source: README },
  dynamoDbWriteUnit: { usd: "0.000000625", unit: "write request unit ($0.625 per million)", source: README },
  dynamoDbStorageGbMonth: { usd: "0.25", unit: "GB-month", source: README },
  lambdaArmGbSecond: { usd: "0.0000133334", unit: "GB-second, arm64", source: README },
  lambdaRequest: { usd: "0.0000002", unit: "request ($0.20 per million)", source: README },
  firehoseIngestGb: { usd: "0.029", unit: "GB ingested", source: README },
  firehoseConversionGb: { usd: "0.018", unit: "GB converted to Parquet", source: README },
  firehosePartitioningGb: { usd: "0.020", unit: "GB dynamically partitioned", source: README },
  firehoseObject: { usd: "0.000005", unit: "S3 object delivered ($0.005 per 1,000)", source: README },
  s3GbMonth: { usd: "0.023", unit: "GB-month, S3 Standard", source: README },
  s3Put: { usd: "0.000005", unit: "PUT request ($0.005 per 1,000)", source: README },
  cloudWatchAlarm: { usd: "0.10", unit: "alarm-month", source: README },
  cloudWatchDashboard: { usd: "3.00", unit: "dashboard-month", source: README },
  cloudWatchMetric: { usd: "0.30", unit: "custom metric-month", source: README },
  kmsKey: { usd: "1.00", unit: "key-month", source: README },
  glueDpuHour: { usd: "0.44", unit: "DPU-hour", source: GLUE },
} as const satisfies Record<string, Price>;

export type PriceId = keyof typeof PRICES;

/** What the model needs to know about the workload and the code, most of it measured by `pnpm bench`. */
export interface CostInputs {
  /** Invocation log record as Bedrock writes it (what CloudWatch Logs ingests), bytes. */
  rawBytesPerRecord: number;
  /** The record's share of a gzipped CloudWatch subscription payload (what Kinesis and Firehose ingest), bytes. */
  gzipBytesPerRecord: number;
  /** The transform's lake document for the record (what Firehose converts and partitions), bytes. */
  documentBytesPerRecord: number;
  /** Parquet in S3, bytes per record. */
  parquetBytesPerRecord: number;
  /** DynamoDB write request units per record (the aggregate path, batches of 500). */
  wruPerRecord: number;
  /** Transform Lambda: CPU time per record (benchmark machine), microseconds, and records per invocation. */
  transformUsPerRecord: number;
  transformRecordsPerInvocation: number;
  /** Aggregate Lambda: billed duration per record (DynamoDB waits included), microseconds, per invocation, ms, and records per invocation. */
  aggregateUsPerRecord: number;
  aggregateFixedMsPerInvocation: number;
  aggregateRecordsPerInvocation: number;
  /** Lambda memory, MB (stacks/: transform and aggregate 1024). */
  lambdaMemoryMb: number;
  /** Dedup marker per invocation in DynamoDB, bytes, and how long it lives, days. */
  dedupMarkerBytes: number;
  dedupRetentionDays: number;
  /** Fixed monitoring: alarms, dashboards, custom metrics, KMS keys. */
  alarms: number;
  dashboards: number;
  customMetrics: number;
  kmsKeys: number;
  /** Glue batch design: workers, DPU per worker, hours between runs, minutes per run at this volume, crawlers and their DPU. */
  glueWorkers: number;
  glueDpuPerWorker: number;
  glueIntervalHours: number;
  glueRunMinutes: number;
  glueCrawlers: number;
  glueCrawlerDpu: number;
  glueCrawlerMinutes: number;
}

/** A rational quantity: `num / den` units. */
export interface Quantity {
  num: bigint;
  den: bigint;
}

/** Which bill a line belongs to. `common`: paid by both designs alike, shown apart. */
export type Design = "pipeline" | "glueBatch" | "common";

/** One line of a bill. */
export interface CostLine {
  design: Design;
  item: string;
  /** How the quantity is computed, in words and numbers. */
  formula: string;
  price: PriceId;
  quantity: Quantity;
  /** quantity x price, pico-dollars, rounded half up. */
  costPico: bigint;
}

/** Hours in the month the model bills (AWS bills 730 hours a month in its calculator). */
export const HOURS_PER_MONTH = 730;
/** Bytes in a GB as AWS bills data (2^30). */
export const BYTES_PER_GB = 1024n ** 3n;
const PICO_PER_USD = 1_000_000_000_000n;

/** A decimal USD string as pico-dollars; throws on more than 12 fractional digits. */
export function usdToPico(usd: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,12}))?$/.exec(usd);
  if (!match) throw new RangeError(`not a USD amount with at most 12 decimals: ${usd}`);
  return BigInt(match[1] as string) * PICO_PER_USD + BigInt((match[2] ?? "").padEnd(12, "0"));
}

/** Pico-dollars as USD with `digits` decimals (rounded half up), e.g. "44.21". */
export function formatPico(pico: bigint, digits = 2): string {
  const scale = 10n ** BigInt(12 - digits);
  const rounded = (pico + scale / 2n) / scale;
  const text = rounded.toString().padStart(digits + 1, "0");
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Pico-dollars as a JavaScript number of USD (for figures and display only). */
export function picoToNumber(pico: bigint, digits = 4): number {
  return Number(formatPico(pico, digits));
}

function quantity(num: bigint, den = 1n): Quantity {
  return { num, den };
}

/** Whole units of a measured per-record amount over `invocations` records. */
function perRecord(invocations: number, amount: number): bigint {
  return BigInt(Math.round(invocations * amount));
}

function line(design: Design, item: string, formula: string, price: PriceId, amount: Quantity): CostLine {
  const numerator = amount.num * usdToPico(PRICES[price].usd);
  const costPico = (2n * numerator + amount.den) / (2n * amount.den);
  return { design, item, formula, price, quantity: amount, costPico };
}

/** The value of a quantity, for display. */
export function quantityValue(amount: Quantity): number {
  return Number(amount.num) / Number(amount.den);
}

const gb = (bytes: bigint): Quantity => quantity(bytes, BYTES_PER_GB);
const fmt = (value: number, digits = 2) => value.toLocaleString("en-US", { maximumFractionDigits: digits });

/** Log delivery to CloudWatch Logs: the same for both designs (the AWS sample reads the same logs), shown apart. */
export function commonLines(inputs: CostInputs, invocations: number): CostLine[] {
  const raw = perRecord(invocations, inputs.rawBytesPerRecord);
  return [
    line(
      "common",
      "CloudWatch Logs ingestion of the invocation logs",
      `${fmt(invocations, 0)} records x ${fmt(inputs.rawBytesPerRecord, 0)} B`,
      "cloudWatchLogsIngestGb",
      gb(raw),
    ),
  ];
}

/** The deployed pipeline's monthly lines at `invocations` a month. */
export function pipelineLines(inputs: CostInputs, invocations: number): CostLine[] {
  const gzip = perRecord(invocations, inputs.gzipBytesPerRecord);
  const documents = perRecord(invocations, inputs.documentBytesPerRecord);
  const parquet = perRecord(invocations, inputs.parquetBytesPerRecord);
  const requests = (recordsPerInvocation: number) => BigInt(Math.ceil(invocations / recordsPerInvocation));
  const gbSeconds = (usPerRecord: number, fixedUsPerInvocation = 0, recordsPerInvocation = 1): Quantity =>
    // micro-GB-seconds: (records x us + invocations x fixed us) x GB of memory
    quantity(
      BigInt(Math.round((invocations * usPerRecord + Number(requests(recordsPerInvocation)) * fixedUsPerInvocation) * (inputs.lambdaMemoryMb / 1024))),
      1_000_000n,
    );
  // Firehose writes one object per 300 s flush of each day partition while records flow: 12 an hour.
  const objects = BigInt(Math.min(invocations, HOURS_PER_MONTH * 12));
  const markerBytes = perRecord(invocations, (inputs.dedupMarkerBytes * inputs.dedupRetentionDays * 12) / 365);
  return [
    line("pipeline", "Kinesis on-demand stream", `${HOURS_PER_MONTH} stream-hours`, "kinesisStreamHour", quantity(BigInt(HOURS_PER_MONTH))),
    line("pipeline", "Kinesis data in (gzipped payloads)", `${fmt(invocations, 0)} x ${fmt(inputs.gzipBytesPerRecord, 0)} B`, "kinesisIngestGb", gb(gzip)),
    line(
      "pipeline",
      "Kinesis reads (Firehose + aggregate mapping)",
      `2 consumers x ${fmt(invocations, 0)} x ${fmt(inputs.gzipBytesPerRecord, 0)} B`,
      "kinesisReadGb",
      gb(2n * gzip),
    ),
    line(
      "pipeline",
      "DynamoDB on-demand writes",
      `${fmt(invocations, 0)} x ${fmt(inputs.wruPerRecord, 3)} WRU`,
      "dynamoDbWriteUnit",
      quantity(BigInt(Math.round(invocations * inputs.wruPerRecord * 1000)), 1000n),
    ),
    line(
      "pipeline",
      "DynamoDB storage (dedup markers)",
      `${fmt(invocations, 0)} x ${inputs.dedupMarkerBytes} B, kept ${inputs.dedupRetentionDays} days`,
      "dynamoDbStorageGbMonth",
      gb(markerBytes),
    ),
    line(
      "pipeline",
      "Lambda transform duration",
      `${fmt(invocations, 0)} x ${fmt(inputs.transformUsPerRecord, 1)} us x ${inputs.lambdaMemoryMb / 1024} GB`,
      "lambdaArmGbSecond",
      gbSeconds(inputs.transformUsPerRecord),
    ),
    line(
      "pipeline",
      "Lambda transform requests",
      `${fmt(invocations, 0)} / ${inputs.transformRecordsPerInvocation} records per invocation`,
      "lambdaRequest",
      quantity(requests(inputs.transformRecordsPerInvocation)),
    ),
    line(
      "pipeline",
      "Lambda aggregate duration",
      `(${fmt(invocations, 0)} x ${fmt(inputs.aggregateUsPerRecord, 0)} us + ${fmt(Number(requests(inputs.aggregateRecordsPerInvocation)), 0)} invocations x ${fmt(inputs.aggregateFixedMsPerInvocation, 0)} ms) x ${inputs.lambdaMemoryMb / 1024} GB`,
      "lambdaArmGbSecond",
      gbSeconds(inputs.aggregateUsPerRecord, inputs.aggregateFixedMsPerInvocation * 1000, inputs.aggregateRecordsPerInvocation),
    ),
    line(
      "pipeline",
      "Lambda aggregate requests",
      `${fmt(invocations, 0)} / ${inputs.aggregateRecordsPerInvocation} records per batch`,
      "lambdaRequest",
      quantity(requests(inputs.aggregateRecordsPerInvocation)),
    ),
    line("pipeline", "Firehose ingestion", `${fmt(invocations, 0)} x ${fmt(inputs.gzipBytesPerRecord, 0)} B`, "firehoseIngestGb", gb(gzip)),
    line(
      "pipeline",
      "Firehose format conversion",
      `${fmt(invocations, 0)} x ${fmt(inputs.documentBytesPerRecord, 0)} B of lake documents`,
      "firehoseConversionGb",
      gb(documents),
    ),
    line(
      "pipeline",
      "Firehose dynamic partitioning",
      `${fmt(invocations, 0)} x ${fmt(inputs.documentBytesPerRecord, 0)} B`,
      "firehosePartitioningGb",
      gb(documents),
    ),
    line("pipeline", "Firehose objects delivered", `${HOURS_PER_MONTH} h x 12 flushes (300 s buffer)`, "firehoseObject", quantity(objects)),
    line(
      "pipeline",
      "S3 Parquet storage (the month's rows, one month)",
      `${fmt(invocations, 0)} x ${fmt(inputs.parquetBytesPerRecord, 1)} B`,
      "s3GbMonth",
      gb(parquet),
    ),
    line("pipeline", "S3 PUTs (Parquet objects)", "one per object delivered", "s3Put", quantity(objects)),
    line("pipeline", "CloudWatch alarms", `${inputs.alarms} alarms`, "cloudWatchAlarm", quantity(BigInt(inputs.alarms))),
    line("pipeline", "CloudWatch dashboard", `${inputs.dashboards} dashboard`, "cloudWatchDashboard", quantity(BigInt(inputs.dashboards))),
    line("pipeline", "CloudWatch EMF custom metrics", `${inputs.customMetrics} metrics`, "cloudWatchMetric", quantity(BigInt(inputs.customMetrics))),
    line("pipeline", "KMS key (log group, stream)", `${inputs.kmsKeys} key`, "kmsKey", quantity(BigInt(inputs.kmsKeys))),
  ];
}

/** The AWS sample's batch design at `invocations` a month: the Glue job, its crawlers, and the same lake storage. */
export function glueBatchLines(inputs: CostInputs, invocations: number): CostLine[] {
  const runsNum = BigInt(HOURS_PER_MONTH);
  const runsDen = BigInt(inputs.glueIntervalHours);
  const dpu = BigInt(inputs.glueWorkers * inputs.glueDpuPerWorker);
  // Billed per second with a 1-minute minimum; DPU-hours = runs x DPU x seconds / 3600.
  const jobSeconds = BigInt(Math.max(60, Math.round(inputs.glueRunMinutes * 60)));
  const crawlerSeconds = BigInt(Math.max(600, Math.round(inputs.glueCrawlerMinutes * 60)));
  const parquet = perRecord(invocations, inputs.parquetBytesPerRecord);
  const runs = quantityValue(quantity(runsNum, runsDen));
  return [
    line(
      "glueBatch",
      `Glue ETL job (${inputs.glueWorkers} x G.8X, every ${inputs.glueIntervalHours} h)`,
      `${fmt(runs, 1)} runs x ${dpu} DPU x ${fmt(Number(jobSeconds) / 60, 2)} min`,
      "glueDpuHour",
      quantity(runsNum * dpu * jobSeconds, runsDen * 3600n),
    ),
    line(
      "glueBatch",
      `Glue crawlers (${inputs.glueCrawlers}, every ${inputs.glueIntervalHours} h)`,
      `${inputs.glueCrawlers} x ${fmt(runs, 1)} runs x ${inputs.glueCrawlerDpu} DPU x ${fmt(Number(crawlerSeconds) / 60, 0)} min (minimum)`,
      "glueDpuHour",
      quantity(BigInt(inputs.glueCrawlers) * runsNum * BigInt(inputs.glueCrawlerDpu) * crawlerSeconds, runsDen * 3600n),
    ),
    line(
      "glueBatch",
      "S3 Parquet storage (same lake bytes, one month)",
      `${fmt(invocations, 0)} x ${fmt(inputs.parquetBytesPerRecord, 1)} B`,
      "s3GbMonth",
      gb(parquet),
    ),
  ];
}

/** Sum of lines, pico-dollars. */
export function totalPico(lines: readonly CostLine[]): bigint {
  return lines.reduce((sum, entry) => sum + entry.costPico, 0n);
}

/** Cost per million invocations of a monthly total, pico-dollars (rounded half up). */
export function perMillionPico(total: bigint, invocations: number): bigint {
  const millions = BigInt(invocations);
  return (2n * total * 1_000_000n + millions) / (2n * millions);
}

/** Both bills at one volume. Log ingestion is in `common`, excluded from both designs' totals. */
export function modelMonth(inputs: CostInputs, invocations: number) {
  const pipeline = pipelineLines(inputs, invocations);
  const glueBatch = glueBatchLines(inputs, invocations);
  const common = commonLines(inputs, invocations);
  const pipelineTotal = totalPico(pipeline);
  const glueTotal = totalPico(glueBatch);
  return {
    invocations,
    lines: { pipeline, glueBatch, common },
    totals: { pipeline: pipelineTotal, glueBatch: glueTotal, common: totalPico(common) },
    perMillion: { pipeline: perMillionPico(pipelineTotal, invocations), glueBatch: perMillionPico(glueTotal, invocations) },
  };
}
