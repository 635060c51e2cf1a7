/**
 * `backfill --stage NAME`: the backfill's adapters on a deployed stage (docs/backfill.md).
 * - Open months go on the stage's stream (the Ingest stack's `InvocationStream`), packed as the
 *   CloudWatch Logs subscription packs them, with backoff on throttling: the stage's consumers
 *   count them, each request id once.
 * - Settled months: the lake's request ids of a day through Athena (`"$path"` tells the file), an
 *   hour's new rows written as Parquet by DuckDB and put under the lake bucket's `usage/` prefix
 *   (partition projection finds them), and read back from there by a resumed run.
 * - The checkpoints, markers and counts in the stage's table; invalid records in its dead-letter queue.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { AthenaClient } from "@aws-sdk/client-athena";
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { AthenaQueries } from "@bedrock-spend/adapters";
import type { DecodedItem, UsageRecord } from "@bedrock-spend/core";
import { DuckDbLakeWriter, LocalAthena, sqlString, usageRecordOfRow } from "@bedrock-spend/local-lake";
import { addLakeHolder, type BackfillLake, type BackfillLiveSink, lakeFileBaseName } from "@bedrock-spend/pipeline";
import { MAX_PAYLOAD_JSON_BYTES, type PackedRecord, RecordPutter, SubscriptionPacker } from "./commands/replay";
import { awsCallFailure, type DeploymentTarget, stageStackName, stageStackOutputs } from "./deployment";
import { CommandFailure } from "./errors";

/** The Lake stack's key prefix of the Parquet usage records (stacks/Lake.ts USAGE_PREFIX). */
export const LAKE_USAGE_PREFIX = "usage/";

/** What a stage's backfill writes to and reads from, by the stacks' outputs. */
export interface StageBackfillResources {
  tableName: string;
  stream: string;
  deadLetterQueue: string;
  lakeBucket: string;
  database: string;
  table: string;
  workGroup: string;
}

/**
 * The stage's resources for a backfill.
 * @throws UsageError when the stage is not deployed; CommandFailure when an output is missing
 */
export async function stageBackfillResources(target: DeploymentTarget, cloudFormation: CloudFormationClient): Promise<StageBackfillResources> {
  const [processing, ingest, lake, analytics] = await Promise.all(
    ["Processing", "Ingest", "Lake", "Analytics"].map((stack) => stageStackOutputs(target, stack, cloudFormation)),
  );
  const need = (outputs: Map<string, string> | undefined, stack: string, key: string): string => {
    const value = outputs?.get(key);
    if (!value)
      throw new CommandFailure(
        `--stage ${target.stage}: ${stageStackName(target.stage, stack)} has no ${key} output (deploy this version: sst deploy --stage ${target.stage})`,
      );
    return value;
  };
  return {
    tableName: need(processing, "Processing", "AggregatesTable"),
    deadLetterQueue: need(processing, "Processing", "DeadLetterQueue"),
    stream: need(ingest, "Ingest", "InvocationStream"),
    lakeBucket: need(lake, "Lake", "LakeBucket"),
    database: need(lake, "Lake", "GlueDatabase"),
    table: need(lake, "Lake", "GlueTable"),
    workGroup: need(analytics, "Analytics", "AthenaWorkGroup"),
  };
}

/** The lake bucket key of an hour's file in a day partition. */
export function lakeObjectKey(day: string, fileName: string): string {
  const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
  return `${LAKE_USAGE_PREFIX}year=${year}/month=${month}/day=${dayOfMonth}/${fileName}_0.parquet`;
}

/** The deployed lake as a backfill's ledger of settled months. */
export class StageBackfillLake implements BackfillLake {
  private constructor(
    private readonly options: { athena: AthenaClient; s3: S3Client; resources: StageBackfillResources },
    private readonly queries: AthenaQueries,
    private readonly scratch: string,
    private readonly writer: DuckDbLakeWriter,
    private readonly reader: LocalAthena,
  ) {}

  /** Opens the scratch lake (DuckDB writes each hour's file there before it is put). */
  static async open(options: { athena: AthenaClient; s3: S3Client; resources: StageBackfillResources }): Promise<StageBackfillLake> {
    const scratch = await mkdtemp(join(tmpdir(), "bedrock-spend-backfill-"));
    const writer = await DuckDbLakeWriter.open({ lakeDir: join(scratch, "lake"), threads: 1 });
    const reader = await LocalAthena.open({ lakeDir: scratch, views: [], threads: 1 });
    const queries = new AthenaQueries({ athena: options.athena, workGroup: options.resources.workGroup, database: options.resources.database });
    return new StageBackfillLake(options, queries, scratch, writer, reader);
  }

  async requestIdsOfDay(day: string): Promise<Map<string, string>> {
    const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
    const table = `"${this.options.resources.table.replace(/"/g, '""')}"`;
    const sql = `SELECT request_id, "$path" AS path FROM ${table} WHERE year = ${sqlString(year)} AND month = ${sqlString(month)} AND day = ${sqlString(dayOfMonth)}`;
    let rows: Record<string, string | null>[];
    try {
      const execution = await this.queries.run(sql);
      rows = await this.queries.rows(execution.QueryExecutionId as string);
    } catch (error) {
      throw awsCallFailure("athena:StartQueryExecution", `the workgroup ${this.options.resources.workGroup}`, error);
    }
    const ids = new Map<string, string>();
    for (const row of rows) {
      const id = row.request_id;
      if (id === null || id === undefined) continue;
      addLakeHolder(ids, id, lakeFileBaseName(row.path ?? ""));
    }
    return ids;
  }

  async writeHour(rows: readonly UsageRecord[], fileName: string): Promise<void> {
    if (rows.length === 0) return;
    const { files } = await this.writer.write(rows, { fileName });
    for (const file of files) {
      // <scratch>/lake/usage/year=/month=/day=/<name>_0.parquet -> usage/year=/month=/day=/<name>_0.parquet
      const key = `${LAKE_USAGE_PREFIX}${relative(this.writer.usageDir, file)}`;
      try {
        await this.options.s3.send(new PutObjectCommand({ Bucket: this.options.resources.lakeBucket, Key: key, Body: await readFile(file) }));
      } catch (error) {
        throw awsCallFailure("s3:PutObject", `arn:aws:s3:::${this.options.resources.lakeBucket}/${key}`, error);
      } finally {
        await rm(file, { force: true });
      }
    }
  }

  async rowsOfFiles(files: readonly { fileName: string; days: readonly string[] }[]): Promise<UsageRecord[]> {
    const rows: UsageRecord[] = [];
    for (const { fileName, days } of files) {
      for (const day of days) {
        const key = lakeObjectKey(day, fileName);
        let body: Uint8Array;
        try {
          const object = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.resources.lakeBucket, Key: key }));
          body = await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
        } catch (error) {
          // A crash between the checkpoint and the put cannot happen (the put comes first): a missing file is an error.
          throw awsCallFailure("s3:GetObject", `arn:aws:s3:::${this.options.resources.lakeBucket}/${key}`, error);
        }
        const local = join(this.scratch, `${fileName}-${day}.parquet`);
        await writeFile(local, body);
        const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
        const { rows: read } = await this.reader.query(`SELECT * FROM read_parquet(${sqlString(local)}, hive_partitioning = false)`);
        for (const row of read) rows.push(usageRecordOfRow(row, year, month, dayOfMonth));
        await rm(local, { force: true });
      }
    }
    return rows;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.writer.close(), this.reader.close()]);
    await rm(this.scratch, { recursive: true, force: true });
  }
}

/**
 * The stage's stream as the backfill's live path: records packed into subscription payloads (one
 * per day and at most ~1 MB), put with PutRecords, failed entries retried with backoff.
 */
export function stageLiveSink(kinesis: KinesisClient, stream: string, owner: string, logStream: string): BackfillLiveSink {
  const packer = new SubscriptionPacker({ owner, logGroup: "bedrock-spend-backfill", subscriptionFilters: ["bedrock-spend-backfill"] }, MAX_PAYLOAD_JSON_BYTES);
  const putter = new RecordPutter(kinesis, stream, false, {
    sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    maxPutAttempts: 10,
  });
  const place = async (records: PackedRecord[]) => {
    for (const record of records) await putter.add(record);
  };
  return {
    put: async (items: readonly DecodedItem[]) => {
      for (const item of items) {
        if (item.kind !== "record") continue;
        const value = item.value as { requestId?: unknown; timestamp?: unknown };
        const timestamp = typeof value.timestamp === "string" ? Date.parse(value.timestamp) : Number.NaN;
        await place(
          packer.add({
            logStream,
            event: { id: `backfill-${String(value.requestId)}`, timestamp: Number.isNaN(timestamp) ? 0 : timestamp, message: item.raw },
          }),
        );
      }
      // Everything handed over is on the stream before the hour is checkpointed.
      await place(packer.flush());
      await putter.flush();
    },
    // The stage's consumers count what was put, after this command ends: not verified here.
    finish: async () => undefined,
  };
}
