/**
 * @bedrock-spend/dashboard: the local dashboard. A web page (ECharts, served from node_modules,
 * no external requests), the loopback HTTP server that serves it, its data and the spend API, and
 * the data over the local lake (SQL through LocalAthena). The reference implementation of the data,
 * over usage records in memory, is a test oracle: `@bedrock-spend/dashboard/reference`. The
 * "Bill vs logs" panel reads the last reconciliation the CLI kept in the data dir; the "Model
 * performance" panel, latency, errors and throughput per model from the lake.
 */
export { createLocalDashboardData, dashboardSql, FILTERS_SQL, type LocalDashboardDataOptions, performanceSql } from "./lake-data";
export { parseReconcileSnapshot, ReconcileFileError, readReconcileFile, reconcileFileOf, reconcileFileSource } from "./reconcile-file";
export { summarizeReconciliation } from "./reconcile-summary";
export { createDashboardServer, type DashboardServer, type DashboardServerDeps, parseFilters, RECONCILE_HINT, SERVER_TIMEOUTS, tenantLookupOf } from "./server";
export { alertsSince, breakdownRows, byPerformanceOrder, type ClassCosts, costOverTimeOf, tokenClassRows, totalsOf } from "./summary";
export * from "./types";
