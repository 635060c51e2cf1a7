/**
 * Analytics: the Athena workgroup and the dashboard views over the lake, and (when
 * BEDROCK_SPEND_QUICKSIGHT_PRINCIPAL_ARN is set) the QuickSight data source, dataset, analysis
 * and dashboard as code.
 *
 * Decisions:
 * - The views are Athena named queries (`CREATE OR REPLACE VIEW ...` from `@bedrock-spend/core`
 *   views, database = the lake's, workgroup = this one): running each once creates the view, and
 *   again after a change replaces it. Creating them as Glue VIRTUAL_VIEW tables would need the
 *   engine's Presto view encoding, whose column types must match what Athena infers exactly or
 *   the view is reported stale; that cannot be checked offline, so it is not done here.
 * - Query results go to a bucket of their own (expiring after RESULTS_RETENTION_DAYS): the lake
 *   bucket stays write-only-by-Firehose, and result objects (which hold tenant data) get a short
 *   life without a prefix rule in another stack.
 * - The QuickSight datasets are DIRECT_QUERY over custom SQL: the `usage_daily` view's own query
 *   (and, for the "Model performance" sheet, `model_performance_daily`'s), over the Glue table. It needs no view to exist first, no SPICE capacity and no refresh
 *   schedule, and is as fresh as the lake. QuickSight's filters on year/month/tenant/model wrap
 *   the query, and Athena pushes them through the aggregation to prune partitions; every render
 *   is an Athena query, bounded by the workgroup's scan limit. With heavy dashboard traffic,
 *   switch ImportMode to SPICE and add a refresh schedule.
 * - QuickSight reaches Athena through a role of its own (AthenaParameters.RoleArn) limited to
 *   this workgroup, the lake's Glue table and bucket, and the results bucket, instead of the
 *   account-wide QuickSight service role.
 */
import { Duration, type Stack } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as iam from "aws-cdk-lib/aws-iam";
import * as quicksight from "aws-cdk-lib/aws-quicksight";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { dependsOn, type StackContext, use } from "sst/constructs";
// By path, not "@bedrock-spend/core": see Lake.ts.
import { createViewStatement, DASHBOARD_VIEWS, dashboardView, USAGE_TABLE, type ViewColumnType } from "../packages/core/src/views";
import { config } from "./config";
import { Lake, USAGE_PREFIX } from "./Lake";
import { analyticsSuppressions } from "./nag-suppressions";
import { privateBucket, removalPolicyOf } from "./storage";

/** Days Athena query results are kept. */
export const RESULTS_RETENTION_DAYS = 30;

/** The view the QuickSight dataset is built from. */
export const DASHBOARD_DATASET_VIEW = "usage_daily";
/** The dataset's physical table id (QuickSight map keys allow letters, digits and hyphens only). */
const PHYSICAL_TABLE_ID = "usage-daily";
/** The view the "Model performance" sheet's dataset is built from. */
export const PERFORMANCE_DATASET_VIEW = "model_performance_daily";

/** QuickSight column type of a view column type (QuickSight's DECIMAL is also its floating-point type). */
const QUICKSIGHT_TYPES: Record<ViewColumnType, string> = { string: "STRING", bigint: "INTEGER", decimal: "DECIMAL", date: "DATETIME", double: "DECIMAL" };

const OWNER_ACTIONS = {
  dataSource: [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
  ],
  dataSet: [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
  ],
  analysis: [
    "quicksight:RestoreAnalysis",
    "quicksight:UpdateAnalysisPermissions",
    "quicksight:DeleteAnalysis",
    "quicksight:DescribeAnalysisPermissions",
    "quicksight:QueryAnalysis",
    "quicksight:DescribeAnalysis",
    "quicksight:UpdateAnalysis",
  ],
  dashboard: [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
  ],
} as const;

/** The dataset identifiers the dashboard definition uses: usage (`usage_daily`) and performance (`model_performance_daily`). */
const DATASET = "usage";
const PERFORMANCE_DATASET = "performance";

type Definition = quicksight.CfnAnalysis.AnalysisDefinitionProperty;
type ColumnIdentifier = quicksight.CfnAnalysis.ColumnIdentifierProperty;

const column = (columnName: string, dataSetIdentifier = DATASET): ColumnIdentifier => ({ dataSetIdentifier, columnName });
const title = (text: string) => ({ visibility: "VISIBLE", formatText: { plainText: text } });
const category = (fieldId: string, columnName: string) => ({ categoricalDimensionField: { fieldId, column: column(columnName) } });
const sum = (fieldId: string, columnName: string) => ({
  numericalMeasureField: { fieldId, column: column(columnName), aggregationFunction: { simpleNumericalAggregation: "SUM" } },
});
const descending = (fieldId: string) => [{ fieldSort: { fieldId, direction: "DESC" } }];
const topItems = (itemsLimit: number) => ({ itemsLimit, otherCategories: "INCLUDE" });

/** The dashboard filters: column, control title. Each gets a multi-select drop-down control. */
export const DASHBOARD_FILTERS = [
  { id: "year", columnName: "year", title: "Year" },
  { id: "month", columnName: "month", title: "Month" },
  { id: "tenant", columnName: "tenant_id", title: "Tenant" },
  { id: "model", columnName: "model", title: "Model" },
] as const;

/** The "Model performance" sheet's filters: the performance dataset has no tenant (latency is the model's, not a tenant's). */
export const PERFORMANCE_FILTERS = [
  { id: "performance-year", columnName: "year", title: "Year" },
  { id: "performance-month", columnName: "month", title: "Month" },
  { id: "performance-model", columnName: "model", title: "Model" },
] as const;

/** The columns of the "Model performance" table, in order: the view's rows as they are (rates and percentiles do not add up). */
export const PERFORMANCE_TABLE_COLUMNS = [
  "usage_date",
  "model",
  "invocations",
  "error_rate",
  "throttle_rate",
  "latency_p50_ms",
  "latency_p90_ms",
  "latency_p99_ms",
  "output_tokens_per_second",
  "optimized_share",
] as const;

/**
 * The "Model performance" sheet: a table of `model_performance_daily` per day and model
 * (invocations, error and throttle rates, latency p50/p90/p99, output tokens per second, the
 * optimized share), newest day first, and p90 latency per model over time. Its rows are one per
 * day and model, so the line's MAX is the row's own value.
 */
function performanceSheet(sheetId: string): quicksight.CfnAnalysis.SheetDefinitionProperty {
  const perf = (columnName: string) => column(columnName, PERFORMANCE_DATASET);
  const visuals: quicksight.CfnAnalysis.VisualProperty[] = [
    {
      tableVisual: {
        visualId: "model-performance",
        title: title("Model performance (per day and model)"),
        chartConfiguration: {
          fieldWells: {
            tableUnaggregatedFieldWells: {
              values: PERFORMANCE_TABLE_COLUMNS.map((columnName) => ({ fieldId: `performance-${columnName}`, column: perf(columnName) })),
            },
          },
          sortConfiguration: { rowSort: [{ fieldSort: { fieldId: "performance-usage_date", direction: "DESC" } }] },
        },
      },
    },
    {
      lineChartVisual: {
        visualId: "latency-p90-over-time",
        title: title("Latency p90 over time (ms, by model)"),
        chartConfiguration: {
          type: "LINE",
          fieldWells: {
            lineChartAggregatedFieldWells: {
              category: [{ dateDimensionField: { fieldId: "latency-day", column: perf("usage_date"), dateGranularity: "DAY" } }],
              values: [
                {
                  numericalMeasureField: { fieldId: "latency-p90", column: perf("latency_p90_ms"), aggregationFunction: { simpleNumericalAggregation: "MAX" } },
                },
              ],
              colors: [{ categoricalDimensionField: { fieldId: "latency-model", column: perf("model") } }],
            },
          },
        },
      },
    },
  ];
  return {
    sheetId,
    name: "Model performance",
    visuals,
    filterControls: PERFORMANCE_FILTERS.map((filter) => ({
      dropdown: { filterControlId: `${filter.id}-control`, sourceFilterId: `${filter.id}-filter`, title: filter.title, type: "MULTI_SELECT" },
    })),
    sheetControlLayouts: [
      {
        configuration: {
          gridLayout: {
            elements: PERFORMANCE_FILTERS.map((filter) => ({ elementId: `${filter.id}-control`, elementType: "FILTER_CONTROL", columnSpan: 2, rowSpan: 1 })),
          },
        },
      },
    ],
    layouts: [
      {
        configuration: {
          gridLayout: {
            elements: [
              { elementId: "model-performance", elementType: "VISUAL", columnSpan: 36, rowSpan: 12 },
              { elementId: "latency-p90-over-time", elementType: "VISUAL", columnSpan: 18, rowSpan: 12 },
            ],
          },
        },
      },
    ],
  };
}

/** A multi-select category filter group on one dataset's column, applying to every visual of one sheet. */
function filterGroup(id: string, columnIdentifier: ColumnIdentifier, sheetId: string): quicksight.CfnAnalysis.FilterGroupProperty {
  return {
    filterGroupId: `${id}-filter-group`,
    crossDataset: "SINGLE_DATASET",
    status: "ENABLED",
    filters: [
      {
        categoryFilter: {
          filterId: `${id}-filter`,
          column: columnIdentifier,
          configuration: { filterListConfiguration: { matchOperator: "CONTAINS", selectAllOptions: "FILTER_ALL_VALUES", nullOption: "ALL_VALUES" } },
        },
      },
    ],
    scopeConfiguration: { selectedSheets: { sheetVisualScopingConfigurations: [{ sheetId, scope: "ALL_VISUALS" }] } },
  };
}

/** What a role needs to run queries in the workgroup (its results bucket: `resultsAccess`). */
export function workGroupAccess(stack: Stack, workGroupName: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "AthenaWorkGroup",
    actions: ["athena:GetWorkGroup", "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"],
    resources: [stack.formatArn({ service: "athena", resource: "workgroup", resourceName: workGroupName })],
  });
}

/** What a role that runs Athena queries in the workgroup needs of its results bucket: Athena writes the results as the caller. */
export function resultsAccess(results: s3.IBucket): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: "ResultsBucket",
      actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      resources: [results.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: "ResultsObjects",
      actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      resources: [results.arnForObjects("*")],
    }),
  ];
}

/**
 * The analysis (and dashboard) definition: the seed's four visuals (token usage by tenant group as
 * a vertical bar chart, by company/tenant as a pie, by department as a horizontal bar chart, model
 * distribution as a donut), cost over time and unpriced invocations, with year, month, tenant and
 * model filter controls applying to every visual; and a "Model performance" sheet over
 * `performanceDataSetArn` (`performanceSheet`) with its own year, month and model filters.
 */
export function dashboardDefinition(dataSetArn: string, performanceDataSetArn: string): Definition {
  const sheetId = "usage-overview";
  const performanceSheetId = "model-performance";
  const visuals: quicksight.CfnAnalysis.VisualProperty[] = [
    {
      barChartVisual: {
        visualId: "token-usage-by-tenant-group",
        title: title("Token usage by tenant group"),
        chartConfiguration: {
          orientation: "VERTICAL",
          barsArrangement: "STACKED",
          fieldWells: {
            barChartAggregatedFieldWells: {
              category: [category("tenant-group", "tenant_group")],
              values: [
                sum("tenant-group-input", "input_tokens"),
                sum("tenant-group-output", "output_tokens"),
                sum("tenant-group-cache-read", "cache_read_tokens"),
                sum("tenant-group-cache-write", "cache_write_tokens"),
              ],
            },
          },
          sortConfiguration: { categorySort: descending("tenant-group-input"), categoryItemsLimit: topItems(25) },
        },
      },
    },
    {
      pieChartVisual: {
        visualId: "token-usage-by-company",
        title: title("Token usage by company"),
        chartConfiguration: {
          fieldWells: { pieChartAggregatedFieldWells: { category: [category("company", "tenant_id")], values: [sum("company-tokens", "total_tokens")] } },
          sortConfiguration: { categorySort: descending("company-tokens"), categoryItemsLimit: topItems(10) },
        },
      },
    },
    {
      barChartVisual: {
        visualId: "token-usage-by-department",
        title: title("Token usage by department"),
        chartConfiguration: {
          orientation: "HORIZONTAL",
          barsArrangement: "CLUSTERED",
          fieldWells: {
            barChartAggregatedFieldWells: { category: [category("department", "department_id")], values: [sum("department-tokens", "total_tokens")] },
          },
          sortConfiguration: { categorySort: descending("department-tokens"), categoryItemsLimit: topItems(20) },
        },
      },
    },
    {
      pieChartVisual: {
        visualId: "model-distribution",
        title: title("Model distribution (invocations)"),
        chartConfiguration: {
          fieldWells: { pieChartAggregatedFieldWells: { category: [category("model", "model")], values: [sum("model-invocations", "invocations")] } },
          donutOptions: { arcOptions: { arcThickness: "MEDIUM" }, donutCenterOptions: { labelVisibility: "VISIBLE" } },
          sortConfiguration: { categorySort: descending("model-invocations"), categoryItemsLimit: topItems(12) },
        },
      },
    },
    {
      lineChartVisual: {
        visualId: "cost-over-time",
        title: title("Cost over time (USD, by model)"),
        chartConfiguration: {
          type: "LINE",
          fieldWells: {
            lineChartAggregatedFieldWells: {
              category: [{ dateDimensionField: { fieldId: "cost-day", column: column("usage_date"), dateGranularity: "DAY" } }],
              values: [sum("cost-usd", "cost_usd")],
              colors: [category("cost-model", "model")],
            },
          },
        },
      },
    },
    {
      kpiVisual: {
        visualId: "unpriced-invocations",
        title: title("Unpriced invocations (counted in tokens, not in cost)"),
        chartConfiguration: { fieldWells: { values: [sum("unpriced", "unpriced_invocations")] } },
      },
    },
  ];
  const visualIds = visuals.map((visual) => {
    const [kind] = Object.values(visual) as { visualId: string }[];
    if (!kind) throw new Error("empty visual");
    return kind.visualId;
  });
  return {
    dataSetIdentifierDeclarations: [
      { identifier: DATASET, dataSetArn },
      { identifier: PERFORMANCE_DATASET, dataSetArn: performanceDataSetArn },
    ],
    sheets: [
      {
        sheetId,
        name: "Bedrock usage",
        visuals,
        filterControls: DASHBOARD_FILTERS.map((filter) => ({
          dropdown: { filterControlId: `${filter.id}-control`, sourceFilterId: `${filter.id}-filter`, title: filter.title, type: "MULTI_SELECT" },
        })),
        sheetControlLayouts: [
          {
            configuration: {
              gridLayout: {
                elements: DASHBOARD_FILTERS.map((filter) => ({ elementId: `${filter.id}-control`, elementType: "FILTER_CONTROL", columnSpan: 2, rowSpan: 1 })),
              },
            },
          },
        ],
        layouts: [
          {
            configuration: {
              gridLayout: {
                elements: visualIds.map((elementId) => ({ elementId, elementType: "VISUAL", columnSpan: 18, rowSpan: 12 })),
              },
            },
          },
        ],
      },
      performanceSheet(performanceSheetId),
    ],
    filterGroups: [
      ...DASHBOARD_FILTERS.map((filter) => filterGroup(filter.id, column(filter.columnName), sheetId)),
      ...PERFORMANCE_FILTERS.map((filter) => filterGroup(filter.id, column(filter.columnName, PERFORMANCE_DATASET), performanceSheetId)),
    ],
  };
}

export function Analytics({ stack, app }: StackContext) {
  const { bucket, databaseName } = use(Lake);
  // `use` does not order stacks; the named queries name the lake's database by value, not by reference.
  dependsOn(Lake);
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);

  const results = privateBucket(stack, "AthenaResults", {
    removalPolicy,
    lifecycleRules: [{ id: "results-retention", expiration: Duration.days(RESULTS_RETENTION_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
  });

  const workGroupName = `${app.name}-${app.stage}`;
  const workGroup = new athena.CfnWorkGroup(stack, "WorkGroup", {
    name: workGroupName,
    description: "bedrock-spend: queries over the usage lake (scan limit and result location enforced)",
    state: "ENABLED",
    // Query history is not data: the workgroup can go with the stack.
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: settings.athenaBytesScannedCutoff,
      requesterPaysEnabled: false,
      engineVersion: { selectedEngineVersion: "AUTO" },
      resultConfiguration: {
        outputLocation: `s3://${results.bucketName}/`,
        expectedBucketOwner: stack.account,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
      },
    },
  });

  const namedQueries = DASHBOARD_VIEWS.map(
    (view) =>
      new athena.CfnNamedQuery(stack, `View-${view.name}`, {
        name: `create view ${view.name}`,
        description: `${view.description} Run once to create or replace the view.`.slice(0, 1024),
        database: databaseName,
        workGroup: workGroup.ref,
        queryString: createViewStatement(view, "athena"),
      }),
  );

  stack.addOutputs({ AthenaWorkGroup: workGroupName, AthenaResultsBucket: results.bucketName });

  const principal = settings.quickSightPrincipalArn;
  analyticsSuppressions(stack, { results });
  if (!principal) return { workGroup, results, namedQueries };

  const workGroupArn = stack.formatArn({ service: "athena", resource: "workgroup", resourceName: workGroupName });
  const dataCatalogArn = stack.formatArn({ service: "athena", resource: "datacatalog", resourceName: "AwsDataCatalog" });
  const quickSightRole = new iam.Role(stack, "QuickSightAthenaRole", {
    assumedBy: new iam.ServicePrincipal("quicksight.amazonaws.com", { conditions: { StringEquals: { "aws:SourceAccount": stack.account } } }),
    description: "QuickSight: query the usage lake through the bedrock-spend Athena workgroup only",
    inlinePolicies: {
      athena: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: "WorkGroupQueries",
            actions: [
              "athena:GetWorkGroup",
              "athena:StartQueryExecution",
              "athena:StopQueryExecution",
              "athena:GetQueryExecution",
              "athena:BatchGetQueryExecution",
              "athena:GetQueryResults",
              "athena:GetQueryResultsStream",
              "athena:ListQueryExecutions",
            ],
            resources: [workGroupArn],
          }),
          new iam.PolicyStatement({
            sid: "CatalogMetadata",
            actions: ["athena:GetDataCatalog", "athena:GetDatabase", "athena:ListDatabases", "athena:GetTableMetadata", "athena:ListTableMetadata"],
            resources: [dataCatalogArn],
          }),
          new iam.PolicyStatement({ sid: "ListOnly", actions: ["athena:ListWorkGroups", "athena:ListDataCatalogs"], resources: ["*"] }),
          new iam.PolicyStatement({
            sid: "GlueTable",
            actions: [
              "glue:GetDatabase",
              "glue:GetDatabases",
              "glue:GetTable",
              "glue:GetTables",
              "glue:GetPartition",
              "glue:GetPartitions",
              "glue:BatchGetPartition",
            ],
            resources: [
              stack.formatArn({ service: "glue", resource: "catalog" }),
              stack.formatArn({ service: "glue", resource: "database", resourceName: databaseName }),
              stack.formatArn({ service: "glue", resource: "table", resourceName: `${databaseName}/*` }),
            ],
          }),
          new iam.PolicyStatement({ sid: "LakeBucket", actions: ["s3:GetBucketLocation", "s3:ListBucket"], resources: [bucket.bucketArn] }),
          new iam.PolicyStatement({ sid: "LakeObjects", actions: ["s3:GetObject"], resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`)] }),
          ...resultsAccess(results),
        ],
      }),
    },
  });

  const id = `${app.name}-${app.stage}`;
  const dataSource = new quicksight.CfnDataSource(stack, "QuickSightDataSource", {
    awsAccountId: stack.account,
    dataSourceId: `${id}-athena`,
    name: `bedrock-spend (${app.stage}) Athena`,
    type: "ATHENA",
    dataSourceParameters: { athenaParameters: { workGroup: workGroup.ref, roleArn: quickSightRole.roleArn } },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dataSource] }],
  });

  const view = dashboardView(DASHBOARD_DATASET_VIEW, `"${databaseName}"."${USAGE_TABLE}"`);
  const dataSet = new quicksight.CfnDataSet(stack, "QuickSightDataSet", {
    awsAccountId: stack.account,
    dataSetId: `${id}-usage-daily`,
    name: `bedrock-spend (${app.stage}) usage daily`,
    importMode: "DIRECT_QUERY",
    physicalTableMap: {
      [PHYSICAL_TABLE_ID]: {
        customSql: {
          dataSourceArn: dataSource.attrArn,
          name: DASHBOARD_DATASET_VIEW,
          sqlQuery: view.sql,
          columns: view.columns.map((viewColumn) => ({ name: viewColumn.name, type: QUICKSIGHT_TYPES[viewColumn.type] })),
        },
      },
    },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dataSet] }],
  });

  const performanceView = dashboardView(PERFORMANCE_DATASET_VIEW, `"${databaseName}"."${USAGE_TABLE}"`);
  const performanceDataSet = new quicksight.CfnDataSet(stack, "QuickSightPerformanceDataSet", {
    awsAccountId: stack.account,
    dataSetId: `${id}-model-performance-daily`,
    name: `bedrock-spend (${app.stage}) model performance daily`,
    importMode: "DIRECT_QUERY",
    physicalTableMap: {
      "model-performance-daily": {
        customSql: {
          dataSourceArn: dataSource.attrArn,
          name: PERFORMANCE_DATASET_VIEW,
          sqlQuery: performanceView.sql,
          columns: performanceView.columns.map((viewColumn) => ({ name: viewColumn.name, type: QUICKSIGHT_TYPES[viewColumn.type] })),
        },
      },
    },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dataSet] }],
  });

  const definition = dashboardDefinition(dataSet.attrArn, performanceDataSet.attrArn);
  const analysis = new quicksight.CfnAnalysis(stack, "QuickSightAnalysis", {
    awsAccountId: stack.account,
    analysisId: `${id}-usage`,
    name: `bedrock-spend (${app.stage}) usage`,
    definition,
    permissions: [{ principal, actions: [...OWNER_ACTIONS.analysis] }],
  });
  const dashboard = new quicksight.CfnDashboard(stack, "QuickSightDashboard", {
    awsAccountId: stack.account,
    dashboardId: `${id}-usage`,
    name: `bedrock-spend (${app.stage}) usage`,
    definition: definition as quicksight.CfnDashboard.DashboardVersionDefinitionProperty,
    dashboardPublishOptions: {
      adHocFilteringOption: { availabilityStatus: "ENABLED" },
      exportToCsvOption: { availabilityStatus: "ENABLED" },
      sheetControlsOption: { visibilityState: "EXPANDED" },
    },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dashboard] }],
  });

  stack.addOutputs({ QuickSightDashboardId: dashboard.dashboardId });
  analyticsSuppressions(stack, { results, quickSightRole });
  return { workGroup, results, namedQueries, quickSightRole, dataSource, dataSet, performanceDataSet, analysis, dashboard };
}
