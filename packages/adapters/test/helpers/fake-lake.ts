/**
 * An in-memory S3 and an Athena that understands the few statements `AthenaRepriceLake` runs,
 * behind aws-sdk-client-mock stubs of the real SDK clients, with responses shaped as the services
 * answer (recorded shapes: ids, `Status`, `Statistics.DataManifestLocation`, `ResultSet` pages
 * with the header row first and `{}` for NULL).
 *
 * Lake objects stand for Parquet files: they hold the JSON of the usage records they contain.
 */
import { gunzipSync } from "node:zlib";
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { dataColumns, defaultCatalog, Pricer, parseInvocationLog, type UsageRecord } from "@bedrock-spend/core";
import { mockClient } from "aws-sdk-client-mock";

export const LAKE = "bedrock-spend-test-lakebucket";
export const RESULTS = "bedrock-spend-test-athenaresults";
export const DATABASE = "bedrock_spend_test";
export const TABLE = "invocations";
export const WORKGROUP = "bedrock-spend-test";

/** An S3 error as the SDK throws it. */
function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/** The in-memory object store: `bucket/key` -> bytes. */
export class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly client = new S3Client({ region: "us-east-1" });
  readonly mock = mockClient(this.client);
  /** Throws the error once for the first call matching, then forgets it. */
  failures: { command: string; key: RegExp; error: Error }[] = [];
  /** Page size of ListObjectsV2 (small, so that pagination is exercised). */
  pageSize = 2;

  constructor() {
    this.mock.on(ListObjectsV2Command).callsFake((input) => {
      const prefix = `${input.Bucket}/${input.Prefix ?? ""}`;
      const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
      const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
      const page = keys.slice(start, start + this.pageSize);
      const truncated = start + this.pageSize < keys.length;
      return {
        Contents: page.map((key) => ({ Key: key.slice(input.Bucket.length + 1), Size: this.objects.get(key)?.length ?? 0, StorageClass: "STANDARD" })),
        IsTruncated: truncated,
        KeyCount: page.length,
        ...(truncated ? { NextContinuationToken: String(start + this.pageSize) } : {}),
      };
    });
    this.mock.on(GetObjectCommand).callsFake((input) => {
      this.fail("GetObject", input.Key);
      const bytes = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (!bytes) throw s3Error("NoSuchKey", 404);
      return { Body: { transformToByteArray: async () => new Uint8Array(bytes) }, ContentLength: bytes.length };
    });
    this.mock.on(HeadObjectCommand).callsFake((input) => {
      if (!this.objects.has(`${input.Bucket}/${input.Key}`)) throw s3Error("NotFound", 404);
      return { ContentLength: this.objects.get(`${input.Bucket}/${input.Key}`)?.length };
    });
    this.mock.on(PutObjectCommand).callsFake((input) => {
      this.fail("PutObject", input.Key);
      const id = `${input.Bucket}/${input.Key}`;
      if (input.IfNoneMatch === "*" && this.objects.has(id)) throw s3Error("PreconditionFailed", 412);
      this.objects.set(id, Buffer.from(input.Body as Uint8Array | string));
      return { ETag: '"etag"' };
    });
    this.mock.on(CopyObjectCommand).callsFake((input) => {
      this.fail("CopyObject", input.Key);
      const [bucket, ...rest] = (input.CopySource as string).split("/");
      const source = `${bucket}/${rest.map(decodeURIComponent).join("/")}`;
      const bytes = this.objects.get(source);
      if (!bytes) throw s3Error("NoSuchKey", 404);
      this.objects.set(`${input.Bucket}/${input.Key}`, bytes);
      return { CopyObjectResult: { ETag: '"etag"' } };
    });
    this.mock.on(DeleteObjectCommand).callsFake((input) => {
      this.fail("DeleteObject", input.Key);
      this.objects.delete(`${input.Bucket}/${input.Key}`);
      return {};
    });
  }

  private fail(command: string, key: string | undefined): void {
    const index = this.failures.findIndex((failure) => failure.command === command && failure.key.test(key ?? ""));
    if (index < 0) return;
    const [failure] = this.failures.splice(index, 1);
    throw failure?.error;
  }

  /** Keys of a bucket under a prefix, sorted. */
  keys(bucket: string, prefix = ""): string[] {
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(`${bucket}/${prefix}`))
      .map((key) => key.slice(bucket.length + 1))
      .sort();
  }

  /** Puts a lake "Parquet" object holding these records. */
  putRows(key: string, rows: readonly UsageRecord[]): void {
    this.objects.set(`${LAKE}/${key}`, Buffer.from(JSON.stringify(rows)));
  }

  /** The records of a lake object. */
  rows(bucket: string, key: string): UsageRecord[] {
    return JSON.parse((this.objects.get(`${bucket}/${key}`) as Buffer).toString("utf8")) as UsageRecord[];
  }
}

/** What the fake Athena was asked. */
export interface FakeQuery {
  id: string;
  sql: string;
  workGroup: string | undefined;
  database: string | undefined;
}

/** Athena over `FakeS3`: SELECT by `"$path"`, CREATE EXTERNAL TABLE, CTAS, DROP TABLE. */
export class FakeAthena {
  readonly client = new AthenaClient({ region: "us-east-1" });
  readonly mock = mockClient(this.client);
  readonly queries: FakeQuery[] = [];
  /** Temporary tables that exist: name -> location. */
  readonly tables = new Map<string, string>();
  /** Polls before a query says SUCCEEDED (RUNNING until then). */
  runningPolls = 1;
  /** Rows per GetQueryResults page (the header row counts on the first page, as Athena counts it). */
  pageSize = 3;
  /** Makes the statement matching fail, with this reason. */
  failWhen: { sql: RegExp; reason: string } | undefined;
  private readonly executions = new Map<string, Execution>();

  constructor(private readonly s3: FakeS3) {
    this.mock.on(StartQueryExecutionCommand).callsFake((input) => {
      const id = `3c5a9e1f-0d2b-4c8e-9f61-${String(this.queries.length + 1).padStart(12, "0")}`;
      const sql = input.QueryString as string;
      this.queries.push({ id, sql, workGroup: input.WorkGroup, database: input.QueryExecutionContext?.Database });
      this.executions.set(id, this.run(id, sql));
      return { QueryExecutionId: id };
    });
    this.mock.on(GetQueryExecutionCommand).callsFake((input) => {
      const entry = this.executions.get(input.QueryExecutionId as string);
      if (!entry) throw Object.assign(new Error("QueryExecution not found"), { name: "InvalidRequestException" });
      entry.polls++;
      const state = entry.polls <= this.runningPolls ? "RUNNING" : entry.failed ? "FAILED" : "SUCCEEDED";
      return {
        QueryExecution: {
          ...entry.execution,
          Status: {
            State: state,
            SubmissionDateTime: new Date("2026-12-02T10:00:00.000Z"),
            ...(state === "SUCCEEDED" || state === "FAILED" ? { CompletionDateTime: new Date("2026-12-02T10:00:03.412Z") } : {}),
            ...(state === "FAILED"
              ? { StateChangeReason: entry.failed, AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: entry.failed } }
              : {}),
          },
        },
      };
    });
    this.mock.on(GetQueryResultsCommand).callsFake((input) => {
      const entry = this.executions.get(input.QueryExecutionId as string) as Execution;
      const start = input.NextToken ? Number(input.NextToken) : 0;
      const size = Math.min(this.pageSize, input.MaxResults ?? 1000);
      const page = entry.rows.slice(start, start + size);
      const more = start + size < entry.rows.length;
      return {
        UpdateCount: 0,
        ResultSet: { Rows: page, ResultSetMetadata: { ColumnInfo: columnInfo(entry.columns) } },
        ...(more ? { NextToken: String(start + size) } : {}),
      };
    });
    this.mock.on(StopQueryExecutionCommand).resolves({});
  }

  /** Statements of a kind, in order. */
  statements(pattern: RegExp): string[] {
    return this.queries.map((query) => query.sql).filter((sql) => pattern.test(sql));
  }

  private run(id: string, sql: string): Execution {
    const execution: QueryExecution = {
      QueryExecutionId: id,
      Query: sql,
      StatementType: /^(CREATE EXTERNAL|DROP)/.test(sql) ? "DDL" : "DML",
      ResultConfiguration: { OutputLocation: `s3://${RESULTS}/${id}.csv` },
      ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
      QueryExecutionContext: { Database: DATABASE, Catalog: "awsdatacatalog" },
      Statistics: { EngineExecutionTimeInMillis: 1203, DataScannedInBytes: 4096, TotalExecutionTimeInMillis: 1412, QueryQueueTimeInMillis: 61 },
      WorkGroup: WORKGROUP,
      EngineVersion: { SelectedEngineVersion: "AUTO", EffectiveEngineVersion: "Athena engine version 3" },
    };
    if (this.failWhen?.sql.test(sql)) return { execution, polls: 0, rows: [], failed: this.failWhen.reason };
    const count =
      /^SELECT tenant_id, count\(DISTINCT request_id\) AS invocations FROM "[^"]+"\."[^"]+" WHERE year = '(\d{4})' AND month = '(\d{2})' GROUP BY tenant_id$/.exec(
        sql,
      );
    if (count) {
      const prefix = `${LAKE}/usage/year=${count[1]}/month=${count[2]}/`;
      const ids = new Map<string, Set<string>>();
      for (const key of this.s3.objects.keys()) {
        if (!key.startsWith(prefix) || key.slice(key.lastIndexOf("/") + 1).startsWith("_")) continue;
        for (const record of this.s3.rows(LAKE, key.slice(LAKE.length + 1))) {
          const set = ids.get(record.tenant_id) ?? new Set<string>();
          set.add(record.request_id);
          ids.set(record.tenant_id, set);
        }
      }
      return {
        execution,
        polls: 0,
        columns: [
          { name: "tenant_id", type: "varchar" },
          { name: "invocations", type: "bigint" },
        ],
        rows: [textRow(["tenant_id", "invocations"]), ...[...ids].map(([tenant, set]) => textRow([tenant, String(set.size)]))],
      };
    }
    if (/^SELECT /.test(sql)) {
      const paths = [...(/"\$path" IN \((.*)\)$/.exec(sql)?.[1] ?? "").matchAll(/'s3:\/\/([^/]+)\/([^']+)'/g)];
      const records = paths.flatMap(([, bucket, key]) => this.s3.rows(bucket as string, key as string));
      const names = dataColumns().map((column) => column.name);
      return { execution, polls: 0, rows: [textRow(names), ...records.map((record) => textRow(names.map((name) => athenaText(record, name))))] };
    }
    const external = /^CREATE EXTERNAL TABLE `[^`]+`\.`([^`]+)` \(.*\) ROW FORMAT SERDE 'org\.openx\.data\.jsonserde\.JsonSerDe' LOCATION '([^']+)'$/.exec(sql);
    if (external) {
      this.tables.set(external[1] as string, external[2] as string);
      return { execution, polls: 0, rows: [] };
    }
    const ctas = /^CREATE TABLE "[^"]+"\."([^"]+)" WITH \(format = 'PARQUET', write_compression = 'SNAPPY'\) AS SELECT .* FROM "[^"]+"\."([^"]+)"$/.exec(sql);
    if (ctas) {
      const match = ctas;
      const location = this.tables.get(match[2] as string);
      if (!location)
        return { execution, polls: 0, rows: [], failed: `TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.${DATABASE}.${match[2]}' does not exist` };
      const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(location) as unknown as [string, string, string];
      const records = this.s3.keys(bucket, prefix).flatMap((key) =>
        gunzipSync(this.s3.objects.get(`${bucket}/${key}`) as Buffer)
          .toString("utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as UsageRecord),
      );
      // Two files, as Athena writes several when it likes; the manifest lists both.
      const half = Math.ceil(records.length / 2);
      const files = [records.slice(0, half), records.slice(half)].filter((part) => part.length > 0);
      const uris = files.map((part, index) => {
        const key = `tables/${id}/20261202_100003_00017_abcde_${index}`;
        this.s3.objects.set(`${RESULTS}/${key}`, Buffer.from(JSON.stringify(part)));
        return `s3://${RESULTS}/${key}`;
      });
      this.s3.objects.set(`${RESULTS}/tables/${id}-manifest.csv`, Buffer.from(uris.map((uri) => `${uri}\n`).join("")));
      this.tables.set(match[1] as string, `s3://${RESULTS}/tables/${id}/`);
      return {
        execution: { ...execution, Statistics: { ...execution.Statistics, DataManifestLocation: `s3://${RESULTS}/tables/${id}-manifest.csv` } },
        polls: 0,
        rows: [],
      };
    }
    const drop = /^DROP TABLE IF EXISTS `[^`]+`\.`([^`]+)`$/.exec(sql);
    if (drop) {
      this.tables.delete(drop[1] as string);
      return { execution, polls: 0, rows: [] };
    }
    return { execution, polls: 0, rows: [], failed: `unexpected statement in the fake: ${sql.slice(0, 60)}` };
  }
}

function textRow(values: readonly (string | null)[]): Row {
  return { Data: values.map((value) => (value === null ? {} : { VarCharValue: value })) };
}

/** A value as `readDay`'s select list makes Athena return it. */
function athenaText(record: UsageRecord, name: string): string | null {
  const value = (record as Record<string, unknown>)[name];
  if (value === null || value === undefined) return null;
  if (name === "event_time") {
    const date = new Date(value as string);
    return `${date.toISOString().slice(0, 23)}Z`;
  }
  if (name === "cost_usd") {
    const [whole, fraction = ""] = (value as string).split(".");
    return `${whole}.${fraction.padEnd(12, "0")}`;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A query as the fake ran it; `columns` are the result's (default: the usage table's data columns as text or bigint). */
interface Execution {
  execution: QueryExecution;
  polls: number;
  rows: Row[];
  columns?: { name: string; type: "varchar" | "bigint" }[];
  failed?: string;
}

function columnInfo(columns = dataColumns().map((column) => ({ name: column.name, type: column.type === "bigint" ? "bigint" : "varchar" }))) {
  return columns.map((column) => ({
    CatalogName: "hive",
    SchemaName: "",
    TableName: "",
    Name: column.name,
    Label: column.name,
    Type: column.type,
    Precision: column.type === "bigint" ? 19 : 2147483647,
    Scale: 0,
    Nullable: "UNKNOWN",
    CaseSensitive: column.type !== "bigint",
  }));
}

const pricer = new Pricer({ catalog: defaultCatalog() });

/** A priced usage record of acme (or `tenant`) at `timestamp`. */
export function usage(requestId: string, timestamp = "2026-11-27T10:00:00Z", fields: { tenant?: string; model?: string; input?: number } = {}): UsageRecord {
  const parsed = parseInvocationLog({
    requestId,
    timestamp,
    region: "us-east-1",
    modelId: fields.model ?? "global.anthropic.claude-haiku-4-5-20251001-v1:0",
    requestMetadata: { tenantId: fields.tenant ?? "acme", team: "search" },
    input: { inputTokenCount: fields.input ?? 100, cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
    output: { outputTokenCount: 10 },
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return pricer.price(parsed.log).record;
}
