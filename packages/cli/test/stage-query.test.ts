/**
 * `query --stage`: the statement run in the stage's Athena workgroup and Glue database (found from
 * its stacks' outputs), its progress reported while it runs, and its result in the local command's
 * shape. Athena and CloudFormation have no local implementation: their clients are mocked with the
 * APIs' response shapes (GetQueryExecution's Status and Statistics, GetQueryResults' ColumnInfo
 * and the header row of a SELECT's first page, NextToken paging, a FAILED query's reason).
 */
import { AthenaClient, type ColumnInfo, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressLine, queryCommand } from "../src/commands/query";
import { UsageError } from "../src/errors";
import { athenaValue, type QueryProgress, stageQuery } from "../src/stage-query";

const athena = mockClient(AthenaClient);
const cloudFormation = mockClient(CloudFormationClient);
const TARGET = { stage: "prod", region: "eu-west-1" };
const SQL = "SELECT tenant_id, count(*) AS invocations, sum(cost_usd) AS cost, max(event_time) AS last FROM invocations GROUP BY 1 ORDER BY 3 DESC";

const COLUMNS: ColumnInfo[] = [
  { CatalogName: "hive", Name: "tenant_id", Label: "tenant_id", Type: "varchar", Precision: 2147483647, Scale: 0, Nullable: "UNKNOWN", CaseSensitive: true },
  { CatalogName: "hive", Name: "invocations", Label: "invocations", Type: "bigint", Precision: 19, Scale: 0, Nullable: "UNKNOWN", CaseSensitive: false },
  { CatalogName: "hive", Name: "cost", Label: "cost", Type: "decimal", Precision: 38, Scale: 12, Nullable: "UNKNOWN", CaseSensitive: false },
  { CatalogName: "hive", Name: "last", Label: "last", Type: "timestamp", Precision: 3, Scale: 0, Nullable: "UNKNOWN", CaseSensitive: false },
];
const row = (...values: (string | undefined)[]) => ({ Data: values.map((value) => (value === undefined ? {} : { VarCharValue: value })) });

function outputs(stack: string, values: Record<string, string>) {
  return {
    Stacks: [
      {
        StackName: stack,
        StackStatus: "UPDATE_COMPLETE" as const,
        CreationTime: new Date("2026-11-01T00:00:00Z"),
        Outputs: Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

beforeEach(() => {
  athena.reset();
  cloudFormation.reset();
  cloudFormation
    .on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Analytics" })
    .resolves(outputs("prod-bedrock-spend-Analytics", { AthenaWorkGroup: "bedrock-spend-prod", AthenaResultsBucket: "results" }));
  cloudFormation
    .on(DescribeStacksCommand, { StackName: "prod-bedrock-spend-Lake" })
    .resolves(outputs("prod-bedrock-spend-Lake", { GlueDatabase: "bedrock_spend_prod", GlueTable: "invocations" }));
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "b1f3c2d4-0000-4000-8000-000000000001" });
  const execution = (State: string, DataScannedInBytes: number) => ({
    QueryExecution: {
      QueryExecutionId: "b1f3c2d4-0000-4000-8000-000000000001",
      Query: SQL,
      Status: { State },
      Statistics: { DataScannedInBytes, EngineExecutionTimeInMillis: 900 },
    },
  });
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce(execution("QUEUED", 0) as never)
    .resolvesOnce(execution("RUNNING", 5_242_880) as never)
    .resolves(execution("SUCCEEDED", 12_582_912) as never);
  athena.on(GetQueryResultsCommand, { NextToken: undefined }).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: COLUMNS },
      Rows: [row("tenant_id", "invocations", "cost", "last"), row("acme", "1200", "3.5", "2026-11-27 10:00:00.000")],
    },
    NextToken: "page-2",
  });
  athena.on(GetQueryResultsCommand, { NextToken: "page-2" }).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: COLUMNS },
      Rows: [row("globex", "9007199254740993", "0.000320000000", "2026-11-26 23:59:59.250"), row(undefined, "0", undefined, undefined)],
    },
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("query --stage", () => {
  it("runs in the stage's workgroup and database, reports each poll, and returns every page in the local command's shape", async () => {
    // Prepare
    const progress: QueryProgress[] = [];
    const clients = { athena: new AthenaClient({ region: "eu-west-1" }), cloudFormation: new CloudFormationClient({ region: "eu-west-1" }) };

    // Act
    const result = await stageQuery(TARGET, SQL, clients, (step) => progress.push(step), { sleep: async () => {} });

    // Assess
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryString: SQL,
      WorkGroup: "bedrock-spend-prod",
      QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: "bedrock_spend_prod" },
    });
    expect(progress.map(({ state, bytesScanned }) => [state, bytesScanned])).toEqual([
      ["QUEUED", 0],
      ["RUNNING", 5_242_880],
      ["SUCCEEDED", 12_582_912],
    ]);
    expect(result.columns).toEqual([
      { name: "tenant_id", type: "VARCHAR" },
      { name: "invocations", type: "BIGINT" },
      { name: "cost", type: "DECIMAL(38,12)" },
      { name: "last", type: "TIMESTAMP" },
    ]);
    expect(result.rows).toEqual([
      { tenant_id: "acme", invocations: 1200, cost: "3.500000000000", last: "2026-11-27T10:00:00Z" },
      { tenant_id: "globex", invocations: "9007199254740993", cost: "0.000320000000", last: "2026-11-26T23:59:59.250Z" },
      { tenant_id: null, invocations: 0, cost: null, last: null },
    ]);
  });

  it("prints through the command: the result on stdout, the progress on stderr", async () => {
    // Prepare
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => out.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => err.push(String(chunk)) > 0);
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void) => {
      callback();
      return 0;
    }) as never);

    // Act
    const code = await queryCommand([SQL, "--stage", "prod", "--region", "eu-west-1", "--json"]);

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out.join("")).rows).toHaveLength(3);
    expect(err.join("")).toMatch(/^query b1f3c2d4-0000-4000-8000-000000000001: RUNNING, 5\.24 MB scanned, \d+\.\d s$/m);
  });

  it("gives Athena's reason for SQL it refuses, as a usage error", async () => {
    // Prepare
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        QueryExecutionId: "b1f3c2d4-0000-4000-8000-000000000002",
        Status: {
          State: "FAILED",
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006 },
        },
      },
    });

    // Act
    const failure = await stageQuery(
      TARGET,
      "SELECT nope FROM invocations",
      {
        athena: new AthenaClient({ region: "eu-west-1" }),
        cloudFormation: new CloudFormationClient({ region: "eu-west-1" }),
      },
      () => {},
      { sleep: async () => {} },
    ).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toMatch(/^query --stage prod: Athena query .* FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved$/);
  });
});

describe("Function: athenaValue()", () => {
  it("gives Athena's text the local lake's JSON form, type by type", () => {
    expect(athenaValue("42", "integer")).toBe(42);
    expect(athenaValue("1.5E0", "double")).toBe(1.5);
    expect(athenaValue("NaN", "double")).toBe("NaN");
    expect(athenaValue("true", "boolean")).toBe(true);
    expect(athenaValue("12", "decimal", 2)).toBe("12.00");
    expect(athenaValue("2026-11-27 10:00:00.100", "timestamp")).toBe("2026-11-27T10:00:00.100Z");
    expect(athenaValue("{a=1}", "map")).toBe("{a=1}");
    expect(progressLine({ queryExecutionId: "q", state: "RUNNING", bytesScanned: 123_456_789, elapsedMs: 4210 })).toBe(
      "query q: RUNNING, 123 MB scanned, 4.2 s\n",
    );
  });
});
