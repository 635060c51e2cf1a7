/**
 * @bedrock-spend/dashboard: the local dashboard. A web page (ECharts, served from node_modules,
 * no external requests) and the loopback HTTP server that serves it, its data and the spend API.
 * The data sources are injected (`DashboardData`, `SpendApiHandler`): DuckDB views over the local
 * lake in local mode, the in-memory source in tests.
 */
export { createMemoryDashboardData, type MemoryDashboardData, type MemoryDashboardOptions } from "./memory";
export { createDashboardServer, type DashboardServer, type DashboardServerDeps, parseFilters, tenantLookupOf } from "./server";
export { addTally, breakdownRows, type ClassCosts, emptyTally, type Tally, tokenClassRows, totalsOf, totalTokensOf } from "./summary";
export * from "./types";
