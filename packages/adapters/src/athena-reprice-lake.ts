/**
 * The lake on AWS as a reprice reads and rewrites it (`RepriceLake` of `pipeline/reprice.ts`), one
 * day partition at a time: the usage table of stacks/Lake.ts (Parquet under
 * `usage/year=YYYY/month=MM/day=DD/`, Glue table with partition projection) through Athena and the
 * S3 API.
 *
 * - `readDay` lists the partition's objects first (the token: exactly those keys), then selects
 *   their rows with Athena, restricted to them by `"$path"`, so that objects Firehose delivers in
 *   between are neither read nor, later, replaced.
 * - `replaceDay` has Athena write the repriced rows as Parquet, then copies the files into the
 *   partition and moves the replaced objects under `history/<reprice id>/year=/month=/day=/`,
 *   where the rows as they were stay readable (any Parquet reader; an Athena table over
 *   `history/<id>/` with the usage columns).
 *
 * Why CTAS to a staging location and S3 copies, not `INSERT INTO` the usage table: `INSERT INTO`
 * writes files under names Athena chooses straight into the live partition, so a job that stops
 * between the insert and the move of the replaced objects leaves both copies of every row there,
 * and nothing tells them apart on resume; with partition projection it also leaves the partition
 * layout to Athena's defaults rather than the table's `storage.location.template`. A CTAS always
 * writes a fresh, empty location (with the workgroup enforcing its result location, Athena puts
 * it under `<results>/tables/<query id>/`) and lists what it wrote in its data manifest
 * (`Statistics.DataManifestLocation`); the files are then copied into the partition under
 * deterministic names after a journal (`history/_pending/<day>.json`) records what replaces what.
 * Parquet written by Athena is read back by Athena with the same Hive types (decimal(38,12),
 * map<string,string>, timestamp) as Firehose's conversion; a Parquet writer in the function would
 * have to reproduce them. The rows reach Athena as gzipped JSON lines under the staging prefix of
 * the results bucket, read through a temporary external table (OpenX JSON SerDe, the SerDe
 * Firehose converts with); both temporary tables are named `reprice_*` and dropped afterwards
 * (dropping an external table keeps its files; the results bucket's lifecycle removes them).
 *
 * Crash safety: the journal is written (conditionally: one pending replacement per day) before
 * the first copy; `readDay` first completes any journal of its day (copies what is missing, moves
 * what is left, deletes the journal), so a job resumed after a crash anywhere in `replaceDay` sees
 * each row once. Between the copies and the moves, readers of the lake briefly see a row twice
 * (S3 has no atomic rename); the lake is at least once anyway (Firehose), and the aggregates are
 * the exact figures.
 */
import { randomUUID } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { AthenaClient, QueryExecution } from "@aws-sdk/client-athena";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { BedrockSpendError, type DayKey, dataColumns, glueType, type MonthKey, type UsageColumn, type UsageRecord } from "@bedrock-spend/core";
import { AthenaQueries } from "./athena-queries";

/** Where the lake is and how to query it. */
export interface AthenaRepriceLakeOptions {
  athena: AthenaClient;
  s3: S3Client;
  /** The lake bucket (stacks/Lake.ts). */
  bucket: string;
  /** Key prefix of the usage table (`usage/`). */
  usagePrefix?: string;
  /** Key prefix of the replaced objects (`history/`). */
  historyPrefix?: string;
  /** Glue database and usage table. */
  database: string;
  table: string;
  /** Athena workgroup (enforces the result location and the scan limit). */
  workGroup: string;
  /** Bucket of the workgroup's results: the staged rows go there, under `stagingPrefix`. */
  resultsBucket: string;
  /** Default `reprice/`. */
  stagingPrefix?: string;
  /** Object keys per `"$path" IN (...)` query (an Athena query is at most 256 KB). Default 300. */
  keysPerQuery?: number;
  /** First poll of a running query, doubled up to 5 s. Default 500 ms. */
  pollMs?: number;
  /** A query running longer is stopped and fails. Default 10 minutes. */
  queryTimeoutMs?: number;
  /** Waits (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  /** Suffix of a replacement attempt's staging names. Default random. */
  attemptId?: () => string;
}

/** What `readDay` read: the partition's object keys at that moment. */
export interface AthenaDayToken {
  keys: string[];
}

/** The journal of one day's replacement (`history/_pending/<day>.json`). */
export interface ReplacementJournal {
  repriceId: string;
  day: DayKey;
  /** Lake keys replaced (moved under the history prefix). */
  replaced: string[];
  /** Files Athena wrote (`s3://bucket/key`) and the lake keys they are copied to. */
  added: { source: string; key: string }[];
}

/** A day whose replacement cannot be completed (its journal names files that are gone). */
export class LakeReplacementError extends BedrockSpendError {
  constructor(message: string) {
    super(message);
    this.name = "LakeReplacementError";
  }
}

/** The usage lake on S3, read with Athena, one day partition at a time. */
export class AthenaRepriceLake {
  private readonly usagePrefix: string;
  private readonly historyPrefix: string;
  private readonly stagingPrefix: string;
  private readonly queries: AthenaQueries;

  constructor(private readonly options: AthenaRepriceLakeOptions) {
    this.usagePrefix = options.usagePrefix ?? "usage/";
    this.historyPrefix = options.historyPrefix ?? "history/";
    this.stagingPrefix = options.stagingPrefix ?? "reprice/";
    this.queries = new AthenaQueries(options);
  }

  /** Days of `month` whose partition holds data objects, ascending. */
  async days(month: MonthKey): Promise<DayKey[]> {
    const [year, monthNumber] = month.split("-") as [string, string];
    const days = new Set<DayKey>();
    for (const key of await this.list(this.options.bucket, `${this.usagePrefix}year=${year}/month=${monthNumber}/`)) {
      const match = /\/day=(\d{2})\/[^/]+$/.exec(key);
      if (match && isDataKey(key)) days.add(`${month}-${match[1]}`);
    }
    return [...days].sort();
  }

  /** The rows of the partition's objects (after completing a replacement left pending), and their keys. */
  async readDay(day: DayKey): Promise<{ rows: UsageRecord[]; token: AthenaDayToken }> {
    await this.completePending(day);
    const keys = (await this.list(this.options.bucket, this.dayPrefix(day))).filter(isDataKey).sort();
    const rows: UsageRecord[] = [];
    const chunk = this.options.keysPerQuery ?? 300;
    for (let start = 0; start < keys.length; start += chunk) {
      const paths = keys.slice(start, start + chunk).map((key) => sqlString(`s3://${this.options.bucket}/${key}`));
      const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
      const sql =
        `SELECT ${selectList()} FROM ${this.tableName()} ` +
        `WHERE year = '${year}' AND month = '${month}' AND day = '${dayOfMonth}' AND "$path" IN (${paths.join(", ")})`;
      const execution = await this.query(sql);
      for (const row of await this.results(execution.QueryExecutionId as string)) rows.push(usageRecordOf(row, year, month, dayOfMonth));
    }
    return { rows, token: { keys } };
  }

  /**
   * Distinct request ids of each tenant in the month's partitions, by one Athena query (a row
   * delivered twice, or a replacement half done, counts once).
   */
  async invocationsByTenant(month: MonthKey): Promise<Map<string, number>> {
    const [year, monthNumber] = month.split("-") as [string, string];
    const execution = await this.query(
      `SELECT tenant_id, count(DISTINCT request_id) AS invocations FROM ${this.tableName()} WHERE year = '${year}' AND month = '${monthNumber}' GROUP BY tenant_id`,
    );
    const counts = new Map<string, number>();
    for (const row of await this.results(execution.QueryExecutionId as string)) counts.set(row.tenant_id ?? "", Number(row.invocations));
    return counts;
  }

  /**
   * Replaces the objects `token` names with `rows`, written as Parquet by Athena, and moves them
   * under `history/<repriceId>/`. Objects delivered since `readDay` are left as they are.
   */
  async replaceDay(day: DayKey, token: unknown, rows: readonly UsageRecord[], repriceId: string): Promise<void> {
    const { keys } = token as AthenaDayToken;
    const attempt = this.options.attemptId?.() ?? randomUUID().slice(0, 8);
    const base = `${this.stagingPrefix}${repriceId}/${day}/${attempt}/`;
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.resultsBucket,
        Key: `${base}input/rows.json.gz`,
        Body: gzipSync(rows.map((row) => `${JSON.stringify(stagedDocument(row))}\n`).join("")),
        // Gzip by its extension, as Athena reads text files: no Content-Encoding, which clients would undo.
        ContentType: "application/gzip",
      }),
    );
    const tag = `${repriceId}_${day}_${attempt}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
    const input = `reprice_in_${tag}`;
    const output = `reprice_out_${tag}`;
    let written: string[];
    try {
      await this.query(
        `CREATE EXTERNAL TABLE \`${this.options.database}\`.\`${input}\` (${dataColumns()
          .map((column) => `\`${column.name}\` ${stagedType(column)}`)
          .join(", ")}) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '${sqlText(`s3://${this.options.resultsBucket}/${base}input/`)}'`,
      );
      const ctas = await this.query(
        `CREATE TABLE "${this.options.database}"."${output}" WITH (format = 'PARQUET', write_compression = 'SNAPPY') AS SELECT ${dataColumns()
          .map(castFromStaged)
          .join(", ")} FROM "${this.options.database}"."${input}"`,
      );
      written = await this.manifestOf(ctas);
    } finally {
      for (const name of [output, input]) await this.query(`DROP TABLE IF EXISTS \`${this.options.database}\`.\`${name}\``);
    }
    const prefix = this.dayPrefix(day);
    const journal: ReplacementJournal = {
      repriceId,
      day,
      replaced: keys,
      added: written.map((source) => ({ source, key: `${prefix}reprice-${safeName(repriceId)}-${basename(source)}` })),
    };
    try {
      await this.options.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: this.journalKey(day),
          Body: JSON.stringify(journal),
          ContentType: "application/json",
          IfNoneMatch: "*",
        }),
      );
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412 || (error as Error).name === "PreconditionFailed") {
        throw new LakeReplacementError(`a replacement of ${day} is already pending (${this.journalKey(day)}): read the day again before replacing it`);
      }
      throw error;
    }
    await this.complete(journal);
  }

  /** Completes the replacement of `day` a stopped job left pending, if any. */
  async completePending(day: DayKey): Promise<boolean> {
    const body = await this.getText(this.options.bucket, this.journalKey(day));
    if (body === undefined) return false;
    await this.complete(JSON.parse(body) as ReplacementJournal);
    return true;
  }

  /** Copies what the journal adds (what is not there yet), moves what it replaces (what is left), deletes it. */
  private async complete(journal: ReplacementJournal): Promise<void> {
    const { bucket } = this.options;
    for (const { source, key } of journal.added) {
      if (await this.exists(bucket, key)) continue;
      const { bucket: sourceBucket, key: sourceKey } = parseS3Uri(source);
      try {
        await this.options.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: copySource(sourceBucket, sourceKey) }));
      } catch (error) {
        if (isMissing(error)) {
          throw new LakeReplacementError(
            `the reprice ${journal.repriceId} wrote ${source} for ${journal.day} and it is gone (expired?): the day keeps its old objects; ` +
              `delete ${this.journalKey(journal.day)} and resume the reprice to rewrite the day`,
          );
        }
        throw error;
      }
    }
    const [year, month, dayOfMonth] = journal.day.split("-") as [string, string, string];
    const history = `${this.historyPrefix}${journal.repriceId}/year=${year}/month=${month}/day=${dayOfMonth}/`;
    for (const key of journal.replaced) {
      try {
        await this.options.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `${history}${basename(key)}`, CopySource: copySource(bucket, key) }));
      } catch (error) {
        // Moved already (a completion that stopped after the copy and the delete).
        if (isMissing(error)) continue;
        throw error;
      }
      await this.options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    await this.options.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.journalKey(journal.day) }));
  }

  /** Runs one statement to its end. @throws AthenaQueryError when it fails, is cancelled or times out. */
  private query(sql: string): Promise<QueryExecution> {
    return this.queries.run(sql);
  }

  /** Every result row of a query, by column name (null for SQL NULL). */
  private results(queryExecutionId: string): Promise<Record<string, string | null>[]> {
    return this.queries.rows(queryExecutionId);
  }

  /** The files a CTAS wrote, from its data manifest. */
  private async manifestOf(execution: QueryExecution): Promise<string[]> {
    const location = execution.Statistics?.DataManifestLocation;
    if (!location) throw new BedrockSpendError(`Athena query ${execution.QueryExecutionId} has no data manifest: cannot tell which files it wrote`);
    const { bucket, key } = parseS3Uri(location);
    const text = await this.getText(bucket, key);
    if (text === undefined) throw new BedrockSpendError(`the data manifest ${location} is missing`);
    return text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("s3://"));
  }

  private async list(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.options.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async getText(bucket: string, key: string): Promise<string | undefined> {
    try {
      const object = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      return (key.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.options.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  private dayPrefix(day: DayKey): string {
    const [year, month, dayOfMonth] = day.split("-") as [string, string, string];
    return `${this.usagePrefix}year=${year}/month=${month}/day=${dayOfMonth}/`;
  }

  private journalKey(day: DayKey): string {
    return `${this.historyPrefix}_pending/${day}.json`;
  }

  private tableName(): string {
    return `"${this.options.database}"."${this.options.table}"`;
  }
}

/** A key of a data object: not a folder marker, not a hidden or `_`-prefixed file (which Athena skips too). */
function isDataKey(key: string): boolean {
  const name = basename(key);
  return name !== "" && !name.startsWith("_") && !name.startsWith(".");
}

function basename(keyOrUri: string): string {
  return keyOrUri.slice(keyOrUri.lastIndexOf("/") + 1);
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new BedrockSpendError(`not an S3 URI: ${uri}`);
  return { bucket: match[1] as string, key: match[2] as string };
}

/** `CopySource`: bucket and key, the key URL-encoded segment by segment. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function isMissing(error: unknown): boolean {
  const name = (error as Error).name;
  return name === "NoSuchKey" || name === "NotFound" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

/** A SQL string literal. */
function sqlString(text: string): string {
  return `'${sqlText(text)}'`;
}

function sqlText(text: string): string {
  return text.replace(/'/g, "''");
}

/**
 * The select list of `readDay`: every data column as text Athena returns exactly, the timestamp
 * as ISO 8601 UTC with milliseconds, the decimal with its 12 digits, the map as JSON.
 */
function selectList(): string {
  return dataColumns()
    .map((column) => {
      if (column.type === "timestamp") return `to_iso8601("${column.name}") || 'Z' AS "${column.name}"`;
      if (column.type === "decimal") return `CAST("${column.name}" AS varchar) AS "${column.name}"`;
      if (column.type === "map") return `json_format(CAST("${column.name}" AS JSON)) AS "${column.name}"`;
      return `"${column.name}"`;
    })
    .join(", ");
}

/** A usage record from one result row of `readDay` (every value as Athena's text). */
export function usageRecordOf(row: Record<string, string | null>, year: string, month: string, day: string): UsageRecord {
  const record: Record<string, unknown> = {};
  for (const column of dataColumns()) {
    const value = row[column.name] ?? null;
    if (value === null) record[column.name] = column.type === "map" ? {} : null;
    else if (column.type === "bigint") record[column.name] = Number(value);
    else if (column.type === "map") record[column.name] = JSON.parse(value) as Record<string, string>;
    else record[column.name] = value;
  }
  Object.assign(record, { year, month, day });
  return record as UsageRecord;
}

/** Column types of the staged JSON: the table's, but the timestamp and the decimal as the text written. */
function stagedType(column: UsageColumn): string {
  return column.type === "timestamp" || column.type === "decimal" ? "string" : glueType(column);
}

/** The CTAS select of one column: the staged value in the usage table's type. */
function castFromStaged(column: UsageColumn): string {
  if (column.type === "timestamp") return `CAST(from_iso8601_timestamp("${column.name}") AT TIME ZONE 'UTC' AS timestamp) AS "${column.name}"`;
  if (column.type === "decimal") return `CAST("${column.name}" AS ${glueType(column)}) AS "${column.name}"`;
  return `"${column.name}"`;
}

/** One staged JSON document: the data columns of a record (the partition is the location). */
export function stagedDocument(record: UsageRecord): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const column of dataColumns()) document[column.name] = (record as Record<string, unknown>)[column.name] ?? null;
  return document;
}
