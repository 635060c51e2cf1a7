/**
 * @bedrock-spend/dashboard: the local dashboard. A web page (ECharts, served from node_modules,
 * no external requests), the loopback HTTP server that serves it, its data and the spend API, and
 * the data over the local lake (SQL through LocalAthena). The reference implementation of the data,
 * over usage records in memory, is a test oracle: `@bedrock-spend/dashboard/reference`.
 */
export { createLocalDashboardData, dashboardSql, FILTERS_SQL, type LocalDashboardDataOptions } from "./lake-data";
export { createDashboardServer, type DashboardServer, type DashboardServerDeps, parseFilters, tenantLookupOf } from "./server";
export { alertsSince, breakdownRows, type ClassCosts, costOverTimeOf, tokenClassRows, totalsOf } from "./summary";
export * from "./types";
