import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { getStack } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createViewStatement, DASHBOARD_VIEWS, dashboardView } from "../../packages/core/src/views";
import { Analytics, DASHBOARD_FILTERS, dashboardDefinition, PERFORMANCE_FILTERS, PERFORMANCE_TABLE_COLUMNS } from "../../stacks/Analytics";
import { Lake } from "../../stacks/Lake";
import { synthesize } from "./synth";

const PRINCIPAL = "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst";

let plain: Template;
let withQuickSight: Template;
let analyticsDependsOnLake: boolean;
beforeAll(async () => {
  // Two configurations: QuickSight resources exist only when a principal is configured.
  plain = (await synthesize()).template(Analytics);
  withQuickSight = (await synthesize({ quickSightPrincipalArn: PRINCIPAL })).template(Analytics);
  analyticsDependsOnLake = getStack(Analytics).dependencies.includes(getStack(Lake));
}, 300_000);

interface Diagnostic {
  severity: string;
  ruleId: string;
  message: string;
}
const { RegoEngine, TemplateFile } = createRequire(import.meta.url)("@aws/cloudformation-validate") as {
  RegoEngine: new () => { validateStandard(file: unknown): { diagnostics: Diagnostic[] }; free(): void };
  TemplateFile: new (path: string) => unknown;
};
const scratch = mkdtempSync(join(tmpdir(), "analytics-template-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function validate(template: Template, name: string): Diagnostic[] {
  const path = join(scratch, `${name}.template.json`);
  writeFileSync(path, JSON.stringify(template.toJSON()));
  const engine = new RegoEngine();
  try {
    return engine.validateStandard(new TemplateFile(path)).diagnostics;
  } finally {
    engine.free();
  }
}

const SCAN_LIMIT = 10_000_000_000;

describe("Stack: Analytics — Athena", () => {
  it("creates an enforced workgroup: scan limit from config, CloudWatch metrics, automatic engine, SSE-S3 results", () => {
    plain.hasResourceProperties("AWS::Athena::WorkGroup", {
      Name: "bedrock-spend-test",
      State: "ENABLED",
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: SCAN_LIMIT,
        RequesterPaysEnabled: false,
        EngineVersion: { SelectedEngineVersion: "AUTO" },
        ResultConfiguration: {
          OutputLocation: { "Fn::Join": ["", ["s3://", { Ref: Match.stringLikeRegexp("^AthenaResults") }, "/"]] },
          ExpectedBucketOwner: "123456789012",
          EncryptionConfiguration: { EncryptionOption: "SSE_S3" },
        },
      },
    });
  });

  it("keeps results in a private, encrypted, TLS-only bucket that forgets them after 30 days", () => {
    plain.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      LifecycleConfiguration: {
        Rules: [{ Id: "results-retention", Status: "Enabled", ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      },
    });
    plain.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  it("has one named query per dashboard view: CREATE OR REPLACE VIEW in the lake's database and this workgroup", () => {
    plain.resourceCountIs("AWS::Athena::NamedQuery", DASHBOARD_VIEWS.length);
    for (const view of DASHBOARD_VIEWS) {
      plain.hasResourceProperties("AWS::Athena::NamedQuery", {
        Name: `create view ${view.name}`,
        Database: "bedrock_spend_test",
        WorkGroup: { Ref: Match.stringLikeRegexp("^WorkGroup") },
        QueryString: createViewStatement(view, "athena"),
        Description: Match.stringLikeRegexp("Run once to create or replace the view\\.$"),
      });
    }
  });

  it("is deployed after the lake, whose database the named queries name", () => {
    expect(analyticsDependsOnLake).toBe(true);
  });

  it("has no QuickSight resources without a principal", () => {
    for (const type of ["DataSource", "DataSet", "Analysis", "Dashboard"]) plain.resourceCountIs(`AWS::QuickSight::${type}`, 0);
  });
});

describe("Stack: Analytics — QuickSight (principal configured)", () => {
  it("connects QuickSight to the workgroup through a role of its own, limited to the workgroup, the Glue table and the buckets", () => {
    withQuickSight.hasResourceProperties("AWS::QuickSight::DataSource", {
      AwsAccountId: "123456789012",
      DataSourceId: "bedrock-spend-test-athena",
      Type: "ATHENA",
      DataSourceParameters: {
        AthenaParameters: {
          WorkGroup: { Ref: Match.stringLikeRegexp("^WorkGroup") },
          RoleArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^QuickSightAthenaRole"), "Arn"] },
        },
      },
      Permissions: [{ Principal: PRINCIPAL, Actions: Match.arrayWith(["quicksight:DescribeDataSource", "quicksight:PassDataSource"]) }],
    });
    withQuickSight.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: "quicksight.amazonaws.com" } })] },
      Policies: [
        {
          PolicyName: "athena",
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: "WorkGroupQueries",
                Resource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":athena:us-east-1:123456789012:workgroup/bedrock-spend-test"]] },
              }),
              Match.objectLike({ Sid: "LakeObjects", Action: "s3:GetObject" }),
              Match.objectLike({ Sid: "ResultsObjects", Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"] }),
            ]),
          },
        },
      ],
    });
  });

  it("builds a DIRECT_QUERY dataset from the usage_daily view's own SQL over the Glue table, with its declared columns", () => {
    const view = dashboardView("usage_daily", '"bedrock_spend_test"."invocations"');
    withQuickSight.hasResourceProperties("AWS::QuickSight::DataSet", {
      DataSetId: "bedrock-spend-test-usage-daily",
      ImportMode: "DIRECT_QUERY",
      PhysicalTableMap: {
        "usage-daily": {
          CustomSql: {
            DataSourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^QuickSightDataSource"), "Arn"] },
            Name: "usage_daily",
            SqlQuery: view.sql,
            Columns: view.columns.map((column) => ({
              Name: column.name,
              Type: { string: "STRING", bigint: "INTEGER", decimal: "DECIMAL", date: "DATETIME", double: "DECIMAL" }[column.type],
            })),
          },
        },
      },
      Permissions: [{ Principal: PRINCIPAL, Actions: Match.arrayWith(["quicksight:DescribeDataSet", "quicksight:PassDataSet"]) }],
    });
    expect(view.sql).toContain('FROM "bedrock_spend_test"."invocations"');
  });

  it("builds a second DIRECT_QUERY dataset from model_performance_daily's Athena SQL (approx_percentile), rates and throughput as DECIMAL", () => {
    const view = dashboardView("model_performance_daily", '"bedrock_spend_test"."invocations"');
    withQuickSight.resourceCountIs("AWS::QuickSight::DataSet", 2);
    withQuickSight.hasResourceProperties("AWS::QuickSight::DataSet", {
      DataSetId: "bedrock-spend-test-model-performance-daily",
      ImportMode: "DIRECT_QUERY",
      PhysicalTableMap: {
        "model-performance-daily": {
          CustomSql: {
            DataSourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^QuickSightDataSource"), "Arn"] },
            Name: "model_performance_daily",
            SqlQuery: view.sql,
            Columns: view.columns.map((column) => ({
              Name: column.name,
              Type: { string: "STRING", bigint: "INTEGER", decimal: "DECIMAL", date: "DATETIME", double: "DECIMAL" }[column.type],
            })),
          },
        },
      },
      Permissions: [{ Principal: PRINCIPAL, Actions: Match.arrayWith(["quicksight:DescribeDataSet", "quicksight:PassDataSet"]) }],
    });
    expect(view.sql).toContain("APPROX_PERCENTILE(latency_ms, 0.99) AS latency_p99_ms");
    expect(view.sql).not.toContain("QUANTILE_DISC");
    expect(view.columns.find((column) => column.name === "error_rate")?.type).toBe("double");
  });

  const performanceSheet = Match.objectLike({
    SheetId: "model-performance",
    Name: "Model performance",
    Visuals: [
      {
        TableVisual: Match.objectLike({
          VisualId: "model-performance",
          ChartConfiguration: Match.objectLike({
            FieldWells: {
              TableUnaggregatedFieldWells: {
                Values: PERFORMANCE_TABLE_COLUMNS.map((columnName) => ({
                  FieldId: `performance-${columnName}`,
                  Column: { DataSetIdentifier: "performance", ColumnName: columnName },
                })),
              },
            },
            SortConfiguration: { RowSort: [{ FieldSort: { FieldId: "performance-usage_date", Direction: "DESC" } }] },
          }),
        }),
      },
      {
        LineChartVisual: Match.objectLike({
          VisualId: "latency-p90-over-time",
          ChartConfiguration: Match.objectLike({
            FieldWells: {
              LineChartAggregatedFieldWells: {
                Category: [
                  { DateDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "performance", ColumnName: "usage_date" }, DateGranularity: "DAY" }) },
                ],
                Values: [
                  {
                    NumericalMeasureField: Match.objectLike({
                      Column: { DataSetIdentifier: "performance", ColumnName: "latency_p90_ms" },
                      AggregationFunction: { SimpleNumericalAggregation: "MAX" },
                    }),
                  },
                ],
                Colors: [{ CategoricalDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "performance", ColumnName: "model" } }) }],
              },
            },
          }),
        }),
      },
    ],
    FilterControls: PERFORMANCE_FILTERS.map((filter) => ({
      Dropdown: { FilterControlId: `${filter.id}-control`, SourceFilterId: `${filter.id}-filter`, Title: filter.title, Type: "MULTI_SELECT" },
    })),
  });

  const visuals = {
    Sheets: [
      Match.objectLike({
        Visuals: [
          {
            BarChartVisual: Match.objectLike({
              VisualId: "token-usage-by-tenant-group",
              ChartConfiguration: Match.objectLike({
                Orientation: "VERTICAL",
                FieldWells: {
                  BarChartAggregatedFieldWells: {
                    Category: [{ CategoricalDimensionField: { FieldId: "tenant-group", Column: { DataSetIdentifier: "usage", ColumnName: "tenant_group" } } }],
                    Values: Match.arrayWith([
                      Match.objectLike({ NumericalMeasureField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "input_tokens" } }) }),
                    ]),
                  },
                },
              }),
            }),
          },
          {
            PieChartVisual: Match.objectLike({
              VisualId: "token-usage-by-company",
              ChartConfiguration: Match.objectLike({
                FieldWells: {
                  PieChartAggregatedFieldWells: {
                    Category: [{ CategoricalDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "tenant_id" } }) }],
                    Values: [{ NumericalMeasureField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "total_tokens" } }) }],
                  },
                },
                DonutOptions: Match.absent(),
              }),
            }),
          },
          {
            BarChartVisual: Match.objectLike({
              VisualId: "token-usage-by-department",
              ChartConfiguration: Match.objectLike({
                Orientation: "HORIZONTAL",
                FieldWells: {
                  BarChartAggregatedFieldWells: {
                    Category: [{ CategoricalDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "department_id" } }) }],
                    Values: [{ NumericalMeasureField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "total_tokens" } }) }],
                  },
                },
              }),
            }),
          },
          {
            PieChartVisual: Match.objectLike({
              VisualId: "model-distribution",
              ChartConfiguration: Match.objectLike({
                DonutOptions: Match.objectLike({ ArcOptions: { ArcThickness: "MEDIUM" } }),
                FieldWells: {
                  PieChartAggregatedFieldWells: {
                    Category: [{ CategoricalDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "model" } }) }],
                    Values: [{ NumericalMeasureField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "invocations" } }) }],
                  },
                },
              }),
            }),
          },
          {
            LineChartVisual: Match.objectLike({
              VisualId: "cost-over-time",
              ChartConfiguration: Match.objectLike({
                FieldWells: {
                  LineChartAggregatedFieldWells: Match.objectLike({
                    Category: [
                      { DateDimensionField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "usage_date" }, DateGranularity: "DAY" }) },
                    ],
                    Values: [{ NumericalMeasureField: Match.objectLike({ Column: { DataSetIdentifier: "usage", ColumnName: "cost_usd" } }) }],
                  }),
                },
              }),
            }),
          },
          { KPIVisual: Match.objectLike({ VisualId: "unpriced-invocations" }) },
        ],
        FilterControls: DASHBOARD_FILTERS.map((filter) => ({
          Dropdown: { FilterControlId: `${filter.id}-control`, SourceFilterId: `${filter.id}-filter`, Title: filter.title, Type: "MULTI_SELECT" },
        })),
      }),
      performanceSheet,
    ],
    FilterGroups: [
      ...DASHBOARD_FILTERS.map((filter) =>
        Match.objectLike({
          Filters: [
            { CategoryFilter: Match.objectLike({ FilterId: `${filter.id}-filter`, Column: { DataSetIdentifier: "usage", ColumnName: filter.columnName } }) },
          ],
          ScopeConfiguration: { SelectedSheets: { SheetVisualScopingConfigurations: [{ SheetId: "usage-overview", Scope: "ALL_VISUALS" }] } },
        }),
      ),
      ...PERFORMANCE_FILTERS.map((filter) =>
        Match.objectLike({
          Filters: [
            {
              CategoryFilter: Match.objectLike({
                FilterId: `${filter.id}-filter`,
                Column: { DataSetIdentifier: "performance", ColumnName: filter.columnName },
              }),
            },
          ],
          ScopeConfiguration: { SelectedSheets: { SheetVisualScopingConfigurations: [{ SheetId: "model-performance", Scope: "ALL_VISUALS" }] } },
        }),
      ),
    ],
  };

  it("defines the analysis as code: the seed's four visuals, cost over time, year/month/tenant/model filters, and the model performance sheet", () => {
    withQuickSight.hasResourceProperties("AWS::QuickSight::Analysis", {
      AnalysisId: "bedrock-spend-test-usage",
      Definition: Match.objectLike({
        DataSetIdentifierDeclarations: [
          { Identifier: "usage", DataSetArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^QuickSightDataSet"), "Arn"] } },
          { Identifier: "performance", DataSetArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^QuickSightPerformanceDataSet"), "Arn"] } },
        ],
        ...visuals,
      }),
      Permissions: [{ Principal: PRINCIPAL, Actions: Match.arrayWith(["quicksight:DescribeAnalysis", "quicksight:UpdateAnalysis"]) }],
    });
    expect(DASHBOARD_FILTERS.map((filter) => filter.columnName)).toEqual(["year", "month", "tenant_id", "model"]);
  });

  it("publishes the same definition as a dashboard, controls expanded, for the principal", () => {
    withQuickSight.hasResourceProperties("AWS::QuickSight::Dashboard", {
      DashboardId: "bedrock-spend-test-usage",
      Definition: Match.objectLike(visuals),
      DashboardPublishOptions: Match.objectLike({ SheetControlsOption: { VisibilityState: "EXPANDED" } }),
      Permissions: [{ Principal: PRINCIPAL, Actions: Match.arrayWith(["quicksight:DescribeDashboard", "quicksight:QueryDashboard"]) }],
    });
  });

  it("only references dataset columns that its dataset's view declares (usage_daily, model_performance_daily)", () => {
    const declared: Record<string, Set<string>> = {
      usage: new Set(dashboardView("usage_daily").columns.map((column) => column.name)),
      performance: new Set(dashboardView("model_performance_daily").columns.map((column) => column.name)),
    };
    const referenced: { dataSetIdentifier: string; columnName: string }[] = [];
    JSON.stringify(
      dashboardDefinition("arn:aws:quicksight:us-east-1:123456789012:dataset/x", "arn:aws:quicksight:us-east-1:123456789012:dataset/y"),
      (key, value) => {
        if (key === "column") referenced.push(value as { dataSetIdentifier: string; columnName: string });
        return value;
      },
    );
    expect(referenced.filter((column) => column.dataSetIdentifier === "usage").length).toBeGreaterThan(5);
    expect(referenced.filter((column) => column.dataSetIdentifier === "performance").length).toBeGreaterThan(10);
    expect(referenced.filter((column) => !declared[column.dataSetIdentifier]?.has(column.columnName))).toEqual([]);
  });

  it("passes CloudFormation schema validation: no errors, no out-of-enum values", () => {
    const diagnostics = validate(withQuickSight, "analytics-quicksight");
    const problems = diagnostics.filter((diagnostic) => ["FATAL", "ERROR"].includes(diagnostic.severity) || diagnostic.ruleId === "W3030");
    expect(problems).toEqual([]);
    expect(validate(plain, "analytics").filter((diagnostic) => ["FATAL", "ERROR"].includes(diagnostic.severity))).toEqual([]);
  }, 180_000);
});
